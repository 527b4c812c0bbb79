/* TURN REST credentials (calls/turn.c): coturn's use-auth-secret checks
 * base64(HMAC-SHA1(secret, username)), so the function must be exactly that: RFC 2202's
 * HMAC-SHA1 vectors, standard base64 with padding, and a buffer too small refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calls/internal.h"

static void test_rfc2202(void **state)
{
    char out[64];

    (void)state;
    /* RFC 2202, test case 2: key "Jefe", effcdf6ae5eb2fa2d27416d5f184df9c259a7c79. */
    assert_int_equal(
        calls_turn_credential("Jefe", "what do ya want for nothing?", out, sizeof(out)), 0);
    assert_string_equal(out, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

static void test_turn_username(void **state)
{
    char out[64];

    (void)state;
    /* The shape sottod signs: "<unix expiry>:<userId>" (checked against openssl's HMAC). */
    assert_int_equal(calls_turn_credential("turn-secret",
                                           "1796659968:0b7f5c2e-8a0d-4c1f-9d3e-2f6a1b4c5d6e", out,
                                           sizeof(out)),
                     0);
    assert_int_equal(strlen(out), 28); /* 20 bytes, base64 with one '=' */
    assert_int_equal(out[27], '=');
}

static void test_small_buffer(void **state)
{
    char out[28]; /* one short of 28 characters and the NUL */

    (void)state;
    assert_int_equal(calls_turn_credential("k", "u", out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2202),
        cmocka_unit_test(test_turn_username),
        cmocka_unit_test(test_small_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
