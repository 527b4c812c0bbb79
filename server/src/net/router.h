/* The route table: method + pattern (with :params) + handler + body limit + flags. Modules
 * register their routes at start (health_routes, metrics_routes, later auth_routes...); the
 * HTTP layer matches each request against the table. */
#ifndef SOTTO_ROUTER_H
#define SOTTO_ROUTER_H

#include <stddef.h>

/* Bit flags, so a route can serve several methods and 405 can list the allowed ones. */
enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
};

#define ROUTE_PARAMS_MAX 8
#define ROUTES_MAX 256

struct http_req;

/* Called on the loop thread with the request ready (body read and parsed for ROUTE_JSON).
 * arg is the route's arg. The handler must answer exactly once, now or later (see http.h). */
typedef void (*route_handler_fn)(struct http_req *req, void *arg);

enum route_flags {
    ROUTE_AUTH = 1 << 0,   /* needs a valid access token: the auth hook runs first (http.h) */
    ROUTE_JSON = 1 << 1,   /* has a JSON body: Content-Type must be application/json (415),
                            * it must parse (400 invalid_json); req->json holds it */
    ROUTE_STREAM = 1 << 2, /* the body is not collected: the handler runs at the headers
                            * (after the auth hook) and takes it in pieces, with back-pressure
                            * (http_stream_body); body_limit still bounds the declared length */
};

struct route {
    unsigned methods;    /* enum http_method bits; GET also answers HEAD */
    const char *pattern; /* "/api/users/:id"; static storage, also the metrics label */
    route_handler_fn handler;
    void *arg;         /* passed to handler; owned by the registering module */
    size_t body_limit; /* bytes; 0 = BODY_LIMIT from the configuration */
    unsigned flags;    /* enum route_flags */
};

struct route_params {
    int n;
    const char *names[ROUTE_PARAMS_MAX]; /* point into the pattern (not terminated) */
    size_t name_lens[ROUTE_PARAMS_MAX];
    const char *values[ROUTE_PARAMS_MAX]; /* terminated strings in the caller's scratch */
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

struct router;

struct router *router_create(void);
void router_destroy(struct router *r);

/* Copies the route. Returns its index (stable, 0-based), or -1 for a malformed pattern (must
 * start with '/', at most ROUTE_PARAMS_MAX params) or a full table. Before the loop runs. */
int router_add(struct router *r, const struct route *route);

/* Matches method+path. On ROUTER_FOUND *out is the route and params hold the :param values,
 * copied into scratch. On ROUTER_METHOD_NOT_ALLOWED *allow has the methods the path accepts.
 * Routes are tried in registration order, so register "/x/me" before "/x/:id". */
enum router_result router_match(const struct router *r, unsigned method, const char *path,
                                char *scratch, size_t scratchlen, struct route_params *params,
                                const struct route **out, unsigned *allow);

size_t router_count(const struct router *r);
const struct route *router_get(const struct router *r, size_t index);
/* Index of a route returned by router_match/router_get. */
size_t router_index(const struct router *r, const struct route *route);

/* The value of :name, or NULL. */
const char *route_param(const struct route_params *params, const char *name);

/* Writes "GET, HEAD, POST" for a method set; returns buf. */
const char *router_allow_string(unsigned methods, char *buf, size_t buflen);

#endif
