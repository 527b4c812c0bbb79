/* The key directory (api.md, Keys): listing a user's active devices' public bundles
 * (claims nothing), claiming one-time pre-keys (atomic in the store; rate-limited per
 * (caller, target) by RATE_LIMIT_KEY_CLAIM, 30 a minute by default), uploading one-time pre-keys
 * (at most 100 per upload, 200 stored), their count, and replacing the signed pre-key (signature
 * checked against the device's stored keys). PUT /api/keys/device belongs to the accounts module
 * (keys.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/b64.h"
#include "auth/bundle.h"
#include "auth/ratelimit.h"
#include "base/server.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "store/devices.h"
#include "store/prekeys.h"
#include "store/users.h"

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

/* The target user's active devices, or an error on j. */
static struct store_device *keys_devices(struct store *st, struct rtjob *j, size_t *n)
{
    struct store_user u;
    struct store_device *devs = NULL;

    *n = 0;
    j->rc = store_user_get(st, j->arg, &u);
    if (j->rc != STORE_OK)
        return NULL;
    store_user_free(&u);
    j->rc = store_device_list(st, j->arg, STORE_DEVICES_ACTIVE, &devs, n);
    return devs;
}

/* GET /api/keys/users/:userId */
static void keys_list_work(struct store *st, struct rtjob *j)
{
    size_t n;
    struct store_device *devs = keys_devices(st, j, &n);
    json_t *arr = json_array();

    for (size_t i = 0; j->rc == STORE_OK && i < n; i++)
        json_array_append_new(arr, keys_device(&devs[i]));
    store_devices_free(devs, n);
    j->out = json_pack("{s:s, s:o}", "userId", j->arg, "devices", arr);
}

static void keys_list(struct http_req *req, void *arg)
{
    struct rtjob *j = rtjob_new(req, arg, "userId");

    if (!j)
        return;
    if (!rtj_uuid_ok(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        rtjob_free(j);
        return;
    }
    rtjob_submit(j, keys_list_work);
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

static void keys_claim_work(struct store *st, struct rtjob *j)
{
    size_t n;
    struct store_device *devs = keys_devices(st, j, &n);
    json_t *ids = json_object_get(j->body, "deviceIds"), *arr = json_array();

    for (size_t i = 0; j->rc == STORE_OK && i < n; i++) {
        struct store_prekey pk;
        bool found = false;
        json_t *d;

        if (!keys_wanted(ids, devs[i].id))
            continue;
        j->rc = store_prekeys_claim(st, devs[i].id, &pk, &found);
        if (j->rc != STORE_OK)
            break;
        d = keys_device(&devs[i]);
        json_object_set_new(d, "oneTimePreKey",
                            found ? json_pack("{s:I, s:o}", "keyId", (json_int_t)pk.key_id,
                                              "publicKey", keys_b64(pk.public_key, STORE_KEY_SIZE))
                                  : json_null());
        json_array_append_new(arr, d);
    }
    store_devices_free(devs, n);
    j->out = json_pack("{s:s, s:o}", "userId", j->arg, "devices", arr);
}

static void keys_claim(struct http_req *req, void *arg)
{
    struct realtime *rt = arg;
    struct rtjob *j = rtjob_new(req, rt, NULL);
    json_t *uid, *ids, *v;
    char key[2 * RT_ID_SIZE + 2];
    uint32_t retry = 1;
    size_t i;
    struct timespec ts;

    if (!j)
        return;
    uid = json_object_get(j->body, "userId");
    ids = json_object_get(j->body, "deviceIds");
    if (!json_is_string(uid) || !rtj_uuid_ok(json_string_value(uid))) {
        http_respond_error(req, 400, "validation_failed", "userId is a UUID.",
                           rtj_details("userId", uid ? "wrong_type" : "missing"));
        goto fail;
    }
    if (ids && (!json_is_array(ids) || json_array_size(ids) > 100)) {
        http_respond_error(req, 400, "validation_failed", "deviceIds is an array of UUIDs.",
                           rtj_details("deviceIds", "wrong_type"));
        goto fail;
    }
    json_array_foreach(ids, i, v)
        if (!json_is_string(v) || !rtj_uuid_ok(json_string_value(v))) {
            http_respond_error(req, 400, "validation_failed", "deviceIds is an array of UUIDs.",
                               rtj_details("deviceIds", "wrong_type"));
            goto fail;
        }
    snprintf(j->arg, sizeof(j->arg), "%s", json_string_value(uid));
    snprintf(key, sizeof(key), "%s:%s", j->user_id, j->arg);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ratelimit_take(rt->limits, &rt->claim_rule, key, strlen(key),
                       (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &retry)) {
        http_respond_rate_limited(req, "rate_limited", retry);
        goto fail;
    }
    rtjob_submit(j, keys_claim_work);
    return;
fail:
    rtjob_free(j);
}

/* POST /api/keys/one-time-keys {keys} */
static void keys_upload_work(struct store *st, struct rtjob *j)
{
    const bundle_prekey *in = j->extra;
    struct store_prekey pk[BUNDLE_MAX_OTPK];

    for (int64_t i = 0; i < j->n1; i++) {
        pk[i].key_id = in[i].key_id;
        memcpy(pk[i].public_key, in[i].public_key, STORE_KEY_SIZE);
    }
    j->rc = store_prekeys_add(st, j->device_id, pk, (size_t)j->n1, KEYS_STORED_MAX, j->now);
    if (j->rc == STORE_LIMIT) {
        rtjob_fail(j, 400, "validation_failed", "A device holds at most 200 one-time keys.",
                   rtj_details("keys", "too_many"));
        return;
    }
    if (j->rc == STORE_CONFLICT) {
        rtjob_fail(j, 409, "conflict", "A keyId was already used for another key.", NULL);
        return;
    }
    if (j->rc == STORE_OK)
        j->rc = store_prekeys_count(st, j->device_id, &j->n2);
    j->out = json_pack("{s:I}", "count", (json_int_t)j->n2);
}

static void keys_upload(struct http_req *req, void *arg)
{
    struct rtjob *j = rtjob_new(req, arg, NULL);
    bundle_prekey *keys;
    bundle_error err = {0};
    size_t n = 0;
    json_t *arr;

    if (!j)
        return;
    arr = json_object_get(j->body, "keys");
    keys = calloc(BUNDLE_MAX_OTPK, sizeof(*keys));
    if (!keys)
        abort();
    j->extra = keys;
    j->extra_free = free;
    if (!json_is_array(arr)) {
        http_respond_error(req, 400, "validation_failed", "keys is an array.",
                           rtj_details("keys", arr ? "wrong_type" : "missing"));
        rtjob_free(j);
        return;
    }
    if (bundle_parse_otpks(arr, "keys", keys, &n, &err) != BUNDLE_OK) {
        http_respond_error(req, 400, "validation_failed", "Invalid one-time keys.",
                           rtj_details(err.field, err.reason ? err.reason : "invalid"));
        rtjob_free(j);
        return;
    }
    j->n1 = (int64_t)n;
    rtjob_submit(j, keys_upload_work);
}

/* GET /api/keys/one-time-keys/count */
static void keys_count_work(struct store *st, struct rtjob *j)
{
    j->rc = store_prekeys_count(st, j->device_id, &j->n1);
    j->out = json_pack("{s:I}", "count", (json_int_t)j->n1);
}

static void keys_count(struct http_req *req, void *arg)
{
    struct rtjob *j = rtjob_new(req, arg, NULL);

    if (j)
        rtjob_submit(j, keys_count_work);
}

/* PUT /api/keys/signed-pre-key {keyId, publicKey, signature} */
static void keys_spk_work(struct store *st, struct rtjob *j)
{
    struct store_device d;
    bundle_signed_prekey spk;
    bundle_error err = {0};
    bundle_status bs;

    j->rc = store_device_get(st, j->device_id, &d);
    if (j->rc != STORE_OK)
        return;
    if (!d.has_bundle || d.revoked_at) {
        store_device_free(&d);
        rtjob_fail(j, 409, "conflict", "This device has no keys yet (PUT /api/keys/device).", NULL);
        return;
    }
    bs = bundle_parse_spk(j->body, d.bundle.identity_key, d.bundle.signing_key, &spk, &err);
    store_device_free(&d);
    if (bs == BUNDLE_ERR_SIGNATURE) {
        rtjob_fail(j, 400, "invalid_signature", "The signature does not verify.",
                   rtj_details(err.field, "bad_signature"));
        return;
    }
    if (bs != BUNDLE_OK) {
        rtjob_fail(j, 400, "validation_failed", "Invalid signed pre-key.",
                   rtj_details(err.field, err.reason ? err.reason : "invalid"));
        return;
    }
    j->rc = store_device_set_signed_prekey(st, j->user_id, j->device_id, spk.key_id, spk.public_key,
                                           spk.signature, j->now);
    j->out = json_pack("{s:b}", "success", 1);
}

static void keys_spk(struct http_req *req, void *arg)
{
    struct rtjob *j = rtjob_new(req, arg, NULL);

    if (j)
        rtjob_submit(j, keys_spk_work);
}

int keydir_routes(struct server *srv)
{
    const struct route routes[] = {
        {HTTP_GET, "/api/keys/users/:userId", keys_list, srv->rt, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/keys/claim", keys_claim, srv->rt, 16384, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_POST, "/api/keys/one-time-keys", keys_upload, srv->rt, 65536,
         ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/keys/one-time-keys/count", keys_count, srv->rt, 0, ROUTE_AUTH},
        {HTTP_PUT, "/api/keys/signed-pre-key", keys_spk, srv->rt, 4096, ROUTE_AUTH | ROUTE_JSON},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
