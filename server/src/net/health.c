/* /healthz with a cached store probe. A request finding a result younger than 1 s is
 * answered at once; one older than 500 ms also starts a background refresh, so under steady
 * traffic nobody waits. Only a request finding no fresh result waits (in a bounded list) for
 * the single probe in flight. */
#include "net/health.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"
#include "net/http.h"
#include "net/router.h"

#define HEALTH_MAX_AGE_US 1000000u
#define HEALTH_REFRESH_US 500000u
#define HEALTH_WAITERS_MAX 1024

static const char health_ok_body[] = "{\"status\":\"ok\"}";

struct health {
    struct server *srv;
    health_probe_fn probe;
    bool ok, probing;
    uint64_t checked_at; /* monotonic µs; 0 = never */
    size_t nwaiters;
    struct http_req *waiters[HEALTH_WAITERS_MAX];
};

struct health_job {
    struct health *h;
    int rc;
};

int health_probe_none(void *worker_ctx)
{
    (void)worker_ctx;
    return 0;
}

static uint64_t health_now(void) { return (uint64_t)clock_mono_us(); }

static void health_answer(struct health *h, struct http_req *req)
{
    if (h->ok) {
        http_add_header(req, "cache-control", "no-store");
        http_respond(req, 200, "application/json", health_ok_body, sizeof(health_ok_body) - 1);
    } else {
        http_add_header(req, "retry-after", "1");
        http_respond_error(req, 503, "unavailable", "The store is not reachable.", NULL);
    }
}

static void health_work(void *worker_ctx, void *arg)
{
    struct health_job *j = arg;

    j->rc = j->h->probe(worker_ctx);
}

static void health_done(void *arg)
{
    struct health_job *j = arg;
    struct health *h = j->h;
    bool was_ok = h->ok || !h->checked_at;

    h->ok = j->rc == 0;
    h->checked_at = health_now();
    h->probing = false;
    free(j);
    if (was_ok && !h->ok)
        log_warn("health.down", "reason=store_unreachable");
    else if (!was_ok && h->ok)
        log_info("health.up", "reason=store_reachable");
    for (size_t i = 0; i < h->nwaiters; i++)
        health_answer(h, h->waiters[i]);
    h->nwaiters = 0;
}

static void health_refresh(struct health *h)
{
    struct health_job *j;

    if (h->probing)
        return;
    j = malloc(sizeof(*j));
    if (!j)
        abort();
    j->h = h;
    if (pool_submit(h->srv->pool, health_work, health_done, j)) {
        free(j); /* queue full: keep the old result, try again on a later request */
        return;
    }
    h->probing = true;
}

static void health_get(struct http_req *req, void *arg)
{
    struct health *h = arg;
    uint64_t age = health_now() - h->checked_at;

    if (!h->checked_at || age >= HEALTH_REFRESH_US)
        health_refresh(h);
    if (h->checked_at && age < HEALTH_MAX_AGE_US) {
        health_answer(h, req);
        return;
    }
    if (!h->probing || h->nwaiters == HEALTH_WAITERS_MAX) {
        /* No probe could start (queue full) or too many waiting: the store is not
         * answering in time, which is what a health check reports. */
        http_add_header(req, "retry-after", "1");
        http_respond_error(req, 503, "unavailable", "The server is busy.", NULL);
        return;
    }
    h->waiters[h->nwaiters++] = req;
}

struct health *health_create(struct server *srv, health_probe_fn probe)
{
    struct health *h = calloc(1, sizeof(*h));

    if (!h)
        abort();
    h->srv = srv;
    h->probe = probe ? probe : health_probe_none;
    return h;
}

void health_destroy(struct health *h)
{
    if (!h)
        return;
    h->ok = false;
    for (size_t i = 0; i < h->nwaiters; i++)
        health_answer(h, h->waiters[i]);
    free(h);
}

int health_routes(struct health *h)
{
    struct route r = {.methods = HTTP_GET, .pattern = "/healthz", .handler = health_get, .arg = h};

    return router_add(h->srv->router, &r) < 0 ? -1 : 0;
}
