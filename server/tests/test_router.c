/* router.c: literal and :param matching, order, 404 vs 405 with Allow, HEAD via GET. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/router.h"

static void h(struct http_req *req, void *arg)
{
    (void)req;
    (void)arg;
}

static struct router *make(void)
{
    struct router *r = router_create();
    const struct route routes[] = {
        {HTTP_GET, "/healthz", h, NULL, 0, 0},
        {HTTP_GET | HTTP_PATCH, "/api/users/me", h, NULL, 0, 0},
        {HTTP_GET, "/api/users/:id", h, NULL, 0, 0},
        {HTTP_POST, "/api/conversations/:id/messages", h, NULL, 1024, ROUTE_JSON},
        {HTTP_DELETE, "/api/users/devices/:deviceId", h, NULL, 0, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        assert_int_equal(router_add(r, &routes[i]), (int)i);
    return r;
}

static enum router_result match(struct router *r, unsigned m, const char *path,
                                const struct route **rt, struct route_params *p, unsigned *allow)
{
    static char scratch[256];

    return router_match(r, m, path, scratch, sizeof(scratch), p, rt, allow);
}

static void test_literal_and_params(void **state)
{
    struct router *r = make();
    const struct route *rt;
    struct route_params p;
    unsigned allow;

    (void)state;
    assert_int_equal(match(r, HTTP_GET, "/healthz", &rt, &p, &allow), ROUTER_FOUND);
    assert_string_equal(rt->pattern, "/healthz");
    assert_int_equal(match(r, HTTP_GET, "/api/users/me", &rt, &p, &allow), ROUTER_FOUND);
    assert_string_equal(rt->pattern, "/api/users/me"); /* registered first wins */
    assert_int_equal(match(r, HTTP_GET, "/api/users/abc-1", &rt, &p, &allow), ROUTER_FOUND);
    assert_string_equal(route_param(&p, "id"), "abc-1");
    assert_null(route_param(&p, "i"));
    assert_int_equal(match(r, HTTP_POST, "/api/conversations/c1/messages", &rt, &p, &allow),
                     ROUTER_FOUND);
    assert_string_equal(route_param(&p, "id"), "c1");
    assert_int_equal(rt->body_limit, 1024);
    assert_int_equal(router_index(r, rt), 3);
    router_destroy(r);
}

static void test_not_found(void **state)
{
    struct router *r = make();
    const struct route *rt;
    struct route_params p;
    unsigned allow;

    (void)state;
    assert_int_equal(match(r, HTTP_GET, "/healthz/", &rt, &p, &allow), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, HTTP_GET, "/api/users/", &rt, &p, &allow), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, HTTP_GET, "/api/users//x", &rt, &p, &allow), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, HTTP_GET, "/api/users/a/b", &rt, &p, &allow), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, HTTP_GET, "/", &rt, &p, &allow), ROUTER_NOT_FOUND);
    assert_int_equal(match(r, HTTP_GET, "/health", &rt, &p, &allow), ROUTER_NOT_FOUND);
    router_destroy(r);
}

static void test_method_not_allowed(void **state)
{
    struct router *r = make();
    const struct route *rt;
    struct route_params p;
    unsigned allow;
    char buf[64];

    (void)state;
    assert_int_equal(match(r, HTTP_POST, "/healthz", &rt, &p, &allow), ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(router_allow_string(allow, buf, sizeof(buf)), "GET, HEAD");
    assert_int_equal(match(r, HTTP_DELETE, "/api/users/me", &rt, &p, &allow),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(router_allow_string(allow, buf, sizeof(buf)), "GET, HEAD, PATCH");
    assert_int_equal(match(r, HTTP_HEAD, "/healthz", &rt, &p, &allow), ROUTER_FOUND);
    router_destroy(r);
}

static void test_bad_patterns(void **state)
{
    struct router *r = router_create();
    struct route bad = {HTTP_GET, "nope", h, NULL, 0, 0};
    struct route many = {HTTP_GET, "/:a/:b/:c/:d/:e/:f/:g/:h/:i", h, NULL, 0, 0};

    (void)state;
    assert_int_equal(router_add(r, &bad), -1);
    assert_int_equal(router_add(r, &many), -1);
    assert_int_equal(router_count(r), 0);
    router_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_params),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_bad_patterns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
