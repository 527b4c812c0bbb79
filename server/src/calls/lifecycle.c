/* A call's life after it started: its deadlines on this node (ring time, a dropped party's
 * time to come back), its end (once, whoever gets there first), its record, and the
 * ephemeral events to devices. Everything on the loop thread. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"
#include "calls/internal.h"
#include "messaging/ws_requests.h"

/* --- fan-out ------------------------------------------------------------------------------ */

void calls_to_device(struct calls *c, const char *device_id, const char *event, json_t *data)
{
    size_t len;
    char *f = wsp_render(event, data, &len);

    c->bus_ops->to_device(c->bus, device_id, 0, f, len); /* seq 0: ephemeral, never queued */
    free(f);
}

/* --- records ------------------------------------------------------------------------------ */

static void calls_record_work(void *ctx, void *arg)
{
    struct store_call *rec = arg;
    enum store_err rc;

    if (!ctx)
        return;
    rc = store_call_record(ctx, rec);
    if (rc != STORE_OK)
        log_warn("calls.record", "result=%s", store_strerror(rc));
}

void calls_record(struct calls *c, const struct bus_call *bc, enum store_call_reason reason,
                  const char *ended_by, int64_t ended_ms)
{
    struct store_call *rec = calloc(1, sizeof(*rec));

    if (!rec)
        abort();
    memcpy(rec->id, bc->id, BUS_ID_SIZE);
    memcpy(rec->conversation_id, bc->conversation_id, BUS_ID_SIZE);
    memcpy(rec->caller_id, bc->caller_id, BUS_ID_SIZE);
    memcpy(rec->caller_device_id, bc->caller_device, BUS_ID_SIZE);
    memcpy(rec->callee_device_id, bc->callee_device, BUS_ID_SIZE);
    rec->video = bc->video;
    rec->started_at = bc->started_ms;
    rec->answered_at = bc->answered_ms;
    rec->reason = reason;
    if (reason != STORE_CALL_ONGOING) {
        rec->ended_at = ended_ms;
        if (ended_by)
            snprintf(rec->ended_by, sizeof(rec->ended_by), "%s", ended_by);
        rec->duration = bc->answered_ms ? (ended_ms - bc->answered_ms) / 1000 : 0;
    }
    if (c->stopping || pool_submit(c->srv->pool, calls_record_work, free, rec)) {
        log_warn("calls.record", "result=refused");
        free(rec);
    }
}

/* --- the end ------------------------------------------------------------------------------ */

void calls_end(struct calls *c, const struct bus_call *bc, enum store_call_reason reason,
               const char *ended_by)
{
    int64_t now = clock_wall_ms();
    int64_t duration = bc->answered_ms ? (now - bc->answered_ms) / 1000 : 0;
    struct call_timer *t;

    if (c->bus_ops->call_end(c->bus, bc->id))
        return; /* someone else ended it first, and told everyone */
    if ((t = calls_timer_find(c, bc->id))) {
        t->ring_at = t->away_at[0] = t->away_at[1] = 0;
        calls_timer_arm(t); /* frees it */
    }
    for (size_t i = 0; i <= bc->n_rung; i++) {
        const char *dev = i < bc->n_rung ? bc->rung[i] : bc->caller_device;
        json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "callId", bc->id, "conversationId",
                              bc->conversation_id, "reason", store_call_reason_name(reason),
                              "duration", (json_int_t)duration);

        if (ended_by)
            json_object_set_new(d, "endedBy", json_string(ended_by));
        calls_to_device(c, dev, "call:ended", d);
    }
    if (bc->state == BUS_CALL_ACTIVE)
        c->active--;
    else
        c->ringing--;
    if (reason == STORE_CALL_MISSED)
        c->missed++;
    else if (reason == STORE_CALL_FAILED)
        c->failed++;
    log_info("calls.end", "call=%s reason=%s duration=%lld", bc->id, store_call_reason_name(reason),
             (long long)duration);
    calls_record(c, bc, reason, ended_by, now);
}

/* --- timers ------------------------------------------------------------------------------- */

struct call_timer *calls_timer_find(struct calls *c, const char *call_id)
{
    struct call_timer *t;

    for (t = c->timers; t; t = t->next)
        if (!strcmp(t->id, call_id))
            return t;
    return NULL;
}

struct call_timer *calls_timer(struct calls *c, const char *call_id)
{
    struct call_timer *t = calls_timer_find(c, call_id);

    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    t->c = c;
    snprintf(t->id, sizeof(t->id), "%s", call_id);
    t->next = c->timers;
    if (t->next)
        t->next->prev = t;
    c->timers = t;
    return t;
}

static void calls_timer_free(struct call_timer *t)
{
    struct calls *c = t->c;

    lws_sul_cancel(&t->sul);
    if (t->prev)
        t->prev->next = t->next;
    else
        c->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t);
}

static int64_t calls_timer_next(const struct call_timer *t)
{
    int64_t at = 0;

    for (int i = 0; i < 3; i++) {
        int64_t v = i == 2 ? t->ring_at : t->away_at[i];

        if (v && (!at || v < at))
            at = v;
    }
    return at;
}

static void calls_timer_fire(lws_sorted_usec_list_t *sul)
{
    struct call_timer *t = lws_container_of(sul, struct call_timer, sul);
    struct calls *c = t->c;
    int64_t now = clock_wall_ms();
    struct bus_call bc;

    if (c->bus_ops->call_get(c->bus, t->id, &bc)) {
        calls_timer_free(t); /* ended elsewhere */
        return;
    }
    if (t->away_at[CALL_CALLER] && t->away_at[CALL_CALLER] <= now) {
        calls_end(c, &bc, STORE_CALL_FAILED, NULL);
        return;
    }
    if (t->away_at[CALL_CALLEE] && t->away_at[CALL_CALLEE] <= now) {
        calls_end(c, &bc, STORE_CALL_FAILED, NULL);
        return;
    }
    if (t->ring_at && t->ring_at <= now) {
        t->ring_at = 0;
        if (bc.state == BUS_CALL_RINGING) {
            calls_end(c, &bc, STORE_CALL_MISSED, NULL);
            return;
        }
    }
    calls_timer_arm(t);
}

void calls_timer_arm(struct call_timer *t)
{
    int64_t at = calls_timer_next(t), now = clock_wall_ms();

    if (!at || t->c->stopping) {
        calls_timer_free(t);
        return;
    }
    lws_sul_schedule(t->c->srv->lws, 0, &t->sul, calls_timer_fire,
                     (lws_usec_t)(at > now ? at - now : 1) * LWS_US_PER_MS);
}

void calls_timers_fini(struct calls *c)
{
    while (c->timers)
        calls_timer_free(c->timers);
}

/* --- the connections ---------------------------------------------------------------------------
 */

/* Which party of bc device_id is (CALL_CALLER, CALL_CALLEE), or -1: a callee device that only
 * rang is no party yet (the ring time covers it). */
static int calls_party(const struct bus_call *bc, const char *device_id)
{
    if (!strcmp(bc->caller_device, device_id))
        return CALL_CALLER;
    if (bc->state == BUS_CALL_ACTIVE && !strcmp(bc->callee_device, device_id))
        return CALL_CALLEE;
    return -1;
}

void calls_device_gone(void *arg, const char *user_id, const char *device_id)
{
    struct calls *c = arg;
    struct bus_call bc;
    struct call_timer *t;
    int party;

    if (c->stopping || c->bus_ops->call_of_user(c->bus, user_id, &bc))
        return;
    if ((party = calls_party(&bc, device_id)) < 0)
        return;
    t = calls_timer(c, bc.id);
    t->away_at[party] = clock_wall_ms() + c->reconnect_ms;
    log_info("calls.away", "call=%s party=%s", bc.id, party == CALL_CALLER ? "caller" : "callee");
    calls_timer_arm(t);
}

/* Nothing flows across a block, calls included. It ends as a hang-up by nobody: to the one
 * blocked it looks like the other side hanging up, which reveals no more than that. */
void calls_pair_ended(void *arg, const char *a, const char *b)
{
    struct calls *c = arg;
    struct bus_call bc;

    if (c->bus_ops->call_of_user(c->bus, a, &bc))
        return;
    if (!strcmp(bc.caller_id, b) || !strcmp(bc.callee_id, b))
        calls_end(c, &bc, STORE_CALL_HANGUP, NULL);
}

void calls_device_ready(void *arg, const char *user_id, const char *device_id)
{
    struct calls *c = arg;
    struct bus_call bc;
    struct call_timer *t;
    int party;

    if (c->bus_ops->call_of_user(c->bus, user_id, &bc))
        return;
    if ((party = calls_party(&bc, device_id)) < 0 || !(t = calls_timer_find(c, bc.id)))
        return;
    if (!t->away_at[party])
        return;
    t->away_at[party] = 0; /* back in time: the call goes on (the clients restart ICE) */
    log_info("calls.back", "call=%s", bc.id);
    calls_timer_arm(t);
}
