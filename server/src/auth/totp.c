/* RFC 6238 TOTP with HMAC-SHA1 from OpenSSL. */
#include "totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"

#define TOTP_LABEL_MAX 128U
#define TOTP_B32_MAX 104U /* base32 of 64 bytes, unpadded, NUL included */

void totp_secret_generate(uint8_t secret[TOTP_SECRET_BYTES])
{
    randombytes_buf(secret, TOTP_SECRET_BYTES);
}

int totp_code_at(const uint8_t *secret, size_t secret_len, uint64_t step, unsigned digits,
                 uint32_t *code)
{
    static const uint32_t mod[] = {1000000U, 10000000U, 100000000U};
    uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    uint32_t bin;
    int rc = -1;

    if (secret == NULL || secret_len == 0 || secret_len > 64 || code == NULL || digits < 6 ||
        digits > 8)
        return -1;
    for (int i = 7; i >= 0; i--, step >>= 8)
        msg[i] = (uint8_t)step;
    if (HMAC(EVP_sha1(), secret, (int)secret_len, msg, sizeof msg, mac, &mac_len) == NULL ||
        mac_len != 20)
        goto fail;
    {
        unsigned off = mac[19] & 0x0f;
        bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
              ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    }
    *code = bin % mod[digits - 6];
    rc = 0;
fail:
    sodium_memzero(mac, sizeof mac);
    return rc;
}

static int totp_code_wellformed(const char *code, size_t len)
{
    if (code == NULL || len != TOTP_DIGITS)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

int totp_verify(const uint8_t *secret, size_t secret_len, const char *code, size_t code_len,
                int64_t now, int64_t last_step, int64_t *matched_step)
{
    int64_t base;
    int found = 0;
    char want[TOTP_DIGITS + 1];

    if (matched_step == NULL || now < 0 || !totp_code_wellformed(code, code_len))
        return -1;
    base = now / TOTP_PERIOD;
    /* All three steps are computed and compared; the first acceptable match wins. */
    for (int64_t s = base - TOTP_WINDOW; s <= base + TOTP_WINDOW; s++) {
        uint32_t v = 0;
        if (s < 0 || totp_code_at(secret, secret_len, (uint64_t)s, TOTP_DIGITS, &v) != 0)
            continue;
        snprintf(want, sizeof want, "%06u", (unsigned)v);
        if (sodium_memcmp(want, code, TOTP_DIGITS) == 0 && s > last_step && !found) {
            found = 1;
            *matched_step = s;
        }
    }
    sodium_memzero(want, sizeof want);
    return found ? 0 : -1;
}

/* Percent-encodes s into out at *pos (everything except RFC 3986 unreserved). */
static int totp_pct_append(char *out, size_t size, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (*pos + 4 > size)
            return -1;
        if (plain) {
            out[(*pos)++] = (char)c;
        } else {
            out[(*pos)++] = '%';
            out[(*pos)++] = hex[c >> 4];
            out[(*pos)++] = hex[c & 15];
        }
    }
    out[*pos] = '\0';
    return 0;
}

static int totp_raw_append(char *out, size_t size, size_t *pos, const char *s)
{
    size_t n = strlen(s);

    if (*pos + n + 1 > size)
        return -1;
    memcpy(out + *pos, s, n + 1);
    *pos += n;
    return 0;
}

static int totp_label_ok(const char *s)
{
    size_t n = s ? strnlen(s, TOTP_LABEL_MAX + 1) : 0;
    return n >= 1 && n <= TOTP_LABEL_MAX;
}

char *totp_otpauth_url(const char *issuer, const char *account, const uint8_t *secret,
                       size_t secret_len)
{
    char b32[TOTP_B32_MAX];
    char *out = NULL;
    size_t pos = 0;

    if (!totp_label_ok(issuer) || !totp_label_ok(account) || secret == NULL || secret_len == 0 ||
        secret_len > 64 || base32_encode(secret, secret_len, 0, b32, sizeof b32) != 0)
        goto fail;
    if ((out = malloc(TOTP_URL_MAX)) == NULL)
        goto fail;
    if (totp_raw_append(out, TOTP_URL_MAX, &pos, "otpauth://totp/") ||
        totp_pct_append(out, TOTP_URL_MAX, &pos, issuer) ||
        totp_raw_append(out, TOTP_URL_MAX, &pos, ":") ||
        totp_pct_append(out, TOTP_URL_MAX, &pos, account) ||
        totp_raw_append(out, TOTP_URL_MAX, &pos, "?secret=") ||
        totp_raw_append(out, TOTP_URL_MAX, &pos, b32) ||
        totp_raw_append(out, TOTP_URL_MAX, &pos, "&issuer=") ||
        totp_pct_append(out, TOTP_URL_MAX, &pos, issuer) ||
        totp_raw_append(out, TOTP_URL_MAX, &pos, "&algorithm=SHA1&digits=6&period=30"))
        goto fail;
    sodium_memzero(b32, sizeof b32);
    return out;
fail:
    if (out != NULL) {
        sodium_memzero(out, TOTP_URL_MAX);
        free(out);
    }
    sodium_memzero(b32, sizeof b32);
    return NULL;
}
