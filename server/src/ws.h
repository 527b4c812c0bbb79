/* The WebSocket endpoint /ws. For now it accepts upgrades from allowed origins, reassembles
 * messages up to WS_MAX_FRAME, and answers each with an error frame "not_implemented": the
 * protocol itself (authenticate, message:send, ...) comes with the messaging issue, which
 * replaces ws_on_message. Outbound frames go through a bounded per-connection queue written
 * only in the writeable callback. */
#ifndef SOTTO_WS_H
#define SOTTO_WS_H

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

#endif
