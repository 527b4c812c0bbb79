/* Presence: user:online / user:offline with lastSeen, and the presence snapshot after
 * authenticated. A user is online while any of their devices is connected (counted by the
 * bus across nodes). Only contacts see it: two users who share a conversation both have
 * accepted, neither blocking the other (store_contacts_list). A change of that relation
 * while connected (a first reply, a block, an unblock) is told at once (presence_contacts).
 * Nothing is stored: lastSeen lives in the bus (in memory), and is null for users not seen
 * since it started, and for users who hide it (privacy, api.md): this node keeps the set of
 * those, filled from the store at each authenticate and kept by PATCH /api/users/me, so it
 * covers everyone whose lastSeen it can know (they have connected since it started). */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "messaging/rt_internal.h"
#include "store/conversations.h"

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

static size_t hidden_at(const struct realtime *rt, const char *user_id, bool *found)
{
    size_t lo = 0, hi = rt->n_seen_hidden;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = id_cmp(user_id, rt->seen_hidden[mid]);

        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

void presence_hide_seen(struct realtime *rt, const char *user_id, bool hide)
{
    bool found;
    size_t i = hidden_at(rt, user_id, &found);

    if (found == hide)
        return;
    if (!hide) {
        memmove(rt->seen_hidden[i], rt->seen_hidden[i + 1],
                (rt->n_seen_hidden - i - 1) * sizeof(*rt->seen_hidden));
        rt->n_seen_hidden--;
        return;
    }
    if (rt->n_seen_hidden == rt->cap_seen_hidden) {
        size_t cap = rt->cap_seen_hidden ? 2 * rt->cap_seen_hidden : 16;
        char(*grown)[RT_ID_SIZE] = realloc(rt->seen_hidden, cap * sizeof(*grown));

        if (!grown)
            abort();
        rt->seen_hidden = grown;
        rt->cap_seen_hidden = cap;
    }
    memmove(rt->seen_hidden[i + 1], rt->seen_hidden[i],
            (rt->n_seen_hidden - i) * sizeof(*rt->seen_hidden));
    snprintf(rt->seen_hidden[i], RT_ID_SIZE, "%s", user_id);
    rt->n_seen_hidden++;
}

void presence_fini(struct realtime *rt)
{
    free(rt->seen_hidden);
    rt->seen_hidden = NULL;
    rt->n_seen_hidden = rt->cap_seen_hidden = 0;
}

/* user_id's lastSeen as others may see it. */
static json_t *seen_json(const struct realtime *rt, const char *user_id, int64_t last_seen)
{
    bool hidden;

    hidden_at(rt, user_id, &hidden);
    return hidden ? json_null() : api_time_json(last_seen);
}

static char *presence_frame(const struct realtime *rt, const char *event, const char *user_id,
                            int64_t last_seen, size_t *len)
{
    return wsp_render(
        event,
        json_pack("{s:s, s:o}", "userId", user_id, "lastSeen", seen_json(rt, user_id, last_seen)),
        len);
}

static void presence_tell(struct realtime *rt, const char *event, const char *user_id,
                          int64_t last_seen, char (*contacts)[STORE_ID_SIZE], size_t n)
{
    size_t len;
    char *f;

    if (!n)
        return;
    f = presence_frame(rt, event, user_id, last_seen, &len);
    for (size_t i = 0; i < n; i++)
        rt->bus_ops->to_user(rt->bus, contacts[i], NULL, f, len);
    free(f);
}

void presence_online(struct rtconn *s, char (*contacts)[STORE_ID_SIZE], size_t n)
{
    struct realtime *rt = s->rt;
    int64_t now = clock_wall_ms();
    json_t *users = json_array();

    s->online = 1;
    if (rt->bus_ops->presence_change(rt->bus, s->user_id, 1, now) == 1)
        presence_tell(rt, "user:online", s->user_id, now, contacts, n);
    for (size_t i = 0; i < n; i++) {
        bool online;
        int64_t seen;

        rt->bus_ops->presence_get(rt->bus, contacts[i], now, &online, &seen);
        json_array_append_new(users,
                              json_pack("{s:s, s:b, s:o}", "userId", contacts[i], "online", online,
                                        "lastSeen", seen_json(rt, contacts[i], seen)));
    }
    wsp_event(s, "presence", json_pack("{s:o}", "users", users));
}

struct offline_job {
    struct realtime *rt;
    char user_id[RT_ID_SIZE];
    int64_t last_seen;
    enum store_err rc;
    char (*contacts)[STORE_ID_SIZE];
    size_t n;
};

static void offline_work(void *ctx, void *arg)
{
    struct offline_job *j = arg;

    j->rc = store_contacts_list(ctx, j->user_id, &j->contacts, &j->n);
}

static void offline_done(void *arg)
{
    struct offline_job *j = arg;
    bool online;
    int64_t seen;

    /* Came back while we asked the store: say nothing. */
    j->rt->bus_ops->presence_get(j->rt->bus, j->user_id, clock_wall_ms(), &online, &seen);
    if (j->rc == STORE_OK && !online)
        presence_tell(j->rt, "user:offline", j->user_id, j->last_seen, j->contacts, j->n);
    free(j->contacts);
    free(j);
}

void presence_offline(struct realtime *rt, const char *user_id)
{
    int64_t now = clock_wall_ms();
    struct offline_job *j;

    if (rt->bus_ops->presence_change(rt->bus, user_id, -1, now) != -1)
        return;
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->rt = rt;
    snprintf(j->user_id, sizeof(j->user_id), "%s", user_id);
    j->last_seen = now;
    if (rt_submit(rt, offline_work, offline_done, j)) {
        if (!rt->stopping)
            log_warn("presence.offline", "result=busy");
        free(j);
    }
}

/* A contact change is told as the presence change it looks like, for whichever side is
 * online (an offline one is already offline to the other, and the next snapshot has its
 * lastSeen): becoming contacts shows it coming online; a block shows it going offline, the
 * last presence event across the block, so the blocked side's view is the same as after a
 * real disconnect. */
void presence_contacts(struct realtime *rt, const char *a, const char *b, bool contacts)
{
    const char *pair[2] = {a, b};
    int64_t now = clock_wall_ms();

    for (int i = 0; i < 2; i++) {
        bool online;
        int64_t seen;
        size_t len;
        char *f;

        rt->bus_ops->presence_get(rt->bus, pair[i], now, &online, &seen);
        if (!online)
            continue;
        f = presence_frame(rt, contacts ? "user:online" : "user:offline", pair[i], seen, &len);
        rt->bus_ops->to_user(rt->bus, pair[1 - i], NULL, f, len);
        free(f);
    }
}
