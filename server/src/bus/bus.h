/* The bus: everything that will cross nodes once sottod runs as several processes behind a
 * load balancer (fan-out of queue items and events to connected devices, presence counts,
 * kicking a device's connection). One node has only its own sockets; the bus carries an event
 * to the node that holds the target's connection. This issue brings the in-process
 * implementation (bus/inproc.c); a Redis pub/sub one comes with REDIS_URL.
 *
 * Delivery through the bus is best effort: durable events (message:new/edited/deleted) are
 * committed to the device's queue before they are published, carry their seq, and a receiving
 * connection that sees a gap fetches from the store (delivery.c), so a lost or reordered
 * publication never loses or duplicates a message. Everything else (receipts, typing,
 * presence) is ephemeral by contract.
 *
 * Call state (calls/) lives here too, not in the calls room: a call's two parties may sit on
 * different nodes, and whichever node hears an answer, a hang-up or a dropped socket must see
 * and change the one state of that call, atomically (busy, first answer wins). So the bus
 * carries it as small records with compare-and-set updates: in-process a table here, with
 * Redis a hash per call changed by a script. Timers (ring, reconnect) stay with a node.
 *
 * All operations run on the loop thread; frames are JSON text, borrowed for the call. */
#ifndef SOTTO_BUS_BUS_H
#define SOTTO_BUS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct config;

#define BUS_ID_SIZE 37
#define BUS_CALL_DEVICES 50 /* callee devices that may ring (api.md: 50 devices a user) */

enum bus_call_state { BUS_CALL_RINGING = 1, BUS_CALL_ACTIVE = 2 };

/* One call in progress: who, which devices, and its state. Copied in and out; ids are
 * canonical UUIDs. */
struct bus_call {
    char id[BUS_ID_SIZE], conversation_id[BUS_ID_SIZE];
    char caller_id[BUS_ID_SIZE], caller_device[BUS_ID_SIZE];
    char callee_id[BUS_ID_SIZE];
    char callee_device[BUS_ID_SIZE]; /* the device that answered; "" while ringing */
    uint8_t video;                   /* callType video (else audio) */
    uint8_t state;                   /* enum bus_call_state */
    uint8_t offered;                 /* call:offer went out (once per call) */
    uint8_t n_rung;
    char rung[BUS_CALL_DEVICES][BUS_ID_SIZE]; /* callee devices that got call:incoming */
    int64_t started_ms, answered_ms;          /* wall clock; answered 0 while ringing */
    uint64_t version; /* set by the bus: an update must carry the version it read */
};

/* What a node does with what arrives for it: set once by the real-time layer at creation.
 * Called on the loop thread, possibly from inside a publish call (in-process bus). */
struct bus_sink {
    /* A frame for device_id's connection on this node, if it has one. seq > 0 marks a
     * durable queue item (the connection orders it by seq), 0 an ephemeral event. */
    void (*device)(void *arg, const char *device_id, int64_t seq, const char *frame, size_t len);
    /* A frame for every connection of user_id on this node, except device except_device
     * (NULL: none). */
    void (*user)(void *arg, const char *user_id, const char *except_device, const char *frame,
                 size_t len);
    /* Close device_id's connection with a close code (4403 revoked, 4409 replaced), unless
     * it is session keep_session of node keep_node (the new connection itself). */
    void (*kick)(void *arg, const char *device_id, int code, uint64_t keep_node,
                 uint64_t keep_session);
    /* Users a and b just became contacts (contacts true: a first reply, an unblock) or
     * stopped being contacts (false: a block). Every node gets it once, and drops what it
     * holds for the pair (typing indicators between them). */
    void (*contacts)(void *arg, const char *a, const char *b, bool contacts);
    void *arg;
};

struct bus_ops {
    const char *name; /* "inproc", later "redis" */

    /* Creates the bus with a copy of sink. NULL on failure (the caller exits). */
    struct bus *(*const create)(const struct config *cfg, const struct bus_sink *sink);
    /* Frees everything. NULL is fine. */
    void (*const destroy)(struct bus *b);

    /* This node's id: distinguishes its sessions from other nodes' in kick(). */
    uint64_t (*const node_id)(const struct bus *b);

    /* Fan-out to one device's connection wherever it is; see bus_sink.device. */
    void (*const to_device)(struct bus *b, const char *device_id, int64_t seq, const char *frame,
                            size_t len);
    /* An ephemeral event to every connection of user_id, except except_device (may be
     * NULL). */
    void (*const to_user)(struct bus *b, const char *user_id, const char *except_device,
                          const char *frame, size_t len);
    /* Close device_id's connections everywhere but (keep_node, keep_session); code 4403 or
     * 4409. keep_session 0 keeps none. */
    void (*const kick)(struct bus *b, const char *device_id, int code, uint64_t keep_node,
                       uint64_t keep_session);
    /* The contact relation of users a and b changed: to every node's sink.contacts. */
    void (*const contacts)(struct bus *b, const char *a, const char *c, bool contacts);

    /* Presence: counts user_id's connections across nodes. delta is +1 on authenticate, -1
     * on close. Returns 1 when the user just came online (first connection), -1 when they
     * just went offline (last one closed; lastSeen becomes now_ms), 0 otherwise. */
    int (*const presence_change)(struct bus *b, const char *user_id, int delta, int64_t now_ms);
    /* Whether user_id is online anywhere and when they were last seen (ms; now when
     * online; 0 when unknown since this bus started). */
    void (*const presence_get)(struct bus *b, const char *user_id, int64_t now_ms, bool *online,
                               int64_t *last_seen);

    /* Calls in progress (see the top). A user is in at most one, ringing or active.
     * Starts c (copied; its version set in c): 0, or -1 when the caller or the callee is
     * already in a call (busy) or the table is full. */
    int (*const call_begin)(struct bus *b, struct bus_call *c);
    /* The call call_id into *out: 0, or -1 when there is none (ended, or never was). */
    int (*const call_get)(struct bus *b, const char *call_id, struct bus_call *out);
    /* The call user_id is in into *out: 0, or -1 when none. */
    int (*const call_of_user)(struct bus *b, const char *user_id, struct bus_call *out);
    /* Replaces the call's record by c when c->version is the version stored (c->version
     * then becomes the new one): 0, or -1 when it changed meanwhile or ended (re-read). */
    int (*const call_update)(struct bus *b, struct bus_call *c);
    /* Ends the call: 0 when this call removed it, -1 when it was gone already (so exactly
     * one ender tells the devices). */
    int (*const call_end)(struct bus *b, const char *call_id);
};

extern const struct bus_ops bus_inproc;

#endif
