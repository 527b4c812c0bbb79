/* Typing indicators: typing:start / typing:stop {conversationId} relayed as
 * {conversationId, userId} to the other participant's devices, only between contacts
 * (accepted on both sides, no block), and never stored. A start expires 6 s after the last
 * one: the server then sends the stop itself. A connection types in at most one
 * conversation at a time; its slot is allocated only while it types, and one timer ticks
 * over the list of typing connections. */
#include <stdlib.h>
#include <string.h>

#include "base/server.h"
#include "messaging/rt_internal.h"
#include "store/conversations.h"

#define TYPING_TICK_MS 250

struct typing_slot {
    struct typing_slot *next, *prev;
    struct rtconn *s;
    char conv[RT_ID_SIZE], other[RT_ID_SIZE];
    int64_t expires;
};

static void typing_publish(struct realtime *rt, const char *event, const char *conv,
                           const char *user_id, const char *other)
{
    size_t len;
    char *f =
        wsp_render(event, json_pack("{s:s, s:s}", "conversationId", conv, "userId", user_id), &len);

    rt->bus_ops->to_user(rt->bus, other, NULL, f, len);
    free(f);
}

static void typing_unlink(struct realtime *rt, struct typing_slot *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        rt->typing_head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->s->typing = NULL;
    free(t);
}

static void typing_tick(lws_sorted_usec_list_t *sul)
{
    struct realtime *rt = lws_container_of(sul, struct realtime, typing_tick);
    int64_t now = clock_wall_ms();
    struct typing_slot *t, *next;

    for (t = rt->typing_head; t; t = next) {
        next = t->next;
        if (t->expires > now)
            continue;
        typing_publish(rt, "typing:stop", t->conv, t->s->user_id, t->other);
        typing_unlink(rt, t);
    }
    if (rt->typing_head && !rt->stopping)
        lws_sul_schedule(rt->srv->lws, 0, &rt->typing_tick, typing_tick,
                         TYPING_TICK_MS * LWS_US_PER_MS);
}

/* What a typing event asks the store (is the conversation the caller's, and is its other
 * side a contact?), carried by the job. */
struct typing_check {
    bool start, contact;
    uint64_t epoch; /* rt->contacts_epoch when the check was submitted */
    char conv[RT_ID_SIZE], other[RT_ID_SIZE];
};

static void typing_work(struct store *st, struct job *j)
{
    struct typing_check *c = j->extra;
    enum store_err rc = store_conversation_other(st, j->who.user_id, c->conv, c->other);

    if (rc == STORE_OK)
        rc = store_contacts_check(st, j->who.user_id, c->other, &c->contact);
    job_result(j, rc, json_object(), "typing");
}

/* After the ack: the indicator starts, is renewed or stops, on this node and, through the
 * bus, on the other side's; nothing when the connection closed meanwhile. */
static void typing_apply(struct job *j)
{
    struct typing_check *c = j->extra;
    struct rtconn *s = wsp_job_conn(j);
    struct realtime *rt = j->rt;
    struct typing_slot *t;

    if (!s)
        return;
    /* A block ended a contact while we asked the store: this answer may predate it. Dropping
     * an indicator is harmless; relaying one across a block is not. */
    if (c->epoch != rt->contacts_epoch)
        c->contact = false;
    t = s->typing;
    /* Another conversation's indicator ends when this one starts or stops. */
    if (t && strcmp(t->conv, c->conv)) {
        typing_publish(rt, "typing:stop", t->conv, s->user_id, t->other);
        typing_unlink(rt, t);
        t = NULL;
    }
    if (!c->contact) { /* not contacts (yet, or blocked): nothing flows, and we don't say */
        if (t)
            typing_unlink(rt, t);
    } else if (c->start) {
        if (!t) {
            t = calloc(1, sizeof(*t));
            if (!t)
                abort();
            t->s = s;
            memcpy(t->conv, c->conv, RT_ID_SIZE);
            memcpy(t->other, c->other, RT_ID_SIZE);
            t->next = rt->typing_head;
            if (t->next)
                t->next->prev = t;
            rt->typing_head = t;
            s->typing = t;
            if (!t->next && !rt->stopping) /* the list was empty: no tick */
                lws_sul_schedule(rt->srv->lws, 0, &rt->typing_tick, typing_tick,
                                 TYPING_TICK_MS * LWS_US_PER_MS);
        }
        t->expires = clock_wall_ms() + RT_TYPING_MS;
        typing_publish(rt, "typing:start", c->conv, s->user_id, c->other);
    } else {
        if (t)
            typing_unlink(rt, t);
        typing_publish(rt, "typing:stop", c->conv, s->user_id, c->other);
    }
}

/* A malformed conversation id is "wrong_type", as it always was. */
static const struct field_spec typing_fields[] = {
    {"conversationId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
};

static void typing_event(struct rtconn *s, json_t *data, const char *req_id, bool start)
{
    struct field_value conv;
    struct typing_check *c;
    struct job *j;

    if (wsp_fields(s, req_id, data, typing_fields, 1, &conv, 1))
        return;
    c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->start = start;
    c->epoch = s->rt->contacts_epoch;
    memcpy(c->conv, conv.str, RT_ID_SIZE);
    j = wsp_job(s, req_id);
    j->extra = c;
    j->extra_free = free;
    j->after_success = typing_apply;
    job_submit(j, typing_work);
}

void typing_closed(struct rtconn *s)
{
    struct typing_slot *t = s->typing;

    if (!t)
        return;
    typing_publish(s->rt, "typing:stop", t->conv, s->user_id, t->other);
    typing_unlink(s->rt, t);
}

void typing_fini(struct realtime *rt)
{
    while (rt->typing_head)
        typing_unlink(rt, rt->typing_head);
}

void typing_pair_ended(struct realtime *rt, const char *a, const char *b)
{
    struct typing_slot *t, *next;

    for (t = rt->typing_head; t; t = next) {
        next = t->next;
        if ((strcmp(t->s->user_id, a) || strcmp(t->other, b)) &&
            (strcmp(t->s->user_id, b) || strcmp(t->other, a)))
            continue;
        typing_publish(rt, "typing:stop", t->conv, t->s->user_id, t->other);
        typing_unlink(rt, t);
    }
}

static void typing_start(struct rtconn *s, json_t *data, const char *req_id)
{
    typing_event(s, data, req_id, true);
}

static void typing_stop(struct rtconn *s, json_t *data, const char *req_id)
{
    typing_event(s, data, req_id, false);
}

/* Both check the contact relation at the pool first: an in-flight slot each. */
static const struct wsp_event typing_rows[] = {
    {"typing:start", typing_start, .needs_id = false, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
    {"typing:stop", typing_stop, .needs_id = false, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
};
const struct wsp_events typing_ws_events = WSP_EVENTS(typing_rows);
