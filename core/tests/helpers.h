/*
 * helpers.h: shared set-up for libsotto's cmocka tests: two devices, a session between
 * them, and send/receive shorthands that fail the test on any unexpected error.
 */
#ifndef SOTTO_TEST_HELPERS_H
#define SOTTO_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sotto.h"

#define T0 1700000000ull /* a fixed "now" */

typedef struct party {
    sotto_account *acct;
    sotto_record *peer; /* the record for the other party's device */
} party;

typedef struct envl {
    uint8_t b[SOTTO_ENVELOPE_MAX];
    size_t len;
    unsigned type;
} envl;

static inline void party_new(party *p)
{
    assert_int_equal(sotto_account_create(&p->acct, T0), 0);
    assert_int_equal(sotto_record_create(&p->peer), 0);
}

static inline void party_free(party *p)
{
    sotto_account_free(p->acct);
    sotto_record_free(p->peer);
}

/* The bundle `to` would hand out, with one fresh one-time key unless `no_otk`. */
static inline void bundle_of(party *to, sotto_bundle *b, int no_otk)
{
    sotto_prekey pk;
    sotto_account_bundle(to->acct, b);
    if (!no_otk) {
        assert_int_equal(sotto_account_generate_one_time_keys(to->acct, 1, &pk), 0);
        b->has_one_time_pre_key = 1;
        b->one_time_pre_key = pk;
    }
}

static inline void connect_pair(party *a, party *b)
{
    sotto_bundle bb;
    bundle_of(b, &bb, 0);
    assert_int_equal(sotto_record_initiate(a->peer, a->acct, &bb), 0);
}

static inline void send_text(party *from, const char *text, envl *m)
{
    assert_int_equal(sotto_record_encrypt(from->peer, (const uint8_t *)text, strlen(text), m->b,
                                          sizeof m->b, &m->len, &m->type),
                     0);
}

static inline int try_recv(party *to, const envl *m, uint8_t *out, size_t *out_len)
{
    return sotto_record_decrypt(to->peer, to->acct, m->b, m->len, T0 + 60, out, SOTTO_ENVELOPE_MAX,
                                out_len);
}

static inline void recv_text(party *to, const envl *m, const char *expect)
{
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n = 0;
    int rc = try_recv(to, m, out, &n);
    assert_int_equal(rc, 0);
    assert_int_equal(n, strlen(expect));
    assert_memory_equal(out, expect, n);
}

/* Serialized bytes of a record, for byte-for-byte comparisons (caller frees). */
static inline uint8_t *record_bytes(const sotto_record *r, size_t *len)
{
    size_t cap = sotto_record_serialized_size(r);
    uint8_t *b = test_malloc(cap);
    assert_int_equal(sotto_record_serialize(r, b, cap, len), 0);
    return b;
}

static inline uint8_t *account_bytes(const sotto_account *a, size_t *len)
{
    size_t cap = sotto_account_serialized_size(a);
    uint8_t *b = test_malloc(cap);
    assert_int_equal(sotto_account_serialize(a, b, cap, len), 0);
    return b;
}

/* Save and reload a party, as a client restarting would. */
static inline void restart(party *p)
{
    size_t la, lr;
    uint8_t *a = account_bytes(p->acct, &la), *r = record_bytes(p->peer, &lr);
    party_free(p);
    assert_int_equal(sotto_account_deserialize(&p->acct, a, la), 0);
    assert_int_equal(sotto_record_deserialize(&p->peer, r, lr), 0);
    test_free(a);
    test_free(r);
}

#endif
