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

struct typing_job {
    struct wsp_req r;
    bool start, contact;
    uint64_t epoch; /* rt->contacts_epoch when the store check was submitted */
    char conv[RT_ID_SIZE], other[RT_ID_SIZE];
    enum store_err rc;
};

static void typing_work(void *ctx, void *arg)
{
    struct typing_job *j = arg;

    j->rc = store_conversation_other(ctx, j->r.user_id, j->conv, j->other);
    if (j->rc == STORE_OK)
        j->rc = store_contacts_check(ctx, j->r.user_id, j->other, &j->contact);
}

static void typing_done(void *arg)
{
    struct typing_job *j = arg;
    struct rtconn *s = wsp_req_done(&j->r);
    struct realtime *rt = j->r.rt;
    struct typing_slot *t;

    if (!s)
        goto out;
    if (j->rc != STORE_OK) {
        wsp_store_error(s, wsp_req_id(&j->r), j->rc, NULL);
        goto out;
    }
    /* A block ended a contact while we asked the store: this answer may predate it. Dropping
     * an indicator is harmless; relaying one across a block is not. */
    if (j->epoch != rt->contacts_epoch)
        j->contact = false;
    t = s->typing;
    /* Another conversation's indicator ends when this one starts or stops. */
    if (t && strcmp(t->conv, j->conv)) {
        typing_publish(rt, "typing:stop", t->conv, s->user_id, t->other);
        typing_unlink(rt, t);
        t = NULL;
    }
    if (!j->contact) { /* not contacts (yet, or blocked): nothing flows, and we don't say */
        if (t)
            typing_unlink(rt, t);
    } else if (j->start) {
        if (!t) {
            t = calloc(1, sizeof(*t));
            if (!t)
                abort();
            t->s = s;
            memcpy(t->conv, j->conv, RT_ID_SIZE);
            memcpy(t->other, j->other, RT_ID_SIZE);
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
        typing_publish(rt, "typing:start", j->conv, s->user_id, j->other);
    } else {
        if (t)
            typing_unlink(rt, t);
        typing_publish(rt, "typing:stop", j->conv, s->user_id, j->other);
    }
    wsp_ack(s, wsp_req_id(&j->r), json_object());
out:
    free(j);
}

/* A malformed conversation id is "wrong_type", as it always was. */
static const struct field_spec typing_fields[] = {
    {"conversationId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
};

static void typing_event(struct rtconn *s, json_t *data, const char *req_id, bool start)
{
    struct field_value conv;
    struct typing_job *j;

    if (wsp_fields(s, req_id, data, typing_fields, 1, &conv, 1))
        return;
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    wsp_req_init(&j->r, s, req_id);
    j->start = start;
    j->epoch = s->rt->contacts_epoch;
    memcpy(j->conv, conv.str, RT_ID_SIZE);
    if (rt_submit(s->rt, typing_work, typing_done, j)) {
        wsp_req_done(&j->r);
        free(j);
        wsp_store_error(s, req_id, STORE_BUSY, NULL);
    }
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
