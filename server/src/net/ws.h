/* The WebSocket endpoint /ws. It accepts upgrades from allowed origins, reassembles messages
 * up to WS_MAX_FRAME and hands each to the protocol (session.c; without the store, an error
 * frame "not_implemented"). Outbound frames go through a bounded per-connection queue written
 * only in the writeable callback. */
#ifndef SOTTO_WS_H
#define SOTTO_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#define WS_PROTOCOL_NAME "sotto.v1"

struct server;
struct ws_conn;

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);
size_t ws_session_size(void);

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
