/* XChaCha20-Poly1305 at-rest encryption with label + user id as associated data. */
#include "secretbox.h"

#include <sodium.h>
#include <string.h>

#define SECRETBOX_VERSION 0x01
#define SECRETBOX_NPUB crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SECRETBOX_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SECRETBOX_AD_MAX (1U + 2U * (1U + 255U))

size_t secretbox_overhead(void) { return SECRETBOX_OVERHEAD; }

/* ad = version || len(label) || label || len(user_id) || user_id: unambiguous. */
static int secretbox_ad(const char *label, const char *user_id, uint8_t ad[SECRETBOX_AD_MAX],
                        size_t *ad_len)
{
    size_t ll = label ? strnlen(label, 256) : 0, ul = user_id ? strnlen(user_id, 256) : 0;
    size_t p = 0;

    if (ll == 0 || ll > 255 || ul == 0 || ul > 255)
        return -1;
    ad[p++] = SECRETBOX_VERSION;
    ad[p++] = (uint8_t)ll;
    memcpy(ad + p, label, ll);
    p += ll;
    ad[p++] = (uint8_t)ul;
    memcpy(ad + p, user_id, ul);
    *ad_len = p + ul;
    return 0;
}

int secretbox_seal(const uint8_t key[SECRETBOX_KEY_BYTES], const char *label, const char *user_id,
                   const uint8_t *msg, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
    uint8_t ad[SECRETBOX_AD_MAX];
    size_t ad_len = 0;
    unsigned long long clen = 0;

    if (out_len != NULL)
        *out_len = 0;
    if (key == NULL || msg == NULL || out == NULL || out_len == NULL || len == 0 ||
        len > SECRETBOX_MAX_PLAINTEXT || out_size < len + SECRETBOX_OVERHEAD ||
        secretbox_ad(label, user_id, ad, &ad_len) != 0)
        return -1;
    out[0] = SECRETBOX_VERSION;
    randombytes_buf(out + 1, SECRETBOX_NPUB);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + SECRETBOX_NPUB, &clen, msg, len, ad,
                                               ad_len, NULL, out + 1, key);
    *out_len = 1 + SECRETBOX_NPUB + (size_t)clen;
    return 0;
}

int secretbox_open(const uint8_t key[SECRETBOX_KEY_BYTES], const char *label, const char *user_id,
                   const uint8_t *blob, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
    uint8_t ad[SECRETBOX_AD_MAX];
    size_t ad_len = 0;
    unsigned long long mlen = 0;

    if (out_len != NULL)
        *out_len = 0;
    if (key == NULL || blob == NULL || out == NULL || out_len == NULL)
        return -1;
    if (len <= SECRETBOX_OVERHEAD || len > SECRETBOX_MAX_PLAINTEXT + SECRETBOX_OVERHEAD ||
        out_size < len - SECRETBOX_OVERHEAD || blob[0] != SECRETBOX_VERSION ||
        secretbox_ad(label, user_id, ad, &ad_len) != 0)
        goto fail;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, blob + 1 + SECRETBOX_NPUB,
                                                   len - 1 - SECRETBOX_NPUB, ad, ad_len, blob + 1,
                                                   key) != 0)
        goto fail;
    *out_len = (size_t)mlen;
    return 0;
fail:
    sodium_memzero(out, out_size);
    return -1;
}
