/* stmt_cache.c: open-addressing hash map from SQL pointer to prepared statement. */
#include "stmt_cache.h"

#include <stdint.h>
#include <stdlib.h>

static size_t stmt_cache_hash(const char *sql, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 29) & (cap - 1);
}

static void stmt_cache_insert(struct stmt_cache *c, const char *sql, void *stmt)
{
    size_t i = stmt_cache_hash(sql, c->cap);
    while (c->slots[i].sql)
        i = (i + 1) & (c->cap - 1);
    c->slots[i] = (struct stmt_cache_slot){sql, stmt};
    c->used++;
}

static void stmt_cache_grow(struct stmt_cache *c)
{
    struct stmt_cache_slot *old = c->slots;
    size_t oldcap = c->cap;
    c->cap = oldcap ? oldcap * 2 : 64;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots)
        abort(); /* the server's policy: out of memory aborts */
    c->used = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].sql)
            stmt_cache_insert(c, old[i].sql, old[i].stmt);
    free(old);
}

void *stmt_cache_get(const struct stmt_cache *c, const char *sql)
{
    if (!c->cap)
        return NULL;
    for (size_t i = stmt_cache_hash(sql, c->cap); c->slots[i].sql; i = (i + 1) & (c->cap - 1))
        if (c->slots[i].sql == sql)
            return c->slots[i].stmt;
    return NULL;
}

void stmt_cache_put(struct stmt_cache *c, const char *sql, void *stmt)
{
    if ((c->used + 1) * 2 > c->cap) /* keep the load under one half: short probes */
        stmt_cache_grow(c);
    stmt_cache_insert(c, sql, stmt);
}

void stmt_cache_clear(struct stmt_cache *c, void (*release)(void *stmt, void *ctx), void *ctx)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].sql)
            release(c->slots[i].stmt, ctx);
    free(c->slots);
    *c = (struct stmt_cache){0};
}
