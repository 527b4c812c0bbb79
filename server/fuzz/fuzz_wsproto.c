/*
 * fuzz_wsproto: one WebSocket text frame, as /ws receives it after ws.c has reassembled it:
 * the envelope check of wsproto.c (wsp_parse: JSON object, "id" of 1 to 64 characters,
 * string "event", object "data") and then, as wsp_dispatch routes it, the checks each event
 * makes of its data before anything depends on the connection or the store:
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

static void dispatch(const struct wsp_frame *f)
{
    const char *name = f->name, *rid = f->rid;
    json_t *data = f->data;

    if (!strcmp(name, "authenticate")) {
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
    } else if (!strcmp(name, "message:send")) {
        message_send(data, rid);
    } else if (!strcmp(name, "queue:ack")) {
        json_t *seq = json_object_get(data, "seq");
        if (!json_is_integer(seq) || json_integer_value(seq) < 0)
            check_error(rid, "validation_failed", "seq is a non-negative integer.",
                        api_details("seq", seq ? "wrong_type" : "missing"));
        else
            check_reply("ack", NULL, rid);
    } else if (!strcmp(name, "message:read")) {
        if (!uuid_field(data, "messageId"))
            check_error(rid, "validation_failed", "messageId is a UUID.",
                        api_details("messageId", "missing"));
    } else if (!strcmp(name, "typing:start") || !strcmp(name, "typing:stop")) {
        if (!uuid_field(data, "conversationId"))
            check_error(rid, "validation_failed", "conversationId is a UUID.",
                        api_details("conversationId", "missing"));
    } else {
        check_error(rid, "validation_failed", "Unknown event.",
                    api_details("event", "unknown_event"));
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
        if (f.rid)
            FUZZ_CHECK(strlen(f.rid) <= RT_REQ_ID_MAX);
        else
            FUZZ_CHECK(json_object_get(f.root, "id") == NULL);
        dispatch(&f);
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
