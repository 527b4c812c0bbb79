/*
 * fuzz_state.c: the saved-state parsers. The first input byte picks the account or the
 * record parser; whatever loads must serialize back to exactly the input (the format
 * has one encoding), and a loaded record must take an envelope without crashing. State of
 * the previous version (1) loads and is written as the current one: that output must then
 * round-trip.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_bytes(const uint8_t *x, size_t nx, const uint8_t *y, size_t ny, const char *what)
{
    if (nx != ny || memcmp(x, y, nx) != 0)
        fixture_fail(what);
}

static int old_version(const uint8_t *data, size_t size) { return size > 4 && data[4] == 1; }

static void account(const uint8_t *data, size_t size)
{
    sotto_account *a;
    uint8_t *b;
    size_t n;
    if (sotto_account_deserialize(&a, data, size) != 0)
        return;
    b = fixture_account_bytes(a, &n);
    sotto_account_free(a);
    if (old_version(data, size)) {
        if (old_version(b, n) || sotto_account_deserialize(&a, b, n) != 0)
            fixture_fail("upgraded account state does not load");
        sotto_account_free(a);
        account(b, n);
    } else {
        same_bytes(b, n, data, size, "account state does not round-trip");
    }
    free(b);
}

static void record(const uint8_t *data, size_t size)
{
    const fixture *f = fixture_get();
    static uint8_t out[SOTTO_ENVELOPE_MAX];
    sotto_account *a;
    sotto_record *r;
    uint8_t *b;
    size_t n;
    int rc;

    if (sotto_record_deserialize(&r, data, size) != 0)
        return;
    b = fixture_record_bytes(r, &n);
    if (old_version(data, size)) {
        sotto_record *r2;
        if (old_version(b, n) || sotto_record_deserialize(&r2, b, n) != 0)
            fixture_fail("upgraded record state does not load");
        sotto_record_free(r2);
        record(b, n);
    } else {
        same_bytes(b, n, data, size, "record state does not round-trip");
    }
    free(b);
    /* A loaded record must be safe to use: decrypt the fixture's next envelope with it. */
    if (sotto_account_deserialize(&a, f->bob_account, f->bob_account_len) != 0)
        fixture_fail("fixture state does not load");
    rc = sotto_record_decrypt(r, a, f->env[0], f->env_len[0], FIX_NOW, out, sizeof out, &n);
    (void)rc; /* either outcome is fine: only memory errors are findings here */
    sotto_account_free(a);
    sotto_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fixture_get(); /* sotto_init, and the same keys in every run */
    if (size == 0)
        return 0;
    if (data[0] & 1)
        record(data + 1, size - 1);
    else
        account(data + 1, size - 1);
    return 0;
}
