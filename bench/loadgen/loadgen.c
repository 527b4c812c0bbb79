/* sotto-loadgen: a WebSocket load generator for sottod and for a Socket.io relay
 * (bench/socketio-relay), on the libwebsockets client API. Loopback only.
 *
 *   idle: open authenticated connections and hold them (several processes, several 127.0.0.x
 *         source addresses, since a process may open at most 20,000 files here);
 *   msg:  pairs of users (accounts 2k and 2k+1) exchange 1-1 messages, k's sender -> k's
 *         recipient, flat out or at a target rate; counts sent, committed (the server's ack),
 *         delivered (message:new / relayed `message` at the recipient) and acknowledged (the ack
 *         of the recipient's queue:ack), and the delivery latency from a send timestamp carried
 *         in the (opaque, random) ciphertext.
 *
 * The parent forks --procs children, each with its slice of the accounts file (written by
 * provision.mjs: "<index> <userId> <deviceId> <token> <conversationId|->"), and adds up what
 * they report through a pipe. Every run is bounded in time (--duration, --hold, --ramp-timeout).
 *
 * Each child runs lws on a libev (epoll) loop of its own, like sottod (server/src/net/loop.c), and
 * caps its descriptor limit at what it uses. On lws's own poll() loop, with its descriptor
 * lookup falling back to a scan above the limit, this generator spent 70% of its time in
 * poll() and took 83% of a core to drive 2,000 connections at 3,500 messages/s: the
 * instrument competed with the server it measured for the machine's two cores.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>
#include <sodium.h>

#define HIST_FINE 10000 /* latency histogram: 10 µs buckets up to 100 ms, */
#define HIST_N 20000    /* then 1 ms buckets up to 10 s, then overflow */
#define MAX_FRAME 2048
#define CT_LEN 120                     /* ciphertext bytes per envelope */
#define CT_MAGIC 0x534f54544f424e43ull /* "SOTTOBNC" */
#define RATE_CAP 90.0                  /* frames/s per sender: sottod allows 100/s, burst 200 */

enum target { T_SOTTO, T_SOCKETIO };
enum role { R_IDLE, R_SENDER, R_RECIPIENT };

struct account {
    char user[40], device[40], conv[40];
    char *token;
};

struct conn {
    struct lws *wsi;
    struct conn *peer;
    struct account *acc;
    enum role role;
    bool connecting, open, authed, ready, failed, closed;
    bool want_auth, want_pong;  /* frames owed */
    int eio_state;              /* socket.io: 0 wait open, 1 sent 40, 2 connected */
    double tokens;              /* send credit */
    uint32_t inflight;          /* sends not yet acked */
    int64_t max_seq, acked_seq; /* recipient: highest seq seen / covered by an answered ack */
    int64_t ack_seq;            /* the seq of the queue:ack in flight */
    int64_t ack_base;           /* seqs up to this were queued before this run */
    bool ack_inflight;
    uint64_t next_id;
    char *rx; /* reassembly */
    size_t rx_len;
};

struct stats { /* what a child reports; the parent adds them up */
    uint64_t opened, authed, ready, failed, closed_early, errors;
    uint64_t sent, committed, delivered, acked; /* inside the measured window */
    uint64_t sent_all, committed_all, delivered_all, acked_all;
    double window_s;
    uint32_t hist[HIST_N + 1];
};

static struct {
    enum target target;
    const char *mode, *host, *accounts, *status, *path;
    int port, procs, naddr, first_addr;
    size_t count, offset;
    double rate, duration, warmup, hold, ramp_timeout;
    int window, conc;
    char first_error[256];
} opt = {.host = "127.0.0.1",
         .port = 8080,
         .procs = 1,
         .naddr = 4,
         .first_addr = 2,
         .duration = 10,
         .warmup = 2,
         .hold = 10,
         .ramp_timeout = 120,
         .window = 4,
         .conc = 256};

static struct lws_context *ctx;
static struct conn *conns;
static struct account *accs;
static size_t nconns;
static struct stats st;
static bool measuring, sending, stopping;
static uint32_t run_tag;
static size_t next_connect, pending_connects;
static struct ev_loop *evl;
static ev_timer tick_timer;
static lws_sorted_usec_list_t heartbeat_sul;
static uint64_t last_tick_us;
static double per_sender_rate, burst;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void note_error(const char *what, const char *in, size_t len)
{
    st.errors++;
    if (!opt.first_error[0])
        snprintf(opt.first_error, sizeof(opt.first_error), "%s: %.*s", what,
                 (int)(len > 200 ? 200 : len), in ? in : "");
}

/* --- accounts ----------------------------------------------------------------------- */

static size_t load_accounts(const char *file, size_t offset, size_t count)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, idx = 0;

    if (!f) {
        perror(file);
        exit(2);
    }
    accs = calloc(count, sizeof(*accs));
    while (n < count && getline(&line, &cap, f) > 0) {
        char tok[1024];
        unsigned long i;

        if (idx++ < offset)
            continue;
        if (sscanf(line, "%lu %39s %39s %1023s %39s", &i, accs[n].user, accs[n].device, tok,
                   accs[n].conv) != 5)
            continue;
        accs[n].token = strdup(tok);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* --- frames ------------------------------------------------------------------------- */

static int write_text(struct conn *c, const char *s, size_t n)
{
    unsigned char buf[LWS_PRE + MAX_FRAME];

    if (n > MAX_FRAME)
        return -1;
    memcpy(buf + LWS_PRE, s, n);
    return lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

static void uuid4(char out[37])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Ciphertext: magic, run tag, send time, then random bytes (the server never decrypts). */
static void make_ciphertext(char *out, size_t outlen)
{
    unsigned char ct[CT_LEN];
    uint64_t magic = CT_MAGIC, t = now_us();

    randombytes_buf(ct, sizeof(ct));
    memcpy(ct, &magic, 8);
    memcpy(ct + 8, &run_tag, 4);
    memcpy(ct + 12, &t, 8);
    sodium_bin2base64(out, outlen, ct, sizeof(ct), sodium_base64_VARIANT_ORIGINAL);
}

static void record_latency(const char *b64, size_t len)
{
    unsigned char ct[CT_LEN + 4];
    size_t n = 0;
    uint64_t magic, t, now = now_us(), d;
    uint32_t tag;

    if (sodium_base642bin(ct, sizeof(ct), b64, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        n < 20)
        return;
    memcpy(&magic, ct, 8);
    memcpy(&tag, ct + 8, 4);
    memcpy(&t, ct + 12, 8);
    if (magic != CT_MAGIC || tag != run_tag || t > now)
        return; /* left over from an earlier run */
    if (!measuring)
        return;
    d = now - t;
    d = d < HIST_FINE * 10u ? d / 10u : HIST_FINE + (d - HIST_FINE * 10u) / 1000u;
    st.hist[d < HIST_N ? d : HIST_N]++;
}

/* The value of "key":"...". */
static const char *json_str(const char *in, const char *key, size_t *len)
{
    const char *p = strstr(in, key), *e;

    if (!p)
        return NULL;
    p += strlen(key);
    e = strchr(p, '"');
    if (!e)
        return NULL;
    *len = (size_t)(e - p);
    return p;
}

static int64_t json_int(const char *in, const char *key)
{
    const char *p = strstr(in, key);

    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void send_message(struct conn *c)
{
    char cid[37], ct[256], frame[MAX_FRAME];
    int n;

    uuid4(cid);
    make_ciphertext(ct, sizeof(ct));
    if (opt.target == T_SOTTO)
        n = snprintf(frame, sizeof(frame),
                     "{\"event\":\"message:send\",\"id\":\"s%" PRIu64 "\",\"data\":{"
                     "\"conversationId\":\"%s\",\"clientMessageId\":\"%s\",\"envelopes\":[{"
                     "\"deviceId\":\"%s\",\"type\":\"message\",\"ciphertext\":\"%s\"}]}}",
                     c->next_id++, c->acc->conv, cid, c->peer->acc->device, ct);
    else /* socket.io: 42<ackId>["message",{...}] */
        n = snprintf(frame, sizeof(frame),
                     "42%" PRIu64
                     "[\"message\",{\"to\":\"%s\",\"id\":\"%s\",\"ciphertext\":\"%s\"}]",
                     c->next_id++, c->peer->acc->user, cid, ct);
    if (write_text(c, frame, (size_t)n))
        return;
    c->inflight++;
    c->tokens -= 1.0;
    st.sent_all++;
    if (measuring)
        st.sent++;
}

static void send_ack(struct conn *c)
{
    char frame[256];
    int n;

    if (opt.target == T_SOTTO)
        n = snprintf(frame, sizeof(frame),
                     "{\"event\":\"queue:ack\",\"id\":\"a%" PRId64 "\",\"data\":{\"seq\":%" PRId64
                     "}}",
                     c->max_seq, c->max_seq);
    else
        n = snprintf(frame, sizeof(frame),
                     "42%" PRId64 "[\"ack\",{\"to\":\"%s\",\"seq\":%" PRId64 "}]", c->max_seq,
                     c->peer ? c->peer->acc->user : "", c->max_seq);
    if (write_text(c, frame, (size_t)n))
        return;
    c->ack_seq = c->max_seq;
    c->ack_inflight = true;
}

static bool wants_write(struct conn *c)
{
    if (c->want_auth || c->want_pong)
        return true;
    if (!c->ready || !sending)
        return c->role == R_RECIPIENT && c->ready && c->max_seq > c->acked_seq && !c->ack_inflight;
    if (c->role == R_SENDER)
        return c->tokens >= 1.0 && c->inflight < (uint32_t)opt.window && c->peer->ready;
    return c->max_seq > c->acked_seq && !c->ack_inflight;
}

static int on_writeable(struct conn *c)
{
    if (c->want_auth) {
        char frame[1200];
        int n;

        c->want_auth = false;
        if (opt.target == T_SOTTO) {
            n = snprintf(frame, sizeof(frame),
                         "{\"event\":\"authenticate\",\"id\":\"auth\",\"data\":{\"token\":\"%s\"}}",
                         c->acc->token);
        } else {
            n = snprintf(frame, sizeof(frame), "40");
            c->eio_state = 1;
        }
        return write_text(c, frame, (size_t)n);
    }
    if (c->want_pong) {
        c->want_pong = false;
        if (write_text(c, "3", 1))
            return -1;
    } else if (c->role == R_SENDER && c->ready && sending && c->peer->ready && c->tokens >= 1.0 &&
               c->inflight < (uint32_t)opt.window) {
        send_message(c);
    } else if (c->role == R_RECIPIENT && c->ready && c->max_seq > c->acked_seq &&
               !c->ack_inflight) {
        send_ack(c);
    }
    if (wants_write(c))
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void want_write(struct conn *c)
{
    if (c->wsi && c->open && wants_write(c))
        lws_callback_on_writable(c->wsi);
}

/* "id":"s<n>" (a message:send ack) or "id":"a<digits>" (a queue:ack ack): message ids are
 * UUIDs (hex), so neither can be confused with the message id inside an ack's data. */
static char reply_kind(const char *in)
{
    const char *p = strstr(in, "\"id\":\"s");

    if (p)
        return 's';
    for (p = strstr(in, "\"id\":\"a"); p; p = strstr(p + 1, "\"id\":\"a")) {
        const char *q = p + 7;

        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p + 7 && *q == '"')
            return 'a';
    }
    return 0;
}

static void on_ack_answer(struct conn *c)
{
    int64_t from = c->acked_seq > c->ack_base ? c->acked_seq : c->ack_base;
    uint64_t n = c->ack_seq > from ? (uint64_t)(c->ack_seq - from) : 0;

    if (measuring)
        st.acked += n;
    st.acked_all += n;
    c->acked_seq = c->ack_seq;
    c->ack_inflight = false;
}

static void on_committed(struct conn *c)
{
    if (c->inflight)
        c->inflight--;
    st.committed_all++;
    if (measuring)
        st.committed++;
}

static void on_delivered(struct conn *c, const char *in, int64_t seq)
{
    const char *ct;
    size_t n;

    if (seq > c->max_seq)
        c->max_seq = seq;
    st.delivered_all++;
    if (measuring)
        st.delivered++;
    ct = json_str(in, "\"ciphertext\":\"", &n);
    if (ct)
        record_latency(ct, n);
}

static void on_sotto_frame(struct conn *c, const char *in, size_t len)
{
    size_t n;
    const char *ev = json_str(in, "\"event\":\"", &n);

    if (!ev) {
        note_error("frame", in, len);
        return;
    }
    if (n == 11 && !memcmp(ev, "message:new", 11)) {
        on_delivered(c, in, json_int(in, "\"seq\":"));
    } else if (n == 3 && !memcmp(ev, "ack", 3)) {
        char k = reply_kind(in);

        if (k == 's')
            on_committed(c);
        else if (k == 'a')
            on_ack_answer(c);
    } else if (n == 13 && !memcmp(ev, "authenticated", 13)) {
        if (!c->authed) {
            c->authed = true;
            st.authed++;
        }
    } else if (n == 13 && !memcmp(ev, "queue:drained", 13)) {
        if (!c->ready) {
            c->ready = true;
            c->ack_base = c->max_seq; /* left over from earlier runs: acked, not counted */
            st.ready++;
        }
    } else if (n == 5 && !memcmp(ev, "error", 5)) {
        char k = reply_kind(in);

        note_error("error", in, len);
        /* unavailable (the server's work queue is full) or rate_limited: back off 50 ms,
         * as a client would, instead of resending at once. */
        if (k == 's' && (strstr(in, "\"unavailable\"") || strstr(in, "\"rate_limited\"")))
            c->tokens = -per_sender_rate * 0.05;
        if (k == 's' && c->inflight)
            c->inflight--;
        else if (k == 'a')
            c->ack_inflight = false;
    }
}

/* engine.io v4 / socket.io v5 packets over a raw WebSocket. */
static void on_sio_frame(struct conn *c, const char *in, size_t len)
{
    if (len >= 1 && in[0] == '0') { /* engine.io open */
        c->want_auth = true;
    } else if (len == 1 && in[0] == '2') { /* engine.io ping */
        c->want_pong = true;
    } else if (len >= 2 && in[0] == '4' && in[1] == '0') { /* socket.io connect */
        c->eio_state = 2;
        if (!c->authed) {
            c->authed = c->ready = true;
            st.authed++;
            st.ready++;
        }
    } else if (len >= 2 && in[0] == '4' && in[1] == '3') { /* an ack */
        if (c->role == R_SENDER)
            on_committed(c);
        else
            on_ack_answer(c);
    } else if (len >= 2 && in[0] == '4' && in[1] == '2') {
        if (!strncmp(in + 2, "[\"message\"", 10))
            on_delivered(c, in, c->max_seq + 1);
    } else if (len >= 2 && in[0] == '4' && in[1] == '4') {
        note_error("socket.io connect_error", in, len);
    }
}

static void on_frame(struct conn *c, char *in, size_t len)
{
    if (opt.target == T_SOTTO)
        on_sotto_frame(c, in, len);
    else
        on_sio_frame(c, in, len);
    want_write(c);
}

static int lg_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!c)
            return 0;
        if (c->connecting && pending_connects)
            pending_connects--;
        c->connecting = false;
        c->failed = true;
        c->wsi = NULL;
        st.failed++;
        note_error("connect", in ? (const char *)in : "", in ? strlen(in) : 0);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c->connecting && pending_connects)
            pending_connects--;
        c->connecting = false;
        c->open = true;
        st.opened++;
        if (opt.target == T_SOTTO) {
            c->want_auth = true;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        bool final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

        if (!c->rx_len && final) {
            char *buf = malloc(len + 1);

            memcpy(buf, in, len);
            buf[len] = 0;
            on_frame(c, buf, len);
            free(buf);
            return 0;
        }
        c->rx = realloc(c->rx, c->rx_len + len + 1);
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (final) {
            c->rx[c->rx_len] = 0;
            on_frame(c, c->rx, c->rx_len);
            free(c->rx);
            c->rx = NULL;
            c->rx_len = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(c);
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->open && !stopping)
            st.closed_early++;
        c->open = false;
        c->closed = true;
        c->wsi = NULL;
        return 0;
    default: return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"sotto-loadgen", lg_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void connect_one(struct conn *c, int child)
{
    struct lws_client_connect_info ci;
    char iface[32], path[256];

    memset(&ci, 0, sizeof(ci));
    snprintf(iface, sizeof(iface), "127.0.0.%d",
             opt.first_addr + (int)((child + (c - conns)) % (opt.naddr ? opt.naddr : 1)));
    if (opt.target == T_SOTTO)
        snprintf(path, sizeof(path), "%s", opt.path ? opt.path : "/ws");
    else
        snprintf(path, sizeof(path), "/socket.io/?EIO=4&transport=websocket&user=%s", c->acc->user);
    ci.context = ctx;
    ci.address = opt.host;
    ci.port = opt.port;
    ci.path = path;
    ci.host = opt.host;
    ci.origin = NULL;
    ci.protocol = NULL; /* sottod's /ws is the vhost default; socket.io wants none */
    ci.local_protocol_name = protocols[0].name;
    ci.ietf_version_or_minus_one = -1;
    ci.userdata = c;
    ci.iface = opt.naddr ? iface : NULL;
    ci.pwsi = &c->wsi;
    c->connecting = true;
    pending_connects++;
    if (!lws_client_connect_via_info(&ci)) {
        if (c->connecting && pending_connects)
            pending_connects--;
        c->connecting = false;
        if (!c->failed) {
            c->failed = true;
            st.failed++;
            note_error("connect", "lws_client_connect_via_info failed", 34);
        }
    }
}

/* --- the child's loop ------------------------------------------------------------------ */

static int ctl_fd = -1;
static bool go;

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    uint64_t now = now_us();
    double dt = (double)(now - last_tick_us) / 1e6;

    last_tick_us = now;
    while (next_connect < nconns && pending_connects < (size_t)opt.conc)
        connect_one(&conns[next_connect++], 0);
    if (!go && ctl_fd >= 0) {
        char b;

        if (read(ctl_fd, &b, 1) == 1)
            go = true;
    }
    if (sending) {
        for (size_t i = 0; i < nconns; i++) {
            struct conn *c = &conns[i];

            if (c->role != R_SENDER || !c->open)
                continue;
            c->tokens += dt * per_sender_rate;
            if (c->tokens > burst)
                c->tokens = burst;
            want_write(c);
        }
    }
    (void)revents;
    w->repeat = sending ? 0.001 : 0.005;
    ev_timer_again(loop, w);
}

/* lws 4.1's libev plugin cannot move its armed timer earlier (server/src/net/loop.c): this lws
 * timer keeps it at most 100 ms ahead, so lws's own timeouts fire at most that late. */
static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
    lws_sul_schedule(ctx, 0, sul, heartbeat_cb, 100000);
}

/* Turns the loop until done() or the time is up; the tick wakes it at least every 5 ms. */
static void service_until(bool (*done)(void), double secs)
{
    uint64_t end = now_us() + (uint64_t)(secs * 1e6);

    while (now_us() < end && !(done && done()))
        ev_run(evl, EVRUN_ONCE);
}

/* lws maps a descriptor to its connection through a table only while the process cannot
 * open more descriptors than fd_limit_per_thread; above that it scans on every event. */
static unsigned fd_limit(size_t n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;

    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > want) {
        rl.rlim_cur = want;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    return (unsigned)want;
}

static bool all_settled(void)
{
    return next_connect == nconns && !pending_connects &&
           st.ready + st.failed + st.closed_early >= nconns;
}

static bool got_go(void) { return go; }

static bool drained(void)
{
    for (size_t i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];

        if (!c->open)
            continue;
        if (c->inflight || c->ack_inflight || c->max_seq > c->acked_seq)
            return false;
    }
    return true;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *b = p;

    while (n) {
        ssize_t w = write(fd, b, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        b += w;
        n -= (size_t)w;
    }
}

static long opt_long(const char *name, const char *s, long lo, long hi);

static int child_main(int child, size_t offset, size_t count, int out_fd, int in_fd)
{
    struct lws_context_creation_info info;
    const char *lws_log;
    size_t n;

    ctl_fd = in_fd;
    fcntl(ctl_fd, F_SETFL, fcntl(ctl_fd, F_GETFL) | O_NONBLOCK);
    n = load_accounts(opt.accounts, offset, count);
    if (n < count) {
        fprintf(stderr, "loadgen: only %zu of %zu accounts in %s\n", n, count, opt.accounts);
        return 2;
    }
    nconns = n;
    conns = calloc(nconns, sizeof(*conns));
    for (size_t i = 0; i < nconns; i++) {
        conns[i].acc = &accs[i];
        if (!strcmp(opt.mode, "msg")) {
            conns[i].role = i % 2 ? R_RECIPIENT : R_SENDER;
            conns[i].peer = &conns[i ^ 1];
        }
    }
    if (!strcmp(opt.mode, "msg")) {
        size_t pairs_here = nconns / 2;

        per_sender_rate = opt.rate > 0 ? opt.rate / opt.procs / (double)pairs_here : RATE_CAP;
        if (per_sender_rate > RATE_CAP)
            per_sender_rate = RATE_CAP;
        burst = opt.rate > 0 ? 2.0 : 10.0;
    }
    lws_log = getenv("LOADGEN_LWS_LOG");
    lws_set_log_level(lws_log ? (int)opt_long("LOADGEN_LWS_LOG", lws_log, 0, INT_MAX) : LLL_ERR,
                      NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = fd_limit(nconns);
    info.timeout_secs = 30;
    evl = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!evl) {
        fprintf(stderr, "loadgen: cannot create the event loop (libev, epoll)\n");
        return 2;
    }
    info.foreign_loops = (void *[]){evl};
    info.options |= LWS_SERVER_OPTION_LIBEV;
    ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "loadgen: lws_create_context failed\n");
        return 2;
    }
    (void)child;
    last_tick_us = now_us();
    lws_sul_schedule(ctx, 0, &heartbeat_sul, heartbeat_cb, 100000);
    ev_timer_init(&tick_timer, tick_cb, 0.001, 0.001);
    ev_timer_start(evl, &tick_timer);

    /* Ramp: every connection open and ready (queue drained), or the time is up. */
    service_until(all_settled, opt.ramp_timeout);
    write_all(out_fd, &st, sizeof(st));
    service_until(got_go, opt.ramp_timeout + 60); /* the parent waits for every child */

    if (!strcmp(opt.mode, "idle")) {
        service_until(NULL, opt.hold);
    } else {
        uint64_t t0;

        /* Independent clients: each sender starts at its own phase of the send interval.
         * Starting every bucket at zero made all senders cross 1.0 on the same tick, so
         * the load arrived in bursts of one message per sender (1,000 at once every
         * 1/rate s) and latency measured the burst, not the rate. */
        for (size_t i = 0; i < nconns; i++)
            if (conns[i].role == R_SENDER)
                conns[i].tokens = randombytes_uniform(1000000) / 1e6;
        sending = true;
        service_until(NULL, opt.warmup);
        measuring = true;
        t0 = now_us();
        service_until(NULL, opt.duration);
        measuring = false;
        st.window_s = (double)(now_us() - t0) / 1e6;
        sending = false;
        service_until(drained, 3.0);
    }
    stopping = true;
    write_all(out_fd, &st, sizeof(st));
    if (opt.first_error[0])
        fprintf(stderr, "loadgen[%d]: %" PRIu64 " errors, first: %s\n", child, st.errors,
                opt.first_error);
    ev_timer_stop(evl, &tick_timer);
    lws_sul_cancel(&heartbeat_sul);
    lws_context_destroy(ctx);
    ev_loop_destroy(evl);
    return 0;
}

/* --- the parent ----------------------------------------------------------------------- */

static void read_all(int fd, void *p, size_t n)
{
    char *b = p;

    while (n) {
        ssize_t r = read(fd, b, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            memset(b, 0, n);
            return;
        }
        b += r;
        n -= (size_t)r;
    }
}

static void add_stats(struct stats *to, const struct stats *s)
{
    to->opened += s->opened;
    to->authed += s->authed;
    to->ready += s->ready;
    to->failed += s->failed;
    to->closed_early += s->closed_early;
    to->errors += s->errors;
    to->sent += s->sent;
    to->committed += s->committed;
    to->delivered += s->delivered;
    to->acked += s->acked;
    to->sent_all += s->sent_all;
    to->committed_all += s->committed_all;
    to->delivered_all += s->delivered_all;
    to->acked_all += s->acked_all;
    if (s->window_s > to->window_s)
        to->window_s = s->window_s;
    for (int i = 0; i <= HIST_N; i++)
        to->hist[i] += s->hist[i];
}

static double percentile(const struct stats *s, double p)
{
    uint64_t total = 0, want, acc = 0;

    for (int i = 0; i <= HIST_N; i++)
        total += s->hist[i];
    if (!total)
        return -1;
    want = (uint64_t)((double)total * p);
    if (want >= total)
        want = total - 1;
    for (int i = 0; i <= HIST_N; i++) {
        acc += s->hist[i];
        if (acc > want)
            return i < HIST_FINE ? (i + 0.5) * 0.01 : 100.0 + (i - HIST_FINE + 0.5);
    }
    return -1;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: sotto-loadgen --mode idle|msg --accounts FILE --count N [--offset K]\n"
        "         [--target sotto|socketio] [--host 127.0.0.1] [--port P] [--procs N]\n"
        "         [--addrs N (127.0.0.2 ... 127.0.0.N+1)] [--conc N pending connects/process]\n"
        "         [--rate MSG_PER_S (0: flat out)] [--duration S] [--warmup S] [--window N (4)]\n"
        "         [--hold S (idle)] [--ramp-timeout S] [--status FILE]\n");
    exit(2);
}

/* A whole-number option value in [lo, hi], else the usage message. */
static long opt_long(const char *name, const char *s, long lo, long hi)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno || v < lo || v > hi) {
        fprintf(stderr, "loadgen: %s must be a whole number from %ld to %ld\n", name, lo, hi);
        usage();
    }
    return v;
}

/* A decimal option value in [lo, hi] (never NaN), else the usage message. */
static double opt_double(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: %s must be a number from %g to %g\n", name, lo, hi);
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"mode", 1, 0, 'm'},   {"accounts", 1, 0, 'a'},
                                       {"count", 1, 0, 'n'},  {"offset", 1, 0, 'o'},
                                       {"target", 1, 0, 't'}, {"host", 1, 0, 'H'},
                                       {"port", 1, 0, 'p'},   {"procs", 1, 0, 'P'},
                                       {"addrs", 1, 0, 'A'},  {"conc", 1, 0, 'c'},
                                       {"rate", 1, 0, 'r'},   {"duration", 1, 0, 'd'},
                                       {"warmup", 1, 0, 'w'}, {"window", 1, 0, 'W'},
                                       {"hold", 1, 0, 'h'},   {"ramp-timeout", 1, 0, 'R'},
                                       {"status", 1, 0, 's'}, {"path", 1, 0, 'x'},
                                       {0, 0, 0, 0}};
    struct stats *total;
    int o, (*out_fds)[2], (*in_fds)[2];
    pid_t *pids;
    size_t per;
    uint64_t t_start;

    while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (o) {
        case 'm': opt.mode = optarg; break;
        case 'a': opt.accounts = optarg; break;
        case 'n': opt.count = strtoul(optarg, NULL, 10); break;
        case 'o': opt.offset = strtoul(optarg, NULL, 10); break;
        case 't': opt.target = strcmp(optarg, "socketio") ? T_SOTTO : T_SOCKETIO; break;
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = (int)opt_long("--port", optarg, 1, 65535); break;
        case 'P': opt.procs = (int)opt_long("--procs", optarg, 1, 4096); break;
        case 'A': opt.naddr = (int)opt_long("--addrs", optarg, 0, 250); break;
        case 'c': opt.conc = (int)opt_long("--conc", optarg, 1, INT_MAX); break;
        case 'r': opt.rate = opt_double("--rate", optarg, 0, 1e9); break;
        case 'd': opt.duration = opt_double("--duration", optarg, 0, 3600); break;
        case 'w': opt.warmup = opt_double("--warmup", optarg, 0, 3600); break;
        case 'W': opt.window = (int)opt_long("--window", optarg, 1, INT_MAX); break;
        case 'h': opt.hold = opt_double("--hold", optarg, 0, 3600); break;
        case 'R': opt.ramp_timeout = opt_double("--ramp-timeout", optarg, 0, 3600); break;
        case 's': opt.status = optarg; break;
        case 'x': opt.path = optarg; break;
        default: usage();
        }
    }
    if (!opt.mode || !opt.accounts || !opt.count || opt.procs < 1 || opt.naddr < 0 ||
        opt.naddr > 250 || (strcmp(opt.mode, "idle") && strcmp(opt.mode, "msg")) ||
        opt.duration <= 0 || opt.duration > 3600 || opt.hold > 3600 || opt.ramp_timeout > 3600)
        usage();
    /* Loopback only (the benchmark rules): refuse any other target address. */
    if (strncmp(opt.host, "127.", 4)) {
        fprintf(stderr, "loadgen: --host must be a 127.x.y.z address\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 2;
    randombytes_buf(&run_tag, sizeof(run_tag));
    per = opt.count / (size_t)opt.procs;
    per -= per % 2; /* pairs stay in one process */
    if (!per)
        usage();
    total = calloc(1, sizeof(*total));
    pids = calloc((size_t)opt.procs, sizeof(*pids));
    out_fds = calloc((size_t)opt.procs, sizeof(*out_fds));
    in_fds = calloc((size_t)opt.procs, sizeof(*in_fds));
    t_start = now_us();
    for (int i = 0; i < opt.procs; i++) {
        if (pipe(out_fds[i]) || pipe(in_fds[i])) {
            perror("pipe");
            return 2;
        }
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            return 2;
        }
        if (!pids[i]) {
            close(out_fds[i][0]);
            close(in_fds[i][1]);
            for (int k = 0; k < i; k++) {
                close(out_fds[k][0]);
                close(in_fds[k][1]);
            }
            opt.first_addr += i; /* spread source addresses over the children too */
            _exit(child_main(i, opt.offset + (size_t)i * per, per, out_fds[i][1], in_fds[i][0]));
        }
        close(out_fds[i][1]);
        close(in_fds[i][0]);
    }
    /* Every child has ramped up: report, then start them together. */
    for (int i = 0; i < opt.procs; i++) {
        struct stats *s = calloc(1, sizeof(*s));

        read_all(out_fds[i][0], s, sizeof(*s));
        add_stats(total, s);
        free(s);
    }
    printf("ramp: connections=%zu opened=%" PRIu64 " authenticated=%" PRIu64 " ready=%" PRIu64
           " failed=%" PRIu64 " closed=%" PRIu64 " errors=%" PRIu64 " seconds=%.1f\n",
           per * (size_t)opt.procs, total->opened, total->authed, total->ready, total->failed,
           total->closed_early, total->errors, (double)(now_us() - t_start) / 1e6);
    fflush(stdout);
    if (opt.status) {
        FILE *f = fopen(opt.status, "w");

        if (f) {
            fprintf(f, "ready=%" PRIu64 " failed=%" PRIu64 "\n", total->ready, total->failed);
            fclose(f);
        }
    }
    for (int i = 0; i < opt.procs; i++) {
        char g = 'G';

        write_all(in_fds[i][1], &g, 1);
    }
    memset(total, 0, sizeof(*total));
    for (int i = 0; i < opt.procs; i++) {
        struct stats *s = calloc(1, sizeof(*s));

        read_all(out_fds[i][0], s, sizeof(*s));
        add_stats(total, s);
        free(s);
        waitpid(pids[i], NULL, 0);
    }
    if (!strcmp(opt.mode, "idle")) {
        printf("idle: held=%" PRIu64 " closed_early=%" PRIu64 " errors=%" PRIu64 "\n",
               total->ready - total->closed_early, total->closed_early, total->errors);
    } else {
        double w = total->window_s > 0 ? total->window_s : 1;

        printf("msg: target=%s pairs=%zu procs=%d rate=%.0f window_s=%.2f sent_per_s=%.0f "
               "committed_per_s=%.0f delivered_per_s=%.0f acked_per_s=%.0f p50_ms=%.2f "
               "p99_ms=%.2f p999_ms=%.2f errors=%" PRIu64 " closed=%" PRIu64 "\n",
               opt.target == T_SOTTO ? "sotto" : "socketio", per * (size_t)opt.procs / 2, opt.procs,
               opt.rate, w, (double)total->sent / w, (double)total->committed / w,
               (double)total->delivered / w, (double)total->acked / w, percentile(total, 0.50),
               percentile(total, 0.99), percentile(total, 0.999), total->errors,
               total->closed_early);
    }
    return 0;
}
