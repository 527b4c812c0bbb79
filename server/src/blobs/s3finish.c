/* Finishing a partial blob of the S3-compatible store: its pieces (s3write.c) become the one
 * object done/<id>, at once: a single piece by a server-side copy, several by a multipart
 * upload whose parts are server-side copies of the pieces (every piece but the last is
 * BLOB_S3_PART, S3's smallest part), so no byte comes back through sottod and the object
 * appears only when CompleteMultipartUpload succeeds. The pieces are removed after. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs/s3.h"

#define S3_ETAG_MAX 80
/* An upload id as received (at most 511 bytes), percent-encoded (three bytes each at worst),
 * and the longest query built on it: "partNumber=<n>&uploadId=<id>". */
#define S3_UPLOAD_ID_MAX 1536
#define S3_QUERY_MAX (S3_UPLOAD_ID_MAX + 64)

static struct blobs_s3 *s3_of(struct blobs *b) { return (struct blobs_s3 *)(void *)b; }

/* The copy-source header naming piece n. */
static void s3_copy_source(const struct blobs_s3 *s, const char *id, unsigned n, char *h,
                           size_t hlen)
{
    char key[BLOB_ID_MAX + 24], path[512], enc[1024];

    s3_piece_key(id, n, key, sizeof(key));
    snprintf(path, sizeof(path), "/%s/%s", s->c.bucket, key);
    s3_uri_encode(path, 1, enc, sizeof(enc));
    snprintf(h, hlen, "x-amz-copy-source: %s", enc);
}

/* A copy answers 200 and may still have failed (S3 says so in the body). */
static bool s3_copied(const struct s3_req *r)
{
    return r->status == 200 && (!r->text || !strstr(r->text, "<Error>"));
}

static enum blob_err s3_copy_one(struct blobs_s3 *s, const char *id, const char *key)
{
    char h[1200];
    struct s3_req r = {.method = "PUT", .key = key, .header = h};

    bool ok;

    s3_copy_source(s, id, 0, h, sizeof(h));
    s3_request(&s->c, &r);
    ok = s3_copied(&r);
    if (!ok)
        s3_fail(&s->c, "finish", id, &r);
    free(r.text);
    return ok ? BLOB_OK : BLOB_ERROR;
}

/* Copies each piece as a part; etags[i] gets part i + 1's ETag. */
static enum blob_err s3_copy_parts(struct blobs_s3 *s, const char *id, const char *key,
                                   const char *upload, size_t n, char (*etags)[S3_ETAG_MAX])
{
    char h[1200], query[S3_QUERY_MAX];

    for (size_t i = 0; i < n; i++) {
        struct s3_req r = {.method = "PUT", .key = key, .query = query, .header = h};

        s3_copy_source(s, id, (unsigned)i, h, sizeof(h));
        snprintf(query, sizeof(query), "partNumber=%zu&uploadId=%s", i + 1, upload);
        s3_request(&s->c, &r);
        if (!s3_copied(&r) || s3_xml_find(r.text, "ETag", etags[i], S3_ETAG_MAX)) {
            s3_fail(&s->c, "finish.part", id, &r);
            free(r.text);
            return BLOB_ERROR;
        }
        free(r.text);
    }
    return BLOB_OK;
}

static enum blob_err s3_complete(struct blobs_s3 *s, const char *id, const char *key,
                                 const char *upload, size_t n, char (*etags)[S3_ETAG_MAX])
{
    size_t cap = 64 + n * (S3_ETAG_MAX + 64), len;
    char *xml = malloc(cap), query[S3_QUERY_MAX];
    struct s3_req r = {.method = "POST", .key = key, .query = query};

    if (!xml)
        abort();
    len = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(xml + len, cap - len,
                                "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
                                etags[i]);
    len += (size_t)snprintf(xml + len, cap - len, "</CompleteMultipartUpload>");
    snprintf(query, sizeof(query), "uploadId=%s", upload);
    r.body = xml, r.body_len = len;
    bool ok;

    s3_request(&s->c, &r);
    free(xml);
    ok = s3_copied(&r);
    if (!ok)
        s3_fail(&s->c, "finish.complete", id, &r);
    free(r.text);
    return ok ? BLOB_OK : BLOB_ERROR;
}

/* Joins the first n pieces into key by a multipart upload (aborted when a step fails). */
static enum blob_err s3_join(struct blobs_s3 *s, const char *id, const char *key, size_t n)
{
    struct s3_req r = {.method = "POST", .key = key, .query = "uploads="};
    char upload_raw[512], upload[S3_UPLOAD_ID_MAX], query[S3_QUERY_MAX];
    char(*etags)[S3_ETAG_MAX] = calloc(n, S3_ETAG_MAX);
    enum blob_err e = BLOB_ERROR;

    if (!etags)
        abort();
    s3_request(&s->c, &r);
    if (r.status != 200 || s3_xml_find(r.text, "UploadId", upload_raw, sizeof(upload_raw))) {
        s3_fail(&s->c, "finish.create", id, &r);
        free(r.text);
        free(etags);
        return BLOB_ERROR;
    }
    free(r.text);
    s3_uri_encode(upload_raw, 0, upload, sizeof(upload));
    e = s3_copy_parts(s, id, key, upload, n, etags);
    if (!e)
        e = s3_complete(s, id, key, upload, n, etags);
    free(etags);
    if (e) { /* the parts copied so far would otherwise be kept (and billed) */
        struct s3_req a = {.method = "DELETE", .key = key, .query = query};

        snprintf(query, sizeof(query), "uploadId=%s", upload);
        s3_request(&s->c, &a);
        free(a.text);
    }
    return e;
}

/* done/<id> exists with size bytes: a finish that stopped before removing the pieces. */
static bool s3_done_has(struct blobs_s3 *s, const char *key, uint64_t size)
{
    struct s3_req r = {.method = "HEAD", .key = key};

    s3_request(&s->c, &r);
    free(r.text);
    return r.status == 200 && r.length == size;
}

enum blob_err s3_finish(struct blobs *b, const char *id, uint64_t size)
{
    struct blobs_s3 *s = s3_of(b);
    struct s3_pieces *ps;
    char key[BLOB_ID_MAX + 8];
    enum blob_err e;

    e = s3_sync(b, id); /* a piece still held is stored first */
    if (e)
        return e;
    ps = s3_pieces_new();
    snprintf(key, sizeof(key), "done/%s", id);
    e = s3_pieces_list(s, id, ps);
    if (!e && ps->end != size)
        e = s3_done_has(s, key, size) ? BLOB_OK : BLOB_INVALID;
    else if (!e)
        e = ps->run == 1 ? s3_copy_one(s, id, key) : s3_join(s, id, key, ps->run);
    if (!e && s3_pieces_drop(s, id, ps, 0))
        s->c.warn("blobs.s3", "op=finish result=pieces_left"); /* removed at the next finish */
    free(ps);
    return e;
}
