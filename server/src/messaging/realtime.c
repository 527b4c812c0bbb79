/* The real-time state of one node: the registry of authenticated connections (by connection
 * id, by device, by user), the bus and its sinks for users and kicks (a device's frames go to
 * delivery.c), the periodic retention purge of device queues, and the public entry points of
 * realtime.h. */
#include "messaging/realtime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/ratelimit.h"
#include "base/config.h"
#include "base/log.h"
#include "base/server.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "net/ws.h"
#include "store/queue.h"

#define RT_BUCKETS 16384u /* per chain table; ~1 connection per bucket at 19,000 connections */

struct rt_ws_limits rt_ws_limits = {32, 200, 100, 50, 30, 70}; /* config.c's defaults */

static uint32_t rt_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a over server-made ids */

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h % RT_BUCKETS;
}

int rt_submit(struct realtime *rt, pool_work_fn work, pool_done_fn done, void *arg)
{
    if (rt->stopping)
        return -1;
    return pool_submit(rt->srv->pool, work, done, arg);
}

int rt_submit_write(struct realtime *rt, pool_work_fn work, pool_done_fn done, void *arg)
{
    if (rt->stopping)
        return -1;
    return pool_submit(rt->srv->writer, work, done, arg);
}

struct rtconn *rt_conn_find(struct realtime *rt, uint64_t id)
{
    struct rtconn *s;

    for (s = rt->by_id[id % RT_BUCKETS]; s; s = s->next_id)
        if (s->id == id)
            return s;
    return NULL;
}

/* Unlinks s from a chain whose link field sits at offset off in each connection. */
static void rt_chain_remove(struct rtconn **head, struct rtconn *s, size_t off)
{
    struct rtconn **pp = head;

    while (*pp && *pp != s)
        pp = (struct rtconn **)(void *)((char *)*pp + off);
    if (*pp)
        *pp = *(struct rtconn **)(void *)((char *)s + off);
}

/* The id chain holds every open connection (authenticated or not), so completions find theirs. */
void rt_conn_add(struct realtime *rt, struct rtconn *s)
{
    uint32_t b;

    s->id = ++rt->next_conn_id;
    b = (uint32_t)(s->id % RT_BUCKETS);
    s->next_id = rt->by_id[b];
    rt->by_id[b] = s;
    rt->conns++;
}

void rt_conn_remove(struct realtime *rt, struct rtconn *s)
{
    rt_unregister(rt, s);
    rt_chain_remove(&rt->by_id[s->id % RT_BUCKETS], s, offsetof(struct rtconn, next_id));
    rt->conns--;
}

void rt_register(struct realtime *rt, struct rtconn *s)
{
    uint32_t d = rt_hash(s->device_id), u = rt_hash(s->user_id);
    struct rtconn *o, *next;

    /* A newer connection of the same device replaces the older one (4409). */
    for (o = rt->by_dev[d]; o; o = next) {
        next = o->next_dev;
        if (o != s && !strcmp(o->device_id, s->device_id)) {
            rt_unregister(rt, o);
            conn_close(o, RT_CLOSE_REPLACED, "replaced by a newer connection");
        }
    }
    if (!s->registered) {
        s->next_dev = rt->by_dev[d];
        rt->by_dev[d] = s;
        s->next_user = rt->by_user[u];
        rt->by_user[u] = s;
        s->registered = 1;
    }
    /* ... and on other nodes. */
    rt->bus_ops->kick(rt->bus, s->device_id, RT_CLOSE_REPLACED, rt->node, s->id);
}

void rt_unregister(struct realtime *rt, struct rtconn *s)
{
    if (!s->registered)
        return;
    rt_chain_remove(&rt->by_dev[rt_hash(s->device_id)], s, offsetof(struct rtconn, next_dev));
    rt_chain_remove(&rt->by_user[rt_hash(s->user_id)], s, offsetof(struct rtconn, next_user));
    s->next_dev = s->next_user = NULL;
    s->registered = 0;
}

struct rtconn *rt_device_conns(struct realtime *rt, const char *device_id)
{
    return rt->by_dev[rt_hash(device_id)];
}

/* --- bus sink: what arrives for this node (a device's frames: delivery.c) ------------ */

static void rt_sink_user(void *arg, const char *user_id, const char *except_device,
                         const char *frame, size_t len)
{
    struct realtime *rt = arg;
    struct rtconn *s, *next;

    for (s = rt->by_user[rt_hash(user_id)]; s; s = next) {
        next = s->next_user; /* a full queue closes s, which leaves the chain */
        if (strcmp(s->user_id, user_id) || s->state != CONN_READY)
            continue;
        if (except_device && !strcmp(s->device_id, except_device))
            continue;
        wsp_send_raw(s, frame, len);
    }
}

static void rt_sink_kick(void *arg, const char *device_id, int code, uint64_t keep_node,
                         uint64_t keep_conn)
{
    struct realtime *rt = arg;
    struct rtconn *s, *next;

    if (code != RT_CLOSE_REPLACED)
        rt->ended_epoch++;
    for (s = rt->by_dev[rt_hash(device_id)]; s; s = next) {
        next = s->next_dev;
        if (strcmp(s->device_id, device_id))
            continue;
        if (keep_node == rt->node && keep_conn == s->id)
            continue;
        rt_unregister(rt, s);
        conn_close(s, code,
                   code == RT_CLOSE_REVOKED  ? "device revoked"
                   : code == RT_CLOSE_UNAUTH ? "session ended"
                                             : "replaced by a newer connection");
    }
}

static void rt_sink_contacts(void *arg, const char *a, const char *b, bool contacts)
{
    struct realtime *rt = arg;

    /* Becoming contacts needs nothing here: typing asks the store at each start. */
    if (contacts)
        return;
    rt->contacts_epoch++;
    typing_pair_ended(rt, a, b);
    conn_hook_pair_ended(rt, a, b); /* a call between them ends */
}

void rt_contacts_changed(struct realtime *rt, const char *a, const char *b, bool contacts)
{
    if (rt->stopping)
        return;
    log_debug("contacts.change", "contacts=%d", (int)contacts);
    rt->bus_ops->contacts(rt->bus, a, b, contacts);
    presence_contacts(rt, a, b, contacts);
}

void realtime_last_seen_hidden(struct server *srv, const char *user_id, bool hidden)
{
    if (srv->rt)
        presence_hide_seen(srv->rt, user_id, hidden);
}

/* --- retention ---------------------------------------------------------------------- */

struct rt_purge_job {
    int64_t now, deleted, retention_ms;
    enum store_err rc;
};

static void rt_purge_work(void *ctx, void *arg)
{
    struct rt_purge_job *j = arg;

    j->rc = store_queue_purge(ctx, j->now, j->retention_ms, &j->deleted);
}

static void rt_purge_done(void *arg)
{
    struct rt_purge_job *j = arg;

    if (j->rc != STORE_OK)
        log_warn("queue.purge", "result=%s", store_strerror(j->rc));
    else if (j->deleted)
        log_info("queue.purge", "deleted=%lld", (long long)j->deleted);
    free(j);
}

static void rt_purge_tick(lws_sorted_usec_list_t *sul)
{
    struct realtime *rt = lws_container_of(sul, struct realtime, purge);
    struct rt_purge_job *j = calloc(1, sizeof(*j));

    if (!j)
        abort();
    j->now = clock_wall_ms();
    j->retention_ms = rt->srv->cfg->queue_retention_days * 24LL * 3600 * 1000;
    if (rt_submit(rt, rt_purge_work, rt_purge_done, j))
        free(j); /* busy: next time */
    lws_sul_schedule(rt->srv->lws, 0, &rt->purge, rt_purge_tick,
                     RT_PURGE_INTERVAL_MS * LWS_US_PER_MS);
}

/* --- checkpoints --------------------------------------------------------------------- */

/* --- public -------------------------------------------------------------------------- */

void realtime_ws_register(void)
{
    wsp_events_init();
    ws_set_handler(&conn_ws_handler);
}

static void rt_free(struct realtime *rt)
{
    if (rt->bus)
        rt->bus_ops->destroy(rt->bus);
    ratelimit_destroy(rt->limits);
    free(rt->by_id);
    free(rt->by_dev);
    free(rt->by_user);
    free(rt);
}

int realtime_create(struct server *srv)
{
    struct realtime *rt = calloc(1, sizeof(*rt));
    struct bus_sink sink = {delivery_to_device, rt_sink_user, rt_sink_kick, rt_sink_contacts, rt};
    const struct config *cfg = srv->cfg;

    if (!rt)
        abort();
    rt->srv = srv;
    rt->by_id = calloc(RT_BUCKETS, sizeof(*rt->by_id));
    rt->by_dev = calloc(RT_BUCKETS, sizeof(*rt->by_dev));
    rt->by_user = calloc(RT_BUCKETS, sizeof(*rt->by_user));
    if (!rt->by_id || !rt->by_dev || !rt->by_user)
        abort();
    rt->bus_ops = &bus_inproc; /* REDIS_URL picks the Redis bus once it exists */
    rt->bus = rt->bus_ops->create(srv->cfg, &sink);
    rt->limits = ratelimit_create((size_t)cfg->rate_limit_table);
    /* REST writes share the WebSocket's budget: WS_RATE_BURST at once, refilled at about
     * WS_RATE_PER_SEC (the bucket's period is whole seconds). */
    rt->rest_write_rule =
        (ratelimit_rule){"rest_write", (uint32_t)cfg->ws_rate_burst,
                         (uint32_t)(cfg->ws_rate_burst / cfg->ws_rate_per_sec > 0
                                        ? cfg->ws_rate_burst / cfg->ws_rate_per_sec
                                        : 1)};
    rt_ws_limits =
        (struct rt_ws_limits){(uint32_t)cfg->ws_max_inflight,  (uint32_t)cfg->ws_rate_burst,
                              (uint32_t)cfg->ws_rate_per_sec,  (uint32_t)cfg->ws_rate_strikes,
                              (uint32_t)cfg->ws_ping_interval, (uint32_t)cfg->ws_idle_timeout};
    if (!rt->bus || !rt->limits) {
        log_error("realtime.fail", "reason=%s", rt->bus ? "ratelimit" : "bus");
        rt_free(rt);
        return -1;
    }
    rt->node = rt->bus_ops->node_id(rt->bus);
    rt->jwt_key = (const uint8_t *)srv->cfg->jwt_secret;
    rt->jwt_key_len = srv->cfg->jwt_secret ? strlen(srv->cfg->jwt_secret) : 0;
    srv->rt = rt;
    /* First purge a minute after start, then hourly. */
    lws_sul_schedule(srv->lws, 0, &rt->purge, rt_purge_tick, 60 * LWS_US_PER_SEC);
    log_info("realtime.start", "bus=%s", rt->bus_ops->name);
    return 0;
}

void realtime_stop(struct server *srv)
{
    struct realtime *rt = srv ? srv->rt : NULL;

    if (!rt)
        return;
    rt->stopping = true;
    conn_hook_stop(rt);
    lws_sul_cancel(&rt->purge);
    lws_sul_cancel(&rt->typing_tick);
}

void realtime_destroy(struct server *srv)
{
    struct realtime *rt = srv ? srv->rt : NULL;

    if (!rt)
        return;
    typing_fini(rt);
    presence_fini(rt);
    conn_hook_destroy(rt);
    rt_free(rt);
    srv->rt = NULL;
}

int realtime_routes(struct server *srv)
{
    return conversations_routes(srv) || messages_routes(srv) ? -1 : 0;
}

void realtime_revoke_device(struct server *srv, const char *device_id)
{
    struct realtime *rt = srv->rt;

    if (!rt || !device_id)
        return;
    rt->bus_ops->kick(rt->bus, device_id, RT_CLOSE_REVOKED, 0, 0);
}

void realtime_contacts_changed(struct server *srv, const char *a, const char *b, bool contacts)
{
    struct realtime *rt = srv->rt;

    if (!rt || !a || !b)
        return;
    rt_contacts_changed(rt, a, b, contacts);
}

void realtime_end_device(struct server *srv, const char *device_id)
{
    struct realtime *rt = srv->rt;

    if (!rt || !device_id)
        return;
    rt->bus_ops->kick(rt->bus, device_id, RT_CLOSE_UNAUTH, 0, 0);
}
