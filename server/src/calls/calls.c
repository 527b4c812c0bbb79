/* The calls room: its state (settings, rate limits, timers, counters), its place in the
 * house (the connection hooks of the WebSocket, the routes) and its counters for /metrics. */
#include "calls/calls.h"

#include <stdlib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/server.h"
#include "calls/internal.h"
#include "messaging/ws_requests.h"

static void calls_stop(void *arg)
{
    struct calls *c = arg;

    c->stopping = true;
    calls_timers_fini(c);
}

static void calls_destroy(void *arg)
{
    struct calls *c = arg;

    calls_timers_fini(c);
    ratelimit_destroy(c->limits);
    free(c);
}

static const struct ws_conn_hooks calls_hooks = {
    .ready = calls_device_ready,
    .gone = calls_device_gone,
    .pair_ended = calls_pair_ended,
    .stop = calls_stop,
    .destroy = calls_destroy,
};

static ratelimit_rule calls_rule(const char *name, const char *setting, long cap, long period)
{
    if (setting)
        config_bucket_parse(setting, &cap, &period); /* checked at start */
    return (ratelimit_rule){name, (uint32_t)cap, (uint32_t)period};
}

static struct calls *calls_create(struct server *srv)
{
    const struct config *cfg = srv->cfg;
    struct calls *c = calloc(1, sizeof(*c));

    if (!c)
        abort();
    c->srv = srv;
    realtime_bus(srv, &c->bus_ops, &c->bus);
    c->ring_ms = cfg->call_ring_seconds * 1000;
    c->reconnect_ms = cfg->call_reconnect_seconds * 1000;
    c->limits = ratelimit_create((size_t)cfg->rate_limit_table);
    if (!c->limits) {
        free(c);
        return NULL;
    }
    c->initiate_rule = calls_rule("call_initiate", cfg->rl_calls, 20, 60);
    c->turn_rule = calls_rule("turn_credentials", cfg->rl_turn, 30, 60);
    realtime_conn_hooks(srv, &calls_hooks, c);
    log_info("calls.start", "ring=%lds reconnect=%lds turn=%s", cfg->call_ring_seconds,
             cfg->call_reconnect_seconds, cfg->turn_secret && cfg->turn_urls ? "on" : "off");
    return c;
}

int calls_routes(struct server *srv, struct calls **out)
{
    struct calls *c = NULL;

    *out = NULL;
    if (srv->rt && !(c = calls_create(srv)))
        return -1;
    *out = c;
    return calls_turn_routes(srv, c) || calls_history_routes(srv, c) ? -1 : 0;
}

void calls_metrics(void *arg, uint64_t *started, uint64_t *answered, uint64_t *missed,
                   uint64_t *failed, uint64_t *ringing, uint64_t *active)
{
    const struct calls *c = arg;

    *started = c->started;
    *answered = c->answered;
    *missed = c->missed;
    *failed = c->failed;
    *ringing = c->ringing;
    *active = c->active;
}
