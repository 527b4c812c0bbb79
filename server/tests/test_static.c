/* static.c: MIME types, cache policy, and path safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/metrics.h"
#include "net/static.h"

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(static_content_type("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(static_content_type("/assets/app-1a2b.js"),
                        "text/javascript; charset=utf-8");
    assert_string_equal(static_content_type("/assets/libsotto.wasm"), "application/wasm");
    assert_string_equal(static_content_type("/manifest.webmanifest"), "application/manifest+json");
    assert_string_equal(static_content_type("/x.SVG"), "image/svg+xml");
    assert_string_equal(static_content_type("/noext"), "application/octet-stream");
    assert_string_equal(static_content_type("/dir.d/noext"), "application/octet-stream");
}

static void test_cache(void **state)
{
    (void)state;
    assert_string_equal(static_cache_control("/assets/app-1a2b.js"),
                        "public, max-age=31536000, immutable");
    assert_string_equal(static_cache_control("/index.html"), "no-cache");
    assert_string_equal(static_cache_control("/sw.js"), "no-cache");
    assert_string_equal(static_cache_control("/assetsx/y.js"), "no-cache");
}

static void test_safe(void **state)
{
    (void)state;
    assert_true(static_path_safe("/"));
    assert_true(static_path_safe("/assets/a.js"));
    assert_true(static_path_safe("/chat/123"));
    assert_false(static_path_safe("/../etc/passwd"));
    assert_false(static_path_safe("/assets/../../x"));
    assert_false(static_path_safe("/.env"));
    assert_false(static_path_safe("/.git/config"));
    assert_false(static_path_safe("/a/./b"));
    assert_false(static_path_safe("/a\\..\\b"));
    assert_false(static_path_safe("relative"));
    assert_false(static_path_safe("/a\nb"));
}

static void test_metrics_access(void **state)
{
    (void)state;
    assert_true(metrics_access_allowed("127.0.0.1", 0, NULL, NULL));
    assert_true(metrics_access_allowed("::1", 0, NULL, NULL));
    assert_false(metrics_access_allowed("127.0.0.1", 1, NULL, NULL));
    assert_false(metrics_access_allowed("10.0.0.1", 0, NULL, NULL));
    assert_false(metrics_access_allowed("10.0.0.1", 0, "Bearer x", NULL));
    assert_true(
        metrics_access_allowed("10.0.0.1", 0, "Bearer s3cret-token-123", "s3cret-token-123"));
    assert_false(
        metrics_access_allowed("10.0.0.1", 0, "Bearer s3cret-token-12", "s3cret-token-123"));
    assert_false(metrics_access_allowed("10.0.0.1", 0, "s3cret-token-123", "s3cret-token-123"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_safe),
        cmocka_unit_test(test_metrics_access),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
