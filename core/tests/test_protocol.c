/*
 * test_protocol.c: X3DH and the Double Ratchet between two devices: ordering, loss,
 * bounds, replays, tampering, wrong recipients, substituted bundles, forgeries that must
 * leave state byte-identical, pre-key handling and simultaneous initiation.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

typedef struct duo {
    party a, b;
} duo;

static int setup(void **state)
{
    duo *d = calloc(1, sizeof *d);
    party_new(&d->a);
    party_new(&d->b);
    connect_pair(&d->a, &d->b);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    duo *d = *state;
    party_free(&d->a);
    party_free(&d->b);
    free(d);
    return 0;
}

static envl *envs(size_t n) { return test_calloc(n, sizeof(envl)); }

static void in_order(void **state)
{
    duo *d = *state;
    envl *m = envs(3);
    send_text(&d->a, "hello", &m[0]);
    assert_int_equal(m[0].type, SOTTO_ENVELOPE_PREKEY);
    assert_int_equal(m[0].len, sotto_envelope_size(5, 1));
    send_text(&d->a, "again", &m[1]);
    assert_int_equal(m[1].type, SOTTO_ENVELOPE_PREKEY); /* no reply yet */
    recv_text(&d->b, &m[0], "hello");
    recv_text(&d->b, &m[1], "again");
    send_text(&d->b, "hi", &m[2]);
    assert_int_equal(m[2].type, SOTTO_ENVELOPE_MESSAGE);
    recv_text(&d->a, &m[2], "hi");
    send_text(&d->a, "now plain", &m[0]);
    assert_int_equal(m[0].type, SOTTO_ENVELOPE_MESSAGE); /* the reply ended the pre-key phase */
    recv_text(&d->b, &m[0], "now plain");
    test_free(m);
}

static void out_of_order_and_lost(void **state)
{
    duo *d = *state;
    envl *m = envs(8);
    char t[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(t[i], sizeof t[i], "m%d", i);
        send_text(&d->a, t[i], &m[i]);
    }
    recv_text(&d->b, &m[3], t[3]);
    recv_text(&d->b, &m[0], t[0]);
    recv_text(&d->b, &m[7], t[7]);
    recv_text(&d->b, &m[5], t[5]);
    /* m1, m2, m4, m6 lost; a reply and another round still work */
    send_text(&d->b, "r", &m[1]);
    recv_text(&d->a, &m[1], "r");
    send_text(&d->a, "after", &m[2]);
    recv_text(&d->b, &m[2], "after");
    test_free(m);
}

static void max_skip_refused(void **state)
{
    duo *d = *state;
    envl *m = test_malloc(sizeof *m);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    send_text(&d->a, "first", m);
    recv_text(&d->b, m, "first");
    for (unsigned i = 0; i <= SOTTO_MAX_SKIP + 1; i++)
        send_text(&d->a, "x", m); /* skips MAX_SKIP + 1 keys on the receiver */
    assert_int_equal(try_recv(&d->b, m, out, &n), SOTTO_E_BOUNDS);
    test_free(m);
}

static void max_skip_exactly_accepted(void **state)
{
    duo *d = *state;
    envl *m = test_malloc(sizeof *m);
    send_text(&d->a, "first", m);
    recv_text(&d->b, m, "first");
    for (unsigned i = 0; i <= SOTTO_MAX_SKIP; i++)
        send_text(&d->a, "edge", m); /* skips exactly MAX_SKIP keys */
    recv_text(&d->b, m, "edge");
    test_free(m);
}

static void replay_refused_also_after_restore(void **state)
{
    duo *d = *state;
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    send_text(&d->a, "one", &m[0]);
    send_text(&d->a, "two", &m[1]);
    recv_text(&d->b, &m[1], "two");
    recv_text(&d->b, &m[0], "one"); /* from the skipped store */
    assert_int_equal(try_recv(&d->b, &m[0], out, &n), SOTTO_E_REPLAY);
    assert_int_equal(try_recv(&d->b, &m[1], out, &n), SOTTO_E_REPLAY);
    restart(&d->b);
    assert_int_equal(try_recv(&d->b, &m[0], out, &n), SOTTO_E_REPLAY);
    assert_int_equal(try_recv(&d->b, &m[1], out, &n), SOTTO_E_REPLAY);
    test_free(m);
}

/* Every single-bit flip anywhere in the envelope is refused and changes nothing. */
static void bit_flips_refused(void **state)
{
    duo *d = *state;
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n, before_len, after_len, acct_len, acct_after_len;
    uint8_t *before, *after, *acct, *acct_after;

    send_text(&d->a, "bits", &m[0]);
    before = record_bytes(d->b.peer, &before_len);
    acct = account_bytes(d->b.acct, &acct_len);
    for (size_t i = 0; i < m[0].len * 8; i++) {
        m[1] = m[0];
        m[1].b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_not_equal(try_recv(&d->b, &m[1], out, &n), 0);
    }
    after = record_bytes(d->b.peer, &after_len);
    acct_after = account_bytes(d->b.acct, &acct_after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    assert_int_equal(acct_len, acct_after_len);
    assert_memory_equal(acct, acct_after, acct_len);
    recv_text(&d->b, &m[0], "bits");
    /* and a regular (non-pre-key) message too */
    send_text(&d->b, "back", &m[0]);
    for (size_t i = 0; i < m[0].len * 8; i += 3) {
        m[1] = m[0];
        m[1].b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_not_equal(try_recv(&d->a, &m[1], out, &n), 0);
    }
    recv_text(&d->a, &m[0], "back");
    test_free(before);
    test_free(after);
    test_free(acct);
    test_free(acct_after);
    test_free(m);
}

/* The associated data binds both devices: a session whose AD differs cannot decrypt. */
static void associated_data_bound(void **state)
{
    duo *d = *state;
    envl *m = envs(1);
    uint8_t out[SOTTO_ENVELOPE_MAX], *rec;
    size_t n, len;
    sotto_record *copy;

    send_text(&d->a, "ad", &m[0]);
    recv_text(&d->b, &m[0], "ad");
    send_text(&d->a, "ad2", &m[0]);
    rec = record_bytes(d->b.peer, &len);
    rec[4 + 1 + 1 + 64 + 1 + 1 + 5] ^= 0x01; /* first session's AD, inside IK_I */
    assert_int_equal(sotto_record_deserialize(&copy, rec, len), 0);
    assert_int_not_equal(
        sotto_record_decrypt(copy, d->b.acct, m[0].b, m[0].len, T0, out, sizeof out, &n), 0);
    sotto_record_free(copy);
    recv_text(&d->b, &m[0], "ad2");
    test_free(rec);
    test_free(m);
}

static void other_device_refused(void **state)
{
    duo *d = *state;
    party c; /* another device of b's user, with its own keys */
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;

    party_new(&c);
    send_text(&d->a, "for b only", &m[0]);
    assert_int_not_equal(try_recv(&c, &m[0], out, &n), 0);
    recv_text(&d->b, &m[0], "for b only");
    send_text(&d->a, "still b", &m[1]);
    assert_int_not_equal(try_recv(&c, &m[1], out, &n), 0);
    recv_text(&d->b, &m[1], "still b");
    party_free(&c);
    test_free(m);
}

static void substituted_bundles_refused(void **state)
{
    party a, b, eve;
    sotto_bundle bb, eb, x;
    (void)state;
    party_new(&a);
    party_new(&b);
    party_new(&eve);
    bundle_of(&b, &bb, 0);
    bundle_of(&eve, &eb, 0);
    assert_int_equal(sotto_bundle_verify(&bb), 0);
    /* Eve's pre-key under Bob's identity */
    x = bb;
    memcpy(x.signed_pre_key, eb.signed_pre_key, 32);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &x), SOTTO_E_AUTH);
    /* Bob's identity key with Eve's signing key (unknown key share) */
    x = bb;
    memcpy(x.signing_key, eb.signing_key, 32);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &x), SOTTO_E_AUTH);
    /* Eve's identity key claimed by Bob's signing key */
    x = eb;
    memcpy(x.signing_key, bb.signing_key, 32);
    memcpy(x.identity_signature, bb.identity_signature, 64);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &x), SOTTO_E_AUTH);
    /* a changed key id breaks the pre-key signature */
    x = bb;
    x.signed_pre_key_id++;
    assert_int_equal(sotto_bundle_verify(&x), SOTTO_E_AUTH);
    /* low-order keys */
    x = bb;
    memset(x.one_time_pre_key.public_key, 0, 32);
    assert_int_equal(sotto_bundle_verify(&x), SOTTO_E_INVALID);
    x = bb;
    memset(x.identity_key, 0, 32);
    x.identity_key[0] = 1;
    assert_int_equal(sotto_bundle_verify(&x), SOTTO_E_INVALID);
    /* pinned: once a session with Bob exists, Eve's bundle for Bob's device is refused */
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &bb), 0);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &eb), SOTTO_E_UNTRUSTED);
    assert_int_equal(sotto_record_has_session(a.peer), 1);
    party_free(&a);
    party_free(&b);
    party_free(&eve);
}

static void check_forgery_unchanged(party *rx, const envl *forged)
{
    uint8_t out[SOTTO_ENVELOPE_MAX], *before, *after;
    size_t n, lb, la;
    before = record_bytes(rx->peer, &lb);
    assert_int_not_equal(try_recv(rx, forged, out, &n), 0);
    after = record_bytes(rx->peer, &la);
    assert_int_equal(lb, la);
    assert_memory_equal(before, after, lb);
    test_free(before);
    test_free(after);
}

/* Header fields at fixed offsets of a type-2 envelope. */
#define OFF_DH 2
#define OFF_PN 34
#define OFF_N 38

static void forgeries_leave_state_identical(void **state)
{
    duo *d = *state;
    envl *m = envs(2);
    send_text(&d->a, "setup", &m[0]);
    recv_text(&d->b, &m[0], "setup");
    send_text(&d->b, "reply", &m[0]);
    recv_text(&d->a, &m[0], "reply");
    send_text(&d->a, "genuine", &m[0]);
    assert_int_equal(m[0].type, SOTTO_ENVELOPE_MESSAGE);
    /* a new ratchet key */
    m[1] = m[0];
    randombytes_buf(m[1].b + OFF_DH, 32);
    check_forgery_unchanged(&d->b, &m[1]);
    /* N = MAX_SKIP (many keys would be derived) */
    m[1] = m[0];
    m[1].b[OFF_N] = 0, m[1].b[OFF_N + 1] = 0, m[1].b[OFF_N + 2] = SOTTO_MAX_SKIP >> 8,
    m[1].b[OFF_N + 3] = SOTTO_MAX_SKIP & 0xff;
    check_forgery_unchanged(&d->b, &m[1]);
    /* a huge PN, with a new ratchet key */
    m[1] = m[0];
    memset(m[1].b + OFF_PN, 0xff, 4);
    randombytes_buf(m[1].b + OFF_DH, 32);
    check_forgery_unchanged(&d->b, &m[1]);
    /* a bad tag */
    m[1] = m[0];
    m[1].b[m[1].len - 1] ^= 0x80;
    check_forgery_unchanged(&d->b, &m[1]);
    /* truncated */
    m[1] = m[0];
    m[1].len -= 160;
    check_forgery_unchanged(&d->b, &m[1]);
    recv_text(&d->b, &m[0], "genuine");
    test_free(m);
}

static void three_dh_and_one_time_key_use(void **state)
{
    party a, b, c;
    sotto_bundle bb;
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    party_new(&c);
    bundle_of(&b, &bb, 1); /* no one-time key left: 3-DH */
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &bb), 0);
    send_text(&a, "3dh", &m[0]);
    recv_text(&b, &m[0], "3dh");
    /* 4-DH: the one-time key is deleted on first use */
    bundle_of(&b, &bb, 0);
    assert_int_equal(sotto_account_one_time_key_count(b.acct), 1);
    assert_int_equal(sotto_record_initiate(c.peer, c.acct, &bb), 0);
    send_text(&c, "4dh", &m[1]);
    {
        sotto_record *rc_b;
        assert_int_equal(sotto_record_create(&rc_b), 0);
        assert_int_equal(
            sotto_record_decrypt(rc_b, b.acct, m[1].b, m[1].len, T0, out, sizeof out, &n), 0);
        assert_int_equal(sotto_account_one_time_key_count(b.acct), 0);
        /* the same pre-key message to a fresh record: refused by the replay cache, and the
         * one-time key is gone anyway once the cache forgets (spk pruned) */
        sotto_record_free(rc_b);
        assert_int_equal(sotto_record_create(&rc_b), 0);
        assert_int_equal(
            sotto_record_decrypt(rc_b, b.acct, m[1].b, m[1].len, T0, out, sizeof out, &n),
            SOTTO_E_REPLAY);
        sotto_record_free(rc_b);
        /* 3-DH replay to a fresh record: the replay cache refuses the (SPK, EK) pair */
        assert_int_equal(sotto_record_create(&rc_b), 0);
        assert_int_equal(
            sotto_record_decrypt(rc_b, b.acct, m[0].b, m[0].len, T0, out, sizeof out, &n),
            SOTTO_E_REPLAY);
        sotto_record_free(rc_b);
    }
    party_free(&a);
    party_free(&b);
    party_free(&c);
    test_free(m);
}

/* The initiator repeats the pre-key header; the repeat goes to the existing session. */
static void prekey_repeat_routed_to_session(void **state)
{
    duo *d = *state;
    envl *m = envs(3);
    send_text(&d->a, "p1", &m[0]);
    send_text(&d->a, "p2", &m[1]);
    assert_int_equal(m[1].type, SOTTO_ENVELOPE_PREKEY);
    recv_text(&d->b, &m[0], "p1");
    restart(&d->b);
    recv_text(&d->b, &m[1], "p2"); /* same EK: no second X3DH, no replay error */
    send_text(&d->b, "r", &m[2]);
    recv_text(&d->a, &m[2], "r");
    test_free(m);
}

static void signing_key_pinned_for_prekey(void **state)
{
    duo *d = *state;
    party eve;
    sotto_bundle bb;
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    send_text(&d->a, "pin", &m[0]);
    recv_text(&d->b, &m[0], "pin");
    /* Eve, pretending to be a's device to b (the server routes her message to b's record
     * for a's device), cannot: b pinned a's keys. */
    party_new(&eve);
    bundle_of(&d->b, &bb, 0);
    assert_int_equal(sotto_record_initiate(eve.peer, eve.acct, &bb), 0);
    send_text(&eve, "i am a", &m[1]);
    assert_int_equal(try_recv(&d->b, &m[1], out, &n), SOTTO_E_UNTRUSTED);
    party_free(&eve);
    test_free(m);
}

static void simultaneous_initiation(void **state)
{
    party a, b;
    envl *m = envs(4);
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    connect_pair(&b, &a);
    send_text(&a, "from a", &m[0]);
    send_text(&b, "from b", &m[1]);
    recv_text(&b, &m[0], "from a"); /* b's current becomes the session a started */
    recv_text(&a, &m[1], "from b"); /* and a's the one b started */
    /* Both now send on the session they last decrypted with; the other side still has
     * it (archived or current) and decrypts, after which both converge. */
    for (int round = 0; round < 3; round++) {
        send_text(&a, "a again", &m[2]);
        send_text(&b, "b again", &m[3]);
        recv_text(&b, &m[2], "a again");
        recv_text(&a, &m[3], "b again");
    }
    restart(&a);
    restart(&b);
    send_text(&a, "after restart", &m[2]);
    recv_text(&b, &m[2], "after restart");
    party_free(&a);
    party_free(&b);
    test_free(m);
}

static void sizes_and_buffers(void **state)
{
    duo *d = *state;
    uint8_t big[SOTTO_PLAINTEXT_MAX + 1] = {0}, out[SOTTO_ENVELOPE_MAX];
    size_t n;
    unsigned type;
    assert_int_equal(sotto_record_encrypt(d->a.peer, big, sizeof big, out, sizeof out, &n, &type),
                     SOTTO_E_BOUNDS);
    assert_int_equal(sotto_record_encrypt(d->a.peer, big, 10, out, 100, &n, &type), SOTTO_E_BUFFER);
    assert_int_equal(
        sotto_record_encrypt(d->a.peer, big, SOTTO_PLAINTEXT_MAX, out, sizeof out, &n, &type), 0);
    assert_int_equal(n, SOTTO_ENVELOPE_MAX);
    assert_true(n <= 65536);
    assert_int_equal(sotto_envelope_max(), SOTTO_ENVELOPE_MAX);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(in_order),
        T(out_of_order_and_lost),
        T(max_skip_refused),
        T(max_skip_exactly_accepted),
        T(replay_refused_also_after_restore),
        T(bit_flips_refused),
        T(associated_data_bound),
        T(other_device_refused),
        cmocka_unit_test(substituted_bundles_refused),
        T(forgeries_leave_state_identical),
        cmocka_unit_test(three_dh_and_one_time_key_use),
        T(prekey_repeat_routed_to_session),
        T(signing_key_pinned_for_prekey),
        cmocka_unit_test(simultaneous_initiation),
        T(sizes_and_buffers),
    };
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
