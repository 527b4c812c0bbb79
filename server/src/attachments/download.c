/* GET /api/attachments/:id: a finished upload's ciphertext, whole (200) or one byte range
 * (206, "Range: bytes=a-b", "a-" or "-n"). Allowed to the uploader and, once sent, to the
 * participants of its message's conversation unless a block stands between them and the
 * uploader (store_attachment_readable). Everyone else gets 404. The body is read ATT_BUFFER bytes
 * at a time into one buffer by a worker as the socket takes it (http_respond_source), so a
 * slow reader holds that buffer, never the file. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"

struct att_reader {
    struct attachments *a;
    struct http_req *req;
    char id[STORE_ID_SIZE];
    uint64_t pos, end; /* the next byte to read; one past the last */
    char *buf;
    size_t got;
    enum blob_err err;
};

/* Parses a single range of a size-byte blob into [*first, *last]: 1 when it is one, 0 when
 * there is none or it is not one this server serves (a list, another unit: the whole blob is
 * sent, as RFC 9110 allows), -1 when it cannot be satisfied (416). */
static int range_parse(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
    char *e;
    unsigned long long a, b;

    if (strncmp(v, "bytes=", 6) || strchr(v, ','))
        return 0;
    v += 6;
    if (*v == '-') { /* the last n bytes */
        if (v[1] < '0' || v[1] > '9')
            return 0;
        b = strtoull(v + 1, &e, 10);
        if (*e)
            return 0;
        if (!b || !size)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (*v < '0' || *v > '9')
        return 0;
    a = strtoull(v, &e, 10);
    if (*e != '-')
        return 0;
    v = e + 1;
    b = size ? size - 1 : 0;
    if (*v) {
        if (*v < '0' || *v > '9')
            return 0;
        b = strtoull(v, &e, 10);
        if (*e || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

static void reader_free(void *arg)
{
    struct att_reader *r = arg;

    free(r->buf);
    free(r);
}

static void reader_work(void *ctx, void *arg)
{
    struct att_reader *r = arg;
    uint64_t want = r->end - r->pos;

    (void)ctx;
    r->got = 0;
    r->err = blob_read(r->a->blobs, r->id, r->pos, r->buf,
                       want > ATT_BUFFER ? ATT_BUFFER : (size_t)want, &r->got);
}

static void reader_done(void *arg)
{
    struct att_reader *r = arg;
    char *piece = NULL;

    if (r->err == BLOB_OK && r->got) {
        piece = r->buf; /* lent to the request until it asks again */
        r->pos += r->got;
        att_count(&r->a->bytes_out, r->got);
    } else {
        att_count(&r->a->store_errors, 1);
        log_warn("attachments.read", "id=%s err=%s got=%zu", r->id, blob_strerror(r->err), r->got);
    }
    http_source_give(r->req, piece, piece ? r->got : 0); /* may free r */
}

/* The socket took the last piece: read the next one. */
static void reader_next(struct http_req *req, void *arg)
{
    struct att_reader *r = arg;

    r->req = req;
    if (r->a->stopping || pool_submit(r->a->srv->pool, reader_work, reader_done, r))
        http_source_give(req, NULL, 0); /* the pool is full: cut short, the client retries */
}

static void download_respond(struct job *j, struct http_req *req)
{
    struct att_reader *r = calloc(1, sizeof(*r));
    uint64_t size = (uint64_t)j->n2, first = 0, last = size ? size - 1 : 0;
    char range[96], etag[48];
    int ranged = j->text[0] ? range_parse(j->text, size, &first, &last) : 0;

    snprintf(etag, sizeof(etag), "\"%.36s\"", j->arg);
    http_add_header(req, "accept-ranges", "bytes");
    http_add_header(req, "cache-control", "private, no-store");
    if (ranged < 0) {
        free(r);
        snprintf(range, sizeof(range), "bytes */%" PRIu64, size);
        http_add_header(req, "content-range", range);
        http_respond_error(req, 416, "range_not_satisfiable", "The range is not in the file.",
                           NULL);
        return;
    }
    http_add_header(req, "etag", etag);
    if (!size) {
        free(r);
        http_respond(req, 200, "application/octet-stream", "", 0);
        return;
    }
    if (!r || !(r->buf = malloc(ATT_BUFFER)))
        abort();
    r->a = j->extra;
    snprintf(r->id, sizeof(r->id), "%.36s", j->arg);
    r->pos = first;
    r->end = last + 1;
    if (ranged) {
        snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
        http_add_header(req, "content-range", range);
    }
    http_respond_source(req, ranged ? 206 : 200, "application/octet-stream", last + 1 - first,
                        reader_next, r, reader_free);
}

static void download_work(struct store *s, struct job *j)
{
    struct attachments *a = j->extra;
    struct store_attachment row;
    enum store_err rc = store_attachment_readable(s, j->arg, j->who.user_id, j->now, &row);
    uint64_t size;

    if (rc == STORE_OK && row.offset != row.length)
        rc = STORE_NOT_FOUND; /* not uploaded yet: nothing to serve */
    if (rc != STORE_OK) {
        job_store_error(j, rc, "attachment_readable");
        return;
    }
    if (blob_size(a->blobs, j->arg, &size) != BLOB_OK || size != (uint64_t)row.length) {
        log_warn("attachments.missing", "rid=%s id=%s", j->rid, j->arg);
        att_count(&a->store_errors, 1);
        job_error(j, 404, "not_found", "Not found.");
        return;
    }
    j->n2 = row.length;
    job_respond(j, 200, download_respond);
}

void att_download(struct http_req *req, void *arg)
{
    struct job *j = att_job(req);

    if (!j)
        return;
    /* A Range too long to be one this server serves is ignored: the whole file goes. */
    if (http_header(req, "range", j->text, sizeof(j->text)) < 0)
        j->text[0] = 0;
    j->extra = arg; /* borrowed: the room outlives the pool */
    job_submit(j, download_work);
}
