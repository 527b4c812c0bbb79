/* Group commit of the real-time writes. The loop thread collects message sends (messaging.c)
 * and queue acknowledgements (delivery.c) in one pending list while a batch is at the pool;
 * one writer job then runs up to RT_BATCH_MAX of them, in arrival order, in ONE store
 * transaction, each in its own nesting level (store_begin_batch: a savepoint on PostgreSQL, a
 * mark on SQLite), so a refused request is undone alone and keeps its own error. Nothing is
 * answered or fanned out before the COMMIT; if the COMMIT fails, every request of the batch
 * completes as not stored (retryable).
 *
 * Sends and acks share the batch: what arrives together costs one COMMIT instead of two, and
 * the pages both kinds touch (a device's row, the newest leaves of the queue) go to the log
 * once. The writer's CPU per message at 3,500 messages/s went from 156-161 to 146-151 us
 * (bench/RESULTS-messaging.md). */
#include <stdbool.h>
#include <stdlib.h>

#include "base/log.h"
#include "messaging/rt_internal.h"
#include "store/store.h"

struct rt_batch_job {
    struct realtime *rt;
    struct rt_batch_item *head; /* the batch's requests, detached from the pending list */
    bool restart;               /* checkpoint first (rt_take_restart) */
    enum store_err commit;
    size_t wal_pages; /* the log's size after the commit (store_wal_pages) */
};

static void rt_batch_work(void *ctx, void *arg)
{
    struct rt_batch_job *j = arg;

    if (j->restart) {
        enum store_err rc = store_checkpoint(ctx);

        if (rc != STORE_OK && rc != STORE_BUSY) /* busy: a reader; the log restarts later */
            log_warn("store.checkpoint", "on=writer result=%s", store_strerror(rc));
    }
    j->commit = store_begin_batch(ctx);
    if (j->commit != STORE_OK)
        return;
    for (struct rt_batch_item *it = j->head; it; it = it->next)
        it->run(ctx, it);
    j->commit = store_commit(ctx); /* on failure store_commit has rolled back */
    if (j->commit != STORE_OK)
        log_warn("batch.commit", "result=%s", store_strerror(j->commit));
    j->wal_pages = store_wal_pages(ctx);
}

static void rt_batch_complete(struct rt_batch_item *head, enum store_err commit)
{
    while (head) {
        struct rt_batch_item *next = head->next;

        head->next = NULL;
        head->done(head, commit);
        head = next;
    }
}

static void rt_batch_flush(struct realtime *rt);

static void rt_batch_job_done(void *arg)
{
    struct rt_batch_job *j = arg;
    struct realtime *rt = j->rt;
    struct rt_batch_item *head = j->head;
    enum store_err commit = j->commit;

    rt->batch.inflight--;
    if (commit == STORE_OK)
        rt_committed(rt, j->wal_pages);
    free(j);
    /* The writer starts on what arrived meanwhile while this thread answers and fans out the
     * batch it committed: the two overlap on two cores. Order holds: this batch's frames go
     * out before the next batch can complete, and the next one's requests were all sent
     * before any of this one was answered. */
    rt_batch_flush(rt);
    rt_batch_complete(head, commit);
}

static void rt_batch_flush(struct realtime *rt)
{
    struct rt_batch *b = &rt->batch;

    while (b->head && b->inflight < RT_BATCH_JOBS) {
        struct rt_batch_job *j = calloc(1, sizeof(*j));
        struct rt_batch_item *last = b->head;
        size_t n = 1;

        if (!j)
            abort();
        while (n < RT_BATCH_MAX && last->next)
            last = last->next, n++;
        j->rt = rt;
        j->restart = rt_take_restart(rt);
        j->head = b->head;
        b->head = last->next;
        if (!b->head)
            b->tail = NULL;
        last->next = NULL;
        b->inflight++;
        if (rt_submit_write(rt, rt_batch_work, rt_batch_job_done, j)) {
            b->inflight--;
            rt->restart_wanted |= j->restart; /* still owed to the next batch */
            rt_batch_complete(j->head, STORE_BUSY);
            free(j);
        }
    }
}

void rt_batch_add(struct realtime *rt, struct rt_batch_item *it, rt_batch_run_fn run,
                  rt_batch_done_fn done)
{
    struct rt_batch *b = &rt->batch;

    it->run = run;
    it->done = done;
    it->next = NULL;
    if (b->tail)
        b->tail->next = it;
    else
        b->head = it;
    b->tail = it;
    rt_batch_flush(rt);
}
