/* The call:* requests of the WebSocket (api.md "Calls"), rows of the event table. Each is
 * checked against its field rows and against the call's state on the bus: a request about a
 * call the user is not in is not_found (as if there were none), from a device of the right
 * user that is not the call's is forbidden, out of turn (a second answer, a second offer)
 * conflict; none of them changes a call. Initiate and offer ask the store, as jobs; the rest
 * act on the bus at once. Envelopes are relayed as given, never opened, logged or stored. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/server.h"
#include "calls/internal.h"
#include "messaging/ws_requests.h"
#include "store/conversations.h"
#include "store/devices.h"
#include "store/signed_lists.h"

#define CALLS_B64_MAX (((CALLS_ENVELOPE_MAX + 2) / 3) * 4)
/* An envelope's frame: the base64 and room for the rest. */
#define CALLS_FRAME_MAX (CALLS_B64_MAX + 1024)

enum { ROLE_CALLER, ROLE_CALLEE };

static const char *const call_types[] = {"audio", "video", NULL};
static const char *const envelope_types[] = {"prekey", "message", NULL};

/* An envelope of answer and ice-candidate, and one of an offer's (with its device). */
static const struct field_spec envelope_rows[] = {
    {"type", FIELD_ENUM, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0, .one_of = envelope_types},
    {"ciphertext", FIELD_BASE64, FIELD_REQUIRED | FIELD_NULL_WRONG, .min = 1,
     .max = CALLS_ENVELOPE_MAX},
};
static const struct field_spec offer_envelope_rows[] = {
    {"deviceId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0},
    {"type", FIELD_ENUM, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0, .one_of = envelope_types},
    {"ciphertext", FIELD_BASE64, FIELD_REQUIRED | FIELD_NULL_WRONG, .min = 1,
     .max = CALLS_ENVELOPE_MAX},
};
#define CALL_ID_ROW                                                       \
    {                                                                     \
        "callId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0 \
    }
#define ENVELOPE_ROW                                                 \
    {                                                                \
        "envelope", FIELD_OBJECT, FIELD_REQUIRED | FIELD_NULL_WRONG, \
            .max = 0, .sub = envelope_rows, .n_sub = 2               \
    }

/* fields_check with one answer for every failure: a ciphertext past the envelope bound is
 * payload_too_large (as for messages), anything else validation_failed {field, reason}. */
static int calls_fields(struct rtconn *s, const char *rid, const json_t *data, const char *at,
                        const struct field_spec *rows, size_t n, struct field_value *v, size_t nv)
{
    struct field_fail fail;
    size_t flen;

    if (!fields_check(data, at, rows, n, v, nv, &fail))
        return 0;
    flen = strlen(fail.field);
    if (!strcmp(fail.reason, "too_long") && flen >= 10 &&
        !strcmp(fail.field + flen - 10, "ciphertext"))
        wsp_error(s, rid, "payload_too_large", "An envelope is too large.",
                  api_details(fail.field, "too_large"));
    else
        wsp_error(s, rid, "validation_failed", API_VALIDATION_MESSAGE,
                  api_details(fail.field, fail.reason));
    return -1;
}

static struct calls *calls_of(struct rtconn *s, const char *rid)
{
    struct calls *c = wsp_hooks_arg(s);

    if (!c || c->stopping)
        wsp_error(s, rid, "unavailable", "Try again shortly.", NULL);
    return c && !c->stopping ? c : NULL;
}

/* The call call_id as s's user sees it: 0 with its role, or -1 after answering not_found
 * (no such call, or not theirs). */
static int calls_lookup(struct calls *c, struct rtconn *s, const char *rid, const char *call_id,
                        struct bus_call *bc, int *role)
{
    const char *user = wsp_user(s);

    if (!c->bus_ops->call_get(c->bus, call_id, bc)) {
        if (!strcmp(bc->caller_id, user)) {
            *role = ROLE_CALLER;
            return 0;
        }
        if (!strcmp(bc->callee_id, user)) {
            *role = ROLE_CALLEE;
            return 0;
        }
    }
    wsp_error(s, rid, "not_found", "No such call.", NULL);
    return -1;
}

static bool calls_rang(const struct bus_call *bc, const char *device_id)
{
    for (size_t i = 0; i < bc->n_rung; i++)
        if (!strcmp(bc->rung[i], device_id))
            return true;
    return false;
}

/* Whether device is in the call on role's side now: the calling device; the device that
 * answered, or while ringing any that rang. */
static bool calls_in_call(const struct bus_call *bc, int role, const char *device)
{
    if (role == ROLE_CALLER)
        return !strcmp(bc->caller_device, device);
    return bc->state == BUS_CALL_ACTIVE ? !strcmp(bc->callee_device, device)
                                        : calls_rang(bc, device);
}

static void calls_not_in_call(struct rtconn *s, const char *rid)
{
    wsp_error(s, rid, "forbidden", "This device is not in the call.", NULL);
}

static json_t *calls_envelope(const struct field_value *type, const struct field_value *ct)
{
    return json_pack("{s:s, s:s}", "type", type->str, "ciphertext", ct->str);
}

/* --- call:initiate ------------------------------------------------------------------------ */

struct initiate {
    struct calls *c;
    char call_id[BUS_ID_SIZE], conv[BUS_ID_SIZE], other[BUS_ID_SIZE];
    bool video;
};

/* Not a participant: not_found; not (yet) contacts, or blocked either way: forbidden. */
static void initiate_work(struct store *st, struct job *j)
{
    struct initiate *x = j->extra;
    bool contacts = false;
    enum store_err rc = store_conversation_other(st, j->who.user_id, x->conv, x->other);

    if (rc == STORE_OK)
        rc = store_contacts_check(st, j->who.user_id, x->other, &contacts);
    if (rc == STORE_OK && !contacts)
        rc = STORE_FORBIDDEN;
    job_result(j, rc, json_pack("{s:s}", "callId", x->call_id), "call_initiate");
}

/* The busy check must be atomic with the start, on the loop, after the store said yes and
 * before the ack: the WebSocket transport is wrapped so its answer starts the call first. */
static const struct job_transport *wsp_via;

static void initiate_begin(struct job *j)
{
    struct initiate *x = j->extra;
    struct calls *c = x->c;
    struct bus_call bc;
    struct call_timer *t;

    if (!wsp_job_conn(j) || c->stopping)
        return; /* the caller is gone: nobody to ring for */
    memset(&bc, 0, sizeof(bc));
    memcpy(bc.id, x->call_id, BUS_ID_SIZE);
    memcpy(bc.conversation_id, x->conv, BUS_ID_SIZE);
    memcpy(bc.caller_id, j->who.user_id, BUS_ID_SIZE);
    memcpy(bc.caller_device, j->who.device_id, BUS_ID_SIZE);
    memcpy(bc.callee_id, x->other, BUS_ID_SIZE);
    bc.video = x->video;
    bc.state = BUS_CALL_RINGING;
    bc.started_ms = clock_wall_ms();
    if (c->bus_ops->call_begin(c->bus, &bc)) {
        calls_record(c, &bc, STORE_CALL_BUSY, NULL, bc.started_ms);
        json_decref(j->out);
        j->out = NULL;
        job_error(j, 409, "busy", "One of you is in a call already.");
        return;
    }
    c->started++;
    c->ringing++;
    t = calls_timer(c, bc.id);
    t->ring_at = bc.started_ms + c->ring_ms;
    calls_timer_arm(t);
    calls_record(c, &bc, STORE_CALL_ONGOING, NULL, 0);
}

static int initiate_submit(struct job *j, void (*work)(void *, void *), void (*done)(void *))
{
    return wsp_via->submit(j, work, done);
}

static void initiate_answer(struct job *j)
{
    if (j->out && j->status < 400)
        initiate_begin(j);
    wsp_via->answer(j);
}

static void initiate_release(struct job *j) { wsp_via->release(j); }

static const struct job_transport initiate_via = {initiate_submit, initiate_answer,
                                                  initiate_release};

static const struct field_spec initiate_rows[] = {
    {"conversationId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0},
    {"callType", FIELD_ENUM, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0, .one_of = call_types},
};

static void call_initiate(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    struct field_value v[2];
    struct initiate *x;
    struct bus_call bc;
    uint32_t retry;
    struct job *j;

    if (!c || calls_fields(s, rid, data, NULL, initiate_rows, 2, v, 2))
        return;
    if (ratelimit_take(c->limits, &c->initiate_rule, wsp_user(s), strlen(wsp_user(s)),
                       clock_mono_ms(), &retry)) {
        wsp_error(s, rid, "rate_limited", "Too many calls; try again later.",
                  json_pack("{s:I}", "retryAfter", (json_int_t)retry));
        return;
    }
    if (!c->bus_ops->call_of_user(c->bus, wsp_user(s), &bc)) {
        wsp_error(s, rid, "busy", "You are in a call already.", NULL);
        return;
    }
    x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->c = c;
    memcpy(x->conv, v[0].str, BUS_ID_SIZE);
    x->video = !strcmp(v[1].str, "video");
    store_uuid_v7_ordered(x->call_id, clock_wall_ms());
    j = wsp_job(s, rid);
    wsp_via = j->via;
    j->via = &initiate_via;
    j->extra = x;
    j->extra_free = free;
    job_submit(j, initiate_work);
}

/* --- call:offer ----------------------------------------------------------------------------- */

struct offer {
    struct calls *c;
    char call_id[BUS_ID_SIZE], callee[BUS_ID_SIZE];
    json_t *envelopes; /* a reference to the checked array */
    size_t n;
    char (*devices)[BUS_ID_SIZE]; /* the envelopes' devices, sorted */
};

static void offer_free(void *arg)
{
    struct offer *o = arg;

    json_decref(o->envelopes);
    free(o->devices);
    free(o);
}

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

/* One envelope per required device of the callee and none for another device (as for
 * messages): with a signed device list, the callee's active devices it does not name are
 * allowed but not required. */
static void offer_work(struct store *st, struct job *j)
{
    struct offer *o = j->extra;
    struct store_device *devs = NULL;
    size_t n = 0, i = 0, k = 0, list_len = 0;
    json_t *missing, *extra;
    uint8_t list[STORE_SIGNED_LIST_MAX];
    int64_t version;
    enum store_err rc = store_device_list(st, o->callee, STORE_DEVICES_ACTIVE, &devs, &n);
    enum store_err lrc = rc == STORE_OK ? store_signed_list_get(st, o->callee, list, sizeof(list),
                                                                &list_len, &version)
                                        : rc;

    if (rc == STORE_OK && lrc != STORE_OK && lrc != STORE_NOT_FOUND) {
        store_devices_free(devs, n);
        rc = lrc;
    }

    if (rc != STORE_OK) {
        job_store_error(j, rc, "call_offer");
        return;
    }
    qsort(devs, n, sizeof(*devs), id_cmp); /* the id is the struct's first member */
    missing = json_array();
    extra = json_array();
    while (i < n || k < o->n) {
        int cmp = i == n ? 1 : k == o->n ? -1 : strcmp(devs[i].id, o->devices[k]);

        if (!cmp)
            i++, k++;
        else if (cmp < 0 && lrc == STORE_OK && !store_signed_list_names(list, list_len, devs[i].id))
            i++; /* unlisted: allowed, not required */
        else if (cmp < 0)
            json_array_append_new(missing, json_string(devs[i++].id));
        else
            json_array_append_new(extra, json_string(o->devices[k++]));
    }
    store_devices_free(devs, n);
    if (json_array_size(missing) || json_array_size(extra)) {
        struct api_error e = api_store_error(STORE_MISMATCH);

        job_fail(j, e.status, e.code, e.message,
                 json_pack("{s:o, s:o}", "missing", missing, "extra", extra));
        return;
    }
    json_decref(missing);
    json_decref(extra);
    job_ok(j, 200, json_object());
}

/* After the ack: every callee device connected now rings; none: missed at once. */
static void offer_ring(struct job *j)
{
    struct offer *o = j->extra;
    struct calls *c = o->c;
    struct bus_call bc;
    size_t i;
    json_t *e;

    if (c->bus_ops->call_get(c->bus, o->call_id, &bc) || bc.state != BUS_CALL_RINGING || bc.offered)
        return; /* ended meanwhile, or another offer got there first */
    bc.offered = 1;
    json_array_foreach(o->envelopes, i, e) {
        const char *dev = json_string_value(json_object_get(e, "deviceId"));

        if (!realtime_device_connected(c->srv, dev) || bc.n_rung == BUS_CALL_DEVICES)
            continue;
        snprintf(bc.rung[bc.n_rung++], BUS_ID_SIZE, "%s", dev);
        calls_to_device(c, dev, "call:incoming",
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:O, s:O}}", "callId", bc.id,
                                  "conversationId", bc.conversation_id, "callerId", bc.caller_id,
                                  "callerDeviceId", bc.caller_device, "callType",
                                  bc.video ? "video" : "audio", "envelope", "type",
                                  json_object_get(e, "type"), "ciphertext",
                                  json_object_get(e, "ciphertext")));
    }
    if (!bc.n_rung) {
        calls_end(c, &bc, STORE_CALL_MISSED, NULL);
        return;
    }
    c->bus_ops->call_update(c->bus, &bc); /* nothing ran in between on this loop */
}

static const struct field_spec offer_rows[] = {
    CALL_ID_ROW,
    {"envelopes", FIELD_ARRAY, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = BUS_CALL_DEVICES},
};

/* Each envelope's rows, and no device twice. */
static int offer_envelopes(struct rtconn *s, const char *rid, const json_t *arr, struct offer *o)
{
    struct field_value v[3];
    const json_t *e;
    size_t i;

    o->n = json_array_size(arr);
    o->devices = calloc(o->n ? o->n : 1, sizeof(*o->devices));
    if (!o->devices)
        abort();
    json_array_foreach(arr, i, e) {
        if (!json_is_object(e)) {
            wsp_error(s, rid, "validation_failed", API_VALIDATION_MESSAGE,
                      api_details("envelopes", "wrong_type"));
            return -1;
        }
        if (calls_fields(s, rid, e, "envelopes", offer_envelope_rows, 3, v, 3))
            return -1;
        memcpy(o->devices[i], v[0].str, BUS_ID_SIZE);
    }
    qsort(o->devices, o->n, sizeof(*o->devices), id_cmp);
    for (i = 1; i < o->n; i++)
        if (!strcmp(o->devices[i - 1], o->devices[i])) {
            wsp_error(s, rid, "validation_failed", API_VALIDATION_MESSAGE,
                      api_details("envelopes.deviceId", "duplicate"));
            return -1;
        }
    return 0;
}

static void call_offer(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    struct field_value v[2];
    struct bus_call bc;
    struct offer *o;
    struct job *j;
    int role;

    if (!c || calls_fields(s, rid, data, NULL, offer_rows, 2, v, 2) ||
        calls_lookup(c, s, rid, v[0].str, &bc, &role))
        return;
    if (role != ROLE_CALLER || strcmp(bc.caller_device, wsp_device(s))) {
        calls_not_in_call(s, rid);
        return;
    }
    if (bc.state != BUS_CALL_RINGING || bc.offered) {
        wsp_error(s, rid, "conflict", "The call was offered already.", NULL);
        return;
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        abort();
    if (offer_envelopes(s, rid, v[1].json, o)) {
        offer_free(o);
        return;
    }
    o->c = c;
    memcpy(o->call_id, bc.id, BUS_ID_SIZE);
    memcpy(o->callee, bc.callee_id, BUS_ID_SIZE);
    o->envelopes = json_incref(json_object_get(data, "envelopes"));
    j = wsp_job(s, rid);
    j->extra = o;
    j->extra_free = offer_free;
    j->after_success = offer_ring;
    job_submit(j, offer_work);
}

/* --- call:answer ---------------------------------------------------------------------------- */

static const struct field_spec answer_rows[] = {CALL_ID_ROW, ENVELOPE_ROW};

static void call_answer(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    const char *dev = wsp_device(s);
    struct field_value v[4];
    struct call_timer *t;
    struct bus_call bc;
    int role;

    if (!c || calls_fields(s, rid, data, NULL, answer_rows, 2, v, 4) ||
        calls_lookup(c, s, rid, v[0].str, &bc, &role))
        return;
    if (role != ROLE_CALLEE || !calls_rang(&bc, dev)) {
        calls_not_in_call(s, rid);
        return;
    }
    if (bc.state != BUS_CALL_RINGING) {
        wsp_error(s, rid, "conflict", "The call was answered already.", NULL);
        return;
    }
    bc.state = BUS_CALL_ACTIVE;
    snprintf(bc.callee_device, sizeof(bc.callee_device), "%s", dev);
    bc.answered_ms = clock_wall_ms();
    if (c->bus_ops->call_update(c->bus, &bc)) { /* another answer won */
        wsp_error(s, rid, "conflict", "The call was answered already.", NULL);
        return;
    }
    c->ringing--;
    c->active++;
    c->answered++;
    if ((t = calls_timer_find(c, bc.id))) {
        t->ring_at = 0;
        calls_timer_arm(t);
    }
    calls_to_device(c, bc.caller_device, "call:answered",
                    json_pack("{s:s, s:s, s:o}", "callId", bc.id, "calleeDeviceId", dev, "envelope",
                              calls_envelope(&v[2], &v[3])));
    for (size_t i = 0; i < bc.n_rung; i++)
        if (strcmp(bc.rung[i], dev))
            calls_to_device(c, bc.rung[i], "call:accepted-elsewhere",
                            json_pack("{s:s}", "callId", bc.id));
    calls_record(c, &bc, STORE_CALL_ONGOING, NULL, 0);
    wsp_ack(s, rid, json_object());
}

/* --- call:ice-candidate ----------------------------------------------------------------------- */

static const struct field_spec ice_rows[] = {
    CALL_ID_ROW,
    {"recipientDeviceId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 0},
    ENVELOPE_ROW,
};

static void call_ice(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    const char *dev = wsp_device(s);
    struct field_value v[5];
    struct bus_call bc;
    bool to_ok;
    int role;

    if (!c || calls_fields(s, rid, data, NULL, ice_rows, 3, v, 5) ||
        calls_lookup(c, s, rid, v[0].str, &bc, &role))
        return;
    if (!calls_in_call(&bc, role, dev)) {
        calls_not_in_call(s, rid);
        return;
    }
    to_ok = role == ROLE_CALLEE ? !strcmp(v[1].str, bc.caller_device)
                                : calls_in_call(&bc, ROLE_CALLEE, v[1].str);
    if (!to_ok) {
        wsp_error(s, rid, "forbidden", "The recipient is not in the call.", NULL);
        return;
    }
    calls_to_device(c, v[1].str, "call:ice-candidate",
                    json_pack("{s:s, s:s, s:o}", "callId", bc.id, "senderDeviceId", dev, "envelope",
                              calls_envelope(&v[3], &v[4])));
    wsp_ack(s, rid, json_object());
}

/* --- call:reject, call:end ------------------------------------------------------------------- */

static const struct field_spec call_id_rows[] = {CALL_ID_ROW};

static void call_reject(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    struct field_value v;
    struct bus_call bc;
    int role;

    if (!c || calls_fields(s, rid, data, NULL, call_id_rows, 1, &v, 1) ||
        calls_lookup(c, s, rid, v.str, &bc, &role))
        return;
    if (role != ROLE_CALLEE || !calls_rang(&bc, wsp_device(s))) {
        calls_not_in_call(s, rid);
        return;
    }
    if (bc.state != BUS_CALL_RINGING) {
        wsp_error(s, rid, "conflict", "The call was answered already.", NULL);
        return;
    }
    calls_end(c, &bc, STORE_CALL_REJECTED, wsp_user(s));
    wsp_ack(s, rid, json_object());
}

static void call_end(struct rtconn *s, json_t *data, const char *rid)
{
    struct calls *c = calls_of(s, rid);
    struct field_value v;
    struct bus_call bc;
    int role;

    if (!c || calls_fields(s, rid, data, NULL, call_id_rows, 1, &v, 1) ||
        calls_lookup(c, s, rid, v.str, &bc, &role))
        return;
    if (!calls_in_call(&bc, role, wsp_device(s))) {
        calls_not_in_call(s, rid);
        return;
    }
    calls_end(c, &bc, STORE_CALL_HANGUP, wsp_user(s));
    wsp_ack(s, rid, json_object());
}

/* Initiate and offer wait for the store (an in-flight slot each); the others act at once.
 * Every one wants an id: its answer is the client's only sign of what happened. */
static const struct wsp_event calls_rows[] = {
    {"call:initiate", call_initiate, .needs_id = true, .before_auth = false, .max_len = 1024,
     .rate = WSP_RATE_INFLIGHT},
    {"call:offer", call_offer, .needs_id = true, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
    {"call:answer", call_answer, .needs_id = true, .before_auth = false, .max_len = CALLS_FRAME_MAX,
     .rate = WSP_RATE_FRAME},
    {"call:ice-candidate", call_ice, .needs_id = true, .before_auth = false,
     .max_len = CALLS_FRAME_MAX, .rate = WSP_RATE_FRAME},
    {"call:reject", call_reject, .needs_id = true, .before_auth = false, .max_len = 1024,
     .rate = WSP_RATE_FRAME},
    {"call:end", call_end, .needs_id = true, .before_auth = false, .max_len = 1024,
     .rate = WSP_RATE_FRAME},
};
const struct wsp_events calls_ws_events = WSP_EVENTS(calls_rows);
