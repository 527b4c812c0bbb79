/* The WebSocket frame protocol: {"event", "data", "id"?} JSON text frames in, events out;
 * a request with an id gets exactly one reply, `ack` or `error`, with that id. Parsing,
 * validation of the envelope of a frame, the per-connection rate and in-flight limits, and
 * the dispatch to the handlers of each event. */
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
    if (s->state == SESSION_CLOSING || !s->conn)
        return false;
    return ws_send(s->conn, frame, len) == 0;
}

size_t wsp_room(struct rtconn *s) { return s->state == SESSION_CLOSING ? 0 : ws_room(s->conn); }

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

void wsp_store_error(struct rtconn *s, const char *req_id, enum store_err rc, json_t *details)
{
    struct api_error e = api_store_error(rc);

    wsp_error(s, req_id, e.code, e.message, details);
}

void wsp_req_init(struct wsp_req *r, struct rtconn *s, const char *req_id)
{
    r->rt = s->rt;
    r->session = s->id;
    memcpy(r->user_id, s->user_id, RT_ID_SIZE);
    memcpy(r->device_id, s->device_id, RT_ID_SIZE);
    r->has_id = req_id != NULL;
    if (req_id)
        snprintf(r->req_id, sizeof(r->req_id), "%s", req_id);
    s->inflight++;
}

struct rtconn *wsp_req_done(struct wsp_req *r)
{
    struct rtconn *s = rt_session(r->rt, r->session);

    if (!s)
        return NULL;
    if (s->inflight)
        s->inflight--;
    return s->state == SESSION_CLOSING ? NULL : s;
}

/* A bad first frame ends an unauthenticated connection. */
static void wsp_reject(struct rtconn *s, const char *req_id, const char *code, const char *msg,
                       json_t *details)
{
    wsp_error(s, req_id, code, msg, details);
    if (s->state == SESSION_NEW)
        conn_close(s, RT_CLOSE_UNAUTH, "unauthenticated");
}

int wsp_parse(const char *msg, size_t len, struct wsp_frame *f)
{
    json_t *id, *ev;

    memset(f, 0, sizeof(*f));
    f->root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    if (!f->root || !json_is_object(f->root)) {
        f->code = "invalid_json", f->message = "Frames are JSON objects.";
        return -1;
    }
    id = json_object_get(f->root, "id");
    if (id) {
        if (!json_is_string(id) || !json_string_length(id) ||
            json_string_length(id) > RT_REQ_ID_MAX) {
            f->code = "validation_failed";
            f->message = "id is a string of 1 to 64 characters.";
            f->details = api_details("id", json_is_string(id) ? "out_of_range" : "wrong_type");
            return -1;
        }
        f->rid = json_string_value(id);
    }
    ev = json_object_get(f->root, "event");
    if (!json_is_string(ev)) {
        f->code = "validation_failed", f->message = "event is a string.";
        f->details = api_details("event", ev ? "wrong_type" : "missing");
        return -1;
    }
    f->name = json_string_value(ev);
    f->data = json_object_get(f->root, "data");
    if (f->data && !json_is_object(f->data)) {
        f->data = NULL;
        f->code = "validation_failed", f->message = "data is an object.";
        f->details = api_details("data", "wrong_type");
        return -1;
    }
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

void wsp_dispatch(struct rtconn *s, const char *msg, size_t len)
{
    struct wsp_frame f;
    bool bad = wsp_parse(msg, len, &f) != 0;
    json_t *root = f.root, *data = f.data;
    const char *rid = f.rid, *name = f.name;

    if (!conn_rate_ok(s)) {
        if (s->strikes >= RT_RATE_STRIKES)
            conn_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limit");
        else
            wsp_error(s,
                      root && json_is_string(json_object_get(root, "id")) &&
                              json_string_length(json_object_get(root, "id")) <= RT_REQ_ID_MAX
                          ? json_string_value(json_object_get(root, "id"))
                          : NULL,
                      "rate_limited", "Too many frames; slow down.", NULL);
        goto out;
    }
    if (bad) {
        wsp_reject(s, rid, f.code, f.message, f.details);
        f.details = NULL;
        goto out;
    }
    if (s->state == SESSION_NEW) {
        if (strcmp(name, "authenticate"))
            wsp_reject(s, rid, "unauthenticated", "Authenticate first.", NULL);
        else
            conn_authenticate(s, data, rid);
        goto out;
    }
    if (s->state != SESSION_READY) {
        wsp_error(s, rid, "unauthenticated", "Authentication is in progress.", NULL);
        goto out;
    }
    if (s->inflight >= RT_INFLIGHT_MAX) {
        wsp_error(s, rid, "rate_limited", "Too many requests in flight.", NULL);
        goto out;
    }
    if (!strcmp(name, "authenticate"))
        conn_authenticate(s, data, rid);
    else if (!strcmp(name, "message:send"))
        messaging_ws_send(s, data, rid);
    else if (!strcmp(name, "queue:ack"))
        delivery_ack(s, data, rid);
    else if (!strcmp(name, "message:read"))
        messaging_ws_read(s, data, rid);
    else if (!strcmp(name, "typing:start"))
        typing_event(s, data, rid, true);
    else if (!strcmp(name, "typing:stop"))
        typing_event(s, data, rid, false);
    else
        wsp_error(s, rid, "validation_failed", "Unknown event.",
                  api_details("event", "unknown_event"));
out:
    wsp_frame_free(&f);
}
