/* pool.c: work on workers with their own context, completions on the caller's thread in
 * completion order, the bounded queue, per-worker init/fini, and a failing init. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/pool.h"

static atomic_int inits, finis, wakes;
static pthread_t main_thread;

struct job {
    int id;
    int worker;
    int sleep_us;
    int *order;
    int *n;
    pthread_t ran_on;
};

static void *worker_init(void *arg, int index)
{
    char name[16] = "";

    (void)arg;
    /* The pool names its threads before their init runs. */
    assert_int_equal(pthread_getname_np(pthread_self(), name, sizeof(name)), 0);
    assert_string_equal(name, "test-pool");
    atomic_fetch_add(&inits, 1);
    return (void *)(intptr_t)(index + 100);
}

static void worker_fini(void *arg, void *ctx)
{
    (void)arg;
    assert_true((intptr_t)ctx >= 100);
    atomic_fetch_add(&finis, 1);
}

static void wake(void *arg)
{
    (void)arg;
    atomic_fetch_add(&wakes, 1);
}

static void work(void *ctx, void *arg)
{
    struct job *j = arg;

    j->worker = (int)(intptr_t)ctx;
    j->ran_on = pthread_self();
    if (j->sleep_us)
        usleep((useconds_t)j->sleep_us);
}

static void done(void *arg)
{
    struct job *j = arg;

    assert_true(pthread_equal(pthread_self(), main_thread));
    assert_false(pthread_equal(j->ran_on, main_thread));
    assert_true(j->worker >= 100 && j->worker < 104);
    j->order[(*j->n)++] = j->id;
    free(j);
}

static void test_completion(void **state)
{
    struct pool_ops ops = {
        .worker_init = worker_init, .worker_fini = worker_fini, .wake = wake, .name = "test-pool"};
    struct pool *p;
    int order[64], n = 0;

    (void)state;
    main_thread = pthread_self();
    atomic_store(&inits, 0);
    atomic_store(&finis, 0);
    p = pool_create(4, 64, &ops);
    assert_non_null(p);
    assert_int_equal(atomic_load(&inits), 4);
    for (int i = 0; i < 32; i++) {
        struct job *j = calloc(1, sizeof(*j));

        j->id = i;
        j->order = order;
        j->n = &n;
        /* The first job is slow: it must complete (and be reported) after the others. */
        j->sleep_us = i == 0 ? 200000 : 0;
        assert_int_equal(pool_submit(p, work, done, j), 0);
    }
    while (n < 32) {
        pool_run_completions(p);
        usleep(1000);
    }
    assert_int_equal(order[31], 0);
    assert_int_equal(pool_pending(p), 0);
    assert_true(atomic_load(&wakes) >= 1);
    pool_destroy(p);
    assert_int_equal(atomic_load(&finis), 4);
}

static void block_work(void *ctx, void *arg)
{
    (void)ctx;
    usleep((useconds_t)(intptr_t)arg);
}

static void test_bounded(void **state)
{
    struct pool_ops ops = {0};
    struct pool *p = pool_create(1, 2, &ops);
    int accepted = 0;

    (void)state;
    for (int i = 0; i < 10; i++)
        accepted += pool_submit(p, block_work, NULL, (void *)(intptr_t)50000) == 0;
    /* One running plus two queued at most (the first may not have been taken yet). */
    assert_true(accepted >= 2 && accepted <= 3);
    pool_destroy(p); /* finishes the queued work and runs completions */
}

static void *failing_init(void *arg, int index)
{
    (void)arg;
    return index == 1 ? POOL_INIT_FAILED : NULL;
}

static void test_init_failure(void **state)
{
    struct pool_ops ops = {.worker_init = failing_init};

    (void)state;
    assert_null(pool_create(3, 8, &ops));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_init_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
