/* Glue between the worker pool and the store (server/src/store): each worker opens its own
 * store connection, and the health probe pings it. */
#include "api/backend.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"

#include "store/store.h"

static struct store_config backend_store_config(const struct config *cfg)
{
    struct store_config sc = {.database_url = cfg->database_url,
                              .data_dir = cfg->data_dir,
                              .module_dir = cfg->module_dir};

    return sc;
}

/* The store's reason, prefixed with the variable to fix, so the one line names it. */
static int backend_fail(const struct config *cfg, const char *why, char *err, size_t errlen)
{
    const char *var = cfg->database_url ? "DATABASE_URL" : "DATA_DIR";

    if (!strncmp(why, var, strlen(var)))
        snprintf(err, errlen, "%s", why);
    else
        snprintf(err, errlen, "%s: %s", var, why);
    return -1;
}

int backend_start(const struct config *cfg, char *err, size_t errlen)
{
    struct store_config sc = backend_store_config(cfg);
    struct store *s = NULL;
    enum store_err rc;
    char why[384];

    if (store_config_check(&sc, why, sizeof(why)) != STORE_OK ||
        store_open(&sc, &s, why, sizeof(why)) != STORE_OK)
        return backend_fail(cfg, why, err, errlen);
    rc = store_migrate(s);
    if (rc != STORE_OK) {
        snprintf(why, sizeof(why), "migrations failed: %s", store_strerror(rc));
        backend_fail(cfg, why, err, errlen);
    } else
        log_info("store.ready", "backend=%s", store_backend(s));
    store_close(s);
    return rc == STORE_OK ? 0 : -1;
}

static void *backend_worker_init(void *arg, int index)
{
    const struct config *cfg = arg;
    struct store_config sc = backend_store_config(cfg);
    struct store *s = NULL;
    char err[256];

    if (store_open(&sc, &s, err, sizeof(err)) != STORE_OK) {
        log_error("store.connect_failed", "worker=%d", index);
        return POOL_INIT_FAILED;
    }
    return s;
}

static void *backend_writer_init(void *arg, int index)
{
    void *s = backend_worker_init(arg, index);

    if (s != POOL_INIT_FAILED && store_tune_writer(s) != STORE_OK)
        log_warn("store.tune", "result=failed");
    return s;
}

static void backend_worker_fini(void *arg, void *ctx)
{
    (void)arg;
    store_close(ctx);
}

/* The general workers run below the loop thread's priority. On a small machine Argon2 (whose
 * lanes run in threads that inherit this nice value) can occupy every core; the loop thread
 * must still get the CPU at once when a socket is ready, or every client's latency becomes
 * the hash's. The writer (one thread, group-committed messages and acks, never Argon2) runs
 * at the loop's priority: it is the messaging hot path. */
#define BACKEND_WORKER_NICE 10

struct pool_ops backend_pool_ops(const struct config *cfg, bool writer)
{
    struct pool_ops ops = {.worker_init = writer ? backend_writer_init : backend_worker_init,
                           .worker_fini = backend_worker_fini,
                           .ops_arg = (void *)(uintptr_t)cfg,
                           .nice = writer ? 0 : BACKEND_WORKER_NICE,
                           .name = writer ? "sotto-writer" : "sotto-worker"};

    return ops;
}

int backend_probe(void *worker_ctx)
{
    return worker_ctx && store_ping(worker_ctx) == STORE_OK ? 0 : -1;
}
