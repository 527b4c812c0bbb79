/* Conversations over REST (api.md, Conversations): list (most recently active first, with
 * total and unread counts), create-or-get the direct conversation of a pair (201 new, 200
 * existing; conversation:new to the other side), get, leave (conversation:removed to the
 * leaver's other devices), accept a message request (conversation:accepted to the caller's
 * other devices), participants. Non-participants get 404 for everything. */
#include <stdlib.h>
#include <string.h>

#include "base/server.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "store/conversations.h"

#define CONV_LIST_DEFAULT 20
#define CONV_LIST_MAX 100

/* Most of these take a conversation id: anything but a UUID cannot name one. */
static struct job *conv_job(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, arg, "id");

    if (j && !api_is_uuid(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        job_free(j);
        return NULL;
    }
    return j;
}

/* GET /api/conversations?limit=&offset= */
static void conv_list_work(struct store *st, struct job *j)
{
    struct store_conversation *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    json_t *arr;

    enum store_err rc =
        store_conversation_list(st, j->who.user_id, j->n1, j->n2, &list, &n, &total);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "conversation_list");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, forms_conversation(&list[i]));
    store_conversations_free(list, n);
    job_ok(j, 200, json_pack("{s:o, s:I}", "conversations", arr, "total", (json_int_t)total));
}

static void conv_list(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, arg, NULL);
    bool bad = false;

    if (!j)
        return;
    j->n1 = api_query_int(req, "limit", CONV_LIST_DEFAULT, 1, CONV_LIST_MAX, &bad);
    if (bad) {
        http_respond_error(req, 400, "validation_failed", "limit is 1 to 100.",
                           api_details("limit", "out_of_range"));
        job_free(j);
        return;
    }
    j->n2 = api_query_int(req, "offset", 0, 0, INT32_MAX, &bad);
    if (bad) {
        http_respond_error(req, 400, "validation_failed", "offset is 0 or more.",
                           api_details("offset", "out_of_range"));
        job_free(j);
        return;
    }
    job_submit(j, conv_list_work);
}

/* POST /api/conversations {participantId} */
static void conv_create_work(struct store *st, struct job *j)
{
    struct store_conversation c = {0};
    bool created = false;

    enum store_err rc =
        store_conversation_direct(st, j->who.user_id, j->text, j->now, &c, &created);

    if (rc == STORE_INVALID) {
        job_fail(j, 400, "validation_failed", "A conversation needs another user.",
                 api_details("participantId", "self"));
        return;
    }
    if (rc != STORE_OK) {
        job_store_error(j, rc, "conversation_direct"); /* 403 forbidden for a block */
        return;
    }
    job_ok(j, created ? 201 : 200, forms_conversation(&c));
    store_conversation_free(&c);
}

/* A new conversation appears on the other side's devices and the creator's others. */
static void conv_create_after(struct job *j)
{
    struct realtime *rt = j->rt;
    json_t *c;
    size_t len;
    char *f;

    if (j->status != 201 || !j->extra)
        return;
    c = j->extra; /* a copy of the answer, made on the worker */
    j->extra = NULL;
    /* The other side's view: new to them, so not accepted, and a request (we started it). */
    json_object_set_new(c, "unreadCount", json_integer(0));
    json_object_set_new(c, "accepted", json_false());
    json_object_set_new(c, "request", json_true());
    f = wsp_render("conversation:new", json_pack("{s:o}", "conversation", c), &len);
    rt->bus_ops->to_user(rt->bus, j->text, NULL, f, len);
    rt->bus_ops->to_user(rt->bus, j->who.user_id, j->who.device_id, f, len);
    free(f);
}

static void conv_json_free(void *p) { json_decref(p); }

static void conv_create_done_copy(struct store *st, struct job *j)
{
    conv_create_work(st, j);
    if (j->out && j->status == 201) {
        j->extra = json_deep_copy(j->out);
        j->extra_free = conv_json_free;
    }
}

static void conv_create(struct http_req *req, void *arg)
{
    /* A malformed id was always "wrong_type". */
    static const struct field_spec rows[] = {
        {"participantId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG,
         .as_invalid = "wrong_type"},
    };
    struct job *j = job_new_caller(req, arg, NULL);
    struct field_value p;

    if (!j)
        return;
    if (job_fields(j, j->body, rows, 1, &p, 1)) {
        job_finish(j);
        return;
    }
    snprintf(j->text, sizeof(j->text), "%s", p.str);
    j->after_success = conv_create_after;
    job_submit(j, conv_create_done_copy);
}

/* GET /api/conversations/:id */
static void conv_get_work(struct store *st, struct job *j)
{
    struct store_conversation c = {0};

    enum store_err rc = store_conversation_get(st, j->who.user_id, j->arg, &c);

    job_result(j, rc, rc == STORE_OK ? forms_conversation(&c) : NULL, "conversation_get");
    store_conversation_free(&c);
}

static void conv_get(struct http_req *req, void *arg)
{
    struct job *j = conv_job(req, arg);

    if (j)
        job_submit(j, conv_get_work);
}

/* DELETE /api/conversations/:id */
static void conv_leave_work(struct store *st, struct job *j)
{
    enum store_err rc = store_conversation_leave(st, j->who.user_id, j->arg, j->now);

    job_result(j, rc, json_pack("{s:b}", "success", 1), "conversation_leave");
}

static void conv_leave_after(struct job *j)
{
    size_t len;
    char *f =
        wsp_render("conversation:removed", json_pack("{s:s}", "conversationId", j->arg), &len);

    j->rt->bus_ops->to_user(j->rt->bus, j->who.user_id, j->who.device_id, f, len);
    free(f);
}

static void conv_leave(struct http_req *req, void *arg)
{
    struct job *j = conv_job(req, arg);

    if (!j)
        return;
    j->after_success = conv_leave_after;
    job_submit(j, conv_leave_work);
}

/* POST /api/conversations/:id/accept: a message request accepted (as a first reply would). */
static void conv_accept_work(struct store *st, struct job *j)
{
    struct store_conversation c = {0};
    struct store_accept_result *res = calloc(1, sizeof(*res));

    if (!res)
        abort();
    enum store_err rc = store_conversation_accept(st, j->who.user_id, j->arg, &c, res);

    j->extra = res;
    j->extra_free = free;
    job_result(j, rc, rc == STORE_OK ? forms_conversation(&c) : NULL, "conversation_accept");
    store_conversation_free(&c);
}

/* The read receipt the request held back goes to the other side now (as message:read). */
static void conv_accept_receipt(struct job *j, const struct store_accept_result *res)
{
    size_t len;
    char *f = wsp_render("message:read",
                         json_pack("{s:s, s:s, s:s, s:o}", "messageId", res->read_message_id,
                                   "conversationId", j->arg, "userId", j->who.user_id, "readAt",
                                   api_time_json(res->read_at)),
                         &len);

    j->rt->bus_ops->to_user(j->rt->bus, res->other_id, NULL, f, len);
    free(f);
}

/* Becoming contacts shows each side's presence to the other, a withheld read receipt is
 * told, and the caller's other devices see the conversation accepted. */
static void conv_accept_after(struct job *j)
{
    const struct store_accept_result *res = j->extra;
    size_t len;
    char *f;

    if (res && res->contact_made)
        rt_contacts_changed(j->rt, j->who.user_id, res->other_id, true);
    if (res && res->receipt)
        conv_accept_receipt(j, res);
    f = wsp_render("conversation:accepted", json_pack("{s:s}", "conversationId", j->arg), &len);
    j->rt->bus_ops->to_user(j->rt->bus, j->who.user_id, j->who.device_id, f, len);
    free(f);
}

static void conv_accept(struct http_req *req, void *arg)
{
    struct job *j = conv_job(req, arg);

    if (!j)
        return;
    j->after_success = conv_accept_after;
    job_submit(j, conv_accept_work);
}

/* GET /api/conversations/:id/participants */
static void conv_participants_work(struct store *st, struct job *j)
{
    struct store_participant *p = NULL;
    size_t n = 0;

    enum store_err rc = store_conversation_participants(st, j->who.user_id, j->arg, &p, &n);
    json_t *arr;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "conversation_participants");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, forms_participant(&p[i]));
    store_participants_free(p, n);
    job_ok(j, 200, arr);
}

static void conv_participants(struct http_req *req, void *arg)
{
    struct job *j = conv_job(req, arg);

    if (j)
        job_submit(j, conv_participants_work);
}

int conversations_routes(struct server *srv)
{
    const struct route routes[] = {
        {HTTP_GET, "/api/conversations", conv_list, srv->rt, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/conversations", conv_create, srv->rt, 4096, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/conversations/:id", conv_get, srv->rt, 0, ROUTE_AUTH},
        {HTTP_DELETE, "/api/conversations/:id", conv_leave, srv->rt, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/conversations/:id/accept", conv_accept, srv->rt, 0, ROUTE_AUTH},
        {HTTP_GET, "/api/conversations/:id/participants", conv_participants, srv->rt, 0,
         ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
