/* The WebSocket endpoint /ws. It accepts upgrades from allowed origins, reassembles messages
 * up to WS_MAX_FRAME and hands each to the connection handler above it through a struct ws_handler
 * (the messaging room registers one at start; net/ knows nothing of what a connection carries).
 * Outbound frames go through a bounded per-connection queue written only in the writeable
 * callback. */
#ifndef SOTTO_WS_H
#define SOTTO_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#define WS_PROTOCOL_NAME "sotto.v1"
#define WS_STATE_ALIGN 8 /* alignment of a handler's state: pointers and 64-bit integers */

struct server;
struct ws_conn;

/* The connection handler on top of /ws, after Janus's transport callbacks: ws.c calls these on the
 * loop thread and never looks inside the handler's state. Each connection carries state_size bytes
 * for it inside lws's per-connection data (suitably aligned, zeroed at the upgrade), so a
 * connection costs no allocation of its own: about 19,000 idle connections must fit in 4 KiB
 * each with lws's share. state points at those bytes, aligned to WS_STATE_ALIGN; they are the
 * handler's from open to closed and ws.c frees nothing in them. */
struct ws_handler {
    size_t state_size;
    /* The upgrade is done: the connection starts. ws_send and the others may be called on c
     * from now until closed returns. srv is the context's (base/server.h). */
    void (*const open)(struct server *srv, struct ws_conn *c, void *state);
    /* One complete text message, msg[0..len) (borrowed, not NUL-terminated). Never called
     * once a close is under way, nor for binary or oversized messages (ws.c closes those). */
    void (*const message)(void *state, const char *msg, size_t len);
    /* Something came from the client (a frame's bytes or a pong): the keep-alive's sign of
     * life. Called often; must be O(1). */
    void (*const alive)(void *state);
    /* The outbound queue drained to a quarter of WS_MAX_QUEUE or less after writes: room for
     * what the handler held back. */
    void (*const room)(void *state);
    /* The connection is gone (whoever closed it); c and state are invalid once it returns.
     * Not called for an upgrade refused before open. */
    void (*const closed)(void *state);
};

/* Sets the handler of every connection (h is kept, not copied). Once, before loop_create:
 * state_size is part of the per-connection size lws is given then. Without a handler, messages
 * are read and dropped. */
void ws_set_handler(const struct ws_handler *h);

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);
/* Bytes of lws per-connection data per connection: ws.c's own plus the handler's state. */
size_t ws_conn_data_size(void);

/* Queues a text frame (copied). Returns 0, or -1 if the queue is full: the connection is then
 * closed (1008), since a client that does not read must not grow our memory. Loop thread. */
int ws_send(struct ws_conn *c, const char *text, size_t len);

/* Frames queued, and frames that may still be queued before the limit. Loop thread. */
size_t ws_queued(const struct ws_conn *c);
size_t ws_room(const struct ws_conn *c);

/* Writes what is queued, then closes with code and reason (static text); a client that does
 * not take the last frames is dropped after 5 s. Further ws_send calls fail. Loop thread. */
void ws_close(struct ws_conn *c, int code, const char *reason);

/* Keep-alive: a WebSocket ping goes out at the next writeable, ahead of the queued frames
 * and outside the queue's bound (nothing when closing). Loop thread. */
void ws_ping(struct ws_conn *c);

/* Stops or resumes reading from the socket (while a request must finish first). */
void ws_rx_pause(struct ws_conn *c, bool pause);

#endif
