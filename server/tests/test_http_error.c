/* http_error_body: exactly the contract's error shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"

static void test_shape(void **state)
{
    char *s = http_error_body("not_found", "Not found.", NULL);

    (void)state;
    assert_string_equal(s, "{\"error\":{\"code\":\"not_found\",\"message\":\"Not found.\"}}");
    free(s);
}

static void test_details(void **state)
{
    char *s = http_error_body("validation_failed", "Bad field.",
                              json_pack("{s:s, s:s}", "field", "email", "reason", "format"));
    json_t *root = json_loads(s, 0, NULL);
    json_t *err = json_object_get(root, "error");

    (void)state;
    assert_non_null(err);
    assert_int_equal(json_object_size(root), 1);
    assert_int_equal(json_object_size(err), 3);
    assert_string_equal(json_string_value(json_object_get(err, "code")), "validation_failed");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(err, "details"), "field")), "email");
    json_decref(root);
    free(s);
}

static void test_escaping(void **state)
{
    char *s = http_error_body("x", "quote \" and \\ and \n", NULL);
    json_t *root = json_loads(s, 0, NULL);

    (void)state;
    assert_non_null(root);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "error"), "message")),
        "quote \" and \\ and \n");
    json_decref(root);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_escaping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
