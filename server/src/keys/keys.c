/* Every /api/keys route (api.md, Keys): the calling device uploads its bundle (PUT
 * /api/keys/device: both signatures verified, keys another device uses refused with 409
 * conflict, a device's identity and signing keys never change once set, 409
 * identity_immutable; the same keys again replace the signed pre-key and add one-time
 * pre-keys; a device made by login without keys becomes active here); listing a user's
 * active devices' public bundles (claims nothing); claiming one-time pre-keys (atomic in the
 * store; rate-limited per (caller, target) by RATE_LIMIT_KEY_CLAIM, 30 a minute by default);
 * uploading one-time pre-keys (at most 100 per upload, 200 stored) and their count; and
 * replacing the signed pre-key (signature checked against the device's stored keys). */
#include "keys/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/b64.h"
#include "auth/bundle.h"
#include "auth/ratelimit.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/server.h"
#include "net/router.h"
#include "store/devices.h"
#include "store/prekeys.h"
#include "store/users.h"

struct keys {
    struct ratelimit *limits;  /* key claims per (caller, target) ... */
    ratelimit_rule claim_rule; /* ... by this rule (RATE_LIMIT_KEY_CLAIM) */
};

struct keys *keys_create(const struct config *cfg)
{
    struct keys *k = calloc(1, sizeof(*k));
    long cap = 30, period = 60;

    if (!k)
        abort();
    k->limits = ratelimit_create((size_t)cfg->rate_limit_table);
    if (!k->limits) {
        free(k);
        return NULL;
    }
    if (cfg->rl_key_claim)
        config_bucket_parse(cfg->rl_key_claim, &cap, &period); /* checked */
    k->claim_rule = (ratelimit_rule){"key_claim", (uint32_t)cap, (uint32_t)period};
    return k;
}

void keys_destroy(struct keys *k)
{
    if (!k)
        return;
    ratelimit_destroy(k->limits);
    free(k);
}

#define KEYS_STORED_MAX 200

static json_t *keys_b64(const uint8_t *bin, size_t len)
{
    char buf[128];

    if (b64_encode(bin, len, B64_STANDARD, buf, sizeof(buf)))
        abort();
    return json_string(buf);
}

static json_t *keys_device(const struct store_device *d)
{
    const struct store_bundle *b = &d->bundle;

    return json_pack("{s:s, s:o, s:o, s:o, s:{s:I, s:o, s:o}}", "deviceId", d->id, "identityKey",
                     keys_b64(b->identity_key, STORE_KEY_SIZE), "signingKey",
                     keys_b64(b->signing_key, STORE_KEY_SIZE), "identitySignature",
                     keys_b64(b->identity_signature, STORE_SIG_SIZE), "signedPreKey", "keyId",
                     (json_int_t)b->spk_id, "publicKey", keys_b64(b->spk_public, STORE_KEY_SIZE),
                     "signature", keys_b64(b->spk_signature, STORE_SIG_SIZE));
}

/* The target user's active devices (*rc STORE_OK), or NULL with the store's error. */
static struct store_device *keys_devices(struct store *st, struct job *j, size_t *n,
                                         enum store_err *rc)
{
    struct store_user u;
    struct store_device *devs = NULL;

    *n = 0;
    *rc = store_user_get(st, j->arg, &u);
    if (*rc != STORE_OK)
        return NULL;
    store_user_free(&u);
    *rc = store_device_list(st, j->arg, STORE_DEVICES_ACTIVE, &devs, n);
    return devs;
}

/* GET /api/keys/users/:userId */
static void keys_list_work(struct store *st, struct job *j)
{
    size_t n;
    enum store_err rc;
    struct store_device *devs = keys_devices(st, j, &n, &rc);
    json_t *arr = json_array();
    json_t *list = NULL;

    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        json_array_append_new(arr, keys_device(&devs[i]));
    store_devices_free(devs, n);
    if (rc == STORE_OK)
        list = keys_device_list_json(st, j->arg, &rc);
    if (rc != STORE_OK) {
        json_decref(arr);
        job_store_error(j, rc, "keys_list");
        return;
    }
    job_ok(j, 200,
           json_pack("{s:s, s:o, s:o}", "userId", j->arg, "devices", arr, "deviceList", list));
}

static void keys_list(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, "userId");

    (void)arg; /* the keys state is for claims only */
    if (!j)
        return;
    if (!api_is_uuid(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        job_free(j);
        return;
    }
    job_submit(j, keys_list_work);
}

/* POST /api/keys/claim {userId, deviceIds?} */
static bool keys_wanted(const json_t *ids, const char *device_id)
{
    size_t i;
    json_t *v;

    if (!ids)
        return true;
    json_array_foreach(ids, i, v)
        if (!strcmp(json_string_value(v), device_id))
            return true;
    return false;
}

static void keys_claim_work(struct store *st, struct job *j)
{
    size_t n;
    enum store_err rc;
    struct store_device *devs = keys_devices(st, j, &n, &rc);
    json_t *ids = json_object_get(j->body, "deviceIds"), *arr = json_array();

    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        struct store_prekey pk;
        bool found = false;
        json_t *d;

        if (!keys_wanted(ids, devs[i].id))
            continue;
        rc = store_prekeys_claim(st, devs[i].id, &pk, &found);
        if (rc != STORE_OK)
            break;
        d = keys_device(&devs[i]);
        json_object_set_new(d, "oneTimePreKey",
                            found ? json_pack("{s:I, s:o}", "keyId", (json_int_t)pk.key_id,
                                              "publicKey", keys_b64(pk.public_key, STORE_KEY_SIZE))
                                  : json_null());
        json_array_append_new(arr, d);
    }
    store_devices_free(devs, n);
    job_result(j, rc, json_pack("{s:s, s:o}", "userId", j->arg, "devices", arr), "keys_claim");
}

/* {userId, deviceIds?}: every malformed member was always "wrong_type". */
static const struct field_spec claim_fields[] = {
    {"userId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
    {"deviceIds", FIELD_ARRAY, FIELD_NULL_WRONG, .max = 100, .as_bounds = "wrong_type"},
};
enum { CLAIM_USER, CLAIM_DEVICES, CLAIM_N };

static void keys_claim(struct http_req *req, void *arg)
{
    struct keys *k = arg;
    struct job *j = job_new_caller(req, NULL, NULL);
    struct field_value f[CLAIM_N];
    const json_t *v;
    char key[2 * STORE_ID_SIZE + 2];
    uint32_t retry = 1;
    size_t i;

    if (!j)
        return;
    if (job_fields(j, j->body, claim_fields, CLAIM_N, f, CLAIM_N))
        goto answer;
    json_array_foreach(f[CLAIM_DEVICES].json, i, v)
        if (!json_is_string(v) || !api_is_uuid(json_string_value(v))) {
            job_invalid(j, "deviceIds", "wrong_type");
            goto answer;
        }
    snprintf(j->arg, sizeof(j->arg), "%s", f[CLAIM_USER].str);
    snprintf(key, sizeof(key), "%s:%.36s", j->who.user_id, j->arg);
    if (ratelimit_take(k->limits, &k->claim_rule, key, strlen(key), clock_mono_ms(), &retry)) {
        http_respond_rate_limited(req, "rate_limited", retry);
        goto fail;
    }
    job_submit(j, keys_claim_work);
    return;
answer:
    job_finish(j);
    return;
fail:
    job_free(j);
}

/* POST /api/keys/one-time-keys {keys} */
static void keys_upload_work(struct store *st, struct job *j)
{
    const bundle_prekey *in = j->extra;
    struct store_prekey pk[BUNDLE_MAX_OTPK];

    for (int64_t i = 0; i < j->n1; i++) {
        pk[i].key_id = in[i].key_id;
        memcpy(pk[i].public_key, in[i].public_key, STORE_KEY_SIZE);
    }
    enum store_err rc =
        store_prekeys_add(st, j->who.device_id, pk, (size_t)j->n1, KEYS_STORED_MAX, j->now);

    if (rc == STORE_LIMIT) {
        job_fail(j, 400, "validation_failed", "A device holds at most 200 one-time keys.",
                 api_details("keys", "too_many"));
        return;
    }
    if (rc == STORE_CONFLICT) {
        job_fail(j, 409, "conflict", "A keyId was already used for another key.", NULL);
        return;
    }
    if (rc == STORE_OK)
        rc = store_prekeys_count(st, j->who.device_id, &j->n2);
    job_result(j, rc, json_pack("{s:I}", "count", (json_int_t)j->n2), "keys_upload");
}

static void keys_upload(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, NULL);
    static const struct field_spec rows[] = {
        {"keys", FIELD_ARRAY, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
    };
    struct field_value arr;
    bundle_prekey *keys;
    bundle_error err = {0};
    size_t n = 0;

    (void)arg; /* the keys state is for claims only */
    if (!j)
        return;
    keys = calloc(BUNDLE_MAX_OTPK, sizeof(*keys));
    if (!keys)
        abort();
    j->extra = keys;
    j->extra_free = free;
    if (job_fields(j, j->body, rows, 1, &arr, 1)) {
        job_finish(j);
        return;
    }
    /* The items are keys: auth/bundle.c checks them, with its own reasons. */
    if (bundle_parse_otpks(arr.json, "keys", keys, &n, &err) != BUNDLE_OK) {
        job_invalid(j, err.field, err.reason ? err.reason : "invalid");
        job_finish(j);
        return;
    }
    j->n1 = (int64_t)n;
    job_submit(j, keys_upload_work);
}

/* GET /api/keys/one-time-keys/count */
static void keys_count_work(struct store *st, struct job *j)
{
    enum store_err rc = store_prekeys_count(st, j->who.device_id, &j->n1);

    job_result(j, rc, json_pack("{s:I}", "count", (json_int_t)j->n1), "keys_count");
}

static void keys_count(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, NULL);

    (void)arg; /* the keys state is for claims only */
    if (j)
        job_submit(j, keys_count_work);
}

/* PUT /api/keys/signed-pre-key {keyId, publicKey, signature} */
static void keys_spk_work(struct store *st, struct job *j)
{
    struct store_device d;
    bundle_signed_prekey spk;
    bundle_error err = {0};
    bundle_status bs;

    enum store_err rc = store_device_get(st, j->who.device_id, &d);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "keys_spk");
        return;
    }
    if (!d.has_bundle || d.revoked_at) {
        store_device_free(&d);
        job_fail(j, 409, "conflict", "This device has no keys yet (PUT /api/keys/device).", NULL);
        return;
    }
    bs = bundle_parse_spk(j->body, d.bundle.identity_key, d.bundle.signing_key, &spk, &err);
    store_device_free(&d);
    if (bs == BUNDLE_ERR_SIGNATURE) {
        job_fail(j, 400, "invalid_signature", "The signature does not verify.",
                 api_details(err.field, "bad_signature"));
        return;
    }
    if (bs != BUNDLE_OK) {
        job_fail(j, 400, "validation_failed", "Invalid signed pre-key.",
                 api_details(err.field, err.reason ? err.reason : "invalid"));
        return;
    }
    rc = store_device_set_signed_prekey(st, j->who.user_id, j->who.device_id, spk.key_id,
                                        spk.public_key, spk.signature, j->now);
    job_result(j, rc, json_pack("{s:b}", "success", 1), "keys_spk");
}

static void keys_spk(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, NULL);

    (void)arg; /* the keys state is for claims only */
    if (j)
        job_submit(j, keys_spk_work);
}

/* PUT /api/keys/device: the calling device's bundle. */
static void device_keys_error(struct job *j, enum store_err rc)
{
    switch (rc) {
    case STORE_IDENTITY_IMMUTABLE:
        job_error(j, 409, "identity_immutable", "A device's identity keys cannot change.");
        break;
    case STORE_CONFLICT_KEY:
    case STORE_CONFLICT: job_error(j, 409, "conflict", "These keys are already in use."); break;
    case STORE_LIMIT: job_invalid(j, "oneTimePreKeys", "too_many_stored"); break;
    case STORE_NOT_FOUND: job_device_revoked(j); break;
    default: job_store_error(j, rc, "keys_device");
    }
}

static void device_keys_work(struct store *s, struct job *j)
{
    struct bundle *b = keys_bundle_parse(j, j->body, NULL);
    struct store_bundle sb;
    struct store_prekey pk[BUNDLE_MAX_OTPK];
    enum store_err rc;

    if (!b)
        return;
    keys_bundle_to_store(b, &sb, pk);
    if ((rc = store_begin(s)) != STORE_OK)
        goto done;
    rc = store_device_set_bundle(s, j->who.user_id, j->who.device_id, &sb, j->now);
    if (rc == STORE_OK && b->otpk_count)
        rc = store_prekeys_add(s, j->who.device_id, pk, b->otpk_count, KEYS_STORED_MAX, j->now);
    if (rc != STORE_OK)
        store_rollback(s);
    else
        rc = store_commit(s);
done:
    if (rc != STORE_OK)
        device_keys_error(j, rc);
    else
        job_success(j, 200);
    free(b);
}

static void device_keys_put(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, NULL);

    (void)arg;
    if (j)
        job_submit(j, device_keys_work);
}

int keys_routes(struct server *srv, struct keys *k)
{
    const struct route routes[] = {
        {HTTP_PUT, "/api/keys/device", device_keys_put, k, 65536, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/keys/users/:userId", keys_list, k, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/keys/claim", keys_claim, k, 16384, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_POST, "/api/keys/one-time-keys", keys_upload, k, 65536, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/keys/one-time-keys/count", keys_count, k, 0, ROUTE_AUTH},
        {HTTP_PUT, "/api/keys/signed-pre-key", keys_spk, k, 4096, ROUTE_AUTH | ROUTE_JSON},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return keys_device_list_routes(srv);
}
