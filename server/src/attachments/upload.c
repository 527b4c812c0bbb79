/* PATCH /api/attachments/:id: the bytes of an upload, streamed to the blob store.
 *
 * The request is checked at its headers (content type, Upload-Offset, the caller's upload at
 * that offset, room for the declared body), then its body is taken in pieces (net/http.h,
 * ROUTE_STREAM): they fill one buffer of ATT_BUFFER bytes while the other is written by a
 * worker; when both are full the socket is paused, so a fast client waits in TCP and a slow
 * one costs nothing but its connection. At the end of the body, or when the client goes, the
 * bytes received are synced and recorded (Upload-Offset), and a complete upload's blob is
 * finished; a resumed upload continues from there. One PATCH per upload at once (409). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"

#define ATT_CONTENT_TYPE "application/offset+octet-stream"

struct att_transfer {
    struct att_transfer *next;
    struct attachments *a;
    struct http_req *req; /* NULL once answered */
    char id[STORE_ID_SIZE], owner[STORE_ID_SIZE], rid[17];
    int64_t start, length; /* the recorded offset this PATCH began at; the upload's length */
    int64_t written;       /* bytes at the blob store (from start) */
    char *fill, *out;      /* filling from the socket; at a worker */
    size_t fill_len, out_len;
    bool writing, ended, last; /* a write at a worker; the body ended; that write is the last */
    /* the worker's result */
    enum blob_err berr;
    enum store_err serr;
};

bool att_busy(const struct attachments *a, const char *id)
{
    for (const struct att_transfer *t = a ? a->transfers : NULL; t; t = t->next)
        if (!strcmp(t->id, id))
            return true;
    return false;
}

size_t att_transfers_of(const struct attachments *a, const char *user_id)
{
    size_t n = 0;

    for (const struct att_transfer *t = a ? a->transfers : NULL; t; t = t->next)
        n += !user_id || !strcmp(t->owner, user_id);
    return n;
}

static void transfer_free(struct att_transfer *t)
{
    struct att_transfer **p = &t->a->transfers;

    while (*p && *p != t)
        p = &(*p)->next;
    if (*p)
        *p = t->next;
    free(t->fill);
    free(t->out);
    free(t);
}

/* --- the worker side -------------------------------------------------------------------- */

/* Writes the buffer at the worker; the last write also syncs, records the new offset and, for
 * a complete upload, finishes the blob. */
static void transfer_work(void *ctx, void *arg)
{
    struct att_transfer *t = arg;
    struct store *s = ctx;
    int64_t to;

    t->berr = t->out_len ? blob_write(t->a->blobs, t->id, (uint64_t)(t->start + t->written), t->out,
                                      t->out_len)
                         : BLOB_OK;
    if (t->berr == BLOB_OK) {
        t->written += (int64_t)t->out_len;
        att_count(&t->a->bytes_in, t->out_len);
    }
    if (!t->last || t->berr != BLOB_OK)
        return;
    to = t->start + t->written;
    t->berr = blob_sync(t->a->blobs, t->id);
    if (t->berr != BLOB_OK)
        return;
    if (!s) {
        t->serr = STORE_ERROR;
        return;
    }
    t->serr = to == t->start
                  ? STORE_OK
                  : store_attachment_advance(s, t->id, t->owner, t->start, to, clock_wall_ms());
    if (t->serr == STORE_OK && to == t->length)
        t->berr = blob_finish(t->a->blobs, t->id, (uint64_t)to);
}

/* --- the loop side ---------------------------------------------------------------------- */

static void transfer_done(void *arg);

static void transfer_answer(struct att_transfer *t)
{
    char off[24];

    if (!t->req)
        return;
    if (t->berr != BLOB_OK && t->berr != BLOB_BUSY)
        att_count(&t->a->store_errors, 1);
    if (t->berr != BLOB_OK || t->serr != STORE_OK) {
        log_warn("attachments.write", "rid=%s blob=%s store=%s", t->rid, blob_strerror(t->berr),
                 store_strerror(t->serr));
        /* A store at its limit of pieces held failed nothing: 503 with Retry-After, and the
         * client resumes from the offset HEAD gives, as after any refused PATCH. */
        if (t->berr == BLOB_BUSY)
            api_respond_error(t->req, api_store_error(STORE_BUSY), NULL);
        else if (t->serr == STORE_CONFLICT || t->serr == STORE_NOT_FOUND)
            api_respond_error(t->req, api_store_error(t->serr), NULL);
        else
            http_respond_error(t->req, 500, API_INTERNAL_ERROR, "Something went wrong.", NULL);
    } else {
        snprintf(off, sizeof(off), "%" PRId64, t->start + t->written);
        http_add_header(t->req, "upload-offset", off);
        att_tus_headers(t->req);
        http_respond(t->req, 204, NULL, "", 0);
    }
    t->req = NULL;
}

/* Hands the filled buffer (and, once the body has ended, the last write) to a worker. False
 * when the pool refused it: the transfer is answered and freed then (what was not recorded
 * is lost, and the client resumes from the offset HEAD gives). */
static bool transfer_flush(struct att_transfer *t)
{
    char *b = t->out;

    t->out = t->fill;
    t->out_len = t->fill_len;
    t->fill = b;
    t->fill_len = 0;
    t->last = t->ended;
    t->writing = true;
    if (!t->a->stopping && !pool_submit(t->a->srv->pool, transfer_work, transfer_done, t))
        return true;
    t->writing = false;
    t->berr = BLOB_ERROR;
    transfer_answer(t);
    transfer_free(t); /* answered: the request sends no more events */
    return false;
}

static void transfer_done(void *arg)
{
    struct att_transfer *t = arg;

    t->writing = false;
    if (t->berr != BLOB_OK || t->last) {
        /* Answered (or the client is gone): no more events come for this transfer. */
        transfer_answer(t);
        transfer_free(t);
        return;
    }
    if ((t->ended || t->fill_len > ATT_BUFFER - HTTP_STREAM_PIECE_MAX) && !transfer_flush(t))
        return;
    if (!t->ended)
        http_stream_pause(t->req, false); /* may hand over more at once */
}

static void transfer_stream(struct http_req *req, void *arg, enum http_stream_event ev,
                            const void *data, size_t len)
{
    struct att_transfer *t = arg;

    (void)req;
    if (ev == HTTP_STREAM_DATA) {
        memcpy(t->fill + t->fill_len, data, len); /* room: the pause below keeps it */
        t->fill_len += len;
        if (t->fill_len <= ATT_BUFFER - HTTP_STREAM_PIECE_MAX)
            return;
        if (t->writing)
            http_stream_pause(t->req, true);
        else
            transfer_flush(t);
        return;
    }
    /* The end of the body, or the client left (the request waits for its answer, which
     * frees it): keep what came. */
    t->ended = true;
    if (!t->writing)
        transfer_flush(t);
}

/* The checks passed (patch_work): the body may come. */
static void patch_respond(struct job *j, struct http_req *req)
{
    struct att_transfer *t = calloc(1, sizeof(*t));

    if (!t)
        abort();
    t->a = j->extra;
    t->req = req;
    snprintf(t->id, sizeof(t->id), "%.36s", j->arg);
    snprintf(t->owner, sizeof(t->owner), "%.36s", j->who.user_id);
    snprintf(t->rid, sizeof(t->rid), "%.16s", j->rid);
    t->start = j->n1;
    t->length = j->n2;
    t->fill = malloc(ATT_BUFFER);
    t->out = malloc(ATT_BUFFER);
    if (!t->fill || !t->out)
        abort();
    if (att_busy(t->a, t->id)) { /* another PATCH began while this one was checked */
        free(t->fill);
        free(t->out);
        free(t);
        http_respond_error(req, 409, "conflict", "The upload is being written; try again.", NULL);
        return;
    }
    t->next = t->a->transfers;
    t->a->transfers = t;
    http_stream_body(req, transfer_stream, t);
}

static void patch_work(struct store *s, struct job *j)
{
    struct store_attachment row;
    enum store_err rc = store_attachment_get(s, j->arg, j->who.user_id, j->now, &row);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "attachment_get");
        return;
    }
    if (row.offset != j->n1) {
        job_error(j, 409, "conflict", "Upload-Offset is not where the upload stands.");
        return;
    }
    if (j->n2 > row.length - row.offset) {
        job_error(j, 413, "payload_too_large", "The body goes past Upload-Length.");
        return;
    }
    j->n2 = row.length;
    job_respond(j, 204, patch_respond);
}

static bool patch_content_type(struct http_req *req)
{
    char ct[64];
    size_t n = strlen(ATT_CONTENT_TYPE);

    return http_header(req, "content-type", ct, sizeof(ct)) >= (int)n &&
           !strncasecmp(ct, ATT_CONTENT_TYPE, n) && (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

void att_patch(struct http_req *req, void *arg)
{
    struct attachments *a = arg;
    struct job *j = att_job(req);

    if (!j)
        return;
    if (!patch_content_type(req)) {
        http_respond_error(req, 415, "unsupported_media_type",
                           "Send the bytes as application/offset+octet-stream.", NULL);
        goto fail;
    }
    if (att_header_u64(req, "upload-offset", &j->n1)) {
        http_respond_error(req, 400, "validation_failed", API_VALIDATION_MESSAGE,
                           api_details("Upload-Offset", "missing"));
        goto fail;
    }
    if (att_busy(a, j->arg)) {
        http_respond_error(req, 409, "conflict", "The upload is being written; try again.", NULL);
        goto fail;
    }
    if (att_transfers_of(a, j->who.user_id) >= ATT_TRANSFERS_PER_USER) {
        http_respond_rate_limited(req, "rate_limited", 1);
        goto fail;
    }
    j->n2 = (int64_t)http_body_length(req);
    j->extra = a; /* borrowed: the room outlives the pool */
    job_submit(j, patch_work);
    return;
fail:
    job_free(j);
}
