/* auth.totp: RFC 6238 appendix B (SHA-1) vectors, the +-1 step window, reuse refusal,
 * malformed codes, and the otpauth URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "totp.h"

static const uint8_t rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20U

static void test_rfc6238_vectors(void **state)
{
    static const struct {
        int64_t t;
        uint32_t code;
    } v[] = {{59, 94287082U},         {1111111109, 7081804U},  {1111111111, 14050471U},
             {1234567890, 89005924U}, {2000000000, 69279037U}, {20000000000LL, 65353130U}};
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint32_t code = 0;
        assert_int_equal(totp_code_at(rfc_secret, RFC_LEN, (uint64_t)(v[i].t / 30), 8, &code), 0);
        assert_int_equal(code, v[i].code);
        /* 6 digits are the low six of the same truncation. */
        assert_int_equal(totp_code_at(rfc_secret, RFC_LEN, (uint64_t)(v[i].t / 30), 6, &code), 0);
        assert_int_equal(code, v[i].code % 1000000U);
    }
}

static void test_verify_vector(void **state)
{
    int64_t step = -1;
    (void)state;
    /* RFC: T=1111111109 -> 07081804, so the 6-digit code is 081804. */
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, "081804", 6, 1111111109, -1, &step), 0);
    assert_int_equal(step, 1111111109 / 30);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, "081805", 6, 1111111109, -1, &step), -1);
}

static void code_str(int64_t step, char out[7])
{
    uint32_t c = 0;
    assert_int_equal(totp_code_at(rfc_secret, RFC_LEN, (uint64_t)step, 6, &c), 0);
    snprintf(out, 7, "%06u", (unsigned)c);
}

static void test_window(void **state)
{
    const int64_t now = 1700000015, base = now / 30;
    char c[7];
    int64_t m = 0;
    (void)state;
    for (int64_t d = -1; d <= 1; d++) {
        code_str(base + d, c);
        assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, -1, &m), 0);
        assert_int_equal(m, base + d);
    }
    code_str(base - 2, c);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, -1, &m), -1);
    code_str(base + 2, c);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, -1, &m), -1);
}

static void test_reuse_refused(void **state)
{
    const int64_t now = 1700000015, base = now / 30;
    char c[7];
    int64_t m = 0;
    (void)state;
    code_str(base, c);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, -1, &m), 0);
    /* Same code again: the caller now passes last_step = m. */
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, m, &m), -1);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now + 25, base, &m), -1);
    /* An older code (previous step) after a newer one was used: refused too. */
    code_str(base - 1, c);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, base, &m), -1);
    /* The next step's code is still fine. */
    code_str(base + 1, c);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, c, 6, now, base, &m), 0);
    assert_int_equal(m, base + 1);
}

static void test_malformed_codes(void **state)
{
    static const char *bad[] = {"",       "12345",  "1234567", "12345a",      " 12345",
                                "12345 ", "-12345", "+12345",  "１２３４５６"};
    int64_t m = 0;
    char good[7];
    char nul[7];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(totp_verify(rfc_secret, RFC_LEN, bad[i], strlen(bad[i]), 59, -1, &m), -1);
    code_str(59 / 30, good);
    memcpy(nul, good, 7);
    nul[3] = '\0';
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, nul, 6, 59, -1, &m), -1);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, NULL, 6, 59, -1, &m), -1);
    assert_int_equal(totp_verify(NULL, 0, good, 6, 59, -1, &m), -1);
    assert_int_equal(totp_verify(rfc_secret, RFC_LEN, good, 6, 59, -1, &m), 0);
    assert_int_equal(totp_code_at(rfc_secret, RFC_LEN, 1, 5, (uint32_t *)&m), -1);
    assert_int_equal(totp_code_at(rfc_secret, RFC_LEN, 1, 9, (uint32_t *)&m), -1);
}

static void test_otpauth_url(void **state)
{
    uint8_t secret[TOTP_SECRET_BYTES];
    char *url;
    (void)state;
    url = totp_otpauth_url("Sotto", "alice@example.com", rfc_secret, RFC_LEN);
    assert_non_null(url);
    assert_string_equal(url, "otpauth://totp/Sotto:alice%40example.com?secret="
                             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Sotto"
                             "&algorithm=SHA1&digits=6&period=30");
    free(url);
    url = totp_otpauth_url("My Co & \"x\"", "a:b?c=d&e/\xc3\xa9<", rfc_secret, RFC_LEN);
    assert_non_null(url);
    assert_string_equal(url, "otpauth://totp/My%20Co%20%26%20%22x%22:a%3Ab%3Fc%3Dd%26e%2F%C3%A9%3C"
                             "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                             "&issuer=My%20Co%20%26%20%22x%22&algorithm=SHA1&digits=6&period=30");
    free(url);
    assert_null(totp_otpauth_url("", "a", rfc_secret, RFC_LEN));
    assert_null(totp_otpauth_url("S", "", rfc_secret, RFC_LEN));
    {
        char big[200];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_null(totp_otpauth_url("S", big, rfc_secret, RFC_LEN));
    }
    /* A generated secret round-trips through the URL's base32. */
    totp_secret_generate(secret);
    url = totp_otpauth_url("S", "a", secret, sizeof secret);
    assert_non_null(url);
    {
        const char *s = strstr(url, "secret=") + 7;
        uint8_t back[TOTP_SECRET_BYTES];
        size_t n = 0;
        assert_int_equal(base32_decode(s, (size_t)(strchr(s, '&') - s), back, sizeof back, &n), 0);
        assert_int_equal(n, sizeof secret);
        assert_memory_equal(back, secret, n);
    }
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors), cmocka_unit_test(test_verify_vector),
        cmocka_unit_test(test_window),          cmocka_unit_test(test_reuse_refused),
        cmocka_unit_test(test_malformed_codes), cmocka_unit_test(test_otpauth_url),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
