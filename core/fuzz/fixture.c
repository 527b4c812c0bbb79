/*
 * fixture.c: the conversation the envelope and pre-key targets decrypt against
 * (see fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

void fixture_fail(const char *what)
{
    fprintf(stderr, "fuzz finding: %s\n", what);
    abort();
}

static void must(int rc, const char *what)
{
    if (rc != 0)
        fixture_fail(what);
}

uint8_t *fixture_record_bytes(const sotto_record *r, size_t *len)
{
    size_t cap = sotto_record_serialized_size(r);
    uint8_t *b = malloc(cap ? cap : 1);
    if (b == NULL || sotto_record_serialize(r, b, cap, len) != 0)
        fixture_fail("record serialize");
    return b;
}

uint8_t *fixture_account_bytes(const sotto_account *a, size_t *len)
{
    size_t cap = sotto_account_serialized_size(a);
    uint8_t *b = malloc(cap ? cap : 1);
    if (b == NULL || sotto_account_serialize(a, b, cap, len) != 0)
        fixture_fail("account serialize");
    return b;
}

static void send(sotto_record *r, const char *text, uint8_t *env, size_t *len)
{
    unsigned type;
    must(sotto_record_encrypt(r, (const uint8_t *)text, strlen(text), env, 512, len, &type),
         "fixture encrypt");
}

static void recv(sotto_record *r, sotto_account *a, const uint8_t *env, size_t len)
{
    uint8_t out[512];
    size_t n;
    must(sotto_record_decrypt(r, a, env, len, FIX_NOW, out, sizeof out, &n), "fixture decrypt");
}

static void build(fixture *f)
{
    sotto_account *alice, *bob, *carol;
    sotto_record *ab, *ba, *cb;
    sotto_bundle b;
    sotto_prekey otk;
    uint8_t env[512];
    size_t len;

    must(sotto_init(), "init");
#ifdef SOTTO_TEST_RNG
    static const uint8_t seed[32] = "Sotto-v1-fuzz-fixture-seed......";
    sotto_test_rng_seed(seed);
#endif
    must(sotto_account_create(&alice, FIX_NOW), "account");
    must(sotto_account_create(&bob, FIX_NOW), "account");
    must(sotto_account_create(&carol, FIX_NOW), "account");
    must(sotto_record_create(&ab), "record");
    must(sotto_record_create(&ba), "record");
    must(sotto_record_create(&cb), "record");
    sotto_account_bundle(bob, &b);
    must(sotto_account_generate_one_time_keys(bob, 1, &otk), "otk");
    b.has_one_time_pre_key = 1;
    b.one_time_pre_key = otk;
    must(sotto_record_initiate(ab, alice, &b), "initiate");
    send(ab, "hello bob", env, &len);
    recv(ba, bob, env, len);
    send(ba, "hello alice", env, &len);
    recv(ab, alice, env, len);
    /* bob already has alice's new chain, so env[0] takes the fast path (next N) */
    send(ab, "zero", env, &len);
    recv(ba, bob, env, len);
    f->bob_account = fixture_account_bytes(bob, &f->bob_account_len);
    f->bob_record = fixture_record_bytes(ba, &f->bob_record_len);
    sotto_account_bundle(bob, &b);
    sotto_bundle_encode(&b, f->bob_bundle);
    send(ab, "one", f->env[0], &f->env_len[0]);
    send(ab, "two", f->env[1], &f->env_len[1]);
    send(ab, "three", f->env[2], &f->env_len[2]);
    must(sotto_record_initiate(cb, carol, &b), "initiate carol"); /* 3-DH: no one-time key */
    send(cb, "hi bob, carol here", f->prekey, &f->prekey_len);
#ifdef SOTTO_TEST_RNG
    sotto_test_rng_seed(NULL);
#endif
    sotto_account_free(alice);
    sotto_account_free(bob);
    sotto_account_free(carol);
    sotto_record_free(ab);
    sotto_record_free(ba);
    sotto_record_free(cb);
}

const fixture *fixture_get(void)
{
    static fixture f;
    static int ready;
    if (!ready) {
        build(&f);
        ready = 1;
    }
    return &f;
}
