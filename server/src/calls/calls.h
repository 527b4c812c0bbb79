/* Calls (issue 18, api.md "Calls"): 1-1 audio and video calls between one caller device and
 * the other participant's devices. The server relays call:* events between connected devices
 * and keeps each call's state (ringing, active, ended) on the bus; it records every call
 * (store/calls.h) and hands out TURN credentials. It never sees an SDP or a candidate: they
 * travel inside end-to-end envelopes it cannot open.
 *
 * Public part, for the composition root (routes.c). Loop thread. */
#ifndef SOTTO_CALLS_H
#define SOTTO_CALLS_H

#include <stdint.h>

struct server;
struct calls;

/* Creates the calls room (when the real-time state exists: not for `sottod --routes`),
 * hooks it to the WebSocket connections (freed with them, realtime_destroy) and registers its
 * routes. *out gets the room (NULL without real time). 0, or -1. */
int calls_routes(struct server *srv, struct calls **out);

/* The room's counters for /metrics (arg: the struct calls). Totals since start, and the
 * calls ringing and active now, on this node. */
void calls_metrics(void *arg, uint64_t *started, uint64_t *answered, uint64_t *missed,
                   uint64_t *failed, uint64_t *ringing, uint64_t *active);

#endif
