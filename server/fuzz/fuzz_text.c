/*
 * fuzz_text: the text validators and decoders input reaches before anything trusts it:
 * utf8_count (auth/utf8.c), api_string (api/fields.c: the text rule of every JSON body's
 * names, bios, device names, ...), api_username_ok and api_is_uuid (api/check.c),
 * base32_decode (TOTP secrets) and b64_decode (tokens, keys, envelopes).
 *
 * The first byte picks a check, its bits limits; the rest is the text. Findings: a crash or
 * overread; utf8_count disagreeing with an independent RFC 3629 decoder; api_string
 * accepting invalid UTF-8, a control or bidirectional override character, or a length out of
 * its bounds; the UUID check disagreeing with a pattern match of its definition; a decoder
 * accepting text that its encoder would not write back the same (a second spelling of the same
 * bytes), or not decoding what the encoder wrote.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api/api.h"
#include "auth/b64.h"
#include "auth/base32.h"
#include "auth/utf8.h"
#include "fuzz_common.h"
#include "messaging/rt_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Independent strict decoder: the code points of s, or -1. */
static long ref_decode(const uint8_t *s, size_t n, uint32_t *cps, size_t max)
{
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t c = s[i], min;
        size_t len;
        if (c == 0)
            return -1;
        if (c < 0x80)
            len = 1, min = 0;
        else if ((c & 0xe0) == 0xc0)
            len = 2, c &= 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            len = 3, c &= 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            len = 4, c &= 0x07, min = 0x10000;
        else
            return -1;
        if (n - i < len)
            return -1;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -1;
        if (k < max)
            cps[k] = c;
        k++;
        i += len;
    }
    return (long)k;
}

static bool is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

/* The definition of the one id form, independently: 8-4-4-4-12 lower-case hex digits. */
static bool uuid_reference(const char *z)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t i = 0;

    for (; shape[i]; i++) {
        if (shape[i] == '-' ? z[i] != '-' : !z[i] || !strchr("0123456789abcdef", z[i]))
            return false;
    }
    return z[i] == 0;
}

static void text_checks(uint8_t sel, const uint8_t *p, size_t n)
{
    static uint32_t cps[8192];
    size_t count = 12345;
    long ref = ref_decode(p, n, cps, sizeof cps / sizeof cps[0]);
    int rc = utf8_count((const char *)p, n, &count);

    if ((rc == 0) != (ref >= 0) || (rc == 0 && (long)count != ref) || (rc && count))
        FUZZ_FAIL("utf8_count %d/%zu, reference %ld", rc, count, ref);

    /* api_string on {"f": text}, with limits from the selector byte. */
    size_t min_chars = sel & 3, max_chars = 1 + (sel >> 2) * 4;
    bool required = sel & 0x80;
    struct job j;
    json_t *obj = json_object();
    json_object_set_new(obj, "f", json_stringn_nocheck((const char *)p, n));
    memset(&j, 0, sizeof j);
    const char *s = api_string(&j, obj, "f", required, min_chars, max_chars);
    if (s) {
        FUZZ_CHECK(j.code == NULL && j.details == NULL);
        FUZZ_CHECK(ref >= 0 && (size_t)ref >= min_chars && (size_t)ref <= max_chars);
        for (long i = 0; i < ref && i < (long)(sizeof cps / sizeof cps[0]); i++)
            if (is_control(cps[i]))
                FUZZ_FAIL("api_string accepted U+%04X", (unsigned)cps[i]);
    } else {
        FUZZ_CHECK(j.status == 400 && j.code && j.details);
        bool should_pass = ref >= 0 && (size_t)ref >= min_chars && (size_t)ref <= max_chars;
        for (long i = 0; should_pass && i < ref; i++)
            should_pass = !is_control(cps[i]);
        if (should_pass)
            FUZZ_FAIL("api_string refused a valid value (%zu code points)", (size_t)ref);
    }
    json_decref(j.details);
    /* A missing field: "" unless required. */
    memset(&j, 0, sizeof j);
    s = api_string(&j, obj, "g", required, min_chars, max_chars);
    FUZZ_CHECK(required ? s == NULL && j.status == 400 : s != NULL && !*s);
    json_decref(j.details);
    json_decref(obj);

    char *z = malloc(n + 1);
    if (z == NULL)
        abort();
    memcpy(z, p, n);
    z[n] = 0;
    FUZZ_CHECK(api_is_uuid(z) == uuid_reference(z));
    if (api_username_ok(z)) {
        FUZZ_CHECK(strlen(z) >= 3 && strlen(z) <= 32);
        for (char *q = z; *q; q++)
            FUZZ_CHECK((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                       (*q >= '0' && *q <= '9') || *q == '_');
    }
    free(z);
}

static void base32_checks(const uint8_t *p, size_t n)
{
    uint8_t out[512], back[512];
    char enc[1024];
    size_t got = 0;

    if (base32_decode((const char *)p, n, out, sizeof out, &got) == 0) {
        FUZZ_CHECK(got <= sizeof out);
        FUZZ_CHECK(base32_encode(out, got, 0, enc, sizeof enc) == 0);
        size_t m = n;
        while (m && p[m - 1] == '=')
            m--;
        FUZZ_CHECK(strlen(enc) == m);
        for (size_t i = 0; i < m; i++) {
            char c = (char)p[i];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            if (enc[i] != c)
                FUZZ_FAIL("base32 accepted a second spelling");
        }
    }
    /* The other way: the input as bytes encodes and decodes back, padded or not. */
    size_t bn = n < 300 ? n : 300;
    for (int pad = 0; pad < 2; pad++) {
        FUZZ_CHECK(base32_encode(p, bn, pad, enc, sizeof enc) == 0);
        FUZZ_CHECK(strlen(enc) + 1 == base32_encoded_size(bn, pad));
        FUZZ_CHECK(base32_decode(enc, strlen(enc), back, sizeof back, &got) == 0);
        FUZZ_CHECK(got == bn && memcmp(back, p, bn) == 0);
        if (bn)
            FUZZ_CHECK(base32_decode(enc, strlen(enc), back, bn - 1, &got) != 0);
    }
}

static void b64_checks(const uint8_t *p, size_t n)
{
    static uint8_t out[4096], back[4096];
    static char enc[8192];

    for (int v = 0; v < 2; v++) {
        size_t got = 0;
        if (b64_decode((const char *)p, n, (b64_variant)v, out, sizeof out, &got) == 0) {
            FUZZ_CHECK(got <= sizeof out);
            FUZZ_CHECK(b64_encode(out, got, (b64_variant)v, enc, sizeof enc) == 0);
            if (strlen(enc) != n || memcmp(enc, p, n))
                FUZZ_FAIL("b64 (variant %d) accepted a second spelling", v);
            if (got) {
                uint8_t one[4096];
                FUZZ_CHECK(b64_decode_exact((const char *)p, n, (b64_variant)v, one, got) == 0);
                FUZZ_CHECK(memcmp(one, out, got) == 0);
                FUZZ_CHECK(b64_decode_exact((const char *)p, n, (b64_variant)v, one, got - 1) != 0);
            }
        }
        size_t bn = n < 3000 ? n : 3000;
        FUZZ_CHECK(b64_encode(p, bn, (b64_variant)v, enc, sizeof enc) == 0);
        FUZZ_CHECK(strlen(enc) + 1 == b64_encoded_size(bn, (b64_variant)v));
        FUZZ_CHECK(b64_decode(enc, strlen(enc), (b64_variant)v, back, sizeof back, &got) == 0);
        FUZZ_CHECK(got == bn && memcmp(back, p, bn) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;

    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = 1;
    }
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    text_checks(sel, p, n);
    base32_checks(p, n);
    b64_checks(p, n);
    return 0;
}
