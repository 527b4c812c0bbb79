/* Prometheus text exposition for /metrics. Counters live in fixed arrays indexed by route
 * and by a small set of status codes, so recording never allocates and the output is bounded
 * by the route table. */
#include "net/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/netaddr.h"
#include "net/router.h"

static const int status_codes[] = {101, 200, 201, 202, 204, 304, 400, 401, 403, 404,
                                   405, 409, 411, 413, 415, 429, 499, 500, 503};
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]))
#define STATUS_OTHER NSTATUS
#define NSLOTS (ROUTES_MAX + 2)

/* Latency bucket upper bounds in microseconds (printed in seconds). */
static const uint64_t buckets_us[] = {100,    250,    500,     1000,    2500,
                                      5000,   10000,  25000,   50000,   100000,
                                      250000, 500000, 1000000, 2500000, 10000000};
#define NBUCKETS (sizeof(buckets_us) / sizeof(buckets_us[0]))

struct metrics {
    long http_conns, ws_conns;
    uint64_t requests[NSLOTS][NSTATUS + 1];
    uint64_t hist[NBUCKETS + 1];
    uint64_t hist_sum_us, hist_count;
    metrics_calls_fn calls; /* the calls room's counters, or NULL */
    void *calls_arg;
    metrics_attachments_fn attachments; /* the attachments room's counters, or NULL */
    void *attachments_arg;
};

struct metrics *metrics_create(void)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (!m)
        abort();
    return m;
}

void metrics_destroy(struct metrics *m) { free(m); }

void metrics_calls_source(struct metrics *m, metrics_calls_fn fn, void *arg)
{
    m->calls = fn;
    m->calls_arg = arg;
}

void metrics_attachments_source(struct metrics *m, metrics_attachments_fn fn, void *arg)
{
    m->attachments = fn;
    m->attachments_arg = arg;
}

void metrics_connection(struct metrics *m, int http_delta, int ws_delta)
{
    if (!m)
        return;
    m->http_conns += http_delta;
    m->ws_conns += ws_delta;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < NSTATUS; i++)
        if (status_codes[i] == status)
            return i;
    return STATUS_OTHER;
}

void metrics_request(struct metrics *m, int route_index, int status, uint64_t usec)
{
    size_t slot = route_index < 0 ? (size_t)(route_index + 2) : (size_t)route_index + 2;
    size_t b = 0;

    if (!m || slot >= NSLOTS)
        return;
    m->requests[slot][status_slot(status)]++;
    while (b < NBUCKETS && usec > buckets_us[b])
        b++;
    m->hist[b]++;
    m->hist_sum_us += usec;
    m->hist_count++;
}

/* A growable text buffer with a hard cap (the output is bounded by the route table). */
struct mbuf {
    char *s;
    size_t len, cap;
};

static void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < b->cap - b->len)
            break;
        b->cap *= 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            abort();
    }
    b->len += (size_t)n;
}

static const char *slot_label(const struct router *r, size_t slot)
{
    const struct route *rt;

    if (slot == 0)
        return "none";
    if (slot == 1)
        return "static";
    rt = router_get(r, slot - 2);
    return rt ? rt->pattern : "unknown";
}

static void metrics_render_requests(const struct metrics *m, const struct router *r, struct mbuf *b)
{
    mbuf_printf(b, "# HELP sotto_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE sotto_http_requests_total counter\n");
    for (size_t slot = 0; slot < NSLOTS; slot++)
        for (size_t s = 0; s <= NSTATUS; s++) {
            if (!m->requests[slot][s])
                continue;
            /* Route patterns are ours (no quotes or backslashes), safe as labels. */
            mbuf_printf(b, "sotto_http_requests_total{route=\"%s\",status=\"%s%d\"} %llu\n",
                        slot_label(r, slot), s == STATUS_OTHER ? "other" : "",
                        s == STATUS_OTHER ? 0 : status_codes[s],
                        (unsigned long long)m->requests[slot][s]);
        }
}

static void metrics_render_hist(const struct metrics *m, struct mbuf *b)
{
    uint64_t cum = 0;

    mbuf_printf(b, "# HELP sotto_http_request_duration_seconds Time from request to answer.\n"
                   "# TYPE sotto_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += m->hist[i];
        mbuf_printf(b, "sotto_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)buckets_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += m->hist[NBUCKETS];
    mbuf_printf(b,
                "sotto_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                "sotto_http_request_duration_seconds_sum %.6f\n"
                "sotto_http_request_duration_seconds_count %llu\n",
                (unsigned long long)cum, (double)m->hist_sum_us / 1e6,
                (unsigned long long)m->hist_count);
}

static void metrics_render_calls(const struct metrics *m, struct mbuf *b)
{
    uint64_t started = 0, answered = 0, missed = 0, failed = 0, ringing = 0, active = 0;

    if (m->calls)
        m->calls(m->calls_arg, &started, &answered, &missed, &failed, &ringing, &active);
    mbuf_printf(b,
                "# HELP sotto_calls_total Calls by what happened to them, since start.\n"
                "# TYPE sotto_calls_total counter\n"
                "sotto_calls_total{event=\"started\"} %llu\n"
                "sotto_calls_total{event=\"answered\"} %llu\n"
                "sotto_calls_total{event=\"missed\"} %llu\n"
                "sotto_calls_total{event=\"failed\"} %llu\n"
                "# HELP sotto_calls_active Calls in progress on this node, by state.\n"
                "# TYPE sotto_calls_active gauge\n"
                "sotto_calls_active{state=\"ringing\"} %llu\n"
                "sotto_calls_active{state=\"active\"} %llu\n",
                (unsigned long long)started, (unsigned long long)answered,
                (unsigned long long)missed, (unsigned long long)failed, (unsigned long long)ringing,
                (unsigned long long)active);
}

static void metrics_render_attachments(const struct metrics *m, struct mbuf *b)
{
    uint64_t in = 0, out = 0, uploads = 0, errors = 0;

    if (m->attachments)
        m->attachments(m->attachments_arg, &in, &out, &uploads, &errors);
    mbuf_printf(
        b,
        "# HELP sotto_attachment_bytes_total Attachment ciphertext bytes received and sent.\n"
        "# TYPE sotto_attachment_bytes_total counter\n"
        "sotto_attachment_bytes_total{direction=\"in\"} %llu\n"
        "sotto_attachment_bytes_total{direction=\"out\"} %llu\n"
        "# HELP sotto_attachment_uploads_in_progress Uploads being written now.\n"
        "# TYPE sotto_attachment_uploads_in_progress gauge\n"
        "sotto_attachment_uploads_in_progress %llu\n"
        "# HELP sotto_attachment_store_errors_total Blob store errors, since start.\n"
        "# TYPE sotto_attachment_store_errors_total counter\n"
        "sotto_attachment_store_errors_total %llu\n",
        (unsigned long long)in, (unsigned long long)out, (unsigned long long)uploads,
        (unsigned long long)errors);
}

char *metrics_render(const struct metrics *m, const struct router *r, size_t pool_pending,
                     size_t *len)
{
    struct mbuf b = {malloc(4096), 0, 4096};

    if (!b.s)
        abort();
    b.s[0] = 0;
    mbuf_printf(&b,
                "# HELP sotto_open_connections Open client connections by kind.\n"
                "# TYPE sotto_open_connections gauge\n"
                "sotto_open_connections{kind=\"http\"} %ld\n"
                "sotto_open_connections{kind=\"websocket\"} %ld\n"
                "# HELP sotto_pool_pending Jobs queued, running or awaiting completion.\n"
                "# TYPE sotto_pool_pending gauge\n"
                "sotto_pool_pending %zu\n",
                m->http_conns - m->ws_conns, m->ws_conns, pool_pending);
    metrics_render_requests(m, r, &b);
    metrics_render_hist(m, &b);
    metrics_render_calls(m, &b);
    metrics_render_attachments(m, &b);
    *len = b.len;
    return b.s;
}

int metrics_access_allowed(const char *client_ip, int forwarded_untrusted,
                           const char *authorization, const char *token)
{
    unsigned char want[32], got[32];
    const char *presented;

    if (netaddr_is_loopback(client_ip) && !forwarded_untrusted)
        return 1;
    if (!token || !authorization || strncmp(authorization, "Bearer ", 7))
        return 0;
    presented = authorization + 7;
    /* Hash both sides so the comparison is constant-time whatever the lengths. */
    crypto_generichash(want, sizeof(want), (const unsigned char *)token, strlen(token), NULL, 0);
    crypto_generichash(got, sizeof(got), (const unsigned char *)presented, strlen(presented), NULL,
                       0);
    return sodium_memcmp(want, got, sizeof(want)) == 0;
}
