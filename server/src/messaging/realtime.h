/* Messaging and real time (issue 5): the key directory, conversations and messages over REST,
 * and the WebSocket protocol on /ws (authenticate, message:send, queue:ack, receipts, typing,
 * presence), with fan-out through the bus (bus/bus.h).
 *
 * Public part (main.c, and the after-success steps of device revoke, logout, logout-all, password
 * reset, a login that made a device and account deletion): create/destroy, route registration,
 * closing a device's socket, account events. Everything runs on the loop thread unless a comment
 * says otherwise. The internal part, shared by the realtime files only, is in rt_internal.h. */
#ifndef SOTTO_REALTIME_H
#define SOTTO_REALTIME_H

#include <stdbool.h>
#include <stdint.h>

struct server;

/* Makes this the connection handler of /ws (net/ws.h: conn.c's handler, the event table of
 * wsproto.c). Before loop_create, which sizes each connection's data by it. */
void realtime_ws_register(void);
/* Creates srv->rt (bus, connection registry, retention timer). Needs srv->lws, srv->pool and
 * srv->cfg. 0, or -1 (logged). */
int realtime_create(struct server *srv);
/* Before the pool and the lws context go: stops the timers and refuses new pool work (the
 * connections closing during context destruction then skip their store work). */
void realtime_stop(struct server *srv);
/* Frees srv->rt. The lws context must be destroyed first (every connection closed). */
void realtime_destroy(struct server *srv);

/* Registers the keys, conversations and messages routes. */
int realtime_routes(struct server *srv);

/* A device was revoked (its tokens, keys and queue are gone in the store): close its
 * WebSocket with 4403 on whichever node holds it. Call from the revoke handler's completion,
 * after the store committed. Loop thread. */
void realtime_revoke_device(struct server *srv, const char *device_id);

/* A device's tokens were ended (logout, logout-all, password reset: its tokens_not_before is
 * committed): close its WebSocket with 4401 on whichever node holds it. A first authenticate
 * of the device that is still at the pool checks the store again before it succeeds. Call
 * from the handler's after-success step (api.h). Loop thread. */
void realtime_end_device(struct server *srv, const char *device_id);

/* Users a and b became contacts again (contacts true: an unblock) or stopped being contacts
 * (false: a block), as the store has committed: the contact rule of presence and typing
 * (api.md) applies at once, without a reconnect. Whichever of them is online is shown to the
 * other as user:online, or user:offline across a new block; typing indicators between them
 * stop. A first reply that makes two users contacts is handled by the send itself. Call from
 * the handler's after-success step, only when the relation changed. Loop thread. */
void realtime_contacts_changed(struct server *srv, const char *a, const char *b, bool contacts);

/* user_id changed who sees their last seen (PATCH /api/users/me committed): presence events
 * from now on carry lastSeen null for them when hidden. Loop thread. */
void realtime_last_seen_hidden(struct server *srv, const char *user_id, bool hidden);

/* A login created a device (the store committed it): device:added to the user's other
 * connected devices, live and never queued (an offline device finds it in GET
 * /api/users/me/devices by its createdAt). address: the client as sottod saw it (after
 * TRUSTED_PROXIES). Loop thread. */
struct realtime_new_device {
    const char *user_id, *device_id, *name, *platform, *address;
    int64_t created_at; /* unix ms */
};
void realtime_device_added(struct server *srv, const struct realtime_new_device *d);

/* The account deleted_id is gone (the store committed its deletion): user:deleted to every
 * connected device of to_user_id, one who shared a conversation with it. Live, never queued.
 * Loop thread. */
void realtime_user_deleted(struct server *srv, const char *deleted_id, const char *to_user_id);

#endif
