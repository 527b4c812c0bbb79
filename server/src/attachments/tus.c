/* The tus 1.0.0 requests that carry no body: OPTIONS (what this server speaks), POST
 * (creation), HEAD (where an upload stands, to resume) and DELETE (termination). PATCH is
 * upload.c, GET download.c. Upload-Metadata is accepted and ignored: a file's name and type
 * travel inside the message's ciphertext, never here. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/server.h"

void att_tus_options(struct http_req *req, void *arg);
void att_create(struct http_req *req, void *arg);
void att_head(struct http_req *req, void *arg);
void att_delete(struct http_req *req, void *arg);

void att_tus_headers(struct http_req *req)
{
    http_add_header(req, "tus-resumable", ATT_TUS_VERSION);
    http_add_header(req, "cache-control", "no-store");
}

int att_header_u64(struct http_req *req, const char *name, int64_t *out)
{
    char v[24];
    int n = http_header(req, name, v, sizeof(v));
    int64_t x = 0;

    if (n <= 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (INT64_C(1) << 53) / 10)
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

struct job *att_job(struct http_req *req)
{
    struct job *j = job_new_caller(req, NULL, "id");

    if (j && !api_is_uuid(j->arg)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        job_free(j);
        return NULL;
    }
    return j;
}

/* --- OPTIONS ---------------------------------------------------------------------------- */

static void options_respond(struct job *j, struct http_req *req)
{
    char max[24];

    snprintf(max, sizeof(max), "%" PRId64, j->n1);
    http_add_header(req, "tus-version", ATT_TUS_VERSION);
    http_add_header(req, "tus-extension", "creation,termination,expiration");
    http_add_header(req, "tus-max-size", max);
    att_tus_headers(req);
    http_respond(req, 204, NULL, "", 0);
}

void att_tus_options(struct http_req *req, void *arg)
{
    struct attachments *a = arg;
    struct job *j = job_new_caller(req, NULL, NULL);

    if (!j)
        return;
    j->n1 = a->srv->cfg->attachment_max_bytes;
    job_respond(j, 204, options_respond);
    job_finish(j);
}

/* --- POST: creation --------------------------------------------------------------------- */

/* An RFC 9110 date (Upload-Expires). */
static void att_http_date(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void create_respond(struct job *j, struct http_req *req)
{
    char loc[64], expires[40];

    snprintf(loc, sizeof(loc), "/api/attachments/%.36s", j->text);
    att_http_date(j->n2, expires, sizeof(expires));
    http_add_header(req, "location", loc);
    http_add_header(req, "upload-expires", expires);
    att_tus_headers(req);
    http_respond(req, 201, NULL, "", 0);
}

static void create_work(struct store *s, struct job *j)
{
    struct attachments *a = j->extra;
    struct store_attachment row = {.length = j->n1, .created_at = j->now};
    enum store_err rc;

    store_uuid_v4(row.id);
    memcpy(row.owner_id, j->who.user_id, sizeof(row.owner_id));
    row.expires_at = j->now + ATT_EXPIRY_MS;
    rc = store_attachment_create(s, &row, a->srv->cfg->attachment_quota_bytes);
    if (rc != STORE_OK) {
        job_store_error(j, rc, "attachment_create");
        return;
    }
    /* The partial blob exists from the start, so a PATCH only ever appends. */
    if (blob_begin(a->blobs, row.id) != BLOB_OK) {
        store_attachment_delete(s, row.id, row.owner_id);
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        return;
    }
    snprintf(j->text, sizeof(j->text), "%.36s", row.id);
    j->n2 = row.expires_at;
    job_respond(j, 201, create_respond);
}

void att_create(struct http_req *req, void *arg)
{
    struct attachments *a = arg;
    struct job *j = job_new_caller(req, NULL, NULL);
    uint32_t retry;

    if (!j)
        return;
    if (att_header_u64(req, "upload-length", &j->n1)) {
        http_respond_error(req, 400, "validation_failed", API_VALIDATION_MESSAGE,
                           api_details("Upload-Length", "missing"));
        goto fail;
    }
    if (j->n1 > a->srv->cfg->attachment_max_bytes) {
        http_respond_error(req, 413, "payload_too_large", "The file is too large.", NULL);
        goto fail;
    }
    if (ratelimit_take(a->limits, &a->create_rule, j->who.user_id, strlen(j->who.user_id),
                       clock_mono_ms(), &retry)) {
        http_respond_rate_limited(req, "rate_limited", retry);
        goto fail;
    }
    j->extra = a; /* borrowed: the room outlives the pool */
    job_submit(j, create_work);
    return;
fail:
    job_free(j);
}

/* --- HEAD: where an upload stands ------------------------------------------------------- */

static void head_respond(struct job *j, struct http_req *req)
{
    char off[24], len[24];

    snprintf(off, sizeof(off), "%" PRId64, j->n1);
    snprintf(len, sizeof(len), "%" PRId64, j->n2);
    http_add_header(req, "upload-offset", off);
    http_add_header(req, "upload-length", len);
    att_tus_headers(req);
    http_respond(req, 200, NULL, "", 0);
}

static void head_work(struct store *s, struct job *j)
{
    struct store_attachment row;
    enum store_err rc = store_attachment_get(s, j->arg, j->who.user_id, j->now, &row);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "attachment_get");
        return;
    }
    j->n1 = row.offset;
    j->n2 = row.length;
    job_respond(j, 200, head_respond);
}

void att_head(struct http_req *req, void *arg)
{
    struct job *j = att_job(req);

    (void)arg;
    if (j)
        job_submit(j, head_work);
}

/* --- DELETE: termination ---------------------------------------------------------------- */

static void delete_respond(struct job *j, struct http_req *req)
{
    (void)j;
    att_tus_headers(req);
    http_respond(req, 204, NULL, "", 0);
}

static void delete_work(struct store *s, struct job *j)
{
    struct attachments *a = j->extra;
    enum store_err rc = store_attachment_delete(s, j->arg, j->who.user_id);
    enum blob_err be;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "attachment_delete");
        return;
    }
    /* The row went first: a crash here leaves a blob no row names, which the reconciliation
     * at start removes (reconcile.c), never a row without its bytes. */
    be = blob_remove(a->blobs, j->arg);
    if (be != BLOB_OK && be != BLOB_NOT_FOUND)
        log_warn("attachments.delete", "rid=%s blob=%s", j->rid, blob_strerror(be));
    job_respond(j, 204, delete_respond);
}

void att_delete(struct http_req *req, void *arg)
{
    struct attachments *a = arg;
    struct job *j = att_job(req);

    if (!j)
        return;
    if (att_busy(a, j->arg)) {
        http_respond_error(req, 409, "conflict", "The upload is being written; try again.", NULL);
        job_free(j);
        return;
    }
    j->extra = a;
    job_submit(j, delete_work);
}
