/* The store as sottod uses it: checked and migrated once at start, then one connection per
 * worker thread (the worker_ctx that pool work functions receive is that worker's
 * `struct store *`, or NULL in a build without the store). */
#ifndef SOTTO_BACKEND_H
#define SOTTO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/pool.h"

struct config;

/* Validates DATABASE_URL, connects once and applies migrations. 0, or -1 with a one-line
 * reason naming the variable (exit code 2). */
int backend_start(const struct config *cfg, char *err, size_t errlen);

/* Pool hooks opening/closing each worker's store connection: for the general workers, or
 * for the writer (server.h) at the loop's priority. */
struct pool_ops backend_pool_ops(const struct config *cfg, bool writer);

/* The /healthz probe: a store round trip on the worker's connection. */
int backend_probe(void *worker_ctx);

#endif
