/* The event loop: one lws context and vhost serving HTTP and /ws on one port, the stop
 * signal, and the drain on SIGTERM/SIGINT. */
#ifndef SOTTO_LOOP_H
#define SOTTO_LOOP_H

#include <stddef.h>

struct server;

/* Blocks SIGTERM/SIGINT in the calling thread (call before any thread starts, so workers
 * inherit the mask) and starts the thread that waits for them. 0 or -1. */
int loop_signals_start(void);

/* Creates the lws context listening on BIND:PORT (TLS if configured). 0, or -1 with a
 * one-line reason in err. Sets srv->lws and srv->port (the kernel's choice for PORT=0). */
int loop_create(struct server *srv, char *err, size_t errlen);

/* Serves until a stop signal, then stops accepting, lets in-flight requests finish (at most
 * 1.5 s), and returns. */
void loop_run(struct server *srv);

/* Wakes the loop from any thread (pool completions). */
void loop_wake(void *srv);

void loop_destroy(struct server *srv);

#endif
