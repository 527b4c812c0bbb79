/* The in-process bus: one node, so every publication goes straight to this node's sink, and
 * presence is a table of connection counts per user. The table keeps offline users' lastSeen
 * too; it is bounded: past BUS_PRESENCE_MAX entries the offline ones are forgotten. */
#include "bus/bus.h"

#include <stdlib.h>
#include <string.h>

#define BUS_BUCKETS 4096u
#define BUS_PRESENCE_MAX 1000000u
#define BUS_ID_SIZE 37

struct bus_presence {
    struct bus_presence *next;
    char user_id[BUS_ID_SIZE];
    uint32_t count;    /* connections open */
    int64_t last_seen; /* ms: when the last one closed */
};

struct bus {
    struct bus_sink sink;
    struct bus_presence *buckets[BUS_BUCKETS];
    size_t entries;
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
};
