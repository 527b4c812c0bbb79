/* Two-factor sign-in: POST /api/auth/mfa/enable (needs the password; returns the secret, its
 * otpauth URL, a QR code as SVG and 10 backup codes, not active yet), /mfa/verify (a current
 * code activates it), /mfa/disable (password and a code) and /mfa/backup-codes (password and a
 * code: 10 new backup codes replace the old). TOTP per RFC 6238 (30 s, 6 digits, one step
 * either side, each step once); the secret is sealed at rest with a key derived from
 * MFA_ENCRYPTION_KEY; backup codes are stored as peppered hashes, single-use. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "auth/base32.h"
#include "auth/qr.h"
#include "auth/secretbox.h"
#include "auth/tokens.h"
#include "auth/totp.h"
#include "base/server.h"
#include "store/mfa.h"

#define MFA_ISSUER "Sotto"

/* Opens the user's sealed secret into out. 0, or -1 (none, or it does not open). */
static int mfa_open_secret(struct job *j, const char *uid, const struct store_mfa *m,
                           uint8_t out[TOTP_SECRET_BYTES])
{
    size_t n = 0;

    if (!m->secret || m->secret_len != TOTP_SECRET_BYTES + SECRETBOX_OVERHEAD)
        return -1;
    return secretbox_open(j->a->mfa_key, SECRETBOX_LABEL_MFA, uid, m->secret, m->secret_len, out,
                          TOTP_SECRET_BYTES, &n) ||
                   n != TOTP_SECRET_BYTES
               ? -1
               : 0;
}

static int mfa_check_totp(struct store *s, struct job *j, const char *uid, const char *code)
{
    struct store_mfa m = {0};
    uint8_t secret[TOTP_SECRET_BYTES];
    int64_t step;
    enum store_err rc = store_mfa_get(s, uid, &m);
    int ret = 1;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "mfa_get");
        return -1;
    }
    if (!mfa_open_secret(j, uid, &m, secret) &&
        !totp_verify(secret, sizeof(secret), code, strlen(code), j->now / 1000,
                     m.last_step ? m.last_step : -1, &step)) {
        rc = store_mfa_use_step(s, uid, step);
        ret = rc == STORE_OK ? 0 : rc == STORE_CONFLICT ? 1 : -1;
        if (ret < 0)
            job_store_error(j, rc, "mfa_use_step");
    }
    sodium_memzero(secret, sizeof(secret));
    store_mfa_free(&m);
    return ret;
}

int mfa_check_code(struct store *s, struct job *j, const char *user_id, const char *code)
{
    uint8_t h[TOKEN_HASH_BYTES];
    size_t n = strlen(code);
    enum store_err rc;

    if (n == TOTP_DIGITS && strspn(code, "0123456789") == n)
        return mfa_check_totp(s, j, user_id, code);
    if (backup_code_hash(j->a->backup_pepper, code, n, h))
        return 1;
    rc = store_mfa_use_backup(s, user_id, h, j->now);
    if (rc == STORE_OK) {
        api_audit(s, j, user_id, j->authed ? j->who.device_id : NULL, "mfa_backup_code_used", true,
                  NULL);
        return 0;
    }
    if (rc == STORE_NOT_FOUND)
        return 1;
    job_store_error(j, rc, "mfa_use_backup");
    return -1;
}

/* The bodies' fields, each checked where the route reads it. */
static const struct field_spec password_field[] = {
    {"password", FIELD_OPAQUE, FIELD_REQUIRED, .max = PASSWORD_MAX_BYTES,
     .as_wrong_type = "missing"},
};
/* A TOTP code or a backup code; mfa_check_code tells them apart. */
static const struct field_spec code_field[] = {
    {"code", FIELD_OPAQUE, FIELD_REQUIRED, .max = 32, .as_wrong_type = "missing"},
};

/* Loads the caller and checks the password in the body. 0, or -1 with the job's error. */
static int mfa_password(struct store *s, struct job *j, struct store_user *u)
{
    struct field_value pw;
    enum store_err rc = store_user_get(s, j->who.user_id, u);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "user_get");
        return -1;
    }
    if (job_fields(j, j->body, password_field, 1, &pw, 1))
        return -1;
    if (accounts_password_verify(j, u->password_hash, pw.str)) {
        /* Named like every other account form's wrong password (accounts_prove_owner), so the
         * client puts the refusal under the field instead of guessing which one it was. */
        api_audit(s, j, u->id, j->who.device_id, "mfa_password_check", false, NULL);
        job_fail(j, 401, "invalid_credentials", "The password is not right.",
                 json_pack("{s:s}", "field", "password"));
        return -1;
    }
    return 0;
}

/* A wrong code in these routes' `code` input (change-password and deletion call it mfaCode). */
static void mfa_wrong_code(struct job *j)
{
    job_fail(j, 401, "invalid_mfa_code", "The code is not valid.",
             json_pack("{s:s}", "field", "code"));
}

/* ---- enable ---- */

struct mfa_enrol {
    uint8_t secret[TOTP_SECRET_BYTES];
    char codes[BACKUP_CODE_COUNT][BACKUP_CODE_STR_SIZE];
    uint8_t hashes[BACKUP_CODE_COUNT][TOKEN_HASH_BYTES];
    uint8_t sealed[TOTP_SECRET_BYTES + SECRETBOX_OVERHEAD];
    char b32[TOTP_SECRET_B32_SIZE];
};

static json_t *mfa_enrol_json(const struct mfa_enrol *e, const char *email)
{
    char *url = totp_otpauth_url(MFA_ISSUER, email, e->secret, sizeof(e->secret));
    char *svg = url ? qr_svg(url, strlen(url)) : NULL;
    json_t *codes = json_array(), *o = NULL;

    for (size_t i = 0; i < BACKUP_CODE_COUNT; i++)
        json_array_append_new(codes, json_string(e->codes[i]));
    if (svg)
        o = json_pack("{s:s, s:s, s:s, s:o}", "secret", e->b32, "otpauthUrl", url, "qrCode", svg,
                      "backupCodes", codes);
    else
        json_decref(codes);
    if (url)
        sodium_memzero(url, strlen(url));
    if (svg)
        sodium_memzero(svg, strlen(svg));
    free(url);
    free(svg);
    return o;
}

static void enable_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    struct mfa_enrol *e = sodium_malloc(sizeof(*e));
    size_t n = 0;
    enum store_err rc;
    json_t *out;

    if (!e)
        abort();
    if (mfa_password(s, j, &u))
        goto done;
    if (u.mfa_enabled) {
        job_error(j, 409, "conflict", "Two-factor sign-in is already on.");
        goto done;
    }
    totp_secret_generate(e->secret);
    backup_codes_generate(e->codes);
    for (size_t i = 0; i < BACKUP_CODE_COUNT; i++)
        backup_code_hash(j->a->backup_pepper, e->codes[i], strlen(e->codes[i]), e->hashes[i]);
    if (secretbox_seal(j->a->mfa_key, SECRETBOX_LABEL_MFA, u.id, e->secret, TOTP_SECRET_BYTES,
                       e->sealed, sizeof(e->sealed), &n) ||
        base32_encode(e->secret, TOTP_SECRET_BYTES, 0, e->b32, sizeof(e->b32))) {
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        goto done;
    }
    rc = store_mfa_begin(s, u.id, e->sealed, n, (const uint8_t(*)[STORE_HASH_SIZE])e->hashes,
                         BACKUP_CODE_COUNT, j->now);
    if (rc != STORE_OK || !(out = mfa_enrol_json(e, u.email))) {
        job_store_error(j, rc, "mfa_begin");
        goto done;
    }
    api_audit(s, j, u.id, j->who.device_id, "mfa_enrol", true, NULL);
    job_ok(j, 200, out);
done:
    store_user_free(&u);
    sodium_free(e);
}

/* ---- verify ---- */

static void verify_work(struct store *s, struct job *j)
{
    struct store_mfa m = {0};
    uint8_t secret[TOTP_SECRET_BYTES];
    struct field_value c;
    const char *code;
    int64_t step;
    enum store_err rc;

    if (job_fields(j, j->body, code_field, 1, &c, 1))
        return;
    code = c.str;
    if ((rc = store_mfa_get(s, j->who.user_id, &m)) != STORE_OK) {
        job_store_error(j, rc, "mfa_get");
        return;
    }
    if (m.enabled)
        job_error(j, 409, "conflict", "Two-factor sign-in is already on.");
    else if (mfa_open_secret(j, j->who.user_id, &m, secret))
        job_invalid(j, "code", "not_enrolled");
    else if (totp_verify(secret, sizeof(secret), code, strlen(code), j->now / 1000, -1, &step))
        mfa_wrong_code(j);
    else if ((rc = store_mfa_enable(s, j->who.user_id, step, j->now)) != STORE_OK)
        job_store_error(j, rc, "mfa_enable");
    else
        job_success(j, 200);
    if (j->status == 200)
        api_audit(s, j, j->who.user_id, j->who.device_id, "mfa_enable", true, NULL);
    else if (j->status == 401)
        api_audit(s, j, j->who.user_id, j->who.device_id, "mfa_enable", false, NULL);
    sodium_memzero(secret, sizeof(secret));
    store_mfa_free(&m);
}

/* ---- disable ---- */

static void disable_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    struct field_value c;
    const char *code;
    enum store_err rc;
    int m;

    if (job_fields(j, j->body, code_field, 1, &c, 1))
        return;
    code = c.str;
    if (mfa_password(s, j, &u))
        goto done;
    if (!u.mfa_enabled) {
        job_invalid(j, "code", "mfa_not_enabled");
        goto done;
    }
    m = mfa_check_code(s, j, u.id, code);
    if (m > 0) {
        api_audit(s, j, u.id, j->who.device_id, "mfa_disable", false, "bad_code");
        mfa_wrong_code(j);
    } else if (m == 0 && (rc = store_mfa_disable(s, u.id, j->now)) != STORE_OK) {
        job_store_error(j, rc, "mfa_disable");
    } else if (m == 0) {
        api_audit(s, j, u.id, j->who.device_id, "mfa_disable", true, NULL);
        job_success(j, 200);
    }
done:
    store_user_free(&u);
}

/* ---- backup-codes ---- */

struct mfa_backups {
    char codes[BACKUP_CODE_COUNT][BACKUP_CODE_STR_SIZE];
    uint8_t hashes[BACKUP_CODE_COUNT][TOKEN_HASH_BYTES];
};

/* New codes replace the old ones (which stop working), with the password and a code: whoever
 * holds only an access token cannot mint themselves a way past the second factor. */
static void backups_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    struct mfa_backups *b = sodium_malloc(sizeof(*b));
    struct field_value c;
    enum store_err rc;
    json_t *codes;
    int m;

    if (!b)
        abort();
    if (job_fields(j, j->body, code_field, 1, &c, 1) || mfa_password(s, j, &u))
        goto done;
    if (!u.mfa_enabled) {
        job_invalid(j, "code", "mfa_not_enabled");
        goto done;
    }
    if ((m = mfa_check_code(s, j, u.id, c.str)) != 0) {
        if (m > 0) {
            api_audit(s, j, u.id, j->who.device_id, "mfa_backup_codes", false, "bad_code");
            mfa_wrong_code(j);
        }
        goto done;
    }
    backup_codes_generate(b->codes);
    for (size_t i = 0; i < BACKUP_CODE_COUNT; i++)
        backup_code_hash(j->a->backup_pepper, b->codes[i], strlen(b->codes[i]), b->hashes[i]);
    rc = store_mfa_set_backups(s, u.id, (const uint8_t(*)[STORE_HASH_SIZE])b->hashes,
                               BACKUP_CODE_COUNT, j->now);
    if (rc != STORE_OK) {
        job_store_error(j, rc, "mfa_set_backups");
        goto done;
    }
    api_audit(s, j, u.id, j->who.device_id, "mfa_backup_codes", true, "regenerated");
    codes = json_array();
    for (size_t i = 0; i < BACKUP_CODE_COUNT; i++)
        json_array_append_new(codes, json_string(b->codes[i]));
    job_ok(j, 200, json_pack("{s:o}", "backupCodes", codes));
done:
    store_user_free(&u);
    sodium_free(b);
}

/* Every MFA route is limited per IP and per account: codes are short. */
static void mfa_submit(struct http_req *req, struct auth_state *a, job_work_fn work)
{
    struct auth_identity *who = http_auth(req);

    if (auth_limit(a, req, RULE_MFA_IP, http_client_ip(req)) ||
        auth_limit(a, req, RULE_MFA_ACCOUNT, who->user_id))
        return;
    job_submit_heavy(job_new(req, a), work);
}

static void enable_post(struct http_req *req, void *arg) { mfa_submit(req, arg, enable_work); }
static void verify_post(struct http_req *req, void *arg) { mfa_submit(req, arg, verify_work); }
static void disable_post(struct http_req *req, void *arg) { mfa_submit(req, arg, disable_work); }
static void backups_post(struct http_req *req, void *arg) { mfa_submit(req, arg, backups_work); }

int mfa_routes(struct server *srv, struct auth_state *a)
{
    const struct route routes[] = {
        {HTTP_POST, "/api/auth/mfa/enable", enable_post, a, 8192, ROUTE_JSON | ROUTE_AUTH},
        {HTTP_POST, "/api/auth/mfa/verify", verify_post, a, 4096, ROUTE_JSON | ROUTE_AUTH},
        {HTTP_POST, "/api/auth/mfa/disable", disable_post, a, 8192, ROUTE_JSON | ROUTE_AUTH},
        {HTTP_POST, "/api/auth/mfa/backup-codes", backups_post, a, 8192, ROUTE_JSON | ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
