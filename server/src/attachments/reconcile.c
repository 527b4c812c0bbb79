/* The reconciliation of the blob store with the database, once at start. The row and the
 * blob of an upload change in two steps that a crash can split; each order is chosen so the
 * split leaves something this pass can settle, never a referenced blob lost:
 * - deletion (DELETE, expiry, a message's or an account's deletion) commits the row's removal,
 *   then removes the blob: a blob with no row is removed;
 * - the last PATCH records the complete offset, then finishes the blob: a partial blob whose
 *   row is complete (for a minute: not one a PATCH is finishing now) is finished.
 * A row whose blob is missing is left (its download answers 404, and logs it). A sent
 * attachment's row stays until its message, its owner or its retention goes, so its blob is
 * always named here and never removed. */
#include <stdlib.h>

#include "attachments/internal.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/server.h"

#define RECONCILE_SETTLED_MS 60000 /* a complete row this old has no PATCH finishing it */

struct att_reconcile {
    struct attachments *a;
    struct store *s;
    int64_t now;
    size_t removed, finished, failed;
};

static int reconcile_one(void *arg, const char *id, bool partial)
{
    struct att_reconcile *r = arg;
    struct store_attachment row;
    enum store_err rc = store_attachment_find(r->s, id, &row);

    if (rc == STORE_NOT_FOUND) {
        if (blob_remove(r->a->blobs, id) == BLOB_OK)
            r->removed++;
    } else if (rc != STORE_OK) {
        r->failed++;
    } else if (partial && row.offset == row.length && row.completed_at &&
               row.completed_at < r->now - RECONCILE_SETTLED_MS) {
        if (blob_finish(r->a->blobs, id, (uint64_t)row.length) == BLOB_OK)
            r->finished++;
        else
            r->failed++;
    }
    return 0;
}

static void reconcile_work(void *ctx, void *arg)
{
    struct att_reconcile *r = arg;

    r->s = ctx;
    r->now = clock_wall_ms();
    if (!ctx || blob_list(r->a->blobs, reconcile_one, r) != BLOB_OK)
        r->failed++;
}

static void reconcile_done(void *arg)
{
    struct att_reconcile *r = arg;

    if (r->failed)
        log_warn("attachments.reconcile", "removed=%zu finished=%zu failed=%zu", r->removed,
                 r->finished, r->failed);
    else
        log_info("attachments.reconcile", "removed=%zu finished=%zu", r->removed, r->finished);
    free(r);
}

void att_reconcile_start(struct attachments *a)
{
    struct att_reconcile *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    r->a = a;
    if (pool_submit(a->srv->pool, reconcile_work, reconcile_done, r)) {
        log_warn("attachments.reconcile", "result=busy");
        free(r);
    }
}
