/* Worker pool with a bounded job queue and a completion queue drained by the loop thread
 * (the Janus pattern: other threads hand results to the lws thread through a queue plus
 * lws_cancel_service()). Both queues are intrusive singly-linked lists of one job struct, so
 * a job costs one allocation from submit to done. */
#include "base/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pool_job {
    struct pool_job *next;
    pool_work_fn work;
    pool_done_fn done;
    void *arg;
};

struct pool_list {
    struct pool_job *head, *tail;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* signalled when a job is queued or on stop */
    pthread_cond_t ready_cond; /* signalled as each worker finishes its init */
    struct pool_list jobs;     /* waiting for a worker */
    struct pool_list done;     /* finished, waiting for the loop */
    size_t queued, queue_max, in_flight;
    bool stopping;
    struct pool_ops ops;
    int nthreads, started, ready;
    bool init_failed;
    pthread_t *threads;
};

static void pool_list_push(struct pool_list *l, struct pool_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct pool_job *pool_list_take_all(struct pool_list *l)
{
    struct pool_job *j = l->head;

    l->head = l->tail = NULL;
    return j;
}

static struct pool_job *pool_list_pop(struct pool_list *l)
{
    struct pool_job *j = l->head;

    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
    }
    return j;
}

/* Takes the next job, or NULL once stopping and the queue is empty. */
static struct pool_job *pool_next(struct pool *p)
{
    struct pool_job *j;

    pthread_mutex_lock(&p->lock);
    while (!p->jobs.head && !p->stopping)
        pthread_cond_wait(&p->cond, &p->lock);
    j = pool_list_pop(&p->jobs);
    if (j)
        p->queued--;
    pthread_mutex_unlock(&p->lock);
    return j;
}

static void pool_finish(struct pool *p, struct pool_job *j)
{
    pthread_mutex_lock(&p->lock);
    pool_list_push(&p->done, j);
    pthread_mutex_unlock(&p->lock);
    if (p->ops.wake)
        p->ops.wake(p->ops.wake_arg);
}

static void *pool_thread(void *arg)
{
    struct pool *p = arg;
    struct pool_job *j;
    void *ctx = NULL;
    int index;

    pthread_mutex_lock(&p->lock);
    index = p->started++;
    pthread_mutex_unlock(&p->lock);
    /* The init (a store connection: SQLite parses the schema) runs at the loop's priority:
     * pool_create waits for it before sottod serves, and at nice 10 a busy machine would
     * starve it and hold up start-up. */
    if (p->ops.name)
        (void)pthread_setname_np(pthread_self(), p->ops.name);
    if (p->ops.worker_init)
        ctx = p->ops.worker_init(p->ops.ops_arg, index);
    /* Linux applies a thread id to that thread alone. Failure only costs latency. */
    if (p->ops.nice)
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), p->ops.nice);
    pthread_mutex_lock(&p->lock);
    p->ready++;
    if (ctx == POOL_INIT_FAILED)
        p->init_failed = true;
    pthread_cond_signal(&p->ready_cond);
    pthread_mutex_unlock(&p->lock);
    if (ctx == POOL_INIT_FAILED)
        return NULL;
    while ((j = pool_next(p))) {
        j->work(ctx, j->arg);
        pool_finish(p, j);
    }
    if (p->ops.worker_fini)
        p->ops.worker_fini(p->ops.ops_arg, ctx);
    return NULL;
}

static void pool_stop_threads(struct pool *p, int n)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
}

struct pool *pool_create(int nthreads, size_t queue_max, const struct pool_ops *ops)
{
    struct pool *p = calloc(1, sizeof(*p));
    int i;

    if (!p)
        abort();
    p->threads = calloc((size_t)nthreads, sizeof(*p->threads));
    if (!p->threads)
        abort();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_cond_init(&p->ready_cond, NULL);
    p->queue_max = queue_max;
    p->nthreads = nthreads;
    if (ops)
        p->ops = *ops;
    for (i = 0; i < nthreads; i++) {
        pthread_attr_t attr;
        int rc;

        /* Workers run store queries and Argon2 (which allocates its own memory): 256 KiB
         * of stack is plenty and keeps the idle footprint small. */
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        rc = pthread_create(&p->threads[i], &attr, pool_thread, p);
        pthread_attr_destroy(&attr);
        if (rc)
            goto fail;
    }
    /* Wait until every worker has run its init, so a failed store connection is reported at
     * start and not on the first request. */
    pthread_mutex_lock(&p->lock);
    while (p->ready < nthreads)
        pthread_cond_wait(&p->ready_cond, &p->lock);
    bool failed = p->init_failed;
    pthread_mutex_unlock(&p->lock);
    if (failed)
        goto fail;
    return p;
fail:
    pool_stop_threads(p, i);
    pool_destroy(p);
    return NULL;
}

int pool_submit(struct pool *p, pool_work_fn work, pool_done_fn done, void *arg)
{
    struct pool_job *j = malloc(sizeof(*j));

    if (!j)
        abort();
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->queue_max) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return -1;
    }
    p->queued++;
    p->in_flight++;
    pool_list_push(&p->jobs, j);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

size_t pool_run_completions(struct pool *p)
{
    struct pool_job *j, *next;
    size_t n = 0;

    pthread_mutex_lock(&p->lock);
    j = pool_list_take_all(&p->done);
    pthread_mutex_unlock(&p->lock);
    for (; j; j = next, n++) {
        next = j->next;
        if (j->done)
            j->done(j->arg);
        free(j);
    }
    if (n) {
        pthread_mutex_lock(&p->lock);
        p->in_flight -= n;
        pthread_mutex_unlock(&p->lock);
    }
    return n;
}

size_t pool_pending(struct pool *p)
{
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->in_flight;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    if (!p->stopping)
        pool_stop_threads(p, p->nthreads);
    pool_run_completions(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->ready_cond);
    free(p->threads);
    free(p);
}
