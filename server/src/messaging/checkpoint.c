/* The SQLite log's checkpoint policy, driven by the writer's commits (batch.c): past a
 * growth of the log a general worker copies it back into the database in the background,
 * and the next batch then restarts the log (docs/architecture.md, "Checkpoints off the commit
 * path"). PostgreSQL needs none: store_wal_pages is 0 there. Loop thread. */
#include <stdlib.h>

#include "base/log.h"
#include "messaging/rt_internal.h"

/* The log's growth (pages) after which a general worker copies it back into the database in
 * the background, so that the writer's commits need not; sqlite.c's backstop is 8 times
 * larger. Counted in pages, not requests or batches: a request writes a few pages, a batch of
 * many requests few pages each, and the fsyncs of every checkpoint are paid per checkpoint.
 *
 * The log only restarts from its beginning (instead of growing) at a write transaction that
 * finds every page of it copied, which never happens while commits land behind a background
 * checkpoint. So when one has finished, with little left uncopied (store_checkpoint), the
 * writer runs one more before its next batch (rt_take_restart, batch.c): it copies the few
 * pages committed meanwhile, and the batch's transaction then restarts the log. Without this
 * the log grew to the backstop, whose checkpoint stalled the writer for 20-80 ms about once a
 * second at 3,500 messages/s (bench/RESULTS-messaging.md). */
#define RT_CHECKPOINT_PAGES 4096

struct rt_checkpoint_job {
    struct realtime *rt;
    enum store_err rc;
};

static void rt_checkpoint_work(void *ctx, void *arg)
{
    struct rt_checkpoint_job *j = arg;

    j->rc = store_checkpoint(ctx);
}

static void rt_checkpoint_done(void *arg)
{
    struct rt_checkpoint_job *j = arg;

    if (j->rc != STORE_OK)
        log_warn("store.checkpoint", "result=%s", store_strerror(j->rc));
    j->rt->checkpointing = false;
    j->rt->restart_wanted = j->rc == STORE_OK;
    free(j);
}

bool rt_take_restart(struct realtime *rt)
{
    bool want = rt->restart_wanted;

    rt->restart_wanted = false;
    return want;
}

void rt_committed(struct realtime *rt, size_t wal_pages)
{
    struct rt_checkpoint_job *j;

    /* The log restarts from its beginning once a checkpoint has copied all of it; until
     * then it only grows, and each checkpoint copies what was committed since the last. */
    if (wal_pages < rt->checkpoint_at)
        rt->checkpoint_at = 0;
    if (wal_pages < rt->checkpoint_at + RT_CHECKPOINT_PAGES || rt->checkpointing ||
        rt->restart_wanted || rt->stopping)
        return;
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->rt = rt;
    if (rt_submit(rt, rt_checkpoint_work, rt_checkpoint_done, j)) {
        free(j); /* the pool is full: after the next commit */
        return;
    }
    rt->checkpointing = true;
    rt->checkpoint_at = wal_pages;
}
