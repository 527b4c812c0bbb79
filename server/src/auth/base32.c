/* RFC 4648 section 6 base32. Strict: canonical input only. */
#include "base32.h"

#include <sodium.h>

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t base32_encoded_size(size_t len, int pad)
{
    size_t chars = (len * 8 + 4) / 5;

    if (pad)
        chars = (chars + 7) / 8 * 8;
    return chars + 1;
}

int base32_encode(const uint8_t *in, size_t len, int pad, char *out, size_t out_size)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (out == NULL || (in == NULL && len) || out_size < base32_encoded_size(len, pad))
        return -1;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = base32_alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = base32_alphabet[(acc << (5 - bits)) & 31];
    while (pad && o % 8 != 0)
        out[o++] = '=';
    out[o] = '\0';
    return 0;
}

static int base32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

/* Strips correct padding: none, or up to a multiple of 8 with 1, 3, 4 or 6 '='. */
static int base32_unpad(const char *s, size_t *len)
{
    size_t n = *len, pads = 0;

    while (n > 0 && s[n - 1] == '=') {
        n--;
        pads++;
    }
    if (pads == 0)
        return 0;
    if (*len % 8 != 0 || (pads != 1 && pads != 3 && pads != 4 && pads != 6))
        return -1;
    *len = n;
    return 0;
}

int base32_decode(const char *s, size_t len, uint8_t *out, size_t out_max, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0, rem;

    *out_len = 0;
    if (s == NULL || out == NULL || base32_unpad(s, &len) != 0)
        goto fail;
    rem = len % 8;
    if (rem == 1 || rem == 3 || rem == 6 || len / 8 * 5 + rem * 5 / 8 > out_max)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        int v = base32_value(s[i]);
        if (v < 0)
            goto fail;
        acc = ((acc << 5) | (uint32_t)v) & 0xFFFF;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1U << bits) - 1)) != 0)
        goto fail; /* non-canonical trailing bits */
    *out_len = o;
    return 0;
fail:
    if (out != NULL)
        sodium_memzero(out, out_max);
    return -1;
}
