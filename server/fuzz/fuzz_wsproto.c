/*
 * fuzz_wsproto: one WebSocket text frame, as /ws receives it after ws.c has reassembled it:
 * the envelope check of wsproto.c (wsp_parse: JSON object, "id" of 1 to 64 characters,
 * string "event", object "data"), the event table's lookup and routing (wsp_route: the
 * "authenticate first" rule, the in-flight limit of the row's rate class, unknown_event, the
 * row's needs_id and max_len) in every connection state, and then, for the row it routes to,
 * the checks its handler makes of the data before anything depends on the connection or the
 * store:
 *
 *   authenticate     data.token: a string, verified as an access token (jwt_verify)
 *   message:send     data.conversationId: a UUID; the body: msg_op_body (clientMessageId,
 *                    envelopes [{deviceId, type, ciphertext}], sizes)
 *   message:read     data.messageId: a UUID
 *   queue:ack        data.seq: a non-negative integer
 *   typing:start/stop data.conversationId: a UUID
 *
 * and the reply frames rendered for it (wsp_render), which must be JSON a client can read
 * back. Findings: a crash, a leak, an accepted envelope that breaks wsp_parse's promise, an
 * accepted message body whose envelopes a worker could not trust the shapes of, a reply
 * that is not the JSON it should be.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "auth/jwt.h"
#include "fuzz_common.h"
#include "messaging/messaging.h"
#include "messaging/rt_internal.h"
#include "store/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reply a client gets: {"event", "data", "id"?} that reads back. */
static void check_reply(const char *event, json_t *body, const char *rid)
{
    size_t len;
    char *txt = wsp_render(event, body, &len);
    json_t *back = json_loadb(txt, len, JSON_REJECT_DUPLICATES, NULL);

    FUZZ_CHECK(back != NULL && json_is_object(back));
    FUZZ_CHECK(!strcmp(json_string_value(json_object_get(back, "event")), event));
    FUZZ_CHECK(json_is_object(json_object_get(back, "data")));
    json_decref(back);
    free(txt);
    if (rid) {
        json_t *f = json_pack("{s:s, s:s}", "event", event, "id", rid);
        FUZZ_CHECK(f != NULL);
        txt = json_dumps(f, JSON_COMPACT);
        FUZZ_CHECK(txt != NULL);
        back = json_loads(txt, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(back != NULL);
        FUZZ_CHECK(!strcmp(json_string_value(json_object_get(back, "id")), rid));
        json_decref(back);
        json_decref(f);
        free(txt);
    }
}

static void check_error(const char *rid, const char *code, const char *message, json_t *details)
{
    json_t *d = json_pack("{s:s, s:s}", "code", code, "message", message);

    FUZZ_CHECK(d != NULL);
    if (details)
        json_object_set_new(d, "details", details);
    check_reply("error", d, rid);
}

static bool uuid_field(json_t *data, const char *field)
{
    json_t *v = json_object_get(data, field);
    bool ok = json_is_string(v) && api_is_uuid(json_string_value(v));

    if (ok)
        FUZZ_CHECK(strlen(json_string_value(v)) == RT_ID_SIZE - 1);
    return ok;
}

static void message_send(json_t *data, const char *rid)
{
    static const char me[] = "0199aaaa-0000-7000-8000-000000000001";
    int status = 0;
    const char *field = NULL, *reason = NULL;

    if (!uuid_field(data, "conversationId")) {
        check_error(rid, "validation_failed", "conversationId is a UUID.",
                    api_details("conversationId", "wrong_type"));
        return;
    }
    struct msg_op *op = msg_op_new(NULL, MSG_SEND, me, me,
                                   json_string_value(json_object_get(data, "conversationId")));
    if (msg_op_body(op, data, &status, &field, &reason)) {
        FUZZ_CHECK(status == 400 || status == 413);
        FUZZ_CHECK(field != NULL && reason != NULL);
        check_error(rid, "validation_failed", "Invalid message.", api_details(field, reason));
    } else {
        /* What the worker relies on: a client id of 1..64 bytes, at most 100 envelopes,
         * each a UUID device, a known type, base64 of a length that can be. */
        json_t *cid = json_object_get(data, "clientMessageId");
        json_t *envs = json_object_get(data, "envelopes");
        size_t i;
        json_t *e;
        FUZZ_CHECK(json_is_string(cid) && json_string_length(cid) >= 1 &&
                   json_string_length(cid) <= STORE_CLIENT_ID_MAX);
        FUZZ_CHECK(json_is_array(envs) && json_array_size(envs) <= STORE_ENVELOPES_MAX);
        json_array_foreach(envs, i, e) {
            const char *t = json_string_value(json_object_get(e, "type"));
            json_t *ct = json_object_get(e, "ciphertext");
            FUZZ_CHECK(uuid_field(e, "deviceId"));
            FUZZ_CHECK(t && (!strcmp(t, "prekey") || !strcmp(t, "message")));
            FUZZ_CHECK(json_is_string(ct) && json_string_length(ct) % 4 == 0 &&
                       json_string_length(ct) > 0 &&
                       json_string_length(ct) <= ((STORE_ENVELOPE_MAX + 2) / 3) * 4 + 4);
        }
        check_reply("ack", json_pack("{s:s}", "status", "sent"), rid);
    }
    msg_op_free(op);
}

static void check_authenticate(json_t *data, const char *rid)
{
    json_t *tok = json_object_get(data, "token");
    jwt_claims c;

    if (!json_is_string(tok)) {
        check_error(rid, "validation_failed", "authenticate needs a token.",
                    api_details("token", tok ? "wrong_type" : "missing"));
        return;
    }
    jwt_status st = jwt_verify(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, json_string_value(tok),
                               json_string_length(tok), FUZZ_NOW, &c);
    if (st == JWT_OK)
        check_reply("ack", json_pack("{s:s}", "userId", c.sub), rid);
    else
        check_error(rid, "unauthenticated", "Invalid token.", NULL);
}

static void check_queue_ack(json_t *data, const char *rid)
{
    json_t *seq = json_object_get(data, "seq");

    if (!json_is_integer(seq) || json_integer_value(seq) < 0)
        check_error(rid, "validation_failed", "seq is a non-negative integer.",
                    api_details("seq", seq ? "wrong_type" : "missing"));
    else
        check_reply("ack", NULL, rid);
}

static void check_message_read(json_t *data, const char *rid)
{
    if (!uuid_field(data, "messageId"))
        check_error(rid, "validation_failed", "messageId is a UUID.",
                    api_details("messageId", "missing"));
}

static void check_typing(json_t *data, const char *rid)
{
    if (!uuid_field(data, "conversationId"))
        check_error(rid, "validation_failed", "conversationId is a UUID.",
                    api_details("conversationId", "missing"));
}

/* What each row's handler checks of its data first, by event (the handlers answer on a
 * socket, so their first lines are mirrored here). A row without an entry is routed only. */
static const struct {
    const char *name;
    void (*check)(json_t *data, const char *rid);
} data_checks[] = {
    {"authenticate", check_authenticate}, {"message:send", message_send},
    {"queue:ack", check_queue_ack},       {"message:read", check_message_read},
    {"typing:start", check_typing},       {"typing:stop", check_typing},
};

static void check_data(const struct wsp_event *row, const struct wsp_frame *f)
{
    for (size_t i = 0; i < sizeof(data_checks) / sizeof(data_checks[0]); i++)
        if (!strcmp(row->name, data_checks[i].name)) {
            data_checks[i].check(f->data, f->rid);
            return;
        }
}

/* One routed frame: wsp_route's promise for each connection state, with and without the
 * in-flight slots taken. */
static void check_route(const struct wsp_frame *f, size_t len, enum conn_state st,
                        unsigned inflight)
{
    const struct wsp_event *row = wsp_event_find(f->name);
    struct wsp_route r;

    if (row)
        FUZZ_CHECK(!strcmp(row->name, f->name));
    if (wsp_route(f, len, st, inflight, &r) == 0) {
        FUZZ_CHECK(r.row == row && row != NULL && !r.code && !r.details);
        FUZZ_CHECK(st == CONN_READY || (st == CONN_NEW && row->before_auth));
        FUZZ_CHECK(st != CONN_READY || row->rate == WSP_RATE_FRAME || inflight < RT_INFLIGHT_MAX);
        FUZZ_CHECK(!row->needs_id || f->rid);
        FUZZ_CHECK(!row->max_len || len <= row->max_len);
        if (st == CONN_READY && !inflight)
            check_data(row, f);
        return;
    }
    FUZZ_CHECK(r.code != NULL && r.message != NULL);
    if (st == CONN_AUTHING || (st == CONN_NEW && (!row || !row->before_auth)))
        FUZZ_CHECK(!strcmp(r.code, "unauthenticated") && !r.details);
    if (st == CONN_READY && !row)
        FUZZ_CHECK(
            !strcmp(r.code, inflight < RT_INFLIGHT_MAX ? "validation_failed" : "rate_limited"));
    check_error(f->rid, r.code, r.message, r.details); /* takes details, as wsp_reject does */
}

static void route(const struct wsp_frame *f, size_t len)
{
    static const enum conn_state states[] = {CONN_NEW, CONN_AUTHING, CONN_READY};

    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        check_route(f, len, states[i], 0);
        check_route(f, len, states[i], RT_INFLIGHT_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct wsp_frame f;

    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = 1;
    }
    if (wsp_parse((const char *)data, size, &f) == 0) {
        FUZZ_CHECK(json_is_object(f.root) && f.name != NULL && json_is_object(f.data));
        FUZZ_CHECK(!f.code && !f.details);
        FUZZ_CHECK(json_is_string(json_object_get(f.root, "event")));
        /* No NUL inside: the table's lookup compares C strings. */
        FUZZ_CHECK(strlen(f.name) == json_string_length(json_object_get(f.root, "event")));
        if (f.rid)
            FUZZ_CHECK(strlen(f.rid) <= RT_REQ_ID_MAX);
        else
            FUZZ_CHECK(json_object_get(f.root, "id") == NULL);
        route(&f, size);
    } else {
        FUZZ_CHECK(f.code != NULL && f.message != NULL);
        FUZZ_CHECK(f.name == NULL || !strcmp(f.code, "validation_failed")); /* bad data */
        if (!strcmp(f.code, "invalid_json"))
            FUZZ_CHECK(f.rid == NULL && f.details == NULL);
        else
            FUZZ_CHECK(f.details != NULL && json_is_object(f.root));
        check_error(f.rid, f.code, f.message, f.details);
        f.details = NULL; /* check_error took it, as wsp_reject does */
    }
    wsp_frame_free(&f);
    return 0;
}
