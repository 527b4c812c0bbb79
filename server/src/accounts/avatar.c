/* /api/users/me/avatar and /api/users/:id/avatar: profile pictures. Public by the issue's
 * words (not end-to-end encrypted), so the server may look at them, and must: an upload is
 * hostile input, checked by its content and re-encoded on a worker (avatar_image.h) before a
 * byte of it is kept. The picture is served without a token (an <img> cannot send one) under
 * a versioned URL, with a type of our own choosing and a policy that lets it do nothing. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accounts/avatar_image.h"
#include "accounts/internal.h"
#include "api/api.h"
#include "base/log.h"
#include "base/server.h"
#include "store/avatars.h"

#define AVATAR_UPLOAD_MAX (2 * 1024 * 1024) /* bytes of an upload: more is 413 */
#define AVATAR_CSP "default-src 'none'; sandbox"
#define AVATAR_CACHE_PINNED "public, max-age=31536000, immutable"

static const char *const upload_types[] = {"image/png", "image/jpeg", "image/webp"};

/* ---- upload ---- */

struct avatar_upload {
    uint8_t *bytes;
    size_t len;
};

static void upload_free(void *arg)
{
    struct avatar_upload *up = arg;

    if (up)
        free(up->bytes);
    free(up);
}

static json_t *allowed_json(void)
{
    json_t *a = json_array();

    for (size_t i = 0; i < sizeof(upload_types) / sizeof(upload_types[0]); i++)
        json_array_append_new(a, json_string(upload_types[i]));
    return a;
}

static json_t *type_details(void)
{
    return json_pack("{s:s, s:o}", "reason", "image_type", "allowed", allowed_json());
}

/* The declared type must be one we take; the content decides what the bytes are. */
static bool declared_type_ok(struct http_req *req)
{
    char ct[128];

    if (http_header(req, "content-type", ct, sizeof(ct)) <= 0)
        return false;
    ct[strcspn(ct, "; \t")] = 0;
    for (size_t i = 0; i < sizeof(upload_types) / sizeof(upload_types[0]); i++)
        if (!strcasecmp(ct, upload_types[i]))
            return true;
    return false;
}

static void upload_refused(struct job *j, enum avatar_verdict v)
{
    switch (v) {
    case AVATAR_TYPE:
        job_fail(j, 415, "unsupported_media_type", "Send a PNG, JPEG or WebP picture.",
                 type_details());
        break;
    case AVATAR_DIMENSIONS:
        job_fail(j, 413, "payload_too_large", "The picture has too many pixels.",
                 json_pack("{s:s, s:i, s:i}", "reason", "dimensions", "maxSide", AVATAR_MAX_SIDE,
                           "maxPixels", AVATAR_MAX_PIXELS));
        break;
    case AVATAR_UNDECODABLE: job_invalid(j, "image", "undecodable"); break;
    case AVATAR_BUSY: job_error(j, 503, "unavailable", "The server is busy; try again."); break;
    default:
        log_error("avatar.reencode", "rid=%s failed", j->rid);
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
    }
}

static json_t *url_json(const char *user_id, int64_t version)
{
    char url[128];

    if (version == 0)
        return json_pack("{s:n}", "avatarUrl");
    snprintf(url, sizeof(url), STORE_AVATAR_PATH, user_id, (long long)version);
    return json_pack("{s:s}", "avatarUrl", url);
}

static void put_work(struct store *s, struct job *j)
{
    struct avatar_upload *up = j->extra;
    uint8_t *img = NULL;
    size_t n = 0;
    int64_t version = 0;
    enum avatar_verdict v = avatar_reencode(up->bytes, up->len, &img, &n);
    enum store_err rc;

    if (v != AVATAR_OK) {
        upload_refused(j, v);
        return;
    }
    rc = store_avatar_put(s, j->who.user_id, AVATAR_OUT_TYPE, img, n, j->now, &version);
    free(img);
    job_result(j, rc, url_json(j->who.user_id, version), "avatar_put");
}

static void avatar_put(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    const struct auth_identity *who = http_auth(req);
    size_t len = 0;
    const char *body = http_body(req, &len);
    struct avatar_upload *up;
    struct job *j;

    if (!declared_type_ok(req)) {
        http_respond_error(req, 415, "unsupported_media_type", "Send a PNG, JPEG or WebP picture.",
                           type_details());
        return;
    }
    if (!body || len == 0) {
        api_invalid(req, "image", "missing");
        return;
    }
    if (auth_limit(a, req, RULE_AVATAR_USER, who ? who->user_id : NULL))
        return;
    up = calloc(1, sizeof(*up));
    if (!up || !(up->bytes = malloc(len)))
        abort();
    memcpy(up->bytes, body, len); /* the worker must not touch the request */
    up->len = len;
    j = job_new(req, a);
    j->extra = up;
    j->extra_free = upload_free;
    job_submit(j, put_work);
}

/* ---- removal ---- */

static void delete_work(struct store *s, struct job *j)
{
    job_result(j, store_avatar_delete(s, j->who.user_id, j->now), url_json(j->who.user_id, 0),
               "avatar_delete");
}

static void avatar_delete(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), delete_work);
}

/* ---- serving ---- */

struct avatar_fetch {
    struct store_avatar av;
    char if_none_match[128];
    int64_t asked; /* ?v=, or -1 */
};

static void fetch_free(void *arg)
{
    struct avatar_fetch *f = arg;

    if (f)
        store_avatar_free(&f->av);
    free(f);
}

static void etag_of(const struct avatar_fetch *f, char *buf, size_t len)
{
    snprintf(buf, len, "\"v%lld\"", (long long)f->av.version);
}

/* A list of tags (or *) naming the current one: the client's copy is current. */
static bool fetch_current(const struct avatar_fetch *f)
{
    char etag[32];

    etag_of(f, etag, sizeof(etag));
    return !strcmp(f->if_none_match, "*") || strstr(f->if_none_match, etag) != NULL;
}

static void fetch_respond(struct job *j, struct http_req *req)
{
    struct avatar_fetch *f = j->extra;
    char etag[32];

    etag_of(f, etag, sizeof(etag));
    http_add_header(req, "etag", etag);
    /* A URL with the current version names these bytes for good; any other asks again. */
    http_add_header(req, "cache-control",
                    f->asked == f->av.version ? AVATAR_CACHE_PINNED : "no-cache");
    http_add_header(req, "content-security-policy", AVATAR_CSP);
    if (j->status == 304) {
        http_respond(req, 304, NULL, "", 0);
        return;
    }
    http_respond_take(req, 200, f->av.content_type, f->av.image, f->av.len, free);
    f->av.image = NULL;
}

static void fetch_work(struct store *s, struct job *j)
{
    struct avatar_fetch *f = j->extra;
    enum store_err rc = store_avatar_get(s, j->arg, &f->av);

    if (rc == STORE_NOT_FOUND)
        job_error(j, 404, "not_found", "No such picture.");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "avatar_get");
    else
        job_respond(j, fetch_current(f) ? 304 : 200, fetch_respond);
}

static int64_t asked_version(struct http_req *req)
{
    char v[24], *end;
    long long n;

    if (http_query(req, "v", v, sizeof(v)) <= 0)
        return -1;
    n = strtoll(v, &end, 10);
    return *end || n < 1 ? -1 : n;
}

static void avatar_get(struct http_req *req, void *arg)
{
    const char *id = http_param(req, "id");
    struct avatar_fetch *f;
    struct job *j;

    if (!api_is_uuid(id)) {
        http_respond_error(req, 404, "not_found", "No such picture.", NULL);
        return;
    }
    f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    if (http_header(req, "if-none-match", f->if_none_match, sizeof(f->if_none_match)) < 0)
        f->if_none_match[0] = 0;
    f->asked = asked_version(req);
    j = job_new(req, arg);
    snprintf(j->arg, sizeof(j->arg), "%s", id);
    j->extra = f;
    j->extra_free = fetch_free;
    job_submit(j, fetch_work);
}

int avatar_routes(struct server *srv, struct auth_state *a)
{
    const struct route routes[] = {
        {HTTP_PUT, "/api/users/me/avatar", avatar_put, a, AVATAR_UPLOAD_MAX, ROUTE_AUTH},
        {HTTP_DELETE, "/api/users/me/avatar", avatar_delete, a, 0, ROUTE_AUTH},
        /* No token: an <img> cannot send one, and the picture is public. */
        {HTTP_GET, "/api/users/:id/avatar", avatar_get, a, 0, 0},
    };

    avatar_image_init();
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
