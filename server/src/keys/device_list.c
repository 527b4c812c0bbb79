/* The account's signed device list (issue 23; docs/protocol.md, "Account key and device
 * list"): PUT /api/keys/device-list stores the latest, and GET /api/keys/users/:userId serves
 * it with the devices' keys.
 *
 * The server does not verify the account key's signature: clients do, and a server that
 * skipped the check could do no more than one that serves garbage (deny service). It checks
 * what keeps the directory coherent: the list is the caller's account's, well formed, names
 * only active devices of that account under their own signing keys, and its version moves
 * forward (the store refuses a rollback or a fork of the same version). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/fields.h"
#include "auth/b64.h"
#include "base/server.h"
#include "keys/keys.h"
#include "net/router.h"
#include "store/devices.h"
#include "store/signed_lists.h"

#define LIST_HEAD 66u /* format, userId, accountKey, version, issuedAt, n */
#define LIST_ENTRY 48u
#define LIST_SIG 64u
#define LIST_DEVICES_MAX 64u

/* 16 bytes as a canonical lower-case UUID, the store's form of an id. */
static void uuid_text(const uint8_t b[16], char out[STORE_ID_SIZE])
{
    char hex[33];

    sodium_bin2hex(hex, sizeof(hex), b, 16);
    snprintf(out, STORE_ID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
}

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The list's shape: NULL, or the reason it is refused. *version gets its version. */
static const char *list_shape(const uint8_t *l, size_t len, const char *user_id, int64_t *version)
{
    char uid[STORE_ID_SIZE];
    size_t n = len > LIST_HEAD ? l[LIST_HEAD - 1] : 0;
    uint64_t v = len > LIST_HEAD ? load_u64(l + 49) : 0;

    if (len < LIST_HEAD + LIST_ENTRY + LIST_SIG || l[0] != 1)
        return "invalid";
    if (n < 1 || n > LIST_DEVICES_MAX || len != LIST_HEAD + n * LIST_ENTRY + LIST_SIG)
        return "invalid";
    uuid_text(l + 1, uid);
    if (strcmp(uid, user_id))
        return "wrong_user";
    if (v < 1 || v > INT64_MAX)
        return "invalid";
    for (size_t i = 1; i < n; i++)
        if (memcmp(l + LIST_HEAD + (i - 1) * LIST_ENTRY, l + LIST_HEAD + i * LIST_ENTRY, 16) >= 0)
            return "invalid";
    *version = (int64_t)v;
    return NULL;
}

/* Whether every listed device is an active device of the account, under its signing key. */
static bool list_devices_known(const uint8_t *l, const struct store_device *devs, size_t nd)
{
    size_t n = l[LIST_HEAD - 1];

    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = l + LIST_HEAD + i * LIST_ENTRY;
        char id[STORE_ID_SIZE];
        bool found = false;

        uuid_text(e, id);
        for (size_t k = 0; k < nd && !found; k++)
            found = !strcmp(devs[k].id, id) &&
                    !memcmp(devs[k].bundle.signing_key, e + 16, STORE_KEY_SIZE);
        if (!found)
            return false;
    }
    return true;
}

static const struct field_spec list_fields[] = {
    {"deviceList", FIELD_BASE64, FIELD_REQUIRED, .min = LIST_HEAD + LIST_ENTRY + LIST_SIG,
     .max = STORE_SIGNED_LIST_MAX},
};

static void device_list_work(struct store *st, struct job *j)
{
    struct field_value v;
    uint8_t list[STORE_SIGNED_LIST_MAX];
    size_t len = 0, nd = 0;
    int64_t version = 0;
    struct store_device *devs = NULL;
    const char *why;
    enum store_err rc;

    if (job_fields(j, j->body, list_fields, 1, &v, 1))
        return;
    if (b64_decode(v.str, v.len, B64_STANDARD, list, sizeof(list), &len)) {
        job_invalid(j, "deviceList", "bad_base64");
        return;
    }
    if ((why = list_shape(list, len, j->who.user_id, &version)) != NULL) {
        job_invalid(j, "deviceList", why);
        return;
    }
    rc = store_device_list(st, j->who.user_id, STORE_DEVICES_ACTIVE, &devs, &nd);
    if (rc == STORE_OK && !list_devices_known(list, devs, nd)) {
        store_devices_free(devs, nd);
        job_invalid(j, "deviceList", "unknown_device");
        return;
    }
    store_devices_free(devs, nd);
    if (rc == STORE_OK)
        rc = store_signed_list_put(st, j->who.user_id, version, list, len, j->now);
    if (rc == STORE_CONFLICT)
        job_error(j, 409, "conflict", "A newer device list, or another of this version, is held.");
    else
        job_result(j, rc, json_pack("{s:I}", "version", (json_int_t)version), "device_list");
}

static void device_list_put(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, NULL);

    (void)arg;
    if (j)
        job_submit(j, device_list_work);
}

json_t *keys_device_list_json(struct store *st, const char *user_id, enum store_err *rc)
{
    uint8_t list[STORE_SIGNED_LIST_MAX];
    char b64[((STORE_SIGNED_LIST_MAX + 2) / 3) * 4 + 1];
    size_t len;
    int64_t version;

    *rc = store_signed_list_get(st, user_id, list, sizeof(list), &len, &version);
    if (*rc == STORE_NOT_FOUND) {
        *rc = STORE_OK;
        return json_null();
    }
    if (*rc != STORE_OK || b64_encode(list, len, B64_STANDARD, b64, sizeof(b64)))
        return NULL;
    return json_string(b64);
}

int keys_device_list_routes(struct server *srv)
{
    const struct route r = {HTTP_PUT, "/api/keys/device-list", device_list_put, NULL,
                            8192,     ROUTE_AUTH | ROUTE_JSON};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
