/* The files implementation of the blob store (blobs.h): DATA_DIR/blobs/done/<id> when
 * finished, DATA_DIR/blobs/partial/<id> while being written (two sibling directories, so no id
 * names the other directory). Finishing fsyncs the partial file, renames
 * it into place and fsyncs both directories, so after a crash a finished blob is whole or
 * still partial, never torn. Both directories stay open (openat), so a blob's path is always
 * one name under a known directory: ids are checked (blobs.c) and never hold a '/'. */
#include "blobs/blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

struct blobs_files {
    struct blobs base;
    int dir;     /* DATA_DIR/blobs/done */
    int partial; /* DATA_DIR/blobs/partial */
};

static struct blobs_files *files_of(struct blobs *b) { return (struct blobs_files *)(void *)b; }

static enum blob_err files_fail(const char *op, const char *id)
{
    log_warn("blobs.io", "op=%s id=%s errno=%d", op, id, errno);
    return BLOB_ERROR;
}

static enum blob_err files_begin(struct blobs *b, const char *id)
{
    int fd = openat(files_of(b)->partial, id, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return files_fail("begin", id);
    close(fd);
    return BLOB_OK;
}

static enum blob_err files_write(struct blobs *b, const char *id, uint64_t offset, const void *data,
                                 size_t len)
{
    int fd = openat(files_of(b)->partial, id, O_WRONLY | O_CLOEXEC);
    const char *p = data;
    struct stat st;
    enum blob_err e = BLOB_OK;

    if (fd < 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : files_fail("write", id);
    if (fstat(fd, &st) || (uint64_t)st.st_size < offset) {
        e = fstat(fd, &st) ? files_fail("write", id) : BLOB_INVALID;
        goto out;
    }
    /* Bytes past offset were written but never recorded by the caller (a crash between the
     * write and its record): they go. */
    if ((uint64_t)st.st_size > offset && ftruncate(fd, (off_t)offset)) {
        e = files_fail("truncate", id);
        goto out;
    }
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = files_fail("write", id);
            goto out;
        }
        p += n, len -= (size_t)n, offset += (uint64_t)n;
    }
out:
    close(fd);
    return e;
}

static enum blob_err files_sync(struct blobs *b, const char *id)
{
    int fd = openat(files_of(b)->partial, id, O_RDONLY | O_CLOEXEC);
    enum blob_err e = BLOB_OK;

    if (fd < 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : files_fail("sync", id);
    if (fdatasync(fd))
        e = files_fail("sync", id);
    close(fd);
    return e;
}

static enum blob_err files_finish(struct blobs *b, const char *id, uint64_t size)
{
    struct blobs_files *f = files_of(b);
    int fd = openat(f->partial, id, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : files_fail("finish", id);
    if (fstat(fd, &st) || fsync(fd)) {
        close(fd);
        return files_fail("finish", id);
    }
    close(fd);
    if ((uint64_t)st.st_size != size)
        return BLOB_INVALID;
    /* The rename is the moment the blob exists; the directories' fsyncs make it last. */
    if (renameat(f->partial, id, f->dir, id) || fsync(f->dir) || fsync(f->partial))
        return files_fail("finish", id);
    return BLOB_OK;
}

static enum blob_err files_read(struct blobs *b, const char *id, uint64_t offset, void *buf,
                                size_t len, size_t *got)
{
    int fd = openat(files_of(b)->dir, id, O_RDONLY | O_CLOEXEC);
    char *p = buf;

    if (fd < 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : files_fail("read", id);
    while (*got < len) {
        ssize_t n = pread(fd, p + *got, len - *got, (off_t)(offset + *got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return files_fail("read", id);
        }
        if (!n)
            break;
        *got += (size_t)n;
    }
    close(fd);
    return BLOB_OK;
}

static enum blob_err files_size(struct blobs *b, const char *id, uint64_t *size)
{
    struct stat st;

    if (fstatat(files_of(b)->dir, id, &st, AT_SYMLINK_NOFOLLOW))
        return errno == ENOENT ? BLOB_NOT_FOUND : files_fail("size", id);
    *size = (uint64_t)st.st_size;
    return BLOB_OK;
}

static enum blob_err files_remove(struct blobs *b, const char *id)
{
    struct blobs_files *f = files_of(b);
    bool found = false;

    if (!unlinkat(f->dir, id, 0))
        found = true;
    else if (errno != ENOENT)
        return files_fail("remove", id);
    if (!unlinkat(f->partial, id, 0))
        found = true;
    else if (errno != ENOENT)
        return files_fail("remove", id);
    return found ? BLOB_OK : BLOB_NOT_FOUND;
}

/* Calls fn for each blob id in the directory fd (a copy: closedir closes its own). */
static enum blob_err files_list_dir(int fd, bool partial,
                                    int (*fn)(void *arg, const char *id, bool partial), void *arg)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *e;
    int stop = 0;

    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return files_fail("list", "-");
    }
    rewinddir(d);
    while (!stop && (e = readdir(d)))
        if (e->d_type != DT_DIR && blob_id_ok(e->d_name))
            stop = fn(arg, e->d_name, partial);
    closedir(d);
    return BLOB_OK;
}

static enum blob_err files_list(struct blobs *b, int (*fn)(void *arg, const char *id, bool partial),
                                void *arg)
{
    struct blobs_files *f = files_of(b);
    enum blob_err e = files_list_dir(f->dir, false, fn, arg);

    return e ? e : files_list_dir(f->partial, true, fn, arg);
}

static void files_close(struct blobs *b)
{
    struct blobs_files *f = files_of(b);

    close(f->dir);
    close(f->partial);
    free(f);
}

static const struct blob_ops files_ops = {
    "files",    files_begin,  files_write, files_sync,  files_finish, files_read,
    files_size, files_remove, files_list,  files_close, NULL,
};

/* Opens (creating if missing) the directory name under parent. */
static int files_open_dir(int parent, const char *name)
{
    if (mkdirat(parent, name, 0700) && errno != EEXIST)
        return -1;
    return openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

struct blobs *blobs_files_open(const char *dir, char *err, size_t errlen)
{
    struct blobs_files *f = calloc(1, sizeof(*f));
    int top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int blobs = top >= 0 ? files_open_dir(top, "blobs") : -1;

    if (!f)
        abort();
    f->base.ops = &files_ops;
    f->dir = blobs >= 0 ? files_open_dir(blobs, "done") : -1;
    f->partial = blobs >= 0 ? files_open_dir(blobs, "partial") : -1;
    if (top >= 0)
        close(top);
    if (blobs >= 0)
        close(blobs);
    if (f->dir < 0 || f->partial < 0) {
        snprintf(err, errlen, "cannot open the blob directories under DATA_DIR (%s)",
                 strerror(errno));
        if (f->dir >= 0)
            close(f->dir);
        if (f->partial >= 0)
            close(f->partial);
        free(f);
        return NULL;
    }
    return &f->base;
}
