/*
 * safety.c: safety numbers as ../shared/spec/api.md defines them, and the QR payload.
 *
 * Half for one user: K = their active devices' signing keys sorted bytewise ascending and
 * concatenated; h = 0x00 0x01 (version, u16 BE) || userId (36 lowercase ASCII characters)
 * || K; then 5,200 times h = SHA-512(h || K). The first 30 bytes of h, as six 5-byte
 * big-endian numbers each mod 100,000, give 30 digits. The number two people compare is
 * both halves sorted as strings and concatenated: the same 60 digits on either side.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SAFETY_VERSION 1u
#define SAFETY_VERSION_ACCOUNTS 2u /* over account keys (issue 23) */
#define SAFETY_ITERATIONS 5200u
#define UUID_CHARS 36u

typedef struct half {
    char digits[SOTTO_SAFETY_HALF_DIGITS + 1];
    uint8_t uuid[SOTTO_UUIDBYTES];
    uint8_t hash[32];
} half;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Canonical 8-4-4-4-12 form only; writes the lowercase text and the 16 bytes. */
static int parse_uuid(const char *s, char lower[UUID_CHARS], uint8_t raw[SOTTO_UUIDBYTES])
{
    size_t j = 0;
    if (s == NULL || strlen(s) != UUID_CHARS)
        return SOTTO_E_INVALID;
    for (size_t i = 0; i < UUID_CHARS; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23, v;
        if (dash) {
            if (s[i] != '-')
                return SOTTO_E_INVALID;
            lower[i] = '-';
            continue;
        }
        if ((v = hexval(s[i])) < 0)
            return SOTTO_E_INVALID;
        lower[i] = "0123456789abcdef"[v];
        if (j % 2 == 0)
            raw[j / 2] = (uint8_t)(v << 4);
        else
            raw[j / 2] |= (uint8_t)v;
        j++;
    }
    return 0;
}

static int key_cmp(const void *x, const void *y) { return memcmp(x, y, KEY); }

static int compute_half(half *h, uint8_t ver, const char *user, const uint8_t *keys, size_t n)
{
    uint8_t sorted[SOTTO_SAFETY_MAX_DEVICES * KEY], digest[crypto_hash_sha512_BYTES];
    char lower[UUID_CHARS];
    uint8_t version[2] = {0, ver};
    crypto_hash_sha512_state st;

    if (n == 0 || n > SOTTO_SAFETY_MAX_DEVICES || keys == NULL ||
        parse_uuid(user, lower, h->uuid) != 0)
        return SOTTO_E_INVALID;
    memcpy(sorted, keys, n * KEY);
    qsort(sorted, n, KEY, key_cmp);
    for (size_t i = 1; i < n; i++)
        if (memcmp(sorted + (i - 1) * KEY, sorted + i * KEY, KEY) == 0)
            return SOTTO_E_INVALID; /* one device listed twice */
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, version, sizeof version);
    crypto_hash_sha512_update(&st, (const uint8_t *)lower, UUID_CHARS);
    crypto_hash_sha512_update(&st, sorted, n * KEY);
    crypto_hash_sha512_update(&st, sorted, n * KEY);
    crypto_hash_sha512_final(&st, digest);
    for (unsigned i = 1; i < SAFETY_ITERATIONS; i++) {
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, digest, sizeof digest);
        crypto_hash_sha512_update(&st, sorted, n * KEY);
        crypto_hash_sha512_final(&st, digest);
    }
    for (unsigned c = 0; c < 6; c++) {
        const uint8_t *p = digest + 5 * c;
        uint64_t v = ((uint64_t)p[0] << 32) | ((uint64_t)p[1] << 24) | ((uint64_t)p[2] << 16) |
                     ((uint64_t)p[3] << 8) | p[4];
        v %= 100000u;
        for (int d = 4; d >= 0; d--, v /= 10)
            h->digits[5 * c + (unsigned)d] = (char)('0' + v % 10);
    }
    h->digits[SOTTO_SAFETY_HALF_DIGITS] = '\0';
    memcpy(h->hash, digest, sizeof h->hash);
    return 0;
}

/* Both halves, the lower digit string first, so both people get the same order. */
static int compute_pair(half out[2], uint8_t v, const char *user_a, const uint8_t *keys_a,
                        size_t n_a, const char *user_b, const uint8_t *keys_b, size_t n_b)
{
    half a, b;
    if (compute_half(&a, v, user_a, keys_a, n_a) != 0 ||
        compute_half(&b, v, user_b, keys_b, n_b) != 0)
        return SOTTO_E_INVALID;
    if (strcmp(a.digits, b.digits) <= 0) {
        out[0] = a;
        out[1] = b;
    } else {
        out[0] = b;
        out[1] = a;
    }
    return 0;
}

static int number(char out[SOTTO_SAFETY_DIGITS + 1], uint8_t v, const char *user_a,
                  const uint8_t *keys_a, size_t n_a, const char *user_b, const uint8_t *keys_b,
                  size_t n_b)
{
    half h[2];
    int rc = compute_pair(h, v, user_a, keys_a, n_a, user_b, keys_b, n_b);
    if (rc != 0)
        return rc;
    memcpy(out, h[0].digits, SOTTO_SAFETY_HALF_DIGITS);
    memcpy(out + SOTTO_SAFETY_HALF_DIGITS, h[1].digits, SOTTO_SAFETY_HALF_DIGITS + 1);
    return 0;
}

int sotto_safety_number(char out[SOTTO_SAFETY_DIGITS + 1], const char *user_a,
                        const uint8_t *keys_a, size_t n_a, const char *user_b,
                        const uint8_t *keys_b, size_t n_b)
{
    return number(out, SAFETY_VERSION, user_a, keys_a, n_a, user_b, keys_b, n_b);
}

/* Version 2: each half over the user's account key, the one "device key" of the half. */
int sotto_safety_number_accounts(char out[SOTTO_SAFETY_DIGITS + 1], const char *user_a,
                                 const uint8_t account_key_a[KEY], const char *user_b,
                                 const uint8_t account_key_b[KEY])
{
    return number(out, SAFETY_VERSION_ACCOUNTS, user_a, account_key_a, 1, user_b, account_key_b, 1);
}

/* version (1) || for each half in display order: userId (16) || first 32 bytes of h. */
int sotto_safety_qr(uint8_t out[SOTTO_SAFETY_QRBYTES], const char *user_a, const uint8_t *keys_a,
                    size_t n_a, const char *user_b, const uint8_t *keys_b, size_t n_b)
{
    half h[2];
    int rc = compute_pair(h, SAFETY_VERSION, user_a, keys_a, n_a, user_b, keys_b, n_b);
    if (rc != 0)
        return rc;
    out[0] = SAFETY_VERSION;
    for (int i = 0; i < 2; i++) {
        memcpy(out + 1 + 48 * i, h[i].uuid, SOTTO_UUIDBYTES);
        memcpy(out + 1 + 48 * i + SOTTO_UUIDBYTES, h[i].hash, 32);
    }
    return 0;
}

int sotto_safety_qr_verify(const uint8_t ours[SOTTO_SAFETY_QRBYTES], const uint8_t *scanned,
                           size_t scanned_len)
{
    if (scanned_len != SOTTO_SAFETY_QRBYTES)
        return SOTTO_E_INVALID;
    if (scanned[0] != SAFETY_VERSION)
        return SOTTO_E_VERSION;
    return sodium_memcmp(ours, scanned, SOTTO_SAFETY_QRBYTES) == 0 ? 0 : SOTTO_E_AUTH;
}
