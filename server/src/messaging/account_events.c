/* Account events (issue 24): device:added when a login creates a device, and user:deleted
 * when an account that shared a conversation is deleted. Both are ephemeral, like presence:
 * they go to the connected devices through the bus and are never queued; a device that was
 * offline learns the same from GET /api/users/me/devices (createdAt) and GET /api/conversations
 * (the participant is gone), docs/api/events.md. */
#include <stdlib.h>

#include "base/server.h"
#include "messaging/realtime.h"
#include "messaging/rt_internal.h"

void realtime_device_added(struct server *srv, const struct realtime_new_device *d)
{
    struct realtime *rt = srv->rt;
    size_t len;
    char *f;

    if (!rt || !d || !d->user_id || !d->device_id)
        return;
    f = wsp_render("device:added",
                   json_pack("{s:s, s:s, s:s, s:o, s:s}", "deviceId", d->device_id, "name",
                             d->name ? d->name : "", "platform", d->platform ? d->platform : "",
                             "createdAt", api_time_json(d->created_at), "address",
                             d->address ? d->address : ""),
                   &len);
    /* The new device is not connected yet, but a reused id must never tell itself. */
    rt->bus_ops->to_user(rt->bus, d->user_id, d->device_id, f, len);
    free(f);
}

void realtime_user_deleted(struct server *srv, const char *deleted_id, const char *to_user_id)
{
    struct realtime *rt = srv->rt;
    size_t len;
    char *f;

    if (!rt || !deleted_id || !to_user_id)
        return;
    f = wsp_render("user:deleted", json_pack("{s:s}", "userId", deleted_id), &len);
    rt->bus_ops->to_user(rt->bus, to_user_id, NULL, f, len);
    free(f);
}
