/* Test-only routes: POST /api/_test/echo (JSON, 1 KiB limit), GET /api/_test/slow?ms=N (a
 * pool job that sleeps), GET /api/_test/auth (ROUTE_AUTH). See testroutes.h. */
#include "net/testroutes.h"

#ifdef SOTTO_TEST_ROUTES
#include <stdlib.h>
#include <unistd.h>

#include "base/server.h"
#include "net/http.h"

struct slow_job {
    struct http_req *req;
    long ms;
};

static void echo(struct http_req *req, void *arg)
{
    (void)arg;
    http_respond_json(req, 200, json_pack("{s:O}", "received", http_json(req)));
}

static void slow_work(void *ctx, void *arg)
{
    struct slow_job *j = arg;

    (void)ctx;
    usleep((useconds_t)j->ms * 1000);
}

static void slow_done(void *arg)
{
    struct slow_job *j = arg;

    http_respond_json(j->req, 200, json_pack("{s:i}", "slept", (json_int_t)j->ms));
    free(j);
}

static void slow(struct http_req *req, void *arg)
{
    struct slow_job *j = calloc(1, sizeof(*j));
    char ms[16];

    (void)arg;
    if (!j)
        abort();
    j->req = req;
    j->ms = http_query(req, "ms", ms, sizeof(ms)) > 0 ? strtol(ms, NULL, 10) : 200;
    if (j->ms < 0 || j->ms > 5000)
        j->ms = 200;
    if (http_submit(req, slow_work, slow_done, j))
        free(j);
}

static void authed(struct http_req *req, void *arg)
{
    (void)arg;
    http_respond_json(req, 200, json_pack("{s:b}", "ok", 1));
}

int testroutes_register(struct server *srv)
{
    const struct route routes[] = {
        {HTTP_POST, "/api/_test/echo", echo, NULL, 1024, ROUTE_JSON},
        {HTTP_GET, "/api/_test/slow", slow, NULL, 0, 0},
        {HTTP_GET, "/api/_test/auth", authed, NULL, 0, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}

#else

int testroutes_register(struct server *srv)
{
    (void)srv;
    return 0;
}

#endif
