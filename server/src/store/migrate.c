/* migrate.c: applies the embedded schema migrations at start.
 *
 * Everything pending runs in one transaction together with its schema_migrations rows, so
 * a crash leaves either the old or the new schema, never half of one (both SQLite and
 * PostgreSQL have transactional DDL). On PostgreSQL a transaction-scoped advisory lock
 * makes nodes that start together take turns; the later ones find nothing left to do. On
 * SQLite, BEGIN IMMEDIATE serializes the same way.
 */
#include "migrations.h"
#include "store_internal.h"

#include <time.h>

/* An arbitrary constant naming "sottod schema migrations" among advisory locks. */
#define MIGRATE_LOCK_KEY 0x50770d5c4e3aLL

static const char migrate_create[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
static const char migrate_lock_pg[] = "SELECT pg_advisory_xact_lock(CAST($1 AS BIGINT))";
static const char migrate_max[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char migrate_insert[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

static int64_t migrate_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum store_err migrate_current(struct store *s, int64_t *version)
{
    struct db_rows *r;
    int rc = s->drv->query(s->db, migrate_max, NULL, 0, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *version = s->drv->get_int(r, 0);
        rc = DB_OK;
    }
    s->drv->done(r);
    return rc == DB_OK ? STORE_OK : store_map(rc < 0 ? rc : DB_ERR);
}

static enum store_err migrate_apply(struct store *s, const struct store_migration *m)
{
    struct db_param p[] = {DB_INT(m->version), db_text(m->name), DB_INT(migrate_now_ms())};
    int rc = s->drv->script(s->db, m->sql);
    if (rc != DB_OK)
        return store_map(rc);
    return store_exec(s, migrate_insert, p, 3, NULL);
}

static enum store_err migrate_run(struct store *s, const struct store_migration *list, size_t count)
{
    int64_t current = 0;
    enum store_err rc = STORE_OK;
    if (s->drv->dialect == DB_PG) {
        struct db_param key = DB_INT(MIGRATE_LOCK_KEY);
        if ((rc = store_exec(s, migrate_lock_pg, &key, 1, NULL)) != STORE_OK)
            return rc;
    }
    if ((rc = store_map(s->drv->script(s->db, migrate_create))) != STORE_OK)
        return rc;
    if ((rc = migrate_current(s, &current)) != STORE_OK)
        return rc;
    if (count && current > list[count - 1].version)
        return STORE_ERROR; /* written by a newer sottod: never run old code on it */
    for (size_t i = 0; i < count && rc == STORE_OK; i++)
        if (list[i].version > current)
            rc = migrate_apply(s, &list[i]);
    return rc;
}

enum store_err store_migrate(struct store *s)
{
    bool pg = s->drv->dialect == DB_PG;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = migrate_run(s, pg ? store_migrations_pg : store_migrations_sqlite,
                     pg ? store_migrations_pg_count : store_migrations_sqlite_count);
    return store_finish(s, rc);
}
