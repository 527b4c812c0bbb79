/*
 * fuzz_prekey.c: pre-key messages from an unknown device (carol) to bob: the fixed
 * version and type bytes are prepended, so every input reaches the pre-key parser, the
 * identity signature check, the replay cache and X3DH. Bob starts with an empty record
 * for carol; a refusal must leave his account byte for byte as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fixture *f = fixture_get();
    static uint8_t env[SOTTO_ENVELOPE_MAX + 2], out[SOTTO_ENVELOPE_MAX];
    sotto_account *a;
    sotto_record *r;
    uint8_t *ra;
    size_t la, n = 0;

    if (size > SOTTO_ENVELOPE_MAX)
        return 0;
    env[0] = SOTTO_VERSION;
    env[1] = SOTTO_ENVELOPE_PREKEY;
    memcpy(env + 2, data, size);
    if (sotto_account_deserialize(&a, f->bob_account, f->bob_account_len) != 0 ||
        sotto_record_create(&r) != 0)
        fixture_fail("fixture state does not load");
    if (sotto_record_decrypt(r, a, env, size + 2, FIX_NOW, out, sizeof out, &n) != 0) {
        ra = fixture_account_bytes(a, &la);
        if (la != f->bob_account_len || memcmp(ra, f->bob_account, la) != 0)
            fixture_fail("a refused pre-key message changed the account");
        if (sotto_record_has_session(r))
            fixture_fail("a refused pre-key message left a session");
        free(ra);
    } else if (n > size) {
        fixture_fail("plaintext longer than its envelope");
    }
    sotto_account_free(a);
    sotto_record_free(r);
    return 0;
}
