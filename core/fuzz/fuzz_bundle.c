/*
 * fuzz_bundle.c: a peer's bundle in its byte form: decoding must round-trip, and
 * verification and X3DH with whatever decodes must fail cleanly unless it verifies.
 */
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fixture *f = fixture_get();
    sotto_bundle b;
    sotto_account *a;
    sotto_record *r;
    uint8_t again[SOTTO_BUNDLE_BYTES];
    int verified;

    if (sotto_bundle_decode(&b, data, size) != 0)
        return 0;
    sotto_bundle_encode(&b, again);
    if (size != sizeof again || memcmp(again, data, size) != 0)
        fixture_fail("bundle does not round-trip");
    verified = sotto_bundle_verify(&b) == 0;
    if (sotto_account_deserialize(&a, f->bob_account, f->bob_account_len) != 0 ||
        sotto_record_create(&r) != 0)
        fixture_fail("fixture state does not load");
    /* initiate verifies again; it must never accept what verify refused */
    if (sotto_record_initiate(r, a, &b) == 0 && !verified)
        fixture_fail("initiate accepted a bundle that does not verify");
    sotto_record_free(r);
    sotto_account_free(a);
    return 0;
}
