/* HTTP requests and responses on top of libwebsockets.
 *
 * A request object lives from the end of its headers until its response is sent. Handlers get
 * it on the loop thread and must answer exactly once with one of the http_respond* functions:
 * either before returning, or later from a pool completion (also on the loop thread). If the
 * client goes away first, the connection lets go of the request and the late http_respond*
 * only frees it: the socket is never touched after it closed, and the request pointer stays
 * valid until it is answered. Workers must never touch a request: copy what the work needs.
 *
 * Register routes with router_add (router.h); a handler looks like
 *
 *     static void users_get(struct http_req *req, void *arg)
 *     {
 *         struct job *j = job_new(http_param(req, "id"));
 *         j->req = req;
 *         if (http_submit(req, users_get_work, users_get_done, j))
 *             job_free(j);        // http_submit already answered 503
 *     }
 *     static void users_get_done(void *arg)   // loop thread
 *     {
 *         struct job *j = arg;
 *         if (j->found) http_respond_json(j->req, 200, user_to_json(j));
 *         else http_respond_error(j->req, 404, "not_found", "No such user.", NULL);
 *         job_free(j);
 *     }
 */
#ifndef SOTTO_HTTP_H
#define SOTTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "base/pool.h"
#include "net/router.h"

struct http_req;
struct server;

/* --- reading the request (loop thread) ------------------------------------------------- */

unsigned http_method(const struct http_req *req);  /* enum http_method */
const char *http_path(const struct http_req *req); /* decoded path, without query */
const char *http_param(const struct http_req *req, const char *name); /* :name or NULL */
const char *http_client_ip(const struct http_req *req);               /* after TRUSTED_PROXIES */
const char *http_request_id(const struct http_req *req); /* also sent as X-Request-Id */
bool http_is_secure(const struct http_req *req);         /* native TLS or trusted https proxy */
json_t *http_json(const struct http_req *req);           /* ROUTE_JSON body; owned by req */
const char *http_body(const struct http_req *req, size_t *len); /* raw body, NUL-terminated */
bool http_req_gone(const struct http_req *req);                 /* client closed: skip the work */

/* Header value (name in lower case, e.g. "user-agent") or query parameter, copied into buf.
 * Returns the length, or -1 if absent, too long, or the client has gone. Only while the
 * connection lives: read what you need in the handler, before handing work to the pool. */
int http_header(struct http_req *req, const char *name, char *buf, size_t buflen);
int http_query(struct http_req *req, const char *name, char *buf, size_t buflen);

/* --- authentication (issue 3 installs the hook) ----------------------------------------- */

/* Runs before the handler of every ROUTE_AUTH route. It must either call http_auth_accept
 * (now or from a completion) or answer with an error (401...). Without a hook, ROUTE_AUTH
 * routes answer 401 unauthenticated: fail closed. */
typedef void (*http_auth_fn)(struct http_req *req, void *arg);
void http_set_auth_hook(struct server *srv, http_auth_fn fn, void *arg);

/* A cheap check of the caller's credentials at the request's headers (no I/O: the token's
 * MAC and expiry), so that a body larger than HTTP_UNAUTH_BODY_MAX on a ROUTE_AUTH route is
 * read only for a caller who may be someone; the full hook still runs at dispatch. */
#define HTTP_UNAUTH_BODY_MAX 4096
typedef bool (*http_precheck_fn)(struct http_req *req, void *arg);
void http_set_auth_precheck(struct server *srv, http_precheck_fn fn, void *arg);

/* What answers a GET or HEAD outside /api and /ws that no route matched: the web client's
 * static files (static.c), set by main. Without one, such a request is 404. */
typedef void (*http_fallback_fn)(struct http_req *req, void *arg);
void http_set_fallback(struct server *srv, http_fallback_fn fn, void *arg);

/* Stores the caller's identity (freed with free_fn when the request ends) and runs the
 * route handler. */
void http_auth_accept(struct http_req *req, void *auth, void (*free_fn)(void *auth));
void *http_auth(const struct http_req *req);

/* --- async work ------------------------------------------------------------------------- */

/* pool_submit for a request: on a full queue it answers 503 "unavailable" itself and returns
 * -1 (the caller still owns arg and must free it). */
int http_submit(struct http_req *req, pool_work_fn work, pool_done_fn done, void *arg);

/* --- streamed bodies (ROUTE_STREAM routes) ---------------------------------------------- */

/* What a streamed body's consumer hears, on the loop thread: a piece of the body (borrowed
 * for the call, at most HTTP_STREAM_PIECE_MAX bytes), the end of the declared length, or the
 * client's leaving before it (then only an http_respond* call, which frees the request, may
 * follow). */
enum http_stream_event { HTTP_STREAM_DATA, HTTP_STREAM_END, HTTP_STREAM_GONE };
typedef void (*http_stream_fn)(struct http_req *req, void *arg, enum http_stream_event ev,
                               const void *data, size_t len);

#define HTTP_STREAM_PIECE_MAX 65536

/* The declared Content-Length (0 without one). */
size_t http_body_length(const struct http_req *req);

/* Starts handing the body to fn, first what arrived before (held, bounded), then the rest as
 * it comes; without a body END comes at once. Call once, from the handler or later. The
 * consumer may answer at any time; body bytes not read by then are dropped (the connection
 * closes after the answer). */
void http_stream_body(struct http_req *req, http_stream_fn fn, void *arg);

/* The consumer's back-pressure: after http_stream_pause(req, true) no DATA comes until it is
 * called with false (lws stops reading the socket, so the client's sending stalls in TCP);
 * END and GONE still may. */
void http_stream_pause(struct http_req *req, bool pause);

/* --- answering (loop thread, exactly once) ---------------------------------------------- */

/* Adds a response header ("retry-after", "30"); at most 1 KiB in all, more is dropped. Names
 * and values must not contain CR or LF (checked: such a header is dropped). */
void http_add_header(struct http_req *req, const char *name, const char *value);

/* Copies body. */
void http_respond(struct http_req *req, int status, const char *content_type, const void *body,
                  size_t len);
/* Takes body (malloc'd, or freed with free_fn if not NULL). */
void http_respond_take(struct http_req *req, int status, const char *content_type, void *body,
                       size_t len, void (*free_fn)(void *));
/* Takes the reference to body. */
void http_respond_json(struct http_req *req, int status, json_t *body);
/* {"error": {"code", "message", "details"?}}; takes the reference to details (may be NULL). */
void http_respond_error(struct http_req *req, int status, const char *code, const char *message,
                        json_t *details);
/* 429 with Retry-After (seconds); code is "rate_limited" or "account_locked". */
void http_respond_rate_limited(struct http_req *req, const char *code, unsigned retry_after);

/* A response body produced in pieces (a file larger than memory should hold): headers with
 * Content-Length len go out, then fn(req, arg) is called each time the last piece has been
 * written, and answers (now or from a completion) with http_source_give. arg belongs to the
 * request from now on: free_fn(arg) when it ends. */
typedef void (*http_source_fn)(struct http_req *req, void *arg);
void http_respond_source(struct http_req *req, int status, const char *content_type, size_t len,
                         http_source_fn fn, void *arg, void (*free_fn)(void *));
/* The next piece (len > 0; borrowed until fn is called again or the request ends, so one
 * buffer serves a whole response), or NULL when it could not be read: the connection is then
 * closed, the response cut short. Loop thread. If the client has gone, this frees the request
 * (and arg). */
void http_source_give(struct http_req *req, void *piece, size_t len);

/* Renders the contract's error body (tests use it). Caller frees the string. */
char *http_error_body(const char *code, const char *message, json_t *details);

/* --- for loop.c -------------------------------------------------------------------------- */

void http_init(struct server *srv);
void http_fini(struct server *srv);
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
size_t http_conn_data_size(void);
size_t http_active(const struct server *srv); /* requests not yet answered or not yet sent */
void http_set_draining(struct server *srv);   /* answer in-flight requests, then close */
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE for either protocol: 0 to allow (a WebSocket on /ws),
 * else answers 400/404 itself and returns -1 (close). */
int http_confirm_upgrade(struct lws *wsi);
/* LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED for either protocol (per-address counts). */
void http_conn_instantiated(struct lws *wsi);

#endif
