/* stmt_cache.h: a per-connection map from a SQL string's address to its prepared statement.
 *
 * Both drivers cache prepared statements keyed by the pointer of the (static) SQL literal,
 * so looking one up costs a hash of a pointer, never a string compare. Not thread-safe:
 * one cache per connection, like the connection itself.
 */
#ifndef SOTTO_STORE_STMT_CACHE_H
#define SOTTO_STORE_STMT_CACHE_H

#include <stddef.h>

struct stmt_cache_slot {
    const char *sql;
    void *stmt;
};

struct stmt_cache {
    struct stmt_cache_slot *slots; /* open addressing, power-of-two capacity */
    size_t cap, used;
};

/* The cached statement for sql, or NULL. */
void *stmt_cache_get(const struct stmt_cache *c, const char *sql);
/* Remember stmt for sql (which must not be cached yet). Aborts when out of memory. */
void stmt_cache_put(struct stmt_cache *c, const char *sql, void *stmt);
/* Call release on every cached statement, then empty the cache (it stays usable). */
void stmt_cache_clear(struct stmt_cache *c, void (*release)(void *stmt, void *ctx), void *ctx);

#endif
