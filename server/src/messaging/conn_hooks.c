/* What other rooms see of the WebSocket connections (ws_requests.h): the caller of a request,
 * this node's bus and connections, and the connection hooks (the calls room hears that a device
 * authenticated, or that its last connection here closed, without conn.c knowing of calls). */
#include <string.h>

#include "base/server.h"
#include "messaging/rt_internal.h"
#include "messaging/ws_requests.h"

const char *wsp_user(const struct rtconn *s) { return s->user_id; }

const char *wsp_device(const struct rtconn *s) { return s->device_id; }

void *wsp_hooks_arg(const struct rtconn *s) { return s->rt ? s->rt->hooks_arg : NULL; }

void realtime_conn_hooks(struct server *srv, const struct ws_conn_hooks *h, void *arg)
{
    if (!srv->rt)
        return;
    srv->rt->hooks = h;
    srv->rt->hooks_arg = arg;
}

void realtime_bus(struct server *srv, const struct bus_ops **ops, struct bus **bus)
{
    *ops = srv->rt->bus_ops;
    *bus = srv->rt->bus;
}

bool realtime_device_connected(struct server *srv, const char *device_id)
{
    struct rtconn *o;

    for (o = rt_device_conns(srv->rt, device_id); o; o = o->next_dev)
        if (o->state == CONN_READY && !strcmp(o->device_id, device_id))
            return true;
    return false;
}

void conn_hook_ready(struct rtconn *s)
{
    struct realtime *rt = s->rt;

    if (rt->hooks)
        rt->hooks->ready(rt->hooks_arg, s->user_id, s->device_id);
}

void conn_hook_gone(struct realtime *rt, struct rtconn *s)
{
    /* A newer connection of the same device replaced this one: the device has not left. */
    if (!rt->hooks || realtime_device_connected(rt->srv, s->device_id))
        return;
    rt->hooks->gone(rt->hooks_arg, s->user_id, s->device_id);
}

void conn_hook_pair_ended(struct realtime *rt, const char *a, const char *b)
{
    if (rt->hooks)
        rt->hooks->pair_ended(rt->hooks_arg, a, b);
}

void conn_hook_stop(struct realtime *rt)
{
    if (rt->hooks)
        rt->hooks->stop(rt->hooks_arg);
}

void conn_hook_destroy(struct realtime *rt)
{
    if (rt->hooks)
        rt->hooks->destroy(rt->hooks_arg);
    rt->hooks = NULL;
}
