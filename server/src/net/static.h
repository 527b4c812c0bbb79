/* Static files of the built web client from WEB_ROOT. Files are read on the worker pool
 * (never on the loop thread), up to STATIC_MAX_FILE bytes, and sent in chunks. */
#ifndef SOTTO_STATIC_H
#define SOTTO_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct static_files;
struct http_req;
struct pool;

/* NULL if web_root does not exist (static serving is then off: every such path is 404). */
struct static_files *static_create(const char *web_root, size_t max_file, struct pool *pool);
void static_destroy(struct static_files *s);

/* Answers a GET/HEAD for a non-API path: the file, index.html for a directory, or the SPA
 * fallback (index.html) for an extension-less path that does not exist; 404 otherwise. */
void static_serve(struct static_files *s, struct http_req *req);
/* static_serve as HTTP's fallback (http_set_fallback); arg is the struct static_files. */
void static_fallback(struct http_req *req, void *arg);

/* Pure helpers (tested): the MIME type for a path, its Cache-Control value, and whether a
 * URL path is safe to map into the web root (no "..", ".", dot-files, backslash, NUL). */
const char *static_content_type(const char *path);
const char *static_cache_control(const char *url_path);
bool static_path_safe(const char *url_path);

#endif
