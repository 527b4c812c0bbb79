/* Strict UTF-8 decoding (RFC 3629 table 3-7 ranges). */
#include "utf8.h"

#include <stdint.h>

/* Length of the sequence starting at s[i], or 0 if it is invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t i, size_t len)
{
    unsigned char c = s[i];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0x01 && c <= 0x7F)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0; /* NUL, continuation byte, C0/C1 overlong leads, F5..FF */
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90; /* overlong */
    else if (c == 0xF4)
        hi = 0x8F; /* > U+10FFFF */
    if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return n;
}

int utf8_count(const char *s, size_t len, size_t *count)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n = 0;

    *count = 0;
    if (s == NULL && len != 0)
        return -1;
    while (i < len) {
        size_t k = utf8_seq_len(u, i, len);
        if (k == 0)
            return -1;
        i += k;
        n++;
    }
    *count = n;
    return 0;
}
