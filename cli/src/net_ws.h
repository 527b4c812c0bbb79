/* net_ws.h: one WebSocket connection to sottod's /ws (libwebsockets client, one thread).
 *
 * Frames are JSON text. ws_send queues a frame; it is written when the socket is writable.
 * ws_run services the connection until ws_stop, a close, or the tick callback asks to
 * stop; the tick runs every 50 ms on the same thread (stdin polling, deadlines).
 */
#ifndef SOTTO_CLI_NET_WS_H
#define SOTTO_CLI_NET_WS_H

#include <jansson.h>

typedef struct ws_conn ws_conn;

/* Called for every frame received: the parsed frame (borrowed) and its "event". */
typedef void (*ws_event_fn)(void *ctx, const char *event, json_t *frame);
/* Called every 50 ms; non-zero stops ws_run. */
typedef int (*ws_tick_fn)(void *ctx);

/* Connects to <server>/ws (http -> ws, https -> wss) and waits until it is open.
 * Returns 0, or -1 (message on stderr). */
int ws_open(ws_conn **out, const char *server, ws_event_fn on_event, ws_tick_fn on_tick, void *ctx);
/* Queues {event, data, id?}; data is stolen. With want_id, id gets the request id
 * (>= 16 bytes). Returns 0 or -1. */
int ws_send(ws_conn *w, const char *event, json_t *data, int want_id, char *id);
/* Runs until stopped or closed. Returns 0 when stopped, -1 when the connection closed. */
int ws_run(ws_conn *w);
void ws_stop(ws_conn *w);
/* The close code the server sent (0 when none). */
int ws_close_code(const ws_conn *w);
/* Flushes queued frames (up to ms), then closes and frees. */
void ws_close(ws_conn *w, int flush_ms);

#endif
