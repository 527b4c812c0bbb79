/*
 * fuzz_common.h: what sottod's fuzz targets share: the fixed JWT key and clock of the
 * fuzz_jwt and fuzz_wsproto targets (gen_corpus.c signs the seed tokens with them), a small
 * reader of input bytes, and the abort that makes a broken property a finding.
 */
#ifndef SOTTO_SERVER_FUZZ_COMMON_H
#define SOTTO_SERVER_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 32 bytes, JWT_KEY_MIN_BYTES. */
#define FUZZ_JWT_KEY ((const uint8_t *)"sotto fuzz jwt key, 32 bytes ok!")
#define FUZZ_JWT_KEY_LEN 32U
#define FUZZ_NOW 1764000000 /* unix seconds: 2025-11-24 */

/* A broken property: print it and abort, which libFuzzer reports with the input. */
#define FUZZ_FAIL(...)                                                 \
    do {                                                               \
        fprintf(stderr, "fuzz finding (%s:%d): ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                  \
        fputc('\n', stderr);                                           \
        abort();                                                       \
    } while (0)
#define FUZZ_CHECK(cond)            \
    do {                            \
        if (!(cond))                \
            FUZZ_FAIL("%s", #cond); \
    } while (0)

/* Input bytes, taken from the front; zeros once they run out. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    uint8_t v = 0;
    if (in->n) {
        v = in->p[0];
        in->p++, in->n--;
    }
    return v;
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | fuzz_u8(in);
    return v;
}

/* Up to max bytes, as a fresh NUL-terminated string (the caller frees); stops at a NUL
 * byte in the input, which it consumes. */
static inline char *fuzz_cstr(fuzz_in *in, size_t max)
{
    size_t n = 0;
    char *s;
    while (n < in->n && n < max && in->p[n] != 0)
        n++;
    if ((s = malloc(n + 1)) == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        s[i] = (char)in->p[i];
    s[n] = 0;
    in->p += n, in->n -= n;
    if (in->n && in->p[0] == 0)
        in->p++, in->n--;
    return s;
}

/* fuzz_http_raw's plan for one input, from an FNV-1a hash of its bytes (so a seed file is
 * just the bytes a client sends, and gen_corpus.c can pick seeds that take a given plan):
 * the input goes out in one write (a quarter of the inputs), or cut at cut[0] <= cut[1]
 * into up to three; then the client half-closes at once, or keeps the connection open
 * while answers come. */
typedef struct fuzz_http_plan {
    size_t cut[2];
    int one_write;
    int half_close_at_once;
} fuzz_http_plan;

static inline fuzz_http_plan fuzz_http_plan_of(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    fuzz_http_plan p;

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    /* FNV's low bits mix poorly (two equal requests cancel out): MurmurHash3's finaliser */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    p.one_write = size == 0 || (h & 3) == 0;
    p.half_close_at_once = !(h >> 63);
    p.cut[0] = p.one_write ? 0 : (size_t)((h >> 2) % (size + 1));
    p.cut[1] = p.one_write ? 0 : (size_t)((h >> 24) % (size + 1));
    if (p.cut[0] > p.cut[1]) {
        size_t t = p.cut[0];
        p.cut[0] = p.cut[1], p.cut[1] = t;
    }
    return p;
}

#endif
