/* Delivery to a device: on connect, everything queued in seq order, then queue:drained, then
 * live pushes; queue:ack and the delivery receipts it produces.
 *
 * No gap and no duplicate across the switch, without trusting the order in which events
 * reach this node: each connection remembers the highest seq it has pushed (sent_seq). A
 * live item is pushed only when it is exactly sent_seq + 1; an older one is dropped (it went
 * out with a fetch), a newer one means something is missing, so the connection fetches from
 * the store after sent_seq instead (the store is the truth; a device's seqs are committed in
 * order). While a fetch is at the pool, live items only mark that another fetch is needed.
 * A fetch that returns less than asked covers every row up to the device's newest seq read
 * before it, so sent_seq may then jump to that seq.
 *
 * Backpressure: durable items are never what overflows a connection's outbound queue. When
 * it is nearly full they stay in the store, and the fetch resumes when the client has read
 * (ws.c calls the handler's room, conn_on_room). A client that reads nothing is dropped by
 * the keep-alive. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/server.h"
#include "messaging/rt_internal.h"
#include "store/blocks.h"
#include "store/queue.h"

struct fetch_job {
    struct wsp_req r;
    int64_t after, last_seq;
    size_t max, n;
    enum store_err rc;
    struct store_queue_item *items;
};

static char *delivery_frame(const struct store_queue_item *it, size_t *len)
{
    json_t *d;

    if (it->event == STORE_EVENT_DELETED) {
        d = json_pack("{s:s, s:s, s:o, s:I}", "id", it->message.id, "conversationId",
                      it->message.conversation_id, "deletedAt",
                      api_time_json(it->message.deleted_at), "seq", (json_int_t)it->seq);
        return wsp_render("message:deleted", d, len);
    }
    d = forms_message(&it->message);
    json_object_set_new(d, "seq", json_integer(it->seq));
    return wsp_render(it->event == STORE_EVENT_EDITED ? "message:edited" : "message:new", d, len);
}

static void fetch_work(void *ctx, void *arg)
{
    struct fetch_job *j = arg;

    j->rc =
        store_queue_fetch(ctx, j->r.device_id, j->after, j->max, &j->items, &j->n, &j->last_seq);
}

static void delivery_fetch(struct rtconn *s);

static void fetch_done(void *arg)
{
    struct fetch_job *j = arg;
    struct rtconn *s = wsp_req_done(&j->r);

    if (!s)
        goto out;
    s->fetching = 0;
    if (j->rc != STORE_OK) {
        log_warn("queue.fetch", "result=%s conn=%llu", store_strerror(j->rc),
                 (unsigned long long)s->id);
        if (j->rc == STORE_NOT_FOUND)
            conn_close(s, RT_CLOSE_REVOKED, "device revoked");
        else
            conn_close(s, 1011, "try again");
        goto out;
    }
    for (size_t i = 0; i < j->n; i++) {
        size_t len;
        char *f;

        if (j->items[i].seq <= s->sent_seq)
            continue;
        f = delivery_frame(&j->items[i], &len);
        if (wsp_send_raw(s, f, len))
            s->sent_seq = j->items[i].seq;
        free(f);
    }
    if (j->n == j->max || s->refetch) {
        delivery_fetch(s);
        goto out;
    }
    if (j->last_seq > s->sent_seq)
        s->sent_seq = j->last_seq;
    if (!s->drained_sent) {
        s->drained_sent = 1;
        wsp_event(s, "queue:drained", json_pack("{s:I}", "lastSeq", (json_int_t)s->sent_seq));
    }
    s->live = 1;
out:
    store_queue_items_free(j->items, j->n);
    free(j);
}

/* Slots kept free for ephemeral events (receipts, typing, presence). */
static size_t delivery_reserve(const struct rtconn *s)
{
    size_t r = (size_t)s->rt->srv->cfg->ws_max_queue / 4;

    return r > RT_QUEUE_RESERVE ? RT_QUEUE_RESERVE : r;
}

static void delivery_fetch(struct rtconn *s)
{
    size_t room = wsp_room(s), reserve = delivery_reserve(s);
    struct fetch_job *j;

    s->live = 0;
    if (s->fetching) {
        s->refetch = 1;
        return;
    }
    if (room <= reserve) {
        s->want_room = 1; /* conn_on_room brings us back */
        return;
    }
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    wsp_req_init(&j->r, s, NULL);
    j->after = s->sent_seq;
    j->max = room - reserve < RT_FETCH_MAX ? room - reserve : RT_FETCH_MAX;
    if (rt_submit(s->rt, fetch_work, fetch_done, j)) {
        wsp_req_done(&j->r);
        free(j);
        conn_close(s, 1013, "server busy"); /* the client reconnects and drains */
        return;
    }
    s->fetching = 1;
    s->refetch = 0;
    s->want_room = 0;
}

void delivery_start(struct rtconn *s)
{
    s->sent_seq = 0;
    s->drained_sent = 0;
    delivery_fetch(s);
}

void delivery_push(struct rtconn *s, int64_t seq, const char *frame, size_t len)
{
    if (!s->live) {
        if (s->fetching)
            s->refetch = 1;
        else if (!s->want_room)
            delivery_fetch(s);
        return;
    }
    if (seq <= s->sent_seq)
        return; /* already out with a fetch */
    if (seq == s->sent_seq + 1 && wsp_room(s) > delivery_reserve(s)) {
        if (wsp_send_raw(s, frame, len))
            s->sent_seq = seq;
        return;
    }
    delivery_fetch(s); /* a gap, or no room: the store has it */
}

void delivery_on_room(struct rtconn *s)
{
    if (s->want_room && !s->fetching)
        delivery_fetch(s);
}

/* --- queue:ack ------------------------------------------------------------------------ */

/* How far back ack_work looks for a block check it already made. */
#define ACK_BLOCK_LOOKBACK 64

/* A queue:ack in the group commit; its job (the request's) carries the answer. */
struct ack_op {
    struct rt_batch_item bi; /* in rt->batch (first member) */
    struct job *job;
    char device_id[RT_ID_SIZE];
    int64_t seq, now;
    enum store_err rc;
    struct store_delivered *d;
    size_t n;
    bool *skip;
};

static void ack_work(void *ctx, void *arg)
{
    struct ack_op *a = arg;

    a->rc = store_queue_ack(ctx, a->device_id, a->seq, a->now, &a->d, &a->n);
    if (a->rc != STORE_OK || !a->n)
        return;
    a->skip = calloc(a->n, sizeof(*a->skip));
    if (!a->skip)
        abort();
    /* Across a block no receipt flows, even for a message sent before it. One ack usually
     * covers many messages of few senders: ask the store once per (sender, user) pair. */
    for (size_t i = 0; i < a->n; i++) {
        size_t k = i, stop = i > ACK_BLOCK_LOOKBACK ? i - ACK_BLOCK_LOOKBACK : 0;
        bool known = false;

        while (k-- > stop)
            if (!strcmp(a->d[k].sender_id, a->d[i].sender_id) &&
                !strcmp(a->d[k].user_id, a->d[i].user_id)) {
                known = true;
                break;
            }
        if (known) {
            a->skip[i] = a->skip[k];
            continue;
        }
        if (store_block_between(ctx, a->d[i].sender_id, a->d[i].user_id, &a->skip[i]) != STORE_OK)
            a->skip[i] = true;
    }
}

void delivery_receipts(struct realtime *rt, struct store_delivered *d, size_t n, const bool *skip)
{
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *f;

        if (skip && skip[i])
            continue;
        f = wsp_render("message:delivered",
                       json_pack("{s:s, s:s, s:s, s:o}", "messageId", d[i].message_id,
                                 "conversationId", d[i].conversation_id, "userId", d[i].user_id,
                                 "deliveredAt", api_time_json(d[i].delivered_at)),
                       &len);
        rt->bus_ops->to_user(rt->bus, d[i].sender_id, NULL, f, len);
        free(f);
    }
}

/* Group commit with the sends (batch.c): each ack in its own nesting level; answers and
 * receipts only after the COMMIT. */
static void ack_batch_run(struct store *st, struct rt_batch_item *it)
{
    ack_work(st, (struct ack_op *)(void *)it);
}

static void ack_op_free(void *arg)
{
    struct ack_op *a = arg;

    free(a->d);
    free(a->skip);
    free(a);
}

/* Receipts go out even when the acknowledging socket has closed meanwhile. */
static void ack_after(struct job *j)
{
    struct ack_op *a = j->extra;

    delivery_receipts(j->rt, a->d, a->n, a->skip);
}

static void ack_done(struct rt_batch_item *it, enum store_err commit)
{
    struct ack_op *a = (struct ack_op *)(void *)it;
    struct job *j = a->job;

    if (commit != STORE_OK)
        a->rc = STORE_BUSY; /* the batch did not commit: retryable, no receipts */
    if (a->rc == STORE_INVALID)
        job_fail(j, 400, "validation_failed", "seq is beyond this device's queue.",
                 api_details("seq", "out_of_range"));
    else if (a->rc == STORE_NOT_FOUND)
        job_error(j, 403, "forbidden", "This device was revoked.");
    else if (a->rc != STORE_OK)
        job_store_error(j, a->rc, "queue_ack");
    else
        job_ok(j, 200, json_pack("{s:I}", "seq", (json_int_t)a->seq));
    job_finish(j);
}

/* queue:ack {seq}: a negative seq was always "wrong_type". */
static const struct field_spec ack_fields[] = {
    {"seq", FIELD_INTEGER, FIELD_REQUIRED | FIELD_NULL_WRONG, .min = 0, .max = INT64_MAX,
     .as_bounds = "wrong_type"},
};

static void delivery_ack(struct rtconn *s, json_t *data, const char *req_id)
{
    struct field_value seq;
    struct ack_op *a;

    if (wsp_fields(s, req_id, data, ack_fields, 1, &seq, 1))
        return;
    a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->job = wsp_job(s, req_id);
    a->job->extra = a;
    a->job->extra_free = ack_op_free;
    a->job->after_success = ack_after;
    /* The device is the authenticated connection's, never one named in the frame. */
    memcpy(a->device_id, s->device_id, RT_ID_SIZE);
    a->seq = seq.num;
    a->now = clock_wall_ms();
    rt_batch_add(s->rt, &a->bi, ack_batch_run, ack_done);
}

/* queue:ack: through the batch, so an in-flight slot until its commit. */
static const struct wsp_event delivery_rows[] = {
    {"queue:ack", delivery_ack, .needs_id = false, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
};
const struct wsp_events delivery_ws_events = WSP_EVENTS(delivery_rows);

/* The bus sink for one device (bus.h): a frame for device_id reaches each of its ready
 * connections on this node; a queue item (seq > 0) in sequence through delivery_push. */
void delivery_to_device(void *arg, const char *device_id, int64_t seq, const char *frame,
                        size_t len)
{
    struct realtime *rt = arg;
    struct rtconn *s, *next;

    for (s = rt_device_conns(rt, device_id); s; s = next) {
        next = s->next_dev; /* a push may close s, which leaves the chain */
        if (strcmp(s->device_id, device_id) || s->state != CONN_READY)
            continue;
        if (seq > 0)
            delivery_push(s, seq, frame, len);
        else
            wsp_send_raw(s, frame, len);
    }
}
