/* HTTP request handling: the lws HTTP protocol callback, the request object, body collection
 * with per-route limits, JSON parsing, dispatch through the router, and responses written
 * only from the writeable callback (headers and the first body chunk in one write). */
#include "net/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "base/cors.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/server.h"
#include "net/conncap.h"
#include "net/headers.h"
#include "net/metrics.h"

#define HTTP_HEAD_MAX 4096    /* response header block */
#define HTTP_CHUNK 16384      /* body bytes per writeable callback */
#define HTTP_EXTRA_HDRS 1024  /* http_add_header space */
#define HTTP_DEFER_TIMEOUT 30 /* seconds a handler may take before the socket is dropped */

struct http_state {
    struct server *srv;
    http_auth_fn auth_fn;
    void *auth_arg;
    http_precheck_fn precheck_fn;
    void *precheck_arg;
    http_fallback_fn fallback_fn; /* static files */
    void *fallback_arg;
    struct conncap *conncap; /* open connections per client address */
    size_t body_reserved;    /* declared bytes of the bodies being read or held */
    size_t active;           /* request objects alive (attached or orphaned) */
    bool draining;
    uint64_t rid_base, rid_next;
};

/* Per-connection data (lws allocates it; we keep it to one pointer). */
/* A request answered before its body arrived (413, 415, or an error at the headers) that
 * must close: the body is read and dropped first, up to this much and for this long, because
 * closing with unread data makes the kernel reset the connection and the client, still
 * sending, never sees the answer. */
#define HTTP_LINGER_MAX (8u * 1024 * 1024)
#define HTTP_LINGER_SECS 5

struct http_conn {
    struct http_req *req;
    size_t linger;         /* body bytes still to read and drop before closing; 0: not lingering */
    uint64_t linger_until; /* monotonic microseconds: the linger's absolute end */
};

struct http_req {
    struct server *srv;
    struct lws *wsi; /* NULL once the client has gone */
    unsigned method;
    const char *path; /* points into mem below */
    char *scratch;    /* route params */
    size_t scratch_len;
    const struct route *route;
    enum router_result match;
    unsigned allow;
    struct route_params params;
    int metric_route;
    char client_ip[NETADDR_STRLEN];
    bool secure;
    char rid[17];
    enum cors_decision cors;
    char origin[CORS_ORIGIN_MAX];
    uint64_t t_start;

    char *body;
    size_t body_len, body_limit;
    size_t body_declared, body_seen; /* Content-Length, and bytes arrived (kept or not) */
    size_t body_reserved;            /* of hs->body_reserved, returned when the request ends */
    bool body_expected, body_overflow, body_complete, body_started;
    bool dispatched; /* a handler or auth hook may hold the pointer */
    json_t *json;

    void *auth;
    void (*auth_free)(void *);

    /* A streamed body (ROUTE_STREAM): pieces go to stream_fn as they arrive; what arrives
     * before it is set, or while it has paused, waits in stream_pre (bounded). */
    bool streaming, stream_paused, stream_ended;
    http_stream_fn stream_fn;
    void *stream_arg;
    char *stream_pre;
    size_t stream_pre_len;

    /* A response body from a source (http_respond_source): resp holds the current piece. */
    http_source_fn src_fn;
    void *src_arg;
    void (*src_free)(void *);
    size_t src_total, src_sent;
    bool src_pending, src_failed;

    /* response */
    bool responded, headers_sent, head_only, close_after;
    int status;
    char ctype[96];
    char hdrs[HTTP_EXTRA_HDRS];
    size_t hdrs_len;
    unsigned char *resp;
    size_t resp_len, resp_off;
    void (*resp_free)(void *);
    char mem[]; /* path, then scratch */
};

static uint64_t now_usec(void) { return (uint64_t)clock_mono_us(); }

static struct http_state *http_state_of(struct lws *wsi)
{
    struct server *srv = lws_context_user(lws_get_context(wsi));

    return srv->http;
}

/* Descriptors stay below MAX_CONNECTIONS + 64 (loop.c lowers the limit to it, or a lower
 * hard limit holds them); connections are capped 64 below the limit, which leaves the rest
 * for the store, pipes, logs and mail. */
static struct conncap *http_conncap_create(const struct config *cfg)
{
    struct rlimit rl;
    size_t limit = (size_t)cfg->max_connections + 64;

    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < limit)
        limit = (size_t)rl.rlim_cur;
    return conncap_create(limit, (unsigned)cfg->max_connections_per_ip,
                          limit > 96 ? limit - 64 : limit / 3);
}

static struct http_state *http_state_get(struct server *srv)
{
    if (!srv->http) {
        srv->http = calloc(1, sizeof(*srv->http));
        if (!srv->http)
            abort();
        srv->http->srv = srv;
        randombytes_buf(&srv->http->rid_base, sizeof(srv->http->rid_base));
    }
    return srv->http;
}

/* ---- accessors ---- */

unsigned http_method(const struct http_req *req) { return req->method; }
const char *http_path(const struct http_req *req) { return req->path; }
const char *http_client_ip(const struct http_req *req) { return req->client_ip; }
const char *http_request_id(const struct http_req *req) { return req->rid; }
bool http_is_secure(const struct http_req *req) { return req->secure; }
json_t *http_json(const struct http_req *req) { return req->json; }
bool http_req_gone(const struct http_req *req) { return !req->wsi; }
void *http_auth(const struct http_req *req) { return req->auth; }

const char *http_param(const struct http_req *req, const char *name)
{
    return route_param(&req->params, name);
}

const char *http_body(const struct http_req *req, size_t *len)
{
    *len = req->body_len;
    return req->body ? req->body : "";
}

static const struct {
    const char *name;
    enum lws_token_indexes tok;
} header_tokens[] = {
    {"authorization", WSI_TOKEN_HTTP_AUTHORIZATION},
    {"user-agent", WSI_TOKEN_HTTP_USER_AGENT},
    {"origin", WSI_TOKEN_ORIGIN},
    {"content-type", WSI_TOKEN_HTTP_CONTENT_TYPE},
    {"content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH},
    {"cookie", WSI_TOKEN_HTTP_COOKIE},
    {"host", WSI_TOKEN_HOST},
    {"accept", WSI_TOKEN_HTTP_ACCEPT},
    {"x-forwarded-for", WSI_TOKEN_X_FORWARDED_FOR},
    {"range", WSI_TOKEN_HTTP_RANGE},
    {"if-none-match", WSI_TOKEN_HTTP_IF_NONE_MATCH},
};

static int http_header_wsi(struct lws *wsi, const char *name, char *buf, size_t buflen)
{
    char cname[64];
    int n;

    if (buflen > INT32_MAX || !buflen)
        return -1;
    for (size_t i = 0; i < sizeof(header_tokens) / sizeof(header_tokens[0]); i++) {
        if (strcmp(name, header_tokens[i].name))
            continue;
        if (!lws_hdr_total_length(wsi, header_tokens[i].tok))
            return -1;
        return lws_hdr_copy(wsi, buf, (int)buflen, header_tokens[i].tok);
    }
    /* Custom headers are matched by their lower-case name with the colon. */
    n = snprintf(cname, sizeof(cname), "%s:", name);
    if (n < 0 || (size_t)n >= sizeof(cname))
        return -1;
    if (lws_hdr_custom_length(wsi, cname, n) <= 0)
        return -1;
    return lws_hdr_custom_copy(wsi, buf, (int)buflen, cname, n);
}

int http_header(struct http_req *req, const char *name, char *buf, size_t buflen)
{
    return req->wsi ? http_header_wsi(req->wsi, name, buf, buflen) : -1;
}

int http_query(struct http_req *req, const char *name, char *buf, size_t buflen)
{
    char key[64];
    const char *v;
    size_t n;

    if (!req->wsi || buflen > INT32_MAX || snprintf(key, sizeof(key), "%s=", name) >= 64)
        return -1;
    v = lws_get_urlarg_by_name(req->wsi, key, buf, (int)buflen);
    if (!v)
        return -1;
    n = strlen(v);
    memmove(buf, v, n + 1);
    return (int)n;
}

/* ---- request lifecycle ---- */

static unsigned http_method_of(struct lws *wsi)
{
    static const struct {
        enum lws_token_indexes tok;
        unsigned m;
    } map[] = {
        {WSI_TOKEN_GET_URI, HTTP_GET},         {WSI_TOKEN_POST_URI, HTTP_POST},
        {WSI_TOKEN_OPTIONS_URI, HTTP_OPTIONS}, {WSI_TOKEN_PUT_URI, HTTP_PUT},
        {WSI_TOKEN_PATCH_URI, HTTP_PATCH},     {WSI_TOKEN_DELETE_URI, HTTP_DELETE},
        {WSI_TOKEN_HEAD_URI, HTTP_HEAD},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (lws_hdr_total_length(wsi, map[i].tok))
            return map[i].m;
    return 0;
}

static const char *http_method_name(unsigned m)
{
    switch (m) {
    case HTTP_GET: return "GET";
    case HTTP_HEAD: return "HEAD";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_PATCH: return "PATCH";
    case HTTP_DELETE: return "DELETE";
    case HTTP_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

static void http_req_identify(struct http_req *req, struct lws *wsi)
{
    struct server *srv = req->srv;
    char peer[NETADDR_STRLEN] = "", xff[512], proto[16];
    bool has_xff = http_header_wsi(wsi, "x-forwarded-for", xff, sizeof(xff)) > 0;

    lws_get_peer_simple(wsi, peer, sizeof(peer));
    netaddr_client_ip(&srv->proxies, peer, has_xff ? xff : NULL, req->client_ip,
                      sizeof(req->client_ip));
    /* X-Forwarded-Proto is believed only from a trusted proxy (it decides Secure cookies). */
    req->secure = srv->tls;
    if (netaddr_list_contains(&srv->proxies, peer) &&
        http_header_wsi(wsi, "x-forwarded-proto", proto, sizeof(proto)) > 0)
        req->secure = !strcasecmp(proto, "https");
    snprintf(req->rid, sizeof(req->rid), "%016llx",
             (unsigned long long)(srv->http->rid_base + srv->http->rid_next++));
}

static void http_req_cors(struct http_req *req, struct lws *wsi)
{
    char origin[CORS_ORIGIN_MAX];
    bool preflight;

    if (http_header_wsi(wsi, "origin", origin, sizeof(origin)) <= 0)
        return;
    preflight = req->method == HTTP_OPTIONS &&
                lws_hdr_custom_length(wsi, "access-control-request-method:", 30) > 0;
    req->cors = cors_decide(&req->srv->cors, origin, preflight);
    if (req->cors != CORS_NONE)
        snprintf(req->origin, sizeof(req->origin), "%s", origin);
}

static struct http_req *http_req_create(struct http_state *hs, struct lws *wsi, const char *uri)
{
    size_t plen = strlen(uri);
    struct http_req *req = calloc(1, sizeof(*req) + 2 * (plen + 1));

    if (!req)
        abort();
    req->srv = hs->srv;
    req->wsi = wsi;
    req->t_start = now_usec();
    memcpy(req->mem, uri, plen + 1);
    req->path = req->mem;
    req->scratch = req->mem + plen + 1;
    req->scratch_len = plen + 1;
    req->method = http_method_of(wsi);
    req->metric_route = METRICS_ROUTE_NONE;
    hs->active++;
    http_req_identify(req, wsi);
    http_req_cors(req, wsi);
    return req;
}

static void http_req_free(struct http_req *req)
{
    struct http_state *hs = req->srv->http;

    if (req->resp_free)
        req->resp_free(req->resp);
    if (req->auth_free)
        req->auth_free(req->auth);
    json_decref(req->json);
    free(req->body);
    free(req->stream_pre);
    if (req->src_free)
        req->src_free(req->src_arg);
    hs->body_reserved -= req->body_reserved;
    hs->active--;
    free(req);
}

static void http_req_log(const struct http_req *req, uint64_t usec)
{
    char qpath[256];

    log_info("http.request", "rid=%s method=%s path=%s status=%d us=%llu ip=%s%s", req->rid,
             http_method_name(req->method), log_quote(qpath, sizeof(qpath), req->path), req->status,
             (unsigned long long)usec, req->client_ip, req->wsi ? "" : " client=gone");
}

/* The request is answered (or the client left): account for it and free it. */
static void http_req_finish(struct http_req *req)
{
    uint64_t usec = now_usec() - req->t_start;

    metrics_request(req->srv->metrics, req->metric_route, req->wsi ? req->status : 499, usec);
    http_req_log(req, usec);
    http_req_free(req);
}

/* ---- responses ---- */

void http_add_header(struct http_req *req, const char *name, const char *value)
{
    size_t room = sizeof(req->hdrs) - req->hdrs_len;
    int n;

    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return;
    n = snprintf(req->hdrs + req->hdrs_len, room, "%s: %s\r\n", name, value);
    if (n > 0 && (size_t)n < room)
        req->hdrs_len += (size_t)n;
    else
        req->hdrs[req->hdrs_len] = 0;
}

void http_respond_take(struct http_req *req, int status, const char *content_type, void *body,
                       size_t len, void (*free_fn)(void *))
{
    if (req->responded) {
        /* A second answer is a bug in the caller; drop it rather than corrupt the stream. */
        log_error("http.double_response", "rid=%s status=%d", req->rid, status);
        if (free_fn)
            free_fn(body);
        return;
    }
    req->responded = true;
    req->status = status;
    snprintf(req->ctype, sizeof(req->ctype), "%s", content_type ? content_type : "");
    req->resp = body;
    req->resp_len = len;
    req->resp_free = free_fn;
    if (!req->wsi) {
        http_req_finish(req);
        return;
    }
    if (req->streaming) {
        /* lws's rx flow control holds writes too: reading resumes for the answer to go out.
         * A body not read to its end is not wanted: the rest is dropped (bounded,
         * http_linger) and the connection closes, so no byte of it is taken for a request. */
        if (!req->body_complete)
            req->close_after = true;
        if (req->stream_paused)
            lws_rx_flow_control(req->wsi, 1);
        req->stream_paused = false;
    }
    lws_set_timeout(req->wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(req->wsi);
}

void http_respond(struct http_req *req, int status, const char *content_type, const void *body,
                  size_t len)
{
    void *copy = malloc(len ? len : 1);

    if (!copy)
        abort();
    if (len)
        memcpy(copy, body, len);
    http_respond_take(req, status, content_type, copy, len, free);
}

void http_respond_json(struct http_req *req, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    if (!s)
        abort();
    http_respond_take(req, status, "application/json", s, strlen(s), free);
}

char *http_error_body(const char *code, const char *message, json_t *details)
{
    json_t *root = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *s;

    if (!root)
        abort();
    if (details)
        json_object_set_new(json_object_get(root, "error"), "details", details);
    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        abort();
    return s;
}

void http_respond_error(struct http_req *req, int status, const char *code, const char *message,
                        json_t *details)
{
    char *s = http_error_body(code, message, details);

    http_respond_take(req, status, "application/json", s, strlen(s), free);
}

void http_respond_rate_limited(struct http_req *req, const char *code, unsigned retry_after)
{
    char v[16];

    snprintf(v, sizeof(v), "%u", retry_after ? retry_after : 1);
    http_add_header(req, "retry-after", v);
    http_respond_error(req, 429, code,
                       !strcmp(code, "account_locked")
                           ? "Too many failed attempts; try again later."
                           : "Too many requests; try again later.",
                       NULL);
}

int http_submit(struct http_req *req, pool_work_fn work, pool_done_fn done, void *arg)
{
    if (pool_submit(req->srv->pool, work, done, arg) == 0) {
        if (req->wsi)
            lws_set_timeout(req->wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_DEFER_TIMEOUT);
        return 0;
    }
    http_add_header(req, "retry-after", "1");
    http_respond_error(req, 503, "unavailable", "The server is busy; try again.", NULL);
    return -1;
}

/* ---- writing ---- */

static int http_append(unsigned char **p, unsigned char *end, const void *s, size_t n)
{
    if ((size_t)(end - *p) < n)
        return -1;
    memcpy(*p, s, n);
    *p += n;
    return 0;
}

static int http_write_head(struct lws *wsi, struct http_req *req, unsigned char **p,
                           unsigned char *end)
{
    struct server *srv = req->srv;
    char cors[512], rid[40];
    int cors_len = cors_headers(req->cors, req->origin, cors, sizeof(cors));

    if (lws_add_http_header_status(wsi, (unsigned)req->status, p, end))
        return -1;
    if (req->ctype[0] &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (unsigned char *)req->ctype,
                                     (int)strlen(req->ctype), p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, req->src_fn ? req->src_total : req->resp_len, p,
                                           end))
        return -1;
    snprintf(rid, sizeof(rid), "x-request-id: %s\r\n", req->rid);
    /* The security headers came with the status line (the vhost's canned headers). */
    if (http_append(p, end, cors, cors_len > 0 ? (size_t)cors_len : 0) ||
        http_append(p, end, req->hdrs, req->hdrs_len) || http_append(p, end, rid, strlen(rid)))
        return -1;
    if ((req->close_after || srv->http->draining) &&
        http_append(p, end, "connection: close\r\n", 19))
        return -1;
    if (lws_finalize_http_header(wsi, p, end))
        return -1;
    req->headers_sent = true;
    return 0;
}

/* Before closing after an early answer, reads what is left of a declared body (bounded in
 * size and time) so that the client gets the answer, not a reset. True if lingering. */
static bool http_linger(struct lws *wsi, struct http_conn *conn, const struct http_req *req)
{
    size_t left;

    if (!req->body_expected || req->body_seen >= req->body_declared)
        return false;
    left = req->body_declared - req->body_seen;
    if (left > HTTP_LINGER_MAX)
        return false;
    conn->linger = left;
    /* lws re-arms its own timeout on every body chunk; this end is absolute. */
    conn->linger_until = now_usec() + HTTP_LINGER_SECS * 1000000u;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_LINGER_SECS);
    return true;
}

/* The current piece of a source's response is written: ask for the next one. */
static int http_source_next(struct http_req *req)
{
    if (req->resp_free)
        req->resp_free(req->resp);
    req->resp = NULL;
    req->resp_free = NULL;
    req->resp_len = req->resp_off = 0;
    req->src_pending = true;
    req->src_fn(req, req->src_arg);
    return 0;
}

void http_respond_source(struct http_req *req, int status, const char *content_type, size_t len,
                         http_source_fn fn, void *arg, void (*free_fn)(void *))
{
    req->src_fn = fn;
    req->src_arg = arg;
    req->src_free = free_fn;
    req->src_total = len;
    /* The head goes out with an empty first piece; the writeable callback then asks. */
    http_respond_take(req, status, content_type, NULL, 0, NULL);
}

void http_source_give(struct http_req *req, void *piece, size_t len)
{
    req->src_pending = false;
    req->resp = piece;
    req->resp_len = piece ? len : 0;
    req->resp_off = 0;
    req->resp_free = NULL; /* borrowed from the source */
    if (!req->wsi) {
        http_req_finish(req);
        return;
    }
    if (!piece || !len || len > req->src_total - req->src_sent)
        req->src_failed = true;
    lws_callback_on_writable(req->wsi);
}

/* Sends the next part of the response; returns -1 to close the connection. */
static int http_on_writeable(struct lws *wsi, struct http_conn *conn)
{
    unsigned char buf[LWS_PRE + HTTP_HEAD_MAX + HTTP_CHUNK];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
    struct http_req *req = conn->req;
    bool last, close;
    size_t chunk;

    if (!req || !req->responded)
        return 0;
    if (req->src_failed)
        return -1; /* a source could not go on: the response is cut short */
    if (req->src_pending)
        return 0; /* http_source_give asks again */
    if (!req->headers_sent && http_write_head(wsi, req, &p, end))
        return -1;
    chunk = req->head_only ? 0 : req->resp_len - req->resp_off;
    if (chunk > (size_t)(end - p))
        chunk = (size_t)(end - p);
    if (chunk)
        memcpy(p, req->resp + req->resp_off, chunk);
    p += chunk;
    req->resp_off += chunk;
    req->src_sent += chunk;
    last = req->head_only ||
           (req->src_fn ? req->src_sent >= req->src_total : req->resp_off == req->resp_len);
    if (lws_write(wsi, start, (size_t)(p - start), last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
        0)
        return -1;
    if (!last && req->src_fn && req->resp_off == req->resp_len)
        return http_source_next(req);
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    close = req->close_after || req->srv->http->draining;
    conn->req = NULL;
    if (close && http_linger(wsi, conn, req)) {
        http_req_finish(req);
        return 0;
    }
    http_req_finish(req);
    if (close || lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

/* ---- pipelining ----
 * lws 4.1 keeps the bytes that arrive after a request (a pipelined next request) in the
 * connection's buffer list, and mishandles them in two ways:
 * - while a request with a body is being answered, it offers them again on every turn of
 *   the loop, and only repeats the body completion (consuming nothing): the loop spins;
 * - when the next request's head is parsed from that buffer and declares a body,
 *   lws_http_action reads the body from the start of the same buffer (the head's own bytes),
 *   then loops for ever on what is left: the loop thread is wedged (100 % CPU, no client
 *   served, SIGTERM ignored). One write of two requests, the second with a body, did it.
 * And while a request without a body is being answered, lws parses the next head over it.
 * The public API shows no connection's buffer, so sottod acts on the first sign of each:
 * a head while a request is open, a repeated completion, or a body that begins with its
 * own request line (no JSON body does; lws gives each transaction fresh per-connection
 * data, so "reused" cannot be told apart). Each closes the connection at once: it never
 * stays open holding bytes of a next request. A client that pipelines has its unanswered
 * requests closed and sends them again on a new connection, as RFC 9112 section 9.3.2
 * expects of it; browsers do not pipeline. */
static int http_pipelined(struct http_conn *conn, const char *sign)
{
    const struct http_req *req = conn->req;

    log_info("http.pipelined", "rid=%s ip=%s sign=%s action=close", req ? req->rid : "-",
             req ? req->client_ip : "-", sign);
    return -1;
}

/* True if a body's first bytes are its own request's line: lws read them from its buffer. */
static bool http_body_is_own_head(const struct http_req *req, const char *in, size_t len)
{
    const char *m = http_method_name(req->method);
    size_t n = strlen(m);

    return len > n + 1 && !memcmp(in, m, n) && in[n] == ' ' && in[n + 1] == '/';
}

/* ---- dispatch ---- */

static void http_run_handler(struct http_req *req)
{
    req->dispatched = true;
    req->route->handler(req, req->route->arg);
}

void http_set_auth_precheck(struct server *srv, http_precheck_fn fn, void *arg)
{
    struct http_state *hs = http_state_get(srv);

    hs->precheck_fn = fn;
    hs->precheck_arg = arg;
}

void http_set_auth_hook(struct server *srv, http_auth_fn fn, void *arg)
{
    struct http_state *hs = http_state_get(srv);

    hs->auth_fn = fn;
    hs->auth_arg = arg;
}

void http_auth_accept(struct http_req *req, void *auth, void (*free_fn)(void *auth))
{
    req->auth = auth;
    req->auth_free = free_fn;
    http_run_handler(req);
}

static bool http_is_api_path(const char *path)
{
    return !strncmp(path, "/api", 4) && (path[4] == '/' || !path[4]);
}

static void http_not_matched(struct http_req *req)
{
    char allow[96];

    if (req->match == ROUTER_METHOD_NOT_ALLOWED) {
        http_add_header(req, "allow", router_allow_string(req->allow, allow, sizeof(allow)));
        http_respond_error(req, 405, "method_not_allowed", "This method is not allowed here.",
                           NULL);
        return;
    }
    if ((req->method == HTTP_GET || req->method == HTTP_HEAD) && !http_is_api_path(req->path) &&
        strcmp(req->path, "/ws") && req->srv->http->fallback_fn) {
        req->metric_route = METRICS_ROUTE_STATIC;
        req->dispatched = true;
        req->srv->http->fallback_fn(req, req->srv->http->fallback_arg);
        return;
    }
    http_respond_error(req, 404, "not_found", "Not found.", NULL);
}

static void http_dispatch(struct http_req *req)
{
    struct http_state *hs = req->srv->http;

    if (req->body_overflow) {
        req->close_after = true;
        http_respond_error(req, 413, "payload_too_large", "The request body is too large.", NULL);
        return;
    }
    if (req->match != ROUTER_FOUND) {
        http_not_matched(req);
        return;
    }
    if (req->route->flags & ROUTE_JSON) {
        json_error_t jerr;

        req->json =
            json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req->json) {
            http_respond_error(req, 400, "invalid_json", "The body is not valid JSON.", NULL);
            return;
        }
    }
    if (!(req->route->flags & ROUTE_AUTH)) {
        http_run_handler(req);
        return;
    }
    if (!hs->auth_fn) {
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        return;
    }
    req->dispatched = true;
    hs->auth_fn(req, hs->auth_arg);
}

static bool http_content_type_json(struct lws *wsi)
{
    char ct[128];
    size_t n = strlen("application/json");

    if (http_header_wsi(wsi, "content-type", ct, sizeof(ct)) <= 0)
        return false;
    return !strncasecmp(ct, "application/json", n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Content-Length as RFC 9110 section 8.6 has it: digits only. A sign, a suffix, a list (two
 * headers arrive joined by a comma) or a value past 2^53 is refused: behind a proxy that reads
 * it otherwise, a lenient parse is how request smuggling starts. */
static int http_parse_content_length(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (1ULL << 53) / 10)
            return -1;
        v = v * 10 + (unsigned long long)(*s - '0');
    }
    *out = v;
    return 0;
}

static bool http_has_body_method(unsigned m)
{
    return m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH;
}

/* The declared length, or 400 if it is malformed. A POST, PUT or PATCH without one has an
 * empty body, but lws 4.1 then waits for 100 MiB of body: such a connection closes after the
 * answer, so no next request is taken for body bytes. */
static bool http_declared_length(struct http_req *req, struct lws *wsi,
                                 unsigned long long *declared)
{
    char cl[32];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)
                ? http_header_wsi(wsi, "content-length", cl, sizeof(cl))
                : 0;

    *declared = 0;
    if (n < 0 || (n > 0 && http_parse_content_length(cl, declared))) {
        req->close_after = true;
        http_respond_error(req, 400, "bad_request", "The Content-Length is not valid.", NULL);
        return false;
    }
    if (n == 0 && http_has_body_method(req->method))
        req->close_after = true;
    return true;
}

/* Bodies are held in memory until answered: the process's total is bounded, so many slow
 * uploads cannot grow it without limit. The whole declared length is reserved at the
 * headers and returned when the request ends. */
static bool http_reserve_body(struct http_req *req)
{
    struct http_state *hs = req->srv->http;

    if (hs->body_reserved + req->body_declared > (size_t)req->srv->cfg->body_memory_max) {
        log_warn("http.body_memory", "rid=%s ip=%s declared=%zu held=%zu", req->rid, req->client_ip,
                 req->body_declared, hs->body_reserved);
        req->close_after = true;
        http_add_header(req, "retry-after", "1");
        http_respond_error(req, 503, "unavailable", "The server is busy; try again.", NULL);
        return false;
    }
    req->body_reserved = req->body_declared;
    hs->body_reserved += req->body_reserved;
    return true;
}

/* Checks the declared body against the route before reading it. Returns false if already
 * answered (the unread body makes the connection unusable, so it closes). */
static bool http_precheck_body(struct http_req *req, struct lws *wsi)
{
    unsigned long long declared;
    const struct route *rt = req->match == ROUTER_FOUND ? req->route : NULL;
    struct http_state *hs = req->srv->http;

    req->body_limit = rt && rt->body_limit ? rt->body_limit : (size_t)req->srv->cfg->body_limit;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* lws 4.1 does not decode chunked request bodies: ask for a length instead. */
        req->close_after = true;
        http_respond_error(req, 411, "length_required", "Send the body with a Content-Length.",
                           NULL);
        return false;
    }
    if (!http_declared_length(req, wsi, &declared))
        return false;
    req->body_expected = declared > 0;
    req->body_declared = declared > SIZE_MAX ? SIZE_MAX : (size_t)declared;
    if (declared > req->body_limit) {
        req->close_after = true;
        http_respond_error(req, 413, "payload_too_large", "The request body is too large.", NULL);
        return false;
    }
    /* Nobody's large body is read before their token checks out. */
    if (rt && (rt->flags & ROUTE_AUTH) && declared > HTTP_UNAUTH_BODY_MAX &&
        (!hs->precheck_fn || !hs->precheck_fn(req, hs->precheck_arg))) {
        req->close_after = true;
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        return false;
    }
    if (rt && (rt->flags & ROUTE_JSON) && !http_content_type_json(wsi)) {
        req->close_after = req->close_after || req->body_expected;
        http_respond_error(req, 415, "unsupported_media_type", "Send the body as application/json.",
                           NULL);
        return false;
    }
    /* A streamed body is never held whole: its consumer keeps a bounded part. */
    req->streaming = rt && (rt->flags & ROUTE_STREAM) && req->body_expected;
    return !req->body_expected || req->streaming || http_reserve_body(req);
}

static void http_preflight(struct http_req *req)
{
    if (req->cors == CORS_PREFLIGHT_OK)
        http_respond(req, 204, NULL, "", 0);
    else
        http_respond_error(req, 403, "forbidden", "This origin is not allowed.", NULL);
}

static int http_on_request(struct lws *wsi, struct http_conn *conn, const char *uri)
{
    struct http_state *hs = http_state_of(wsi);
    struct http_req *req = http_req_create(hs, wsi, uri);

    conn->req = req;
    if (!req->method) {
        http_respond_error(req, 405, "method_not_allowed", "Unsupported method.", NULL);
        return 0;
    }
    if (req->cors == CORS_PREFLIGHT_OK || req->cors == CORS_PREFLIGHT_DENIED) {
        http_preflight(req);
        return 0;
    }
    req->match = router_match(hs->srv->router, req->method, req->path, req->scratch,
                              req->scratch_len, &req->params, &req->route, &req->allow);
    if (req->match == ROUTER_FOUND)
        req->metric_route = (int)router_index(hs->srv->router, req->route);
    req->head_only = req->method == HTTP_HEAD;
    if (!http_precheck_body(req, wsi))
        return 0; /* answered */
    if (req->streaming) {
        /* Dispatched at the headers; the body waits (bounded) until its consumer starts. */
        req->stream_paused = true;
        lws_rx_flow_control(wsi, 0);
    } else if (req->body_expected) {
        return 0; /* wait for the body */
    }
    http_dispatch(req);
    return 0;
}

/* Holds a piece of a streamed body while its consumer cannot take it: at most two pieces (what
 * lws had read when reading was paused), else the connection closes. */
#define HTTP_STREAM_PRE_MAX (2 * HTTP_STREAM_PIECE_MAX)

static int http_stream_hold(struct http_req *req, const char *in, size_t len)
{
    if (req->stream_pre_len + len > HTTP_STREAM_PRE_MAX) {
        log_warn("http.stream_overrun", "rid=%s held=%zu more=%zu", req->rid, req->stream_pre_len,
                 len);
        return -1;
    }
    if (!req->stream_pre) {
        req->stream_pre = malloc(HTTP_STREAM_PRE_MAX);
        if (!req->stream_pre)
            abort();
    }
    memcpy(req->stream_pre + req->stream_pre_len, in, len);
    req->stream_pre_len += len;
    return 0;
}

/* Hands what is held, then (once the body has arrived) its end, to the consumer while it
 * takes them; the consumer may pause, answer or see the client leave meanwhile. */
static void http_stream_flush(struct http_req *req)
{
    size_t off = 0;

    while (off < req->stream_pre_len && !req->stream_paused && !req->responded) {
        size_t n = req->stream_pre_len - off;

        if (n > HTTP_STREAM_PIECE_MAX)
            n = HTTP_STREAM_PIECE_MAX;
        off += n;
        req->stream_fn(req, req->stream_arg, HTTP_STREAM_DATA, req->stream_pre + off - n, n);
    }
    if (req->responded) {
        req->stream_pre_len = 0;
        return;
    }
    if (off) {
        memmove(req->stream_pre, req->stream_pre + off, req->stream_pre_len - off);
        req->stream_pre_len -= off;
    }
    if (!req->stream_pre_len && req->body_complete && !req->stream_ended) {
        req->stream_ended = true;
        req->stream_fn(req, req->stream_arg, HTTP_STREAM_END, NULL, 0);
    }
}

static int http_stream_in(struct http_req *req, const char *in, size_t len)
{
    if (req->responded || !len || !in)
        return 0; /* answered already: dropped */
    if (!req->stream_fn || req->stream_paused || req->stream_pre_len)
        return http_stream_hold(req, in, len);
    while (len && !req->stream_paused && !req->responded) {
        size_t n = len > HTTP_STREAM_PIECE_MAX ? HTTP_STREAM_PIECE_MAX : len;

        req->stream_fn(req, req->stream_arg, HTTP_STREAM_DATA, in, n);
        in += n, len -= n;
    }
    return len && !req->responded ? http_stream_hold(req, in, len) : 0;
}

size_t http_body_length(const struct http_req *req) { return req->body_declared; }

void http_stream_body(struct http_req *req, http_stream_fn fn, void *arg)
{
    req->stream_fn = fn;
    req->stream_arg = arg;
    if (!req->streaming) {
        /* No body: its end is now. */
        req->stream_ended = true;
        fn(req, arg, HTTP_STREAM_END, NULL, 0);
        return;
    }
    http_stream_pause(req, false);
    if (!req->wsi && !req->stream_ended && !req->responded) /* left before the consumer came */
        fn(req, arg, HTTP_STREAM_GONE, NULL, 0);
}

void http_stream_pause(struct http_req *req, bool pause)
{
    if (!req->streaming || req->responded)
        return;
    if (pause) {
        if (!req->stream_paused && req->wsi)
            lws_rx_flow_control(req->wsi, 0);
        req->stream_paused = true;
        return;
    }
    req->stream_paused = false;
    if (req->stream_fn)
        http_stream_flush(req);
    if (!req->stream_paused && !req->responded && req->wsi)
        lws_rx_flow_control(req->wsi, 1);
}

static int http_on_body(struct http_req *req, const void *in, size_t len)
{
    char *nb;

    req->body_seen += len;
    if (req->streaming)
        return http_stream_in(req, in, len);
    if (req->body_overflow || req->responded || !len || !in)
        return 0; /* lws may report an empty body chunk with in == NULL */
    if (req->body_len + len > req->body_limit) {
        /* Chunked upload past the limit: stop keeping it, answer 413 and close. */
        req->body_overflow = true;
        http_dispatch(req);
        return 0;
    }
    nb = realloc(req->body, req->body_len + len + 1);
    if (!nb)
        abort();
    memcpy(nb + req->body_len, in, len);
    req->body = nb;
    req->body_len += len;
    req->body[req->body_len] = 0;
    return 0;
}

/* A request must arrive whole within REQUEST_TIMEOUT of its first byte of head, however
 * slowly it trickles: lws re-arms its own timeout on every chunk, so a byte every few seconds
 * kept a 9 MB body (and its memory) alive for hours. */
static bool http_past_deadline(const struct http_req *req)
{
    uint64_t limit = (uint64_t)req->srv->cfg->request_timeout * 1000000u;

    if (req->dispatched || req->responded || now_usec() - req->t_start <= limit)
        return false;
    log_info("http.deadline", "rid=%s ip=%s seen=%zu declared=%zu action=close", req->rid,
             req->client_ip, req->body_seen, req->body_declared);
    return true;
}

/* The connection is closing: orphan an unanswered request (a completion will free it). */
static void http_detach(struct http_conn *conn)
{
    struct http_req *req = conn->req;

    if (!req)
        return;
    conn->req = NULL;
    req->wsi = NULL;
    /* Nobody else can hold a request that was answered or never reached a handler, unless
     * a source is reading its next piece (http_source_give frees it then). */
    if ((req->responded && !req->src_pending) || !req->dispatched) {
        http_req_finish(req);
        return;
    }
    /* A streamed body's consumer hears that the rest will not come; it answers (and so
     * frees the request) when it has kept what came. */
    if (req->streaming && req->stream_fn && !req->stream_ended && !req->responded) {
        req->stream_ended = true;
        req->stream_fn(req, req->stream_arg, HTTP_STREAM_GONE, NULL, 0);
    }
}

/* ---- connections per address ---- */

/* A new socket from the listener: refused (closed at once) if the server holds all the
 * connections it keeps descriptors for, or its address holds MAX_CONNECTIONS_PER_IP already
 * (trusted proxies are not capped per address). Returns lws's 0/1. */
/* The text form of a peer address (NETADDR_STRLEN bytes), for the proxy list and logs. */
static const char *http_sockaddr_text(const struct sockaddr *sa, char *ip)
{
    ip[0] = 0;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                  NETADDR_STRLEN);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                  NETADDR_STRLEN);
    return ip;
}

static int http_admit(struct server *srv, void *filter_args, int fd)
{
    const struct lws_filter_network_conn_args *f = filter_args;
    const struct sockaddr *sa = (const struct sockaddr *)&f->cli_addr;
    char ip[NETADDR_STRLEN];
    /* The address is formatted only when a proxy list needs it or a refusal is logged. */
    bool proxy = srv->proxies.n && netaddr_list_contains(&srv->proxies, http_sockaddr_text(sa, ip));

    if (!srv->http->conncap || conncap_admit(srv->http->conncap, fd, sa, proxy))
        return 0;
    log_info_limited("http.refused", "ip=%s open=%zu per_ip_max=%ld", http_sockaddr_text(sa, ip),
                     conncap_total(srv->http->conncap), srv->cfg->max_connections_per_ip);
    return 1;
}

/* lws closes a socket before it says the connection is destroyed: the descriptor is noted
 * on the connection when it is made, to release its address's count then. */
void http_conn_instantiated(struct lws *wsi)
{
    lws_set_opaque_user_data(wsi, (void *)(intptr_t)(lws_get_socket_fd(wsi) + 1));
}

static void http_conn_destroyed(struct server *srv, struct lws *wsi)
{
    intptr_t fd1 = (intptr_t)lws_get_opaque_user_data(wsi);

    if (fd1 > 0 && srv->http && srv->http->conncap)
        conncap_release(srv->http->conncap, (int)(fd1 - 1));
}

/* Writes a whole JSON error answer at once, before any request object exists (lws asks
 * about an upgrade while it parses), and returns -1 so that lws closes the connection. The
 * answer is small and the first thing written on the connection, so the socket takes it. */
static int http_refuse_now(struct lws *wsi, unsigned status, const char *code, const char *message)
{
    unsigned char buf[LWS_PRE + HTTP_HEAD_MAX + 256];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
    char *body = http_error_body(code, message, NULL);
    size_t blen = strlen(body);

    if (blen <= 256 && !lws_add_http_header_status(wsi, status, &p, end) &&
        !lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                      (unsigned char *)"application/json", 16, &p, end) &&
        !lws_add_http_header_content_length(wsi, blen, &p, end) &&
        !http_append(&p, end, "connection: close\r\n", 19) &&
        !lws_finalize_http_header(wsi, &p, end) && !http_append(&p, end, body, blen))
        (void)lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
    free(body);
    return -1;
}

/* lws asks before switching protocols. Only a WebSocket upgrade of /ws is taken: HTTP/2 over
 * cleartext (h2c) is refused, since sottod speaks HTTP/1.1 and WebSocket only (an h2c
 * connection pinned a header table with no deadline), and other paths get 404. Both
 * protocols' callbacks ask here: which one lws asks depends on the vhost default.
 *
 * The value lws passes is not read: for a protocol it does not know, lws 4.1 answers 403
 * itself, completes the transaction (which may free the header table) and then still asks,
 * with a pointer into the freed table (found by fuzz_http_raw). The header is read again
 * from the table; when it is gone, lws has answered already and the connection just closes. */
int http_confirm_upgrade(struct lws *wsi)
{
    char up[16], uri[8];

    if (lws_hdr_total_length(wsi, WSI_TOKEN_UPGRADE) <= 0)
        return -1;
    if (lws_hdr_copy(wsi, up, sizeof(up), WSI_TOKEN_UPGRADE) <= 0 || strcasecmp(up, "websocket"))
        return http_refuse_now(wsi, 400, "upgrade_refused",
                               "Only WebSocket upgrades are supported, on /ws.");
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) != 3 || strcmp(uri, "/ws"))
        return http_refuse_now(wsi, 404, "not_found", "Not found.");
    return 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct http_conn *conn = user;
    struct server *srv;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (conn->req) /* a next head parsed while this request is open */
            return http_pipelined(conn, "head_while_open");
        return http_on_request(wsi, conn, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (conn->req && !conn->req->body_started && len && in) {
            conn->req->body_started = true;
            if (http_body_is_own_head(conn->req, in, len))
                return http_pipelined(conn, "body_from_buffer");
        }
        if (conn->req && http_past_deadline(conn->req))
            return -1;
        if (conn->linger) { /* answered already: drop the rest, then close */
            if (len >= conn->linger || now_usec() > conn->linger_until)
                return -1;
            conn->linger -= len;
            return 0;
        }
        if (conn->req)
            return http_on_body(conn->req, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (conn->linger)
            return -1;
        if (conn->req && conn->req->body_complete) /* bytes of a next request wait */
            return http_pipelined(conn, "repeated_completion");
        if (conn->req)
            conn->req->body_complete = true;
        if (conn->req && conn->req->streaming && conn->req->stream_fn && !conn->req->responded &&
            !conn->req->stream_paused)
            http_stream_flush(conn->req);
        /* Only a request that waited for its body: with "Content-Length: 0" lws still
         * reports a completion after the request was dispatched at its headers. */
        if (conn->req && !conn->req->responded && conn->req->body_expected &&
            !conn->req->dispatched)
            http_dispatch(conn->req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: return http_on_writeable(wsi, conn);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (conn)
            http_detach(conn);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (conn && conn->req) /* an upgrade pipelined behind an open request */
            return http_pipelined(conn, "upgrade_while_open");
        return http_confirm_upgrade(wsi);
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        srv = lws_context_user(lws_get_context(wsi));
        return srv->http->draining ? 1 : http_admit(srv, user, (int)(intptr_t)in);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: http_conn_instantiated(wsi); return 0;
    case LWS_CALLBACK_WSI_CREATE:
        srv = lws_context_user(lws_get_context(wsi));
        metrics_connection(srv->metrics, 1, 0);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        srv = lws_context_user(lws_get_context(wsi));
        metrics_connection(srv->metrics, -1, 0);
        http_conn_destroyed(srv, wsi);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

size_t http_conn_data_size(void) { return sizeof(struct http_conn); }

size_t http_active(const struct server *srv) { return srv->http ? srv->http->active : 0; }

void http_set_fallback(struct server *srv, http_fallback_fn fn, void *arg)
{
    struct http_state *h = http_state_get(srv);

    h->fallback_fn = fn;
    h->fallback_arg = arg;
}

void http_set_draining(struct server *srv) { http_state_get(srv)->draining = true; }

void http_init(struct server *srv) { http_state_get(srv)->conncap = http_conncap_create(srv->cfg); }

void http_fini(struct server *srv)
{
    if (srv->http)
        conncap_destroy(srv->http->conncap);
    free(srv->http);
    srv->http = NULL;
}
