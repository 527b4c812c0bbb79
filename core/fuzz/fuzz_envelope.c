/*
 * fuzz_envelope.c: any bytes as an envelope from alice to bob (ratchet or pre-key
 * message), decrypted against the fixture's saved state. A refusal must leave bob's
 * record and account byte for byte as they were; an acceptance must return at most
 * what the output buffer holds.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fixture *f = fixture_get();
    static uint8_t out[SOTTO_ENVELOPE_MAX];
    sotto_account *a;
    sotto_record *r;
    uint8_t *ra, *rr;
    size_t la, lr, n = 0;
    int rc;

    if (sotto_account_deserialize(&a, f->bob_account, f->bob_account_len) != 0 ||
        sotto_record_deserialize(&r, f->bob_record, f->bob_record_len) != 0)
        fixture_fail("fixture state does not load");
    rc = sotto_record_decrypt(r, a, data, size, FIX_NOW, out, sizeof out, &n);
    if (rc == 0 && n > size)
        fixture_fail("plaintext longer than its envelope");
    if (rc != 0) {
        ra = fixture_account_bytes(a, &la);
        rr = fixture_record_bytes(r, &lr);
        if (la != f->bob_account_len || memcmp(ra, f->bob_account, la) != 0 ||
            lr != f->bob_record_len || memcmp(rr, f->bob_record, lr) != 0)
            fixture_fail("a refused envelope changed the state");
        free(ra);
        free(rr);
    }
    sotto_account_free(a);
    sotto_record_free(r);
    return 0;
}
