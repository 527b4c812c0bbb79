/* GET /metrics (metrics.h): the Prometheus text, for loopback callers that forward for nobody
 * and for holders of METRICS_TOKEN. */
#include <stdlib.h>

#include <sodium.h>

#include "base/pool.h"
#include "base/server.h"
#include "net/http.h"
#include "net/metrics.h"
#include "net/router.h"

static void metrics_get(struct http_req *req, void *arg)
{
    struct server *srv = arg;
    char auth[512] = "", xff[4200]; /* larger than any header lws keeps */
    char *text;
    size_t len, pending;
    /* A loopback peer that forwards for someone else (a local reverse proxy not listed in
     * TRUSTED_PROXIES) must not turn every outside client into "loopback". */
    int forwarded = http_header(req, "x-forwarded-for", xff, sizeof(xff)) != -1 ||
                    http_header(req, "forwarded", xff, sizeof(xff)) != -1;

    if (http_header(req, "authorization", auth, sizeof(auth)) < 0)
        auth[0] = 0;
    if (!metrics_access_allowed(http_client_ip(req), forwarded, auth, srv->cfg->metrics_token)) {
        sodium_memzero(auth, sizeof(auth));
        http_respond_error(req, 403, "forbidden", "Metrics are not available to you.", NULL);
        return;
    }
    sodium_memzero(auth, sizeof(auth));
    pending = pool_pending(srv->pool) + pool_pending(srv->writer);
    text = metrics_render(srv->metrics, srv->router, pending, &len);
    http_add_header(req, "cache-control", "no-store");
    http_respond_take(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, free);
}

int metrics_routes(struct server *srv)
{
    struct route r = {
        .methods = HTTP_GET, .pattern = "/metrics", .handler = metrics_get, .arg = srv};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
