/* GET /healthz: {"status":"ok"} when the store answers. The store is probed on the worker
 * pool at most about twice a second and the result is reused for up to one second, so a
 * health check normally costs no pool round trip at all. */
#ifndef SOTTO_HEALTH_H
#define SOTTO_HEALTH_H

struct server;
struct health;

/* Runs on a worker thread with that worker's context (e.g. its store connection); returns 0
 * when the backend is healthy. main.c sets it: store_ping once the store is linked. */
typedef int (*health_probe_fn)(void *worker_ctx);

/* A probe that always succeeds, for a server without a store. */
int health_probe_none(void *worker_ctx);

struct health *health_create(struct server *srv, health_probe_fn probe);
/* Answers any request still waiting for a probe (503), then frees. */
void health_destroy(struct health *h);
int health_routes(struct health *h);

#endif
