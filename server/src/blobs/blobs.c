/* The blob store's calls, each through the implementation chosen at start (blobs.h), with the
 * id checked once here so no implementation sees a bad one. */
#include "blobs/blobs.h"

#include <string.h>

bool blob_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (!n || n > BLOB_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || id[i] == '-'))
            return false;
    return true;
}

const char *blob_strerror(enum blob_err e)
{
    switch (e) {
    case BLOB_OK: return "ok";
    case BLOB_NOT_FOUND: return "not_found";
    case BLOB_INVALID: return "invalid";
    case BLOB_BUSY: return "busy";
    default: return "error";
    }
}

static enum blob_err blob_check(const struct blobs *b, const char *id)
{
    if (!b)
        return BLOB_ERROR;
    return blob_id_ok(id) ? BLOB_OK : BLOB_INVALID;
}

enum blob_err blob_begin(struct blobs *b, const char *id)
{
    enum blob_err e = blob_check(b, id);

    return e ? e : b->ops->begin(b, id);
}

enum blob_err blob_write(struct blobs *b, const char *id, uint64_t offset, const void *data,
                         size_t len)
{
    enum blob_err e = blob_check(b, id);

    return e ? e : b->ops->write(b, id, offset, data, len);
}

enum blob_err blob_sync(struct blobs *b, const char *id)
{
    enum blob_err e = blob_check(b, id);

    return e ? e : b->ops->sync(b, id);
}

enum blob_err blob_finish(struct blobs *b, const char *id, uint64_t size)
{
    enum blob_err e = blob_check(b, id);

    return e ? e : b->ops->finish(b, id, size);
}

enum blob_err blob_read(struct blobs *b, const char *id, uint64_t offset, void *buf, size_t len,
                        size_t *got)
{
    enum blob_err e = blob_check(b, id);

    *got = 0;
    return e ? e : b->ops->read(b, id, offset, buf, len, got);
}

enum blob_err blob_size(struct blobs *b, const char *id, uint64_t *size)
{
    enum blob_err e = blob_check(b, id);

    *size = 0;
    return e ? e : b->ops->size(b, id, size);
}

enum blob_err blob_remove(struct blobs *b, const char *id)
{
    enum blob_err e = blob_check(b, id);

    return e ? e : b->ops->remove(b, id);
}

enum blob_err blob_list(struct blobs *b, int (*fn)(void *arg, const char *id, bool partial),
                        void *arg)
{
    return b ? b->ops->list(b, fn, arg) : BLOB_ERROR;
}

void blobs_close(struct blobs *b)
{
    if (b)
        b->ops->close(b);
}

enum blob_err blob_presign(struct blobs *b, const char *id, unsigned ttl_s, char *url,
                           size_t urllen)
{
    enum blob_err e = blob_check(b, id);

    if (urllen)
        url[0] = 0;
    if (e)
        return e;
    if (!b->ops->presign || !ttl_s || ttl_s > BLOB_PRESIGN_TTL_MAX)
        return BLOB_INVALID;
    return b->ops->presign(b, id, ttl_s, url, urllen);
}
