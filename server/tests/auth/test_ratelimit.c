/* auth.ratelimit: token bucket arithmetic and Retry-After, key and rule separation, bounded
 * memory with eviction, the login guard's delay and lock-out, and the device-proof bypass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static const ratelimit_rule login_ip = {"login_ip", 5, 60}; /* 5 per minute */

static int take(ratelimit *rl, const ratelimit_rule *r, const char *k, int64_t t, uint32_t *ra)
{
    return ratelimit_take(rl, r, k, strlen(k), t, ra);
}

static void test_bucket(void **state)
{
    ratelimit *rl = ratelimit_create(1024);
    uint32_t ra = 99;
    const int64_t t0 = 1000000;
    (void)state;
    assert_non_null(rl);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0, &ra), 0);
        assert_int_equal(ra, 0);
    }
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0, &ra), 1);
    assert_int_equal(ra, 12); /* one token per 12 s */
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 11000, &ra), 1);
    assert_int_equal(ra, 1);
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 12000, &ra), 0);
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 12000, &ra), 1);
    /* Refill is exact even when polled every millisecond (no rounding loss). */
    for (int64_t t = t0 + 12001; t < t0 + 24000; t++)
        assert_int_equal(take(rl, &login_ip, "10.0.0.1", t, &ra), 1);
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 24000, &ra), 0);
    /* After a long pause: full, but never more than capacity. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 10000000, &ra), 0);
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0 + 10000000, &ra), 1);
    /* A clock going backwards does not refill. */
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", t0, &ra), 1);
    ratelimit_destroy(rl);
}

static void test_separation(void **state)
{
    ratelimit *rl = ratelimit_create(1024);
    const ratelimit_rule other = {"register_ip", 5, 60};
    uint32_t ra;
    (void)state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(take(rl, &login_ip, "10.0.0.1", 0, &ra), 0);
    assert_int_equal(take(rl, &login_ip, "10.0.0.1", 0, &ra), 1);
    assert_int_equal(take(rl, &login_ip, "10.0.0.2", 0, &ra), 0);
    assert_int_equal(take(rl, &other, "10.0.0.1", 0, &ra), 0);
    /* Keys with a NUL inside are distinct from their prefix. */
    assert_int_equal(ratelimit_take(rl, &login_ip, "10.0.0.1\0x", 10, 0, &ra), 0);
    ratelimit_destroy(rl);
}

static void test_bad_input(void **state)
{
    ratelimit *rl = ratelimit_create(64);
    const ratelimit_rule zero = {"z", 0, 60}, noname = {NULL, 5, 60}, slow = {"s", 5, 0};
    char big[RATELIMIT_KEY_MAX + 1];
    uint32_t ra = 0;
    (void)state;
    memset(big, 'k', sizeof big);
    assert_int_equal(ratelimit_take(rl, &login_ip, big, sizeof big, 0, &ra), -1);
    assert_int_equal(ra, 1);
    assert_int_equal(ratelimit_take(rl, &login_ip, "", 0, 0, &ra), -1);
    assert_int_equal(ratelimit_take(rl, &zero, "k", 1, 0, &ra), -1);
    assert_int_equal(ratelimit_take(rl, &noname, "k", 1, 0, &ra), -1);
    assert_int_equal(ratelimit_take(rl, &slow, "k", 1, 0, &ra), -1);
    assert_int_equal(ratelimit_take(rl, NULL, "k", 1, 0, &ra), -1);
    assert_null(ratelimit_create(0));
    assert_null(ratelimit_create((size_t)RATELIMIT_MAX_ENTRIES + 1));
    ratelimit_destroy(rl);
    ratelimit_destroy(NULL);
}

static void test_bounded_eviction(void **state)
{
    ratelimit *rl = ratelimit_create(64);
    const ratelimit_rule one = {"one", 1, 3600};
    char k[32];
    uint32_t ra;
    int evicted = 0;
    (void)state;
    /* Exhaust a victim, then flood with 10,000 other keys in a 64-entry table: memory stays
     * fixed and the victim's entry is eventually recycled (it gets a fresh bucket). */
    assert_int_equal(take(rl, &one, "victim", 0, &ra), 0);
    assert_int_equal(take(rl, &one, "victim", 1, &ra), 1);
    for (int i = 0; i < 10000; i++) {
        snprintf(k, sizeof k, "flood-%d", i);
        assert_int_equal(take(rl, &one, k, 2 + i, &ra), 0);
    }
    evicted = take(rl, &one, "victim", 20000, &ra) == 0;
    assert_true(evicted);
    /* Recently used keys survive a little traffic: LRU within the set. */
    assert_int_equal(take(rl, &one, "fresh", 30000, &ra), 0);
    assert_int_equal(take(rl, &one, "fresh", 30001, &ra), 1);
    ratelimit_destroy(rl);
}

static const loginguard_policy pol = {3, 1, 8, 6, 900, 3600};

static loginguard_verdict check(loginguard *lg, const char *acct, int proven, int64_t t,
                                uint32_t *ra)
{
    return loginguard_check(lg, acct, strlen(acct), proven, t, ra);
}

static void test_guard_delay_then_lock(void **state)
{
    loginguard *lg = loginguard_create(&pol, 256);
    uint32_t ra = 0;
    int64_t t = 5000000;
    (void)state;
    assert_non_null(lg);
    /* Three free failures. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_ALLOW);
        assert_int_equal(loginguard_failure(lg, "acct", 4, t), LOGINGUARD_ALLOW);
    }
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_ALLOW);
    assert_int_equal(loginguard_failure(lg, "acct", 4, t), LOGINGUARD_ALLOW); /* 4th: delay 1 s */
    assert_int_equal(check(lg, "acct", 0, t + 500, &ra), LOGINGUARD_SLOW_DOWN);
    assert_int_equal(ra, 1);
    assert_int_equal(check(lg, "acct", 0, t + 1000, &ra), LOGINGUARD_ALLOW);
    t += 1000;
    assert_int_equal(loginguard_failure(lg, "acct", 4, t), LOGINGUARD_ALLOW); /* 5th: 2 s */
    assert_int_equal(check(lg, "acct", 0, t + 1000, &ra), LOGINGUARD_SLOW_DOWN);
    assert_int_equal(ra, 1);
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_SLOW_DOWN);
    assert_int_equal(ra, 2);
    t += 2000;
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_ALLOW);
    assert_int_equal(loginguard_failure(lg, "acct", 4, t), LOGINGUARD_LOCKED); /* 6th locks */
    assert_int_equal(check(lg, "acct", 0, t + 10000, &ra), LOGINGUARD_LOCKED);
    assert_int_equal(ra, 890);
    /* Other accounts are untouched. */
    assert_int_equal(check(lg, "other", 0, t, &ra), LOGINGUARD_ALLOW);
    /* The owner's device, proving itself, is never locked out. */
    assert_int_equal(check(lg, "acct", 1, t + 10000, &ra), LOGINGUARD_ALLOW);
    /* After the lock: delays resume at once (the next failure slows down again). */
    t += 900000;
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_ALLOW);
    assert_int_equal(loginguard_failure(lg, "acct", 4, t), LOGINGUARD_ALLOW);
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_SLOW_DOWN);
    /* Success forgets everything. */
    loginguard_success(lg, "acct", 4);
    assert_int_equal(check(lg, "acct", 0, t, &ra), LOGINGUARD_ALLOW);
    loginguard_destroy(lg);
}

static void test_guard_forget_and_cap(void **state)
{
    loginguard *lg = loginguard_create(&pol, 256);
    uint32_t ra = 0;
    (void)state;
    for (int i = 0; i < 5; i++)
        loginguard_failure(lg, "a", 1, 0);
    assert_int_equal(check(lg, "a", 0, 100, &ra), LOGINGUARD_SLOW_DOWN);
    assert_int_equal(ra, 2);
    /* An hour of quiet forgets the count. */
    assert_int_equal(check(lg, "a", 0, 3600000, &ra), LOGINGUARD_ALLOW);
    assert_int_equal(loginguard_failure(lg, "a", 1, 3600000), LOGINGUARD_ALLOW);
    assert_int_equal(check(lg, "a", 0, 3600000, &ra), LOGINGUARD_ALLOW);
    /* Delay is capped at max_delay_s. */
    {
        loginguard_policy p = {1, 1, 8, 100, 60, 3600};
        loginguard *g = loginguard_create(&p, 64);
        for (int i = 0; i < 50; i++)
            loginguard_failure(g, "b", 1, 0);
        assert_int_equal(check(g, "b", 0, 0, &ra), LOGINGUARD_SLOW_DOWN);
        assert_int_equal(ra, 8);
        loginguard_destroy(g);
    }
    /* Bad keys and policies. */
    assert_int_equal(loginguard_check(lg, "", 0, 0, 0, &ra), LOGINGUARD_SLOW_DOWN);
    {
        loginguard_policy bad = pol;
        bad.lock_failures = bad.free_failures;
        assert_null(loginguard_create(&bad, 64));
        assert_null(loginguard_create(NULL, 64));
        assert_null(loginguard_create(&pol, 1));
    }
    loginguard_destroy(lg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_separation),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bounded_eviction),
        cmocka_unit_test(test_guard_delay_then_lock),
        cmocka_unit_test(test_guard_forget_and_cap),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
