/* Internals shared by the calls room's files: the room's state, a call's timers on this
 * node, and the steps every event shares (find a call, end it, record it, tell devices).
 *
 * Files: calls.c (create, destroy, routes, the connection hooks), events.c (the call:* rows of
 * the event table), lifecycle.c (ending, timers, records, fan-out), turn.c (TURN
 * credentials), history.c (a conversation's calls). */
#ifndef SOTTO_CALLS_INTERNAL_H
#define SOTTO_CALLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "auth/ratelimit.h"
#include "bus/bus.h"
#include "store/calls.h"

struct server;
struct rtconn;

#define CALLS_ENVELOPE_MAX (64 * 1024) /* decoded bytes, as a message envelope */

/* A call's deadlines on this node: the ring time while ringing, and for each party whose
 * socket dropped, the time it has to come back. Made on demand, freed with the call. */
enum { CALL_CALLER = 0, CALL_CALLEE = 1 };
struct call_timer {
    struct call_timer *next, *prev;
    struct calls *c;
    char id[BUS_ID_SIZE];
    lws_sorted_usec_list_t sul;
    int64_t ring_at;    /* wall ms; 0: none */
    int64_t away_at[2]; /* per party, wall ms; 0: present */
};

struct calls {
    struct server *srv;
    const struct bus_ops *bus_ops;
    struct bus *bus;
    int64_t ring_ms, reconnect_ms; /* CALL_RING_SECONDS, CALL_RECONNECT_SECONDS */
    ratelimit *limits;
    ratelimit_rule initiate_rule; /* call:initiate per user (RATE_LIMIT_CALLS) */
    ratelimit_rule turn_rule;     /* turn-credentials per user (RATE_LIMIT_TURN) */
    struct call_timer *timers;
    bool stopping;
    uint64_t started, answered, missed, failed, ringing, active;
};

/* --- lifecycle.c ------------------------------------------------------------------------ */
/* The call's timers, made when missing. */
struct call_timer *calls_timer(struct calls *c, const char *call_id);
/* Arms t at its earliest deadline (or frees it when it has none). */
void calls_timer_arm(struct call_timer *t);
struct call_timer *calls_timer_find(struct calls *c, const char *call_id);
void calls_timers_fini(struct calls *c);
/* Ends bc (as read from the bus) with reason, by ended_by (a user id, or NULL): removes it
 * from the bus (only the first ender goes on), tells the caller device and every callee
 * device that rang (call:ended), counts and records it. */
void calls_end(struct calls *c, const struct bus_call *bc, enum store_call_reason reason,
               const char *ended_by);
/* Writes the call's record as bc is now (reason and end: when ended), in the background. */
void calls_record(struct calls *c, const struct bus_call *bc, enum store_call_reason reason,
                  const char *ended_by, int64_t ended_ms);
/* An ephemeral event to one device wherever it is connected (never queued). Takes data. */
void calls_to_device(struct calls *c, const char *device_id, const char *event, json_t *data);
/* The connection hooks (ws_requests.h): a device came back, a device's last socket closed. */
void calls_device_ready(void *arg, const char *user_id, const char *device_id);
void calls_device_gone(void *arg, const char *user_id, const char *device_id);
/* A block between a and b: a call between them ends (hangup, by nobody). */
void calls_pair_ended(void *arg, const char *a, const char *b);

/* --- turn.c ----------------------------------------------------------------------------- */
/* The TURN REST credential of coturn's use-auth-secret: base64(HMAC-SHA1(secret, username))
 * into out (at least 29 bytes). 0, or -1. Pure. */
int calls_turn_credential(const char *secret, const char *username, char *out, size_t outlen);
/* Register the room's routes (c is NULL for `sottod --routes`, which runs no handler). */
int calls_turn_routes(struct server *srv, struct calls *c);

/* --- history.c -------------------------------------------------------------------------- */
int calls_history_routes(struct server *srv, struct calls *c);

#endif
