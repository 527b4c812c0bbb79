/* libwebsockets context, protocols and the run/drain cycle. The loop is libev's (epoll),
 * handed to lws as a foreign loop: lws 4.1's own Linux backend is poll(), which walks every
 * descriptor on every wake-up (two thirds of the loop thread's time with 2,000 connections
 * at 2,000 messages/s, bench/RESULTS-messaging.md). Owning the loop lets loop_run turn it
 * once at a time (lws_service on an event library never returns). libev rather than libuv:
 * libuv's uv_poll_start removes a descriptor from epoll and adds it back on every change of
 * events (each writeable request), which took /healthz from 106,000 to 70,000 requests/s;
 * libev modifies it in place (90,000), and keeps its watchers inside lws's connection instead
 * of a separate allocation each. Its lws plugin's timer needs the heartbeat below.
 *
 * The protocol list is the HTTP handler (protocols[0], which also gets the cross-thread
 * wake-ups) and the WebSocket protocol, which is the vhost default so browsers sending no
 * subprotocol reach it, then an all-zero terminator (lws 4.1 has no LWS_PROTOCOL_LIST_TERM).
 * Signals are taken by a sigwait() thread rather than a handler, so nothing
 * async-signal-unsafe ever runs. */
#include "net/loop.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ev.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/pool.h"
#include "base/sdnotify.h"
#include "base/server.h"
#include "net/headers.h"
#include "net/http.h"
#include "net/ws.h"

#define DRAIN_US 1500000
#define LOOP_TLS12_CIPHERS                                       \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define WS_RX_BUFFER 1024
#define WS_TX_PACKET 65536
#define DRAIN_TICK_MS 20
#define LOOP_HEARTBEAT_US 100000

static atomic_int loop_stop_requested;
static struct lws_context *_Atomic loop_ctx;
static struct ev_loop *loop_ev;

/* The loop's own work, before HTTP's: lws_cancel_service (a worker finished a job, pool.h)
 * wakes the loop with EVENT_WAIT_CANCELLED on the first protocol, and the completions of
 * both pools run here. Everything else is HTTP's. */
static int loop_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len)
{
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        struct server *srv = lws_context_user(lws_get_context(wsi));

        if (srv && srv->pool)
            pool_run_completions(srv->pool);
        if (srv && srv->writer)
            pool_run_completions(srv->writer);
        return 0;
    }
    return http_callback(wsi, reason, user, in, len);
}

static struct lws_protocols loop_protocols[] = {
    {"http", loop_http_callback, 0, 0, 0, NULL, 0},
    /* rx_buffer_size is allocated per WebSocket connection for its whole life: 1 KiB instead
     * of 4 KiB saves 3 KiB on every idle connection (bench/RESULTS-messaging.md). Larger
     * frames arrive in several RECEIVE callbacks and ws.c reassembles them. tx_packet_size
     * only caps one send() (lws falls back to rx_buffer_size, which would cut every frame
     * above 1 KiB into 1 KiB sends, each a further turn of the loop). */
    {WS_PROTOCOL_NAME, ws_callback, 0, WS_RX_BUFFER, 0, NULL, WS_TX_PACKET},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_protocol_vhost_options loop_pvo_default = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options loop_pvo = {NULL, &loop_pvo_default,
                                                           WS_PROTOCOL_NAME, ""};

/* WebSocket keep-alive (WS_PING_INTERVAL, WS_IDLE_TIMEOUT). lws 4.1 would keep one sorted
 * timer per connection for it (lws_sul, re-armed on every ping and pong, each a walk of the
 * thread's whole timer list: quadratic at 19,000 connections, bench/RESULTS-messaging.md), so
 * with the real-time part conn.c does it on its timer wheel, and this policy has
 * secs_since_valid_hangup 0: lws then arms no validity timer at all
 * (_lws_validity_confirmed_role returns early). The placeholder /ws without it keeps lws's. */
static lws_retry_bo_t loop_retry;

static void loop_keepalive(const struct config *cfg)
{
    (void)cfg;
    memset(&loop_retry, 0, sizeof(loop_retry));
}

static void *loop_signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig;

    for (;;) {
        if (sigwait(set, &sig))
            continue;
        if (atomic_exchange(&loop_stop_requested, 1)) {
            log_warn("server.stop", "signal=%d mode=immediate", sig);
            _exit(1); /* a second signal: the operator wants out now */
        }
        log_info("server.stop", "signal=%d mode=drain", sig);
        struct lws_context *ctx = atomic_load(&loop_ctx);

        if (ctx)
            lws_cancel_service(ctx);
    }
    return NULL;
}

int loop_signals_start(void)
{
    static sigset_t set;
    pthread_t t;
    pthread_attr_t attr;
    int rc;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, loop_signal_thread, &set);
    pthread_attr_destroy(&attr);
    return rc ? -1 : 0;
}

void loop_wake(void *arg)
{
    struct server *srv = arg;

    lws_cancel_service(srv->lws);
}

/* lws 4.1 maps a descriptor to its connection through a table as long as the process cannot
 * open more descriptors than fd_limit_per_thread; above that it scans the table on every
 * event (measured: 27% of a core to hold 19,000 pinged connections instead of 18%). So the
 * soft limit comes down to what sottod uses: MAX_CONNECTIONS plus 64 for the store, pipes and
 * logs. */
static unsigned loop_fd_limit(const struct config *cfg)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg->max_connections + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl))
        return (unsigned)want;
    if (rl.rlim_cur < want)
        return (unsigned)rl.rlim_cur;
    if (rl.rlim_cur > want) {
        rl.rlim_cur = want;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* on failure only the lookup is slower */
    }
    return (unsigned)want;
}

static uint64_t loop_now(void);

/* lws 4.1's libev plugin re-arms its one timer with ev_timer_set + ev_timer_start, which
 * libev ignores while the timer is active: a timer due sooner than the armed one (a ping, a
 * header timeout) would wait for it, up to 30 s. This lws timer, due every 100 ms, keeps the
 * armed one never more than that ahead, so every lws timer fires at most 100 ms late. */
static lws_sorted_usec_list_t loop_heartbeat;

static void loop_heartbeat_cb(lws_sorted_usec_list_t *sul)
{
    /* The systemd watchdog is fed from here: only a loop that turns keeps the service. */
    sdnotify_watchdog(loop_now());
    lws_sul_schedule(atomic_load(&loop_ctx), 0, sul, loop_heartbeat_cb, LOOP_HEARTBEAT_US);
}

/* lws on a libev loop of ours (epoll). */
static struct lws_context *loop_create_context(struct lws_context_creation_info *info, int *port,
                                               char *err, size_t errlen)
{
    void *loops[1];
    struct lws_context *ctx;
    struct lws_vhost *vh = NULL;

    loop_ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV | EVFLAG_NOSIGMASK);
    if (!loop_ev) {
        snprintf(err, errlen, "cannot create the event loop (libev, epoll)");
        return NULL;
    }
    loops[0] = loop_ev;
    info->foreign_loops = loops;
    /* The vhost is made separately: on a foreign loop lws 4.1 returns a context even when
     * its default vhost could not listen, and that half-made context leaks when destroyed. */
    info->options |= LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    ctx = lws_create_context(info);
    info->foreign_loops = NULL;
    if (ctx && !(vh = lws_create_vhost(ctx, info))) {
        lws_context_destroy(ctx);
        ctx = NULL;
    }
    if (!ctx) {
        ev_loop_destroy(loop_ev);
        loop_ev = NULL;
        return NULL;
    }
    *port = lws_get_vhost_listen_port(vh);
    lws_sul_schedule(ctx, 0, &loop_heartbeat, loop_heartbeat_cb, LOOP_HEARTBEAT_US);
    return ctx;
}

int loop_create(struct server *srv, char *err, size_t errlen)
{
    const struct config *cfg = srv->cfg;
    struct lws_context_creation_info info;
    struct netaddr bind_addr;

    loop_protocols[0].per_session_data_size = http_conn_data_size();
    loop_protocols[1].per_session_data_size = ws_conn_data_size();
    memset(&info, 0, sizeof(info));
    info.port = (int)cfg->port;
    info.iface = cfg->bind;
    info.protocols = loop_protocols;
    info.pvo = &loop_pvo;
    info.user = srv;
    info.vhost_name = "sotto";
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    /* lws listens on every interface for an IPv4 iface unless IPv6 is off (toolchain notes). */
    if (!netaddr_parse(cfg->bind, &bind_addr) && bind_addr.family == 4)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;      /* headers, body and TLS handshake must progress */
    info.keepalive_timeout = 15; /* idle keep-alive HTTP connections */
    info.max_http_header_data = 4096;
    /* Header tables are allocated as connections need them; the cap bounds what slow
     * clients holding half-sent headers can pin (about 5 KiB each) until timeout_secs. */
    info.max_http_header_pool = 4096;
    info.fd_limit_per_thread = loop_fd_limit(cfg);
    loop_keepalive(cfg);
    info.retry_and_idle_policy = &loop_retry;
    info.alpn = "http/1.1"; /* responses are written as HTTP/1.1 (http.c) */
    /* The security headers on every status line lws writes, its own error answers too. */
    info.headers = headers_vhost_list(srv->tls);
    if (srv->tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert_file;
        info.ssl_private_key_filepath = cfg->tls_key_file;
        info.ssl_options_set =
            SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_CIPHER_SERVER_PREFERENCE;
        /* TLS 1.2: forward-secret AEAD suites only (Mozilla's "intermediate" list): no
         * static RSA key exchange, no CBC. TLS 1.3 keeps OpenSSL's defaults (all AEAD). */
        info.ssl_cipher_list = LOOP_TLS12_CIPHERS;
    }
    err[0] = '\0';
    srv->lws = loop_create_context(&info, &srv->port, err, errlen);
    if (!srv->lws) {
        if (!err[0])
            snprintf(err, errlen,
                     "PORT: cannot listen on %s:%ld%s, or lws has no libev plugin "
                     "(libwebsockets-evlib-ev)",
                     cfg->bind, cfg->port,
                     srv->tls ? ", or TLS_CERT_FILE/TLS_KEY_FILE unusable" : "");
        return -1;
    }
    atomic_store(&loop_ctx, srv->lws);
    return 0;
}

static uint64_t loop_now(void) { return (uint64_t)clock_mono_us(); }

/* During the drain the loop must wake up to check the clock even with no traffic. */
static void loop_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
}

void loop_run(struct server *srv)
{
    ev_timer tick;
    uint64_t deadline;

    while (!atomic_load(&loop_stop_requested))
        ev_run(loop_ev, EVRUN_ONCE);
    /* Stop accepting: from now on http.c refuses new connections as they arrive (lws 4.1's
     * lws_context_deprecate, which would close the listener, crashes here). */
    http_set_draining(srv);
    sdnotify_stopping();
    deadline = loop_now() + DRAIN_US;
    ev_timer_init(&tick, loop_tick_cb, DRAIN_TICK_MS / 1000.0, DRAIN_TICK_MS / 1000.0);
    ev_timer_start(loop_ev, &tick);
    while (http_active(srv) && loop_now() < deadline)
        ev_run(loop_ev, EVRUN_ONCE);
    ev_timer_stop(loop_ev, &tick);
    log_info("server.drained", "unanswered=%zu", http_active(srv));
}

/* Destroys the context, then the loop (lws leaves a foreign loop to its owner). */
void loop_destroy(struct server *srv)
{
    atomic_store(&loop_ctx, NULL);
    lws_sul_cancel(&loop_heartbeat);
    if (srv->lws)
        lws_context_destroy(srv->lws);
    srv->lws = NULL;
    if (loop_ev)
        ev_loop_destroy(loop_ev);
    loop_ev = NULL;
}
