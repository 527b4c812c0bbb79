/* store.h: opening the store, transactions, health, and the error codes every store
 * function returns.
 *
 * The store is sottod's persistent state: SQLite in DATA_DIR by default, PostgreSQL when
 * DATABASE_URL is a postgresql:// URL. A `struct store` is ONE connection. Open one per
 * worker thread and use it only from that thread; the event loop never touches the store.
 * Call store_migrate once at start (on one connection) before serving.
 *
 * Domain functions live in users.h, devices.h, prekeys.h, tokens.h, blocks.h, audit.h,
 * conversations.h, messages.h, queue.h, queued_bytes.h.
 * Conventions for all of them:
 *  - times are int64 milliseconds since the Unix epoch, passed in by the caller (`now`), so
 *    tests control the clock;
 *  - ids are 36-character UUID strings in `char[STORE_ID_SIZE]` buffers;
 *  - a function that opens a transaction itself joins an enclosing one (store_begin nests,
 *    inner levels are savepoints), so callers can compose several calls atomically;
 *  - strings returned inside structs are malloc'ed and freed by the struct's _free function;
 *    strings passed in are borrowed;
 *  - out of memory aborts (the server's policy).
 */
#ifndef SOTTO_STORE_STORE_H
#define SOTTO_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_LEN 36
#define STORE_ID_SIZE (STORE_ID_LEN + 1)

/* Numbered so logs and metrics stay stable. */
enum store_err {
    STORE_OK = 0,
    STORE_NOT_FOUND = 1,          /* no such row (or not yours, or expired, or used) */
    STORE_CONFLICT = 2,           /* a uniqueness rule: replayed proof, reused TOTP step, ... */
    STORE_CONFLICT_EMAIL = 3,     /* email taken (case-insensitively) */
    STORE_CONFLICT_USERNAME = 4,  /* username taken (case-insensitively) */
    STORE_CONFLICT_KEY = 5,       /* identity or signing key used by another device */
    STORE_IDENTITY_IMMUTABLE = 6, /* a device's identity or signing key cannot change */
    STORE_LIMIT = 7,              /* a stored-count cap would be exceeded */
    STORE_TOKEN_REUSED = 8,       /* a rotated refresh token came back: family revoked */
    STORE_INVALID = 9,            /* bad argument or configuration (e.g. DATABASE_URL) */
    STORE_BUSY = 10,              /* lock timeout or serialization failure: retry */
    STORE_ERROR = 11,             /* backend failure; details in store_errmsg */
    STORE_FORBIDDEN = 12,         /* allowed to see it, not to do this: not the sender, blocked */
    STORE_MISMATCH = 13,          /* envelopes do not name exactly the target devices */
    STORE_QUOTA = 14,             /* the sender's queued ciphertext would pass its bound */
};

struct store;

struct store_config {
    const char *database_url; /* NULL or "" → SQLite; postgresql:// or postgres:// → PG */
    const char *data_dir;     /* SQLite: the file is <data_dir>/sotto.db; created if missing */
    const char *module_dir;   /* SOTTO_MODULE_DIR, where sotto_store_pg.so is; NULL or "" →
                                 ../lib beside the running binary (module.h) */
};

/* A stable name for an error code ("not_found", ...), for logs. */
const char *store_strerror(enum store_err err);

/* Check a configuration without connecting: STORE_OK or STORE_INVALID with a one-line
 * reason naming the variable in err (for sottod's exit code 2 at start). */
enum store_err store_config_check(const struct store_config *cfg, char *err, size_t errlen);

/* Open one connection. On failure *out is NULL and err holds a one-line reason (never a
 * password). The caller owns the store and frees it with store_close. */
enum store_err store_open(const struct store_config *cfg, struct store **out, char *err,
                          size_t errlen);
/* Close the connection (rolling back an open transaction). NULL is allowed. */
void store_close(struct store *s);

/* Apply every embedded migration not yet applied, each in the same transaction as its
 * schema_migrations row. PostgreSQL: under an advisory lock, so nodes starting together
 * don't race. Refuses (STORE_ERROR) a database whose schema is newer than this binary. */
enum store_err store_migrate(struct store *s);

/* Cheap round trip for /healthz. */
enum store_err store_ping(struct store *s);

/* Background housekeeping on this connection, outside any transaction (sottod runs it on a
 * general worker after the writer's commits): SQLite copies the write-ahead log back into
 * the database, so commits need not (see sqlite.c). A no-op on PostgreSQL. */
enum store_err store_checkpoint(struct store *s);

/* Pages in SQLite's write-ahead log after this connection's last commit: sottod checkpoints
 * in the background (store_checkpoint) once the writer's commits have grown it past a
 * threshold. 0 on PostgreSQL. */
size_t store_wal_pages(struct store *s);

/* For the connection that runs every group commit: SQLite may keep up to 16 MiB of pages
 * cached (default 2 MiB), grown only as pages are used; its cache stays warm because no
 * other connection writes meanwhile. Other connections keep the default, whose caches
 * every write empties anyway. A no-op on PostgreSQL. */
enum store_err store_tune_writer(struct store *s);

/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *s);
/* The last backend error's text (for logs; may quote SQL, never parameters). Borrowed. */
const char *store_errmsg(const struct store *s);

/* Transactions. store_begin nests: the outermost begin/commit/rollback are the database
 * transaction; an inner level is a savepoint (begin = SAVEPOINT, commit = RELEASE, rollback =
 * ROLLBACK TO + RELEASE), so an inner rollback undoes that level's work alone and the outer
 * transaction may still commit (group commit: one request per savepoint). A caller that must
 * not commit after an inner failure rolls back itself. Only when an inner level cannot be
 * rolled back to its savepoint (the backend already ended the transaction) does the outermost
 * commit roll back and return STORE_ERROR. */
enum store_err store_begin(struct store *s);
enum store_err store_commit(struct store *s);
void store_rollback(struct store *s);

/* The outermost begin of a group commit, whose inner levels are requests that find every
 * refusal before their first write (message sends, queue acks). On SQLite the inner levels
 * are then no savepoints at all, only marks: an inner rollback of a level that wrote nothing
 * costs nothing, and one of a level that did write dooms the batch (its COMMIT rolls back
 * and returns STORE_ERROR, and the caller answers every request retryably). PostgreSQL keeps
 * savepoints. STORE_ERROR inside a transaction. */
enum store_err store_begin_batch(struct store *s);

/* Fresh ids, `now` in ms: random (v4) for most rows; a UUIDv7 of exactly `now` (tokens'
 * jti, whose time is checked against iat); and ordered UUIDv7s for rows that are paged by id
 * (messages, calls): strictly increasing within this process even in one millisecond or
 * across a clock step back, so two sends in a row always list in the order they were made. */
void store_uuid_v4(char out[STORE_ID_SIZE]);
void store_uuid_v7(char out[STORE_ID_SIZE], int64_t now);
void store_uuid_v7_ordered(char out[STORE_ID_SIZE], int64_t now);

#endif
