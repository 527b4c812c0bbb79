/* cors.c: list parsing and decisions for simple requests and preflights. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cors.h"

static void test_parse(void **state)
{
    struct cors_list l;
    char why[128];

    (void)state;
    assert_int_equal(
        cors_list_parse("https://a.example, http://localhost:5173", &l, why, sizeof(why)), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(cors_list_parse(NULL, &l, why, sizeof(why)), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(cors_list_parse("*", &l, why, sizeof(why)), -1);
    assert_int_equal(cors_list_parse("https://a.example/path", &l, why, sizeof(why)), -1);
    assert_int_equal(cors_list_parse("ftp://a", &l, why, sizeof(why)), -1);
    assert_int_equal(cors_list_parse("https://a\r\nx: y", &l, why, sizeof(why)), -1);
}

static void test_decide(void **state)
{
    struct cors_list l;
    char why[128], buf[512];

    (void)state;
    cors_list_parse("https://app.example", &l, why, sizeof(why));
    assert_int_equal(cors_decide(&l, NULL, false), CORS_NONE);
    assert_int_equal(cors_decide(&l, "https://evil.example", false), CORS_NONE);
    assert_int_equal(cors_decide(&l, "https://app.example", false), CORS_ALLOW);
    assert_int_equal(cors_decide(&l, "https://app.example.evil", false), CORS_NONE);
    assert_int_equal(cors_decide(&l, "https://app.example", true), CORS_PREFLIGHT_OK);
    assert_int_equal(cors_decide(&l, "https://evil.example", true), CORS_PREFLIGHT_DENIED);

    assert_true(cors_headers(CORS_ALLOW, "https://app.example", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "access-control-allow-origin: https://app.example\r\n"));
    assert_non_null(strstr(buf, "vary: Origin\r\n"));
    assert_null(strstr(buf, "allow-methods"));
    assert_true(cors_headers(CORS_PREFLIGHT_OK, "https://app.example", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "access-control-allow-methods: "));
    assert_non_null(strstr(buf, "access-control-allow-headers: Authorization, Content-Type"));
    assert_int_equal(cors_headers(CORS_NONE, "https://x", buf, sizeof(buf)), 0);
    assert_int_equal(cors_headers(CORS_ALLOW, "https://app.example", buf, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_decide),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
