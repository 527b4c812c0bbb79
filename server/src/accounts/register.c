/* POST /api/auth/register: a new account, its first device with a verified key bundle, a
 * session, and the verification e-mail. Cheap checks run on the loop; the bundle's
 * signatures, the Argon2id hash and the store run on a worker. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "auth/bundle.h"
#include "base/server.h"
#include "keys/keys.h"
#include "store/prekeys.h"
#include "store/tokens.h"

#define MAX_STORED_PREKEYS 200

struct reg_input {
    const char *email, *username, *password, *display_name, *language, *dev_name, *platform;
    const json_t *keys;
};

static const char *const register_platforms[] = {"web", "ios", "android", "cli", NULL};

/* The body, in the order it is checked; the password policy runs between the two tables, as
 * it needs the email and username and comes before the rest. */
enum { R_EMAIL, R_USERNAME, R_PASSWORD, R_HEAD };
static const struct field_spec register_head[] = {
    [R_EMAIL] = ACCOUNT_EMAIL_ROW,
    [R_USERNAME] = ACCOUNT_USERNAME_ROW,
    /* Its length is the policy's to judge. */
    [R_PASSWORD] = {"password", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG,
                    .max = FIELD_UNBOUNDED},
};

enum { R_DEVICE_NAME, R_PLATFORM, R_DEVICE_N };
static const struct field_spec register_device[] = {
    [R_DEVICE_NAME] = ACCOUNT_DEVICE_NAME_ROW,
    [R_PLATFORM] = {"platform", FIELD_ENUM, FIELD_REQUIRED, .one_of = register_platforms,
                    .as_wrong_type = "missing"},
};

/* Values in depth-first order: the device's rows follow it. */
enum { R_DISPLAY_NAME, R_LANGUAGE, R_DEVICE, R_DEV_NAME, R_DEV_PLATFORM, R_KEYS, R_TAIL_VALUES };
static const struct field_spec register_tail[] = {
    ACCOUNT_DISPLAY_NAME_ROW(1),
    ACCOUNT_LANGUAGE_ROW,
    {"device", FIELD_OBJECT, FIELD_REQUIRED | FIELD_NULL_WRONG, .sub = register_device,
     .n_sub = R_DEVICE_N},
    /* The bundle: keys_bundle_parse checks it on the worker. */
    {.name = "keys", .type = FIELD_ANY},
};

/* Field checks on the loop; on failure the job holds the error. */
static int register_check(struct job *j, struct reg_input *in)
{
    struct field_value h[R_HEAD], t[R_TAIL_VALUES];
    password_policy pp;

    if (job_fields(j, j->body, register_head, R_HEAD, h, R_HEAD))
        return -1;
    in->email = h[R_EMAIL].str;
    in->username = h[R_USERNAME].str;
    in->password = h[R_PASSWORD].str;
    pp = password_check_policy(in->password, h[R_PASSWORD].len, in->email, in->username);
    if (pp != PASSWORD_POLICY_OK) {
        job_invalid(j, "password", password_policy_reason(pp));
        return -1;
    }
    if (job_fields(j, j->body, register_tail, sizeof(register_tail) / sizeof(register_tail[0]), t,
                   R_TAIL_VALUES))
        return -1;
    in->display_name = t[R_DISPLAY_NAME].str;
    in->language = t[R_LANGUAGE].str;
    in->dev_name = t[R_DEV_NAME].str;
    in->platform = t[R_DEV_PLATFORM].str;
    in->keys = t[R_KEYS].json;
    return 0;
}

static void register_conflict(struct job *j, enum store_err rc)
{
    const char *field = rc == STORE_CONFLICT_EMAIL      ? "email"
                        : rc == STORE_CONFLICT_USERNAME ? "username"
                        : rc == STORE_CONFLICT_KEY      ? "keys"
                                                        : "username";

    job_error(j, 409, "conflict",
              rc == STORE_CONFLICT_KEY ? "These device keys are already in use."
                                       : "That email or username is already taken.");
    j->details = json_pack("{s:s}", "field", field);
}

/* Answers {user, device, tokens} for the new account. */
static void register_answer(struct store *s, struct job *j, const char *uid, const char *did)
{
    struct store_user u = {0};
    struct store_device d = {0};
    enum store_err rc;
    json_t *tokens;

    if ((rc = store_user_get(s, uid, &u)) != STORE_OK ||
        (rc = store_device_get(s, did, &d)) != STORE_OK) {
        job_store_error(j, rc, "register_read");
        goto done;
    }
    tokens = session_issue(s, j, uid, &d);
    if (!tokens)
        goto done;
    api_audit(s, j, uid, did, "register", true, NULL);
    email_send_token(s, j, &u, STORE_EMAIL_VERIFY);
    job_ok(j, 201,
           json_pack("{s:o, s:o, s:o}", "user", accounts_me_json(&u), "device",
                     api_device_json(&d, did), "tokens", tokens));
done:
    store_user_free(&u);
    store_device_free(&d);
}

static void register_work(struct store *s, struct job *j)
{
    struct reg_input in = {0};
    struct bundle *b = NULL;
    struct store_bundle sb;
    struct store_prekey *pk = NULL;
    char hash[PASSWORD_ENCODED_MAX], uid[STORE_ID_SIZE], did[STORE_ID_SIZE];
    enum store_err rc;

    if (register_check(j, &in) || !(b = keys_bundle_parse(j, in.keys, "keys")))
        goto done;
    pk = calloc(b->otpk_count + 1, sizeof(*pk));
    if (!pk)
        abort();
    keys_bundle_to_store(b, &sb, pk);
    if (password_hash(j->a->pw, in.password, strlen(in.password), hash, sizeof(hash))) {
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        goto done;
    }
    {
        struct store_new_user nu = {in.email, in.username, hash, in.display_name, in.language};
        struct store_new_device nd = {in.dev_name, in.platform, j->ip, j->ua[0] ? j->ua : NULL,
                                      &sb};

        rc = store_user_register(s, &nu, &nd, pk, b->otpk_count, MAX_STORED_PREKEYS, j->now, uid,
                                 did);
    }
    if (rc == STORE_CONFLICT_EMAIL || rc == STORE_CONFLICT_USERNAME || rc == STORE_CONFLICT_KEY ||
        rc == STORE_CONFLICT)
        register_conflict(j, rc);
    else if (rc != STORE_OK)
        job_store_error(j, rc, "register");
    else
        register_answer(s, j, uid, did);
done:
    sodium_memzero(hash, sizeof(hash));
    free(pk);
    free(b);
}

static void register_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct job *j;
    struct reg_input in;

    if (auth_limit(a, req, RULE_REGISTER_IP, http_client_ip(req)))
        return;
    j = job_new(req, a);
    if (!json_is_object(j->body)) {
        job_error(j, 400, "invalid_json", "The body must be a JSON object.");
        job_finish(j);
        return;
    }
    if (register_check(j, &in)) {
        job_finish(j);
        return;
    }
    job_heavy_account(j, in.email);
    job_submit_heavy(j, register_work);
}

int register_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_POST, "/api/auth/register", register_post, a, 65536, ROUTE_JSON};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
