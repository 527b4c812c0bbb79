/* net_xfer.c: tus requests and ranged downloads over libcurl (see net_xfer.h). */
#include "net_xfer.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

void xfer_init(xfer *x, const char *method, const char *url, const char *token)
{
    memset(x, 0, sizeof *x);
    x->method = method;
    x->url = url;
    x->token = token;
    x->in_fd = x->out_fd = -1;
}

typedef struct state {
    xfer *x;
    CURL *c;
    uint64_t sent, got;
    int started; /* the body's first bytes arrived and the status was checked */
} state;

/* "Name: value" when the line is that header: value trimmed into out. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name), i, end;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    for (i = n + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    for (end = len; end > i && isspace((unsigned char)line[end - 1]); end--)
        ;
    if (end - i >= cap)
        return 0;
    memcpy(out, line + i, end - i);
    out[end - i] = '\0';
    return 1;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    state *s = ctx;
    size_t len = size * n;
    char v[32];

    if (header_value(line, len, "Location", s->x->location, sizeof s->x->location))
        return len;
    if (header_value(line, len, "Upload-Offset", v, sizeof v)) {
        char *end;
        unsigned long long o = strtoull(v, &end, 10);
        s->x->has_offset = *v != '\0' && *end == '\0';
        s->x->offset = o;
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    state *s = ctx;
    uint64_t left = s->x->in_len - s->sent;
    size_t want = size * n < left ? size * n : (size_t)left;
    ssize_t got;

    if (want == 0)
        return 0;
    if ((got = pread(s->x->in_fd, buf, want, (off_t)(s->x->in_off + s->sent))) <= 0)
        return CURL_READFUNC_ABORT;
    s->sent += (uint64_t)got;
    return (size_t)got;
}

/* Writes the body of a 200 or 206 to out_fd; a 200 to a ranged request is the whole blob,
 * so what was there is dropped first. Any other status's body is read and dropped. */
static size_t on_write(char *data, size_t size, size_t n, void *ctx)
{
    state *s = ctx;
    size_t len = size * n;
    long st = 0;

    curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200 && st != 206)
        return len;
    if (s->x->out_fd < 0)
        return len;
    if (!s->started) {
        s->started = 1;
        if (st == 200 && s->x->out_from > 0) {
            if (ftruncate(s->x->out_fd, 0) != 0)
                return 0;
            s->x->out_from = 0;
        }
    }
    for (size_t done = 0; done < len;) {
        ssize_t w =
            pwrite(s->x->out_fd, data + done, len - done, (off_t)(s->x->out_from + s->got + done));
        if (w <= 0) {
            s->x->write_failed = 1;
            return 0;
        }
        done += (size_t)w;
    }
    s->got += len;
    return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    state *s = ctx;

    (void)dltotal, (void)ultotal;
    if (s->x->progress != NULL)
        s->x->progress(s->x->progress_ctx, (uint64_t)(dlnow > ulnow ? dlnow : ulnow));
    return 0;
}

static struct curl_slist *headers(const xfer *x, char *auth, size_t auth_cap)
{
    struct curl_slist *h = curl_slist_append(NULL, "Tus-Resumable: 1.0.0");
    char line[96];

    snprintf(auth, auth_cap, "Authorization: Bearer %s", x->token ? x->token : "");
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip before each chunk */
    if (strcmp(x->method, "POST") == 0) {
        snprintf(line, sizeof line, "Upload-Length: %" PRIu64, x->upload_len);
        h = curl_slist_append(h, line);
    } else if (strcmp(x->method, "PATCH") == 0) {
        snprintf(line, sizeof line, "Upload-Offset: %" PRIu64, x->in_off);
        h = curl_slist_append(h, line);
        h = curl_slist_append(h, "Content-Type: application/offset+octet-stream");
    } else if (strcmp(x->method, "GET") == 0 && x->out_from > 0) {
        snprintf(line, sizeof line, "Range: bytes=%" PRIu64 "-", x->out_from);
        h = curl_slist_append(h, line);
    }
    return h;
}

static void set_method(CURL *c, const xfer *x)
{
    if (strcmp(x->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(x->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(x->method, "GET") == 0) {
        /* With an object store the server may answer with a short-lived presigned URL;
         * libcurl does not carry our Authorization header to another host. */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    } else if (strcmp(x->method, "PATCH") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_len);
    }
}

int xfer_run(xfer *x)
{
    CURL *c = curl_easy_init();
    state s = {x, c, 0, 0, 0};
    char auth[2048];
    struct curl_slist *h;
    int rc = -1;

    x->status = 0;
    x->has_offset = 0;
    x->location[0] = '\0';
    if (c == NULL)
        return -1;
    h = headers(x, auth, sizeof auth);
    set_method(c, x);
    curl_easy_setopt(c, CURLOPT_URL, x->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    /* No total timeout (a 100 MiB file on a slow link is fine); a stalled one is broken. */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
        rc = x->write_failed ? -1 : 0;
    }
    sodium_memzero(auth, sizeof auth);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}
