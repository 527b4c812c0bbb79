/* E-mail flows: the verification mail sent on registration, POST /api/auth/verify-email,
 * /verify-email/resend (signed in, not yet verified), /forgot-password (always 202, the work
 * happens after the answer so its timing says nothing; no link to an unverified address) and
 * /reset-password (a new password; every session of the account ends). Tokens are 256-bit,
 * single-use, stored only as a peppered hash, and expire. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "auth/tokens.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"
#include "mail/mail.h"
#include "mail/templates.h"
#include "store/tokens.h"

#define VERIFY_TTL_MS (24LL * 3600 * 1000)
#define RESET_TTL_MS (3600LL * 1000)
#define MAIL_LINK_MAX (AUTH_URL_MAX + 64)

/* Renders the mail t in the user's language around link and sends it (text and HTML). */
static void email_send(struct job *j, const struct store_user *u, enum mail_template t,
                       const char *link, const char *kind)
{
    struct mail_rendered m;

    if (mail_template_render(t, u->language, u->username, link, &m)) {
        log_warn("mail.fail", "rid=%s kind=%s reason=render", j->rid, kind);
        return;
    }
    if (mail_send_alt(j->a->mail, u->email, m.subject, m.text, m.html))
        log_warn("mail.fail", "rid=%s kind=%s transport=%s", j->rid, kind, j->a->mail->iface->name);
    else
        log_info("mail.sent", "rid=%s kind=%s lang=%s transport=%s", j->rid, kind,
                 u->language ? u->language : "en", j->a->mail->iface->name);
    mail_rendered_free(&m);
}

void email_send_notice(struct job *j, const struct store_user *u, enum mail_template kind)
{
    char link[AUTH_URL_MAX + 32];

    snprintf(link, sizeof(link), "%s/forgot-password", j->a->public_url);
    email_send(j, u, kind, link, "password_changed");
}

void email_send_token(struct store *s, struct job *j, const struct store_user *u, int kind)
{
    bool verify = kind == STORE_EMAIL_VERIFY;
    char tok[TOKEN_STR_SIZE], *link = sodium_malloc(MAIL_LINK_MAX);
    uint8_t hash[TOKEN_HASH_BYTES];
    enum store_err rc;
    int n;

    if (!link)
        abort();
    token_generate(tok);
    token_hash(verify ? TOKEN_EMAIL_VERIFY : TOKEN_PASSWORD_RESET, j->a->token_pepper, tok,
               TOKEN_CHARS, hash);
    rc = store_email_token_insert(s, (enum store_email_kind)kind, hash, u->id,
                                  j->now + (verify ? VERIFY_TTL_MS : RESET_TTL_MS), j->now);
    if (rc != STORE_OK) {
        log_warn("mail.token_fail", "rid=%s err=%s", j->rid, store_strerror(rc));
        goto done;
    }
    n = snprintf(link, MAIL_LINK_MAX, "%s/%s?token=%s", j->a->public_url,
                 verify ? "verify-email" : "reset-password", tok);
    if (n < 0 || (size_t)n >= MAIL_LINK_MAX) { /* PUBLIC_URL is bounded below it: never cut */
        log_warn("mail.link_too_long", "rid=%s", j->rid);
        goto done;
    }
    email_send(j, u, verify ? MAIL_T_VERIFY : MAIL_T_RESET, link, verify ? "verify" : "reset");
done:
    sodium_memzero(tok, sizeof(tok));
    sodium_free(link);
}

/* The bodies: one field each. */
static const struct field_spec token_field[] = {
    {"token", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
};
static const struct field_spec forgot_field[] = {
    {"email", FIELD_STRING, FIELD_REQUIRED, .min = 3, .max = 254},
};
/* The policy judges it (reset_post, then reset_policy against the account). */
static const struct field_spec new_password_field[] = {
    {"newPassword", FIELD_OPAQUE, FIELD_REQUIRED, .max = FIELD_UNBOUNDED,
     .as_wrong_type = "missing"},
};

/* The body's token, hashed for `purpose`; answers 400 and returns -1 if malformed. */
static int email_token_of(struct job *j, token_purpose purpose, uint8_t hash[])
{
    struct field_value t;

    if (job_fields(j, j->body, token_field, 1, &t, 1))
        return -1;
    if (token_hash(purpose, j->a->token_pepper, t.str, t.len, hash)) {
        job_error(j, 400, "invalid_token", "The link is not valid or has expired.");
        return -1;
    }
    return 0;
}

/* ---- verify-email ---- */

static void verify_work(struct store *s, struct job *j)
{
    uint8_t hash[TOKEN_HASH_BYTES];
    char uid[STORE_ID_SIZE];
    enum store_err rc;

    if (email_token_of(j, TOKEN_EMAIL_VERIFY, hash))
        return;
    rc = store_email_token_consume(s, STORE_EMAIL_VERIFY, hash, j->now, uid);
    if (rc == STORE_NOT_FOUND)
        job_error(j, 400, "invalid_token", "The link is not valid or has expired.");
    else if (rc != STORE_OK || (rc = store_user_set_email_verified(s, uid, j->now)))
        job_store_error(j, rc, "verify_email");
    else
        job_success(j, 200);
}

static void verify_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;

    if (!auth_limit(a, req, RULE_EMAIL_IP, http_client_ip(req)))
        job_submit(job_new(req, a), verify_work);
}

/* ---- verify-email/resend ---- */

static void resend_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    enum store_err rc = store_user_get(s, j->who.user_id, &u);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "user_get");
    } else if (u.email_verified) {
        job_fail(j, 409, "conflict", "The e-mail address is already verified.",
                 json_pack("{s:s}", "reason", "already_verified"));
    } else {
        email_send_token(s, j, &u, STORE_EMAIL_VERIFY);
        api_audit(s, j, u.id, j->who.device_id, "email_verify_resend", true, NULL);
        job_success(j, 202);
    }
    store_user_free(&u);
}

static void resend_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct auth_identity *who = http_auth(req);
    char account[8 + STORE_ID_SIZE];

    /* Per account, in the bucket of the other account mails (RATE_LIMIT_FORGOT_ACCOUNT),
     * under its own key. */
    snprintf(account, sizeof(account), "verify:%s", who->user_id);
    if (!auth_limit(a, req, RULE_EMAIL_IP, http_client_ip(req)) &&
        !auth_limit(a, req, RULE_FORGOT_ACCOUNT, account))
        job_submit(job_new(req, a), resend_work);
}

/* ---- forgot-password ---- */

static void forgot_work(void *ctx, void *arg)
{
    struct job *j = arg;
    struct store_user u = {0};
    struct field_value email;
    struct field_fail fail;

    j->now = clock_wall_ms();
    /* Checked on the loop before the answer: this only finds it again. */
    if (fields_check(j->body, NULL, forgot_field, 1, &email, 1, &fail))
        return;
    /* An address never confirmed may not be the owner's: no reset link goes to it (the
     * answer was the same 202 already). */
    if (ctx && store_user_get_by_email(ctx, email.str, &u) == STORE_OK) {
        if (u.email_verified)
            email_send_token(ctx, j, &u, STORE_EMAIL_RESET);
        api_audit(ctx, j, u.id, NULL, "password_reset_request", u.email_verified,
                  u.email_verified ? NULL : "email_not_verified");
    }
    store_user_free(&u);
}

static void forgot_done(void *arg) { job_free(arg); }

static void forgot_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct job *j;
    struct field_value email;
    char account[256];

    if (auth_limit(a, req, RULE_FORGOT_IP, http_client_ip(req)))
        return;
    j = job_new(req, a);
    if (!json_is_object(j->body)) {
        job_error(j, 400, "invalid_json", "The body must be a JSON object.");
        job_finish(j);
        return;
    }
    if (job_fields(j, j->body, forgot_field, 1, &email, 1)) {
        job_finish(j);
        return;
    }
    api_lower(account, sizeof(account), email.str);
    if (auth_limit(a, req, RULE_FORGOT_ACCOUNT, account)) {
        job_free(j);
        return;
    }
    /* Answer first: whether the account exists must not show in the timing. */
    http_respond_json(req, 202, json_pack("{s:b}", "success", 1));
    j->req = NULL;
    if (pool_submit(a->srv->pool, forgot_work, forgot_done, j)) {
        log_warn("mail.dropped", "rid=%s reason=queue_full", j->rid);
        job_free(j);
    }
}

/* ---- reset-password ---- */

static int reset_policy(struct store *s, struct job *j, const char *uid, const char *pw)
{
    struct store_user u = {0};
    enum store_err rc = store_user_get(s, uid, &u);
    password_policy pp;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "user_get");
        return -1;
    }
    pp = password_check_policy(pw, strlen(pw), u.email, u.username);
    store_user_free(&u);
    if (pp != PASSWORD_POLICY_OK) {
        job_invalid(j, "newPassword", password_policy_reason(pp));
        return -1;
    }
    return 0;
}

/* Consumes the token, checks the policy against the account, sets the hash and ends every
 * session, all in one transaction: a refused password leaves the token usable. Ending the
 * sessions revokes the refresh tokens and sets every device's tokens_not_before, so access
 * tokens already issued stop too; after the commit the sockets close with 4401. */
static void reset_apply(struct store *s, struct job *j, const uint8_t *th, const char *hash,
                        const char *pw)
{
    char uid[STORE_ID_SIZE];
    enum store_err rc;

    if ((rc = store_begin(s)) != STORE_OK) {
        job_store_error(j, rc, "begin");
        return;
    }
    rc = store_email_token_consume(s, STORE_EMAIL_RESET, th, j->now, uid);
    if (rc == STORE_NOT_FOUND)
        job_error(j, 400, "invalid_token", "The link is not valid or has expired.");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "reset_consume");
    if (rc != STORE_OK || reset_policy(s, j, uid, pw)) {
        store_rollback(s);
        return;
    }
    if ((rc = store_user_set_password(s, uid, hash, j->now)) != STORE_OK ||
        (rc = store_user_end_tokens(s, uid, j->now)) != STORE_OK ||
        (rc = accounts_tokens_ended_user(s, j, uid)) != STORE_OK) {
        store_rollback(s);
        job_store_error(j, rc, "reset_apply");
        return;
    }
    api_audit(s, j, uid, NULL, "password_reset", true, "all sessions revoked");
    if ((rc = store_commit(s)) != STORE_OK)
        job_store_error(j, rc, "commit");
    else
        job_success(j, 200);
}

static void reset_work(struct store *s, struct job *j)
{
    uint8_t th[TOKEN_HASH_BYTES];
    char hash[PASSWORD_ENCODED_MAX];
    struct field_value pw;

    /* newPassword passed on the loop (reset_post); this finds it again. */
    if (job_fields(j, j->body, new_password_field, 1, &pw, 1) ||
        email_token_of(j, TOKEN_PASSWORD_RESET, th))
        return;
    /* Argon2 before the transaction, so no lock is held while it runs. */
    if (password_hash(j->a->pw, pw.str, pw.len, hash, sizeof(hash))) {
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        return;
    }
    reset_apply(s, j, th, hash, pw.str);
    sodium_memzero(hash, sizeof(hash));
}

static void reset_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct job *j;
    struct field_value pw;
    password_policy pp;

    if (auth_limit(a, req, RULE_EMAIL_IP, http_client_ip(req)))
        return;
    j = job_new(req, a);
    if (job_fields(j, j->body, new_password_field, 1, &pw, 1)) {
        job_finish(j);
        return;
    }
    pp = password_check_policy(pw.str, pw.len, NULL, NULL);
    if (pp != PASSWORD_POLICY_OK) {
        job_invalid(j, "newPassword", password_policy_reason(pp));
        job_finish(j);
        return;
    }
    job_submit_heavy(j, reset_work);
}

int email_routes(struct server *srv, struct auth_state *a)
{
    const struct route routes[] = {
        {HTTP_POST, "/api/auth/verify-email", verify_post, a, 4096, ROUTE_JSON},
        {HTTP_POST, "/api/auth/verify-email/resend", resend_post, a, 1024, ROUTE_AUTH},
        {HTTP_POST, "/api/auth/forgot-password", forgot_post, a, 4096, ROUTE_JSON},
        {HTTP_POST, "/api/auth/reset-password", reset_post, a, 16384, ROUTE_JSON},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
