/*
 * devicelist.c: the account key and the list of an account's devices it signs (issue 23;
 * docs/protocol.md, "Account key and device list").
 *
 * Signed list, one encoding per list:
 *   format (1) = 1 || userId (16) || accountKey (32) || version (u64 BE, >= 1)
 *   || issuedAt (u64 BE, ms) || n (u8, 1..64) || n x (deviceId (16) || signingKey (32)),
 *   device ids strictly increasing
 *   || Ed25519 signature (64) by accountKey over "Sotto-v1-device-list" || all of the above.
 * The server stores and serves it; it cannot add, drop or swap a device, or serve an older
 * list to a client that has seen a newer one, without the client noticing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LIST_CONTEXT "Sotto-v1-device-list"
#define LIST_HEAD (1u + SOTTO_UUIDBYTES + KEY + 8u + 8u + 1u)
#define ENTRY (SOTTO_UUIDBYTES + KEY)

#ifdef __EMSCRIPTEN__
#include <stddef.h>
/* core/wasm/src/sotto.ts reads and writes sotto_device_list by these wasm32 offsets. */
_Static_assert(offsetof(sotto_device_list, version) == 48 &&
                   offsetof(sotto_device_list, issued_at_ms) == 56 &&
                   offsetof(sotto_device_list, n) == 64 &&
                   offsetof(sotto_device_list, devices) == 68 && sizeof(sotto_device_list) == 3144,
               "sotto_device_list layout changed: update core/wasm/src/sotto.ts");
#endif

int sotto_account_key_create(uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES], uint8_t public_key[KEY])
{
    rng_buf(seed, SOTTO_ACCOUNT_SEEDBYTES);
    return sotto_account_key_public(seed, public_key);
}

int sotto_account_key_public(const uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES], uint8_t public_key[KEY])
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    int rc = crypto_sign_seed_keypair(public_key, sk, seed) == 0 ? 0 : SOTTO_E_INVALID;

    sodium_memzero(sk, sizeof sk);
    return rc;
}

size_t sotto_device_list_signed_size(size_t n)
{
    return n >= 1 && n <= SOTTO_DEVICE_LIST_MAX ? LIST_HEAD + n * ENTRY + SOTTO_SIGBYTES : 0;
}

static int entry_cmp(const void *x, const void *y)
{
    return memcmp(((const sotto_listed_device *)x)->device_id,
                  ((const sotto_listed_device *)y)->device_id, SOTTO_UUIDBYTES);
}

/* Ids strictly increasing: sorted, and no device twice. */
static int ids_ordered(const sotto_device_list *l)
{
    for (size_t i = 1; i < l->n; i++)
        if (entry_cmp(&l->devices[i - 1], &l->devices[i]) >= 0)
            return 0;
    return 1;
}

static void write_list(wbuf *w, const sotto_device_list *l)
{
    wb_u8(w, SOTTO_DEVICE_LIST_VERSION);
    wb_bytes(w, l->user_id, SOTTO_UUIDBYTES);
    wb_bytes(w, l->account_key, KEY);
    wb_u64(w, l->version);
    wb_u64(w, l->issued_at_ms);
    wb_u8(w, (uint8_t)l->n);
    for (size_t i = 0; i < l->n; i++) {
        wb_bytes(w, l->devices[i].device_id, SOTTO_UUIDBYTES);
        wb_bytes(w, l->devices[i].signing_key, KEY);
    }
}

/* What the signature covers: the context string, then the list's bytes. */
static void signed_message(crypto_sign_state *st, const uint8_t *body, size_t len)
{
    crypto_sign_init(st);
    crypto_sign_update(st, (const uint8_t *)LIST_CONTEXT, sizeof LIST_CONTEXT - 1);
    crypto_sign_update(st, body, len);
}

int sotto_device_list_sign(sotto_device_list *l, const uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES],
                           uint8_t *out, size_t cap, size_t *len)
{
    uint8_t pk[KEY], sk[crypto_sign_SECRETKEYBYTES];
    size_t need = sotto_device_list_signed_size(l->n);
    crypto_sign_state st;
    wbuf w = {out, 0, cap, 0};
    int rc = SOTTO_E_INVALID;

    if (need == 0 || l->version == 0)
        return SOTTO_E_INVALID;
    if (cap < need)
        return SOTTO_E_BUFFER;
    qsort(l->devices, l->n, sizeof l->devices[0], entry_cmp);
    if (!ids_ordered(l) || crypto_sign_seed_keypair(pk, sk, seed) != 0)
        goto out;
    if (sodium_memcmp(pk, l->account_key, KEY) != 0)
        goto out; /* a list names the key that signs it */
    write_list(&w, l);
    signed_message(&st, out, w.len);
    crypto_sign_final_create(&st, out + w.len, NULL, sk);
    *len = need;
    rc = 0;
out:
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static int read_list(sotto_device_list *l, const uint8_t *in, size_t len)
{
    rbuf r = {in, len, 0, 0};

    if (len < 1)
        return SOTTO_E_INVALID;
    if (rb_u8(&r) != SOTTO_DEVICE_LIST_VERSION)
        return SOTTO_E_VERSION;
    rb_bytes(&r, l->user_id, SOTTO_UUIDBYTES);
    rb_bytes(&r, l->account_key, KEY);
    l->version = rb_u64(&r);
    l->issued_at_ms = rb_u64(&r);
    l->n = rb_u8(&r);
    if (r.err || sotto_device_list_signed_size(l->n) != len || l->version == 0)
        return SOTTO_E_INVALID;
    for (size_t i = 0; i < l->n; i++) {
        rb_bytes(&r, l->devices[i].device_id, SOTTO_UUIDBYTES);
        rb_bytes(&r, l->devices[i].signing_key, KEY);
    }
    return r.err || !ids_ordered(l) ? SOTTO_E_INVALID : 0;
}

int sotto_device_list_open(sotto_device_list *l, const uint8_t *in, size_t len,
                           const uint8_t pinned[KEY])
{
    crypto_sign_state st;
    int rc;

    memset(l, 0, sizeof *l);
    if ((rc = read_list(l, in, len)) != 0)
        goto fail;
    signed_message(&st, in, len - SOTTO_SIGBYTES);
    if (crypto_sign_final_verify(&st, in + len - SOTTO_SIGBYTES, l->account_key) != 0) {
        rc = SOTTO_E_AUTH;
        goto fail;
    }
    if (pinned && sodium_memcmp(pinned, l->account_key, KEY) != 0) {
        rc = SOTTO_E_UNTRUSTED;
        goto fail;
    }
    return 0;
fail:
    memset(l, 0, sizeof *l);
    return rc;
}

static int same_devices(const sotto_device_list *a, const sotto_device_list *b)
{
    return a->n == b->n && memcmp(a->devices, b->devices, a->n * sizeof a->devices[0]) == 0;
}

int sotto_device_list_update_ok(const sotto_device_list *seen, const sotto_device_list *next)
{
    if (memcmp(seen->user_id, next->user_id, SOTTO_UUIDBYTES) != 0 ||
        sodium_memcmp(seen->account_key, next->account_key, KEY) != 0)
        return SOTTO_E_UNTRUSTED;
    if (next->version > seen->version)
        return 0;
    return next->version == seen->version && same_devices(seen, next) ? 0 : SOTTO_E_REPLAY;
}

int sotto_device_list_has(const sotto_device_list *l, const uint8_t device_id[SOTTO_UUIDBYTES],
                          const uint8_t signing_key[KEY])
{
    for (size_t i = 0; i < l->n && i < SOTTO_DEVICE_LIST_MAX; i++)
        if (memcmp(l->devices[i].device_id, device_id, SOTTO_UUIDBYTES) == 0)
            return sodium_memcmp(l->devices[i].signing_key, signing_key, KEY) == 0;
    return 0;
}
