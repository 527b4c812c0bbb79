/*
 * fuzz_router: router_match (server/src/router.c) on sottod's real route table (the one
 * `sottod --routes` prints) and on one route made from the input. Input: a method byte, the
 * path (up to a NUL), a scratch size byte, then a pattern for the extra route.
 *
 * Findings: a crash or overread; a match whose pattern, with its :params put back, is not
 * the path; a param value that is empty, holds '/', or is not found by route_param; a route
 * returned for a method it does not serve; a 405 whose Allow set is empty or holds the
 * method; an Allow string that overflows its buffer.
 */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "accounts/accounts.h"
#include "base/server.h"
#include "fuzz_common.h"
#include "messaging/realtime.h"
#include "net/health.h"
#include "net/http.h"
#include "net/metrics.h"
#include "net/router.h"
#include "net/testroutes.h"
#include "routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void route_noop(struct http_req *req, void *arg)
{
    (void)req;
    (void)arg;
}

/* The pattern with each :param segment replaced by its value: must give the path back. */
static void check_found(const struct route *rt, const struct route_params *p, const char *path,
                        unsigned method)
{
    char rebuilt[8192];
    size_t o = 0;
    int k = 0;
    const char *pat = rt->pattern;

    FUZZ_CHECK(rt->methods & (method == HTTP_HEAD ? (HTTP_HEAD | HTTP_GET) : method));
    FUZZ_CHECK(p->n >= 0 && p->n <= ROUTE_PARAMS_MAX);
    while (*pat) {
        if (*pat == ':' && pat > rt->pattern && pat[-1] == '/') {
            size_t pl = strcspn(pat, "/");
            FUZZ_CHECK(k < p->n);
            FUZZ_CHECK(p->names[k] == pat + 1 && p->name_lens[k] == pl - 1);
            const char *v = p->values[k];
            size_t vl = strlen(v);
            FUZZ_CHECK(vl > 0 && !memchr(v, '/', vl));
            FUZZ_CHECK(o + vl < sizeof rebuilt);
            memcpy(rebuilt + o, v, vl);
            o += vl;
            /* route_param finds the first param of that name */
            char name[256];
            if (pl - 1 < sizeof name) {
                memcpy(name, pat + 1, pl - 1);
                name[pl - 1] = 0;
                const char *got = route_param(p, name);
                FUZZ_CHECK(got != NULL);
            }
            pat += pl;
            k++;
        } else {
            FUZZ_CHECK(o + 1 < sizeof rebuilt);
            rebuilt[o++] = *pat++;
        }
    }
    rebuilt[o] = 0;
    FUZZ_CHECK(k == p->n);
    if (strcmp(rebuilt, path))
        FUZZ_FAIL("pattern %s matched %s, rebuilt as %s", rt->pattern, path, rebuilt);
}

static void match(const struct router *r, unsigned method, const char *path, size_t scratchlen)
{
    char *scratch = malloc(scratchlen ? scratchlen : 1);
    struct route_params p;
    const struct route *rt = (const struct route *)1;
    unsigned allow = 12345;
    char buf[64];

    if (scratch == NULL)
        abort();
    memset(&p, 0, sizeof p);
    switch (router_match(r, method, path, scratch, scratchlen, &p, &rt, &allow)) {
    case ROUTER_FOUND:
        FUZZ_CHECK(rt != NULL);
        FUZZ_CHECK(router_get(r, router_index(r, rt)) == rt);
        check_found(rt, &p, path, method);
        break;
    case ROUTER_METHOD_NOT_ALLOWED:
        FUZZ_CHECK(rt == NULL && p.n == 0 && allow != 0 && (allow & 0x7fu) == allow);
        FUZZ_CHECK(!(allow & method));
        for (size_t n = 1; n <= sizeof buf; n += 7) {
            memset(buf, 'Z', sizeof buf);
            router_allow_string(allow, buf, n);
            FUZZ_CHECK(memchr(buf, 0, n) != NULL);
            for (size_t i = n; i < sizeof buf; i++)
                FUZZ_CHECK(buf[i] == 'Z');
        }
        break;
    case ROUTER_NOT_FOUND: FUZZ_CHECK(rt == NULL && p.n == 0 && allow == 0); break;
    default: FUZZ_FAIL("unknown router result");
    }
    free(scratch);
}

static struct router *real_routes(void)
{
    static struct server srv;

    srv.router = router_create();
    struct health *health = health_create(&srv, NULL);
    if (routes_register(&srv, health, NULL, NULL))
        FUZZ_FAIL("route table");
    if (router_count(srv.router) < 5)
        FUZZ_FAIL("too few routes: %zu", router_count(srv.router));
    return srv.router; /* kept for the process's life, as sottod keeps it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct router *real;
    fuzz_in in = {data, size};

    if (real == NULL) {
        if (sodium_init() < 0)
            abort();
        real = real_routes();
    }
    unsigned method = 1u << (fuzz_u8(&in) % 7);
    char *path = fuzz_cstr(&in, 4096);
    size_t scratchlen = fuzz_u8(&in);
    if (scratchlen == 0)
        scratchlen = strlen(path) + 1; /* what http.c gives */
    char *pattern = fuzz_cstr(&in, 512);

    match(real, method, path, scratchlen);

    struct router *r = router_create();
    struct route route = {
        .methods = (fuzz_u8(&in) & 0x7fu) | HTTP_POST, .pattern = pattern, .handler = route_noop};
    int idx = router_add(r, &route);
    if (idx >= 0) {
        FUZZ_CHECK(idx == 0 && pattern[0] == '/');
        match(r, method, path, scratchlen);
        match(r, method, pattern, strlen(pattern) + 1); /* a pattern matches itself */
    } else {
        int params = 0;
        for (const char *q = pattern; *q; q++)
            params += *q == ':' && q > pattern && q[-1] == '/';
        FUZZ_CHECK(pattern[0] != '/' || params > ROUTE_PARAMS_MAX);
    }
    router_destroy(r);
    free(pattern);
    free(path);
    return 0;
}
