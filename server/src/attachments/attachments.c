/* The attachments room (attachments.h): its state, its route rows and its lifetime. */
#include "attachments/attachments.h"

#include <stdlib.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/server.h"

void att_tus_options(struct http_req *req, void *arg);
void att_create(struct http_req *req, void *arg);
void att_head(struct http_req *req, void *arg);
void att_delete(struct http_req *req, void *arg);

static ratelimit_rule att_rule(const char *name, const char *setting, long cap, long period)
{
    if (setting)
        config_bucket_parse(setting, &cap, &period); /* checked at start */
    return (ratelimit_rule){name, (uint32_t)cap, (uint32_t)period};
}

static struct attachments *att_create_room(struct server *srv)
{
    struct attachments *a = calloc(1, sizeof(*a));

    if (!a)
        abort();
    a->srv = srv;
    a->blobs = srv->blobs;
    a->limits = ratelimit_create((size_t)srv->cfg->rate_limit_table);
    if (!a->limits) {
        free(a);
        return NULL;
    }
    a->create_rule = att_rule("attachment_create", srv->cfg->rl_attachments, 60, 60);
    log_info("attachments.start", "blobs=%s max=%ld quota=%ld", a->blobs->ops->name,
             srv->cfg->attachment_max_bytes, srv->cfg->attachment_quota_bytes);
    return a;
}

int attachments_routes(struct server *srv)
{
    struct attachments *a = NULL;
    size_t max = srv->cfg ? (size_t)srv->cfg->attachment_max_bytes : 1;

    if (srv->blobs && srv->lws && !(a = att_create_room(srv)))
        return -1;
    srv->attachments = a;
    /* HEAD before GET: the router answers HEAD with a GET route otherwise. */
    const struct route routes[] = {
        {HTTP_OPTIONS, "/api/attachments", att_tus_options, a, 0, ROUTE_AUTH},
        {HTTP_POST, "/api/attachments", att_create, a, 0, ROUTE_AUTH},
        {HTTP_HEAD, "/api/attachments/:id", att_head, a, 0, ROUTE_AUTH},
        {HTTP_PATCH, "/api/attachments/:id", att_patch, a, max, ROUTE_AUTH | ROUTE_STREAM},
        {HTTP_GET, "/api/attachments/:id", att_download, a, 0, ROUTE_AUTH},
        {HTTP_DELETE, "/api/attachments/:id", att_delete, a, 0, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    if (a) {
        att_reconcile_start(a);
        att_sweep_start(a);
    }
    return 0;
}

void attachments_stop(struct server *srv)
{
    struct attachments *a = srv->attachments;

    if (!a)
        return;
    a->stopping = true;
    lws_sul_cancel(&a->sweep);
}

void attachments_blobs_remove(struct server *srv, const char (*ids)[STORE_ID_SIZE], size_t n)
{
    struct attachments *a = srv->attachments;

    for (size_t i = 0; srv->blobs && i < n; i++) {
        enum blob_err be = blob_remove(srv->blobs, ids[i]);

        if (be == BLOB_OK || be == BLOB_NOT_FOUND)
            continue;
        /* The row is gone: the next start's reconciliation removes what is left. */
        log_warn("attachments.remove", "id=%s blob=%s", ids[i], blob_strerror(be));
        if (a)
            att_count(&a->store_errors, 1);
    }
}

void attachments_metrics(void *arg, uint64_t *bytes_in, uint64_t *bytes_out, uint64_t *uploads,
                         uint64_t *store_errors)
{
    const struct server *srv = arg;
    struct attachments *a = srv->attachments;

    *bytes_in = a ? __atomic_load_n(&a->bytes_in, __ATOMIC_RELAXED) : 0;
    *bytes_out = a ? __atomic_load_n(&a->bytes_out, __ATOMIC_RELAXED) : 0;
    *store_errors = a ? __atomic_load_n(&a->store_errors, __ATOMIC_RELAXED) : 0;
    *uploads = a ? att_transfers_of(a, NULL) : 0;
}

void attachments_destroy(struct server *srv)
{
    struct attachments *a = srv->attachments;

    if (!a)
        return;
    ratelimit_destroy(a->limits);
    free(a);
    srv->attachments = NULL;
}
