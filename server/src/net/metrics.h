/* Prometheus metrics: open connections, requests by route and status, a latency histogram,
 * calls, attachments.
 * Counters are plain integers touched only on the loop thread, so recording costs a few adds. */
#ifndef SOTTO_METRICS_H
#define SOTTO_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct router;
struct server;

#define METRICS_ROUTE_STATIC (-1) /* static files and the SPA fallback */
#define METRICS_ROUTE_NONE (-2)   /* matched nothing: 404/405/preflight */

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m);

void metrics_connection(struct metrics *m, int http_delta, int ws_delta);

/* Where the call counters come from (the calls room, wired by routes.c: the network layer
 * knows no domain): totals since start and the calls ringing and active now. */
typedef void (*metrics_calls_fn)(void *arg, uint64_t *started, uint64_t *answered, uint64_t *missed,
                                 uint64_t *failed, uint64_t *ringing, uint64_t *active);
void metrics_calls_source(struct metrics *m, metrics_calls_fn fn, void *arg);
/* Where the attachment counters come from (the attachments room, wired by routes.c): bytes
 * received and sent and blob store errors since start, uploads being written now. */
typedef void (*metrics_attachments_fn)(void *arg, uint64_t *bytes_in, uint64_t *bytes_out,
                                       uint64_t *uploads, uint64_t *store_errors);
void metrics_attachments_source(struct metrics *m, metrics_attachments_fn fn, void *arg);
void metrics_request(struct metrics *m, int route_index, int status, uint64_t usec);

/* The exposition text (malloc'd, caller frees). */
char *metrics_render(const struct metrics *m, const struct router *r, size_t pool_pending,
                     size_t *len);

/* Whether a request may read /metrics: from loopback with no forwarding header from an
 * untrusted peer, or with the token (compared in constant time). Pure; tests use it. */
int metrics_access_allowed(const char *client_ip, int forwarded_untrusted,
                           const char *authorization, const char *token);

/* Registers GET /metrics. */
int metrics_routes(struct server *srv);

#endif
