/* db.h: the backend-neutral SQL driver under the store.
 *
 * A driver is a struct of const function pointers; sqlite.c and pg.c each export one.
 * The store's domain code (users.c, devices.c, ...) speaks only this interface, so every
 * query is written once, with $1, $2 placeholders, in the subset of SQL both backends share
 * (INSERT ... ON CONFLICT, RETURNING, CAST(x AS BIGINT)). Where dialects must differ the
 * caller picks a per-dialect SQL string from `db_driver.dialect`.
 *
 * Threads: one `struct db` is one connection, owned by one thread at a time (a store worker).
 * Nothing here is safe to share between threads; open one connection per worker.
 *
 * SQL strings must have static storage duration: drivers cache prepared statements keyed by
 * the SQL pointer, so the same literal is parsed once per connection. Never build SQL by
 * formatting strings; every value travels as a parameter.
 *
 * Errors: functions return DB_OK (0) or a negative enum db_err. The last error text of a
 * connection is available through `errmsg` for logs (it may contain SQL, never parameters).
 */
#ifndef SOTTO_STORE_DB_H
#define SOTTO_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_err {
    DB_OK = 0,
    DB_ERR = -1,        /* anything else: I/O, syntax, connection lost */
    DB_UNIQUE = -2,     /* unique or primary key violated */
    DB_FOREIGN = -3,    /* foreign key violated */
    DB_CONSTRAINT = -4, /* another constraint (CHECK, NOT NULL) violated */
    DB_BUSY = -5,       /* lock timeout, deadlock, serialization failure: retryable */
};

enum db_dialect { DB_SQLITE = 1, DB_PG = 2 };

enum db_type { DB_T_NULL = 0, DB_T_INT = 1, DB_T_TEXT = 2, DB_T_BLOB = 3 };

/* One statement parameter. Text and blobs are borrowed: they must stay valid until the
 * call that receives them returns. Text need not be NUL-terminated (len is the byte count). */
struct db_param {
    enum db_type type;
    int64_t i;
    const void *p;
    size_t len;
};

#define DB_NULL ((struct db_param){.type = DB_T_NULL})
#define DB_INT(v) ((struct db_param){.type = DB_T_INT, .i = (int64_t)(v)})
#define DB_BLOB(ptr, n) ((struct db_param){.type = DB_T_BLOB, .p = (ptr), .len = (n)})
/* NUL-terminated text; a NULL pointer binds SQL NULL. */
struct db_param db_text(const char *s);
/* Text or blob of a known length. */
#define DB_TEXTN(ptr, n) ((struct db_param){.type = DB_T_TEXT, .p = (ptr), .len = (n)})

struct db;      /* a connection */
struct db_rows; /* the rows of one running statement */

struct db_driver {
    const char *const name;        /* "sqlite" or "postgresql", for logs */
    const enum db_dialect dialect; /* picks per-backend SQL variants */

    /* Open a connection. `target` is a file path (SQLite) or a postgresql:// URL (PG).
     * On failure returns DB_ERR with a one-line reason in err (never the password).
     * The caller owns *out and frees it with `close`. */
    int (*const open)(const char *target, struct db **out, char *err, size_t errlen);

    /* Close the connection, finalising every cached statement. NULL is allowed. */
    void (*const close)(struct db *db);

    /* Start a transaction. SQLite: BEGIN IMMEDIATE (takes the write lock up front, so a
     * read-then-write transaction never fails with a stale snapshot); PG: BEGIN (READ
     * COMMITTED). Not nestable at this level: the store counts nesting itself. */
    int (*const begin)(struct db *db);
    int (*const commit)(struct db *db);
    /* Roll back; safe to call after a failed statement (PG's aborted transaction). */
    int (*const rollback)(struct db *db);

    /* Run a statement that returns no rows. *changes (may be NULL) gets the number of rows
     * inserted, updated or deleted. */
    int (*const exec)(struct db *db, const char *sql, const struct db_param *params, int n,
                      int64_t *changes);

    /* Run a statement and iterate its rows: `next` returns 1 for a row, 0 at the end, or a
     * negative db_err. Only one `db_rows` may be open per connection at a time (finish it
     * before running another statement on the same connection). Values read
     * with the getters stay valid until the next `next` or `done`. The caller must call
     * `done` exactly once (also after an error); it releases the statement for reuse. */
    int (*const query)(struct db *db, const char *sql, const struct db_param *params, int n,
                       struct db_rows **out);
    int (*const next)(struct db_rows *rows);
    void (*const done)(struct db_rows *rows);

    /* Typed getters on the current row, columns from 0. A NULL value reads as 0 / NULL with
     * length 0; check `is_null` where NULL matters. */
    int (*const is_null)(struct db_rows *rows, int col);
    int64_t (*const get_int)(struct db_rows *rows, int col);
    /* NUL-terminated text (borrowed); *len (may be NULL) gets the byte count. */
    const char *(*const get_text)(struct db_rows *rows, int col, size_t *len);
    const void *(*const get_blob)(struct db_rows *rows, int col, size_t *len);

    /* Run a trusted multi-statement script without parameters (migrations only). */
    int (*const script)(struct db *db, const char *sql);

    /* The last error's text, for logs. Borrowed; valid until the next call on db. */
    const char *(*const errmsg)(struct db *db);

    /* Background housekeeping outside any transaction: SQLite copies the write-ahead log back
     * into the database (a passive checkpoint, which never waits for the writer). NULL when
     * the backend needs none (PostgreSQL checkpoints by itself). */
    int (*const checkpoint)(struct db *db);

    /* Rows inserted, updated or deleted on this connection since it opened (statements that
     * failed count nothing). Lets the store tell whether a nested level wrote anything
     * (store_begin_batch). NULL where unsupported: the store then always uses savepoints. */
    int64_t (*const total_changes)(struct db *db);

    /* Pages in the write-ahead log after this connection's last commit (0 before any), for
     * deciding when to checkpoint in the background. NULL where there is no such log. */
    int64_t (*const wal_pages)(struct db *db);
};

extern const struct db_driver db_sqlite_driver;
/* Defined in pg.c, which sottod does not link: it reaches the PostgreSQL driver through the
 * module below (store.c), so a process on SQLite never maps libpq. Only code that links pg.c
 * itself (the store contract tests' raw set-up) may name this. */
extern const struct db_driver db_pg_driver;

/* A driver built as a loadable module (lib/sotto_store_pg.so, opened with dlopen) exports
 * one symbol, DB_MODULE_SYMBOL, of this type. store.c checks abi and driver_size before using
 * the driver, so a module left over from another build is refused instead of called. The
 * module, its driver and every string it returns live until the process exits (never
 * dlclose'd). */
#define DB_MODULE_ABI 3
#define DB_MODULE_SYMBOL "sotto_db_module"
struct db_module {
    uint32_t abi;                   /* DB_MODULE_ABI of the build that made the module */
    uint32_t driver_size;           /* sizeof(struct db_driver) in that build */
    const struct db_driver *driver; /* borrowed, static in the module */
};

/* Convenience: run `sql` expecting at most one row and copy nothing; returns 1 if a row
 * exists, 0 if not, or a negative db_err. */
int db_exists(const struct db_driver *drv, struct db *db, const char *sql,
              const struct db_param *params, int n);

#endif
