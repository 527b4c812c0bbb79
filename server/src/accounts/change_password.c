/* POST /api/auth/change-password: a new password while signed in. The current password (and
 * with two-factor on, a code) proves it is the owner and not just someone holding an access
 * token; every other device's session ends, as a reset ends them all, and the caller's stays.
 * Both hashes run through the Argon2 gate; the owner gets a mail saying it happened. */
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "base/server.h"
#include "store/tokens.h"

enum { C_CURRENT, C_NEW, C_MFA, C_N };
static const struct field_spec change_fields[] = {
    [C_CURRENT] = {"currentPassword", FIELD_OPAQUE, FIELD_REQUIRED, .max = PASSWORD_MAX_BYTES,
                   .as_wrong_type = "missing"},
    /* The policy judges it (change_post, then change_policy against the account). */
    [C_NEW] = {"newPassword", FIELD_OPAQUE, FIELD_REQUIRED, .max = FIELD_UNBOUNDED,
               .as_wrong_type = "missing"},
    [C_MFA] = {"mfaCode", FIELD_STRING, 0, .max = 32},
};

/* Ends the tokens of every device of the account but the caller's, noting them so their
 * sockets close after the commit. */
static enum store_err change_end_others(struct store *s, struct job *j)
{
    struct store_device *d = NULL;
    size_t n = 0;
    enum store_err rc = store_device_list(s, j->who.user_id, STORE_DEVICES_NOT_REVOKED, &d, &n);

    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        if (!strcmp(d[i].id, j->who.device_id))
            continue;
        rc = store_device_end_tokens(s, d[i].id, j->now);
        if (rc == STORE_OK)
            accounts_tokens_ended(j, d[i].id);
    }
    store_devices_free(d, n);
    return rc;
}

/* The hash and the other devices' ends in one transaction: a failure changes nothing. */
static void change_apply(struct store *s, struct job *j, const char *hash)
{
    enum store_err rc = store_begin(s);

    if (rc == STORE_OK) {
        rc = store_user_set_password(s, j->who.user_id, hash, j->now);
        if (rc == STORE_OK)
            rc = change_end_others(s, j);
        if (rc == STORE_OK)
            api_audit(s, j, j->who.user_id, j->who.device_id, "password_change", true,
                      "other sessions ended");
        if (rc == STORE_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc != STORE_OK)
        job_store_error(j, rc, "password_change");
    else
        job_success(j, 200);
}

static void change_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    struct field_value v[C_N];
    char hash[PASSWORD_ENCODED_MAX];
    enum store_err rc;
    password_policy pp;

    if (job_fields(j, j->body, change_fields, C_N, v, C_N))
        return;
    if ((rc = store_user_get(s, j->who.user_id, &u)) != STORE_OK) {
        job_store_error(j, rc, "user_get");
        return;
    }
    if (accounts_prove_owner(s, j, &u, v[C_CURRENT].str, "currentPassword", v[C_MFA].str,
                             "password_change"))
        goto done;
    pp = password_check_policy(v[C_NEW].str, v[C_NEW].len, u.email, u.username);
    if (pp != PASSWORD_POLICY_OK) {
        job_invalid(j, "newPassword", password_policy_reason(pp));
        goto done;
    }
    /* Argon2 before the transaction, so no lock is held while it runs. */
    if (password_hash(j->a->pw, v[C_NEW].str, v[C_NEW].len, hash, sizeof(hash))) {
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        goto done;
    }
    change_apply(s, j, hash);
    sodium_memzero(hash, sizeof(hash));
    if (j->status == 200)
        email_send_notice(j, &u, MAIL_T_PASSWORD_CHANGED);
done:
    store_user_free(&u);
}

static void change_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct auth_identity *who = http_auth(req);
    struct field_value v[C_N];
    password_policy pp;
    struct job *j;

    /* The current password is guessable through a stolen access token: limited like the
     * other checks of a signed-in account's secrets (MFA's rules). */
    if (auth_limit(a, req, RULE_MFA_IP, http_client_ip(req)) ||
        auth_limit(a, req, RULE_MFA_ACCOUNT, who->user_id))
        return;
    j = job_new(req, a);
    if (job_fields(j, j->body, change_fields, C_N, v, C_N)) {
        job_finish(j);
        return;
    }
    pp = password_check_policy(v[C_NEW].str, v[C_NEW].len, NULL, NULL);
    if (pp != PASSWORD_POLICY_OK) {
        job_invalid(j, "newPassword", password_policy_reason(pp));
        job_finish(j);
        return;
    }
    job_heavy_account(j, who->user_id);
    job_submit_heavy(j, change_work);
}

int change_password_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_POST, "/api/auth/change-password", change_post, a,
                      16384,     ROUTE_JSON | ROUTE_AUTH};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
