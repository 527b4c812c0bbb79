/* The attachments room's own state, shared by its files (tus.c, upload.c, download.c,
 * sweep.c). Not for other rooms. Loop thread unless a function says otherwise. */
#ifndef SOTTO_ATTACHMENTS_INTERNAL_H
#define SOTTO_ATTACHMENTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "api/api.h"
#include "auth/ratelimit.h"
#include "blobs/blobs.h"
#include "store/attachments.h"

#define ATT_TUS_VERSION "1.0.0"
#define ATT_EXPIRY_MS (24LL * 3600 * 1000) /* an unsent upload lives a day */
/* Bytes a transfer holds at once: one buffer filling from the socket, one at a worker being
 * written (or read, for a download). */
#define ATT_BUFFER (256 * 1024)
/* PATCHes of one user at once: each holds two buffers, so many slow ones of one account
 * must not add up (a client resumes one upload at a time anyway). */
#define ATT_TRANSFERS_PER_USER 4

struct att_transfer;

struct attachments {
    struct server *srv;
    struct blobs *blobs; /* borrowed: srv->blobs */
    struct ratelimit *limits;
    ratelimit_rule create_rule;
    struct att_transfer *transfers; /* PATCHes in progress: one per upload at once */
    lws_sorted_usec_list_t sweep;
    bool stopping;
    /* /metrics, since start. Workers add to store_errors too: atomic adds (att_count). */
    uint64_t bytes_in, bytes_out, store_errors;
};

/* Adds n to a counter of the room, from the loop or a worker. */
static inline void att_count(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* The tus headers every tus answer carries. */
void att_tus_headers(struct http_req *req);
/* Reads a header of digits only (Upload-Offset, Upload-Length) into *out: 0, or -1 when it is
 * absent or not a number (a sign, a space, more than 2^53). */
int att_header_u64(struct http_req *req, const char *name, int64_t *out);
/* A job of the caller with the :id of the path, or NULL after answering (401, or 404 for an
 * id that is no upload's). */
struct job *att_job(struct http_req *req);

/* upload.c: PATCH. */
void att_patch(struct http_req *req, void *arg);
bool att_busy(const struct attachments *a, const char *id);
/* PATCHes in progress of user_id (NULL: of everyone). */
size_t att_transfers_of(const struct attachments *a, const char *user_id);

/* download.c: GET. */
void att_download(struct http_req *req, void *arg);

/* sweep.c: the expiry of unsent uploads, every few minutes. */
void att_sweep_start(struct attachments *a);

/* reconcile.c: the blob store against the database, once at start (on a worker). */
void att_reconcile_start(struct attachments *a);

#endif
