/* net_http.h: JSON over HTTP to sottod's REST API (libcurl, blocking, one call at a time). */
#ifndef SOTTO_CLI_NET_HTTP_H
#define SOTTO_CLI_NET_HTTP_H

#include <jansson.h>

typedef struct http_resp {
    long status;  /* 0 when no response arrived */
    json_t *body; /* owned; NULL when the body was not JSON */
} http_resp;

/* Process-wide libcurl set-up and tear-down (main calls them once). */
int http_global_init(void);
void http_global_cleanup(void);

/* method path (under base, e.g. "/api/users/me"), optional bearer token and JSON body.
 * Returns 0 when a response arrived (any status), -1 on a network error. */
int http_call(const char *base, const char *method, const char *path, const char *token,
              const json_t *body, http_resp *r);
/* The same with a body of len bytes of content_type (NULL: no body), e.g. a picture. */
int http_call_raw(const char *base, const char *method, const char *path, const char *token,
                  const char *content_type, const void *data, size_t len, http_resp *r);
void http_resp_clear(http_resp *r);
/* The contract's error code of a non-2xx response ("" when there is none). */
const char *http_error_code(const http_resp *r);
const char *http_error_message(const http_resp *r);

#endif
