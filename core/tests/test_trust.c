/*
 * test_trust.c: the checks a mutation of the core must not survive (core/tests/mutate.sh
 * applies each mutation and expects this suite to fail): a forged next message leaves its
 * chain as it was, a bad initiator identity signature and a reflected pre-key message are
 * refused, the skipped-key store's bound and age, the listed signing key for a device
 * (initiate_expected, decrypt_expected), the pending-session age, the replay cache under a
 * flood, one-time pre-key exhaustion, claim grace and recovery, the rotation schedule.
 * Some set-ups reach into the library (internal.h) to build what the API refuses to build.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "internal.h"

static envl *envs(size_t n) { return test_calloc(n, sizeof(envl)); }

static int recv_at(party *to, const envl *m, uint64_t now, size_t *n)
{
    static uint8_t out[SOTTO_ENVELOPE_MAX];
    return sotto_record_decrypt(to->peer, to->acct, m->b, m->len, now, out, sizeof out, n);
}

/* Record and account of `p` byte for byte as saved before and after `rc_expect`ing. */
typedef struct snap {
    uint8_t *rec, *acct;
    size_t lr, la;
} snap;
static void snap_take(snap *s, const party *p)
{
    s->rec = record_bytes(p->peer, &s->lr);
    s->acct = account_bytes(p->acct, &s->la);
}
static void snap_same(snap *s, const party *p)
{
    snap now;
    snap_take(&now, p);
    assert_int_equal(s->lr, now.lr);
    assert_memory_equal(s->rec, now.rec, s->lr);
    assert_int_equal(s->la, now.la);
    assert_memory_equal(s->acct, now.acct, s->la);
    test_free(now.rec);
    test_free(now.acct);
    test_free(s->rec);
    test_free(s->acct);
}

/* ------------------------------------------------------------ the fast path (decrypt_next) */

/* A damaged envelope with exactly the next N of a chain the receiver already has takes the
 * fast path; refused, it must leave the chain key and counter (the whole state) unchanged,
 * and the genuine message must still decrypt. */
static void forged_next_message_leaves_chain(void **state)
{
    party a, b;
    envl *m = envs(2);
    snap s;
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    send_text(&a, "first", &m[0]);
    recv_text(&b, &m[0], "first"); /* b now has a's chain at N = 1 */
    for (int kind = 0; kind < 2; kind++) {
        send_text(&a, kind ? "plain next" : "pre-key next", &m[0]);
        assert_int_equal(m[0].type, kind ? SOTTO_ENVELOPE_MESSAGE : SOTTO_ENVELOPE_PREKEY);
        m[1] = m[0];
        m[1].b[m[1].len - 1] ^= 0x01; /* bad tag, same header: N is the next one */
        snap_take(&s, &b);
        assert_int_equal(recv_at(&b, &m[1], T0 + 60, &n), SOTTO_E_AUTH);
        snap_same(&s, &b);
        recv_text(&b, &m[0], kind ? "plain next" : "pre-key next");
        if (!kind) { /* a reply: a's next messages are type 2 on a new chain */
            send_text(&b, "reply", &m[1]);
            recv_text(&a, &m[1], "reply");
            send_text(&a, "new chain", &m[1]);
            recv_text(&b, &m[1], "new chain");
        }
    }
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* ------------------------------------------------------------ pre-key message checks */

/* An initiator whose identity signature does not verify: the AEAD is intact (the
 * signature is part of the associated data the initiator used), only the signature is bad. */
static void bad_identity_signature_refused(void **state)
{
    party a, b;
    envl *m = envs(1);
    snap s;
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    a.acct->id_sig[5] ^= 0x10;
    connect_pair(&a, &b);
    send_text(&a, "who am i", &m[0]);
    snap_take(&s, &b);
    assert_int_equal(recv_at(&b, &m[0], T0 + 60, &n), SOTTO_E_AUTH);
    snap_same(&s, &b);
    assert_int_equal(sotto_record_has_session(b.peer), 0);
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* A device's own pre-key message reflected back to it. initiate refuses a session with
 * oneself, so the session is built here from the library's parts as initiate would. */
static void reflected_prekey_refused(void **state)
{
    party a;
    sotto_bundle own;
    envl *m = envs(1);
    uint8_t ek_pk[32], ek_sk[32], sk[32];
    session *s;
    snap sn;
    size_t n;
    (void)state;
    party_new(&a);
    bundle_of(&a, &own, 0);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &own), SOTTO_E_INVALID);
    s = session_alloc();
    assert_non_null(s);
    x25519_keypair(ek_pk, ek_sk);
    assert_int_equal(x3dh_initiator(sk, a.acct, ek_sk, &own), 0);
    x3dh_ad(s->c.ad, a.acct->ik_pk, a.acct->sign_pk, own.identity_key, own.signing_key);
    ratchet_init_initiator(&s->c, sk, own.signed_pre_key);
    s->c.pending = 1;
    memcpy(s->c.base_key, ek_pk, 32);
    s->c.pending_spk_id = own.signed_pre_key_id;
    s->c.pending_has_opk = 1;
    s->c.pending_opk_id = own.one_time_pre_key.key_id;
    memcpy(s->c.pending_sig, a.acct->id_sig, 64);
    memcpy(a.peer->peer_ik, own.identity_key, 32);
    memcpy(a.peer->peer_sk, own.signing_key, 32);
    a.peer->pinned = 1;
    record_push(a.peer, s);
    send_text(&a, "echo", &m[0]);
    assert_int_equal(m[0].type, SOTTO_ENVELOPE_PREKEY);
    /* delivered back to a, into a fresh record */
    sotto_record_free(a.peer);
    assert_int_equal(sotto_record_create(&a.peer), 0);
    snap_take(&sn, &a);
    assert_int_equal(recv_at(&a, &m[0], T0 + 60, &n), SOTTO_E_INVALID);
    snap_same(&sn, &a);
    sodium_memzero(ek_sk, sizeof ek_sk);
    sodium_memzero(sk, sizeof sk);
    party_free(&a);
    test_free(m);
}

/* ------------------------------------------------------------ skipped keys */

/* 2,997 skipped keys in one chain (three jumps under MAX_SKIP): the store keeps the newest
 * 2,000; the oldest are gone (refused), the ones kept still decrypt. */
static void skipped_key_store_bounded(void **state)
{
    party a, b;
    envl *m = envs(6), *tmp = envs(1);
    size_t n;
    /* N of the messages kept: 1 (dropped), 997 (dropped), 998 (kept), jumps 1001, 2002, 3000 */
    const uint32_t keep[6] = {1, 997, 998, 1001, 2002, 3000};
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    send_text(&a, "0", tmp);
    recv_text(&b, tmp, "0");
    for (uint32_t i = 1, k = 0; i <= 3000; i++) {
        send_text(&a, "x", k < 6 && keep[k] == i ? &m[k] : tmp);
        k += k < 6 && keep[k] == i;
    }
    recv_text(&b, &m[3], "x");
    recv_text(&b, &m[4], "x");
    recv_text(&b, &m[5], "x");
    assert_int_equal(b.peer->s[0]->n_skipped, SOTTO_MAX_SKIPPED_KEYS);
    assert_int_equal(recv_at(&b, &m[0], T0 + 60, &n), SOTTO_E_REPLAY);
    assert_int_equal(recv_at(&b, &m[1], T0 + 60, &n), SOTTO_E_REPLAY);
    recv_text(&b, &m[2], "x");
    assert_int_equal(b.peer->s[0]->n_skipped, SOTTO_MAX_SKIPPED_KEYS - 1);
    party_free(&a);
    party_free(&b);
    test_free(m);
    test_free(tmp);
}

/* A skipped key lives SOTTO_SKIPPED_KEY_TTL: after that its message is refused and the
 * next successful decryption removes it from the saved state. */
static void skipped_key_ttl(void **state)
{
    party a, b;
    envl *m = envs(4);
    size_t n;
    const uint64_t t = T0 + 60, dead = T0 + 60 + SOTTO_SKIPPED_KEY_TTL;
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    send_text(&a, "0", &m[0]);
    send_text(&a, "1", &m[1]);
    send_text(&a, "2", &m[2]);
    send_text(&a, "3", &m[3]);
    assert_int_equal(recv_at(&b, &m[1], t, &n), 0);     /* m0 skipped at t */
    assert_int_equal(recv_at(&b, &m[3], t + 1, &n), 0); /* m2 skipped at t + 1 */
    assert_int_equal(b.peer->s[0]->n_skipped, 2);
    assert_int_equal(recv_at(&b, &m[0], dead - 1, &n), 0); /* one second before: still fine */
    assert_int_equal(recv_at(&b, &m[2], dead + 1, &n), SOTTO_E_REPLAY);
    assert_int_equal(b.peer->s[0]->n_skipped, 1); /* refused, so nothing changed yet */
    send_text(&b, "reply", &m[0]);
    recv_text(&a, &m[0], "reply");
    send_text(&a, "later", &m[0]);
    assert_int_equal(recv_at(&b, &m[0], dead + 1, &n), 0);
    assert_int_equal(b.peer->s[0]->n_skipped, 0); /* the expired key is gone from state */
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* ------------------------------------------------------------ safety numbers */

/* The known answer, computed independently by core/tests/safety.test.mjs (Node's SHA-512):
 * a change of iteration count, key order, user-id encoding or digit extraction fails. */
static void safety_number_known_answer(void **state)
{
    static const char *UA = "0190a6f2-7c1e-7d3a-9b2c-1f2e3d4c5b6a";
    static const char *UB = "0190A6F2-7C1E-7D3A-9B2C-AAAAAAAAAAAA";
    static const char *WANT = "021372207799874091451092130564667833076857263003420109254208";
    static const char *WANT_QR =
        "010190a6f27c1e7d3a9b2caaaaaaaaaaaa518f8aff190c2d7185bd44af6666a26ba1e60d59acc4971669f4a4"
        "0e72e4447e0190a6f27c1e7d3a9b2c1f2e3d4c5b6a325245bc9f4e5a853e50f395970c8fc50a85d5365f3713"
        "3e2426b2fb0ba05043";
    uint8_t ka[96], kb[64], qr[SOTTO_SAFETY_QRBYTES];
    char s[61], hex[2 * SOTTO_SAFETY_QRBYTES + 1];
    (void)state;
    for (int i = 0; i < 96; i++)
        ka[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < 64; i++)
        kb[i] = (uint8_t)(i * 13 + 5);
    assert_int_equal(sotto_safety_number(s, UA, ka, 3, UB, kb, 2), 0);
    assert_string_equal(s, WANT);
    assert_int_equal(sotto_safety_qr(qr, UA, ka, 3, UB, kb, 2), 0);
    sodium_bin2hex(hex, sizeof hex, qr, sizeof qr);
    assert_string_equal(hex, WANT_QR);
}

/* ------------------------------------------------------------ the listed signing key */

static void listed_key_enforced_on_initiate(void **state)
{
    party a, b, eve;
    sotto_bundle bb;
    uint8_t ik[32], sk[32];
    snap s;
    (void)state;
    party_new(&a);
    party_new(&b);
    party_new(&eve);
    bundle_of(&b, &bb, 0);
    /* the list names eve's key for this device, the claimed bundle is b's: refused */
    snap_take(&s, &a);
    assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &bb, eve.acct->sign_pk, T0),
                     SOTTO_E_KEY_MISMATCH);
    snap_same(&s, &a);
    assert_int_equal(sotto_record_peer_keys(a.peer, ik, sk), SOTTO_E_NO_SESSION);
    assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &bb, NULL, T0),
                     SOTTO_E_INVALID);
    assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &bb, bb.signing_key, T0), 0);
    assert_int_equal(sotto_record_peer_keys(a.peer, ik, sk), 0);
    assert_memory_equal(sk, bb.signing_key, 32);
    /* a record pinned to b, listed now as eve's device, with eve's own bundle: refused as a
     * mismatch with the record (not re-pinned) */
    {
        sotto_bundle eb;
        bundle_of(&eve, &eb, 0);
        assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &eb, eb.signing_key, T0),
                         SOTTO_E_KEY_MISMATCH);
    }
    assert_string_equal(sotto_strerror(SOTTO_E_KEY_MISMATCH),
                        "peer key differs from the listed one");
    party_free(&a);
    party_free(&b);
    party_free(&eve);
}

static void listed_key_enforced_on_receive(void **state)
{
    party a, b, eve;
    envl *m = envs(2);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    snap s;
    (void)state;
    party_new(&a);
    party_new(&b);
    party_new(&eve);
    connect_pair(&a, &b);
    send_text(&a, "pre-key", &m[0]);
    /* the server says the sending device's key is eve's: nothing is committed */
    snap_take(&s, &b);
    assert_int_equal(sotto_record_decrypt_expected(b.peer, b.acct, m[0].b, m[0].len, T0,
                                                   eve.acct->sign_pk, out, sizeof out, &n),
                     SOTTO_E_KEY_MISMATCH);
    snap_same(&s, &b);
    assert_int_equal(sotto_record_decrypt_expected(b.peer, b.acct, m[0].b, m[0].len, T0, NULL, out,
                                                   sizeof out, &n),
                     SOTTO_E_INVALID);
    assert_int_equal(sotto_record_decrypt_expected(b.peer, b.acct, m[0].b, m[0].len, T0,
                                                   a.acct->sign_pk, out, sizeof out, &n),
                     0);
    /* a type-2 message to a record pinned to a's key, the list naming another key */
    send_text(&b, "reply", &m[1]);
    snap_take(&s, &a);
    assert_int_equal(sotto_record_decrypt_expected(a.peer, a.acct, m[1].b, m[1].len, T0,
                                                   eve.acct->sign_pk, out, sizeof out, &n),
                     SOTTO_E_KEY_MISMATCH);
    snap_same(&s, &a);
    assert_int_equal(sotto_record_decrypt_expected(a.peer, a.acct, m[1].b, m[1].len, T0,
                                                   b.acct->sign_pk, out, sizeof out, &n),
                     0);
    party_free(&a);
    party_free(&b);
    party_free(&eve);
    test_free(m);
}

/* ------------------------------------------------------------ pending sessions */

static int enc_at(party *p, uint64_t now, envl *m)
{
    return sotto_record_encrypt_at(p->peer, (const uint8_t *)"x", 1, now, m->b, sizeof m->b,
                                   &m->len, &m->type);
}

static void pending_session_max_age(void **state)
{
    party a, b;
    sotto_bundle bb;
    envl *m = envs(1);
    (void)state;
    party_new(&a);
    party_new(&b);
    bundle_of(&b, &bb, 0);
    assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &bb, bb.signing_key, T0), 0);
    assert_int_equal(enc_at(&a, T0 + SOTTO_PENDING_MAX_AGE - 1, m), 0);
    assert_int_equal(sotto_record_has_session_at(a.peer, T0 + SOTTO_PENDING_MAX_AGE - 1), 1);
    assert_int_equal(sotto_record_has_session_at(a.peer, T0 + SOTTO_PENDING_MAX_AGE), 0);
    assert_int_equal(enc_at(&a, T0 + SOTTO_PENDING_MAX_AGE, m), SOTTO_E_NO_SESSION);
    /* the caller claims a new bundle and starts again */
    bundle_of(&b, &bb, 0);
    assert_int_equal(sotto_record_initiate_expected(a.peer, a.acct, &bb, bb.signing_key,
                                                    T0 + SOTTO_PENDING_MAX_AGE),
                     0);
    assert_int_equal(enc_at(&a, T0 + SOTTO_PENDING_MAX_AGE + 1, m), 0);
    assert_int_equal(m->type, SOTTO_ENVELOPE_PREKEY);
    recv_text(&b, m, "x");
    /* answered: no age limit any more */
    send_text(&b, "reply", m);
    recv_text(&a, m, "reply");
    assert_int_equal(enc_at(&a, T0 + 400ull * 86400, m), 0);
    assert_int_equal(m->type, SOTTO_ENVELOPE_MESSAGE);
    /* the deprecated initiate knows no time: the age counts from the first encrypt_at, and
     * survives a restart */
    sotto_record_free(a.peer);
    assert_int_equal(sotto_record_create(&a.peer), 0);
    bundle_of(&b, &bb, 0);
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &bb), 0);
    assert_int_equal(enc_at(&a, T0 + 1000, m), 0);
    restart(&a);
    assert_int_equal(enc_at(&a, T0 + 1000 + SOTTO_PENDING_MAX_AGE - 1, m), 0);
    assert_int_equal(enc_at(&a, T0 + 1000 + SOTTO_PENDING_MAX_AGE, m), SOTTO_E_NO_SESSION);
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* ------------------------------------------------------------ replay cache */

/* Fills b's replay cache as a flood of accepted 3-DH pre-key messages would. Direct: a real
 * flood is 16,384 X3DH runs, the same entries. */
static void flood(sotto_account *acct, uint32_t spk_id, uint32_t count)
{
    uint8_t ek[32];
    for (uint32_t i = 0; i < count; i++) {
        randombytes_buf(ek, sizeof ek);
        assert_int_equal(account_replay_room(acct, spk_id, &(uint32_t){0}), 0);
        account_replay_add(acct, spk_id, ek, 0, 0);
    }
}

static void prekey_from(party *from, party *to, int otk, envl *m, const char *text)
{
    sotto_bundle bb;
    bundle_of(to, &bb, !otk);
    assert_int_equal(sotto_record_initiate(from->peer, from->acct, &bb), 0);
    send_text(from, text, m);
}

static int deliver_fresh(party *to, const envl *m)
{
    size_t n;
    sotto_record_free(to->peer);
    assert_int_equal(sotto_record_create(&to->peer), 0);
    return recv_at(to, m, T0 + 60, &n);
}

static void replay_cache_survives_flood(void **state)
{
    party b, c[4];
    envl *m = envs(4);
    uint32_t spk1;
    snap s;
    (void)state;
    party_new(&b);
    for (int i = 0; i < 4; i++)
        party_new(&c[i]);
    spk1 = b.acct->spk[0].id;
    prekey_from(&c[0], &b, 0, &m[0], "old 3-DH");
    assert_int_equal(deliver_fresh(&b, &m[0]), 0);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_REPLAY);
    assert_int_equal(sotto_account_signed_pre_key_due(b.acct, T0), 0);
    /* flood until the cache is full: the old message is still refused */
    flood(b.acct, spk1, SOTTO_REPLAY_CACHE_MAX - 1);
    assert_int_equal(b.acct->n_replay, SOTTO_REPLAY_CACHE_MAX);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_REPLAY);
    /* a new genuine one: no room without forgetting a live pair, so refused, unchanged */
    prekey_from(&c[1], &b, 0, &m[1], "new during flood");
    snap_take(&s, &b);
    assert_int_equal(recv_at(&b, &m[1], T0 + 60, &(size_t){0}), SOTTO_E_BOUNDS);
    snap_same(&s, &b);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_REPLAY);
    /* ... and the schedule asks for a rotation now, not in a week */
    assert_int_equal(sotto_account_signed_pre_key_due(b.acct, T0 + 1), 1);
    {
        int rotated = 0;
        assert_int_equal(sotto_account_maintain(b.acct, T0 + 1, &rotated), 0);
        assert_int_equal(rotated, 1);
    }
    /* a message for the new key makes room by wiping the flooded, replaced key whole: its
     * old pairs then fail for want of the key, never succeed */
    prekey_from(&c[2], &b, 0, &m[2], "after rotation");
    assert_int_equal(deliver_fresh(&b, &m[2]), 0);
    assert_null(account_find_spk(b.acct, spk1));
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_NO_KEY);
    assert_int_equal(deliver_fresh(&b, &m[1]), SOTTO_E_NO_KEY);
    assert_int_equal(deliver_fresh(&b, &m[2]), SOTTO_E_REPLAY);
    assert_true(b.acct->n_replay < 16);
    party_free(&b);
    for (int i = 0; i < 4; i++)
        party_free(&c[i]);
    test_free(m);
}

/* Replay entries last exactly as long as their signed pre-key: after a week's rotation the
 * replaced key still refuses its replays, after retention it is gone (SOTTO_E_NO_KEY). */
static void replay_cache_lasts_with_its_key(void **state)
{
    party b, c;
    envl *m = envs(1);
    (void)state;
    party_new(&b);
    party_new(&c);
    prekey_from(&c, &b, 0, &m[0], "3-DH");
    assert_int_equal(deliver_fresh(&b, &m[0]), 0);
    assert_int_equal(sotto_account_maintain(b.acct, T0 + SOTTO_SPK_ROTATION, NULL), 0);
    assert_int_equal(b.acct->n_spk, 2);
    sotto_account_prune(b.acct, T0 + SOTTO_SPK_ROTATION + SOTTO_SPK_RETENTION - 1);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_REPLAY);
    restart(&b);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_REPLAY);
    sotto_account_prune(b.acct, T0 + SOTTO_SPK_ROTATION + SOTTO_SPK_RETENTION);
    assert_int_equal(b.acct->n_spk, 1);
    assert_int_equal(b.acct->n_replay, 0);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_NO_KEY);
    party_free(&b);
    party_free(&c);
    test_free(m);
}

/* ------------------------------------------------------------ one-time pre-keys */

/* A client that replenishes what the server lost, one claim at a time, forever: the old
 * cap made this fail for good after 800 claims. */
static void one_time_keys_never_run_out(void **state)
{
    party b;
    sotto_prekey *pk = test_calloc(SOTTO_ONE_TIME_KEYS_MAX, sizeof *pk);
    (void)state;
    party_new(&b);
    assert_int_equal(sotto_account_generate_one_time_keys(b.acct, 200, pk), 0);
    for (int claim = 0; claim < 1200; claim++)
        assert_int_equal(sotto_account_generate_one_time_keys(b.acct, 1, pk), 0);
    assert_int_equal(sotto_account_one_time_key_count(b.acct), SOTTO_ONE_TIME_KEYS_MAX);
    assert_int_equal(sotto_account_generate_one_time_keys(b.acct, SOTTO_ONE_TIME_KEYS_MAX, pk), 0);
    assert_int_equal(sotto_account_generate_one_time_keys(b.acct, SOTTO_ONE_TIME_KEYS_MAX + 1, pk),
                     SOTTO_E_BOUNDS);
    /* the newest are kept: the last batch's first id */
    assert_true(account_find_opk(b.acct, pk[0].key_id) >= 0);
    party_free(&b);
    test_free(pk);
}

/* A pre-key message made from one-time key k of b. */
static void prekey_with_otk(party *from, party *to, const sotto_prekey *k, envl *m)
{
    sotto_bundle bb;
    sotto_account_bundle(to->acct, &bb);
    bb.has_one_time_pre_key = 1;
    bb.one_time_pre_key = *k;
    assert_int_equal(sotto_record_initiate(from->peer, from->acct, &bb), 0);
    send_text(from, "4-DH", m);
}

static void one_time_keys_claimed_grace_and_eviction(void **state)
{
    party b, c[4];
    sotto_prekey *pk = test_calloc(SOTTO_ONE_TIME_KEYS_MAX, sizeof *pk), more[50];
    uint32_t *held = test_calloc(SOTTO_ONE_TIME_KEYS_MAX, sizeof *held);
    envl *m = envs(4);
    (void)state;
    party_new(&b);
    for (int i = 0; i < 4; i++)
        party_new(&c[i]);
    assert_int_equal(sotto_account_generate_one_time_keys(b.acct, SOTTO_ONE_TIME_KEYS_MAX, pk), 0);
    /* the server hands out keys 500..599 (claimed), holds the other 900 */
    for (uint32_t i = 0, j = 0; i < SOTTO_ONE_TIME_KEYS_MAX; i++)
        if (i < 500 || i >= 600)
            held[j++] = pk[i].key_id;
    assert_int_equal(sotto_account_sync_one_time_keys(b.acct, held, 900, T0), 0);
    assert_int_equal(sotto_account_sync_one_time_keys(b.acct, held, 900, T0 + 5),
                     0); /* marked once */
    assert_int_equal(sotto_account_sync_one_time_keys(b.acct, NULL, 3, T0), SOTTO_E_INVALID);
    prekey_with_otk(&c[0], &b, &pk[510], &m[0]); /* claimed, evicted below */
    prekey_with_otk(&c[1], &b, &pk[560], &m[1]); /* claimed, kept within grace */
    prekey_with_otk(&c[2], &b, &pk[570], &m[2]); /* claimed, arrives after grace */
    prekey_with_otk(&c[3], &b, &pk[0], &m[3]);   /* held (and oldest): kept before claimed ones */
    /* 50 new keys at the cap: claimed ones go first (all marked at T0: lowest id first) */
    assert_int_equal(sotto_account_generate_one_time_keys(b.acct, 50, more), 0);
    assert_int_equal(sotto_account_one_time_key_count(b.acct), SOTTO_ONE_TIME_KEYS_MAX);
    assert_true(account_find_opk(b.acct, pk[549].key_id) < 0);
    assert_true(account_find_opk(b.acct, pk[550].key_id) >= 0);
    assert_true(account_find_opk(b.acct, pk[0].key_id) >= 0);
    assert_int_equal(deliver_fresh(&b, &m[0]), SOTTO_E_NO_KEY);
    assert_int_equal(deliver_fresh(&b, &m[1]), 0);
    /* grace: claimed keys are kept until SOTTO_ONE_TIME_KEY_GRACE after their claim was seen */
    sotto_account_prune(b.acct, T0 + SOTTO_ONE_TIME_KEY_GRACE - 1);
    assert_true(account_find_opk(b.acct, pk[570].key_id) >= 0);
    restart(&b); /* the claim time is saved */
    sotto_account_prune(b.acct, T0 + SOTTO_ONE_TIME_KEY_GRACE);
    assert_true(account_find_opk(b.acct, pk[570].key_id) < 0);
    assert_int_equal(sotto_account_one_time_key_count(b.acct), SOTTO_ONE_TIME_KEYS_MAX - 50);
    assert_int_equal(deliver_fresh(&b, &m[2]), SOTTO_E_NO_KEY);
    assert_int_equal(deliver_fresh(&b, &m[3]), 0);
    /* a key listed again is unmarked; sync itself applies the grace */
    assert_int_equal(sotto_account_sync_one_time_keys(b.acct, NULL, 0, T0 + 100 * 86400ull), 0);
    assert_int_equal(sotto_account_sync_one_time_keys(
                         b.acct, NULL, 0, T0 + 100 * 86400ull + SOTTO_ONE_TIME_KEY_GRACE),
                     0);
    assert_int_equal(sotto_account_one_time_key_count(b.acct), 0);
    party_free(&b);
    for (int i = 0; i < 4; i++)
        party_free(&c[i]);
    test_free(pk);
    test_free(held);
    test_free(m);
}

/* Saved state of version 1 (before claim and pending times) still loads. */
static void version_1_state_loads(void **state)
{
    party a, b;
    size_t la, lr;
    uint8_t *acct, *rec, *old;
    sotto_account *a2;
    sotto_record *r2;
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    assert_int_equal(sotto_account_generate_one_time_keys(a.acct, 2, (sotto_prekey[2]){0}), 0);
    acct = account_bytes(a.acct, &la);
    rec = record_bytes(a.peer, &lr);
    /* version 1 = version 2 without the u64 after each one-time key and each session's
     * pending signature */
    old = test_malloc(la);
    {
        size_t opk_at = la - 4 - 2 * (4 + 64 + 8), o = 0;
        memcpy(old, acct, opk_at);
        o = opk_at;
        for (int i = 0; i < 2; i++) {
            memcpy(old + o, acct + opk_at + (size_t)i * 76, 68);
            o += 68;
        }
        memcpy(old + o, acct + la - 4, 4);
        o += 4;
        old[4] = 1;
        assert_int_equal(sotto_account_deserialize(&a2, old, o), 0);
        assert_int_equal(sotto_account_one_time_key_count(a2), 2);
        sotto_account_free(a2);
        old[4] = 3;
        assert_int_equal(sotto_account_deserialize(&a2, old, o), SOTTO_E_VERSION);
    }
    {
        size_t pend = lr - 4 - 8; /* one session without skipped keys: ... sig || since || n */
        memcpy(old, rec, pend);
        memcpy(old + pend, rec + pend + 8, 4);
        old[4] = 1;
        assert_int_equal(sotto_record_deserialize(&r2, old, pend + 4), 0);
        assert_int_equal(sotto_record_has_session(r2), 1);
        sotto_record_free(r2);
    }
    test_free(acct);
    test_free(rec);
    test_free(old);
    party_free(&a);
    party_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forged_next_message_leaves_chain),
        cmocka_unit_test(bad_identity_signature_refused),
        cmocka_unit_test(reflected_prekey_refused),
        cmocka_unit_test(skipped_key_store_bounded),
        cmocka_unit_test(skipped_key_ttl),
        cmocka_unit_test(safety_number_known_answer),
        cmocka_unit_test(listed_key_enforced_on_initiate),
        cmocka_unit_test(listed_key_enforced_on_receive),
        cmocka_unit_test(pending_session_max_age),
        cmocka_unit_test(replay_cache_survives_flood),
        cmocka_unit_test(replay_cache_lasts_with_its_key),
        cmocka_unit_test(one_time_keys_never_run_out),
        cmocka_unit_test(one_time_keys_claimed_grace_and_eviction),
        cmocka_unit_test(version_1_state_loads),
    };
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
