/* auth.password: Argon2id hash/verify (cheap parameters, plus one run at the seed's), the
 * dummy path for unknown accounts (takes a real hash's time), hostile stored hashes, the
 * concurrency gate, and the password policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"

static const password_params cheap = {2U, 4096U, 1U}; /* 4 MiB: fast under ASan */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hash_verify(void **state)
{
    password_ctx *ctx = password_ctx_create(&cheap, 2);
    char h1[PASSWORD_ENCODED_MAX], h2[PASSWORD_ENCODED_MAX];
    const char *pw = "correct horse battery staple";
    (void)state;
    assert_non_null(ctx);
    assert_int_equal(password_hash(ctx, pw, strlen(pw), h1, sizeof h1), 0);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=4096,t=2,p=1$", 30), 0);
    assert_int_equal(password_hash(ctx, pw, strlen(pw), h2, sizeof h2), 0);
    assert_string_not_equal(h1, h2); /* fresh salt */
    assert_int_equal(password_verify(ctx, h1, pw, strlen(pw)), 0);
    assert_int_equal(password_verify(ctx, h2, pw, strlen(pw)), 0);
    assert_int_equal(password_verify(ctx, h1, pw, strlen(pw) - 1), -1);
    assert_int_equal(password_verify(ctx, h1, "Correct horse battery staple", strlen(pw)), -1);
    assert_int_equal(password_needs_rehash(ctx, h1), 0);
    /* Embedded NUL: the length is what counts. */
    assert_int_equal(password_hash(ctx, "abc\0def", 7, h2, sizeof h2), 0);
    assert_int_equal(password_verify(ctx, h2, "abc\0def", 7), 0);
    assert_int_equal(password_verify(ctx, h2, "abc", 3), -1);
    password_ctx_destroy(ctx);
}

static void test_seed_parameters(void **state)
{
    const password_params seed = PASSWORD_PARAMS_DEFAULT;
    password_ctx *ctx = password_ctx_create(&seed, 1);
    char h[PASSWORD_ENCODED_MAX];
    (void)state;
    assert_non_null(ctx);
    assert_int_equal(password_hash(ctx, "0123456789", 10, h, sizeof h), 0);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=65536,t=3,p=4$", 31), 0);
    assert_int_equal(password_verify(ctx, h, "0123456789", 10), 0);
    password_ctx_destroy(ctx);
}

static void test_dummy_verify_takes_a_hash(void **state)
{
    password_ctx *ctx = password_ctx_create(&cheap, 2);
    char h[PASSWORD_ENCODED_MAX];
    double t_real = 1e9, t_dummy = 1e9, t_bad = 1e9;
    (void)state;
    assert_non_null(ctx);
    assert_int_equal(password_hash(ctx, "0123456789", 10, h, sizeof h), 0);
    for (int i = 0; i < 5; i++) { /* best of 5 each, to dodge scheduler noise */
        double t0 = now_s();
        assert_int_equal(password_verify(ctx, h, "wrong-password", 14), -1);
        double t1 = now_s();
        assert_int_equal(password_verify(ctx, NULL, "wrong-password", 14), -1);
        double t2 = now_s();
        assert_int_equal(password_verify(ctx, "$argon2id$garbage", "wrong-password", 14), -1);
        double t3 = now_s();
        t_real = t1 - t0 < t_real ? t1 - t0 : t_real;
        t_dummy = t2 - t1 < t_dummy ? t2 - t1 : t_dummy;
        t_bad = t3 - t2 < t_bad ? t3 - t2 : t_bad;
    }
    /* Unknown account costs about what a wrong password costs; a non-hash costs nothing,
     * which shows the measurement can tell the two apart. */
    assert_true(t_dummy > t_real * 0.5 && t_dummy < t_real * 2.0);
    assert_true(t_bad * 10 < t_real);
    /* The dummy never matches, whatever the password. */
    assert_int_equal(password_verify(ctx, NULL, "", 0), -1);
    password_ctx_destroy(ctx);
}

static void test_hostile_hashes(void **state)
{
    password_ctx *ctx = password_ctx_create(&cheap, 1);
    static const char *bad[] = {
        "",
        "$argon2i$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=16$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=4096,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=4096,t=2,p=99$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=99999999999999999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
        "$argon2id$v=19$m=4096,t=2,p=1$$",
        "$argon2id$v=19$m=,t=2,p=1$c2FsdA$aGFzaA",
        "$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0$!!!!"};
    char h[PASSWORD_ENCODED_MAX], big[400];
    (void)state;
    assert_non_null(ctx);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(password_verify(ctx, bad[i], "x", 1), -1);
        if (i != 7 && i != 9) /* those two have good parameters, a bad salt or hash */
            assert_int_equal(password_needs_rehash(ctx, bad[i]), -1);
    }
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "$argon2id$v=19$m=4096,t=2,p=1$", 30);
    assert_int_equal(password_verify(ctx, big, "x", 1), -1);
    /* Other parameters: verifies, and asks for a rehash. */
    {
        password_params other = {1U, 1024U, 1U};
        password_ctx *c2 = password_ctx_create(&other, 1);
        assert_non_null(c2);
        assert_int_equal(password_hash(c2, "0123456789", 10, h, sizeof h), 0);
        assert_int_equal(password_verify(ctx, h, "0123456789", 10), 0);
        assert_int_equal(password_needs_rehash(ctx, h), 1);
        password_ctx_destroy(c2);
    }
    /* Argument checks. */
    assert_int_equal(password_hash(ctx, "x", 1, h, 10), -1);
    assert_int_equal(password_hash(ctx, big, PASSWORD_MAX_BYTES + 1, h, sizeof h), -1);
    password_ctx_destroy(ctx);
}

static void test_bad_params(void **state)
{
    password_params p = cheap;
    (void)state;
    assert_null(password_ctx_create(NULL, 1));
    assert_null(password_ctx_create(&cheap, 0));
    p.t_cost = 0;
    assert_null(password_ctx_create(&p, 1));
    p = cheap;
    p.m_cost_kib = PASSWORD_M_COST_MAX_KIB + 1;
    assert_null(password_ctx_create(&p, 1));
    p = cheap;
    p.parallelism = 0;
    assert_null(password_ctx_create(&p, 1));
}

typedef struct worker_arg {
    password_ctx *ctx;
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    char h[PASSWORD_ENCODED_MAX];
    a->ok = password_hash(a->ctx, "0123456789", 10, h, sizeof h) == 0 &&
            password_verify(a->ctx, h, "0123456789", 10) == 0;
    return NULL;
}

static unsigned run_threads(unsigned limit)
{
    password_ctx *ctx = password_ctx_create(&cheap, limit);
    pthread_t th[6];
    worker_arg a[6];
    unsigned peak;
    assert_non_null(ctx);
    for (int i = 0; i < 6; i++) {
        a[i].ctx = ctx;
        a[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &a[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_true(a[i].ok);
    }
    peak = password_ctx_peak(ctx);
    password_ctx_destroy(ctx);
    return peak;
}

static void test_concurrency_gate(void **state)
{
    (void)state;
    assert_int_equal(run_threads(1), 1);
    assert_true(run_threads(2) <= 2);
    /* Without a tight gate, six threads do overlap: the gate is what keeps the peak down. */
    assert_true(run_threads(6) >= 3);
}

static void test_policy(void **state)
{
    char long_ok[PASSWORD_MAX_CHARS * 3 + 1], too_long[PASSWORD_MAX_CHARS + 2];
    (void)state;
    assert_int_equal(password_check_policy("0123456789", 10, "a@b.c", "alice"), PASSWORD_POLICY_OK);
    assert_int_equal(password_check_policy("012345678", 9, NULL, NULL), PASSWORD_POLICY_TOO_SHORT);
    assert_int_equal(password_check_policy("", 0, NULL, NULL), PASSWORD_POLICY_TOO_SHORT);
    /* 10 code points of 2 bytes each: long enough; 9 are not (bytes would say 18). */
    assert_int_equal(
        password_check_policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9",
                              20, NULL, NULL),
        PASSWORD_POLICY_OK);
    assert_int_equal(
        password_check_policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9",
                              18, NULL, NULL),
        PASSWORD_POLICY_TOO_SHORT);
    /* 1,024 three-byte characters are fine; 1,025 ASCII ones are not. */
    for (size_t i = 0; i < PASSWORD_MAX_CHARS; i++)
        memcpy(long_ok + 3 * i, "\xe2\x82\xac", 3);
    assert_int_equal(password_check_policy(long_ok, PASSWORD_MAX_CHARS * 3, NULL, NULL),
                     PASSWORD_POLICY_OK);
    memset(too_long, 'a', sizeof too_long);
    assert_int_equal(password_check_policy(too_long, PASSWORD_MAX_CHARS + 1, NULL, NULL),
                     PASSWORD_POLICY_TOO_LONG);
    assert_int_equal(password_check_policy("0123456789\xff", 11, NULL, NULL),
                     PASSWORD_POLICY_INVALID_UTF8);
    assert_int_equal(password_check_policy("01234\0"
                                           "56789",
                                           11, NULL, NULL),
                     PASSWORD_POLICY_INVALID_UTF8);
    assert_int_equal(password_check_policy("Alice@Example.COM", 17, "alice@example.com", "x"),
                     PASSWORD_POLICY_EQUALS_EMAIL);
    assert_int_equal(password_check_policy("AliceWonder", 11, "x@y.z", "alicewonder"),
                     PASSWORD_POLICY_EQUALS_USERNAME);
    assert_int_equal(password_check_policy("alicewonder1", 12, "x@y.z", "alicewonder"),
                     PASSWORD_POLICY_OK);
    assert_string_equal(password_policy_reason(PASSWORD_POLICY_TOO_SHORT), "too_short");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_seed_parameters),
        cmocka_unit_test(test_dummy_verify_takes_a_hash),
        cmocka_unit_test(test_hostile_hashes),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_concurrency_gate),
        cmocka_unit_test(test_policy),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
