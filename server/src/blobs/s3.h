/* The S3-compatible blob store's insides: what the module exports to sottod (s3_load.c loads
 * it), and what its files share: one signed request (s3req.c), the few XML fields read from
 * answers (s3xml.c) and presigned URLs (s3sign.c). Nothing here is for the rest of sottod. */
#ifndef SOTTO_BLOBS_S3_H
#define SOTTO_BLOBS_S3_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "blobs/blobs.h"

/* The module's one exported symbol. The first two members are base/module.h's ABI check: bump
 * BLOBS_S3_MODULE_ABI whenever this struct, blobs_s3_config or blob_ops changes. */
#define BLOBS_S3_MODULE_ABI 1
#define BLOBS_S3_MODULE_SYMBOL "sotto_blobs_s3_module"
#define BLOBS_S3_MODULE_FILE "sotto_blobs_s3.so"
struct blobs_s3_module {
    uint32_t abi;         /* BLOBS_S3_MODULE_ABI of the build that made the module */
    uint32_t config_size; /* sizeof(struct blobs_s3_config) in that build */
    /* curl_global_init, once; later calls return the first result. 0 or -1. */
    int (*const init)(void);
    /* As blobs_s3_open; warn logs one event (the module cannot reach sottod's log). */
    struct blobs *(*const open)(const struct blobs_s3_config *cfg,
                                void (*warn)(const char *event, const char *line), char *err,
                                size_t errlen);
};

/* The settings, copied (the secret into memory that is wiped when freed). */
struct s3_conn {
    char *endpoint, *host, *bucket, *region, *key_id, *secret;
    long timeout_s;
    void (*warn)(const char *event, const char *line);
};

/* The piece of a partial blob a write holds between calls: bytes [base, base + len) of the
 * blob, base a multiple of BLOB_S3_PART; its buffer grows as bytes come, up to one part. */
struct s3_piece {
    struct s3_piece *next;
    char id[BLOB_ID_MAX + 1];
    uint64_t base;
    size_t len, cap;
    unsigned char *buf;
};

struct blobs_s3 {
    struct blobs base;
    struct s3_conn c;
    pthread_mutex_t lock;
    struct s3_piece *held; /* under lock */
    size_t alive;          /* pieces held or in a call's hands, under lock */
    size_t held_max;       /* at most this many alive */
};

/* One request to <endpoint>/<bucket>/<key>?<query>. query is already in SigV4's canonical
 * form (sorted, percent-encoded, "name=" for bare names): libcurl signs it as written. */
struct s3_req {
    const char *method; /* GET, HEAD, PUT, POST, DELETE */
    const char *key;    /* "" for the bucket itself */
    const char *query;  /* NULL for none */
    const void *body;   /* PUT and POST: the whole body, in memory */
    size_t body_len;
    const char *header; /* one extra header line (Range, x-amz-copy-source), or NULL */
    /* The answer: a successful GET's bytes go to out (at most out_cap: more is an error);
     * everything else (XML, error documents) to text, at most S3_TEXT_MAX, NUL-terminated. */
    void *out;
    size_t out_cap, out_len;
    char *text;
    size_t text_len;
    uint64_t length; /* HEAD: Content-Length */
    long status;     /* the HTTP status, or 0 when no answer came */
};

#define S3_TEXT_MAX (1024 * 1024)

/* Sends the request, signed (SigV4, x-amz-content-sha256 the body's SHA-256). Fills status
 * (0 on a transport failure). The caller frees r->text. Never logs. */
void s3_request(const struct s3_conn *c, struct s3_req *r);

/* Logs a failed request: op, id, status and the store's error code, never a URL or header. */
void s3_fail(const struct s3_conn *c, const char *op, const char *id, const struct s3_req *r);

/* Lists the keys under prefix (all pages), calling on(arg, key, size) for each; delimited:
 * the "directories" under prefix instead ("<prefix><name>/", size 0). on returns non-zero to
 * stop. 0, or -1 when the store failed (logged). */
int s3_list_keys(const struct s3_conn *c, const char *prefix, bool delimited,
                 int (*on)(void *arg, const char *key, uint64_t size), void *arg);

/* The pieces of a partial blob as stored (s3write.c). */
#define S3_PIECES_MAX 10000 /* S3's most parts in one multipart upload */
struct s3_pieces {
    size_t n; /* listed, in order */
    uint64_t size[S3_PIECES_MAX];
    unsigned idx[S3_PIECES_MAX];
    size_t run;   /* pieces 0, 1, ... in a row, up to the first short one */
    uint64_t end; /* their bytes: the partial blob's size */
};
struct s3_pieces *s3_pieces_new(void); /* malloc'd (too large for a worker's stack) */
/* Lists and measures the partial blob's pieces: BLOB_NOT_FOUND when it has none. */
enum blob_err s3_pieces_list(struct blobs_s3 *s, const char *id, struct s3_pieces *ps);
/* Deletes the listed pieces numbered first and up, the last first. */
enum blob_err s3_pieces_drop(struct blobs_s3 *s, const char *id, const struct s3_pieces *ps,
                             unsigned first);
void s3_piece_key(const char *id, unsigned n, char *key, size_t keylen);
/* Takes the piece held for id out of the table (NULL if none); the caller frees it. */
struct s3_piece *s3_held_take(struct blobs_s3 *s, const char *id);
/* Frees the piece (NULL: nothing) and gives back its place among held_max. */
void s3_piece_free(struct blobs_s3 *s, struct s3_piece *p);

/* Partial blobs (s3write.c, s3finish.c): the blob_ops of the same names. */
enum blob_err s3_begin(struct blobs *b, const char *id);
enum blob_err s3_write(struct blobs *b, const char *id, uint64_t offset, const void *data,
                       size_t len);
enum blob_err s3_sync(struct blobs *b, const char *id);
enum blob_err s3_finish(struct blobs *b, const char *id, uint64_t size);
/* Removes the partial blob's pieces (stored and held); *found when there were any. */
enum blob_err s3_partial_remove(struct blobs_s3 *s, const char *id, bool *found);
/* Frees every held piece (at close). */
void s3_held_free(struct blobs_s3 *s);

/* An answer's XML (s3xml.c, libxml2), read element by element in document order. */
struct s3_xml {
    struct _xmlDoc *doc;
    struct _xmlNode *at; /* the last element found; NULL before the first */
};
/* Once, before any parse (at open). */
void s3_xml_init(void);
/* Parses text (NUL-terminated); -1 when it is not XML (then every s3_xml_next fails). */
int s3_xml_open(struct s3_xml *x, const char *text);
/* Copies the text of the next element named tag after the last one found (its descendants
 * first) into out, truncated to outlen - 1. 0, or -1 when there is none. */
int s3_xml_next(struct s3_xml *x, const char *tag, char *out, size_t outlen);
void s3_xml_close(struct s3_xml *x);
/* The first element named tag in text: open, next, close. */
int s3_xml_find(const char *text, const char *tag, char *out, size_t outlen);

/* Percent-encodes s as SigV4 wants (all but A-Z a-z 0-9 - _ . ~; '/' too unless keep_slash). */
void s3_uri_encode(const char *s, int keep_slash, char *out, size_t outlen);

/* A presigned GET of key, valid ttl_s seconds from now (SigV4 query signing). 0 or -1. */
int s3_presign(const struct s3_conn *c, const char *key, unsigned ttl_s, char *url, size_t urllen);

#endif
