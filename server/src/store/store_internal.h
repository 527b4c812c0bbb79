/* store_internal.h: what the store's own files share (the connection handle and small
 * helpers over the driver). Not for use outside server/src/store/.
 */
#ifndef SOTTO_STORE_INTERNAL_H
#define SOTTO_STORE_INTERNAL_H

#include "db.h"
#include "store.h"

#define STORE_SAVEPOINTS 16 /* nesting levels below the outermost (store.c) */

struct store {
    const struct db_driver *drv;
    struct db *db;
    int depth;   /* transaction nesting */
    bool doomed; /* an inner level could not be rolled back to its savepoint: the outer commit
                    must roll back */
    bool light;  /* store_begin_batch on a driver with total_changes: inner levels are marks */
    int64_t marks[STORE_SAVEPOINTS]; /* light inner levels: total_changes at their begin */
};

/* Map a driver error to a store error (unique violations become STORE_CONFLICT). */
enum store_err store_map(int db_rc);

/* Run a statement without rows; *changes may be NULL. */
enum store_err store_exec(struct store *s, const char *sql, const struct db_param *p, int n,
                          int64_t *changes);

/* Pick the SQL for this backend (for the few statements whose dialects differ). */
static inline const char *store_sql(const struct store *s, const char *sqlite_sql,
                                    const char *pg_sql)
{
    return s->drv->dialect == DB_PG ? pg_sql : sqlite_sql;
}

/* Commit when rc is STORE_OK, else roll back; returns the first error. */
enum store_err store_finish(struct store *s, enum store_err rc);

/* Copies of column values. NULL stays NULL. Abort on out of memory. */
char *store_col_strdup(struct store *s, struct db_rows *r, int col);
/* Copy a column of exactly n bytes into out; STORE_ERROR if the size differs. */
enum store_err store_col_fixed(struct store *s, struct db_rows *r, int col, void *out, size_t n);
/* Copy a text column into an id buffer (empty string when NULL). */
void store_col_id(struct store *s, struct db_rows *r, int col, char out[STORE_ID_SIZE]);

/* Lowercase ASCII letters only: the one case rule both backends share. Caller frees. */
char *store_ascii_lower(const char *s);

/* Make room for one more element in a growing array: returns arr (or its replacement) with
 * capacity for at least n + 1 elements of `size`, updating *cap. Aborts on out of memory. */
void *store_xgrow(void *arr, size_t *cap, size_t n, size_t size);

void *store_xmalloc(size_t n);
void *store_xcalloc(size_t n, size_t size);
char *store_xstrdup(const char *s);

/* ---------- the per-account count of queued ciphertext (queued_bytes.c) ---------- */

/* Add bytes to user_id's count unless that would pass max (0 or less: no bound): STORE_QUOTA
 * then, with nothing written. A negative bytes gives some back, unchecked. */
enum store_err queued_bytes_charge(struct store *s, const char *user_id, int64_t bytes,
                                   int64_t max);

/* Subtract from each sender what the rows of sum_sql (one per sender: id, bytes; see
 * QUEUED_BYTES_SUM) hold. Run it just before the statement that drops those rows'
 * ciphertext, in the same transaction. */
enum store_err queued_bytes_release(struct store *s, const char *sum_sql, const struct db_param *p,
                                    int n);

/* The ciphertext bytes per sender of the queue rows `q` matching `where`, for
 * queued_bytes_release. PostgreSQL locks those rows first (FOR UPDATE re-reads any row a
 * concurrent transaction changed, and drops it when its ciphertext is gone), so each byte
 * is released by exactly one transaction; SQLite has one writer and needs no lock. Pick with
 * store_sql(s, QUEUED_BYTES_SUM(w, ""), QUEUED_BYTES_SUM(w, QUEUED_BYTES_LOCK)). */
#define QUEUED_BYTES_SUM(where, lock)                                                         \
    "SELECT sender, SUM(len) FROM (SELECT m.sender_user_id AS sender, "                       \
    "length(q.ciphertext) AS len FROM device_queue q JOIN messages m ON m.id = q.message_id " \
    "WHERE q.ciphertext IS NOT NULL AND " where lock ") t GROUP BY sender ORDER BY sender"
#define QUEUED_BYTES_LOCK " FOR UPDATE OF q"

#endif
