/* test_hooks.c: SOTTO_CRASH_AT, SOTTO_TEST_CLOCK_OFFSET and SOTTO_TEST_LEGACY_CLIENT are honoured
 * only in builds with SOTTO_TEST_HOOKS. Built without EXPECT_HOOKS (cli.release_hooks: crash.c
 * and util.c compiled as a release build compiles them) the variables must do nothing; built with
 * EXPECT_HOOKS (cli.test_hooks, against the test build's sotto_cli) they must work, so this test is
 * known to be able to see what it looks for. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "crash.h"
#include "util.h"

static void crash_variable(void **state)
{
    int status = 0;
    pid_t pid;

    (void)state;
    setenv("SOTTO_CRASH_AT", "send-after-commit", 1);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(crash_point("send-after-commit") == 0 ? 0 : 1); /* 70 if the hook fired */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
#ifdef EXPECT_HOOKS
    assert_int_equal(WEXITSTATUS(status), 70);
#else
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
    unsetenv("SOTTO_CRASH_AT");
}

static void clock_variable(void **state)
{
#ifdef EXPECT_HOOKS
    const int64_t week = 7 * 24 * 3600;
#endif
    int64_t skew_s, skew_ms;

    (void)state;
    setenv("SOTTO_TEST_CLOCK_OFFSET", "604800", 1);
    skew_s = (int64_t)now_s() - (int64_t)time(NULL);
    skew_ms = (int64_t)(now_ms() / 1000u) - (int64_t)time(NULL);
    unsetenv("SOTTO_TEST_CLOCK_OFFSET");
#ifdef EXPECT_HOOKS
    assert_true(skew_s > week - 5 && skew_s < week + 5);
    (void)skew_ms;
#else
    assert_true(skew_s > -5 && skew_s < 5);
    assert_true(skew_ms > -5 && skew_ms < 5);
#endif
}

static void legacy_variable(void **state)
{
    (void)state;
    setenv("SOTTO_TEST_LEGACY_CLIENT", "1", 1);
#ifdef EXPECT_HOOKS
    assert_int_equal(test_legacy_client(), 1);
#else
    assert_int_equal(test_legacy_client(), 0);
#endif
    unsetenv("SOTTO_TEST_LEGACY_CLIENT");
    assert_int_equal(test_legacy_client(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_variable),
        cmocka_unit_test(clock_variable),
        cmocka_unit_test(legacy_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
