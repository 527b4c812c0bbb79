/*
 * fuzz_http_raw: raw bytes into sottod's real HTTP stack (lws 4.1 parser, http.c, the
 * router, every route, the WebSocket upgrade and ws.c), through a loopback socket.
 *
 * Once per process the target starts a server the way main.c does (configuration from the
 * embedded defaults plus a few settings below, PORT=0 on 127.0.0.1, SQLite in a fresh
 * temporary DATA_DIR with a tiny WEB_ROOT, real worker pools, real time on) and runs its
 * loop (loop_run) on a thread of its own. For each input it then:
 *
 *   1. connects and writes the bytes in one write, or in up to three pieces with a short
 *      pause between them, so the server sees partial requests (fuzz_http_plan_of: chosen
 *      by a hash of the input),
 *   2. half-closes (shutdown SHUT_WR) either at once or once the answers stop coming
 *      (also chosen by the hash), and reads until the server closes or 200 ms have passed,
 *   3. asks a fresh connection for GET /healthz, which must be answered 200 within
 *      HEALTH_BOUND_MS: a server that stopped serving or spins (a wedged loop) aborts,
 *      so the input that did it becomes a finding like a crash.
 *
 * Inputs are plain bytes on the wire: a seed file is exactly what a client would send.
 * Server-side crashes and sanitizer reports are findings as usual (they happen on the
 * server's threads; ASan and UBSan abort the process either way).
 *
 * Environment: SOTTO_FUZZ_HTTP_VERBOSE=1 prints each answer's first line to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "accounts/accounts.h"
#include "api/backend.h"
#include "base/config.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/secrets.h"
#include "base/server.h"
#include "fuzz_common.h"
#include "keys/keys.h"
#include "messaging/realtime.h"
#include "net/health.h"
#include "net/http.h"
#include "net/loop.h"
#include "net/metrics.h"
#include "net/router.h"
#include "net/static.h"
#include "net/testroutes.h"
#include "routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_BOUND_MS 200   /* how long one input's connection is served and read */
#define HEALTH_BOUND_MS 3000 /* a fresh /healthz must be answered within this */
#define PIECE_PAUSE_US 2000  /* between the pieces of a split write */

static struct config cfg;
static struct server srv;
static char data_dir[64];
static char web_root[96];
static bool verbose;

static const char *fuzz_getenv(const char *name)
{
    static const struct {
        const char *name, *value;
    } env[] = {
        {"PORT", "0"},
        {"BIND", "127.0.0.1"},
        {"LOG_LEVEL", "error"},
        {"WORKERS", "2"},
        {"MAX_CONNECTIONS", "256"},
        /* Argon2 at its cheapest: register and login are reachable at fuzzing speed. */
        {"ARGON2_MEMORY_COST", "1024"},
        {"ARGON2_TIME_COST", "1"},
        {"ARGON2_PARALLELISM", "1"},
        /* Rate limits out of the way, so the handlers behind them stay reachable. */
        {"RATE_LIMIT_MAX", "1000000"},
        /* The peer is a trusted proxy: X-Forwarded-For and X-Forwarded-Proto are read. */
        {"TRUSTED_PROXIES", "127.0.0.0/8,::1"},
        {"CORS_ORIGINS", "https://app.example"},
        {"METRICS_TOKEN", "fuzz-metrics-token-0123456789abcdef"},
        {"BODY_LIMIT", "8192"},
        {"WS_MAX_FRAME", "16384"},
    };

    if (!strcmp(name, "DATA_DIR"))
        return data_dir;
    if (!strcmp(name, "WEB_ROOT"))
        return web_root;
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (!strcmp(name, env[i].name))
            return env[i].value;
    return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The temporary DATA_DIR goes with the process (not after a crash: then it is evidence). */
static void remove_data_dir(void)
{
    if (data_dir[0])
        nftw(data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        FUZZ_FAIL("cannot write %s", path);
}

static void *server_thread(void *arg)
{
    (void)arg;
    loop_run(&srv); /* returns only on a stop signal, which the target never sends */
    return NULL;
}

/* main.c's start, in the same order (main_configure, auth_create, the loop, the pools,
 * real time, health, static files, routes), minus the signal thread. */
static void server_start(void)
{
    char err[512];
    struct pool_ops ops, wops;
    struct auth_state *auth;
    struct keys *keys;
    struct health *health;
    pthread_t t;

    if (sodium_init() < 0)
        FUZZ_FAIL("sodium_init");
    signal(SIGPIPE, SIG_IGN);
    umask(077);
    snprintf(data_dir, sizeof data_dir, "/tmp/sotto-fuzz-http-XXXXXX");
    if (!mkdtemp(data_dir))
        FUZZ_FAIL("mkdtemp: %s", strerror(errno));
    atexit(remove_data_dir);
    snprintf(web_root, sizeof web_root, "%s/web", data_dir);
    if (mkdir(web_root, 0700) != 0)
        FUZZ_FAIL("mkdir %s", web_root);
    write_file(web_root, "index.html", "<!doctype html><title>sotto</title>\n");
    write_file(web_root, "app.js", "console.log('sotto');\n");

    if (config_load(&cfg, fuzz_getenv, err, sizeof err))
        FUZZ_FAIL("config: %s", err);
    log_init((enum log_level)cfg.log_level);
    log_bridge_lws((enum log_level)cfg.log_level);
    if (cors_list_parse(cfg.cors_origins, &srv.cors, err, sizeof err) ||
        netaddr_list_parse(cfg.trusted_proxies, &srv.proxies, err, sizeof err))
        FUZZ_FAIL("lists: %s", err);
    srv.cfg = &cfg;
    if (secrets_load(&cfg, err, sizeof err) || backend_start(&cfg, err, sizeof err))
        FUZZ_FAIL("secrets/store: %s", err);
    if ((auth = auth_create(&srv, err, sizeof err)) == NULL)
        FUZZ_FAIL("auth: %s", err);
    srv.metrics = metrics_create();
    srv.router = router_create();
    http_init(&srv);
    ops = backend_pool_ops(&cfg, false);
    ops.wake = loop_wake;
    ops.wake_arg = &srv;
    wops = backend_pool_ops(&cfg, true);
    wops.wake = loop_wake;
    wops.wake_arg = &srv;
    realtime_ws_register(); /* before the context: it sizes the WebSocket's data */
    if (loop_create(&srv, err, sizeof err))
        FUZZ_FAIL("loop: %s", err);
    srv.pool = pool_create((int)cfg.workers, (size_t)cfg.queue_max, &ops);
    srv.writer = srv.pool ? pool_create(1, (size_t)cfg.queue_max, &wops) : NULL;
    if (!srv.pool || !srv.writer)
        FUZZ_FAIL("pools");
    if (realtime_create(&srv))
        FUZZ_FAIL("realtime");
    health = health_create(&srv, backend_probe);
    srv.statics = static_create(cfg.web_root, (size_t)cfg.static_max_file, srv.pool);
    if (srv.statics)
        http_set_fallback(&srv, static_fallback, srv.statics);
    keys = keys_create(&cfg);
    if (!keys || routes_register(&srv, health, auth, keys))
        FUZZ_FAIL("routes");
    if (pthread_create(&t, NULL, server_thread, NULL) != 0)
        FUZZ_FAIL("server thread");
    pthread_detach(t);
    verbose = getenv("SOTTO_FUZZ_HTTP_VERBOSE") != NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_server(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        FUZZ_FAIL("socket: %s", strerror(errno));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        FUZZ_FAIL("connect to the server: %s (it stopped listening)", strerror(errno));
    return fd;
}

/* Reads what is there until EOF or the deadline, or (idle_ms > 0) until nothing more came
 * for idle_ms after the last byte. Returns bytes read; *eof when the server closed. */
static size_t drain(int fd, int64_t deadline, int idle_ms, bool *eof, char *keep, size_t keep_len,
                    size_t *kept)
{
    char buf[16384];
    size_t total = 0;

    *eof = false;
    for (;;) {
        int64_t left = deadline - now_ms();
        int wait = (int)(left < 0 ? 0 : left);
        if (idle_ms > 0 && wait > idle_ms)
            wait = idle_ms;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return total; /* deadline, or idle */
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            *eof = true; /* closed (or reset) */
            return total;
        }
        if (keep && *kept < keep_len) {
            size_t c = (size_t)r < keep_len - *kept ? (size_t)r : keep_len - *kept;
            memcpy(keep + *kept, buf, c);
            *kept += c;
        }
        total += (size_t)r;
    }
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the server closed or reset: it may, for garbage */
        p += w, n -= (size_t)w;
    }
}

/* The server still serves: GET /healthz on a fresh connection gets 200 in time. */
static void check_alive(void)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
    char head[64];

    for (int attempt = 0;; attempt++) {
        int fd = connect_server();
        int64_t start = now_ms();
        size_t kept = 0;
        bool eof;

        memset(head, 0, sizeof head);
        send_all(fd, (const uint8_t *)req, sizeof req - 1);
        drain(fd, start + HEALTH_BOUND_MS, 0, &eof, head, sizeof head - 1, &kept);
        close(fd);
        if (!strncmp(head, "HTTP/1.1 200", 12))
            return;
        if (kept == 0)
            FUZZ_FAIL("the server did not answer GET /healthz within %d ms after this "
                      "input: its loop is wedged or it stopped serving",
                      HEALTH_BOUND_MS);
        if (attempt == 2)
            FUZZ_FAIL("GET /healthz answered '%.20s' three times after this input", head);
        usleep(50000); /* 503 busy: the input's work may still hold the workers */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    fuzz_http_plan plan = fuzz_http_plan_of(data, size);
    size_t *cut = plan.cut;
    char head[128];
    size_t kept = 0;
    bool eof;

    if (!ready) {
        server_start();
        check_alive();
        ready = 1;
    }
    int fd = connect_server();
    int64_t deadline = now_ms() + INPUT_BOUND_MS;
    send_all(fd, data, cut[0]);
    if (cut[0] && cut[0] < size)
        usleep(PIECE_PAUSE_US);
    send_all(fd, data + cut[0], cut[1] - cut[0]);
    if (cut[1] > cut[0] && cut[1] < size)
        usleep(PIECE_PAUSE_US);
    send_all(fd, data + cut[1], size - cut[1]);
    memset(head, 0, sizeof head);
    eof = false;
    if (!plan.half_close_at_once) {
        /* Keep the connection open while answers come (pipelining, keep-alive). */
        drain(fd, deadline, 30, &eof, head, sizeof head - 1, &kept);
    }
    if (!eof) {
        shutdown(fd, SHUT_WR);
        drain(fd, deadline, 0, &eof, head, sizeof head - 1, &kept);
    }
    close(fd);
    if (verbose)
        fprintf(stderr, "http_raw: %zu bytes in, %s, %s, answer '%.*s'%s\n", size,
                plan.one_write ? "one write" : "cut",
                plan.half_close_at_once ? "half-closed" : "kept open", (int)strcspn(head, "\r\n"),
                head, eof ? "" : " (not closed)");
    check_alive();
    return 0;
}
