/* Internals shared by the messaging files: the per-connection state, the registry, and the
 * helpers for replies and pool jobs. Not for other rooms (they use realtime.h).
 *
 * Files: realtime.c (state, registry, the bus's user and kick sinks, retention timer),
 * conn.c (connection life: authenticate, re-authenticate, deadlines, keep-alive, close codes,
 * rate limits), wsproto.c (frames, request ids, ack/error replies, the event table),
 * delivery.c (the device sink, queue drain, live push, queue:ack), messaging.c
 * (send/edit/delete/read shared by REST and WebSocket), batch.c (group commit),
 * checkpoint.c (the SQLite log after the writer's commits), presence.c, typing.c, forms.c
 * (JSON forms), conversations_routes.c, messages_routes.c, conn_hooks.c (ws_requests.h's
 * accessors and the connection hooks). */
#ifndef SOTTO_RT_INTERNAL_H
#define SOTTO_RT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "api/api.h"
#include "auth/ratelimit.h"
#include "base/clock.h"
#include "base/pool.h"
#include "bus/bus.h"
#include "messaging/forms.h"
#include "messaging/ws_requests.h"
#include "store/store.h"

struct server;
struct ws_conn;
struct ws_handler;
struct wsp_events;
struct http_req;
struct ratelimit;
struct store_message;
struct store_conversation;
struct store_public_user;
struct store_participant;

#define RT_ID_SIZE 37
#define RT_REQ_ID_MAX 64 /* longest client request id echoed back */
/* Per-connection limits, from the configuration (config.c: WS_MAX_INFLIGHT, WS_RATE_BURST,
 * WS_RATE_PER_SEC, WS_RATE_STRIKES, WS_PING_INTERVAL, WS_IDLE_TIMEOUT). Process-wide like the
 * configuration itself: set by realtime_create before the first connection opens, and the
 * defaults until then. */
struct rt_ws_limits {
    uint32_t max_inflight;  /* requests of one connection at the pool at once */
    uint32_t rate_burst;    /* frames at once ... */
    uint32_t rate_per_sec;  /* ... refilled at this rate */
    uint32_t rate_strikes;  /* limited frames in a row before the socket is closed */
    uint32_t ping_interval; /* s without a frame from the client before we ping it */
    uint32_t idle_timeout;  /* s without a frame or pong before the socket is closed */
};
extern struct rt_ws_limits rt_ws_limits;
#define RT_INFLIGHT_MAX (rt_ws_limits.max_inflight)
#define RT_RATE_BURST (rt_ws_limits.rate_burst)
#define RT_RATE_PER_SEC (rt_ws_limits.rate_per_sec)
#define RT_RATE_STRIKES (rt_ws_limits.rate_strikes)
#define RT_AUTH_TIMEOUT_MS 10000 /* first authenticate must succeed within this */
#define RT_TYPING_MS 6000        /* typing stops by itself after the last start */
#define RT_FETCH_MAX 100         /* queue items per store fetch */
#define RT_QUEUE_RESERVE 8       /* outbound slots kept free for ephemeral events */
#define RT_PURGE_INTERVAL_MS (3600LL * 1000)

/* Close codes of the contract. */
#define RT_CLOSE_UNAUTH 4401
#define RT_CLOSE_REVOKED 4403
#define RT_CLOSE_REPLACED 4409

enum conn_state {
    CONN_NEW = 0, /* waiting for authenticate */
    CONN_AUTHING, /* first authenticate at the pool; reading paused */
    CONN_READY,   /* authenticated */
    CONN_CLOSING, /* flushing, then closing */
};

struct typing_slot;
struct conn_wheel;

/* Per-connection state, embedded in ws.c's per-connection data (so it costs no allocation).
 * Kept small: about 19,000 idle connections must fit in 4 KiB each with lws's own share. */
struct rtconn {
    uint64_t id; /* serial, never reused: pool jobs find us by it */
    struct rtconn *next_id, *next_dev, *next_user; /* registry chains */
    struct ws_conn *conn;
    struct realtime *rt;
    struct rtconn *tprev, *tnext; /* timer wheel (conn.c): deadline and keep-alive */
    int64_t token_exp;            /* unix seconds */
    int64_t sent_seq;             /* highest queue seq pushed on this connection */
    struct typing_slot *typing;   /* allocated only while typing */
    char user_id[RT_ID_SIZE], device_id[RT_ID_SIZE];
    uint32_t rl_milli; /* rate-limit bucket, thousandths of a frame */
    uint32_t rl_stamp; /* ms (monotonic, wrapping) of its last refill */
    uint32_t due;      /* wheel tick it is due at (while timed) */
    uint32_t dl_due;   /* wheel tick of the auth / token deadline */
    uint32_t rx_tick;  /* wheel tick of the last frame from the client */
    uint16_t inflight;
    uint8_t state; /* enum conn_state */
    uint8_t strikes;
    unsigned registered : 1, live : 1, fetching : 1, refetch : 1, drained_sent : 1, want_room : 1,
        reauthing : 1, online : 1, timed : 1, pinged : 1;
};

/* Group commit (batch.c): message sends and queue acks collected on the loop thread and run
 * by ONE pool job in ONE store transaction, each request in its own nesting level (a failing
 * request is undone alone), and completed only after the COMMIT. Requests embed a struct
 * rt_batch_item; the pending ones form a list. */
struct rt_batch_item;
/* Worker, inside the batch's transaction: runs one request (its store call nests: a savepoint
 * on PostgreSQL, a mark on SQLite) and keeps the request's own result. */
typedef void (*rt_batch_run_fn)(struct store *st, struct rt_batch_item *it);
/* Loop thread, after the batch: commit is STORE_OK when the COMMIT succeeded, otherwise
 * every request of the batch must fail (retryable). Owns the item. */
typedef void (*rt_batch_done_fn)(struct rt_batch_item *it, enum store_err commit);
struct rt_batch_item {
    struct rt_batch_item *next;
    rt_batch_run_fn run;
    rt_batch_done_fn done;
};
struct rt_batch {
    struct rt_batch_item *head, *tail; /* pending, in arrival order */
    unsigned inflight;                 /* batch jobs at the pool (at most RT_BATCH_JOBS) */
};
#define RT_BATCH_MAX 256 /* requests per transaction */
#define RT_BATCH_JOBS 1  /* batch jobs at once (one writer; no lock-order cycles) */

/* The real-time state of this node (srv->rt). */
struct realtime {
    struct server *srv;
    const struct bus_ops *bus_ops;
    struct bus *bus;
    uint64_t node;
    uint64_t next_conn_id;
    struct rtconn **by_id, **by_dev, **by_user; /* RT_BUCKETS chains each */
    size_t conns;
    struct ratelimit *limits;       /* REST message writes per device ... */
    ratelimit_rule rest_write_rule; /* ... by the WebSocket's budget */
    lws_sorted_usec_list_t purge;
    bool checkpointing;   /* a checkpoint job is at the pool */
    bool restart_wanted;  /* the writer should checkpoint before its next batch */
    size_t checkpoint_at; /* the log's size when the last one was asked for */
    lws_sorted_usec_list_t typing_tick;
    struct conn_wheel *wheel;        /* per-connection deadlines (conn.c), while any */
    struct typing_slot *typing_head; /* slots of every typing connection */
    /* Counts the contact relations ended here (blocks): a typing start whose store check
     * began before one is dropped (typing.c). */
    uint64_t contacts_epoch;
    /* Users who hide their last seen (presence.c), sorted. */
    char (*seen_hidden)[RT_ID_SIZE];
    size_t n_seen_hidden, cap_seen_hidden;
    const uint8_t *jwt_key;
    size_t jwt_key_len;
    /* Counts the kicks that end a device's tokens (4401) or the device (4403) here: an
     * authenticate whose store read started before one re-reads before it succeeds (conn.c). */
    uint64_t ended_epoch;
    struct rt_batch batch; /* message:send (WebSocket and REST) and queue:ack */
    bool stopping;
    /* Another room's ears on the sessions (the calls room; conn_hooks.c), or NULL. */
    const struct ws_conn_hooks *hooks;
    void *hooks_arg;
};

/* --- realtime.c ---------------------------------------------------------------------- */
struct rtconn *rt_conn_find(struct realtime *rt, uint64_t id);
/* Every open connection is in the id chain from open to close. */
void rt_conn_add(struct realtime *rt, struct rtconn *s);
void rt_conn_remove(struct realtime *rt, struct rtconn *s);
/* Puts an authenticated connection in the device and user chains, and closes any other
 * connection of the same device (here 4409, on other nodes through the bus). */
void rt_register(struct realtime *rt, struct rtconn *s);
void rt_unregister(struct realtime *rt, struct rtconn *s);
/* Submits pool work for a connection or a route; -1 when the pool refuses it. */
int rt_submit(struct realtime *rt, pool_work_fn work, pool_done_fn done, void *arg);
/* The same on the writer (server.h): the group-committed batches of batch.c. */
int rt_submit_write(struct realtime *rt, pool_work_fn work, pool_done_fn done, void *arg);
/* The connections in device_id's registry chain (the chain holds others too: compare). */
struct rtconn *rt_device_conns(struct realtime *rt, const char *device_id);

/* --- conn_hooks.c ---------------------------------------------------------------------- */
/* The hooks of ws_requests.h: s authenticated for the first time; s (authenticated) closed. */
void conn_hook_ready(struct rtconn *s);
void conn_hook_gone(struct realtime *rt, struct rtconn *s);
void conn_hook_pair_ended(struct realtime *rt, const char *a, const char *b); /* a block */
void conn_hook_stop(struct realtime *rt);
void conn_hook_destroy(struct realtime *rt);

/* --- checkpoint.c -------------------------------------------------------------------- */
/* The writer committed a batch, leaving wal_pages in SQLite's log (store_wal_pages): past a
 * threshold a general worker checkpoints the store. */
void rt_committed(struct realtime *rt, size_t wal_pages);
/* True once after a background checkpoint finished: the next batch job checkpoints on the
 * writer first, so that its transaction restarts SQLite's log. */
bool rt_take_restart(struct realtime *rt);
/* Users a and b became contacts (contacts true) or stopped being contacts (false), after the
 * store committed it: every node drops the pair's typing indicators (through the bus), and
 * each side that is online is shown to the other as coming online or going offline
 * (presence_contacts). */
void rt_contacts_changed(struct realtime *rt, const char *a, const char *b, bool contacts);

/* --- conn.c -------------------------------------------------------------------------- */
/* The connection handler of /ws (net/ws.h): open, conn_alive, conn_on_room and conn_closed below,
 * and wsp_dispatch for each message; its state is a struct rtconn. realtime_ws_register
 * hands it to ws.c. */
extern const struct ws_handler conn_ws_handler;
/* The ws_handler entry points; state is the struct rtconn inside ws.c's per-connection data. */
void conn_open(struct server *srv, struct ws_conn *conn, void *state);
void conn_closed(void *state);
void conn_on_room(void *state); /* the outbound queue has emptied a lot */
/* A frame or pong came from the client (keep-alive): O(1), moves no lws timer. */
void conn_alive(void *state);
/* Queues the last frames, then closes with code (flushed within a few seconds). */
void conn_close(struct rtconn *s, int code, const char *reason);
/* Rate limit for one incoming frame: true when allowed. */
bool conn_rate_ok(struct rtconn *s);
/* Its rows of the event table: authenticate. */
extern const struct wsp_events conn_ws_events;

/* --- wsproto.c ----------------------------------------------------------------------- */
/* The client events: one row per event, kept with the code that handles it (authenticate in
 * conn.c, message:send and message:read in messaging.c, queue:ack in delivery.c, typing:start
 * and typing:stop in typing.c). Each file exports its rows as a struct wsp_events; wsproto.c
 * lists those sets once and sorts them into one table by name, and the dispatcher works from
 * the row alone. A new feature (call:*, attachments) adds its rows and one line to that list.
 *
 * What a frame goes through, in this order (docs/api/events.md):
 *   1. the rate bucket: every frame pays, even one that does not parse (conn_rate_ok);
 *   2. the envelope (wsp_parse): invalid_json, or validation_failed on id, event or data;
 *   3. before authentication, only a row with before_auth (authenticate): anything else is
 *      "Authenticate first." and the socket closes with 4401; while the first authenticate is
 *      at the pool, every frame is "Authentication is in progress.";
 *   4. once authenticated, the rate class: WSP_RATE_INFLIGHT rows (and unknown events, as
 *      before the table) are rate_limited while WS_MAX_INFLIGHT requests are at the pool;
 *   5. the unknown event: validation_failed {event, unknown_event};
 *   6. the row's own limits: needs_id, max_len;
 *   7. the row's handler, which checks its data and answers. */
/* Builds the table from the sets (aborts on a duplicate name: a programming error). Called by
 * realtime_ws_register; wsp_event_find also builds it on first use. Loop thread. */
void wsp_events_init(void);
/* The row of event name (exact, case-sensitive), or NULL. */
const struct wsp_event *wsp_event_find(const char *name);
/* The table in name order, for tests: *n rows. */
const struct wsp_event *const *wsp_event_table(size_t *n);

/* Parses and dispatches one frame (the ws_handler's message; state is a struct rtconn). */
void wsp_dispatch(void *state, const char *msg, size_t len);
/* One frame's envelope, as wsp_dispatch checks it before anything depends on the
 * connection (pure; the fuzz target server/fuzz/fuzz_wsproto.c drives it). */
struct wsp_frame {
    json_t *root;               /* the parsed frame, or NULL */
    const char *rid;            /* request id (1..RT_REQ_ID_MAX), or NULL */
    const char *name;           /* event name (on 0; also when only data was bad) */
    json_t *data;               /* an object (on 0): root's "data" or own */
    json_t *own;                /* the empty data of a frame without one */
    const char *code, *message; /* on -1: the error to reject the frame with */
    json_t *details;            /* on -1: {field, reason} or NULL */
};
/* 0 when msg[0..len) is {"event": string, "data"?: object, "id"?: 1..64 chars}; -1 with the
 * error otherwise (rid is set when the id was good). Free with wsp_frame_free either way. */
int wsp_parse(const char *msg, size_t len, struct wsp_frame *f);
void wsp_frame_free(struct wsp_frame *f);
/* Steps 3 to 6 above for a frame that parsed (len: its size in bytes), on a connection in
 * state with inflight requests at the pool: 0 with the row to run, or -1 with the error to
 * answer through wsp_reject (code and message static; details, or NULL, for the caller to
 * pass on or free). r->row is the event's row, or NULL, either way. Pure (reads the limits
 * of rt_ws_limits): the fuzz target and the unit test drive it without a socket. */
struct wsp_route {
    const struct wsp_event *row;
    const char *code, *message;
    json_t *details;
};
int wsp_route(const struct wsp_frame *f, size_t len, enum conn_state state, unsigned inflight,
              struct wsp_route *r);
/* Sends {"event", "data"} (takes the reference to data). */
void wsp_event(struct rtconn *s, const char *event, json_t *data);
bool wsp_send_raw(struct rtconn *s, const char *frame, size_t len);
size_t wsp_room(struct rtconn *s); /* free outbound slots */

/* A WebSocket request on its way through the pool: identifies the connection by id, so a
 * completion after the socket closed finds nothing and only frees. */
struct wsp_req {
    struct realtime *rt;
    uint64_t conn_id;
    char user_id[RT_ID_SIZE], device_id[RT_ID_SIZE];
    char req_id[RT_REQ_ID_MAX + 1];
    bool has_id;
};
/* Fills r from s and the request id; counts it in flight. */
void wsp_req_init(struct wsp_req *r, struct rtconn *s, const char *req_id);
/* The connection again at completion (NULL when it closed); uncounts the request. */
struct rtconn *wsp_req_done(struct wsp_req *r);
/* A request id for wsp_ack/wsp_error: NULL when the client gave none. */
static inline const char *wsp_req_id(const struct wsp_req *r)
{
    return r->has_id ? r->req_id : NULL;
}

/* --- delivery.c ---------------------------------------------------------------------- */
void delivery_start(struct rtconn *s); /* after authenticated: drain, then live */
void delivery_push(struct rtconn *s, int64_t seq, const char *frame, size_t len);
void delivery_on_room(struct rtconn *s);
/* The bus sink of a device's frames (bus.h's struct bus_sink; arg is the realtime). */
void delivery_to_device(void *arg, const char *device_id, int64_t seq, const char *frame,
                        size_t len);
/* Its rows of the event table: queue:ack. */
extern const struct wsp_events delivery_ws_events;
/* Sends message:delivered for each first delivery (frees the array). */
struct store_delivered;
void delivery_receipts(struct realtime *rt, struct store_delivered *d, size_t n, const bool *skip);

/* --- batch.c ------------------------------------------------------------------------- */
/* Queues it in rt->batch, to be run by run and completed by done, and starts a batch job
 * when none is at the pool. Never fails: if the pool refuses the job, each of its requests is
 * completed with STORE_BUSY. */
void rt_batch_add(struct realtime *rt, struct rt_batch_item *it, rt_batch_run_fn run,
                  rt_batch_done_fn done);

/* --- messaging.c --------------------------------------------------------------------- */
/* Its rows of the event table: message:send, message:read. */
extern const struct wsp_events messaging_ws_events;

/* --- presence.c ---------------------------------------------------------------------- */
/* After authenticate: counts the connection, tells contacts when the user came online, and
 * sends the snapshot to s. contacts: sorted ids (borrowed). */
void presence_online(struct rtconn *s, char (*contacts)[STORE_ID_SIZE], size_t n);
/* After close of an authenticated connection: uncounts it, tells contacts when the user went
 * offline. */
void presence_offline(struct realtime *rt, const char *user_id);
/* A and b just became contacts (contacts true) or stopped being contacts: whichever of them
 * is online is announced to the other's devices as user:online, or user:offline (which
 * hides the one who is still online across a new block). */
void presence_contacts(struct realtime *rt, const char *a, const char *b, bool contacts);
/* Whether user_id's lastSeen is null to others (their privacy setting), and freeing the set. */
void presence_hide_seen(struct realtime *rt, const char *user_id, bool hide);
void presence_fini(struct realtime *rt);

/* --- typing.c ------------------------------------------------------------------------ */
/* Its rows of the event table: typing:start, typing:stop. */
extern const struct wsp_events typing_ws_events;
void typing_closed(struct rtconn *s); /* stop what s was typing */
/* A and b are no longer contacts: every typing indicator between them on this node stops
 * (typing:stop to its watcher, the last event across the block). */
void typing_pair_ended(struct realtime *rt, const char *a, const char *b);
void typing_fini(struct realtime *rt);

/* --- routes ---------------------------------------------------------------------------- */
int conversations_routes(struct server *srv);
int messages_routes(struct server *srv);

/* --- send/edit/delete/read shared by REST and WebSocket (messaging.c) ----------------- */
struct msg_env {
    char device_id[RT_ID_SIZE];
    int type;        /* enum store_envelope_type */
    const char *b64; /* into the request JSON, kept alive by the op */
    size_t b64_len;
};

#endif
