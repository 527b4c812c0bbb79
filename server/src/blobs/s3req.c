/* One signed request to the S3-compatible store through libcurl. libcurl signs it
 * (CURLOPT_AWS_SIGV4) but leaves two things to us: x-amz-content-sha256, which S3 wants on every
 * request and which libcurl then also uses as the payload's hash in the signature (it cannot
 * hash a body it reads through a callback), and the query string, which it signs as written
 * (s3.h: the caller writes it in canonical form). Bodies are small (one piece of a blob, or
 * XML) and already in memory, so their hash is computed before the request, and the store
 * refuses a body that does not match it. The URL and headers are never logged: s3_fail names
 * the operation, the id, the status and the store's error code.
 *
 * Each thread keeps one libcurl handle (reset between requests), so its connection to the
 * store is reused: a download is one Range GET per ATT_BUFFER, and a new connection for each
 * would cost more than the bytes. The handle goes when its thread ends. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs/s3.h"

struct s3_call {
    CURL *curl;
    struct s3_req *r;
    size_t sent; /* of the body */
};

static pthread_key_t s3_curl_key;
static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;

static void s3_curl_drop(void *curl) { curl_easy_cleanup(curl); }

static void s3_curl_key_make(void)
{
    if (pthread_key_create(&s3_curl_key, s3_curl_drop))
        abort();
}

/* This thread's handle, reset (its connections kept). */
static CURL *s3_curl(void)
{
    CURL *c;

    pthread_once(&s3_curl_once, s3_curl_key_make);
    c = pthread_getspecific(s3_curl_key);
    if (c) {
        curl_easy_reset(c);
        return c;
    }
    c = curl_easy_init();
    if (!c || pthread_setspecific(s3_curl_key, c))
        abort();
    return c;
}

static void s3_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;

    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
        abort();
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static size_t s3_on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct s3_call *k = arg;
    size_t left = k->r->body_len - k->sent, take = size * n < left ? size * n : left;

    if (take)
        memcpy(buf, (const char *)k->r->body + k->sent, take);
    k->sent += take;
    return take;
}

/* libcurl rewinds the body when it sends it again (a kept connection the store had closed). */
static int s3_on_seek(void *arg, curl_off_t offset, int origin)
{
    struct s3_call *k = arg;

    if (origin != SEEK_SET || offset < 0 || (size_t)offset > k->r->body_len)
        return CURL_SEEKFUNC_FAIL;
    k->sent = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t s3_on_text(struct s3_req *r, const char *data, size_t len)
{
    char *t;

    if (r->text_len + len > S3_TEXT_MAX)
        return 0;
    t = realloc(r->text, r->text_len + len + 1);
    if (!t)
        abort();
    memcpy(t + r->text_len, data, len);
    r->text = t;
    r->text_len += len;
    t[r->text_len] = 0;
    return len;
}

static size_t s3_on_write(char *data, size_t size, size_t n, void *arg)
{
    struct s3_call *k = arg;
    struct s3_req *r = k->r;
    size_t len = size * n;
    long status = 0;

    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
    if (!r->out || status < 200 || status > 299)
        return s3_on_text(r, data, len);
    if (len > r->out_cap - r->out_len)
        return 0; /* more than asked for: fail the request */
    memcpy((char *)r->out + r->out_len, data, len);
    r->out_len += len;
    return len;
}

static struct curl_slist *s3_headers(const struct s3_req *r)
{
    char line[128], hash[65];
    struct curl_slist *h = NULL, *t;

    s3_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, hash);
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hash);
    t = curl_slist_append(h, line);
    /* Every header given here is signed, even one that only removes a header of libcurl's
     * ("Expect:"), which then differs from what is sent: add only real ones. */
    if (t && r->header)
        t = curl_slist_append(h = t, r->header);
    if (t && !strcmp(r->method, "POST"))
        t = curl_slist_append(h = t, "Content-Type: application/xml");
    if (!t)
        abort();
    return t;
}

/* The method and body options. */
static void s3_method(CURL *c, struct s3_call *k)
{
    const struct s3_req *r = k->r;

    if (!strcmp(r->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(r->method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, k);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_on_seek);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, k);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
    } else if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

static char *s3_url(const struct s3_conn *c, const struct s3_req *r)
{
    size_t n = strlen(c->endpoint) + strlen(c->bucket) + strlen(r->key) +
               (r->query ? strlen(r->query) : 0) + 4;
    char *url = malloc(n);

    if (!url)
        abort();
    snprintf(url, n, "%s/%s%s%s%s%s", c->endpoint, c->bucket, r->key[0] ? "/" : "", r->key,
             r->query ? "?" : "", r->query ? r->query : "");
    return url;
}

void s3_request(const struct s3_conn *c, struct s3_req *r)
{
    struct s3_call k = {s3_curl(), r, 0};
    struct curl_slist *h = s3_headers(r);
    char *url = s3_url(c, r), sigv4[96];
    curl_off_t length = -1;

    r->status = 0;
    r->out_len = 0;
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", c->region);
    curl_easy_setopt(k.curl, CURLOPT_URL, url);
    curl_easy_setopt(k.curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(k.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k.curl, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(k.curl, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
    curl_easy_setopt(k.curl, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(k.curl, CURLOPT_USERNAME, c->key_id);
    curl_easy_setopt(k.curl, CURLOPT_PASSWORD, c->secret);
    curl_easy_setopt(k.curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k.curl, CURLOPT_WRITEFUNCTION, s3_on_write);
    curl_easy_setopt(k.curl, CURLOPT_WRITEDATA, &k);
    s3_method(k.curl, &k);
    if (curl_easy_perform(k.curl) == CURLE_OK) {
        curl_easy_getinfo(k.curl, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(k.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        r->length = length > 0 ? (uint64_t)length : 0;
    }
    curl_easy_setopt(k.curl, CURLOPT_PASSWORD, ""); /* the handle outlives the request */
    curl_slist_free_all(h);
    free(url);
}

void s3_fail(const struct s3_conn *c, const char *op, const char *id, const struct s3_req *r)
{
    char code[64] = "-", line[256];

    s3_xml_find(r->text, "Code", code, sizeof(code));
    snprintf(line, sizeof(line), "op=%s id=%s status=%ld code=%s", op, id, r->status, code);
    c->warn("blobs.s3", line);
}
