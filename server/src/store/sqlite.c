/* sqlite.c: the SQLite implementation of the db driver (the embedded default).
 *
 * One connection per worker thread, opened in multi-thread mode (no per-connection mutex:
 * a connection never crosses threads at the same time). WAL lets readers run beside the one
 * writer; busy_timeout makes writers queue instead of failing; foreign keys are on.
 * synchronous=NORMAL in WAL survives a killed process (the WAL is written before commit
 * returns) but may lose the last commits on power loss; that is the usual embedded trade-off.
 *
 * Writers take a process-wide mutex before BEGIN IMMEDIATE and hold it until the transaction
 * ends. SQLite allows one writer at a time anyway; left to itself, a worker that finds the
 * write lock taken sleeps in the busy handler (1 ms, then up to 100 ms), so under load the
 * workers slept more than they worked. A mutex hands the lock over at once. busy_timeout
 * still covers other processes (the sqlite3 shell, a second sottod by mistake).
 *
 * Statements are prepared once and cached, keyed by the SQL string's address. Parameters
 * are written $1, $2 (the PostgreSQL way); SQLite treats "$1" as a named parameter, so each
 * name is mapped back to its number when binding.
 */
#include "db.h"
#include "stmt_cache.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQLITE_BUSY_MS 5000
#define SQ_WAL_BACKSTOP 32768  /* pages (128 MiB): sq_wal_hook */
#define SQ_CHECKPOINT_TAIL 256 /* pages a checkpoint may leave uncopied: sq_checkpoint */
#define SQ_CHECKPOINT_ROUNDS 8

struct db_rows {
    struct db *db;
    sqlite3_stmt *stmt;
};

struct db {
    sqlite3 *conn;
    struct stmt_cache cache;
    struct db_rows rows; /* one cursor suffices: callers never nest queries on one SQL */
    bool writing;        /* holds sq_write_lock: inside BEGIN IMMEDIATE ... COMMIT/ROLLBACK */
    int wal_pages;       /* pages in the log after this connection's last commit (sq_wal_hook) */
    char err[256];
};

/* Shared by every connection of this process (see the file comment); file-local. */
static pthread_mutex_t sq_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* Releases the write lock once SQLite is back in autocommit mode, i.e. the transaction is
 * over (committed, rolled back, or rolled back by SQLite itself after an error). */
static void sq_write_end(struct db *db)
{
    if (db->writing && sqlite3_get_autocommit(db->conn)) {
        db->writing = false;
        pthread_mutex_unlock(&sq_write_lock);
    }
}

static void *sq_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort(); /* the server's policy: out of memory aborts */
    return p;
}

static void sq_seterr(struct db *db, const char *what)
{
    snprintf(db->err, sizeof db->err, "%s: %s", what, sqlite3_errmsg(db->conn));
}

static int sq_map(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return DB_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_BUSY;
    case SQLITE_CONSTRAINT: break;
    default: return DB_ERR;
    }
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return DB_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return DB_FOREIGN;
    default: return DB_CONSTRAINT;
    }
}

/* After every commit, in place of SQLite's autocheckpoint (the same hook): records the log's
 * size, which sottod watches to checkpoint in the background (store_wal_pages) and to restart
 * the log from the writer between two batches (realtime.c), and only past SQ_WAL_BACKSTOP
 * pages copies the log back itself, a bound for when those cannot keep up: this checkpoint
 * copies and syncs all the background ones have not, inside a commit. */
static int sq_wal_hook(void *arg, sqlite3 *conn, const char *name, int pages)
{
    struct db *db = arg;
    db->wal_pages = pages;
    if (pages >= SQ_WAL_BACKSTOP)
        (void)sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static int sq_pragmas(struct db *db)
{
    static const char pragmas[] = "PRAGMA journal_mode=WAL;"
                                  "PRAGMA synchronous=NORMAL;"
                                  "PRAGMA foreign_keys=ON;";
    if (sqlite3_busy_timeout(db->conn, SQLITE_BUSY_MS) != SQLITE_OK)
        return DB_ERR;
    if (sqlite3_exec(db->conn, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return DB_ERR;
    sqlite3_wal_hook(db->conn, sq_wal_hook, db);
    return DB_OK;
}

static int sq_open(const char *target, struct db **out, char *err, size_t errlen)
{
    struct db *db = sq_xcalloc(1, sizeof *db);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    *out = NULL;
    if (sqlite3_open_v2(target, &db->conn, flags, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(db->conn, 1);
    if (sq_pragmas(db) != DB_OK)
        goto fail;
    *out = db;
    return DB_OK;
fail:
    snprintf(err, errlen, "sqlite: cannot open %s: %s", target,
             db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
    sqlite3_close(db->conn);
    free(db);
    return DB_ERR;
}

static void sq_finalize(void *stmt, void *ctx)
{
    (void)ctx;
    sqlite3_finalize(stmt);
}

static void sq_close(struct db *db)
{
    if (!db)
        return;
    if (db->writing) { /* closed mid-transaction: SQLite rolls it back */
        db->writing = false;
        pthread_mutex_unlock(&sq_write_lock);
    }
    stmt_cache_clear(&db->cache, sq_finalize, NULL);
    sqlite3_close(db->conn);
    free(db);
}

static int sq_simple(struct db *db, const char *sql)
{
    int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_seterr(db, sql);
        return sq_map(sqlite3_extended_errcode(db->conn));
    }
    return DB_OK;
}

static int sq_begin(struct db *db)
{
    int rc;
    pthread_mutex_lock(&sq_write_lock);
    db->writing = true;
    rc = sq_simple(db, "BEGIN IMMEDIATE");
    sq_write_end(db); /* a failed BEGIN leaves autocommit on: let go at once */
    return rc;
}

static int sq_commit(struct db *db)
{
    int rc = sq_simple(db, "COMMIT");
    sq_write_end(db); /* a failed COMMIT keeps the transaction: the caller rolls back */
    return rc;
}

static int sq_rollback(struct db *db)
{
    int rc = DB_OK;
    if (!sqlite3_get_autocommit(db->conn)) /* else SQLite already rolled back (SQLITE_FULL...) */
        rc = sq_simple(db, "ROLLBACK");
    sq_write_end(db);
    return rc;
}

static int sq_script(struct db *db, const char *sql) { return sq_simple(db, sql); }

static int64_t sq_total_changes(struct db *db) { return sqlite3_total_changes64(db->conn); }

static int64_t sq_wal_pages(struct db *db) { return db->wal_pages; }

/* The database file's pages written so far, synced. The checkpoint below needs it: SQLite
 * syncs the database only after a checkpoint that copied the log to its very end, so the
 * pages of every round that commits overtook were left for whichever checkpoint got there,
 * which was the writer's, paying for all of them (20 ms at 3,500 messages/s). The file is
 * this connection's own (SQLITE_FCNTL_FILE_POINTER), synced through its VFS methods. */
static int sq_sync_db(struct db *db)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(db->conn, "main", SQLITE_FCNTL_FILE_POINTER, &f);
    if (rc == SQLITE_OK && (!f || !f->pMethods))
        rc = SQLITE_MISUSE;
    return rc == SQLITE_OK ? f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) : rc;
}

/* PASSIVE copies what it can without waiting for the writer or readers, and the log restarts
 * from its beginning at the next write transaction that finds all of it copied. A round run
 * beside a committing writer never gets there: what was committed while it copied and
 * synced is left. So rounds repeat while more than SQ_CHECKPOINT_TAIL pages were committed
 * during the last one, each copying what came in during the one before (up to
 * SQ_CHECKPOINT_ROUNDS), and each syncs what it wrote. realtime.c then has the writer run
 * this between two batches, when no commit can overtake it: it copies the small rest, and the
 * next transaction restarts the log. */
static int sq_checkpoint(struct db *db)
{
    int before = 0;
    for (int round = 0; round < SQ_CHECKPOINT_ROUNDS; round++) {
        int log = 0;
        int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, NULL);
        if (rc == SQLITE_OK)
            rc = sq_sync_db(db);
        if (rc != SQLITE_OK) {
            sq_seterr(db, "checkpoint");
            return sq_map(rc);
        }
        if (log - before <= SQ_CHECKPOINT_TAIL) /* a short round: little came in meanwhile */
            break;
        before = log;
    }
    return DB_OK;
}

/* "$7" -> 7; anything else -> 0 (rejected: we only write numbered placeholders). */
static int sq_param_number(const char *name)
{
    if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
        return 0;
    char *end;
    long v = strtol(name + 1, &end, 10);
    return (*end || v > 999) ? 0 : (int)v;
}

static int sq_bind_one(sqlite3_stmt *stmt, int idx, const struct db_param *p)
{
    switch (p->type) {
    case DB_T_INT: return sqlite3_bind_int64(stmt, idx, p->i);
    case DB_T_TEXT: return sqlite3_bind_text64(stmt, idx, p->p, p->len, SQLITE_STATIC, SQLITE_UTF8);
    case DB_T_BLOB:
        /* A zero-length blob must still be a blob, not NULL: bind with a dummy pointer. */
        return sqlite3_bind_blob64(stmt, idx, p->len ? p->p : "", p->len, SQLITE_STATIC);
    case DB_T_NULL:
    default: return sqlite3_bind_null(stmt, idx);
    }
}

static int sq_bind(struct db *db, sqlite3_stmt *stmt, const struct db_param *params, int n)
{
    int count = sqlite3_bind_parameter_count(stmt);
    for (int idx = 1; idx <= count; idx++) {
        int num = sq_param_number(sqlite3_bind_parameter_name(stmt, idx));
        if (num < 1 || num > n) {
            snprintf(db->err, sizeof db->err, "sqlite: parameter %d missing or misnamed", idx);
            return DB_ERR;
        }
        if (sq_bind_one(stmt, idx, &params[num - 1]) != SQLITE_OK) {
            sq_seterr(db, "bind");
            return DB_ERR;
        }
    }
    return DB_OK;
}

static int sq_prepare(struct db *db, const char *sql, const struct db_param *params, int n,
                      sqlite3_stmt **out)
{
    sqlite3_stmt *stmt = stmt_cache_get(&db->cache, sql);
    if (!stmt) {
        if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
            SQLITE_OK) {
            sq_seterr(db, sql);
            return DB_ERR;
        }
        stmt_cache_put(&db->cache, sql, stmt);
    }
    int rc = sq_bind(db, stmt, params, n);
    if (rc != DB_OK) {
        sqlite3_clear_bindings(stmt);
        return rc;
    }
    *out = stmt;
    return DB_OK;
}

static void sq_release(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static int sq_step_error(struct db *db, sqlite3_stmt *stmt)
{
    int ext = sqlite3_extended_errcode(db->conn);
    sq_seterr(db, sqlite3_sql(stmt));
    return sq_map(ext);
}

static int sq_exec(struct db *db, const char *sql, const struct db_param *params, int n,
                   int64_t *changes)
{
    sqlite3_stmt *stmt;
    int rc = sq_prepare(db, sql, params, n, &stmt);
    if (rc != DB_OK)
        return rc;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
        ; /* a RETURNING clause nobody reads: step through it */
    rc = step == SQLITE_DONE ? DB_OK : sq_step_error(db, stmt);
    if (rc == DB_OK && changes)
        *changes = sqlite3_changes64(db->conn);
    sq_release(stmt);
    return rc;
}

static int sq_query(struct db *db, const char *sql, const struct db_param *params, int n,
                    struct db_rows **out)
{
    sqlite3_stmt *stmt;
    int rc = sq_prepare(db, sql, params, n, &stmt);
    *out = NULL;
    if (rc != DB_OK)
        return rc;
    db->rows = (struct db_rows){db, stmt};
    *out = &db->rows;
    return DB_OK;
}

static int sq_next(struct db_rows *rows)
{
    int step = sqlite3_step(rows->stmt);
    if (step == SQLITE_ROW)
        return 1;
    if (step == SQLITE_DONE)
        return 0;
    return sq_step_error(rows->db, rows->stmt);
}

static void sq_done(struct db_rows *rows)
{
    if (rows)
        sq_release(rows->stmt);
}

static int sq_is_null(struct db_rows *rows, int col)
{
    return sqlite3_column_type(rows->stmt, col) == SQLITE_NULL;
}

static int64_t sq_get_int(struct db_rows *rows, int col)
{
    return sqlite3_column_int64(rows->stmt, col);
}

static const char *sq_get_text(struct db_rows *rows, int col, size_t *len)
{
    const char *s = (const char *)sqlite3_column_text(rows->stmt, col);
    if (len)
        *len = (size_t)sqlite3_column_bytes(rows->stmt, col);
    return s;
}

static const void *sq_get_blob(struct db_rows *rows, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(rows->stmt, col);
    if (len)
        *len = (size_t)sqlite3_column_bytes(rows->stmt, col);
    return p;
}

static const char *sq_errmsg(struct db *db) { return db->err; }

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .dialect = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .query = sq_query,
    .next = sq_next,
    .done = sq_done,
    .is_null = sq_is_null,
    .get_int = sq_get_int,
    .get_text = sq_get_text,
    .get_blob = sq_get_blob,
    .script = sq_script,
    .errmsg = sq_errmsg,
    .checkpoint = sq_checkpoint,
    .total_changes = sq_total_changes,
    .wal_pages = sq_wal_pages,
};
