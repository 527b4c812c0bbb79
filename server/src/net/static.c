/* Static web client files. The loop thread only validates the path and queues the read; a
 * worker opens the file relative to the web root with O_NOFOLLOW-free openat + a realpath
 * check, fstat()s it, and reads it whole (bounded); the completion sends it. index.html and
 * everything outside /assets/ is "no-cache" (a new deploy shows at once); /assets/ holds
 * content-hashed names, so those are immutable for a year. */
#include "net/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/pool.h"
#include "net/http.h"

struct static_files {
    char root[PATH_MAX]; /* realpath of WEB_ROOT, no trailing slash */
    size_t root_len;
    size_t max_file;
    struct pool *pool;
};

struct static_job {
    struct static_files *s;
    struct http_req *req;
    char url_path[PATH_MAX];
    char file[PATH_MAX + 16]; /* path relative to root that was served */
    bool fallback_ok;
    int status; /* 200, 404, 413, 500 */
    char *data;
    size_t len;
};

static const struct {
    const char *ext, *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".avif", "image/avif"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".xml", "application/xml"},
    {".mp3", "audio/mpeg"},
    {".ogg", "audio/ogg"},
};

const char *static_content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');

    if (dot)
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
            if (!strcasecmp(dot, mime_types[i].ext))
                return mime_types[i].type;
    return "application/octet-stream";
}

const char *static_cache_control(const char *url_path)
{
    if (!strncmp(url_path, "/assets/", 8))
        return "public, max-age=31536000, immutable";
    return "no-cache";
}

bool static_path_safe(const char *p)
{
    if (p[0] != '/' || strlen(p) >= PATH_MAX / 2)
        return false;
    for (const char *s = p; *s; s++) {
        if (*s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
        /* Segments starting with '.' cover "..", "." and dot-files like .git or .env. */
        if (*s == '/' && s[1] == '.')
            return false;
    }
    return true;
}

struct static_files *static_create(const char *web_root, size_t max_file, struct pool *pool)
{
    struct static_files *s = calloc(1, sizeof(*s));

    if (!s)
        abort();
    if (!web_root || !realpath(web_root, s->root)) {
        free(s);
        return NULL;
    }
    s->root_len = strlen(s->root);
    s->max_file = max_file;
    s->pool = pool;
    return s;
}

void static_destroy(struct static_files *s) { free(s); }

/* Opens root + rel only if it resolves inside the root (symlinks pointing out are refused). */
static int static_open(const struct static_files *s, const char *rel, struct stat *st)
{
    char full[PATH_MAX * 2], real[PATH_MAX];
    int fd;

    if ((size_t)snprintf(full, sizeof(full), "%s%s", s->root, rel) >= sizeof(full))
        return -ENAMETOOLONG;
    if (!realpath(full, real))
        return -errno;
    if (strncmp(real, s->root, s->root_len) || real[s->root_len] != '/')
        return -ENOENT;
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st)) {
        close(fd);
        return -EIO;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return S_ISDIR(st->st_mode) ? -EISDIR : -ENOENT;
    }
    return fd;
}

static int static_read(struct static_job *j, const char *rel)
{
    struct stat st;
    int fd = static_open(j->s, rel, &st);
    size_t got = 0;

    if (fd < 0)
        return fd;
    if ((size_t)st.st_size > j->s->max_file) {
        close(fd);
        return -EFBIG;
    }
    j->data = malloc((size_t)st.st_size + 1);
    if (!j->data)
        abort();
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, j->data + got, (size_t)st.st_size - got);

        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    j->len = got;
    snprintf(j->file, sizeof(j->file), "%s", rel);
    return 0;
}

/* Worker: the file, its index.html if a directory, or the SPA fallback. */
static void static_work(void *worker_ctx, void *arg)
{
    struct static_job *j = arg;
    char rel[PATH_MAX + 16];
    int rc;

    (void)worker_ctx;
    snprintf(rel, sizeof(rel), "%s%s", j->url_path,
             j->url_path[strlen(j->url_path) - 1] == '/' ? "index.html" : "");
    rc = static_read(j, rel);
    if (rc == -EISDIR) {
        snprintf(rel, sizeof(rel), "%s/index.html", j->url_path);
        rc = static_read(j, rel);
    }
    if ((rc == -ENOENT || rc == -ENOTDIR) && j->fallback_ok)
        rc = static_read(j, "/index.html");
    j->status =
        rc == 0        ? 200
        : rc == -EFBIG ? 413
        : (rc == -ENOENT || rc == -ENOTDIR || rc == -EISDIR || rc == -EACCES || rc == -ENAMETOOLONG)
            ? 404
            : 500;
}

static void static_done(void *arg)
{
    struct static_job *j = arg;
    struct http_req *req = j->req;

    if (j->status == 200) {
        http_add_header(
            req, "cache-control",
            static_cache_control(strcmp(j->file, "/index.html") ? j->url_path : "/index.html"));
        http_respond_take(req, 200, static_content_type(j->file), j->data, j->len, free);
        j->data = NULL;
    } else if (j->status == 404) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
    } else if (j->status == 413) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        log_warn("static.too_large", "rid=%s", http_request_id(req));
    } else {
        http_respond_error(req, 500, "internal_error", "Could not read the file.", NULL);
    }
    free(j->data);
    free(j);
}

void static_serve(struct static_files *s, struct http_req *req)
{
    const char *path = http_path(req);
    const char *last = strrchr(path, '/');
    struct static_job *j;

    if (!static_path_safe(path)) {
        http_respond_error(req, 404, "not_found", "Not found.", NULL);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->s = s;
    j->req = req;
    snprintf(j->url_path, sizeof(j->url_path), "%s", path);
    /* Client-side routes (/chat/123) get index.html; missing files (/x.js) get 404. */
    j->fallback_ok = strncmp(path, "/assets/", 8) && !strchr(last ? last : path, '.');
    if (http_submit(req, static_work, static_done, j))
        free(j);
}

void static_fallback(struct http_req *req, void *arg) { static_serve(arg, req); }
