/* store.c: choosing the backend from configuration (loading the PostgreSQL module when it
 * is asked for), opening a connection, nested transactions, health, ids, and the small
 * helpers the domain files share.
 */
#include "store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/module.h"

#define SQLITE_FILE "sotto.db"
#define STORE_PG_MODULE "sotto_store_pg.so"

static const char *const store_err_names[] = {
    [STORE_OK] = "ok",
    [STORE_NOT_FOUND] = "not_found",
    [STORE_CONFLICT] = "conflict",
    [STORE_CONFLICT_EMAIL] = "conflict_email",
    [STORE_CONFLICT_USERNAME] = "conflict_username",
    [STORE_CONFLICT_KEY] = "conflict_key",
    [STORE_IDENTITY_IMMUTABLE] = "identity_immutable",
    [STORE_LIMIT] = "limit",
    [STORE_TOKEN_REUSED] = "token_reused",
    [STORE_INVALID] = "invalid",
    [STORE_BUSY] = "busy",
    [STORE_ERROR] = "error",
    [STORE_FORBIDDEN] = "forbidden",
    [STORE_MISMATCH] = "mismatch",
    [STORE_QUOTA] = "quota",
};

const char *store_strerror(enum store_err err)
{
    if ((unsigned)err >= sizeof store_err_names / sizeof store_err_names[0])
        return "unknown";
    return store_err_names[err];
}

void *store_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *store_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

void *store_xgrow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(arr, *cap * size);
    if (!grown)
        abort();
    return grown;
}

char *store_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

struct db_param db_text(const char *s)
{
    if (!s)
        return DB_NULL;
    return DB_TEXTN(s, strlen(s));
}

int db_exists(const struct db_driver *drv, struct db *db, const char *sql,
              const struct db_param *params, int n)
{
    struct db_rows *r;
    int rc = drv->query(db, sql, params, n, &r);
    if (rc == DB_OK)
        rc = drv->next(r);
    drv->done(r);
    return rc;
}

static bool store_is_pg_url(const char *url)
{
    return !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11);
}

enum store_err store_config_check(const struct store_config *cfg, char *err, size_t errlen)
{
    const char *url = cfg->database_url;
    if (url && *url && !store_is_pg_url(url)) {
        snprintf(err, errlen, "DATABASE_URL: must start with postgresql:// (unset for SQLite)");
        return STORE_INVALID;
    }
    if ((!url || !*url) && (!cfg->data_dir || !*cfg->data_dir)) {
        snprintf(err, errlen, "DATA_DIR: must be set when DATABASE_URL is unset");
        return STORE_INVALID;
    }
    return STORE_OK;
}

/* SQLite's file lives in DATA_DIR; make the directory (private) if it is missing. */
static enum store_err store_sqlite_path(const char *dir, char **path, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "DATA_DIR: cannot create %s: %s", dir, strerror(errno));
        return STORE_INVALID;
    }
    size_t n = strlen(dir) + sizeof "/" SQLITE_FILE;
    *path = store_xmalloc(n);
    snprintf(*path, n, "%s/%s", dir, SQLITE_FILE);
    return STORE_OK;
}

/* ---------- the PostgreSQL module ----------
 *
 * libpq pulls in some twenty libraries (Kerberos, LDAP, SASL, GnuTLS, ...) that an embedded
 * SQLite node never uses, so the PostgreSQL driver lives in lib/sotto_store_pg.so and is
 * loaded here through module_load (module.h: directory, permission and ABI checks), once, on
 * the first PostgreSQL store_open. It stays loaded until exit. */

static pthread_mutex_t store_pg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct db_driver *store_pg_drv; /* under store_pg_lock; set once, never reset */

static const struct db_driver *store_pg_load(const char *module_dir, char *err, size_t errlen)
{
    const struct db_module *m =
        module_load(module_dir, STORE_PG_MODULE, DB_MODULE_SYMBOL, DB_MODULE_ABI,
                    (uint32_t)sizeof(struct db_driver), "postgresql", err, errlen);
    if (!m)
        return NULL;
    if (!m->driver || m->driver->dialect != DB_PG) {
        module_seterr(err, errlen, "postgresql: module %s is not a PostgreSQL driver",
                      STORE_PG_MODULE);
        return NULL;
    }
    return m->driver;
}

/* The PostgreSQL driver, loading its module on first use. Thread-safe (workers open their
 * connections concurrently). NULL with a one-line reason in err when it cannot be loaded. */
static const struct db_driver *store_pg_driver(const char *module_dir, char *err, size_t errlen)
{
    pthread_mutex_lock(&store_pg_lock);
    if (!store_pg_drv)
        store_pg_drv = store_pg_load(module_dir, err, errlen);
    const struct db_driver *drv = store_pg_drv;
    pthread_mutex_unlock(&store_pg_lock);
    return drv;
}

enum store_err store_open(const struct store_config *cfg, struct store **out, char *err,
                          size_t errlen)
{
    char *path = NULL;
    struct store *s = NULL;
    enum store_err rc = store_config_check(cfg, err, errlen);
    *out = NULL;
    if (rc != STORE_OK)
        goto fail;
    s = store_xcalloc(1, sizeof *s);
    if (cfg->database_url && *cfg->database_url) {
        if (!(s->drv = store_pg_driver(cfg->module_dir, err, errlen))) {
            rc = STORE_INVALID; /* a deployment fault, like a bad DATABASE_URL: exit 2 */
            goto fail;
        }
    } else {
        s->drv = &db_sqlite_driver;
        if ((rc = store_sqlite_path(cfg->data_dir, &path, err, errlen)) != STORE_OK)
            goto fail;
    }
    if (s->drv->open(path ? path : cfg->database_url, &s->db, err, errlen) != DB_OK) {
        rc = STORE_ERROR;
        goto fail;
    }
    free(path);
    *out = s;
    return STORE_OK;
fail:
    free(path);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->depth)
        s->drv->rollback(s->db);
    s->drv->close(s->db);
    free(s);
}

const char *store_backend(const struct store *s) { return s->drv->name; }
const char *store_errmsg(const struct store *s) { return s->drv->errmsg(s->db); }

enum store_err store_map(int db_rc)
{
    switch (db_rc) {
    case DB_OK: return STORE_OK;
    case DB_UNIQUE: return STORE_CONFLICT;
    case DB_FOREIGN: return STORE_NOT_FOUND; /* a reference to a row that does not exist */
    case DB_BUSY: return STORE_BUSY;
    case DB_CONSTRAINT: return STORE_INVALID;
    default: return STORE_ERROR;
    }
}

enum store_err store_checkpoint(struct store *s)
{
    if (!s->drv->checkpoint)
        return STORE_OK;
    return store_map(s->drv->checkpoint(s->db));
}

size_t store_wal_pages(struct store *s)
{
    return s->drv->wal_pages ? (size_t)s->drv->wal_pages(s->db) : 0;
}

enum store_err store_tune_writer(struct store *s)
{
    if (s->drv->dialect != DB_SQLITE)
        return STORE_OK;
    return store_map(s->drv->script(s->db, "PRAGMA cache_size=-16384"));
}

enum store_err store_ping(struct store *s)
{
    static const char sql[] = "SELECT 1";
    int rc = db_exists(s->drv, s->db, sql, NULL, 0);
    return rc == 1 ? STORE_OK : STORE_ERROR;
}

/* Nesting: the outer level is the database transaction; every inner level is a SAVEPOINT
 * (s0, s1, ... by depth), so an inner rollback undoes only that level's work and the outer
 * transaction goes on (group commit runs many requests, each in its own savepoint, in one
 * transaction). Inner commit is RELEASE. If an inner level cannot be rolled back to its
 * savepoint (SQLite rolled the whole transaction back after SQLITE_FULL or an I/O error, or
 * the connection failed), the outer commit is doomed: it rolls back and fails. Callers
 * propagate an inner failure as before; those that rolled back the outer level on it still
 * do, and nothing relies on an inner failure poisoning the outer commit any more. */
static const char *const store_sp_begin[STORE_SAVEPOINTS] = {
    "SAVEPOINT s0",  "SAVEPOINT s1",  "SAVEPOINT s2",  "SAVEPOINT s3",
    "SAVEPOINT s4",  "SAVEPOINT s5",  "SAVEPOINT s6",  "SAVEPOINT s7",
    "SAVEPOINT s8",  "SAVEPOINT s9",  "SAVEPOINT s10", "SAVEPOINT s11",
    "SAVEPOINT s12", "SAVEPOINT s13", "SAVEPOINT s14", "SAVEPOINT s15"};
static const char *const store_sp_release[STORE_SAVEPOINTS] = {
    "RELEASE SAVEPOINT s0",  "RELEASE SAVEPOINT s1",  "RELEASE SAVEPOINT s2",
    "RELEASE SAVEPOINT s3",  "RELEASE SAVEPOINT s4",  "RELEASE SAVEPOINT s5",
    "RELEASE SAVEPOINT s6",  "RELEASE SAVEPOINT s7",  "RELEASE SAVEPOINT s8",
    "RELEASE SAVEPOINT s9",  "RELEASE SAVEPOINT s10", "RELEASE SAVEPOINT s11",
    "RELEASE SAVEPOINT s12", "RELEASE SAVEPOINT s13", "RELEASE SAVEPOINT s14",
    "RELEASE SAVEPOINT s15"};
static const char *const store_sp_rollback[STORE_SAVEPOINTS] = {
    "ROLLBACK TO SAVEPOINT s0; RELEASE SAVEPOINT s0",
    "ROLLBACK TO SAVEPOINT s1; RELEASE SAVEPOINT s1",
    "ROLLBACK TO SAVEPOINT s2; RELEASE SAVEPOINT s2",
    "ROLLBACK TO SAVEPOINT s3; RELEASE SAVEPOINT s3",
    "ROLLBACK TO SAVEPOINT s4; RELEASE SAVEPOINT s4",
    "ROLLBACK TO SAVEPOINT s5; RELEASE SAVEPOINT s5",
    "ROLLBACK TO SAVEPOINT s6; RELEASE SAVEPOINT s6",
    "ROLLBACK TO SAVEPOINT s7; RELEASE SAVEPOINT s7",
    "ROLLBACK TO SAVEPOINT s8; RELEASE SAVEPOINT s8",
    "ROLLBACK TO SAVEPOINT s9; RELEASE SAVEPOINT s9",
    "ROLLBACK TO SAVEPOINT s10; RELEASE SAVEPOINT s10",
    "ROLLBACK TO SAVEPOINT s11; RELEASE SAVEPOINT s11",
    "ROLLBACK TO SAVEPOINT s12; RELEASE SAVEPOINT s12",
    "ROLLBACK TO SAVEPOINT s13; RELEASE SAVEPOINT s13",
    "ROLLBACK TO SAVEPOINT s14; RELEASE SAVEPOINT s14",
    "ROLLBACK TO SAVEPOINT s15; RELEASE SAVEPOINT s15"};

/* Light nesting (store_begin_batch on SQLite): an inner level is only a mark of the
 * connection's change count. Its commit does nothing; its rollback does nothing either when
 * the level changed no row (every refusal a batched request can meet is found before its
 * first write) and dooms the outer transaction when it did, since there is no savepoint to
 * return to. SQLite journals the original of every page written inside a savepoint, which
 * cost a group-committed send about a fifth of its time. */
static enum store_err store_begin_light(struct store *s)
{
    s->marks[s->depth - 1] = s->drv->total_changes(s->db);
    s->depth++;
    return STORE_OK;
}

enum store_err store_begin(struct store *s)
{
    if (s->depth > 0) {
        /* Level depth+1 is savepoint s<depth>. */
        if (s->depth > STORE_SAVEPOINTS || s->doomed)
            return STORE_ERROR;
        if (s->light)
            return store_begin_light(s);
        int rc = s->drv->script(s->db, store_sp_begin[s->depth - 1]);
        if (rc != DB_OK) {
            s->doomed = true;
            return store_map(rc);
        }
        s->depth++;
        return STORE_OK;
    }
    s->doomed = false;
    s->light = false;
    int rc = s->drv->begin(s->db);
    if (rc == DB_OK)
        s->depth = 1;
    return store_map(rc);
}

enum store_err store_begin_batch(struct store *s)
{
    if (s->depth > 0)
        return STORE_ERROR; /* only as the outermost level */
    enum store_err rc = store_begin(s);
    if (rc == STORE_OK)
        s->light = s->drv->total_changes != NULL;
    return rc;
}

enum store_err store_commit(struct store *s)
{
    if (s->depth <= 0)
        return STORE_ERROR;
    if (--s->depth > 0) {
        if (s->doomed)
            return STORE_ERROR;
        if (s->light)
            return STORE_OK;
        int rc = s->drv->script(s->db, store_sp_release[s->depth - 1]);
        if (rc != DB_OK) {
            s->doomed = true;
            return store_map(rc);
        }
        return STORE_OK;
    }
    if (s->doomed) {
        s->drv->rollback(s->db);
        return STORE_ERROR;
    }
    int rc = s->drv->commit(s->db);
    if (rc != DB_OK)
        s->drv->rollback(s->db);
    return store_map(rc);
}

void store_rollback(struct store *s)
{
    if (s->depth <= 0)
        return;
    if (--s->depth > 0) {
        if (s->light) {
            if (s->drv->total_changes(s->db) != s->marks[s->depth - 1])
                s->doomed = true;
            return;
        }
        if (!s->doomed && s->drv->script(s->db, store_sp_rollback[s->depth - 1]) != DB_OK)
            s->doomed = true;
        return;
    }
    s->drv->rollback(s->db);
}

enum store_err store_finish(struct store *s, enum store_err rc)
{
    if (rc == STORE_OK)
        return store_commit(s);
    store_rollback(s);
    return rc;
}

enum store_err store_exec(struct store *s, const char *sql, const struct db_param *p, int n,
                          int64_t *changes)
{
    return store_map(s->drv->exec(s->db, sql, p, n, changes));
}

char *store_col_strdup(struct store *s, struct db_rows *r, int col)
{
    if (s->drv->is_null(r, col))
        return NULL;
    size_t len;
    const char *t = s->drv->get_text(r, col, &len);
    char *d = store_xmalloc(len + 1);
    memcpy(d, t ? t : "", len);
    d[len] = '\0';
    return d;
}

enum store_err store_col_fixed(struct store *s, struct db_rows *r, int col, void *out, size_t n)
{
    size_t len;
    const void *p = s->drv->get_blob(r, col, &len);
    if (len != n || !p)
        return STORE_ERROR;
    memcpy(out, p, n);
    return STORE_OK;
}

void store_col_id(struct store *s, struct db_rows *r, int col, char out[STORE_ID_SIZE])
{
    size_t len = 0;
    const char *t = s->drv->is_null(r, col) ? NULL : s->drv->get_text(r, col, &len);
    if (!t || len > STORE_ID_LEN)
        len = 0;
    memcpy(out, t ? t : "", len);
    out[len] = '\0';
}

char *store_ascii_lower(const char *s)
{
    char *d = store_xstrdup(s ? s : ""); /* NULL reads as "": matches nothing, stores nothing */
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

static void store_random(void *buf, size_t n)
{
    /* getrandom blocks only before the kernel pool is seeded; a short read cannot happen
     * for n <= 256, but loop anyway. */
    for (size_t got = 0; got < n;) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* no randomness: ids would collide; refuse to run */
        }
        got += (size_t)r;
    }
}

static void store_uuid_format(const uint8_t b[16], char out[STORE_ID_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void store_uuid_v4(char out[STORE_ID_SIZE])
{
    uint8_t b[16];
    store_random(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    store_uuid_format(b, out);
}

static void store_uuid_v7_fill(uint8_t b[16], uint64_t ms)
{
    for (int i = 0; i < 6; i++) /* 48-bit big-endian milliseconds: ids sort by time */
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x70);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
}

void store_uuid_v7(char out[STORE_ID_SIZE], int64_t now)
{
    uint8_t b[16];
    store_random(b, sizeof b);
    store_uuid_v7_fill(b, (uint64_t)now);
    store_uuid_format(b, out);
}

/* The last ordered id this process made: its milliseconds and its 74 bits after them, as
 * rand_a (12 bits) and rand_b (62 bits). RFC 9562 6.2, method 2: within one millisecond (or
 * when the clock steps back) the next id is the last plus one, so ids made one after another
 * sort in that order; a new millisecond starts from fresh randomness with rand_a's top bit
 * clear, leaving 2^73 ids of room before the counter would carry into the time. */
static struct {
    pthread_mutex_t lock;
    uint64_t ms, rand_a, rand_b;
} store_v7_last = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

#define V7_RAND_B_MAX ((UINT64_C(1) << 62) - 1)
#define V7_RAND_A_MAX 0xfffu

void store_uuid_v7_ordered(char out[STORE_ID_SIZE], int64_t now)
{
    uint8_t b[16];
    uint64_t ms = now > 0 ? (uint64_t)now : 0, ra, rb;

    store_random(b, sizeof b);
    pthread_mutex_lock(&store_v7_last.lock);
    if (ms > store_v7_last.ms) {
        store_v7_last.ms = ms;
        store_v7_last.rand_a = ((uint64_t)(b[6] & 0x07) << 8) | b[7];
        store_v7_last.rand_b = 0;
        for (int i = 8; i < 16; i++)
            store_v7_last.rand_b = (store_v7_last.rand_b << 8) | b[i];
        store_v7_last.rand_b &= V7_RAND_B_MAX;
    } else if (store_v7_last.rand_b < V7_RAND_B_MAX) {
        store_v7_last.rand_b++;
    } else if (store_v7_last.rand_a < V7_RAND_A_MAX) {
        store_v7_last.rand_a++;
        store_v7_last.rand_b = 0;
    } else { /* 2^73 ids in one millisecond: borrow the next one */
        store_v7_last.ms++;
        store_v7_last.rand_a = store_v7_last.rand_b = 0;
    }
    ms = store_v7_last.ms;
    ra = store_v7_last.rand_a;
    rb = store_v7_last.rand_b;
    pthread_mutex_unlock(&store_v7_last.lock);

    b[6] = (uint8_t)(ra >> 8);
    b[7] = (uint8_t)ra;
    for (int i = 15; i >= 8; i--, rb >>= 8)
        b[i] = (uint8_t)rb;
    store_uuid_v7_fill(b, ms);
    store_uuid_format(b, out);
}
