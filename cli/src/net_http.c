/* net_http.c: libcurl requests with JSON bodies; the response body is capped. */
#include "net_http.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#define BODY_MAX (8u << 20)

typedef struct buf {
    char *p;
    size_t len;
    int too_big;
} buf;

int http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

void http_global_cleanup(void) { curl_global_cleanup(); }

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    buf *b = ctx;
    size_t len = size * n;
    char *p;

    if (b->len + len > BODY_MAX) {
        b->too_big = 1;
        return 0;
    }
    if ((p = realloc(b->p, b->len + len + 1)) == NULL)
        return 0;
    memcpy(p + b->len, data, len);
    b->p = p;
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

void http_resp_clear(http_resp *r)
{
    json_decref(r->body);
    memset(r, 0, sizeof *r);
}

int http_call(const char *base, const char *method, const char *path, const char *token,
              const json_t *body, http_resp *r)
{
    char *json = NULL;
    int rc;

    if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    rc = http_call_raw(base, method, path, token, json ? "application/json" : NULL, json,
                       json ? strlen(json) : 0, r);
    if (json != NULL) {
        sodium_memzero(json, strlen(json)); /* may hold a password */
        free(json);
    }
    return rc;
}

int http_call_raw(const char *base, const char *method, const char *path, const char *token,
                  const char *content_type, const void *data, size_t len, http_resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *url = NULL, *auth = NULL, *ctype = NULL;
    buf b = {0};
    int rc = -1;

    memset(r, 0, sizeof *r);
    if (c == NULL || asprintf(&url, "%s%s", base, path) < 0)
        goto done;
    h = curl_slist_append(h, "Accept: application/json");
    if (token != NULL) {
        if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
            goto done;
        h = curl_slist_append(h, auth);
    }
    if (content_type != NULL) {
        if (asprintf(&ctype, "Content-Type: %s", content_type) < 0) {
            ctype = NULL;
            goto done;
        }
        h = curl_slist_append(h, ctype);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (curl_easy_perform(c) != CURLE_OK)
        goto done;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (b.p != NULL)
        r->body = json_loads(b.p, 0, NULL);
    rc = 0;
done:
    free(ctype);
    if (auth != NULL) {
        sodium_memzero(auth, strlen(auth));
        free(auth);
    }
    free(url);
    if (b.p != NULL)
        sodium_memzero(b.p, b.len); /* may hold a two-factor secret or backup codes */
    free(b.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

static const char *error_field(const http_resp *r, const char *k)
{
    const char *v = json_string_value(json_object_get(json_object_get(r->body, "error"), k));
    return v ? v : "";
}

const char *http_error_code(const http_resp *r) { return error_field(r, "code"); }

const char *http_error_message(const http_resp *r) { return error_field(r, "message"); }
