/* Strict base64 over libsodium (sodium_bin2base64 / sodium_base642bin). */
#include "b64.h"

#include <sodium.h>

static int b64_sodium_variant(b64_variant v)
{
    return v == B64_URL ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
}

size_t b64_encoded_size(size_t bin_len, b64_variant v)
{
    return sodium_base64_encoded_len(bin_len, b64_sodium_variant(v));
}

int b64_encode(const uint8_t *bin, size_t bin_len, b64_variant v, char *out, size_t out_size)
{
    if (out == NULL || out_size < b64_encoded_size(bin_len, v))
        return -1;
    sodium_bin2base64(out, out_size, bin, bin_len, b64_sodium_variant(v));
    return 0;
}

int b64_decode(const char *s, size_t len, b64_variant v, uint8_t *out, size_t out_max,
               size_t *out_len)
{
    size_t n = 0;
    unsigned char high = 0;

    *out_len = 0;
    if (s == NULL || out == NULL)
        return -1;
    /* libsodium 1.0.18 decodes every byte from 0x80 up as '/' (or '_'): it reads a char,
     * signed, and its constant-time comparisons only look at the low 8 bits. So those bytes
     * are refused here, without a branch on the data (tokens are secrets). Found by
     * server/fuzz/fuzz_text.c (regressions/text/b64-high-bit-bytes). */
    for (size_t i = 0; i < len; i++)
        high |= (unsigned char)s[i];
    /* b64_end NULL: libsodium fails on any character it cannot consume (NUL included). */
    if ((high & 0x80) != 0 ||
        sodium_base642bin(out, out_max, s, len, NULL, &n, NULL, b64_sodium_variant(v)) != 0) {
        sodium_memzero(out, out_max);
        return -1;
    }
    *out_len = n;
    return 0;
}

int b64_decode_exact(const char *s, size_t len, b64_variant v, uint8_t *out, size_t want)
{
    size_t n = 0;

    if (b64_decode(s, len, v, out, want, &n) != 0)
        return -1;
    if (n != want) {
        sodium_memzero(out, want);
        return -1;
    }
    return 0;
}
