/* PUT /api/keys/device: the calling device uploads its bundle. Both signatures are verified;
 * keys another device uses are refused (409 conflict) and a device's identity and signing
 * keys never change once set (409 identity_immutable), while the same keys again replace the
 * signed pre-key and add one-time pre-keys. A device made by login without keys becomes
 * active here. (The other /api/keys routes come with the messaging issue.) */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/bundle.h"
#include "base/server.h"
#include "store/prekeys.h"

#define MAX_STORED_PREKEYS 200

static void keys_error(struct job *j, enum store_err rc)
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
    struct bundle *b = api_bundle_parse(j, j->body, NULL);
    struct store_bundle sb;
    struct store_prekey pk[BUNDLE_MAX_OTPK];
    enum store_err rc;

    if (!b)
        return;
    api_bundle_to_store(b, &sb, pk);
    if ((rc = store_begin(s)) != STORE_OK)
        goto done;
    rc = store_device_set_bundle(s, j->who.user_id, j->who.device_id, &sb, j->now);
    if (rc == STORE_OK && b->otpk_count)
        rc = store_prekeys_add(s, j->who.device_id, pk, b->otpk_count, MAX_STORED_PREKEYS, j->now);
    if (rc != STORE_OK)
        store_rollback(s);
    else
        rc = store_commit(s);
done:
    if (rc != STORE_OK)
        keys_error(j, rc);
    else
        job_success(j, 200);
    free(b);
}

static void device_keys_put(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), device_keys_work);
}

int keys_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_PUT, "/api/keys/device",     device_keys_put, a,
                      65536,    ROUTE_AUTH | ROUTE_JSON};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
