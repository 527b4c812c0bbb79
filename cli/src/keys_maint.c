/* keys_maint.c: one-time pre-key replenishment and weekly signed pre-key rotation. */
#include "keys_maint.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

json_t *keys_new_one_time(client *c, uint32_t n)
{
    sotto_prekey *otk = calloc(n, sizeof *otk);
    json_t *bundle = NULL, *list = NULL;

    if (otk == NULL || sotto_account_generate_one_time_keys(c->pr.acct, n, otk) != 0 ||
        ls_account_save(c->st, c->pr.acct) != 0)
        goto done;
    if ((bundle = pr_bundle_json(c->pr.acct, otk, n)) != NULL)
        list = json_incref(json_object_get(bundle, "oneTimePreKeys"));
done:
    json_decref(bundle);
    free(otk);
    return list;
}

static int replenish(client *c)
{
    http_resp r;
    json_t *keys;
    int rc;

    if ((rc = client_api(c, "GET", "/api/keys/one-time-keys/count", NULL, &r)) != 0)
        return rc;
    json_int_t count = json_integer_value(json_object_get(r.body, "count"));
    int ok = r.status == 200;
    if (!ok)
        rc = client_fail(&r, "one-time key count");
    http_resp_clear(&r);
    if (!ok || count >= (json_int_t)OTK_LOW)
        return rc;
    if ((keys = keys_new_one_time(c, OTK_BATCH)) == NULL)
        return EXIT_LOCAL;
    json_t *body = json_pack("{s:o}", "keys", keys);
    if ((rc = client_api(c, "POST", "/api/keys/one-time-keys", body, &r)) == 0 &&
        r.status / 100 != 2)
        rc = client_fail(&r, "one-time key upload");
    json_decref(body);
    http_resp_clear(&r);
    return rc;
}

/* sotto_account_maintain: rotates the signed pre-key when due (a week old, or its replay
 * cache half full), prunes replaced ones past retention and claimed one-time keys past their
 * grace. Committed before the new signed pre-key is uploaded; an upload that fails is
 * retried at the next maintenance (the "uploaded" mark in kv stays behind). */
static int rotate(client *c)
{
    http_resp r;
    json_t *body, *bj;
    uint8_t *pending = NULL;
    size_t len;
    int rc, rotated = 0, have;

    if (sotto_account_maintain(c->pr.acct, now_s(), &rotated) != 0)
        return EXIT_LOCAL;
    if (ls_begin(c->st) != 0)
        return EXIT_LOCAL;
    if (ls_account_save(c->st, c->pr.acct) != 0 ||
        (rotated && ls_kv_put(c->st, "spk_upload_pending", (const uint8_t *)"1", 1) != 0) ||
        ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return EXIT_LOCAL;
    }
    if ((have = ls_kv_get(c->st, "spk_upload_pending", &pending, &len)) < 0)
        return EXIT_LOCAL;
    ls_secret_free(pending);
    if (have == 1)
        return 0; /* nothing to upload */
    bj = pr_bundle_json(c->pr.acct, NULL, 0);
    body = json_incref(json_object_get(bj, "signedPreKey"));
    json_decref(bj);
    if ((rc = client_api(c, "PUT", "/api/keys/signed-pre-key", body, &r)) == 0) {
        if (r.status / 100 != 2)
            rc = client_fail(&r, "signed pre-key upload");
        else if (ls_kv_del(c->st, "spk_upload_pending") != 0)
            rc = EXIT_LOCAL;
    }
    json_decref(body);
    http_resp_clear(&r);
    return rc;
}

int keys_maintain(client *c)
{
    int rc = replenish(c);
    int rc2 = rotate(c);

    return rc != 0 ? rc : rc2;
}
