/* The in-process bus: one node, so every publication goes straight to this node's sink, and
 * presence is a table of connection counts per user. The table keeps offline users' lastSeen
 * too; it is bounded: past BUS_PRESENCE_MAX entries the offline ones are forgotten. Calls in
 * progress are a table by call id with an index by user (a user is in at most one call),
 * bounded by BUS_CALLS_MAX. */
#include "bus/bus.h"

#include <stdlib.h>
#include <string.h>

#define BUS_BUCKETS 4096u
#define BUS_PRESENCE_MAX 1000000u
#define BUS_CALL_BUCKETS 1024u
#define BUS_CALLS_MAX 100000u

struct bus_presence {
    struct bus_presence *next;
    char user_id[BUS_ID_SIZE];
    uint32_t count;    /* connections open */
    int64_t last_seen; /* ms: when the last one closed */
};

/* A call is in one id chain and, through its two user links, in its two users' chains. */
struct bus_call_entry;
struct bus_user_link {
    struct bus_user_link *next;
    struct bus_call_entry *e;
    const char *user_id; /* into e->c */
};
struct bus_call_entry {
    struct bus_call_entry *next;
    struct bus_user_link caller, callee;
    struct bus_call c;
};

struct bus {
    struct bus_sink sink;
    struct bus_presence *buckets[BUS_BUCKETS];
    size_t entries;
    struct bus_call_entry *calls[BUS_CALL_BUCKETS];
    struct bus_user_link *call_users[BUS_CALL_BUCKETS];
    size_t n_calls;
    uint64_t call_version;
};

static uint32_t inproc_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: ids are server-made UUIDs, not attacker-chosen keys */

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static struct bus *inproc_create(const struct config *cfg, const struct bus_sink *sink)
{
    struct bus *b = calloc(1, sizeof(*b));

    (void)cfg;
    if (!b)
        abort();
    b->sink = *sink;
    return b;
}

static void inproc_destroy(struct bus *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < BUS_CALL_BUCKETS; i++)
        while (b->calls[i]) {
            struct bus_call_entry *e = b->calls[i];

            b->calls[i] = e->next;
            free(e);
        }
    for (size_t i = 0; i < BUS_BUCKETS; i++)
        while (b->buckets[i]) {
            struct bus_presence *p = b->buckets[i];

            b->buckets[i] = p->next;
            free(p);
        }
    free(b);
}

static uint64_t inproc_node_id(const struct bus *b)
{
    (void)b;
    return 1;
}

static void inproc_to_device(struct bus *b, const char *device_id, int64_t seq, const char *frame,
                             size_t len)
{
    b->sink.device(b->sink.arg, device_id, seq, frame, len);
}

static void inproc_to_user(struct bus *b, const char *user_id, const char *except_device,
                           const char *frame, size_t len)
{
    b->sink.user(b->sink.arg, user_id, except_device, frame, len);
}

static void inproc_kick(struct bus *b, const char *device_id, int code, uint64_t keep_node,
                        uint64_t keep_session)
{
    b->sink.kick(b->sink.arg, device_id, code, keep_node, keep_session);
}

static void inproc_contacts(struct bus *b, const char *a, const char *c, bool contacts)
{
    b->sink.contacts(b->sink.arg, a, c, contacts);
}

/* Forgets offline users when the table is full (their lastSeen becomes unknown). */
static void inproc_sweep(struct bus *b)
{
    for (size_t i = 0; i < BUS_BUCKETS; i++) {
        struct bus_presence **pp = &b->buckets[i];

        while (*pp) {
            struct bus_presence *p = *pp;

            if (p->count) {
                pp = &p->next;
                continue;
            }
            *pp = p->next;
            free(p);
            b->entries--;
        }
    }
}

static struct bus_presence *inproc_find(struct bus *b, const char *user_id, bool create)
{
    uint32_t i = inproc_hash(user_id) % BUS_BUCKETS;
    struct bus_presence *p;

    for (p = b->buckets[i]; p; p = p->next)
        if (!strcmp(p->user_id, user_id))
            return p;
    if (!create || strlen(user_id) >= BUS_ID_SIZE)
        return NULL;
    if (b->entries >= BUS_PRESENCE_MAX)
        inproc_sweep(b);
    p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    memcpy(p->user_id, user_id, strlen(user_id) + 1);
    p->next = b->buckets[i];
    b->buckets[i] = p;
    b->entries++;
    return p;
}

static int inproc_presence_change(struct bus *b, const char *user_id, int delta, int64_t now_ms)
{
    struct bus_presence *p = inproc_find(b, user_id, true);

    if (!p)
        return 0;
    if (delta > 0) {
        p->count++;
        return p->count == 1 ? 1 : 0;
    }
    if (!p->count)
        return 0;
    p->count--;
    if (p->count)
        return 0;
    p->last_seen = now_ms;
    return -1;
}

static void inproc_presence_get(struct bus *b, const char *user_id, int64_t now_ms, bool *online,
                                int64_t *last_seen)
{
    struct bus_presence *p = inproc_find(b, user_id, false);

    *online = p && p->count;
    *last_seen = !p ? 0 : p->count ? now_ms : p->last_seen;
}

/* --- calls in progress ---------------------------------------------------------------- */

static struct bus_call_entry **inproc_call_slot(struct bus *b, const char *call_id)
{
    struct bus_call_entry **pp = &b->calls[inproc_hash(call_id) % BUS_CALL_BUCKETS];

    while (*pp && strcmp((*pp)->c.id, call_id))
        pp = &(*pp)->next;
    return pp;
}

static struct bus_call_entry *inproc_user_call(struct bus *b, const char *user_id)
{
    struct bus_user_link *l = b->call_users[inproc_hash(user_id) % BUS_CALL_BUCKETS];

    for (; l; l = l->next)
        if (!strcmp(l->user_id, user_id))
            return l->e;
    return NULL;
}

static void inproc_link(struct bus *b, struct bus_user_link *l)
{
    struct bus_user_link **head = &b->call_users[inproc_hash(l->user_id) % BUS_CALL_BUCKETS];

    l->next = *head;
    *head = l;
}

static void inproc_unlink(struct bus *b, struct bus_user_link *l)
{
    struct bus_user_link **pp = &b->call_users[inproc_hash(l->user_id) % BUS_CALL_BUCKETS];

    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp)
        *pp = l->next;
}

static int inproc_call_begin(struct bus *b, struct bus_call *c)
{
    struct bus_call_entry *e;

    if (b->n_calls >= BUS_CALLS_MAX || inproc_user_call(b, c->caller_id) ||
        inproc_user_call(b, c->callee_id) || *inproc_call_slot(b, c->id))
        return -1;
    e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    c->version = ++b->call_version;
    e->c = *c;
    e->caller = (struct bus_user_link){NULL, e, e->c.caller_id};
    e->callee = (struct bus_user_link){NULL, e, e->c.callee_id};
    inproc_link(b, &e->caller);
    inproc_link(b, &e->callee);
    e->next = b->calls[inproc_hash(c->id) % BUS_CALL_BUCKETS];
    b->calls[inproc_hash(c->id) % BUS_CALL_BUCKETS] = e;
    b->n_calls++;
    return 0;
}

static int inproc_call_get(struct bus *b, const char *call_id, struct bus_call *out)
{
    struct bus_call_entry *e = *inproc_call_slot(b, call_id);

    if (!e)
        return -1;
    *out = e->c;
    return 0;
}

static int inproc_call_of_user(struct bus *b, const char *user_id, struct bus_call *out)
{
    struct bus_call_entry *e = inproc_user_call(b, user_id);

    if (!e)
        return -1;
    *out = e->c;
    return 0;
}

/* The parties of a call never change: only its state, devices and times do. */
static int inproc_call_update(struct bus *b, struct bus_call *c)
{
    struct bus_call_entry *e = *inproc_call_slot(b, c->id);

    if (!e || e->c.version != c->version)
        return -1;
    c->version = ++b->call_version;
    memcpy(e->c.callee_device, c->callee_device, sizeof(c->callee_device));
    memcpy(e->c.rung, c->rung, sizeof(c->rung));
    e->c.n_rung = c->n_rung;
    e->c.state = c->state;
    e->c.offered = c->offered;
    e->c.answered_ms = c->answered_ms;
    e->c.version = c->version;
    return 0;
}

static int inproc_call_end(struct bus *b, const char *call_id)
{
    struct bus_call_entry **pp = inproc_call_slot(b, call_id), *e = *pp;

    if (!e)
        return -1;
    *pp = e->next;
    inproc_unlink(b, &e->caller);
    inproc_unlink(b, &e->callee);
    free(e);
    b->n_calls--;
    return 0;
}

const struct bus_ops bus_inproc = {
    .name = "inproc",
    .create = inproc_create,
    .destroy = inproc_destroy,
    .node_id = inproc_node_id,
    .to_device = inproc_to_device,
    .to_user = inproc_to_user,
    .kick = inproc_kick,
    .contacts = inproc_contacts,
    .presence_change = inproc_presence_change,
    .presence_get = inproc_presence_get,
    .call_begin = inproc_call_begin,
    .call_get = inproc_call_get,
    .call_of_user = inproc_call_of_user,
    .call_update = inproc_call_update,
    .call_end = inproc_call_end,
};
