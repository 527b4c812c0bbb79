/*
 * fixture.h: what libsotto's fuzz targets share: a two-device conversation to throw
 * envelopes at, kept as serialized state so that every input starts from the same bytes,
 * and a check that aborts (a finding) when a refused input changed anything.
 *
 * With SOTTO_TEST_RNG (the fuzz build and the ASan test build) the fixture is seeded, so
 * a finding replays exactly and the seed envelopes written by gen_corpus.c decrypt in the
 * target; without it the keys are random and only refusals can be replayed.
 */
#ifndef SOTTO_FUZZ_FIXTURE_H
#define SOTTO_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "sotto.h"

#define FIX_NOW 1764000000ull

typedef struct fixture {
    uint8_t *bob_account, *bob_record; /* bob has talked with alice: both chains exist */
    size_t bob_account_len, bob_record_len;
    uint8_t bob_bundle[SOTTO_BUNDLE_BYTES];
    /* envelopes alice sent bob after that state was saved, on a chain bob already has:
     * env[0] is its next message (decrypt's fast path), env[2] skips env[1] */
    uint8_t env[3][512];
    size_t env_len[3];
    /* a pre-key envelope from a third device (carol) to bob, not yet received */
    uint8_t prekey[512];
    size_t prekey_len;
} fixture;

/* Built once per process (libFuzzer calls the target many times). Aborts on failure. */
const fixture *fixture_get(void);
/* Aborts the process: a fuzz finding. */
_Noreturn void fixture_fail(const char *what);
/* Serializes a record or account into a fresh malloc()ed buffer. */
uint8_t *fixture_record_bytes(const sotto_record *r, size_t *len);
uint8_t *fixture_account_bytes(const sotto_account *a, size_t *len);

#endif
