/*
 * ratchet.c: one Double Ratchet session: envelope parsing, encryption, and decryption
 * as a transaction. Decryption runs on a copy of the fixed-size state and collects
 * skipped keys aside; only when the AEAD tag verifies is anything written back, so a
 * forged or damaged envelope leaves the session byte for byte as it was.
 */
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ envelopes */

static int envelope_body(envelope *e, rbuf *r, const uint8_t *in)
{
    e->dh = rb_view(r, KEY);
    e->pn = rb_u32(r);
    e->n = rb_u32(r);
    e->header = in;
    e->header_len = r->off;
    e->nonce = rb_view(r, NONCE_BYTES);
    if (r->err)
        return SOTTO_E_INVALID;
    e->ct = in + r->off;
    e->ct_len = r->len - r->off;
    /* A padded plaintext is a non-zero multiple of the pad block, and bounded. */
    if (e->ct_len < SOTTO_PAD_BLOCK + TAG_BYTES || e->ct_len > 65280u + TAG_BYTES ||
        (e->ct_len - TAG_BYTES) % SOTTO_PAD_BLOCK != 0)
        return SOTTO_E_INVALID;
    return 0;
}

int envelope_parse(envelope *e, const uint8_t *in, size_t len)
{
    rbuf r = {in, len, 0, 0};
    uint8_t version = rb_u8(&r);

    memset(e, 0, sizeof *e);
    e->type = rb_u8(&r);
    if (r.err)
        return SOTTO_E_INVALID;
    if (version != SOTTO_VERSION)
        return SOTTO_E_VERSION;
    if (e->type == SOTTO_ENVELOPE_PREKEY) {
        e->ik = rb_view(&r, KEY);
        e->sk = rb_view(&r, KEY);
        e->sig = rb_view(&r, SOTTO_SIGBYTES);
        e->ek = rb_view(&r, KEY);
        e->spk_id = rb_u32(&r);
        e->has_opk = rb_u8(&r);
        e->opk_id = rb_u32(&r);
        if (r.err || e->has_opk > 1 || (!e->has_opk && e->opk_id != 0))
            return SOTTO_E_INVALID; /* one encoding per meaning */
    } else if (e->type != SOTTO_ENVELOPE_MESSAGE) {
        return SOTTO_E_INVALID;
    }
    return envelope_body(e, &r, in);
}

size_t sotto_envelope_size(size_t len, int prekey)
{
    if (len > SOTTO_PLAINTEXT_MAX)
        return 0;
    return (len / SOTTO_PAD_BLOCK + 1) * SOTTO_PAD_BLOCK +
           (prekey ? SOTTO_PREKEY_OVERHEAD : SOTTO_MESSAGE_OVERHEAD);
}

/* ------------------------------------------------------------ sessions */

session *session_alloc(void) { return secret_alloc(1, sizeof(session)); }

void session_free(session *s)
{
    if (s == NULL)
        return;
    secret_free(s->skipped, s->cap_skipped, sizeof *s->skipped);
    secret_free(s, 1, sizeof *s);
}

static int skipped_reserve(session *s, uint32_t want)
{
    skipped_key *p;
    uint32_t cap = s->cap_skipped ? s->cap_skipped : 16;

    if (want <= s->cap_skipped)
        return 0;
    while (cap < want)
        cap *= 2;
    if (cap > SOTTO_MAX_SKIPPED_KEYS + 2 * SOTTO_MAX_SKIP)
        cap = SOTTO_MAX_SKIPPED_KEYS + 2 * SOTTO_MAX_SKIP;
    if ((p = secret_alloc(cap, sizeof *p)) == NULL)
        return SOTTO_E_NOMEM;
    if (s->n_skipped)
        memcpy(p, s->skipped, s->n_skipped * sizeof *p);
    secret_free(s->skipped, s->cap_skipped, sizeof *p);
    s->skipped = p;
    s->cap_skipped = cap;
    return 0;
}

/* Initiator (Double Ratchet 3.3 RatchetInitAlice): a fresh ratchet key, first sending
 * chain from DH(ratchet key, SPK_R). */
void ratchet_init_initiator(ratchet_core *c, const uint8_t sk[KEY], const uint8_t peer_spk[KEY])
{
    uint8_t dh[KEY];
    memcpy(c->rk, sk, KEY);
    x25519_keypair(c->dhs_pk, c->dhs_sk);
    /* peer_spk was checked for low order with the bundle, so this cannot fail. */
    if (x25519(dh, c->dhs_sk, peer_spk) == 0 && kdf_rk(c->rk, c->cks, dh) == 0)
        c->has_cks = 1;
    sodium_memzero(dh, sizeof dh);
}

/* Responder (RatchetInitBob): the signed pre-key is the first ratchet key. */
void ratchet_init_responder(ratchet_core *c, const uint8_t sk[KEY], const uint8_t spk_pk[KEY],
                            const uint8_t spk_sk[KEY])
{
    memcpy(c->rk, sk, KEY);
    memcpy(c->dhs_pk, spk_pk, KEY);
    memcpy(c->dhs_sk, spk_sk, KEY);
    c->has_cks = 0;
}

/* ------------------------------------------------------------ encryption */

static size_t write_header(const ratchet_core *c, uint8_t *out, size_t cap)
{
    wbuf w = {out, 0, cap, 0};
    wb_u8(&w, SOTTO_VERSION);
    if (c->pending) {
        wb_u8(&w, SOTTO_ENVELOPE_PREKEY);
        wb_bytes(&w, c->ad + 1, KEY);       /* IK_I */
        wb_bytes(&w, c->ad + 1 + KEY, KEY); /* SK_I */
        wb_bytes(&w, c->pending_sig, SOTTO_SIGBYTES);
        wb_bytes(&w, c->base_key, KEY); /* EK_I */
        wb_u32(&w, c->pending_spk_id);
        wb_u8(&w, c->pending_has_opk);
        wb_u32(&w, c->pending_has_opk ? c->pending_opk_id : 0);
    } else {
        wb_u8(&w, SOTTO_ENVELOPE_MESSAGE);
    }
    wb_bytes(&w, c->dhs_pk, KEY);
    wb_u32(&w, c->pn);
    wb_u32(&w, c->ns);
    return w.err ? 0 : w.len;
}

/* ISO/IEC 7816-4 padding (0x80 then zeros) to the next multiple of the pad block, at least
 * one byte; the same bytes as sodium_pad. sodium_pad walks a whole block in constant time
 * to hide the length inside the block; here the length is the sender's own and the copy
 * just before already takes time proportional to it, so a plain memset hides as much. */
static size_t pad(uint8_t *buf, size_t len)
{
    size_t padded = (len / SOTTO_PAD_BLOCK + 1) * SOTTO_PAD_BLOCK;
    buf[len] = 0x80;
    memset(buf + len + 1, 0, padded - len - 1);
    return padded;
}

/* The inverse, in constant time over the last block: the receiver's timing must not say
 * where inside the block the message ended. Branch-free like sodium_unpad, without its
 * volatile accumulator (which makes it ~4x slower and dominated small messages). Returns
 * 0 if, from the end, zero bytes are followed by exactly one 0x80 within the last block. */
int unpad(size_t *len, const uint8_t *buf, size_t padded)
{
    const uint8_t *tail = buf + padded - SOTTO_PAD_BLOCK;
    uint32_t seen = 0, valid = 0, pos = 0;

    if (padded < SOTTO_PAD_BLOCK || padded % SOTTO_PAD_BLOCK != 0)
        return SOTTO_E_INVALID;
    for (uint32_t i = SOTTO_PAD_BLOCK; i-- > 0;) {
        uint32_t c = tail[i];
        uint32_t nonzero = ((c - 1u) >> 8 & 1u) ^ 1u;   /* c != 0 */
        uint32_t marker = ((c ^ 0x80u) - 1u) >> 8 & 1u; /* c == 0x80 */
        uint32_t first = nonzero & (seen ^ 1u);         /* first non-zero from the end */
        valid |= first & marker;
        pos |= (0u - (first & marker)) & i;
        seen |= nonzero;
    }
    *len = padded - SOTTO_PAD_BLOCK + pos;
    return (int)valid - 1; /* 0 or -1 */
}

static void build_ad(uint8_t *ad, size_t *ad_len, const ratchet_core *c, const uint8_t *header,
                     size_t header_len)
{
    memcpy(ad, c->ad, AD_BYTES);
    memcpy(ad + AD_BYTES, header, header_len);
    *ad_len = AD_BYTES + header_len;
}

int ratchet_encrypt(session *s, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t cap,
                    size_t *out_len, unsigned *type)
{
    ratchet_core *c = &s->c;
    uint8_t ad[AD_BYTES + MSG_HEADER_BYTES + PREKEY_FIELDS], ck[KEY], mk[KEY];
    size_t need, hlen, padded, ad_len;
    uint8_t *nonce, *ct;

    if (!c->has_cks)
        return SOTTO_E_NO_SESSION;
    if (pt_len > SOTTO_PLAINTEXT_MAX)
        return SOTTO_E_BOUNDS;
    if (c->ns == UINT32_MAX)
        return SOTTO_E_BOUNDS;
    need = sotto_envelope_size(pt_len, c->pending);
    if (cap < need)
        return SOTTO_E_BUFFER;
    hlen = write_header(c, out, cap);
    nonce = out + hlen;
    ct = nonce + NONCE_BYTES;
    memmove(ct, pt, pt_len); /* pt may alias out */
    padded = pad(ct, pt_len);
    rng_buf(nonce, NONCE_BYTES);
    build_ad(ad, &ad_len, c, out, hlen);
    memcpy(ck, c->cks, KEY);
    kdf_ck(ck, mk);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, ct, padded, ad, ad_len, NULL, nonce, mk);
    memcpy(c->cks, ck, KEY);
    c->ns++;
    *out_len = hlen + NONCE_BYTES + padded + TAG_BYTES;
    *type = c->pending ? SOTTO_ENVELOPE_PREKEY : SOTTO_ENVELOPE_MESSAGE;
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(mk, sizeof mk);
    return 0;
}

/* ------------------------------------------------------------ decryption */

/* Decrypts and unpads with one message key; out must hold ct_len - TAG_BYTES. */
static int open_with(const ratchet_core *c, const envelope *e, const uint8_t mk[KEY], uint8_t *out,
                     size_t *out_len)
{
    uint8_t ad[AD_BYTES + MSG_HEADER_BYTES + PREKEY_FIELDS];
    size_t ad_len, padded = e->ct_len - TAG_BYTES;

    build_ad(ad, &ad_len, c, e->header, e->header_len);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, e->ct, e->ct_len, ad, ad_len,
                                                   e->nonce, mk) != 0)
        return SOTTO_E_AUTH;
    if (unpad(out_len, out, padded) != 0) {
        sodium_memzero(out, padded);
        return SOTTO_E_INVALID; /* authentic but badly padded: a broken sender */
    }
    return 0;
}

/* Ratchet public keys and counters are public (they travel in clear headers): plain
 * memcmp is fine here and, unlike sodium_memcmp, stops at the first differing byte. */
static int find_skipped(const session *s, const envelope *e)
{
    for (uint32_t i = 0; i < s->n_skipped; i++)
        if (s->skipped[i].n == e->n && memcmp(s->skipped[i].dh, e->dh, KEY) == 0)
            return (int)i;
    return -1;
}

static void skipped_remove(session *s, uint32_t first, uint32_t count)
{
    memmove(&s->skipped[first], &s->skipped[first + count],
            (s->n_skipped - first - count) * sizeof s->skipped[0]);
    s->n_skipped -= count;
    sodium_memzero(&s->skipped[s->n_skipped], count * sizeof s->skipped[0]);
}

static int find_chain(const ratchet_core *c, const uint8_t dh[KEY])
{
    for (uint8_t i = 0; i < c->n_recv; i++)
        if (memcmp(c->recv[i].dh, dh, KEY) == 0) /* public, see find_skipped */
            return i;
    return -1;
}

/* DH ratchet step on the working copy: a new receiving chain for their key, a new
 * ratchet key and sending chain for us. The oldest receiving chain beyond the bound is
 * wiped. */
static int dh_step(ratchet_core *w, const uint8_t their[KEY])
{
    uint8_t dh[KEY];
    int rc;

    if (w->n_recv == SOTTO_RECEIVING_CHAINS) /* the oldest chain is overwritten below */
        w->n_recv--;
    memmove(&w->recv[1], &w->recv[0], w->n_recv * sizeof w->recv[0]);
    w->n_recv++;
    memcpy(w->recv[0].dh, their, KEY);
    w->recv[0].n = 0;
    if ((rc = x25519(dh, w->dhs_sk, their)) != 0 || (rc = kdf_rk(w->rk, w->recv[0].ck, dh)) != 0)
        goto done;
    w->pn = w->ns;
    w->ns = 0;
    x25519_keypair(w->dhs_pk, w->dhs_sk);
    if ((rc = x25519(dh, w->dhs_sk, their)) != 0 || (rc = kdf_rk(w->rk, w->cks, dh)) != 0)
        goto done;
    w->has_cks = 1;
done:
    sodium_memzero(dh, sizeof dh);
    return rc;
}

/* Commits collected skipped keys: expired ones go first, then the oldest beyond the
 * per-session bound. */
static void skipped_commit(session *s, const skipped_key *add, uint32_t n_add, uint64_t now)
{
    uint32_t expired = 0, excess;

    while (expired < s->n_skipped && s->skipped[expired].created + SOTTO_SKIPPED_KEY_TTL <= now)
        expired++;
    if (expired)
        skipped_remove(s, 0, expired);
    if (n_add == 0)
        return;
    memcpy(&s->skipped[s->n_skipped], add, n_add * sizeof *add);
    s->n_skipped += n_add;
    excess = s->n_skipped > SOTTO_MAX_SKIPPED_KEYS ? s->n_skipped - SOTTO_MAX_SKIPPED_KEYS : 0;
    if (excess)
        skipped_remove(s, 0, excess);
}

static int decrypt_skipped(session *s, int i, const envelope *e, uint64_t now, uint8_t *out,
                           size_t *out_len)
{
    int rc;
    if (s->skipped[i].created + SOTTO_SKIPPED_KEY_TTL <= now)
        return SOTTO_E_REPLAY; /* expired: treated as gone */
    if ((rc = open_with(&s->c, e, s->skipped[i].mk, out, out_len)) != 0)
        return rc;
    TEST_OBSERVE(MESSAGE, s->skipped[i].mk);
    skipped_remove(s, (uint32_t)i, 1);
    s->c.pending = 0;
    return 0;
}

/* Derives the keys of chain ch from ch->n up to (not including) until into add. */
static void skip_keys(recv_chain *ch, uint32_t until, skipped_key *add, uint32_t *n_add,
                      uint64_t now)
{
    while (ch->n < until) {
        skipped_key *k = &add[(*n_add)++];
        memcpy(k->dh, ch->dh, KEY);
        k->n = ch->n++;
        k->created = now;
        kdf_ck(ch->ck, k->mk);
    }
}

/* How many keys this message makes us skip: up to PN in our newest receiving chain when
 * it starts a new chain (Double Ratchet 3.5), and up to N in the chain it is on. */
static int count_skips(const ratchet_core *w, const envelope *e, int chain, uint32_t *pn_skip,
                       uint32_t *n_skip)
{
    *pn_skip = 0;
    if (chain < 0 && w->n_recv > 0 && e->pn > w->recv[0].n)
        *pn_skip = e->pn - w->recv[0].n;
    if (chain >= 0 && (e->n < w->recv[chain].n))
        return SOTTO_E_REPLAY; /* that key was used (or skipped and has since gone) */
    *n_skip = e->n - (chain >= 0 ? w->recv[chain].n : 0);
    if (e->n == UINT32_MAX)
        return SOTTO_E_BOUNDS;
    if (*pn_skip > SOTTO_MAX_SKIP || *n_skip > SOTTO_MAX_SKIP)
        return SOTTO_E_BOUNDS; /* checked before any work: a forged N or PN costs nothing */
    return 0;
}

/* The common case: the next message of a chain we have, nothing to skip. The transaction
 * is then only the chain key and counter, so it is copied alone instead of the whole
 * ratchet state; the outcome is the same as the general path's. */
static int decrypt_next(session *s, int chain, const envelope *e, uint64_t now, uint8_t *out,
                        size_t *out_len)
{
    recv_chain *ch = &s->c.recv[chain];
    uint8_t ck[KEY], mk[KEY];
    int rc;

    memcpy(ck, ch->ck, KEY);
    kdf_ck(ck, mk);
    if ((rc = open_with(&s->c, e, mk, out, out_len)) != 0)
        goto fail;
    /* Commit: nothing below can fail. */
    memcpy(ch->ck, ck, KEY);
    ch->n++;
    skipped_commit(s, NULL, 0, now); /* expiry, as on every successful decryption */
    s->c.pending = 0;
fail:
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(mk, sizeof mk);
    return rc;
}

int ratchet_decrypt(session *s, const envelope *e, uint64_t now, uint8_t *out, size_t cap,
                    size_t *out_len)
{
    ratchet_core w;
    skipped_key *add = NULL;
    uint32_t n_add = 0, n_alloc = 0, pn_skip, n_skip;
    uint8_t mk[KEY];
    int rc, i;

    if (cap < e->ct_len - TAG_BYTES)
        return SOTTO_E_BUFFER;
    if ((i = find_skipped(s, e)) >= 0)
        return decrypt_skipped(s, i, e, now, out, out_len);
    i = find_chain(&s->c, e->dh);
    if (i >= 0 && e->n == s->c.recv[i].n && e->n != UINT32_MAX)
        return decrypt_next(s, i, e, now, out, out_len);
    w = s->c;
    if ((rc = count_skips(&w, e, i, &pn_skip, &n_skip)) != 0)
        goto fail;
    rc = SOTTO_E_NOMEM;
    n_alloc = pn_skip + n_skip;
    if (n_alloc && (add = secret_alloc(n_alloc, sizeof *add)) == NULL)
        goto fail;
    if (i < 0) {
        if (pn_skip)
            skip_keys(&w.recv[0], e->pn, add, &n_add, now);
        if ((rc = dh_step(&w, e->dh)) != 0)
            goto fail;
        i = 0;
    }
    skip_keys(&w.recv[i], e->n, add, &n_add, now);
    kdf_ck(w.recv[i].ck, mk);
    w.recv[i].n++;
    if ((rc = open_with(&w, e, mk, out, out_len)) != 0)
        goto fail;
    rc = SOTTO_E_NOMEM;
    if (skipped_reserve(s, s->n_skipped + n_add) != 0)
        goto fail;
    /* Commit: nothing below can fail. */
    skipped_commit(s, add, n_add, now);
    w.pending = 0; /* the peer has the session: stop sending pre-key messages */
    s->c = w;
    rc = 0;
fail:
    secret_free(add, n_alloc, sizeof *add);
    sodium_memzero(&w, sizeof w);
    sodium_memzero(mk, sizeof mk);
    return rc;
}
