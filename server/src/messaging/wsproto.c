/* The WebSocket frame protocol: {"event", "data", "id"?} JSON text frames in, events out;
 * a request with an id gets exactly one reply, `ack` or `error`, with that id. Parsing,
 * validation of the envelope of a frame, the event table (rows from the handlers' files,
 * sorted by name) and the dispatch through it: the per-connection rate and in-flight limits
 * and each row's declared checks, in the order rt_internal.h lists. */
#include <stdlib.h>
#include <string.h>

#include "messaging/rt_internal.h"
#include "net/ws.h"

char *wsp_render(const char *event, json_t *data, size_t *len)
{
    json_t *f = json_pack("{s:s, s:o}", "event", event, "data", data ? data : json_object());
    char *s;

    if (!f)
        abort();
    s = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    if (!s)
        abort();
    *len = strlen(s);
    return s;
}

bool wsp_send_raw(struct rtconn *s, const char *frame, size_t len)
{
    if (s->state == CONN_CLOSING || !s->conn)
        return false;
    return ws_send(s->conn, frame, len) == 0;
}

size_t wsp_room(struct rtconn *s) { return s->state == CONN_CLOSING ? 0 : ws_room(s->conn); }

void wsp_event(struct rtconn *s, const char *event, json_t *data)
{
    size_t len;
    char *f = wsp_render(event, data, &len);

    wsp_send_raw(s, f, len);
    free(f);
}

static void wsp_reply(struct rtconn *s, const char *event, const char *req_id, json_t *data)
{
    json_t *f = json_pack("{s:s, s:o}", "event", event, "data", data ? data : json_object());
    char *txt;

    if (!f)
        abort();
    if (req_id)
        json_object_set_new(f, "id", json_string(req_id));
    txt = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    if (!txt)
        abort();
    wsp_send_raw(s, txt, strlen(txt));
    free(txt);
}

void wsp_ack(struct rtconn *s, const char *req_id, json_t *data)
{
    if (!req_id) {
        json_decref(data);
        return;
    }
    wsp_reply(s, "ack", req_id, data);
}

void wsp_error(struct rtconn *s, const char *req_id, const char *code, const char *message,
               json_t *details)
{
    json_t *d = json_pack("{s:s, s:s}", "code", code, "message", message);

    if (!d)
        abort();
    if (details)
        json_object_set_new(d, "details", details);
    wsp_reply(s, "error", req_id, d);
}

/* --- a WebSocket request as the plumbing's job (api/job.h) ------------------------------- */

static int wsp_job_submit(struct job *j, void (*work)(void *, void *), void (*done)(void *))
{
    struct wsp_req *r = j->via_data;
    struct rtconn *s;

    if (!rt_submit(r->rt, work, done, j))
        return 0;
    s = wsp_req_done(r);
    if (s)
        wsp_store_error(s, wsp_req_id(r), STORE_BUSY, NULL);
    return -1;
}

static void wsp_job_answer(struct job *j)
{
    struct wsp_req *r = j->via_data;
    struct rtconn *s = wsp_req_done(r);

    if (!s)
        return; /* closed meanwhile: nobody to answer */
    if (j->out) {
        wsp_ack(s, wsp_req_id(r), j->out);
        j->out = NULL;
    } else {
        wsp_error(s, wsp_req_id(r), j->code ? j->code : API_INTERNAL_ERROR,
                  j->message ? j->message : "Something went wrong.", j->details);
        j->details = NULL;
    }
}

static void wsp_job_release(struct job *j) { free(j->via_data); }

static const struct job_transport wsp_job_transport = {wsp_job_submit, wsp_job_answer,
                                                       wsp_job_release};

struct job *wsp_job(struct rtconn *s, const char *req_id)
{
    struct wsp_req *r = malloc(sizeof(*r));
    struct job *j;

    if (!r)
        abort();
    wsp_req_init(r, s, req_id);
    j = job_new_via(&wsp_job_transport, r);
    j->rt = s->rt;
    j->authed = true;
    memcpy(j->who.user_id, s->user_id, RT_ID_SIZE);
    memcpy(j->who.device_id, s->device_id, RT_ID_SIZE);
    return j;
}

struct rtconn *wsp_job_conn(struct job *j)
{
    struct wsp_req *r = j->via_data;
    struct rtconn *s = rt_conn_find(r->rt, r->conn_id);

    return s && s->state != CONN_CLOSING ? s : NULL;
}

int wsp_fields(struct rtconn *s, const char *req_id, const json_t *data,
               const struct field_spec *specs, size_t n, struct field_value *values, size_t nv)
{
    struct field_fail fail;

    if (!fields_check(data, NULL, specs, n, values, nv, &fail))
        return 0;
    wsp_error(s, req_id, "validation_failed", API_VALIDATION_MESSAGE,
              api_details(fail.field, fail.reason));
    return -1;
}

void wsp_store_error(struct rtconn *s, const char *req_id, enum store_err rc, json_t *details)
{
    struct api_error e = api_store_error(rc);

    wsp_error(s, req_id, e.code, e.message, details);
}

void wsp_req_init(struct wsp_req *r, struct rtconn *s, const char *req_id)
{
    r->rt = s->rt;
    r->conn_id = s->id;
    memcpy(r->user_id, s->user_id, RT_ID_SIZE);
    memcpy(r->device_id, s->device_id, RT_ID_SIZE);
    r->has_id = req_id != NULL;
    if (req_id)
        snprintf(r->req_id, sizeof(r->req_id), "%s", req_id);
    s->inflight++;
}

struct rtconn *wsp_req_done(struct wsp_req *r)
{
    struct rtconn *s = rt_conn_find(r->rt, r->conn_id);

    if (!s)
        return NULL;
    if (s->inflight)
        s->inflight--;
    return s->state == CONN_CLOSING ? NULL : s;
}

/* A bad first frame ends an unauthenticated connection. */
static void wsp_reject(struct rtconn *s, const char *req_id, const char *code, const char *msg,
                       json_t *details)
{
    wsp_error(s, req_id, code, msg, details);
    if (s->state == CONN_NEW)
        conn_close(s, RT_CLOSE_UNAUTH, "unauthenticated");
}

/* A frame's envelope: {"id"?: 1..64 characters, "event": string, "data"?: object}, checked
 * in that order (the id first, so that an error about the rest can echo it). */
static const struct field_spec wsp_frame_fields[] = {
    {"id", FIELD_OPAQUE, FIELD_NULL_WRONG, .min = 1, .max = RT_REQ_ID_MAX,
     .as_bounds = "out_of_range"},
    {"event", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
    {.name = "data", .type = FIELD_OBJECT, .flags = FIELD_NULL_WRONG},
};
enum { WSP_ID, WSP_EVENT, WSP_DATA, WSP_N };

int wsp_parse(const char *msg, size_t len, struct wsp_frame *f)
{
    struct field_value v[WSP_N];
    struct field_fail fail;

    memset(f, 0, sizeof(*f));
    f->root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    if (!f->root || !json_is_object(f->root)) {
        f->code = "invalid_json", f->message = "Frames are JSON objects.";
        return -1;
    }
    if (fields_check(f->root, NULL, wsp_frame_fields, WSP_N, v, WSP_N, &fail)) {
        /* The rows before the one that failed passed: a good id still names the request the
         * error answers, and a bad data still has its event's name. */
        f->rid = v[WSP_ID].str;
        f->name = v[WSP_EVENT].str;
        f->code = "validation_failed", f->message = API_VALIDATION_MESSAGE;
        f->details = api_details(fail.field, fail.reason);
        return -1;
    }
    f->rid = v[WSP_ID].str;
    f->name = v[WSP_EVENT].str;
    f->data = v[WSP_DATA].json ? json_object_get(f->root, "data") : NULL;
    if (!f->data)
        f->data = f->own = json_object();
    return 0;
}

void wsp_frame_free(struct wsp_frame *f)
{
    json_decref(f->details);
    json_decref(f->own);
    json_decref(f->root);
    memset(f, 0, sizeof(*f));
}

/* --- the event table ---------------------------------------------------------------------
 * Every set of rows, once; the rows themselves live with their handlers. */
static const struct wsp_events *const wsp_sets[] = {
    &conn_ws_events, &messaging_ws_events, &delivery_ws_events, &typing_ws_events, &calls_ws_events,
};

#define WSP_TABLE_MAX 64

static const struct wsp_event *wsp_table[WSP_TABLE_MAX];
static size_t wsp_table_n;

static int wsp_row_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct wsp_event *const *)a)->name,
                  (*(const struct wsp_event *const *)b)->name);
}

void wsp_events_init(void)
{
    size_t n = 0;

    if (wsp_table_n)
        return;
    for (size_t i = 0; i < sizeof(wsp_sets) / sizeof(wsp_sets[0]); i++)
        for (size_t j = 0; j < wsp_sets[i]->n; j++) {
            if (n == WSP_TABLE_MAX)
                abort();
            wsp_table[n++] = &wsp_sets[i]->rows[j];
        }
    qsort(wsp_table, n, sizeof(wsp_table[0]), wsp_row_cmp);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(wsp_table[i - 1]->name, wsp_table[i]->name))
            abort(); /* two rows for one event */
    wsp_table_n = n;
}

const struct wsp_event *const *wsp_event_table(size_t *n)
{
    wsp_events_init();
    *n = wsp_table_n;
    return wsp_table;
}

static int wsp_name_cmp(const void *key, const void *row)
{
    return strcmp(key, (*(const struct wsp_event *const *)row)->name);
}

const struct wsp_event *wsp_event_find(const char *name)
{
    const struct wsp_event *const *row;

    wsp_events_init();
    row = bsearch(name, wsp_table, wsp_table_n, sizeof(wsp_table[0]), wsp_name_cmp);
    return row ? *row : NULL;
}

/* --- dispatch -------------------------------------------------------------------------- */

static int wsp_refuse(struct wsp_route *r, const char *code, const char *message, json_t *details)
{
    r->code = code;
    r->message = message;
    r->details = details;
    return -1;
}

/* Step 6: the row's own limits. */
static int wsp_row_checks(const struct wsp_frame *f, size_t len, struct wsp_route *r)
{
    const struct wsp_event *row = r->row;

    if (row->needs_id && !f->rid)
        return wsp_refuse(r, "validation_failed", "This event needs an id.",
                          api_details("id", "missing"));
    if (row->max_len && len > row->max_len)
        return wsp_refuse(r, "payload_too_large", "The frame is too large for this event.",
                          api_details("data", "too_large"));
    return 0;
}

int wsp_route(const struct wsp_frame *f, size_t len, enum conn_state state, unsigned inflight,
              struct wsp_route *r)
{
    memset(r, 0, sizeof(*r));
    r->row = wsp_event_find(f->name);
    if (state == CONN_NEW) {
        if (!r->row || !r->row->before_auth)
            return wsp_refuse(r, "unauthenticated", "Authenticate first.", NULL);
        return wsp_row_checks(f, len, r);
    }
    if (state != CONN_READY)
        return wsp_refuse(r, "unauthenticated", "Authentication is in progress.", NULL);
    /* An unknown event is counted as the strict class: the in-flight refusal came first
     * before the table, and still does. */
    if ((!r->row || r->row->rate == WSP_RATE_INFLIGHT) && inflight >= RT_INFLIGHT_MAX)
        return wsp_refuse(r, "rate_limited", "Too many requests in flight.", NULL);
    if (!r->row)
        return wsp_refuse(r, "validation_failed", "Unknown event.",
                          api_details("event", "unknown_event"));
    return wsp_row_checks(f, len, r);
}

/* The id to answer a rate-limited frame with: the frame's, if it is a string the client
 * could match (its envelope is checked only after the bucket). */
static const char *wsp_limited_id(json_t *root)
{
    json_t *id = json_object_get(root, "id");

    return json_is_string(id) && json_string_length(id) <= RT_REQ_ID_MAX ? json_string_value(id)
                                                                         : NULL;
}

void wsp_dispatch(void *state, const char *msg, size_t len)
{
    struct rtconn *s = state;
    struct wsp_frame f;
    struct wsp_route r;
    bool bad;

    if (!s->rt || s->state == CONN_CLOSING)
        return;
    bad = wsp_parse(msg, len, &f) != 0;
    if (!conn_rate_ok(s)) {
        if (s->strikes >= RT_RATE_STRIKES)
            conn_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limit");
        else
            wsp_error(s, wsp_limited_id(f.root), "rate_limited", "Too many frames; slow down.",
                      NULL);
    } else if (bad) {
        wsp_reject(s, f.rid, f.code, f.message, f.details);
        f.details = NULL;
    } else if (wsp_route(&f, len, (enum conn_state)s->state, s->inflight, &r)) {
        wsp_reject(s, f.rid, r.code, r.message, r.details);
    } else {
        r.row->run(s, f.data, f.rid);
    }
    wsp_frame_free(&f);
}
