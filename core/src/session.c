/*
 * session.c: the record of everything shared with one peer device (sotto_record):
 * its pinned identity and signing keys, the current session and the archived ones.
 * Starting sessions (X3DH as initiator or responder), choosing the session for an
 * incoming envelope, and Signal's multi-device rule: the session that last decrypted
 * becomes the sending session.
 */
#include <string.h>

#include "internal.h"

sotto_record *record_alloc(void) { return secret_alloc(1, sizeof(sotto_record)); }

int sotto_record_create(sotto_record **out)
{
    *out = record_alloc();
    return *out ? 0 : SOTTO_E_NOMEM;
}

void sotto_record_free(sotto_record *r)
{
    if (r == NULL)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        session_free(r->s[i]);
    secret_free(r, 1, sizeof *r);
}

int sotto_record_has_session(const sotto_record *r) { return r->n > 0 && r->s[0]->c.has_cks; }

/* A pre-key session nobody answered stops sending after SOTTO_PENDING_MAX_AGE: its signed
 * pre-key may be gone at the peer by the time a later message arrives, and the one-time key
 * it claimed has been given up (docs/protocol.md, "Key lifecycle"). */
static int pending_expired(const ratchet_core *c, uint64_t now)
{
    return c->pending && c->pending_since && now >= c->pending_since &&
           now - c->pending_since >= SOTTO_PENDING_MAX_AGE;
}

int sotto_record_has_session_at(const sotto_record *r, uint64_t now)
{
    return sotto_record_has_session(r) && !pending_expired(&r->s[0]->c, now);
}

/* The caller's listed key for the peer device; NULL (the deprecated calls) checks nothing. */
static int check_expected(const uint8_t sk[KEY], const uint8_t *expected)
{
    if (expected && sodium_memcmp(sk, expected, KEY) != 0)
        return SOTTO_E_KEY_MISMATCH;
    return 0;
}

int sotto_record_peer_keys(const sotto_record *r, uint8_t identity_key[32], uint8_t signing_key[32])
{
    if (!r->pinned)
        return SOTTO_E_NO_SESSION;
    memcpy(identity_key, r->peer_ik, KEY);
    memcpy(signing_key, r->peer_sk, KEY);
    return 0;
}

/* Makes s the current session; the oldest archived one falls off the end. */
void record_push(sotto_record *r, session *s)
{
    if (r->n == SOTTO_ARCHIVED_SESSIONS + 1)
        session_free(r->s[--r->n]);
    memmove(&r->s[1], &r->s[0], r->n * sizeof r->s[0]);
    r->s[0] = s;
    r->n++;
}

static void record_promote(sotto_record *r, uint32_t i)
{
    session *s = r->s[i];
    memmove(&r->s[1], &r->s[0], i * sizeof r->s[0]);
    r->s[0] = s;
}

/* A device's keys never change (api.md: identity_immutable): a different key for a
 * pinned device is an attack or a bug, never a reinstall. */
static int check_pin(const sotto_record *r, const uint8_t ik[KEY], const uint8_t sk[KEY])
{
    if (!r->pinned)
        return 0;
    if (sodium_memcmp(r->peer_ik, ik, KEY) != 0 || sodium_memcmp(r->peer_sk, sk, KEY) != 0)
        return SOTTO_E_UNTRUSTED;
    return 0;
}

static void pin(sotto_record *r, const uint8_t ik[KEY], const uint8_t sk[KEY])
{
    memcpy(r->peer_ik, ik, KEY);
    memcpy(r->peer_sk, sk, KEY);
    r->pinned = 1;
}

static int initiate(sotto_record *r, const sotto_account *a, const sotto_bundle *peer,
                    const uint8_t *expected, uint64_t now)
{
    uint8_t ek_pk[KEY], ek_sk[KEY], sk[KEY];
    session *s = NULL;
    int rc;

    if ((rc = check_expected(peer->signing_key, expected)) != 0 ||
        (r->pinned && (rc = check_expected(r->peer_sk, expected)) != 0))
        return rc;
    if ((rc = sotto_bundle_verify(peer)) != 0 ||
        (rc = check_pin(r, peer->identity_key, peer->signing_key)) != 0)
        return rc;
    if (sodium_memcmp(peer->signing_key, a->sign_pk, KEY) == 0)
        return SOTTO_E_INVALID; /* a session with oneself would reflect messages */
    if ((s = session_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    x25519_keypair(ek_pk, ek_sk);
    if ((rc = x3dh_initiator(sk, a, ek_sk, peer)) != 0)
        goto fail;
    x3dh_ad(s->c.ad, a->ik_pk, a->sign_pk, peer->identity_key, peer->signing_key);
    ratchet_init_initiator(&s->c, sk, peer->signed_pre_key);
    rc = SOTTO_E_AUTH;
    if (!s->c.has_cks)
        goto fail;
    s->c.pending = 1;
    memcpy(s->c.base_key, ek_pk, KEY);
    s->c.pending_spk_id = peer->signed_pre_key_id;
    s->c.pending_has_opk = peer->has_one_time_pre_key ? 1 : 0;
    s->c.pending_opk_id = peer->has_one_time_pre_key ? peer->one_time_pre_key.key_id : 0;
    memcpy(s->c.pending_sig, a->id_sig, SOTTO_SIGBYTES);
    s->c.pending_since = now;
    pin(r, peer->identity_key, peer->signing_key);
    record_push(r, s);
    s = NULL;
    rc = 0;
fail:
    session_free(s);
    sodium_memzero(ek_sk, sizeof ek_sk);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int sotto_record_initiate_expected(sotto_record *r, const sotto_account *a,
                                   const sotto_bundle *peer, const uint8_t expected_signing_key[32],
                                   uint64_t now)
{
    if (expected_signing_key == NULL)
        return SOTTO_E_INVALID;
    return initiate(r, a, peer, expected_signing_key, now);
}

int sotto_record_initiate(sotto_record *r, const sotto_account *a, const sotto_bundle *peer)
{
    return initiate(r, a, peer, NULL, 0);
}

int sotto_record_encrypt(sotto_record *r, const uint8_t *pt, size_t pt_len, uint8_t *out,
                         size_t out_cap, size_t *out_len, unsigned *type)
{
    if (r->n == 0)
        return SOTTO_E_NO_SESSION;
    return ratchet_encrypt(r->s[0], pt, pt_len, out, out_cap, out_len, type);
}

int sotto_record_encrypt_at(sotto_record *r, const uint8_t *pt, size_t pt_len, uint64_t now,
                            uint8_t *out, size_t out_cap, size_t *out_len, unsigned *type)
{
    int rc;
    if (r->n == 0 || pending_expired(&r->s[0]->c, now))
        return SOTTO_E_NO_SESSION;
    if ((rc = ratchet_encrypt(r->s[0], pt, pt_len, out, out_cap, out_len, type)) == 0 &&
        r->s[0]->c.pending && r->s[0]->c.pending_since == 0)
        r->s[0]->c.pending_since = now ? now : 1; /* initiated without a time: count from here */
    return rc;
}

/* Tries every session, current first; the one that decrypts becomes current. The error
 * reported is the most telling one seen (a replay beats a bad tag). */
static int decrypt_any(sotto_record *r, const envelope *e, uint64_t now, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    int rc, best = SOTTO_E_NO_SESSION;
    for (uint32_t i = 0; i < r->n; i++) {
        if ((rc = ratchet_decrypt(r->s[i], e, now, out, cap, out_len)) == 0) {
            record_promote(r, i);
            return 0;
        }
        if (best == SOTTO_E_NO_SESSION || rc == SOTTO_E_REPLAY ||
            (rc == SOTTO_E_BOUNDS && best != SOTTO_E_REPLAY))
            best = rc;
    }
    return best;
}

static int session_by_base_key(const sotto_record *r, const uint8_t ek[KEY])
{
    for (uint32_t i = 0; i < r->n; i++)
        if (sodium_memcmp(r->s[i]->c.base_key, ek, KEY) == 0)
            return (int)i;
    return -1;
}

/* X3DH as responder on a fresh session; commits to `a` and `r` only on success. */
static int accept_prekey(sotto_record *r, sotto_account *a, const envelope *e, uint64_t now,
                         uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t sk[KEY];
    spk_slot *spk;
    session *s = NULL;
    uint32_t wipe = 0;
    int opk = -1, room, rc;

    if (account_replay_seen(a, e->spk_id, e->ek))
        return SOTTO_E_REPLAY;
    if ((spk = account_find_spk(a, e->spk_id)) == NULL)
        return SOTTO_E_NO_KEY;
    if ((room = account_replay_room(a, e->spk_id, &wipe)) < 0)
        return room; /* the cache never forgets a pair its key could accept again */
    if (e->has_opk && (opk = account_find_opk(a, e->opk_id)) < 0)
        return SOTTO_E_NO_KEY; /* used already (a replay), or never ours */
    if ((s = session_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    if ((rc = x3dh_responder(sk, a, spk->sk, opk >= 0 ? a->opk[opk].sk : NULL, e->ik, e->ek)) != 0)
        goto fail;
    x3dh_ad(s->c.ad, e->ik, e->sk, a->ik_pk, a->sign_pk);
    ratchet_init_responder(&s->c, sk, spk->pk, spk->sk);
    memcpy(s->c.base_key, e->ek, KEY);
    if ((rc = ratchet_decrypt(s, e, now, out, cap, out_len)) != 0)
        goto fail;
    /* Commit: the one-time key is used up, the (spk, EK) pair is remembered. */
    if (opk >= 0)
        account_remove_opk(a, opk);
    account_replay_add(a, e->spk_id, e->ek, room, wipe);
    pin(r, e->ik, e->sk);
    record_push(r, s);
    s = NULL;
fail:
    session_free(s);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static int decrypt_prekey(sotto_record *r, sotto_account *a, const envelope *e, uint64_t now,
                          const uint8_t *expected, uint8_t *out, size_t cap, size_t *out_len)
{
    int rc, i;

    if ((rc = check_expected(e->sk, expected)) != 0)
        return rc;
    if (x25519_is_low_order(e->ik) || x25519_is_low_order(e->ek))
        return SOTTO_E_INVALID;
    if ((rc = verify_identity(e->sig, e->ik, e->sk)) != 0 || (rc = check_pin(r, e->ik, e->sk)) != 0)
        return rc;
    if (sodium_memcmp(e->sk, a->sign_pk, KEY) == 0)
        return SOTTO_E_INVALID; /* our own pre-key message reflected back */
    /* A repeat of a pre-key message of a session we already have goes to that session
     * (the initiator repeats the pre-key header until it hears back). */
    if ((i = session_by_base_key(r, e->ek)) >= 0) {
        if ((rc = ratchet_decrypt(r->s[i], e, now, out, cap, out_len)) == 0)
            record_promote(r, (uint32_t)i);
        return rc;
    }
    return accept_prekey(r, a, e, now, out, cap, out_len);
}

static int decrypt(sotto_record *r, sotto_account *a, const uint8_t *in, size_t in_len,
                   uint64_t now, const uint8_t *expected, uint8_t *out, size_t out_cap,
                   size_t *out_len)
{
    envelope e;
    int rc;

    if ((rc = envelope_parse(&e, in, in_len)) != 0)
        return rc;
    if (r->pinned && (rc = check_expected(r->peer_sk, expected)) != 0)
        return rc; /* the record is another device's than the list says */
    if (e.type == SOTTO_ENVELOPE_PREKEY)
        return decrypt_prekey(r, a, &e, now, expected, out, out_cap, out_len);
    if (r->n == 0)
        return SOTTO_E_NO_SESSION;
    return decrypt_any(r, &e, now, out, out_cap, out_len);
}

int sotto_record_decrypt_expected(sotto_record *r, sotto_account *a, const uint8_t *in,
                                  size_t in_len, uint64_t now,
                                  const uint8_t expected_signing_key[32], uint8_t *out,
                                  size_t out_cap, size_t *out_len)
{
    if (expected_signing_key == NULL)
        return SOTTO_E_INVALID;
    return decrypt(r, a, in, in_len, now, expected_signing_key, out, out_cap, out_len);
}

int sotto_record_decrypt(sotto_record *r, sotto_account *a, const uint8_t *in, size_t in_len,
                         uint64_t now, uint8_t *out, size_t out_cap, size_t *out_len)
{
    return decrypt(r, a, in, in_len, now, NULL, out, out_cap, out_len);
}
