/* util.c: base64 (libsodium's codec), UUIDs, clocks and a bounded string copy. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

char *b64_encode(const uint8_t *in, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);

    if (out != NULL)
        sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int b64_decode(const char *in, uint8_t **out, size_t *len)
{
    size_t n = strlen(in), cap = n / 4 * 3 + 3;
    uint8_t *buf = malloc(cap ? cap : 1);

    if (buf == NULL)
        return -1;
    if (sodium_base642bin(buf, cap, in, n, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

int b64_decode_fixed(const char *in, uint8_t *out, size_t len)
{
    uint8_t *buf;
    size_t n;

    if (in == NULL || b64_decode(in, &buf, &n) != 0)
        return -1;
    if (n != len) {
        free(buf);
        return -1;
    }
    memcpy(out, buf, len);
    free(buf);
    return 0;
}

void uuid_format(const uint8_t in[16], char out[UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[in[i] >> 4];
        out[o++] = hex[in[i] & 15];
    }
    out[o] = '\0';
}

void uuid_v4(char out[UUID_STRLEN + 1])
{
    uint8_t b[16];

    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

int uuid_parse(const char *s, uint8_t out[16])
{
    size_t o = 0;

    if (s == NULL || strlen(s) != UUID_STRLEN)
        return -1;
    for (size_t i = 0; i < UUID_STRLEN;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i++] != '-')
                return -1;
            continue;
        }
        if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
            return -1;
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            return -1;
        out[o++] = (uint8_t)v;
        i += 2;
    }
    return o == 16 ? 0 : -1;
}

/* Tests move the client's clock (e.g. a week ahead, to see the signed pre-key rotate)
 * with SOTTO_TEST_CLOCK_OFFSET=<seconds>. It only changes this client's own idea of time,
 * and only in builds with SOTTO_TEST_HOOKS: a release build ignores the variable. */
static int64_t clock_offset_s(void)
{
#ifdef SOTTO_TEST_HOOKS
    const char *e = getenv("SOTTO_TEST_CLOCK_OFFSET");
    return e != NULL ? strtoll(e, NULL, 10) : 0;
#else
    return 0;
#endif
}

/* Tests of accounts from before account keys run the client as one of that time with
 * SOTTO_TEST_LEGACY_CLIENT=1 (it makes no account key and migrates nothing); only in builds
 * with SOTTO_TEST_HOOKS, like the clock above. */
int test_legacy_client(void)
{
#ifdef SOTTO_TEST_HOOKS
    const char *e = getenv("SOTTO_TEST_LEGACY_CLIENT");
    return e != NULL && !strcmp(e, "1");
#else
    return 0;
#endif
}

uint64_t now_s(void) { return (uint64_t)((int64_t)time(NULL) + clock_offset_s()); }

uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)(((int64_t)ts.tv_sec + clock_offset_s()) * 1000 + ts.tv_nsec / 1000000);
}

int str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (cap == 0)
        return -1;
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = '\0';
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

int write_all(int fd, const uint8_t *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}
