/* Partial blobs of the S3-compatible store (blobs.h). A partial blob is the objects
 * partial/<id>/<n>, n = 000000, 000001, ...: piece n holds bytes [n * BLOB_S3_PART, ...) of the
 * blob, every piece but the last exactly BLOB_S3_PART long; piece 0 always exists, so an
 * empty partial blob is one empty piece. Objects are read back whole or in ranges, unlike the
 * parts of an unfinished multipart upload, which is what lets a resumed write drop unrecorded
 * bytes from any offset.
 *
 * A write fills the piece it holds in memory (struct s3_piece, one per blob being written)
 * and uploads it when it is full; sync uploads the held piece as it stands and lets it go, so
 * what a sync returned for is stored. Finishing (s3finish.c) joins the pieces into done/<id>,
 * then removes them, last piece first (piece 0 last: until it goes, the partial blob is still
 * listed and a reconciliation can finish it again). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs/s3.h"

static struct blobs_s3 *s3_of(struct blobs *b) { return (struct blobs_s3 *)(void *)b; }

void s3_piece_key(const char *id, unsigned n, char *key, size_t keylen)
{
    snprintf(key, keylen, "partial/%s/%06u", id, n);
}

/* --- the pieces stored ------------------------------------------------------------------ */

static int s3_on_piece(void *arg, const char *key, uint64_t size)
{
    struct s3_pieces *ps = arg;
    const char *slash = strrchr(key, '/');

    if (!slash || strlen(slash + 1) != 6 || ps->n == S3_PIECES_MAX)
        return 0;
    ps->idx[ps->n] = (unsigned)strtoul(slash + 1, NULL, 10);
    ps->size[ps->n++] = size;
    return 0;
}

/* Lists the partial blob's pieces (in order: their names sort as numbers) and measures it. */
enum blob_err s3_pieces_list(struct blobs_s3 *s, const char *id, struct s3_pieces *ps)
{
    char prefix[BLOB_ID_MAX + 16];

    ps->n = ps->run = 0;
    ps->end = 0;
    snprintf(prefix, sizeof(prefix), "partial/%s/", id);
    if (s3_list_keys(&s->c, prefix, false, s3_on_piece, ps))
        return BLOB_ERROR;
    while (ps->run < ps->n && ps->idx[ps->run] == ps->run) {
        ps->end += ps->size[ps->run++];
        if (ps->size[ps->run - 1] != BLOB_S3_PART)
            break;
    }
    return ps->n ? BLOB_OK : BLOB_NOT_FOUND;
}

struct s3_pieces *s3_pieces_new(void)
{
    struct s3_pieces *ps = malloc(sizeof(*ps));

    if (!ps)
        abort();
    return ps;
}

/* Deletes the listed pieces numbered from first on, last first. */
enum blob_err s3_pieces_drop(struct blobs_s3 *s, const char *id, const struct s3_pieces *ps,
                             unsigned first)
{
    char key[BLOB_ID_MAX + 24];

    for (size_t i = ps->n; i-- > 0;) {
        struct s3_req r = {.method = "DELETE", .key = key};

        if (ps->idx[i] < first)
            continue;
        s3_piece_key(id, ps->idx[i], key, sizeof(key));
        s3_request(&s->c, &r);
        if (r.status != 204 && r.status != 200 && r.status != 404) {
            s3_fail(&s->c, "drop", id, &r);
            free(r.text);
            return BLOB_ERROR;
        }
        free(r.text);
    }
    return BLOB_OK;
}

static enum blob_err s3_piece_put(struct blobs_s3 *s, const char *id, unsigned n, const void *data,
                                  size_t len)
{
    char key[BLOB_ID_MAX + 24];
    struct s3_req r = {.method = "PUT", .key = key, .body = data ? data : "", .body_len = len};

    s3_piece_key(id, n, key, sizeof(key));
    s3_request(&s->c, &r);
    if (r.status != 200)
        s3_fail(&s->c, "put", id, &r);
    free(r.text);
    return r.status == 200 ? BLOB_OK : BLOB_ERROR;
}

/* --- the piece held --------------------------------------------------------------------- */

/* Takes the piece held for id out of the table (NULL if none): the caller owns it. */
struct s3_piece *s3_held_take(struct blobs_s3 *s, const char *id)
{
    struct s3_piece **pp, *p = NULL;

    pthread_mutex_lock(&s->lock);
    for (pp = &s->held; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            p = *pp;
            *pp = p->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    return p;
}

static void s3_held_put(struct blobs_s3 *s, struct s3_piece *p)
{
    pthread_mutex_lock(&s->lock);
    p->next = s->held;
    s->held = p;
    pthread_mutex_unlock(&s->lock);
}

/* Frees a piece (NULL: nothing) and its place among the pieces alive. */
void s3_piece_free(struct blobs_s3 *s, struct s3_piece *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&s->lock);
    s->alive--;
    pthread_mutex_unlock(&s->lock);
    free(p->buf);
    free(p);
}

/* Takes a place among the pieces alive: false past held_max. */
static bool s3_piece_place(struct blobs_s3 *s)
{
    bool ok;

    pthread_mutex_lock(&s->lock);
    ok = s->alive < s->held_max;
    s->alive += ok;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void s3_held_free(struct blobs_s3 *s)
{
    struct s3_piece *p;

    while ((p = s->held)) {
        s->held = p->next;
        free(p->buf);
        free(p);
    }
    s->alive = 0;
}

static void s3_piece_room(struct s3_piece *p, size_t need)
{
    size_t cap = p->cap ? p->cap : 64 * 1024;

    if (need <= p->cap)
        return;
    while (cap < need)
        cap *= 2;
    cap = cap > BLOB_S3_PART ? BLOB_S3_PART : cap;
    p->buf = realloc(p->buf, cap);
    if (!p->buf)
        abort();
    p->cap = cap;
}

/* A new held piece for a write at offset, from what is stored: the pieces past offset go (they
 * hold bytes the caller never recorded), and the piece offset falls in is read up to offset. */
static enum blob_err s3_piece_load(struct blobs_s3 *s, const char *id, uint64_t offset,
                                   struct s3_piece **out)
{
    struct s3_pieces *ps;
    unsigned k = (unsigned)(offset / BLOB_S3_PART);
    size_t r = (size_t)(offset % BLOB_S3_PART);
    struct s3_piece *p;
    enum blob_err e;

    if (!s3_piece_place(s)) {
        s->c.warn("blobs.s3", "op=write result=busy");
        return BLOB_BUSY;
    }
    ps = s3_pieces_new();
    e = s3_pieces_list(s, id, ps);
    if (!e && offset > ps->end)
        e = BLOB_INVALID;
    if (!e)
        e = s3_pieces_drop(s, id, ps, r || !k ? k + 1 : k);
    free(ps);
    p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->base = (uint64_t)k * BLOB_S3_PART;
    if (e) {
        s3_piece_free(s, p); /* gives its place back */
        return e;
    }
    if (r) {
        char key[BLOB_ID_MAX + 24], range[64];
        struct s3_req q = {.method = "GET", .key = key, .header = range};

        s3_piece_room(p, r);
        s3_piece_key(id, k, key, sizeof(key));
        snprintf(range, sizeof(range), "Range: bytes=0-%zu", r - 1);
        q.out = p->buf, q.out_cap = r;
        s3_request(&s->c, &q);
        if ((q.status != 206 && q.status != 200) || q.out_len != r) {
            s3_fail(&s->c, "load", id, &q);
            free(q.text);
            s3_piece_free(s, p);
            return BLOB_ERROR;
        }
        free(q.text);
        p->len = r;
    }
    *out = p;
    return BLOB_OK;
}

/* The held piece for a write at offset: the one held, when offset falls in it, else loaded. */
static enum blob_err s3_piece_for(struct blobs_s3 *s, const char *id, uint64_t offset,
                                  struct s3_piece **out)
{
    struct s3_piece *p = s3_held_take(s, id);

    if (p && offset >= p->base && offset <= p->base + p->len) {
        p->len = (size_t)(offset - p->base);
        *out = p;
        return BLOB_OK;
    }
    if (p && offset > p->base + p->len) { /* the held piece is the blob's end */
        s3_held_put(s, p);
        return BLOB_INVALID;
    }
    s3_piece_free(s, p); /* before it: every piece there is stored */
    return s3_piece_load(s, id, offset, out);
}

/* --- the operations --------------------------------------------------------------------- */

enum blob_err s3_write(struct blobs *b, const char *id, uint64_t offset, const void *data,
                       size_t len)
{
    struct blobs_s3 *s = s3_of(b);
    const unsigned char *d = data;
    struct s3_piece *p = NULL;
    enum blob_err e = s3_piece_for(s, id, offset, &p);

    if (e)
        return e;
    while (len) {
        size_t take = BLOB_S3_PART - p->len < len ? BLOB_S3_PART - p->len : len;

        s3_piece_room(p, p->len + take);
        memcpy(p->buf + p->len, d, take);
        p->len += take, d += take, len -= take;
        if (p->len < BLOB_S3_PART)
            continue;
        e = s3_piece_put(s, id, (unsigned)(p->base / BLOB_S3_PART), p->buf, p->len);
        if (e) {
            s3_piece_free(s, p); /* the next write loads what is stored */
            return e;
        }
        p->base += BLOB_S3_PART;
        p->len = 0;
    }
    s3_held_put(s, p);
    return BLOB_OK;
}

/* Whether the partial blob exists (its piece 0 does). */
static enum blob_err s3_partial_exists(struct blobs_s3 *s, const char *id, const char *op)
{
    char key[BLOB_ID_MAX + 24];
    struct s3_req r = {.method = "HEAD", .key = key};

    s3_piece_key(id, 0, key, sizeof(key));
    s3_request(&s->c, &r);
    free(r.text);
    if (r.status == 200 || r.status == 404)
        return r.status == 200 ? BLOB_OK : BLOB_NOT_FOUND;
    s3_fail(&s->c, op, id, &r);
    return BLOB_ERROR;
}

enum blob_err s3_begin(struct blobs *b, const char *id)
{
    struct blobs_s3 *s = s3_of(b);
    enum blob_err e = s3_partial_exists(s, id, "begin");

    /* Resuming keeps what is there. */
    return e == BLOB_NOT_FOUND ? s3_piece_put(s, id, 0, NULL, 0) : e;
}

enum blob_err s3_sync(struct blobs *b, const char *id)
{
    struct blobs_s3 *s = s3_of(b);
    struct s3_piece *p = s3_held_take(s, id);
    enum blob_err e = BLOB_OK;

    if (!p)
        return s3_partial_exists(s, id, "sync");
    /* A piece that begins empty past piece 0 is not stored (its place is free). */
    if (p->len || !p->base)
        e = s3_piece_put(s, id, (unsigned)(p->base / BLOB_S3_PART), p->buf, p->len);
    s3_piece_free(s, p);
    return e;
}

enum blob_err s3_partial_remove(struct blobs_s3 *s, const char *id, bool *found)
{
    struct s3_pieces *ps = s3_pieces_new();
    enum blob_err e;

    s3_piece_free(s, s3_held_take(s, id));
    e = s3_pieces_list(s, id, ps);
    *found = e == BLOB_OK;
    if (e == BLOB_OK)
        e = s3_pieces_drop(s, id, ps, 0);
    free(ps);
    return e == BLOB_NOT_FOUND ? BLOB_OK : e;
}
