/*
 * bundle.c: verification of a peer device's public bundle before X3DH uses it:
 * the identity signature, the signed pre-key signature, and refusal of X25519 keys of
 * low order (which would make a DH output known to anyone).
 */
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
