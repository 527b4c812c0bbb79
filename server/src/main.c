/* sottod: reads the configuration, prepares secrets and the store, starts the worker pool and
 * the event loop, and tears everything down in reverse order on SIGTERM/SIGINT.
 * Exit codes: 0 after a clean stop, 1 on a runtime failure, 2 on bad configuration. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "accounts/accounts.h"
#include "api/backend.h"
#include "attachments/attachments.h"
#include "base/config.h"
#include "base/log.h"
#include "base/pool.h"
#include "base/sdnotify.h"
#include "base/secrets.h"
#include "base/server.h"
#include "blobs/blobs.h"
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

#define EXIT_CONFIG 2

static const char *main_getenv(const char *name) { return getenv(name); }

/* `sottod --routes`: the route table, one "METHOD PATTERN auth|public" line per method, for
 * the test that checks docs/api/openapi.yaml describes every route. Nothing is started. */
static int main_print_routes(void)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    struct server srv = {0};
    struct health *health;
    int rc = 1;

    srv.router = router_create();
    health = health_create(&srv, NULL);
    if (!routes_register(&srv, health, NULL, NULL)) {
        for (size_t i = 0; i < router_count(srv.router); i++) {
            const struct route *r = router_get(srv.router, i);

            for (unsigned m = 0; m < 7; m++)
                if (r->methods & (1u << m))
                    printf("%s %s %s\n", names[m], r->pattern,
                           r->flags & ROUTE_AUTH ? "auth" : "public");
        }
        rc = 0;
    }
    health_destroy(health);
    router_destroy(srv.router);
    http_fini(&srv);
    return rc;
}

static int main_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--routes"))
            return main_print_routes();
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            config_print_help(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("sottod %s store=sqlite,postgresql\n", SOTTO_VERSION);
            return 0;
        }
        fprintf(stderr,
                "sottod: unknown argument '%s' (configuration comes from the "
                "environment; see --help)\n",
                argv[i]);
        return EXIT_CONFIG;
    }
    return -1;
}

/* Everything that can be wrong with the configuration, checked before any thread starts. */
static int main_configure(struct config *cfg, struct server *srv, char *err, size_t errlen)
{
    if (config_load(cfg, main_getenv, err, errlen))
        return -1;
    log_init((enum log_level)cfg->log_level);
    log_bridge_lws((enum log_level)cfg->log_level);
    cors_list_parse(cfg->cors_origins, &srv->cors, err, errlen);
    netaddr_list_parse(cfg->trusted_proxies, &srv->proxies, err, errlen);
    srv->cfg = cfg;
    srv->tls = cfg->tls_cert_file != NULL;
    if (srv->tls && access(cfg->tls_cert_file, R_OK)) {
        snprintf(err, errlen, "TLS_CERT_FILE: cannot read %s", cfg->tls_cert_file);
        return -1;
    }
    if (srv->tls && access(cfg->tls_key_file, R_OK)) {
        snprintf(err, errlen, "TLS_KEY_FILE: cannot read %s", cfg->tls_key_file);
        return -1;
    }
    if (secrets_load(cfg, err, errlen))
        return -1;
    return backend_start(cfg, err, errlen);
}

/* The S3-compatible blob store from the S3_* settings (config.c checked they go together). */
static struct blobs *main_open_s3(const struct config *cfg, char *err, size_t errlen)
{
    struct blobs_s3_config s3 = {
        .endpoint = cfg->s3_endpoint,
        .bucket = cfg->s3_bucket,
        .region = cfg->s3_region,
        .access_key_id = cfg->s3_access_key_id,
        .secret_access_key = cfg->s3_secret_access_key,
        .timeout_s = 120, /* one request: at most one piece (BLOB_S3_PART) or one read */
    };

    return blobs_s3_open(cfg->module_dir, &s3, err, errlen);
}

int main(int argc, char **argv)
{
    struct config cfg = {0};
    struct server srv = {0};
    struct health *health = NULL;
    void *auth = NULL;
    struct keys *keys = NULL;
    struct pool_ops ops, wops;
    char err[512];
    int rc = 1;

    /* Everything sottod creates (sotto.db and its -wal and -shm, secrets, outbox, blobs) is
     * for its own user only, whatever umask it was started with. */
    umask(077);
    /* glibc gives the free top of a thread's heap back to the kernel once it passes 128 KiB;
     * the writer's statements free and reallocate that much all the time, so each batch paid
     * for madvise calls and fresh page faults (about a seventh of the writer's time). Keep
     * up to 4 MiB per arena instead. */
    (void)mallopt(M_TRIM_THRESHOLD, 4 << 20);
    if ((rc = main_args(argc, argv)) >= 0)
        return rc;
    rc = 1;
    /* Before any thread exists: not thread-safe to initialise. (libcurl, for SMTP mail, is
     * initialised when auth_create loads its module, still before any thread.) */
    if (sodium_init() < 0) {
        fprintf(stderr, "sottod: libsodium failed to initialise\n");
        return 1;
    }
    if (main_configure(&cfg, &srv, err, sizeof(err))) {
        fprintf(stderr, "sottod: %s\n", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    auth = auth_create(&srv, err, sizeof(err));
    if (!auth) {
        fprintf(stderr, "sottod: %s\n", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    sdnotify_init();
    if (loop_signals_start()) {
        log_error("server.fail", "reason=signals");
        goto done;
    }
    srv.metrics = metrics_create();
    srv.router = router_create();
    http_init(&srv);
    ops = backend_pool_ops(&cfg, false);
    ops.wake = loop_wake;
    ops.wake_arg = &srv;
    wops = backend_pool_ops(&cfg, true);
    wops.wake = loop_wake;
    wops.wake_arg = &srv;
    realtime_ws_register();
    /* The pool wakes the loop through srv.lws, so it needs the context first. */
    if (loop_create(&srv, err, sizeof(err))) {
        fprintf(stderr, "sottod: %s\n", err);
        goto done;
    }
    srv.pool = pool_create((int)cfg.workers, (size_t)cfg.queue_max, &ops);
    /* The writer's one connection keeps a warm page cache: SQLite empties a connection's
     * cache whenever another connection has written, so batches spread over the general
     * workers started cold every time. Its queue holds at most one batch of each kind. */
    srv.writer = srv.pool ? pool_create(1, (size_t)cfg.queue_max, &wops) : NULL;
    if (!srv.pool || !srv.writer) {
        fprintf(stderr, "sottod: DATABASE_URL: a worker could not connect to the store\n");
        rc = EXIT_CONFIG;
        goto done;
    }
    if (realtime_create(&srv) || !(keys = keys_create(&cfg)))
        goto done;
    srv.blobs = cfg.s3_endpoint ? main_open_s3(&cfg, err, sizeof(err))
                                : blobs_files_open(cfg.data_dir, err, sizeof(err));
    if (!srv.blobs) {
        fprintf(stderr, "sottod: %s\n", err);
        rc = EXIT_CONFIG;
        goto done;
    }
    health = health_create(&srv, backend_probe);
    srv.statics = static_create(cfg.web_root, (size_t)cfg.static_max_file, srv.pool);
    if (srv.statics)
        http_set_fallback(&srv, static_fallback, srv.statics);
    else
        log_warn("static.off", "reason=web_root_missing");
    if (routes_register(&srv, health, auth, keys)) {
        log_error("server.fail", "reason=routes");
        goto done;
    }
    /* With PORT=0 nothing else tells a supervisor which port the kernel chose. */
    if (cfg.port == 0 || log_enabled(LOG_INFO))
        log_notice("server.start", "port=%d bind=%s tls=%s workers=%ld version=%s", srv.port,
                   cfg.bind, srv.tls ? "on" : "off", cfg.workers, SOTTO_VERSION);
    sdnotify_ready();
    loop_run(&srv);
    rc = 0;
done:
    /* Workers first, while the context lives (they wake it): their completions answer the
     * last requests; then the context closes every connection. */
    realtime_stop(&srv);
    attachments_stop(&srv);
    pool_destroy(srv.writer);
    pool_destroy(srv.pool);
    health_destroy(health);
    loop_destroy(&srv);
    realtime_destroy(&srv);
    attachments_destroy(&srv);
    blobs_close(srv.blobs);
    keys_destroy(keys);
    static_destroy(srv.statics);
    router_destroy(srv.router);
    metrics_destroy(srv.metrics);
    http_fini(&srv);
    auth_destroy(auth);
    log_info("server.exit", "code=%d", rc);
    config_free(&cfg);
    return rc;
}
