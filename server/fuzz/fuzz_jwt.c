/*
 * fuzz_jwt: the access-token verifier (server/src/auth/jwt.c) and the issue time read from
 * its jti (access_token.h). The first byte picks how the rest is used:
 *
 *   0  the rest is a token, verified as it is (mostly refused at the MAC, as an attacker's is)
 *   1  the rest is "header.payload" text: the target appends the right HS256 MAC, so the
 *      parsing behind the MAC is reached with whatever the text holds
 *   2  the rest is header JSON, NUL, payload JSON: base64url-encoded, joined and MACed
 *   3  the rest chooses claims: signing them must succeed (when valid), verifying the
 *      token must give them back, and changing any one byte of it must be refused
 *
 * Findings: a crash; a token accepted with claims jwt_sign would refuse, with a header other
 * than {"alg":"HS256","typ":"JWT"}, or with a MAC it does not carry; a round trip that
 * loses or changes claims; a one-byte change that still verifies.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api/access_token.h"
#include "auth/b64.h"
#include "auth/jwt.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool id_ok(const char *s)
{
    size_t n = strnlen(s, JWT_ID_MAX);
    if (n == 0 || n >= JWT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* What a verified token must satisfy, whatever it held. */
static void check_verified(jwt_status st, const jwt_claims *c, const char *tok, size_t len)
{
    jwt_claims again;

    if (st != JWT_OK && st != JWT_ERR_EXPIRED) {
        static const jwt_claims zero;
        FUZZ_CHECK(memcmp(c, &zero, sizeof zero) == 0);
        return;
    }
    FUZZ_CHECK(id_ok(c->sub) && id_ok(c->dev) && id_ok(c->jti));
    FUZZ_CHECK(c->iat >= 0 && c->exp > c->iat);
    FUZZ_CHECK(c->iat <= FUZZ_NOW + JWT_CLOCK_SKEW_SECONDS);
    FUZZ_CHECK((st == JWT_OK) == (FUZZ_NOW < c->exp));
    /* Deterministic, and nothing else verifies it. */
    FUZZ_CHECK(jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, tok, len, FUZZ_NOW, &again) == st);
    FUZZ_CHECK(memcmp(&again, c, sizeof again) == 0);
    FUZZ_CHECK(jwt_verify((const uint8_t *)"another key of thirty-two bytes!", 32, tok, len,
                          FUZZ_NOW, &again) == JWT_ERR_SIGNATURE);
    /* The issue time falls in the iat second. */
    int64_t ms = access_token_issued_ms(c);
    FUZZ_CHECK(ms / 1000 == c->iat || c->iat > INT64_MAX / 1000);
    /* The header is the one header: alg HS256, typ JWT, nothing else. */
    const char *dot = memchr(tok, '.', len);
    uint8_t hbuf[JWT_MAX_TOKEN_LEN];
    size_t hn;
    FUZZ_CHECK(dot != NULL);
    FUZZ_CHECK(b64_decode(tok, (size_t)(dot - tok), B64_URL, hbuf, sizeof hbuf, &hn) == 0);
    json_t *h = json_loadb((const char *)hbuf, hn, 0, NULL);
    FUZZ_CHECK(h != NULL && json_object_size(h) == 2);
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(h, "alg")), "HS256"));
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(h, "typ")), "JWT"));
    json_decref(h);
    /* What verifies re-signs, and the new token verifies to the same claims. */
    char *re = NULL;
    FUZZ_CHECK(jwt_sign(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, c, &re) == JWT_OK);
    FUZZ_CHECK(jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, re, strlen(re), FUZZ_NOW, &again) == st);
    FUZZ_CHECK(memcmp(&again, c, sizeof again) == 0);
    free(re);
}

static void verify(const char *tok, size_t len)
{
    jwt_claims c;
    jwt_status st = jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, tok, len, FUZZ_NOW, &c);

    FUZZ_CHECK(st == JWT_OK || st == JWT_ERR_MALFORMED || st == JWT_ERR_SIGNATURE ||
               st == JWT_ERR_EXPIRED);
    FUZZ_CHECK(strlen(jwt_status_name(st)) > 0);
    check_verified(st, &c, tok, len);
}

/* text + "." + base64url(HMAC-SHA256(key, text)) */
static void verify_signed(const char *text, size_t len)
{
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char *tok = malloc(len + 64);

    if (tok == NULL)
        abort();
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)text, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(tok, text, len);
    tok[len] = '.';
    if (b64_encode(mac, sizeof mac, B64_URL, tok + len + 1, 63) != 0)
        abort();
    verify(tok, strlen(tok + len) + len);
    free(tok);
}

static void verify_json(const uint8_t *p, size_t n)
{
    const uint8_t *nul = memchr(p, 0, n);
    size_t hl = nul ? (size_t)(nul - p) : n, pl = nul ? n - hl - 1 : 0;
    size_t cap = b64_encoded_size(hl, B64_URL) + b64_encoded_size(pl, B64_URL) + 1;
    char *text = malloc(cap);

    if (text == NULL || b64_encode(p, hl, B64_URL, text, cap) != 0)
        abort();
    size_t at = strlen(text);
    text[at++] = '.';
    if (b64_encode(nul ? nul + 1 : p + n, pl, B64_URL, text + at, cap - at) != 0)
        abort();
    verify_signed(text, strlen(text));
    free(text);
}

static void take_id(fuzz_in *in, char dst[JWT_ID_MAX])
{
    size_t n = fuzz_u8(in) % (JWT_ID_MAX + 2); /* 64 and 65: too long */
    memset(dst, 0, JWT_ID_MAX);
    for (size_t i = 0; i < n && i < JWT_ID_MAX; i++)
        dst[i] = (char)(0x21 + fuzz_u8(in) % 94);
    if (n >= JWT_ID_MAX)
        dst[JWT_ID_MAX - 1] = 'x'; /* no terminator: jwt_sign must refuse, not overread */
}

static void round_trip(fuzz_in *in)
{
    jwt_claims c, got;
    char *tok = NULL;

    memset(&c, 0, sizeof c);
    take_id(in, c.sub);
    take_id(in, c.dev);
    take_id(in, c.jti);
    c.iat = (int64_t)FUZZ_NOW - 2000 + (int64_t)(fuzz_u32(in) % 4000);
    c.exp = c.iat + (int64_t)(fuzz_u32(in) % 4000) - 100;
    if (fuzz_u8(in) == 0xff)
        c.iat = -1;
    bool valid = id_ok(c.sub) && id_ok(c.dev) && id_ok(c.jti) && c.iat >= 0 && c.exp > c.iat;
    jwt_status st = jwt_sign(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, &c, &tok);
    if (!valid) {
        FUZZ_CHECK(st == JWT_ERR_ARG && tok == NULL);
        return;
    }
    FUZZ_CHECK(st == JWT_OK && tok != NULL);
    size_t len = strlen(tok);
    FUZZ_CHECK(len <= JWT_MAX_TOKEN_LEN);
    st = jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, tok, len, FUZZ_NOW, &got);
    bool fresh = c.iat <= FUZZ_NOW + JWT_CLOCK_SKEW_SECONDS;
    if (!fresh) {
        FUZZ_CHECK(st == JWT_ERR_MALFORMED); /* issued in the future */
    } else {
        FUZZ_CHECK(st == (FUZZ_NOW < c.exp ? JWT_OK : JWT_ERR_EXPIRED));
        FUZZ_CHECK(memcmp(&got, &c, sizeof c) == 0);
        check_verified(st, &got, tok, len);
    }
    /* The token cut short by one byte: refused. */
    st = jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, tok, len - 1, FUZZ_NOW, &got);
    FUZZ_CHECK(st != JWT_OK && st != JWT_ERR_EXPIRED);
    /* Any one byte changed (to anything, '.' and NUL included): refused. */
    size_t at = fuzz_u32(in) % len;
    tok[at] = (char)(tok[at] ^ (1 + fuzz_u8(in) % 255));
    st = jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, tok, len, FUZZ_NOW, &got);
    if (st == JWT_OK || st == JWT_ERR_EXPIRED)
        FUZZ_FAIL("byte %zu changed and the token still verifies", at);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    fuzz_in in = {data, size};

    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = 1;
    }
    if (size == 0)
        return 0;
    switch (fuzz_u8(&in) % 4) {
    case 0: verify((const char *)in.p, in.n); break;
    case 1: verify_signed((const char *)in.p, in.n); break;
    case 2: verify_json(in.p, in.n); break;
    default: round_trip(&in); break;
    }
    return 0;
}
