/* POST /api/auth/login. Without device.id it creates a device (keys optional: it becomes
 * active once it uploads a bundle). With device.id it signs in again as that device, which
 * needs `proof`: the device's Ed25519 signature over 'Sotto-v1-login' || email || proofTime,
 * within 5 minutes and never twice.
 *
 * Unknown email and wrong password give the same 401 after the same work (a dummy hash).
 * The login guard slows down and then locks out password-only attempts after repeated
 * failures; an attempt with a valid device proof passes it, so a stranger cannot lock the
 * owner out of a device that proves itself. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "auth/bundle.h"
#include "base/log.h"
#include "base/server.h"
#include "keys/keys.h"
#include "messaging/realtime.h"
#include "store/mfa.h"
#include "store/prekeys.h"
#include "store/tokens.h"

#define MAX_STORED_PREKEYS 200
#define PROOF_MEMORY_MS (2 * BUNDLE_PROOF_WINDOW_SECONDS * 1000LL)

struct login {
    const char *email, *password, *mfa_code, *dev_name, *platform;
    const char *dev_id, *proof;
    int64_t proof_time;
    const json_t *keys;
    char account[BUNDLE_EMAIL_MAX + 1]; /* lower-cased email: the guard's key */
    struct store_user user;
    bool found;
    struct store_device dev; /* the existing device, when device.id names one of user's */
    bool have_dev;
    bundle_status proof_status;
    bool proven;
};

static const char *const login_platforms[] = {"web", "ios", "android", "cli", NULL};

/* device.id names an existing device, which then signs in again with a proof. */
enum { L_DEV_NAME, L_DEV_PLATFORM, L_DEV_ID, L_DEVICE_N };
static const struct field_spec login_device_fields[] = {
    [L_DEV_NAME] = ACCOUNT_DEVICE_NAME_ROW,
    [L_DEV_PLATFORM] = {"platform", FIELD_ENUM, FIELD_REQUIRED, .one_of = login_platforms,
                        .as_wrong_type = "missing"},
    [L_DEV_ID] = {"id", FIELD_UUID, FIELD_NULL_WRONG, .as_wrong_type = "invalid"},
};

/* The email is looked up as given (a stored one passed its check at registration). Values
 * in depth-first order: the device's rows follow it. */
enum { L_EMAIL, L_PASSWORD, L_MFA, L_DEVICE, L_NAME, L_PLATFORM, L_ID, L_KEYS, L_VALUES };
static const struct field_spec login_fields[] = {
    {"email", FIELD_OPAQUE, FIELD_REQUIRED, .min = 1, .max = 254, .as_wrong_type = "missing",
     .as_bounds = "invalid"},
    {"password", FIELD_OPAQUE, FIELD_REQUIRED, .max = PASSWORD_MAX_BYTES,
     .as_wrong_type = "missing"},
    {"mfaCode", FIELD_STRING, 0, .max = 32},
    {"device", FIELD_OBJECT, FIELD_REQUIRED | FIELD_NULL_WRONG, .sub = login_device_fields,
     .n_sub = L_DEVICE_N},
    /* The bundle: keys_bundle_parse checks it once the caller is known. */
    {.name = "keys", .type = FIELD_ANY},
};

/* Only with device.id. */
enum { L_PROOF, L_PROOF_TIME, L_PROOF_N };
static const struct field_spec login_proof[] = {
    [L_PROOF] = {"proof", FIELD_OPAQUE, FIELD_REQUIRED, .max = FIELD_UNBOUNDED,
                 .as_wrong_type = "missing"},
    [L_PROOF_TIME] = {"proofTime", FIELD_INTEGER, FIELD_REQUIRED, .min = INT64_MIN,
                      .max = INT64_MAX, .as_wrong_type = "missing"},
};

static int login_check(struct job *j, struct login *l)
{
    struct field_value v[L_VALUES], p[L_PROOF_N];
    struct field_fail fail;

    if (job_fields(j, j->body, login_fields, sizeof(login_fields) / sizeof(login_fields[0]), v,
                   L_VALUES))
        return -1;
    l->email = v[L_EMAIL].str;
    l->password = v[L_PASSWORD].str;
    l->mfa_code = v[L_MFA].str ? v[L_MFA].str : "";
    l->dev_name = v[L_NAME].str;
    l->platform = v[L_PLATFORM].str;
    l->dev_id = v[L_ID].str;
    l->keys = v[L_KEYS].json;
    if (l->dev_id &&
        fields_check(v[L_DEVICE].json, "device", login_proof, L_PROOF_N, p, L_PROOF_N, &fail)) {
        job_invalid(j, fail.field, fail.reason);
        return -1;
    }
    l->proof = l->dev_id ? p[L_PROOF].str : NULL;
    l->proof_time = l->dev_id ? p[L_PROOF_TIME].num : 0;
    api_lower(l->account, sizeof(l->account), l->email);
    return 0;
}

/* Looks up the account and, for device.id, checks the proof (signature and replay) before
 * the guard, since a proven device passes it. */
static int login_lookup(struct store *s, struct job *j, struct login *l)
{
    uint8_t ph[crypto_generichash_BYTES];
    bundle_error be;
    enum store_err rc = store_user_get_by_email(s, l->email, &l->user);

    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        return job_store_error(j, rc, "user_by_email"), -1;
    l->found = rc == STORE_OK;
    if (!l->found || !l->dev_id)
        return 0;
    rc = store_device_get(s, l->dev_id, &l->dev);
    if (rc != STORE_OK || strcmp(l->dev.user_id, l->user.id) || !l->dev.has_bundle)
        return rc == STORE_OK || rc == STORE_NOT_FOUND ? 0
                                                       : (job_store_error(j, rc, "device_get"), -1);
    l->have_dev = true;
    l->proof_status =
        bundle_verify_login_proof(l->dev.bundle.signing_key, l->email, strlen(l->email),
                                  l->proof_time, l->proof, strlen(l->proof), j->now / 1000, &be);
    if (l->proof_status != BUNDLE_OK || l->dev.revoked_at)
        return 0;
    crypto_generichash(ph, sizeof(ph), (const uint8_t *)l->proof, strlen(l->proof), NULL, 0);
    rc = store_proof_record(s, l->dev.id, ph, j->now + PROOF_MEMORY_MS, j->now);
    if (rc == STORE_CONFLICT)
        l->proof_status = BUNDLE_ERR_STALE; /* replayed: treated like a stale proof */
    else if (rc != STORE_OK)
        return job_store_error(j, rc, "proof_record"), -1;
    l->proven = rc == STORE_OK;
    return 0;
}

static void login_failed(struct store *s, struct job *j, struct login *l, const char *why,
                         int status, const char *code, const char *msg)
{
    if (loginguard_failure(j->a->guard, l->account, strlen(l->account), clock_mono_ms()) ==
        LOGINGUARD_LOCKED)
        api_audit(s, j, l->found ? l->user.id : NULL, NULL, "login_locked", false, NULL);
    api_audit(s, j, l->found ? l->user.id : NULL, l->have_dev ? l->dev.id : NULL, "login", false,
              why);
    job_error(j, status, code, msg);
}

/* The guard, the password and the second factor. 0 when the caller may sign in. */
static int login_authenticate(struct store *s, struct job *j, struct login *l)
{
    uint32_t retry = 1;
    loginguard_verdict v = loginguard_check(j->a->guard, l->account, strlen(l->account), l->proven,
                                            clock_mono_ms(), &retry);
    int m;

    if (v != LOGINGUARD_ALLOW) {
        if (v == LOGINGUARD_LOCKED)
            api_audit(s, j, l->found ? l->user.id : NULL, NULL, "login", false, "locked");
        job_error(j, 429, v == LOGINGUARD_LOCKED ? "account_locked" : "rate_limited",
                  "Too many failed sign-ins; try again later.");
        j->retry_after = retry;
        return -1;
    }
    if (accounts_password_verify(j, l->found ? l->user.password_hash : NULL, l->password) ||
        !l->found) {
        login_failed(s, j, l, l->found ? "bad_password" : "no_account", 401, "invalid_credentials",
                     "Wrong email or password.");
        return -1;
    }
    if (!l->user.mfa_enabled)
        return 0;
    if (!*l->mfa_code) {
        job_error(j, 401, "mfa_required", "A second-factor code is required.");
        return -1;
    }
    m = mfa_check_code(s, j, l->user.id, l->mfa_code);
    if (m > 0)
        login_failed(s, j, l, "bad_mfa_code", 401, "invalid_mfa_code", "The code is not valid.");
    return m ? -1 : 0;
}

/* Signing in again as an existing device: the proof decides. */
static int login_existing_device(struct job *j, struct login *l)
{
    if (!l->have_dev) {
        job_error(j, 401, "invalid_credentials", "This device cannot sign in here.");
        return -1;
    }
    if (l->dev.revoked_at) {
        job_device_revoked(j);
        return -1;
    }
    if (l->proof_status == BUNDLE_ERR_SIGNATURE) {
        job_error(j, 400, "invalid_signature", "The device proof does not verify.");
        j->details = json_pack("{s:s}", "field", "device.proof");
        return -1;
    }
    if (l->proof_status == BUNDLE_ERR_VALIDATION) {
        job_invalid(j, "device.proof", "invalid");
        return -1;
    }
    if (l->proof_status == BUNDLE_ERR_STALE) {
        job_error(j, 401, "invalid_credentials",
                  "The device proof is too old or was already used.");
        return -1;
    }
    return 0;
}

static int login_keys_error(struct job *j, enum store_err rc, const char *what)
{
    if (rc == STORE_IDENTITY_IMMUTABLE)
        job_error(j, 409, "identity_immutable", "A device's identity keys cannot change.");
    else if (rc == STORE_CONFLICT_KEY || rc == STORE_CONFLICT)
        job_error(j, 409, "conflict", "These keys are already in use.");
    else if (rc == STORE_LIMIT)
        job_invalid(j, "keys.oneTimePreKeys", "too_many");
    else
        job_store_error(j, rc, what);
    return -1;
}

/* The device to sign in: the proven one (keys optional, identity immutable) or a new one. */
static int login_device(struct store *s, struct job *j, struct login *l, char did[])
{
    struct bundle *b = NULL;
    struct store_bundle sb;
    struct store_prekey pk[BUNDLE_MAX_OTPK];
    enum store_err rc = STORE_OK;
    int ret = -1;

    if (l->dev_id && login_existing_device(j, l))
        return -1;
    if (l->keys && !json_is_null(l->keys) && !(b = keys_bundle_parse(j, l->keys, "keys")))
        return -1;
    if (b)
        keys_bundle_to_store(b, &sb, pk);
    if (store_begin(s) != STORE_OK)
        goto done;
    if (l->dev_id) {
        snprintf(did, STORE_ID_SIZE, "%s", l->dev.id);
        rc = b ? store_device_set_bundle(s, l->user.id, did, &sb, j->now) : STORE_OK;
    } else {
        struct store_new_device nd = {l->dev_name, l->platform, j->ip, j->ua[0] ? j->ua : NULL,
                                      b ? &sb : NULL};

        rc = store_device_create(s, l->user.id, &nd, j->now, did);
    }
    if (rc == STORE_OK && b && b->otpk_count)
        rc = store_prekeys_add(s, did, pk, b->otpk_count, MAX_STORED_PREKEYS, j->now);
    if (rc == STORE_OK && l->dev_id)
        rc = store_device_touch(s, did, j->ip, j->ua[0] ? j->ua : NULL, j->now);
    if (rc != STORE_OK) {
        store_rollback(s);
        login_keys_error(j, rc, "login_device");
    } else if ((rc = store_commit(s)) != STORE_OK) {
        job_store_error(j, rc, "login_commit");
    } else {
        ret = 0;
    }
done:
    free(b);
    return ret;
}

/* Upgrades a hash made with older parameters, now that we know the password. */
static void login_rehash(struct store *s, struct job *j, struct login *l)
{
    char hash[PASSWORD_ENCODED_MAX];

    if (password_needs_rehash(j->a->pw, l->user.password_hash) != 1)
        return;
    if (!password_hash(j->a->pw, l->password, strlen(l->password), hash, sizeof(hash)))
        store_user_set_password(s, l->user.id, hash, j->now);
    sodium_memzero(hash, sizeof(hash));
}

/* --- the new device's alert to the user's other devices ---------------------------------- */

static void login_device_free(void *arg)
{
    store_device_free(arg);
    free(arg);
}

static void login_after_new_device(struct job *j)
{
    const struct store_device *d = j->extra;
    struct realtime_new_device e = {d->user_id, d->id, d->name, d->platform, j->ip, d->created_at};

    realtime_device_added(j->a->srv, &e);
}

/* A login that created a device tells the other devices once the answer is out: takes d. */
static void login_announce(struct job *j, struct store_device *d)
{
    struct store_device *copy = malloc(sizeof(*copy));

    if (!copy)
        abort();
    *copy = *d;
    memset(d, 0, sizeof(*d));
    j->extra = copy;
    j->extra_free = login_device_free;
    j->after_success = login_after_new_device;
}

static void login_work(struct store *s, struct job *j)
{
    struct login l = {0};
    struct store_device d = {0};
    char did[STORE_ID_SIZE];
    enum store_err rc;
    json_t *tokens;

    if (login_check(j, &l) || login_lookup(s, j, &l) || login_authenticate(s, j, &l) ||
        login_device(s, j, &l, did))
        goto done;
    if ((rc = store_device_get(s, did, &d)) != STORE_OK) {
        job_store_error(j, rc, "device_get");
        goto done;
    }
    if (!(tokens = session_issue(s, j, l.user.id, &d)))
        goto done;
    loginguard_success(j->a->guard, l.account, strlen(l.account));
    api_audit(s, j, l.user.id, did, "login", true, l.dev_id ? "device_proof" : "new_device");
    login_rehash(s, j, &l);
    job_ok(j, 200,
           json_pack("{s:o, s:o, s:o}", "user", accounts_me_json(&l.user), "device",
                     api_device_json(&d, did), "tokens", tokens));
    if (!l.dev_id)
        login_announce(j, &d);
done:
    store_user_free(&l.user);
    store_device_free(&l.dev);
    store_device_free(&d);
}

static void login_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct job *j;
    struct login l = {0};

    if (auth_limit(a, req, RULE_LOGIN_IP, http_client_ip(req)))
        return;
    j = job_new(req, a);
    if (!json_is_object(j->body)) {
        job_error(j, 400, "invalid_json", "The body must be a JSON object.");
        job_finish(j);
        return;
    }
    if (login_check(j, &l)) {
        job_finish(j);
        return;
    }
    if (auth_limit(a, req, RULE_LOGIN_ACCOUNT, l.account)) {
        job_free(j);
        return;
    }
    job_heavy_account(j, l.account);
    job_submit_heavy(j, login_work);
}

int login_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_POST, "/api/auth/login", login_post, a, 65536, ROUTE_JSON};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
