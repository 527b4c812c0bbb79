/* auth.b64: RFC 4648 base64 and base32 known answers and strictness, plus UTF-8 validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "b64.h"
#include "base32.h"
#include "utf8.h"

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const b64v[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const b32v[] = {
    "", "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};

static void test_base64_rfc4648(void **state)
{
    char out[32];
    uint8_t bin[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(
            b64_encode((const uint8_t *)plain[i], strlen(plain[i]), B64_STANDARD, out, sizeof out),
            0);
        assert_string_equal(out, b64v[i]);
        assert_int_equal(b64_decode(b64v[i], strlen(b64v[i]), B64_STANDARD, bin, sizeof bin, &n),
                         0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(bin, plain[i], n);
    }
}

static void test_base64_strict(void **state)
{
    static const char *bad[] = {"Zg",     "Zg=",  "Zg===", "Zh==", "Zm9",   "Z m9v",
                                "Zm9v\n", "Zm-v", "Zm_v",  "====", "Zm9v=", "!!!!"};
    uint8_t bin[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), B64_STANDARD, bin, sizeof bin, &n), -1);
    /* Embedded NUL: "Zm\0v" with its real length. */
    assert_int_equal(b64_decode("Zm\0v", 4, B64_STANDARD, bin, sizeof bin, &n), -1);
    /* Bytes from 0x80 up (libsodium 1.0.18 reads them as '/' and '_'). */
    assert_int_equal(b64_decode("ab\xe2\x82", 4, B64_STANDARD, bin, sizeof bin, &n), -1);
    assert_int_equal(b64_decode("Zm9\xff", 4, B64_URL, bin, sizeof bin, &n), -1);
    /* URL variant: no padding, '-' and '_' allowed, '+' refused. */
    assert_int_equal(b64_decode("Zg", 2, B64_URL, bin, sizeof bin, &n), 0);
    assert_int_equal(b64_decode("Zg==", 4, B64_URL, bin, sizeof bin, &n), -1);
    assert_int_equal(b64_decode("-_-_", 4, B64_URL, bin, sizeof bin, &n), 0);
    assert_int_equal(b64_decode("+/+/", 4, B64_URL, bin, sizeof bin, &n), -1);
    /* Exact length: one byte short or long is refused. */
    assert_int_equal(b64_decode_exact("Zm9v", 4, B64_STANDARD, bin, 3), 0);
    assert_int_equal(b64_decode_exact("Zm9v", 4, B64_STANDARD, bin, 2), -1);
    assert_int_equal(b64_decode_exact("Zm9v", 4, B64_STANDARD, bin, 4), -1);
    assert_int_equal(b64_decode_exact("", 0, B64_STANDARD, bin, 1), -1);
    assert_int_equal(b64_encode((const uint8_t *)"foo", 3, B64_STANDARD, (char *)bin, 4), -1);
}

static void test_base32_rfc4648(void **state)
{
    char out[32];
    uint8_t bin[16];
    size_t n;
    char lower[32];
    (void)state;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(
            base32_encode((const uint8_t *)plain[i], strlen(plain[i]), 1, out, sizeof out), 0);
        assert_string_equal(out, b32v[i]);
        assert_int_equal(base32_decode(b32v[i], strlen(b32v[i]), bin, sizeof bin, &n), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(bin, plain[i], n);
        /* Unpadded and lower-case forms decode the same. */
        assert_int_equal(
            base32_encode((const uint8_t *)plain[i], strlen(plain[i]), 0, out, sizeof out), 0);
        assert_null(strchr(out, '='));
        for (size_t k = 0; k <= strlen(out); k++)
            lower[k] = (out[k] >= 'A' && out[k] <= 'Z') ? (char)(out[k] + 32) : out[k];
        assert_int_equal(base32_decode(lower, strlen(lower), bin, sizeof bin, &n), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(bin, plain[i], n);
    }
    assert_int_equal(base32_encode((const uint8_t *)"foobar", 6, 1, out, 16), -1);
}

static void test_base32_strict(void **state)
{
    static const char *bad[] = {
        "M",       "MZX",      "MZXW6Y",   "MY=",       "MY=======", "MZ======", "MZXW6=",
        "MY=A",    "MY 2====", "M1======", "MZXW6YQ==", "MZXW6YR=", /* non-zero trailing bits */
        "========"};
    uint8_t bin[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(base32_decode(bad[i], strlen(bad[i]), bin, sizeof bin, &n), -1);
    assert_int_equal(base32_decode("MZ\0W6===", 8, bin, sizeof bin, &n), -1);
    /* Output bound respected. */
    assert_int_equal(base32_decode("MZXW6YTBOI", 10, bin, 5, &n), -1);
    assert_int_equal(base32_decode("MZXW6YTBOI", 10, bin, 6, &n), 0);
}

static void test_utf8(void **state)
{
    size_t n;
    (void)state;
    assert_int_equal(utf8_count("abc", 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(utf8_count("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, &n), 0);
    assert_int_equal(n, 9);
    assert_int_equal(utf8_count("", 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(utf8_count("a\0b", 3, &n), -1);             /* NUL */
    assert_int_equal(utf8_count("\xc0\xaf", 2, &n), -1);         /* overlong '/' */
    assert_int_equal(utf8_count("\xe0\x80\xaf", 3, &n), -1);     /* overlong */
    assert_int_equal(utf8_count("\xed\xa0\x80", 3, &n), -1);     /* surrogate */
    assert_int_equal(utf8_count("\xf4\x90\x80\x80", 4, &n), -1); /* > U+10FFFF */
    assert_int_equal(utf8_count("\xc3", 1, &n), -1);             /* truncated */
    assert_int_equal(utf8_count("\x80", 1, &n), -1);             /* lone continuation */
    assert_int_equal(utf8_count("\xff", 1, &n), -1);
    assert_int_equal(utf8_count("\xe2\x82", 2, &n), -1);
    assert_int_equal(utf8_count("\xf0\x9f\x98\x41", 4, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648), cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_base32_rfc4648), cmocka_unit_test(test_base32_strict),
        cmocka_unit_test(test_utf8),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
