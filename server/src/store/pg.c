/* pg.c: the PostgreSQL implementation of the db driver (libpq).
 *
 * One connection per worker thread. Each SQL string is prepared once per connection
 * (PQprepare, named "s<n>", cached by the SQL pointer) and run with PQexecPrepared.
 *
 * Parameter types are left for the server to infer from the statement, and integers are
 * sent in text form: one shared SQL text then works whether a column is SMALLINT, INTEGER or
 * BIGINT (a binary int8 sent to an inferred int4 would be refused). Text and blobs go in
 * binary form (their bytes, with a length), so ciphertext is never escaped and text needs no
 * terminator. Results come back binary and the getters decode by column type.
 *
 * A lost connection is reset before the next statement when no transaction is open; the
 * statement cache is dropped with it, since prepared statements die with their session.
 *
 * Built as the module sotto_store_pg.so (with stmt_cache.c, symbols hidden): sottod does not
 * link libpq; store.c dlopens this module when DATABASE_URL is a PostgreSQL URL and reads
 * `sotto_db_module`, the one exported symbol. The module needs nothing from the main binary.
 */
#include "db.h"
#include "stmt_cache.h"

#include <endian.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_MAX_PARAMS 32

/* Type OIDs from pg_type.h (server headers are not installed with libpq-dev). */
enum { PG_BOOLOID = 16, PG_INT8OID = 20, PG_INT2OID = 21, PG_INT4OID = 23 };

struct db_rows {
    struct db *db;
    PGresult *res;
    int row, nrows;
};

struct db {
    PGconn *conn;
    struct stmt_cache cache;
    uintptr_t next_stmt; /* statement names s1, s2, ... */
    int in_tx;
    struct db_rows rows;
    char err[256];
};

static void pg_quiet(void *arg, const char *message)
{
    (void)arg; /* NOTICEs (e.g. "relation already exists, skipping") are not errors */
    (void)message;
}

/* libpq messages span lines; logs want one. */
static void pg_seterr(struct db *db, const char *what, const char *msg)
{
    snprintf(db->err, sizeof db->err, "%s: %s", what, msg ? msg : "unknown error");
    size_t n = strlen(db->err);
    for (char *p = db->err; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    while (n > 0 && db->err[n - 1] == ' ')
        db->err[--n] = '\0';
}

static int pg_map_state(const char *state)
{
    if (!state)
        return DB_ERR;
    if (!strcmp(state, "23505"))
        return DB_UNIQUE;
    if (!strcmp(state, "23503"))
        return DB_FOREIGN;
    if (!strncmp(state, "23", 2))
        return DB_CONSTRAINT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return DB_BUSY;
    return DB_ERR;
}

/* Check a result; on error record it, clear it and map its SQLSTATE. */
static int pg_check(struct db *db, PGresult *res, const char *what)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return DB_OK;
    int rc = res ? pg_map_state(PQresultErrorField(res, PG_DIAG_SQLSTATE)) : DB_ERR;
    pg_seterr(db, what, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    PQclear(res);
    return rc;
}

static int pg_open(const char *target, struct db **out, char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        abort();
    *out = NULL;
    db->conn = PQconnectdb(target);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        pg_seterr(db, "postgresql: cannot connect", PQerrorMessage(db->conn));
        snprintf(err, errlen, "%s", db->err);
        PQfinish(db->conn);
        free(db);
        return DB_ERR;
    }
    PQsetNoticeProcessor(db->conn, pg_quiet, NULL);
    *out = db;
    return DB_OK;
}

static void pg_forget(void *stmt, void *ctx)
{
    (void)stmt; /* names only; the server frees the statements with the session */
    (void)ctx;
}

static void pg_close(struct db *db)
{
    if (!db)
        return;
    stmt_cache_clear(&db->cache, pg_forget, NULL);
    PQfinish(db->conn);
    free(db);
}

/* Outside a transaction a broken connection is re-established; inside, the transaction is
 * lost anyway and the error surfaces to the caller. */
static int pg_ensure(struct db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        return DB_OK;
    if (db->in_tx)
        return DB_ERR;
    PQreset(db->conn);
    stmt_cache_clear(&db->cache, pg_forget, NULL);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        pg_seterr(db, "postgresql: reconnect", PQerrorMessage(db->conn));
        return DB_ERR;
    }
    return DB_OK;
}

static int pg_simple(struct db *db, const char *sql)
{
    int rc = pg_ensure(db);
    if (rc != DB_OK)
        return rc;
    PGresult *res = PQexec(db->conn, sql);
    rc = pg_check(db, res, "postgresql");
    if (rc == DB_OK)
        PQclear(res);
    return rc;
}

static int pg_begin(struct db *db)
{
    int rc = pg_simple(db, "BEGIN");
    db->in_tx = rc == DB_OK;
    return rc;
}

static int pg_commit(struct db *db)
{
    int rc = pg_simple(db, "COMMIT");
    db->in_tx = 0;
    return rc;
}

static int pg_rollback(struct db *db)
{
    int rc = PQstatus(db->conn) == CONNECTION_OK ? pg_simple(db, "ROLLBACK") : DB_OK;
    db->in_tx = 0;
    return rc;
}

static int pg_script(struct db *db, const char *sql) { return pg_simple(db, sql); }

static int pg_prepare(struct db *db, const char *sql, int n, char name[24])
{
    uintptr_t id = (uintptr_t)stmt_cache_get(&db->cache, sql);
    if (!id) {
        id = ++db->next_stmt;
        snprintf(name, 24, "s%" PRIuPTR, id);
        PGresult *res = PQprepare(db->conn, name, sql, n, NULL);
        int rc = pg_check(db, res, sql);
        if (rc != DB_OK)
            return rc;
        PQclear(res);
        stmt_cache_put(&db->cache, sql, (void *)id);
    }
    snprintf(name, 24, "s%" PRIuPTR, id);
    return DB_OK;
}

/* Run a cached statement; *out gets the result (caller clears it). */
static int pg_run(struct db *db, const char *sql, const struct db_param *params, int n,
                  PGresult **out)
{
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS], formats[PG_MAX_PARAMS];
    char ints[PG_MAX_PARAMS][24];
    char name[24];
    int rc = n > PG_MAX_PARAMS ? DB_ERR : pg_ensure(db);
    if (rc == DB_OK)
        rc = pg_prepare(db, sql, n, name);
    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < n; i++) {
        const struct db_param *p = &params[i];
        formats[i] = p->type != DB_T_INT; /* text's binary form is its bytes: no NUL needed */
        lengths[i] = (int)p->len;
        values[i] = p->type == DB_T_NULL ? NULL : p->len ? p->p : "";
        if (p->type == DB_T_INT) {
            snprintf(ints[i], sizeof ints[i], "%" PRId64, p->i);
            values[i] = ints[i];
            lengths[i] = 0; /* ignored for text format */
        }
    }
    PGresult *res = PQexecPrepared(db->conn, name, n, values, lengths, formats, 1);
    rc = pg_check(db, res, sql);
    *out = rc == DB_OK ? res : NULL;
    return rc;
}

static int pg_exec(struct db *db, const char *sql, const struct db_param *params, int n,
                   int64_t *changes)
{
    PGresult *res;
    int rc = pg_run(db, sql, params, n, &res);
    if (rc != DB_OK)
        return rc;
    if (changes) {
        const char *t = PQcmdTuples(res);
        *changes = *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    return DB_OK;
}

static int pg_query(struct db *db, const char *sql, const struct db_param *params, int n,
                    struct db_rows **out)
{
    PGresult *res;
    int rc = pg_run(db, sql, params, n, &res);
    *out = NULL;
    if (rc != DB_OK)
        return rc;
    db->rows = (struct db_rows){db, res, -1, PQntuples(res)};
    *out = &db->rows;
    return DB_OK;
}

static int pg_next(struct db_rows *rows)
{
    if (rows->row + 1 >= rows->nrows)
        return 0;
    rows->row++;
    return 1;
}

static void pg_done(struct db_rows *rows)
{
    if (!rows)
        return;
    PQclear(rows->res);
    rows->res = NULL;
}

static int pg_is_null(struct db_rows *rows, int col)
{
    return PQgetisnull(rows->res, rows->row, col);
}

static int64_t pg_get_int(struct db_rows *rows, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(rows->res, rows->row, col);
    int len = PQgetlength(rows->res, rows->row, col);
    uint64_t u = 0;
    if (PQgetisnull(rows->res, rows->row, col))
        return 0;
    switch (PQftype(rows->res, col)) {
    case PG_INT8OID:
    case PG_INT4OID:
    case PG_INT2OID:
    case PG_BOOLOID:
        for (int i = 0; i < len; i++) /* big-endian, sign-extended below */
            u = (u << 8) | v[i];
        if (len > 0 && len < 8 && (v[0] & 0x80))
            u |= ~(uint64_t)0 << (8 * len);
        return (int64_t)u;
    default: return 0; /* a schema mismatch: the contract tests catch it */
    }
}

static const char *pg_get_text(struct db_rows *rows, int col, size_t *len)
{
    if (len)
        *len = (size_t)PQgetlength(rows->res, rows->row, col);
    if (PQgetisnull(rows->res, rows->row, col))
        return NULL;
    return PQgetvalue(rows->res, rows->row, col); /* libpq NUL-terminates every value */
}

static const void *pg_get_blob(struct db_rows *rows, int col, size_t *len)
{
    return pg_get_text(rows, col, len);
}

static const char *pg_errmsg(struct db *db) { return db->err; }

const struct db_driver db_pg_driver = {
    .name = "postgresql",
    .dialect = DB_PG,
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .query = pg_query,
    .next = pg_next,
    .done = pg_done,
    .is_null = pg_is_null,
    .get_int = pg_get_int,
    .get_text = pg_get_text,
    .get_blob = pg_get_blob,
    .script = pg_script,
    .errmsg = pg_errmsg,
};

#ifdef SOTTO_STORE_MODULE
/* The module's one exported symbol (the module is built with hidden visibility). */
extern const struct db_module sotto_db_module;
__attribute__((visibility("default"))) const struct db_module sotto_db_module = {
    .abi = DB_MODULE_ABI,
    .driver_size = (uint32_t)sizeof(struct db_driver),
    .driver = &db_pg_driver,
};
#endif
