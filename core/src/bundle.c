/*
 * bundle.c: verification of a peer device's public bundle before X3DH uses it:
 * the identity signature, the signed pre-key signature, and refusal of X25519 keys of
 * low order (which would make a DH output known to anyone); and the bundle's fixed-size
 * byte form for callers that cannot use the struct.
 */
#include <string.h>

#include "internal.h"

int sotto_bundle_verify(const sotto_bundle *b)
{
    if (x25519_is_low_order(b->identity_key) || x25519_is_low_order(b->signed_pre_key))
        return SOTTO_E_INVALID;
    if (b->has_one_time_pre_key && x25519_is_low_order(b->one_time_pre_key.public_key))
        return SOTTO_E_INVALID;
    /* libsodium's verify refuses non-canonical and small-order Ed25519 keys and R values. */
    if (verify_identity(b->identity_signature, b->identity_key, b->signing_key) != 0)
        return SOTTO_E_AUTH;
    if (spk_verify(b->signed_pre_key_signature, b->identity_key, b->signed_pre_key_id,
                   b->signed_pre_key, b->signing_key) != 0)
        return SOTTO_E_AUTH;
    return 0;
}

size_t sotto_bundle_bytes(void) { return SOTTO_BUNDLE_BYTES; }

void sotto_bundle_encode(const sotto_bundle *b, uint8_t out[SOTTO_BUNDLE_BYTES])
{
    static const uint8_t zero[KEY];
    wbuf w = {out, 0, SOTTO_BUNDLE_BYTES, 0};
    int otk = b->has_one_time_pre_key != 0;

    wb_bytes(&w, b->identity_key, KEY);
    wb_bytes(&w, b->signing_key, KEY);
    wb_bytes(&w, b->identity_signature, SOTTO_SIGBYTES);
    wb_u32(&w, b->signed_pre_key_id);
    wb_bytes(&w, b->signed_pre_key, KEY);
    wb_bytes(&w, b->signed_pre_key_signature, SOTTO_SIGBYTES);
    wb_u8(&w, (uint8_t)otk);
    wb_u32(&w, otk ? b->one_time_pre_key.key_id : 0);
    wb_bytes(&w, otk ? b->one_time_pre_key.public_key : zero, KEY);
}

int sotto_bundle_decode(sotto_bundle *b, const uint8_t *in, size_t len)
{
    static const uint8_t zero[KEY];
    rbuf r = {in, len, 0, 0};

    memset(b, 0, sizeof *b);
    if (len != SOTTO_BUNDLE_BYTES)
        return SOTTO_E_INVALID;
    rb_bytes(&r, b->identity_key, KEY);
    rb_bytes(&r, b->signing_key, KEY);
    rb_bytes(&r, b->identity_signature, SOTTO_SIGBYTES);
    b->signed_pre_key_id = rb_u32(&r);
    rb_bytes(&r, b->signed_pre_key, KEY);
    rb_bytes(&r, b->signed_pre_key_signature, SOTTO_SIGBYTES);
    b->has_one_time_pre_key = rb_u8(&r);
    b->one_time_pre_key.key_id = rb_u32(&r);
    rb_bytes(&r, b->one_time_pre_key.public_key, KEY);
    /* One encoding per bundle: a presence byte of 0 or 1, and nothing where none is. */
    if (r.err || b->has_one_time_pre_key > 1 ||
        (!b->has_one_time_pre_key && (b->one_time_pre_key.key_id != 0 ||
                                      memcmp(b->one_time_pre_key.public_key, zero, KEY) != 0))) {
        memset(b, 0, sizeof *b);
        return SOTTO_E_INVALID;
    }
    return 0;
}
