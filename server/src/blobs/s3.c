/* The S3-compatible implementation of the blob store (blobs.h), built as the module
 * lib/sotto_blobs_s3.so (s3_load.c loads it): finished blobs are the objects done/<id> of
 * S3_BUCKET, read in ranges; partial ones are pieces under partial/<id>/ (s3write.c). Every
 * request is signed with SigV4 (s3req.c) and made on the calling thread, a worker's: calls
 * block, as blobs.h says. The secret is kept in memory wiped on close and goes nowhere but
 * into signatures. Works with AWS S3, Cloudflare R2, MinIO and Swift's s3api, path-style
 * (<endpoint>/<bucket>/<key>), which all of them accept. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs/s3.h"

static struct blobs_s3 *s3_of(struct blobs *b) { return (struct blobs_s3 *)(void *)b; }

static void s3_done_key(const char *id, char *key, size_t keylen)
{
    snprintf(key, keylen, "done/%s", id);
}

static enum blob_err s3_read(struct blobs *b, const char *id, uint64_t offset, void *buf,
                             size_t len, size_t *got)
{
    struct blobs_s3 *s = s3_of(b);
    char key[BLOB_ID_MAX + 8], range[80];
    struct s3_req r = {.method = len ? "GET" : "HEAD", .key = key, .out = buf, .out_cap = len};

    s3_done_key(id, key, sizeof(key));
    snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)offset,
             (unsigned long long)(offset + len - 1));
    r.header = len ? range : NULL;
    s3_request(&s->c, &r);
    free(r.text);
    if (r.status == 404)
        return BLOB_NOT_FOUND;
    if (r.status == 416 || r.status == 206 || (r.status == 200 && (!len || !offset))) {
        *got = r.status == 416 ? 0 : r.out_len; /* 416: at or past the end */
        return BLOB_OK;
    }
    s3_fail(&s->c, "read", id, &r);
    return BLOB_ERROR;
}

static enum blob_err s3_size(struct blobs *b, const char *id, uint64_t *size)
{
    struct blobs_s3 *s = s3_of(b);
    char key[BLOB_ID_MAX + 8];
    struct s3_req r = {.method = "HEAD", .key = key};

    s3_done_key(id, key, sizeof(key));
    s3_request(&s->c, &r);
    free(r.text);
    if (r.status == 200)
        *size = r.length;
    else if (r.status != 404)
        s3_fail(&s->c, "size", id, &r);
    return r.status == 200 ? BLOB_OK : r.status == 404 ? BLOB_NOT_FOUND : BLOB_ERROR;
}

static enum blob_err s3_remove(struct blobs *b, const char *id)
{
    struct blobs_s3 *s = s3_of(b);
    char key[BLOB_ID_MAX + 8];
    uint64_t size;
    bool partial = false;
    enum blob_err e = s3_size(b, id, &size); /* S3 deletes what is not there, silently */

    if (e == BLOB_OK) {
        struct s3_req r = {.method = "DELETE", .key = key};

        s3_done_key(id, key, sizeof(key));
        s3_request(&s->c, &r);
        if (r.status != 204 && r.status != 200) {
            s3_fail(&s->c, "remove", id, &r);
            e = BLOB_ERROR;
        }
        free(r.text);
    }
    if (e == BLOB_ERROR || s3_partial_remove(s, id, &partial))
        return BLOB_ERROR;
    return e == BLOB_OK || partial ? BLOB_OK : BLOB_NOT_FOUND;
}

struct s3_lister {
    int (*fn)(void *arg, const char *id, bool partial);
    void *arg;
    bool partial;
    int stopped;
};

/* done/<id>, or partial/<id>/ (a "directory" of a delimited listing). */
static int s3_on_key(void *arg, const char *key, uint64_t size)
{
    struct s3_lister *l = arg;
    size_t skip = l->partial ? strlen("partial/") : strlen("done/"), len = strlen(key);
    size_t n = len > skip ? len - skip - (l->partial ? 1 : 0) : 0;
    char copy[BLOB_ID_MAX + 1];

    (void)size;
    if (!n || n > BLOB_ID_MAX)
        return 0;
    memcpy(copy, key + skip, n);
    copy[n] = 0;
    if (blob_id_ok(copy))
        l->stopped = l->fn(l->arg, copy, l->partial);
    return l->stopped;
}

static enum blob_err s3_list(struct blobs *b, int (*fn)(void *arg, const char *id, bool partial),
                             void *arg)
{
    struct blobs_s3 *s = s3_of(b);
    struct s3_lister l = {fn, arg, false, 0};

    if (s3_list_keys(&s->c, "done/", false, s3_on_key, &l))
        return BLOB_ERROR;
    if (l.stopped)
        return BLOB_OK;
    l.partial = true;
    return s3_list_keys(&s->c, "partial/", true, s3_on_key, &l) ? BLOB_ERROR : BLOB_OK;
}

static enum blob_err s3_presign_op(struct blobs *b, const char *id, unsigned ttl_s, char *url,
                                   size_t urllen)
{
    char key[BLOB_ID_MAX + 8];

    s3_done_key(id, key, sizeof(key));
    return s3_presign(&s3_of(b)->c, key, ttl_s, url, urllen) ? BLOB_ERROR : BLOB_OK;
}

static void s3_free_secret(char *secret)
{
    if (secret)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}

static void s3_close(struct blobs *b)
{
    struct blobs_s3 *s = s3_of(b);

    s3_held_free(s);
    pthread_mutex_destroy(&s->lock);
    free(s->c.endpoint);
    free(s->c.host);
    free(s->c.bucket);
    free(s->c.region);
    free(s->c.key_id);
    s3_free_secret(s->c.secret);
    free(s);
}

static const struct blob_ops s3_ops = {
    "s3",    s3_begin,  s3_write, s3_sync,  s3_finish,     s3_read,
    s3_size, s3_remove, s3_list,  s3_close, s3_presign_op,
};

static char *s3_strdup(const char *v)
{
    char *s = strdup(v);

    if (!s)
        abort();
    return s;
}

/* Copies the settings; the endpoint without a trailing '/', its host[:port] for presigning. */
static int s3_conn_set(struct s3_conn *c, const struct blobs_s3_config *cfg, char *err,
                       size_t errlen)
{
    const char *host;
    size_t n;

    if (!cfg->endpoint || !cfg->bucket || !cfg->region || !cfg->access_key_id ||
        !cfg->secret_access_key) {
        snprintf(err, errlen,
                 "S3_ENDPOINT: S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID and "
                 "S3_SECRET_ACCESS_KEY must all be set with it");
        return -1;
    }
    host = strstr(cfg->endpoint, "://");
    if (!host || (strncmp(cfg->endpoint, "http://", 7) && strncmp(cfg->endpoint, "https://", 8))) {
        snprintf(err, errlen, "S3_ENDPOINT: must start with http:// or https://");
        return -1;
    }
    c->endpoint = s3_strdup(cfg->endpoint);
    for (n = strlen(c->endpoint); n && c->endpoint[n - 1] == '/'; n--)
        c->endpoint[n - 1] = 0;
    c->host = s3_strdup(host + 3);
    c->host[strcspn(c->host, "/")] = 0;
    c->bucket = s3_strdup(cfg->bucket);
    c->region = s3_strdup(cfg->region);
    c->key_id = s3_strdup(cfg->access_key_id);
    c->secret = s3_strdup(cfg->secret_access_key);
    c->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    return 0;
}

/* One listing of at most one key: proves the endpoint, the bucket and the credentials. */
static int s3_check(struct blobs_s3 *s, char *err, size_t errlen)
{
    struct s3_req r = {.method = "GET", .key = "", .query = "list-type=2&max-keys=1"};
    char code[64] = "-";

    s3_request(&s->c, &r);
    s3_xml_find(r.text, "Code", code, sizeof(code));
    free(r.text);
    if (r.status == 200)
        return 0;
    if (!r.status)
        snprintf(err, errlen, "S3_ENDPOINT: the store does not answer");
    else if (r.status == 404)
        snprintf(err, errlen, "S3_BUCKET: the store has no such bucket (%s)", code);
    else
        snprintf(err, errlen, "S3_ACCESS_KEY_ID: the store refused the credentials (%ld %s)",
                 r.status, code);
    return -1;
}

static struct blobs *s3_open(const struct blobs_s3_config *cfg,
                             void (*warn)(const char *event, const char *line), char *err,
                             size_t errlen)
{
    struct blobs_s3 *s = calloc(1, sizeof(*s));

    if (!s)
        abort();
    s->base.ops = &s3_ops;
    s->c.warn = warn;
    s->held_max = cfg->held_max ? cfg->held_max : BLOB_S3_HELD_MAX;
    pthread_mutex_init(&s->lock, NULL);
    if (s3_conn_set(&s->c, cfg, err, errlen) || s3_check(s, err, errlen)) {
        s3_close(&s->base);
        return NULL;
    }
    return &s->base;
}

static pthread_once_t s3_once = PTHREAD_ONCE_INIT;
static int s3_init_rc = -1;

static void s3_init_once(void)
{
    s3_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) ? -1 : 0;
    s3_xml_init();
}

static int s3_init(void)
{
    pthread_once(&s3_once, s3_init_once);
    return s3_init_rc;
}

/* The module's one exported symbol (the module is built with hidden visibility). */
extern const struct blobs_s3_module sotto_blobs_s3_module;
__attribute__((visibility("default"))) const struct blobs_s3_module sotto_blobs_s3_module = {
    .abi = BLOBS_S3_MODULE_ABI,
    .config_size = (uint32_t)sizeof(struct blobs_s3_config),
    .init = s3_init,
    .open = s3_open,
};
