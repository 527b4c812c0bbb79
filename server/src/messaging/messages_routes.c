/* Messages over REST (api.md, Messages): send into a conversation, history with UUIDv7
 * cursors, edit and delete (sender only), read cursor. Send, edit, delete and read share
 * their implementation with the WebSocket (messaging.c). */
#include <stdlib.h>
#include <string.h>

#include "base/server.h"
#include "messaging/messaging.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "store/messages.h"

#define MSG_BODY_MAX (STORE_ENVELOPES_MAX * (88 * 1024))

static bool msg_id_param(struct http_req *req, const char *name, char out[RT_ID_SIZE])
{
    const char *v = http_param(req, name);

    if (!v || !api_is_uuid(v)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        return false;
    }
    memcpy(out, v, RT_ID_SIZE);
    return true;
}

/* Message writes over REST are limited per device like frames on /ws: one account wrote
 * 3,000 messages (185 MB) in 20 s over REST before. True if answered 429. */
static bool msg_rest_limited(struct http_req *req, struct realtime *rt, const char *device)
{
    uint32_t retry = 1;

    if (!ratelimit_take(rt->limits, &rt->rest_write_rule, device, strlen(device), clock_mono_ms(),
                        &retry))
        return false;
    http_respond_rate_limited(req, "rate_limited", retry);
    return true;
}

static void msg_op_http(struct http_req *req, struct realtime *rt, enum msg_kind kind,
                        const char *param, bool has_body)
{
    const struct auth_identity *who = http_auth(req);
    char target[RT_ID_SIZE];
    const char *field, *reason;
    struct msg_op *op;
    int status;

    if (!who) {
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        return;
    }
    if (!msg_id_param(req, param, target) || msg_rest_limited(req, rt, who->device_id))
        return;
    op = msg_op_new(rt, kind, who->user_id, who->device_id, target);
    if (has_body && msg_op_body(op, http_json(req), &status, &field, &reason)) {
        http_respond_error(req, status, status == 413 ? "payload_too_large" : "validation_failed",
                           status == 413 ? "An envelope is larger than 64 KiB."
                                         : API_VALIDATION_MESSAGE,
                           api_details(field, reason));
        msg_op_free(op);
        return;
    }
    msg_op_submit_http(op, req);
}

static void msg_send(struct http_req *req, void *arg)
{
    msg_op_http(req, arg, MSG_SEND, "id", true);
}

static void msg_edit(struct http_req *req, void *arg)
{
    msg_op_http(req, arg, MSG_EDIT, "id", true);
}

static void msg_delete(struct http_req *req, void *arg)
{
    msg_op_http(req, arg, MSG_DELETE, "id", false);
}

static void msg_read(struct http_req *req, void *arg)
{
    msg_op_http(req, arg, MSG_READ, "id", false);
}

/* GET /api/conversations/:id/messages?limit=50&before=<messageId> */
static void msg_history_work(struct store *st, struct job *j)
{
    struct store_message *list = NULL;
    size_t n = 0;
    bool more = false;
    json_t *arr;

    enum store_err rc = store_message_history(st, j->who.user_id, j->who.device_id, j->arg,
                                              j->text[0] ? j->text : NULL, j->n1, &list, &n, &more);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "message_history");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, forms_message(&list[i]));
    store_messages_free(list, n);
    job_ok(j, 200, json_pack("{s:o, s:b}", "messages", arr, "hasMore", more));
}

static void msg_history(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, arg, "id");
    bool bad = false;
    char before[64];
    int n;

    if (!j)
        return;
    if (!api_is_uuid(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        goto fail;
    }
    j->n1 = api_query_int(req, "limit", 50, 1, STORE_HISTORY_MAX, &bad);
    if (bad) {
        http_respond_error(req, 400, "validation_failed", "limit is 1 to 100.",
                           api_details("limit", "out_of_range"));
        goto fail;
    }
    n = http_query(req, "before", before, sizeof(before));
    if (n >= 0) {
        if (!api_is_uuid(before)) {
            http_respond_error(req, 400, "validation_failed", "before is a message id.",
                               api_details("before", "wrong_type"));
            goto fail;
        }
        memcpy(j->text, before, RT_ID_SIZE);
    }
    job_submit(j, msg_history_work);
    return;
fail:
    job_free(j);
}

int messages_routes(struct server *srv)
{
    const struct route routes[] = {
        {HTTP_POST, "/api/conversations/:id/messages", msg_send, srv->rt, MSG_BODY_MAX,
         ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/conversations/:id/messages", msg_history, srv->rt, 0, ROUTE_AUTH},
        {HTTP_PATCH, "/api/messages/:id", msg_edit, srv->rt, MSG_BODY_MAX, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_DELETE, "/api/messages/:id", msg_delete, srv->rt, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/messages/:id/read", msg_read, srv->rt, 0, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
