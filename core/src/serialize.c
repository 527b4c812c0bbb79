/*
 * serialize.c: saved state. sotto_account and sotto_record to a versioned binary format
 * and back (layouts in docs/protocol.md, "Saved state"). Parsers trust nothing: every
 * count is bounded, every key pair is checked for consistency, trailing bytes are refused.
 */
#include <string.h>

#include "internal.h"

static const uint8_t magic_account[4] = {'S', 'O', 'T', 'A'};
static const uint8_t magic_record[4] = {'S', 'O', 'T', 'R'};
/* Version 2 (this one) added the one-time keys' claim times and the sessions' pending-since
 * times; version 1 still loads (those times 0: unknown) and is written back as version 2. */
#define STATE_VERSION 2u

/* ------------------------------------------------------------ account */

static void write_account(wbuf *w, const sotto_account *a)
{
    wb_bytes(w, magic_account, 4);
    wb_u8(w, STATE_VERSION);
    wb_bytes(w, a->ik_pk, KEY);
    wb_bytes(w, a->ik_sk, KEY);
    wb_bytes(w, a->sign_sk, crypto_sign_SECRETKEYBYTES); /* seed || public key */
    wb_bytes(w, a->id_sig, SOTTO_SIGBYTES);
    wb_u32(w, a->next_spk_id);
    wb_u32(w, a->next_opk_id);
    wb_u8(w, (uint8_t)a->n_spk);
    for (uint32_t i = 0; i < a->n_spk; i++) {
        const spk_slot *s = &a->spk[i];
        wb_u32(w, s->id);
        wb_bytes(w, s->pk, KEY);
        wb_bytes(w, s->sk, KEY);
        wb_bytes(w, s->sig, SOTTO_SIGBYTES);
        wb_u64(w, s->created);
        wb_u64(w, s->replaced);
    }
    wb_u32(w, a->n_opk);
    for (uint32_t i = 0; i < a->n_opk; i++) {
        wb_u32(w, a->opk[i].id);
        wb_bytes(w, a->opk[i].pk, KEY);
        wb_bytes(w, a->opk[i].sk, KEY);
        wb_u64(w, a->opk[i].claimed);
    }
    wb_u32(w, a->n_replay);
    for (uint32_t i = 0; i < a->n_replay; i++) {
        wb_u32(w, a->replay[i].spk_id);
        wb_bytes(w, a->replay[i].ek_hash, 16);
    }
}

size_t sotto_account_serialized_size(const sotto_account *a)
{
    wbuf w = {NULL, 0, SIZE_MAX, 0};
    write_account(&w, a);
    return w.len;
}

int sotto_account_serialize(const sotto_account *a, uint8_t *out, size_t cap, size_t *len)
{
    wbuf w = {out, 0, cap, 0};
    write_account(&w, a);
    if (w.err)
        return SOTTO_E_BUFFER;
    *len = w.len;
    return 0;
}

/* A private key must produce the public key stored beside it. */
static int x25519_pair_ok(const uint8_t pk[KEY], const uint8_t sk[KEY])
{
    uint8_t check[KEY];
    int ok = crypto_scalarmult_base(check, sk) == 0 && sodium_memcmp(check, pk, KEY) == 0;
    sodium_memzero(check, sizeof check);
    return ok;
}

static int read_account(rbuf *r, sotto_account *a)
{
    uint8_t m[4], seed_pk[KEY], seed_sk[crypto_sign_SECRETKEYBYTES], version;
    int ok;

    rb_bytes(r, m, 4);
    if (r->err || memcmp(m, magic_account, 4) != 0)
        return SOTTO_E_INVALID;
    version = rb_u8(r);
    if (version != 1 && version != STATE_VERSION)
        return SOTTO_E_VERSION;
    rb_bytes(r, a->ik_pk, KEY);
    rb_bytes(r, a->ik_sk, KEY);
    rb_bytes(r, a->sign_sk, crypto_sign_SECRETKEYBYTES);
    memcpy(a->sign_pk, a->sign_sk + 32, KEY);
    rb_bytes(r, a->id_sig, SOTTO_SIGBYTES);
    a->next_spk_id = rb_u32(r);
    a->next_opk_id = rb_u32(r);
    a->n_spk = rb_u8(r);
    if (r->err || a->n_spk == 0 || a->n_spk > SPK_SLOTS)
        return SOTTO_E_INVALID;
    for (uint32_t i = 0; i < a->n_spk; i++) {
        spk_slot *s = &a->spk[i];
        s->id = rb_u32(r);
        rb_bytes(r, s->pk, KEY);
        rb_bytes(r, s->sk, KEY);
        rb_bytes(r, s->sig, SOTTO_SIGBYTES);
        s->created = rb_u64(r);
        s->replaced = rb_u64(r);
        if (r->err || !x25519_pair_ok(s->pk, s->sk) || (i == 0) != (s->replaced == 0))
            return SOTTO_E_INVALID;
    }
    a->n_opk = rb_u32(r);
    if (r->err || a->n_opk > SOTTO_ONE_TIME_KEYS_MAX)
        return SOTTO_E_INVALID;
    for (uint32_t i = 0; i < a->n_opk; i++) {
        a->opk[i].id = rb_u32(r);
        rb_bytes(r, a->opk[i].pk, KEY);
        rb_bytes(r, a->opk[i].sk, KEY);
        a->opk[i].claimed = version >= 2 ? rb_u64(r) : 0;
    }
    a->n_replay = rb_u32(r);
    if (r->err || a->n_replay > REPLAY_CACHE_MAX)
        return SOTTO_E_INVALID;
    for (uint32_t i = 0; i < a->n_replay; i++) {
        a->replay[i].spk_id = rb_u32(r);
        rb_bytes(r, a->replay[i].ek_hash, 16);
    }
    if (r->err || r->off != r->len || !x25519_pair_ok(a->ik_pk, a->ik_sk))
        return SOTTO_E_INVALID;
    /* The signing key pair must be whole: re-derive it from its seed. */
    crypto_sign_seed_keypair(seed_pk, seed_sk, a->sign_sk);
    ok = sodium_memcmp(seed_sk, a->sign_sk, sizeof seed_sk) == 0;
    sodium_memzero(seed_sk, sizeof seed_sk);
    return ok ? 0 : SOTTO_E_INVALID;
}

int sotto_account_deserialize(sotto_account **out, const uint8_t *in, size_t len)
{
    rbuf r = {in, len, 0, 0};
    sotto_account *a;
    int rc;

    *out = NULL;
    if ((a = account_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    if ((rc = read_account(&r, a)) != 0) {
        sotto_account_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* ------------------------------------------------------------ record */

static void write_session(wbuf *w, const session *s)
{
    const ratchet_core *c = &s->c;
    wb_bytes(w, c->ad, AD_BYTES);
    wb_bytes(w, c->rk, KEY);
    wb_bytes(w, c->dhs_pk, KEY);
    wb_bytes(w, c->dhs_sk, KEY);
    wb_u8(w, c->has_cks);
    wb_bytes(w, c->cks, KEY);
    wb_u32(w, c->ns);
    wb_u32(w, c->pn);
    wb_u8(w, c->n_recv);
    for (uint8_t i = 0; i < c->n_recv; i++) {
        wb_bytes(w, c->recv[i].dh, KEY);
        wb_bytes(w, c->recv[i].ck, KEY);
        wb_u32(w, c->recv[i].n);
    }
    wb_bytes(w, c->base_key, KEY);
    wb_u8(w, c->pending);
    wb_u32(w, c->pending_spk_id);
    wb_u8(w, c->pending_has_opk);
    wb_u32(w, c->pending_opk_id);
    wb_bytes(w, c->pending_sig, SOTTO_SIGBYTES);
    wb_u64(w, c->pending_since);
    wb_u32(w, s->n_skipped);
    for (uint32_t i = 0; i < s->n_skipped; i++) {
        wb_bytes(w, s->skipped[i].dh, KEY);
        wb_u32(w, s->skipped[i].n);
        wb_u64(w, s->skipped[i].created);
        wb_bytes(w, s->skipped[i].mk, KEY);
    }
}

static void write_record(wbuf *w, const sotto_record *r)
{
    wb_bytes(w, magic_record, 4);
    wb_u8(w, STATE_VERSION);
    wb_u8(w, r->pinned);
    wb_bytes(w, r->peer_ik, KEY);
    wb_bytes(w, r->peer_sk, KEY);
    wb_u8(w, (uint8_t)r->n);
    for (uint32_t i = 0; i < r->n; i++)
        write_session(w, r->s[i]);
}

size_t sotto_record_serialized_size(const sotto_record *r)
{
    wbuf w = {NULL, 0, SIZE_MAX, 0};
    write_record(&w, r);
    return w.len;
}

int sotto_record_serialize(const sotto_record *r, uint8_t *out, size_t cap, size_t *len)
{
    wbuf w = {out, 0, cap, 0};
    write_record(&w, r);
    if (w.err)
        return SOTTO_E_BUFFER;
    *len = w.len;
    return 0;
}

static int read_session(rbuf *r, session *s, unsigned version)
{
    ratchet_core *c = &s->c;
    uint32_t n;

    rb_bytes(r, c->ad, AD_BYTES);
    rb_bytes(r, c->rk, KEY);
    rb_bytes(r, c->dhs_pk, KEY);
    rb_bytes(r, c->dhs_sk, KEY);
    c->has_cks = rb_u8(r);
    rb_bytes(r, c->cks, KEY);
    c->ns = rb_u32(r);
    c->pn = rb_u32(r);
    c->n_recv = rb_u8(r);
    if (r->err || c->ad[0] != 0x01 || c->has_cks > 1 || c->n_recv > SOTTO_RECEIVING_CHAINS ||
        !x25519_pair_ok(c->dhs_pk, c->dhs_sk))
        return SOTTO_E_INVALID;
    for (uint8_t i = 0; i < c->n_recv; i++) {
        rb_bytes(r, c->recv[i].dh, KEY);
        rb_bytes(r, c->recv[i].ck, KEY);
        c->recv[i].n = rb_u32(r);
    }
    rb_bytes(r, c->base_key, KEY);
    c->pending = rb_u8(r);
    c->pending_spk_id = rb_u32(r);
    c->pending_has_opk = rb_u8(r);
    c->pending_opk_id = rb_u32(r);
    rb_bytes(r, c->pending_sig, SOTTO_SIGBYTES);
    c->pending_since = version >= 2 ? rb_u64(r) : 0;
    n = rb_u32(r);
    if (r->err || c->pending > 1 || c->pending_has_opk > 1 || n > SOTTO_MAX_SKIPPED_KEYS)
        return SOTTO_E_INVALID;
    if (n && (s->skipped = secret_alloc(n, sizeof *s->skipped)) == NULL)
        return SOTTO_E_NOMEM;
    s->cap_skipped = n;
    for (uint32_t i = 0; i < n; i++) {
        rb_bytes(r, s->skipped[i].dh, KEY);
        s->skipped[i].n = rb_u32(r);
        s->skipped[i].created = rb_u64(r);
        rb_bytes(r, s->skipped[i].mk, KEY);
    }
    s->n_skipped = n;
    return r->err ? SOTTO_E_INVALID : 0;
}

static int read_record(rbuf *r, sotto_record *rec)
{
    uint8_t m[4], version;
    uint32_t n;
    int rc;

    rb_bytes(r, m, 4);
    if (r->err || memcmp(m, magic_record, 4) != 0)
        return SOTTO_E_INVALID;
    version = rb_u8(r);
    if (version != 1 && version != STATE_VERSION)
        return SOTTO_E_VERSION;
    rec->pinned = rb_u8(r);
    rb_bytes(r, rec->peer_ik, KEY);
    rb_bytes(r, rec->peer_sk, KEY);
    n = rb_u8(r);
    if (r->err || rec->pinned > 1 || n > SOTTO_ARCHIVED_SESSIONS + 1 || (n && !rec->pinned))
        return SOTTO_E_INVALID;
    for (uint32_t i = 0; i < n; i++) {
        if ((rec->s[i] = session_alloc()) == NULL)
            return SOTTO_E_NOMEM;
        rec->n = i + 1; /* freed with the record on failure */
        if ((rc = read_session(r, rec->s[i], version)) != 0)
            return rc;
    }
    return r->off == r->len ? 0 : SOTTO_E_INVALID;
}

int sotto_record_deserialize(sotto_record **out, const uint8_t *in, size_t len)
{
    rbuf r = {in, len, 0, 0};
    sotto_record *rec;
    int rc;

    *out = NULL;
    if ((rec = record_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    if ((rc = read_record(&r, rec)) != 0) {
        sotto_record_free(rec);
        return rc;
    }
    *out = rec;
    return 0;
}
