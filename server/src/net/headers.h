/* Security headers sent on every response: API, errors, static files, and the WebSocket
 * upgrade. Built once at start as raw header lines, so each response is one memcpy. */
#ifndef SOTTO_HEADERS_H
#define SOTTO_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/* The header block ("name: value\r\n" lines) for a server with or without native TLS (HSTS
 * only under TLS: over plain HTTP it would be ignored, and a proxy terminating TLS sets its
 * own). Static storage; never freed. */
const char *headers_security(bool tls, size_t *len);

struct lws_protocol_vhost_options;

/* The same set as libwebsockets' per-vhost canned headers (info.headers), which lws adds to
 * every status line, its own error answers included. Static storage. */
const struct lws_protocol_vhost_options *headers_vhost_list(bool tls);

/* The Content-Security-Policy value alone (tests check it). */
const char *headers_csp(void);

#endif
