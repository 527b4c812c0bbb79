/* The composition root: what main.c builds at start and hands to the lws context as its user
 * pointer, so the HTTP and WebSocket callbacks can reach the modules. Each module still gets
 * only what it needs at creation; this struct just holds them together. */
#ifndef SOTTO_SERVER_H
#define SOTTO_SERVER_H

#include <stdbool.h>

#include "base/config.h"
#include "base/cors.h"
#include "base/netaddr.h"

struct lws_context;
struct pool;
struct router;
struct metrics;
struct static_files;
struct http_state;
struct ws_state;
struct realtime;
struct blobs;
struct attachments;

struct server {
    const struct config *cfg;
    struct cors_list cors;       /* parsed CORS_ORIGINS */
    struct netaddr_list proxies; /* parsed TRUSTED_PROXIES */
    bool tls;                    /* native TLS on this listener */
    int port;                    /* listened on: PORT, or the kernel's choice for 0 */
    struct lws_context *lws;
    struct pool *pool;   /* general workers: requests, Argon2, files (nice 10) */
    struct pool *writer; /* one thread: group-committed sends and acks (realtime.h) */
    struct router *router;
    struct metrics *metrics;
    struct static_files *statics;
    struct http_state *http;         /* http.c's own state */
    struct ws_state *ws;             /* ws.c's own state */
    struct realtime *rt;             /* messaging and real time (realtime.h) */
    struct blobs *blobs;             /* the blob store (blobs/blobs.h) */
    struct attachments *attachments; /* attachments/attachments.h */
};

#endif
