/* Sending, editing, deleting and reading messages: one implementation for REST and the
 * WebSocket. The request is checked on the loop thread (shapes and sizes), the envelopes are
 * decoded and the store transaction runs on a worker, and only after the commit does the
 * caller get its answer and every target device its queued event through the bus. The
 * fan-out frames reuse the request's own base64 ciphertext: nothing is encoded twice. A send
 * that makes its two users contacts (the store says so) starts their presence at once.
 * A send's attachmentIds are linked to its message in its transaction (store/attachments.h);
 * a deletion removes its attachments' blobs once their rows are committed gone.
 *
 * Sends are group-committed with queue acknowledgements (batch.c): each runs in its own
 * nesting level (store_message_send nests), so a refused send (device-list mismatch, forbidden,
 * conflict) is undone alone and answered with its own error. Nothing is answered or fanned
 * out before the COMMIT; if the COMMIT fails, every send of the batch gets `unavailable`
 * (retryable; nothing of it was stored). */
#include <stdlib.h>
#include <string.h>

#include "attachments/attachments.h"
#include "auth/b64.h"
#include "base/config.h"
#include "base/log.h"
#include "base/server.h"
#include "messaging/messaging.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "store/attachments.h"
#include "store/messages.h"

#define MSG_B64_MAX (((STORE_ENVELOPE_MAX + 2) / 3) * 4)

struct msg_op {
    struct rt_batch_item bi; /* sends: in rt->batch (first member) */
    struct realtime *rt;
    enum msg_kind kind;
    char user_id[RT_ID_SIZE], device_id[RT_ID_SIZE];
    char target[RT_ID_SIZE]; /* conversation (send) or message id */
    json_t *body;            /* reference kept while envs point into it */
    const char *client_id;
    struct msg_env *envs;
    size_t n_envs;
    char att_ids[STORE_ATTACHMENTS_PER_MESSAGE][STORE_ID_SIZE]; /* a send's attachmentIds */
    size_t n_att;
    int64_t now;
    struct job *job; /* carries the answer (REST or WebSocket); owns the op once submitted */
    bool ws;         /* a WebSocket request (a read's ack names the message) */
    /* results */
    enum store_err rc;
    bool bad_b64;
    size_t bad_index;
    struct store_message_result res;
    struct store_read_result read;
};

struct msg_op *msg_op_new(struct realtime *rt, enum msg_kind kind, const char *user_id,
                          const char *device_id, const char *target)
{
    struct msg_op *op = calloc(1, sizeof(*op));

    if (!op)
        abort();
    op->rt = rt;
    op->kind = kind;
    snprintf(op->user_id, RT_ID_SIZE, "%s", user_id);
    snprintf(op->device_id, RT_ID_SIZE, "%s", device_id);
    snprintf(op->target, RT_ID_SIZE, "%s", target);
    return op;
}

void msg_op_free(struct msg_op *op)
{
    if (!op)
        return;
    store_message_result_free(&op->res);
    free(op->envs);
    json_decref(op->body);
    free(op);
}

/* Decoded size of canonical padded base64, or SIZE_MAX for a length that cannot be. */
static size_t msg_b64_decoded(const char *s, size_t len)
{
    size_t n;

    if (!len || len % 4)
        return SIZE_MAX;
    n = len / 4 * 3;
    if (s[len - 1] == '=')
        n--;
    if (s[len - 2] == '=')
        n--;
    return n;
}

/* A send's and an edit's body, and each envelope in it, declared (api/fields.h). The reasons
 * are the contract's older ones: a malformed id is "wrong_type", an unknown envelope type
 * "out_of_range". The ciphertext's size and base64 are checked after, in code: past the
 * envelope limit the answer is 413, not 400. */
static const struct field_spec msg_send_fields[] = {
    {"clientMessageId", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .min = 1,
     .max = STORE_CLIENT_ID_MAX, .as_bounds = "out_of_range"},
    {"envelopes", FIELD_ARRAY, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = STORE_ENVELOPES_MAX},
    {"attachmentIds", FIELD_ARRAY, FIELD_NULL_WRONG, .max = STORE_ATTACHMENTS_PER_MESSAGE},
};
static const char *const msg_envelope_types[] = {"prekey", "message", NULL};
static const struct field_spec msg_envelope_fields[] = {
    {"deviceId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
    {"type", FIELD_ENUM, FIELD_REQUIRED | FIELD_NULL_WRONG, .one_of = msg_envelope_types,
     .as_wrong_type = "out_of_range", .as_invalid = "out_of_range"},
    {"ciphertext", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
};
enum { ENV_DEVICE, ENV_TYPE, ENV_CIPHERTEXT, ENV_N };

/* One envelope into e; 0, or -1 with *status, *field and *reason. */
static int msg_envelope(const json_t *v, struct msg_env *e, int *status, const char **field,
                        const char **reason)
{
    static char path[FIELD_PATH_MAX]; /* loop thread only */
    struct field_value f[ENV_N];
    struct field_fail fail;
    size_t decoded;

    if (!json_is_object(v)) {
        *field = "envelopes", *reason = "wrong_type";
        return -1;
    }
    if (fields_check(v, "envelopes", msg_envelope_fields, ENV_N, f, ENV_N, &fail)) {
        snprintf(path, sizeof(path), "%s", fail.field);
        *field = path, *reason = fail.reason;
        return -1;
    }
    decoded = f[ENV_CIPHERTEXT].len > MSG_B64_MAX + 4
                  ? STORE_ENVELOPE_MAX + 1
                  : msg_b64_decoded(f[ENV_CIPHERTEXT].str, f[ENV_CIPHERTEXT].len);
    if (decoded == SIZE_MAX) {
        *field = "envelopes.ciphertext", *reason = "bad_base64";
        return -1;
    }
    if (decoded > STORE_ENVELOPE_MAX) {
        *status = 413;
        *field = "envelopes.ciphertext", *reason = "too_large";
        return -1;
    }
    memcpy(e->device_id, f[ENV_DEVICE].str, RT_ID_SIZE);
    e->type = !strcmp(f[ENV_TYPE].str, "prekey") ? STORE_ENVELOPE_PREKEY : STORE_ENVELOPE_MESSAGE;
    e->b64 = f[ENV_CIPHERTEXT].str;
    e->b64_len = f[ENV_CIPHERTEXT].len;
    return 0;
}

/* A send's attachmentIds into op: each a UUID (whose upload it is, and whether it is
 * finished, the store checks in the send's transaction). */
static int msg_attachment_ids(struct msg_op *op, const json_t *ids, const char **field,
                              const char **reason)
{
    size_t i;
    const json_t *v;

    json_array_foreach(ids, i, v) {
        if (!json_is_string(v) || !api_is_uuid(json_string_value(v))) {
            *field = "attachmentIds", *reason = json_is_string(v) ? "invalid" : "wrong_type";
            return -1;
        }
        memcpy(op->att_ids[i], json_string_value(v), STORE_ID_SIZE);
    }
    op->n_att = json_array_size(ids);
    return 0;
}

int msg_op_body(struct msg_op *op, json_t *body, int *status, const char **field,
                const char **reason)
{
    static char path[FIELD_PATH_MAX]; /* loop thread only */
    /* An edit has no clientMessageId and no attachmentIds: its one row is envelopes. */
    bool send = op->kind == MSG_SEND;
    const struct field_spec *rows = msg_send_fields + (send ? 0 : 1);
    size_t n = send ? 3 : 1, i;
    struct field_value f[3];
    struct field_fail fail;
    const json_t *envs, *v;

    *status = 400;
    if (!json_is_object(body)) {
        *field = "body", *reason = "wrong_type";
        return -1;
    }
    if (fields_check(body, NULL, rows, n, f, n, &fail)) {
        snprintf(path, sizeof(path), "%s", fail.field);
        *field = path, *reason = fail.reason;
        return -1;
    }
    if (send) {
        op->client_id = f[0].str;
        if (f[2].json && msg_attachment_ids(op, f[2].json, field, reason))
            return -1;
    }
    envs = f[send ? 1 : 0].json;
    op->n_envs = json_array_size(envs);
    op->envs = calloc(op->n_envs ? op->n_envs : 1, sizeof(*op->envs));
    if (!op->envs)
        abort();
    json_array_foreach(envs, i, v)
        if (msg_envelope(v, &op->envs[i], status, field, reason))
            return -1;
    op->body = json_incref(body);
    return 0;
}

/* --- worker ------------------------------------------------------------------------------ */

static void msg_work(void *ctx, void *arg)
{
    struct msg_op *op = arg;
    struct store_envelope *se = NULL;
    uint8_t **bufs = NULL;
    int64_t queued_max = op->rt->srv->cfg->queue_bytes_per_account; /* 0: no bound */

    if (op->kind == MSG_READ) {
        op->rc = store_message_read(ctx, op->user_id, op->target, op->now, &op->read);
        return;
    }
    if (op->kind == MSG_DELETE) {
        op->rc =
            store_message_delete(ctx, op->user_id, op->device_id, op->target, op->now, &op->res);
        /* Committed: the rows are gone, now their blobs (a crash here leaves blobs no row
         * names, which the next start removes). */
        if (op->rc == STORE_OK)
            attachments_blobs_remove(op->rt->srv, op->res.attachments, op->res.n_attachments);
        return;
    }
    se = calloc(op->n_envs ? op->n_envs : 1, sizeof(*se));
    bufs = calloc(op->n_envs ? op->n_envs : 1, sizeof(*bufs));
    if (!se || !bufs)
        abort();
    for (size_t i = 0; i < op->n_envs; i++) {
        size_t len = 0;

        bufs[i] = malloc(STORE_ENVELOPE_MAX);
        if (!bufs[i])
            abort();
        if (b64_decode(op->envs[i].b64, op->envs[i].b64_len, B64_STANDARD, bufs[i],
                       STORE_ENVELOPE_MAX, &len) ||
            !len) {
            op->bad_b64 = true;
            op->bad_index = i;
            goto out;
        }
        se[i] = (struct store_envelope){op->envs[i].device_id,
                                        (enum store_envelope_type)op->envs[i].type, bufs[i], len};
    }
    if (op->kind == MSG_SEND) {
        int64_t retention_ms = op->rt->srv->cfg->queue_retention_days * 24LL * 3600 * 1000;
        struct store_send req = {
            op->target, op->user_id, op->device_id, op->client_id, se,
            op->n_envs, queued_max,  op->att_ids,   op->n_att,     op->now + retention_ms};

        op->rc = store_message_send(ctx, &req, op->now, &op->res);
    } else {
        op->rc = store_message_edit(ctx, op->user_id, op->device_id, op->target, se, op->n_envs,
                                    queued_max, op->now, &op->res);
    }
out:
    for (size_t i = 0; i < op->n_envs; i++)
        free(bufs[i]);
    free(bufs);
    free(se);
}

/* --- fan-out (loop thread, after the commit) -------------------------------------------- */

static const struct msg_env *msg_env_for(const struct msg_op *op, const char *device_id)
{
    for (size_t i = 0; i < op->n_envs; i++)
        if (!strcmp(op->envs[i].device_id, device_id))
            return &op->envs[i];
    return NULL;
}

static void msg_fanout(struct msg_op *op)
{
    struct realtime *rt = op->rt;
    json_t *base;

    if (!op->res.n_fanout)
        return;
    base = op->kind == MSG_DELETE ? NULL : forms_message(&op->res.message);
    for (size_t i = 0; i < op->res.n_fanout; i++) {
        const struct store_fanout *f = &op->res.fanout[i];
        json_t *d;
        size_t len;
        char *txt;

        if (op->kind == MSG_DELETE) {
            d = json_pack("{s:s, s:s, s:o, s:I}", "id", op->res.message.id, "conversationId",
                          op->res.message.conversation_id, "deletedAt",
                          api_time_json(op->res.message.deleted_at), "seq", (json_int_t)f->seq);
            txt = wsp_render("message:deleted", d, &len);
        } else {
            const struct msg_env *e = msg_env_for(op, f->device_id);

            d = json_copy(base);
            json_object_set_new(d, "status", json_string("sent"));
            if (e)
                json_object_set_new(
                    d, "envelope",
                    json_pack("{s:s, s:s%}", "type",
                              e->type == STORE_ENVELOPE_PREKEY ? "prekey" : "message", "ciphertext",
                              e->b64, e->b64_len));
            json_object_set_new(d, "seq", json_integer(f->seq));
            txt = wsp_render(op->kind == MSG_SEND ? "message:new" : "message:edited", d, &len);
        }
        rt->bus_ops->to_device(rt->bus, f->device_id, f->seq, txt, len);
        free(txt);
    }
    json_decref(base);
}

static void msg_read_receipts(struct msg_op *op)
{
    struct store_read_result *r = &op->read;
    size_t len;
    char *txt;

    if (!r->moved)
        return;
    txt = wsp_render("message:read",
                     json_pack("{s:s, s:s, s:s, s:o}", "messageId", r->message_id, "conversationId",
                               r->conversation_id, "userId", r->reader_id, "readAt",
                               api_time_json(r->read_at)),
                     &len);
    if (!r->blocked && !r->withheld)
        op->rt->bus_ops->to_user(op->rt->bus, r->other_id, NULL, txt, len);
    op->rt->bus_ops->to_user(op->rt->bus, r->reader_id, op->device_id, txt, len);
    free(txt);
}

static json_t *msg_mismatch_details(const struct store_message_result *res)
{
    json_t *missing = json_array(), *extra = json_array();

    for (size_t i = 0; i < res->n_missing; i++)
        json_array_append_new(missing, json_string(res->missing[i]));
    for (size_t i = 0; i < res->n_extra; i++)
        json_array_append_new(extra, json_string(res->extra[i]));
    return json_pack("{s:o, s:o}", "missing", missing, "extra", extra);
}

/* The job's result from the op's (worker, or the loop after a group commit). */
static void msg_result(struct job *j)
{
    struct msg_op *op = j->extra;
    struct api_error e;
    json_t *details = NULL;

    if (op->bad_b64) {
        job_invalid(j, "envelopes.ciphertext", "bad_base64");
        return;
    }
    if (op->rc == STORE_OK) {
        switch (op->kind) {
        case MSG_SEND:
            job_ok(j, op->res.created ? 201 : 200, forms_message(&op->res.message));
            break;
        case MSG_EDIT: job_ok(j, 200, forms_message(&op->res.message)); break;
        case MSG_DELETE: job_success(j, 200); break;
        case MSG_READ:
            job_ok(j, 200,
                   op->ws ? json_pack("{s:s}", "messageId", op->target)
                          : json_pack("{s:b}", "success", 1));
            break;
        }
        return;
    }
    if (op->rc == STORE_MISMATCH)
        details = msg_mismatch_details(&op->res);
    else if (op->rc == STORE_INVALID && op->res.attachments_refused)
        details = api_details("attachmentIds", "invalid");
    else if (op->rc == STORE_INVALID)
        details = api_details("envelopes", "invalid");
    if (op->rc != STORE_NOT_FOUND && op->rc != STORE_FORBIDDEN && op->rc != STORE_MISMATCH)
        log_info("message.refused", "kind=%d result=%s", (int)op->kind, store_strerror(op->rc));
    e = api_store_error(op->rc);
    job_fail(j, e.status, e.code, e.message, details);
}

/* After a success, on the loop thread (also when the requester is gone: it is committed):
 * the events to every target device, or the read receipts. */
static void msg_after(struct job *j)
{
    struct msg_op *op = j->extra;

    if (op->kind == MSG_READ)
        msg_read_receipts(op);
    else if (op->kind == MSG_DELETE || op->res.created)
        msg_fanout(op);
    /* The first reply: the two are contacts now, presence and typing flow at once. */
    if (op->kind == MSG_SEND && op->res.contact_made)
        rt_contacts_changed(op->rt, op->user_id, op->res.other_id, true);
}

static void msg_job_work(struct store *st, struct job *j)
{
    msg_work(st, j->extra);
    msg_result(j);
}

static void msg_batch_run(struct store *st, struct rt_batch_item *it)
{
    msg_work(st, (struct msg_op *)(void *)it);
}

static void msg_batch_done(struct rt_batch_item *it, enum store_err commit)
{
    struct msg_op *op = (struct msg_op *)(void *)it;

    if (commit != STORE_OK && !op->bad_b64) {
        /* Nothing of the batch was stored: no answer but a retryable error. */
        store_message_result_free(&op->res);
        memset(&op->res, 0, sizeof(op->res));
        op->rc = STORE_BUSY;
    }
    msg_result(op->job);
    job_finish(op->job);
}

static void msg_op_job_free(void *op) { msg_op_free(op); }

/* Hands op to j and runs it: sends in the group commit, the rest as the job's work. */
static void msg_op_run(struct msg_op *op, struct job *j)
{
    op->job = j;
    op->now = clock_wall_ms();
    j->extra = op;
    j->extra_free = msg_op_job_free;
    j->after_success = msg_after;
    if (op->kind == MSG_SEND)
        rt_batch_add(op->rt, &op->bi, msg_batch_run, msg_batch_done);
    else
        job_submit(j, msg_job_work);
}

void msg_op_submit_http(struct msg_op *op, struct http_req *req)
{
    struct job *j = job_new_caller(req, op->rt, NULL);

    if (!j) {
        msg_op_free(op);
        return;
    }
    msg_op_run(op, j);
}

static void msg_op_submit_ws(struct msg_op *op, struct rtconn *s, const char *req_id)
{
    op->ws = true;
    msg_op_run(op, wsp_job(s, req_id));
}

/* --- WebSocket entry points ----------------------------------------------------------- */

/* The id a WebSocket event names (a malformed one is "wrong_type", as it always was). */
static const struct field_spec msg_conversation_field[] = {
    {"conversationId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
};
static const struct field_spec msg_message_field[] = {
    {"messageId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
};

static void messaging_ws_send(struct rtconn *s, json_t *data, const char *req_id)
{
    struct field_value conv;
    const char *field, *reason;
    struct msg_op *op;
    int status;

    if (wsp_fields(s, req_id, data, msg_conversation_field, 1, &conv, 1))
        return;
    op = msg_op_new(s->rt, MSG_SEND, s->user_id, s->device_id, conv.str);
    if (msg_op_body(op, data, &status, &field, &reason)) {
        wsp_error(s, req_id, status == 413 ? "payload_too_large" : "validation_failed",
                  status == 413 ? "An envelope is larger than 64 KiB." : API_VALIDATION_MESSAGE,
                  api_details(field, reason));
        msg_op_free(op);
        return;
    }
    msg_op_submit_ws(op, s, req_id);
}

static void messaging_ws_read(struct rtconn *s, json_t *data, const char *req_id)
{
    struct field_value mid;

    if (wsp_fields(s, req_id, data, msg_message_field, 1, &mid, 1))
        return;
    msg_op_submit_ws(msg_op_new(s->rt, MSG_READ, s->user_id, s->device_id, mid.str), s, req_id);
}

/* The body of message:send is bounded by the frame (WS_MAX_FRAME) and, inside it, by
 * msg_op_body (envelopes, each ciphertext); both take an in-flight slot (the batch, the pool). */
static const struct wsp_event messaging_rows[] = {
    {"message:read", messaging_ws_read, .needs_id = false, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
    {"message:send", messaging_ws_send, .needs_id = false, .before_auth = false, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
};
const struct wsp_events messaging_ws_events = WSP_EVENTS(messaging_rows);
