/* headers.c: the security header set, with HSTS only under TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/headers.h"

static void test_plain(void **state)
{
    size_t len;
    const char *h = headers_security(false, &len);

    (void)state;
    assert_int_equal(strlen(h), len);
    assert_non_null(strstr(h, "content-security-policy: default-src 'self'; "));
    assert_non_null(strstr(h, "x-content-type-options: nosniff\r\n"));
    assert_non_null(strstr(h, "referrer-policy: no-referrer\r\n"));
    assert_non_null(strstr(h, "permissions-policy: "));
    assert_non_null(strstr(h, "cross-origin-opener-policy: same-origin\r\n"));
    assert_null(strstr(h, "strict-transport-security"));
    /* Every line is CRLF-terminated, no bare LF. */
    for (size_t i = 0; i < len; i++)
        if (h[i] == '\n')
            assert_int_equal(h[i - 1], '\r');
}

static void test_tls(void **state)
{
    size_t len;
    const char *h = headers_security(true, &len);

    (void)state;
    assert_non_null(strstr(h, "strict-transport-security: max-age="));
}

static void test_csp(void **state)
{
    const char *csp = headers_csp();

    (void)state;
    assert_non_null(strstr(csp, "script-src 'self' 'wasm-unsafe-eval';"));
    assert_non_null(strstr(csp, "object-src 'none'"));
    assert_non_null(strstr(csp, "base-uri 'none'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_non_null(strstr(csp, "require-trusted-types-for 'script'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "'unsafe-eval'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_csp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
