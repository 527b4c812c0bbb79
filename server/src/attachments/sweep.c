/* The expiry of unsent uploads (api.md: "An upload not completed and sent within 24 hours
 * expires and is deleted") and of sent ones at the queue's retention (sending moves
 * expires_at there): every few minutes a worker deletes the rows past their expires_at, a
 * batch at a time, then their blobs. The row goes first, so a crash between
 * the two leaves a blob no row names (removed by the reconciliation at start,
 * reconcile.c), never a row whose bytes are gone. */
#include <stdlib.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"

#define SWEEP_FIRST_S 60
#define SWEEP_EVERY_S 300
#define SWEEP_BATCH 256

struct att_sweep_job {
    struct attachments *a;
    int64_t now;
    size_t deleted;
    enum store_err rc;
};

static void sweep_work(void *ctx, void *arg)
{
    struct att_sweep_job *j = arg;
    char ids[SWEEP_BATCH][STORE_ID_SIZE];
    size_t n = 0;

    if (!ctx) {
        j->rc = STORE_ERROR;
        return;
    }
    j->rc = store_attachments_expired(ctx, j->now, SWEEP_BATCH, ids, &n);
    for (size_t i = 0; j->rc == STORE_OK && i < n; i++) {
        enum store_err rc = store_attachment_expire(ctx, ids[i], j->now);

        if (rc == STORE_NOT_FOUND)
            continue; /* deleted or sent meanwhile */
        if (rc != STORE_OK) {
            j->rc = rc;
            break;
        }
        blob_remove(j->a->blobs, ids[i]);
        j->deleted++;
    }
}

static void sweep_done(void *arg)
{
    struct att_sweep_job *j = arg;

    if (j->rc != STORE_OK)
        log_warn("attachments.sweep", "result=%s", store_strerror(j->rc));
    else if (j->deleted)
        log_info("attachments.sweep", "expired=%zu", j->deleted);
    free(j);
}

static void sweep_tick(lws_sorted_usec_list_t *sul)
{
    struct attachments *a = lws_container_of(sul, struct attachments, sweep);
    struct att_sweep_job *j = calloc(1, sizeof(*j));

    if (!j)
        abort();
    j->a = a;
    j->now = clock_wall_ms();
    if (a->stopping || pool_submit(a->srv->pool, sweep_work, sweep_done, j))
        free(j); /* busy: next time */
    if (!a->stopping)
        lws_sul_schedule(a->srv->lws, 0, &a->sweep, sweep_tick, SWEEP_EVERY_S * LWS_US_PER_SEC);
}

void att_sweep_start(struct attachments *a)
{
    lws_sul_schedule(a->srv->lws, 0, &a->sweep, sweep_tick, SWEEP_FIRST_S * LWS_US_PER_SEC);
}
