/* The WebSocket requests of /ws as another room sees them: rows of the event table, the
 * request's job and its replies, and what it hears of the connections (a device authenticated,
 * a device's connection gone). messaging owns the connection (struct rtconn stays opaque
 * here); a room with events of its own (calls/) declares its rows with these types, and
 * wsproto.c lists its set once (the extern declarations at the end).
 *
 * Everything runs on the loop thread. */
#ifndef SOTTO_WS_REQUESTS_H
#define SOTTO_WS_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

struct rtconn;
struct job;
struct server;
struct bus;
struct bus_ops;
struct field_spec;
struct field_value;

/* --- the event table's rows (wsproto.c; the order of the checks is in rt_internal.h) --- */
enum wsp_rate {
    WSP_RATE_FRAME,    /* the frame bucket only: the event never waits at the pool */
    WSP_RATE_INFLIGHT, /* and an in-flight slot: refused while WS_MAX_INFLIGHT are taken */
};
/* data is borrowed (the frame's); req_id is the client's id or NULL, borrowed. */
typedef void (*wsp_handler_fn)(struct rtconn *s, json_t *data, const char *req_id);
struct wsp_event {
    const char *name;
    wsp_handler_fn run;
    bool needs_id;    /* a frame without an id is refused (validation_failed {id, missing}) */
    bool before_auth; /* may come before authentication (it is the authentication) */
    size_t max_len;   /* longest frame, bytes (payload_too_large beyond); 0: WS_MAX_FRAME, the
                       * cap ws.c enforces on every message */
    enum wsp_rate rate;
};
struct wsp_events {
    const struct wsp_event *rows;
    size_t n;
};
#define WSP_EVENTS(rows)                         \
    {                                            \
        (rows), sizeof(rows) / sizeof((rows)[0]) \
    }

/* The sets of other rooms that wsproto.c lists (defined in their rooms). */
extern const struct wsp_events calls_ws_events; /* calls/events.c */

/* --- a request and its replies ------------------------------------------------------- */
/* The authenticated user and device of s (borrowed, valid while s is). */
const char *wsp_user(const struct rtconn *s);
const char *wsp_device(const struct rtconn *s);
/* The one reply to a request with an id; without an id, ack sends nothing and error still
 * sends the error frame (without id). Both take the reference to data/details. */
void wsp_ack(struct rtconn *s, const char *req_id, json_t *data);
void wsp_error(struct rtconn *s, const char *req_id, const char *code, const char *message,
               json_t *details);
/* Renders {"event","data"} to text (takes data); caller frees. */
char *wsp_render(const char *event, json_t *data, size_t *len);
/* A WebSocket request of s as the plumbing's job (api/job.h): job_submit runs its work on a
 * worker, and its result is the request's ack, its error the error frame, through the same
 * mapping as REST. It counts in s's in-flight requests until answered; who is s's caller. */
struct job *wsp_job(struct rtconn *s, const char *req_id);
/* The connection a WebSocket job answered, found again (NULL once it closed): for an
 * after-success step that acts on it. */
struct rtconn *wsp_job_conn(struct job *j);
/* Checks data against declared field rows (api/fields.h): 0, or -1 after answering
 * validation_failed {field, reason}, the same answer REST gives. */
int wsp_fields(struct rtconn *s, const char *req_id, const json_t *data,
               const struct field_spec *specs, size_t n, struct field_value *values, size_t nv);
/* The error for a store result (not_found, forbidden, device_list_mismatch...). */
void wsp_store_error(struct rtconn *s, const char *req_id, enum store_err rc, json_t *details);

/* --- what another room hears of the connections ------------------------------------------ */
/* One set of hooks (the calls room's), given once at start with its arg. */
struct ws_conn_hooks {
    /* A device authenticated on a connection of this node (its first authenticate). */
    void (*const ready)(void *arg, const char *user_id, const char *device_id);
    /* The last connection of a device on this node closed (a connection replaced by a newer
     * one of the same device is not a departure). */
    void (*const gone)(void *arg, const char *user_id, const char *device_id);
    /* Users a and b stopped being contacts (a block), on every node (the bus's contacts). */
    void (*const pair_ended)(void *arg, const char *a, const char *b);
    /* realtime_stop: cancel timers, submit no more pool work. */
    void (*const stop)(void *arg);
    /* realtime_destroy, before the bus goes: free everything. */
    void (*const destroy)(void *arg);
};
/* Sets the hooks (h and arg must outlive the real-time state). After realtime_create. */
void realtime_conn_hooks(struct server *srv, const struct ws_conn_hooks *h, void *arg);
/* The arg given with the hooks: the hooked room's state, for its event rows. */
void *wsp_hooks_arg(const struct rtconn *s);
/* The bus of this node (bus/bus.h), for a room's own fan-out. */
void realtime_bus(struct server *srv, const struct bus_ops **ops, struct bus **bus);
/* Whether device_id has an authenticated connection on this node. */
bool realtime_device_connected(struct server *srv, const char *device_id);

#endif
