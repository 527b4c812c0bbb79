/* GET /api/conversations/:id/calls?limit=&before=: a conversation's calls, newest first, as
 * its participants see them (404 to anyone else, as for every conversation route). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/server.h"
#include "calls/internal.h"

#define HISTORY_DEFAULT 50

static json_t *history_call(const struct store_call *c)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "id", c->id, "callerId", c->caller_id,
                          "callType", c->video ? "video" : "audio", "startedAt",
                          api_time_json(c->started_at), "duration", (json_int_t)c->duration);

    if (c->answered_at)
        json_object_set_new(o, "answeredAt", api_time_json(c->answered_at));
    if (c->ended_at)
        json_object_set_new(o, "endedAt", api_time_json(c->ended_at));
    if (c->reason != STORE_CALL_ONGOING) /* a call still ringing or active has none yet */
        json_object_set_new(o, "reason", json_string(store_call_reason_name(c->reason)));
    return o;
}

static void history_work(struct store *st, struct job *j)
{
    struct store_call *list = NULL;
    size_t n = 0;
    bool more = false;
    json_t *arr;
    enum store_err rc = store_call_history(st, j->who.user_id, j->arg, j->text[0] ? j->text : NULL,
                                           j->n1, &list, &n, &more);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "call_history");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, history_call(&list[i]));
    free(list);
    job_ok(j, 200, json_pack("{s:o, s:b}", "calls", arr, "hasMore", more));
}

static void history(struct http_req *req, void *arg)
{
    struct job *j = job_new_caller(req, NULL, "id");
    char before[64];
    bool bad = false;

    (void)arg;
    if (!j)
        return;
    if (!api_is_uuid(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        goto fail;
    }
    j->n1 = api_query_int(req, "limit", HISTORY_DEFAULT, 1, STORE_CALLS_PAGE_MAX, &bad);
    if (bad) {
        http_respond_error(req, 400, "validation_failed", "limit is 1 to 100.",
                           api_details("limit", "out_of_range"));
        goto fail;
    }
    if (http_query(req, "before", before, sizeof(before)) >= 0) {
        if (!api_is_uuid(before)) {
            http_respond_error(req, 400, "validation_failed", "before is a call id.",
                               api_details("before", "wrong_type"));
            goto fail;
        }
        memcpy(j->text, before, BUS_ID_SIZE);
    }
    job_submit(j, history_work);
    return;
fail:
    job_free(j);
}

int calls_history_routes(struct server *srv, struct calls *c)
{
    const struct route r = {HTTP_GET, "/api/conversations/:id/calls", history, c, 0, ROUTE_AUTH};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
