/* A device's bundle between its JSON form (auth/bundle.h parses and verifies) and the
 * store's form (keys.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/bundle.h"
#include "keys/keys.h"
#include "store/devices.h"
#include "store/prekeys.h"

void keys_bundle_to_store(const struct bundle *b, struct store_bundle *out,
                          struct store_prekey *prekeys)
{
    memcpy(out->identity_key, b->identity_key, STORE_KEY_SIZE);
    memcpy(out->signing_key, b->signing_key, STORE_KEY_SIZE);
    memcpy(out->identity_signature, b->identity_signature, STORE_SIG_SIZE);
    out->spk_id = b->spk.key_id;
    memcpy(out->spk_public, b->spk.public_key, STORE_KEY_SIZE);
    memcpy(out->spk_signature, b->spk.signature, STORE_SIG_SIZE);
    for (size_t i = 0; prekeys && i < b->otpk_count; i++) {
        prekeys[i].key_id = b->otpk[i].key_id;
        memcpy(prekeys[i].public_key, b->otpk[i].public_key, STORE_KEY_SIZE);
    }
}

struct bundle *keys_bundle_parse(struct job *j, const json_t *v, const char *field)
{
    struct bundle *b = malloc(sizeof(*b));
    bundle_error err = {0};
    bundle_status st;
    char path[96];

    if (!b)
        abort();
    if (!v || !json_is_object(v)) {
        job_invalid(j, field ? field : "body", v ? "wrong_type" : "missing");
        free(b);
        return NULL;
    }
    st = bundle_parse(v, b, &err);
    if (st == BUNDLE_OK)
        return b;
    free(b);
    if (field)
        snprintf(path, sizeof(path), "%s.%s", field, err.field);
    else
        snprintf(path, sizeof(path), "%s", err.field);
    if (st == BUNDLE_ERR_SIGNATURE)
        job_fail(j, 400, "invalid_signature", "A key signature does not verify.",
                 json_pack("{s:s}", "field", path));
    else
        job_invalid(j, path, err.reason ? err.reason : "invalid");
    return NULL;
}
