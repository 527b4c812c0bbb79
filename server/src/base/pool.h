/* Worker pool: a fixed set of threads for blocking work (store queries, Argon2, file reads).
 * Work runs on a worker; its completion runs on the loop thread, which is the only thread that
 * touches sockets. The job queue is bounded: a full queue refuses work instead of growing. */
#ifndef SOTTO_POOL_H
#define SOTTO_POOL_H

#include <stddef.h>

struct pool;

/* Runs on a worker thread. worker_ctx is what worker_init returned for this thread (e.g. its
 * own database connection); arg is the caller's. Must not touch sockets or loop-owned state. */
typedef void (*pool_work_fn)(void *worker_ctx, void *arg);

/* Runs on the loop thread once the work has finished, in completion order. Owns arg. */
typedef void (*pool_done_fn)(void *arg);

struct pool_ops {
    /* Called once on each worker thread before it takes work; returns that worker's context
     * (may be NULL). Returning POOL_INIT_FAILED makes pool_create fail. */
    void *(*worker_init)(void *ops_arg, int index);
    /* Called on the worker thread as it exits, with what worker_init returned. */
    void (*worker_fini)(void *ops_arg, void *worker_ctx);
    /* Called on a worker thread after queueing a completion: wake the loop (in sottod,
     * lws_cancel_service). Must be thread-safe. */
    void (*wake)(void *wake_arg);
    void *ops_arg;    /* for worker_init/worker_fini */
    void *wake_arg;   /* for wake */
    int nice;         /* the workers' nice value once initialised (0: the loop's priority) */
    const char *name; /* the workers' thread name, at most 15 bytes (top -H, perf); NULL: none */
};

#define POOL_INIT_FAILED ((void *)-1)

/* Starts nthreads workers with a queue of at most queue_max waiting jobs. Returns NULL if a
 * thread or a worker_init failed (everything started is stopped again). ops is copied. */
struct pool *pool_create(int nthreads, size_t queue_max, const struct pool_ops *ops);

/* Queues work. Returns 0, or -1 when the queue is full or the pool is stopping: then nothing
 * runs and the caller still owns arg. Loop thread (or any thread). */
int pool_submit(struct pool *p, pool_work_fn work, pool_done_fn done, void *arg);

/* Runs the done callbacks of finished jobs. Call on the loop thread when woken. Returns how
 * many ran. */
size_t pool_run_completions(struct pool *p);

/* Jobs queued or running, and completions not yet run (for drain and metrics). */
size_t pool_pending(struct pool *p);

/* Finishes queued work, joins the workers, runs the remaining completions on the calling
 * thread, and frees the pool. NULL is fine. */
void pool_destroy(struct pool *p);

#endif
