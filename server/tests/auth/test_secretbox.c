/* auth.secretbox: seal/open round trip, binding to label and user, tampering, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "secretbox.h"

static uint8_t key[SECRETBOX_KEY_BYTES];
static const uint8_t secret[20] = "12345678901234567890";

static void seal(const char *user, uint8_t *blob, size_t *len)
{
    assert_int_equal(secretbox_seal(key, SECRETBOX_LABEL_MFA, user, secret, sizeof secret, blob,
                                    64 + SECRETBOX_OVERHEAD, len),
                     0);
    assert_int_equal(*len, sizeof secret + SECRETBOX_OVERHEAD);
}

static void test_roundtrip(void **state)
{
    uint8_t blob[64 + SECRETBOX_OVERHEAD], blob2[sizeof blob], out[64];
    size_t len = 0, len2 = 0, n = 0;
    (void)state;
    seal("user-1", blob, &len);
    seal("user-1", blob2, &len2);
    assert_memory_not_equal(blob, blob2, len); /* random nonce */
    assert_int_equal(
        secretbox_open(key, SECRETBOX_LABEL_MFA, "user-1", blob, len, out, sizeof out, &n), 0);
    assert_int_equal(n, sizeof secret);
    assert_memory_equal(out, secret, n);
    assert_int_equal(secretbox_overhead(), SECRETBOX_OVERHEAD);
}

static void test_binding(void **state)
{
    uint8_t blob[64 + SECRETBOX_OVERHEAD], out[64], other[SECRETBOX_KEY_BYTES];
    size_t len = 0, n = 7;
    (void)state;
    seal("user-1", blob, &len);
    assert_int_equal(
        secretbox_open(key, SECRETBOX_LABEL_MFA, "user-2", blob, len, out, sizeof out, &n), -1);
    assert_int_equal(n, 0);
    assert_int_equal(
        secretbox_open(key, "sotto-v1-other", "user-1", blob, len, out, sizeof out, &n), -1);
    /* Length-prefixed AD: label "ab" + user "c" differs from label "a" + user "bc". */
    assert_int_equal(secretbox_seal(key, "ab", "c", secret, sizeof secret, blob, sizeof blob, &len),
                     0);
    assert_int_equal(secretbox_open(key, "a", "bc", blob, len, out, sizeof out, &n), -1);
    assert_int_equal(secretbox_open(key, "ab", "c", blob, len, out, sizeof out, &n), 0);
    memcpy(other, key, sizeof key);
    other[0] ^= 1;
    assert_int_equal(secretbox_open(other, "ab", "c", blob, len, out, sizeof out, &n), -1);
}

static void test_tampering(void **state)
{
    uint8_t blob[64 + SECRETBOX_OVERHEAD], out[64];
    size_t len = 0, n = 0;
    (void)state;
    seal("u", blob, &len);
    for (size_t i = 0; i < len; i++) {
        blob[i] ^= 0x01;
        assert_int_equal(
            secretbox_open(key, SECRETBOX_LABEL_MFA, "u", blob, len, out, sizeof out, &n), -1);
        blob[i] ^= 0x01;
    }
    for (size_t l = 0; l < len; l++)
        assert_int_equal(
            secretbox_open(key, SECRETBOX_LABEL_MFA, "u", blob, l, out, sizeof out, &n), -1);
    /* Output too small for the plaintext. */
    assert_int_equal(
        secretbox_open(key, SECRETBOX_LABEL_MFA, "u", blob, len, out, sizeof secret - 1, &n), -1);
    assert_int_equal(secretbox_open(key, SECRETBOX_LABEL_MFA, "u", blob, len, out, sizeof out, &n),
                     0);
}

static void test_bad_arguments(void **state)
{
    uint8_t blob[2048], out[64];
    size_t len = 0;
    char long_user[300];
    (void)state;
    memset(long_user, 'u', sizeof long_user - 1);
    long_user[sizeof long_user - 1] = '\0';
    assert_int_equal(secretbox_seal(key, "", "u", secret, sizeof secret, blob, sizeof blob, &len),
                     -1);
    assert_int_equal(secretbox_seal(key, "l", "", secret, sizeof secret, blob, sizeof blob, &len),
                     -1);
    assert_int_equal(secretbox_seal(key, "l", NULL, secret, sizeof secret, blob, sizeof blob, &len),
                     -1);
    assert_int_equal(
        secretbox_seal(key, "l", long_user, secret, sizeof secret, blob, sizeof blob, &len), -1);
    assert_int_equal(secretbox_seal(key, "l", "u", secret, 0, blob, sizeof blob, &len), -1);
    assert_int_equal(
        secretbox_seal(key, "l", "u", blob, SECRETBOX_MAX_PLAINTEXT + 1, blob, sizeof blob, &len),
        -1);
    assert_int_equal(secretbox_seal(key, "l", "u", secret, sizeof secret, blob,
                                    sizeof secret + SECRETBOX_OVERHEAD - 1, &len),
                     -1);
    assert_int_equal(secretbox_open(key, "l", "u", NULL, 50, out, sizeof out, &len), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_binding),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_bad_arguments),
    };
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof key);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
