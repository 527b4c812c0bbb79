/* The blob store: opaque bytes under an id (attachments' ciphertext), behind one interface
 * with one implementation per kind of storage (files under DATA_DIR, files.c; an S3-compatible
 * object store when S3_ENDPOINT is set, s3.c in a module), chosen once at start. The one contract
 * suite (server/tests/test_blobs.c) runs unchanged against each.
 *
 * A blob is written as a partial blob, in pieces at increasing offsets, and becomes visible
 * only when it is finished, atomically and durably: a crash leaves either the partial blob or
 * the whole blob, never a torn one under the final name. Every call blocks on I/O: call them
 * from a worker (base/pool.h), never from the loop thread. Calls on different ids may run at
 * once on different threads; calls on one id must not overlap (the caller serializes them).
 *
 * Ids are 1 to BLOB_ID_MAX characters of [0-9a-z-] (UUIDs): anything else is BLOB_INVALID,
 * so an id never names a path outside the store. */
#ifndef SOTTO_BLOBS_BLOBS_H
#define SOTTO_BLOBS_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOB_ID_MAX 64

enum blob_err {
    BLOB_OK = 0,
    BLOB_NOT_FOUND = 1, /* no such blob (partial or finished, as the call asks) */
    BLOB_INVALID = 2,   /* a bad id, or an offset past the partial blob's end */
    BLOB_ERROR = 3,     /* the storage failed (disk full, I/O error): logged */
    BLOB_BUSY = 4,      /* the store holds all the pieces it may (S3): none failed, try later */
};

struct blobs;

/* One implementation: a struct of const function pointers, as the store's driver is. */
struct blob_ops {
    const char *name; /* "files" */
    /* Creates an empty partial blob, or keeps the one there (resuming). */
    enum blob_err (*const begin)(struct blobs *b, const char *id);
    /* Writes len bytes at offset into the partial blob. Bytes after offset that an earlier
     * write left (a piece the caller never recorded, before a crash) are dropped first, so a
     * resumed upload always continues from what the caller knows. BLOB_INVALID when offset
     * is past the partial blob's end, BLOB_NOT_FOUND when there is none. */
    enum blob_err (*const write)(struct blobs *b, const char *id, uint64_t offset, const void *data,
                                 size_t len);
    /* Makes what was written so far durable (the caller then records the offset). */
    enum blob_err (*const sync)(struct blobs *b, const char *id);
    /* The partial blob becomes the finished blob of size bytes (the partial must have exactly
     * that many: else BLOB_INVALID), durably, at once. */
    enum blob_err (*const finish)(struct blobs *b, const char *id, uint64_t size);
    /* Reads up to len bytes of the finished blob from offset; *got is 0 at or past its end. */
    enum blob_err (*const read)(struct blobs *b, const char *id, uint64_t offset, void *buf,
                                size_t len, size_t *got);
    /* The finished blob's size. */
    enum blob_err (*const size)(struct blobs *b, const char *id, uint64_t *size);
    /* Removes the blob, finished or partial (both, if both exist). BLOB_NOT_FOUND if none. */
    enum blob_err (*const remove)(struct blobs *b, const char *id);
    /* Calls fn for every blob, finished (partial false) and partial, in no order, for the
     * reconciliation with the database at start. fn returns non-zero to stop. */
    enum blob_err (*const list)(struct blobs *b, int (*fn)(void *arg, const char *id, bool partial),
                                void *arg);
    void (*const close)(struct blobs *b);
    /* Writes into url a URL that GETs the finished blob without credentials for ttl_s seconds
     * (1..BLOB_PRESIGN_TTL_MAX). NULL for a store that has none (files). */
    enum blob_err (*const presign)(struct blobs *b, const char *id, unsigned ttl_s, char *url,
                                   size_t urllen);
};

/* The longest a presigned URL stays valid, seconds. */
#define BLOB_PRESIGN_TTL_MAX 300

/* The common head of every implementation's state. */
struct blobs {
    const struct blob_ops *ops;
};

/* The files implementation: finished blobs in <dir>/blobs/done/, partial ones in
 * <dir>/blobs/partial/ (both created if missing, mode 0700). NULL with a one-line reason in
 * err on failure. */
struct blobs *blobs_files_open(const char *dir, char *err, size_t errlen);

/* The S3-compatible implementation's settings (the S3_* configuration). */
struct blobs_s3_config {
    const char *endpoint; /* http[s]://host[:port]; objects at <endpoint>/<bucket>/<key> */
    const char *bucket;
    const char *region; /* signed for (SigV4's scope) */
    const char *access_key_id;
    const char *secret_access_key; /* secret: copied, never logged */
    long timeout_s;                /* one request, whole */
    unsigned held_max;             /* writes holding a piece at once (0: BLOB_S3_HELD_MAX) */
};

/* The S3-compatible implementation, in the module lib/sotto_blobs_s3.so (sottod never links
 * libcurl; module_dir as in base/module.h). A finished blob is the object done/<id>; a partial
 * one the objects partial/<id>/<n>, its pieces of BLOB_S3_PART bytes (the last shorter),
 * joined by a multipart upload of server-side copies when it is finished. A write holds at
 * most one piece in memory, until the piece is full or the blob is synced. Checks the bucket
 * and the credentials with one request: NULL with a one-line reason in err (never a secret)
 * when the store refuses them or cannot be reached. */
#define BLOB_S3_PART (5u * 1024 * 1024) /* S3's smallest part of a multipart upload */
/* Past this many writes holding a piece at once, a write is refused (BLOB_BUSY, logged: the
 * client is told to come back, 503 with Retry-After) and the pieces' memory stays bounded,
 * BLOB_S3_HELD_MAX x BLOB_S3_PART. */
#define BLOB_S3_HELD_MAX 64
struct blobs *blobs_s3_open(const char *module_dir, const struct blobs_s3_config *cfg, char *err,
                            size_t errlen);

/* True if id is a valid blob id. */
bool blob_id_ok(const char *id);

const char *blob_strerror(enum blob_err e);

/* The calls, through the implementation (NULL b: BLOB_ERROR). */
enum blob_err blob_begin(struct blobs *b, const char *id);
enum blob_err blob_write(struct blobs *b, const char *id, uint64_t offset, const void *data,
                         size_t len);
enum blob_err blob_sync(struct blobs *b, const char *id);
enum blob_err blob_finish(struct blobs *b, const char *id, uint64_t size);
enum blob_err blob_read(struct blobs *b, const char *id, uint64_t offset, void *buf, size_t len,
                        size_t *got);
enum blob_err blob_size(struct blobs *b, const char *id, uint64_t *size);
enum blob_err blob_remove(struct blobs *b, const char *id);
enum blob_err blob_list(struct blobs *b, int (*fn)(void *arg, const char *id, bool partial),
                        void *arg);
void blobs_close(struct blobs *b);
/* A URL that GETs the finished blob for ttl_s seconds: BLOB_INVALID when the store cannot
 * make one (files) or ttl_s is 0 or over BLOB_PRESIGN_TTL_MAX. Says nothing of whether the
 * blob exists (no request is made). */
enum blob_err blob_presign(struct blobs *b, const char *id, unsigned ttl_s, char *url,
                           size_t urllen);

#endif
