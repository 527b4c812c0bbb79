/* auth.tokens: opaque token shape and uniqueness, storage hashes (purpose separation, pepper,
 * a known answer computed independently), strict parsing, backup codes, constant-time compares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "tokens.h"

static void test_generate(void **state)
{
    char a[TOKEN_STR_SIZE], b[TOKEN_STR_SIZE];
    uint8_t raw[64];
    size_t n = 0;
    (void)state;
    token_generate(a);
    token_generate(b);
    assert_int_equal(strlen(a), TOKEN_CHARS);
    assert_string_not_equal(a, b);
    assert_int_equal(sodium_base642bin(raw, sizeof raw, a, strlen(a), NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(n, TOKEN_BYTES);
}

static void test_hash_known_answer(void **state)
{
    /* BLAKE2b-256 (unkeyed) of "sotto-v1-token" || 0x01 0x00 || 43 x 'A', computed with
     * python3 hashlib.blake2b(digest_size=32). */
    static const char tok[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    uint8_t h[TOKEN_HASH_BYTES];
    char hex[TOKEN_HASH_HEX_SIZE];
    (void)state;
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, tok, strlen(tok), h), 0);
    token_hash_hex(h, hex);
    assert_string_equal(hex, "cc99bc35e32502d1dab2e7c0bb25e850bd13734eb9366ab1c87ca6469094d933");
}

static void test_hash_separation(void **state)
{
    char t[TOKEN_STR_SIZE];
    uint8_t h1[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES], h3[TOKEN_HASH_BYTES], pep[32];
    (void)state;
    token_generate(t);
    randombytes_buf(pep, sizeof pep);
    assert_int_equal(token_hash(TOKEN_EMAIL_VERIFY, NULL, t, strlen(t), h1), 0);
    assert_int_equal(token_hash(TOKEN_PASSWORD_RESET, NULL, t, strlen(t), h2), 0);
    assert_false(tokens_equal(h1, h2, sizeof h1));
    assert_int_equal(token_hash(TOKEN_EMAIL_VERIFY, pep, t, strlen(t), h3), 0);
    assert_false(tokens_equal(h1, h3, sizeof h1));
    assert_int_equal(token_hash(TOKEN_EMAIL_VERIFY, NULL, t, strlen(t), h2), 0);
    assert_true(tokens_equal(h1, h2, sizeof h1)); /* deterministic */
}

static void test_hash_refuses_malformed(void **state)
{
    char t[TOKEN_STR_SIZE], bad[TOKEN_STR_SIZE + 8];
    uint8_t h[TOKEN_HASH_BYTES];
    (void)state;
    token_generate(t);
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, "", 0, h), -1);
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, NULL, 43, h), -1);
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, t, strlen(t) - 1, h), -1);
    memcpy(bad, t, TOKEN_CHARS);
    memcpy(bad + TOKEN_CHARS, "=", 2);
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, bad, strlen(bad), h), -1);
    memcpy(bad, t, sizeof t);
    bad[10] = '\0';
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, bad, TOKEN_CHARS, h), -1);
    memcpy(bad, t, sizeof t);
    bad[10] = '+';
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, bad, TOKEN_CHARS, h), -1);
    memcpy(bad, t, sizeof t);
    bad[42] = 'B'; /* 43rd char carries 4 bits; 'B' sets a trailing bit: non-canonical */
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, bad, TOKEN_CHARS, h), -1);
    assert_int_equal(token_hash(TOKEN_REFRESH, NULL, t, TOKEN_CHARS, h), 0);
}

static void test_backup_codes(void **state)
{
    char codes[BACKUP_CODE_COUNT][BACKUP_CODE_STR_SIZE];
    uint8_t h1[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES], pep[32];
    char typed[16];
    (void)state;
    randombytes_buf(pep, sizeof pep);
    backup_codes_generate(codes);
    for (size_t i = 0; i < BACKUP_CODE_COUNT; i++) {
        assert_int_equal(strlen(codes[i]), 9);
        assert_int_equal(codes[i][4], '-');
        for (size_t k = 0; k < 9; k++)
            if (k != 4)
                assert_non_null(strchr(BACKUP_CODE_ALPHABET, codes[i][k]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(codes[i], codes[j]);
    }
    assert_int_equal(backup_code_hash(pep, codes[0], strlen(codes[0]), h1), 0);
    /* As typed: upper case, no dash, spaces. */
    for (size_t k = 0, o = 0; k <= 9; k++)
        if (k != 4)
            typed[o++] =
                (char)((codes[0][k] >= 'a' && codes[0][k] <= 'z') ? codes[0][k] - 32 : codes[0][k]);
    assert_int_equal(backup_code_hash(pep, typed, strlen(typed), h2), 0);
    assert_true(tokens_equal(h1, h2, sizeof h1));
    assert_int_equal(backup_code_hash(pep, codes[1], strlen(codes[1]), h2), 0);
    assert_false(tokens_equal(h1, h2, sizeof h1));
    assert_int_equal(backup_code_hash(NULL, codes[0], strlen(codes[0]), h2), 0);
    assert_false(tokens_equal(h1, h2, sizeof h1)); /* the pepper matters */
    assert_int_equal(backup_code_hash(pep, "abcd-efg", 8, h2), -1);
    assert_int_equal(backup_code_hash(pep, "abcd-efgh2", 10, h2), -1);
    assert_int_equal(backup_code_hash(pep, "abcd-efg0", 9, h2), -1); /* 0 not in alphabet */
    assert_int_equal(backup_code_hash(pep, "abcd-ef\0h", 9, h2), -1);
    assert_int_equal(backup_code_hash(pep, "", 0, h2), -1);
}

static void test_compare(void **state)
{
    (void)state;
    assert_true(tokens_str_equal("abc", 3, "abc", 3));
    assert_false(tokens_str_equal("abc", 3, "abd", 3));
    assert_false(tokens_str_equal("abc", 3, "abcd", 4));
    assert_true(tokens_str_equal("", 0, "", 0));
    assert_false(tokens_str_equal(NULL, 0, "", 0));
    assert_true(tokens_equal((const uint8_t *)"xy", (const uint8_t *)"xy", 2));
    assert_false(tokens_equal((const uint8_t *)"xy", (const uint8_t *)"xz", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),        cmocka_unit_test(test_hash_known_answer),
        cmocka_unit_test(test_hash_separation), cmocka_unit_test(test_hash_refuses_malformed),
        cmocka_unit_test(test_backup_codes),    cmocka_unit_test(test_compare),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
