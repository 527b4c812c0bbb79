/* Configuration table: one row per setting, read from the environment at start. Like Redis's
 * config.c, the table is the single source for parsing, bounds, defaults and `--help`, so a
 * new setting is one row plus one struct field. */
#include "base/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/cors.h"
#include "base/netaddr.h"

enum config_type { CT_INT, CT_STR, CT_SECRET, CT_LOGLEVEL };

struct config_row {
    const char *env; /* environment variable */
    enum config_type type;
    long min, max;   /* CT_INT bounds, inclusive; CT_STR/CT_SECRET: max length */
    const char *def; /* default text, NULL = unset */
    size_t offset;   /* into struct config */
    int (*check)(const char *value, char *why, size_t whylen); /* extra validation */
    const char *help;
};

#define F(field) offsetof(struct config, field)

static char *config_strdup(const char *v);
static int check_url(const char *v, char *why, size_t whylen);
static int check_database_url(const char *v, char *why, size_t whylen);
static int check_redis_url(const char *v, char *why, size_t whylen);
static int check_bind(const char *v, char *why, size_t whylen);
static int check_hex32(const char *v, char *why, size_t whylen);
static int check_jwt_secret(const char *v, char *why, size_t whylen);
static int check_token(const char *v, char *why, size_t whylen);
static int check_cors(const char *v, char *why, size_t whylen);
static int check_proxies(const char *v, char *why, size_t whylen);
static int check_smtp_url(const char *v, char *why, size_t whylen);
static int check_mail_from(const char *v, char *why, size_t whylen);
static int check_smtp_tls(const char *v, char *why, size_t whylen);
static int check_bucket(const char *v, char *why, size_t whylen);
static int check_turn_urls(const char *v, char *why, size_t whylen);

static const struct config_row config_table[] = {
    {"PORT", CT_INT, 0, 65535, "8080", F(port), NULL,
     "TCP port to listen on (0: a free port, printed in the server.start line)"},
    {"BIND", CT_STR, 0, 64, "127.0.0.1", F(bind), check_bind,
     "address to listen on (0.0.0.0 or :: to expose beyond this host)"},
    {"DATA_DIR", CT_STR, 1, 1024, "./data", F(data_dir), NULL,
     "SQLite database, generated secrets, blobs and mail outbox"},
    {"PUBLIC_URL", CT_STR, 0, 1024, NULL, F(public_url), check_url,
     "the address people open (scheme://host[:port]): mailed links, and the Origin the "
     "web sign-in cookie accepts besides the request's own; set it behind a proxy"},
    {"DATABASE_URL", CT_STR, 0, 4096, NULL, F(database_url), check_database_url,
     "postgresql://... for PostgreSQL; unset: SQLite in DATA_DIR"},
    {"REDIS_URL", CT_STR, 0, 4096, NULL, F(redis_url), check_redis_url,
     "reserved for the multi-node Redis bus, not in this version (refused); unset: in-process"},
    {"JWT_SECRET", CT_SECRET, 0, 1024, NULL, F(jwt_secret), check_jwt_secret,
     "access-token signing key, >= 32 chars (generated if DATABASE_URL unset)"},
    {"MFA_ENCRYPTION_KEY", CT_SECRET, 0, 64, NULL, F(mfa_encryption_key), check_hex32,
     "64 hex chars; encrypts TOTP secrets (generated if DATABASE_URL unset)"},
    {"METRICS_TOKEN", CT_SECRET, 0, 1024, NULL, F(metrics_token), check_token,
     "bearer token for /metrics from non-loopback clients; unset: loopback only"},
    {"CORS_ORIGINS", CT_STR, 0, 8192, NULL, F(cors_origins), check_cors,
     "comma-separated origins allowed cross-origin (scheme://host[:port])"},
    {"TRUSTED_PROXIES", CT_STR, 0, 8192, NULL, F(trusted_proxies), check_proxies,
     "comma-separated IPs/CIDRs whose X-Forwarded-For/Proto are believed"},
    {"RATE_LIMIT_WINDOW", CT_INT, 1, 86400, "60", F(rate_limit_window), NULL,
     "rate-limit window, seconds"},
    {"RATE_LIMIT_MAX", CT_INT, 1, 1000000, "100", F(rate_limit_max), NULL,
     "requests per window per client on limited endpoints"},
    /* Bounds are password_ctx_create's (password.h): <= 1 GiB, t <= 16, p <= 16. */
    {"ARGON2_MEMORY_COST", CT_INT, 1024, 1048576, "65536", F(argon2_memory_cost), NULL,
     "Argon2id memory, KiB (at least 8 x ARGON2_PARALLELISM)"},
    {"ARGON2_TIME_COST", CT_INT, 1, 16, "3", F(argon2_time_cost), NULL, "Argon2id passes"},
    {"ARGON2_PARALLELISM", CT_INT, 1, 16, "4", F(argon2_parallelism), NULL, "Argon2id lanes"},
    {"ARGON2_MAX_CONCURRENT", CT_INT, 1, 256, "4", F(argon2_max_concurrent), NULL,
     "Argon2id hashes running at once (memory: this x ARGON2_MEMORY_COST)"},
    {"ARGON2_PER_ADDRESS", CT_INT, 0, 100000, "0", F(argon2_per_address), NULL,
     "Argon2id jobs waiting or running per client address (0: ARGON2_MAX_CONCURRENT)"},
    {"SMTP_URL", CT_SECRET, 0, 2048, NULL, F(smtp_url), check_smtp_url,
     "smtp[s]://[user[:password]@]host[:port] for mail; unset: DATA_DIR/outbox files"},
    {"MAIL_FROM", CT_STR, 0, 254, "sotto@localhost", F(mail_from), check_mail_from,
     "From address of verification and reset mail"},
    {"SMTP_TLS", CT_STR, 0, 16, "auto", F(smtp_tls), check_smtp_tls,
     "auto (smtps, or STARTTLS except to loopback), starttls or none"},
    {"SMTP_TIMEOUT_SECONDS", CT_INT, 1, 300, "30", F(smtp_timeout), NULL,
     "whole SMTP transfer, seconds"},
    {"SMTP_CA_FILE", CT_STR, 0, 4096, NULL, F(smtp_ca_file), NULL,
     "PEM bundle trusted for SMTP TLS instead of the system's"},
    {"RATE_LIMIT_TABLE_SIZE", CT_INT, 8, 16777216, "65536", F(rate_limit_table), NULL,
     "rate-limit buckets kept in memory (least recently used ones are forgotten)"},
    {"RATE_LIMIT_REGISTER_IP", CT_STR, 0, 32, NULL, F(rl_register_ip), check_bucket,
     "register per IP, capacity/seconds (default RATE_LIMIT_MAX/RATE_LIMIT_WINDOW)"},
    {"RATE_LIMIT_LOGIN_IP", CT_STR, 0, 32, NULL, F(rl_login_ip), check_bucket,
     "login per IP, capacity/seconds"},
    {"RATE_LIMIT_LOGIN_ACCOUNT", CT_STR, 0, 32, NULL, F(rl_login_account), check_bucket,
     "login per account (email), capacity/seconds"},
    {"RATE_LIMIT_REFRESH_IP", CT_STR, 0, 32, NULL, F(rl_refresh_ip), check_bucket,
     "refresh per IP, capacity/seconds"},
    {"RATE_LIMIT_FORGOT_IP", CT_STR, 0, 32, NULL, F(rl_forgot_ip), check_bucket,
     "forgot-password per IP, capacity/seconds"},
    {"RATE_LIMIT_FORGOT_ACCOUNT", CT_STR, 0, 32, NULL, F(rl_forgot_account), check_bucket,
     "forgot-password per email, capacity/seconds"},
    {"RATE_LIMIT_MFA_IP", CT_STR, 0, 32, NULL, F(rl_mfa_ip), check_bucket,
     "MFA enable/verify/disable per IP, capacity/seconds"},
    {"RATE_LIMIT_MFA_ACCOUNT", CT_STR, 0, 32, NULL, F(rl_mfa_account), check_bucket,
     "MFA enable/verify/disable per account, capacity/seconds"},
    {"RATE_LIMIT_EMAIL_TOKEN_IP", CT_STR, 0, 32, NULL, F(rl_email_ip), check_bucket,
     "verify-email and reset-password per IP, capacity/seconds"},
    {"LOGIN_FREE_FAILURES", CT_INT, 0, 999, "5", F(login_free_failures), NULL,
     "failed logins of an account before attempts are slowed down"},
    {"LOGIN_DELAY_BASE", CT_INT, 1, 3600, "1", F(login_delay_base), NULL,
     "first slow-down after the free failures, seconds (doubles per failure)"},
    {"LOGIN_DELAY_MAX", CT_INT, 1, 86400, "60", F(login_delay_max), NULL,
     "longest slow-down, seconds"},
    {"LOGIN_LOCK_FAILURES", CT_INT, 1, 1000, "20", F(login_lock_failures), NULL,
     "failed logins that lock the account for password-only sign-in (> LOGIN_FREE_FAILURES)"},
    {"LOGIN_LOCK_SECONDS", CT_INT, 1, 604800, "900", F(login_lock_seconds), NULL,
     "lock-out duration, seconds"},
    {"LOGIN_FORGET_SECONDS", CT_INT, 1, 2592000, "3600", F(login_forget_seconds), NULL,
     "failures are forgotten this long after the last one, seconds"},
    {"ACCESS_TOKEN_TTL", CT_INT, 1, 86400, "900", F(access_token_ttl), NULL,
     "access token lifetime, seconds (the contract says 900)"},
    {"REFRESH_TOKEN_TTL", CT_INT, 60, 7776000, "604800", F(refresh_token_ttl), NULL,
     "refresh token lifetime, seconds (the contract says 7 days)"},
    {"TLS_CERT_FILE", CT_STR, 0, 4096, NULL, F(tls_cert_file), NULL,
     "PEM certificate chain; with TLS_KEY_FILE enables native TLS (1.2+, 1.3 preferred)"},
    {"TLS_KEY_FILE", CT_STR, 0, 4096, NULL, F(tls_key_file), NULL, "PEM private key"},
    {"LOG_LEVEL", CT_LOGLEVEL, 0, 0, "info", F(log_level), NULL, "debug, info, warn or error"},
    {"WEB_ROOT", CT_STR, 0, 4096, "./web/dist", F(web_root), NULL,
     "built web client served at / (index.html, /assets/...)"},
    {"SOTTO_MODULE_DIR", CT_STR, 0, 4096, NULL, F(module_dir), NULL,
     "directory of the optional driver modules (sotto_store_pg.so, sotto_mail_smtp.so); "
     "unset: ../lib beside sottod"},
    {"WORKERS", CT_INT, 1, 64, "4", F(workers), NULL,
     "worker threads for blocking work (store, Argon2, files)"},
    {"WORK_QUEUE_MAX", CT_INT, 16, 1000000, "65536", F(queue_max), NULL,
     "jobs waiting for a worker before requests get 503 (the default lets every allowed "
     "connection authenticate and fetch its queue at once)"},
    {"BODY_LIMIT", CT_INT, 1024, 67108864, "65536", F(body_limit), NULL,
     "default request body limit, bytes (routes may set their own)"},
    {"WS_MAX_FRAME", CT_INT, 1024, 67108864, "262144", F(ws_max_frame), NULL,
     "largest WebSocket message accepted, bytes"},
    {"WS_MAX_QUEUE", CT_INT, 1, 4096, "64", F(ws_max_queue), NULL,
     "outbound frames queued per WebSocket before it is closed"},
    /* Per-connection limits: rl_milli is a uint32_t (burst x 1000 must fit), strikes a
     * saturating uint8_t, inflight a uint16_t (rt_internal.h). */
    {"WS_RATE_BURST", CT_INT, 1, 1000000, "200", F(ws_rate_burst), NULL,
     "frames a WebSocket may send at once (its rate-limit bucket)"},
    {"WS_RATE_PER_SEC", CT_INT, 1, 1000000, "100", F(ws_rate_per_sec), NULL,
     "frames per second refilling that bucket"},
    {"WS_RATE_STRIKES", CT_INT, 1, 255, "50", F(ws_rate_strikes), NULL,
     "rate-limited frames in a row before the WebSocket is closed (1008)"},
    {"WS_MAX_INFLIGHT", CT_INT, 1, 4096, "32", F(ws_max_inflight), NULL,
     "requests of one WebSocket at the workers at once (rate_limited beyond)"},
    {"WS_PING_INTERVAL", CT_INT, 1, 3600, "30", F(ws_ping_interval), NULL,
     "seconds without a frame from a WebSocket client before the server pings it"},
    {"WS_IDLE_TIMEOUT", CT_INT, 2, 7200, "70", F(ws_idle_timeout), NULL,
     "seconds without a frame or pong before the WebSocket is closed (1001; "
     "> WS_PING_INTERVAL)"},
    {"RATE_LIMIT_KEY_CLAIM", CT_STR, 0, 32, "30/60", F(rl_key_claim), check_bucket,
     "POST /api/keys/claim per (caller, target user), capacity/seconds"},
    {"QUEUE_RETENTION_DAYS", CT_INT, 1, 3650, "30", F(queue_retention_days), NULL,
     "undelivered messages wait in a device's queue this long, days"},
    {"QUEUE_BYTES_PER_ACCOUNT", CT_INT, 0, 1099511627776LL, "1073741824",
     F(queue_bytes_per_account), NULL,
     "ciphertext an account may have waiting for delivery, bytes (0: no bound); over it a "
     "send or edit gets 413 quota_exceeded until recipients acknowledge"},
    {"ATTACHMENT_MAX_BYTES", CT_INT, 1, 1099511627776LL, "105906176", F(attachment_max_bytes), NULL,
     "largest attachment upload (ciphertext), bytes; the default is 101 MiB, room for a "
     "100 MiB file and its encryption"},
    {"ATTACHMENT_QUOTA_BYTES", CT_INT, 0, 1099511627776LL, "2147483648", F(attachment_quota_bytes),
     NULL,
     "attachment ciphertext a user may have stored, bytes (0: no bound); over it a new upload "
     "gets 413 quota_exceeded"},
    {"RATE_LIMIT_ATTACHMENTS", CT_STR, 0, 32, "60/60", F(rl_attachments), check_bucket,
     "POST /api/attachments (new uploads) per user, capacity/seconds"},
    {"RATE_LIMIT_AVATAR", CT_STR, 0, 32, "10/60", F(rl_avatar), check_bucket,
     "PUT /api/users/me/avatar (profile picture uploads) per user, capacity/seconds"},
    {"S3_ENDPOINT", CT_STR, 0, 2048, NULL, F(s3_endpoint), check_url,
     "http[s]://host[:port] of an S3-compatible store for attachments (path-style requests); "
     "unset: files under DATA_DIR/blobs"},
    {"S3_BUCKET", CT_STR, 0, 255, NULL, F(s3_bucket), NULL,
     "the bucket attachments go to (required with S3_ENDPOINT)"},
    {"S3_REGION", CT_STR, 0, 64, "us-east-1", F(s3_region), NULL,
     "the region requests are signed for (SigV4; Cloudflare R2: auto)"},
    {"S3_ACCESS_KEY_ID", CT_STR, 0, 256, NULL, F(s3_access_key_id), NULL,
     "access key id for S3_ENDPOINT (required with it)"},
    {"S3_SECRET_ACCESS_KEY", CT_SECRET, 0, 256, NULL, F(s3_secret_access_key), NULL,
     "secret access key for S3_ENDPOINT (required with it; never logged)"},
    {"STATIC_MAX_FILE", CT_INT, 1024, 268435456, "33554432", F(static_max_file), NULL,
     "largest static file served, bytes"},
    {"MAX_CONNECTIONS", CT_INT, 16, 1000000, "19000", F(max_connections), NULL,
     "open sockets at most (the fd limit caps it too)"},
    {"MAX_CONNECTIONS_PER_IP", CT_INT, 0, 1000000, "256", F(max_connections_per_ip), NULL,
     "open sockets per client address (0: no cap; TRUSTED_PROXIES are never capped)"},
    {"BODY_MEMORY_MAX", CT_INT, 1048576, 4294967295LL, "67108864", F(body_memory_max), NULL,
     "request bodies held in memory at once, bytes (over it: 503 and retry)"},
    {"REQUEST_TIMEOUT", CT_INT, 5, 3600, "60", F(request_timeout), NULL,
     "seconds a request may take to arrive whole, head and body (absolute, not per byte)"},
    {"CALL_RING_SECONDS", CT_INT, 1, 600, "60", F(call_ring_seconds), NULL,
     "a call nobody answers within this ends as missed, seconds"},
    {"CALL_RECONNECT_SECONDS", CT_INT, 1, 300, "20", F(call_reconnect_seconds), NULL,
     "a party whose socket closed has this long to come back before the call fails, seconds"},
    {"TURN_URLS", CT_STR, 0, 4096, NULL, F(turn_urls), check_turn_urls,
     "comma-separated turn:/turns:/stun: URLs handed to clients with TURN credentials"},
    {"TURN_SECRET", CT_SECRET, 0, 1024, NULL, F(turn_secret), NULL,
     "coturn's static-auth-secret (use-auth-secret); unset: no TURN credentials"},
    {"TURN_TTL", CT_INT, 1, 604800, "86400", F(turn_ttl), NULL,
     "lifetime of TURN credentials, seconds (a client asks again before they end)"},
    {"RATE_LIMIT_CALLS", CT_STR, 0, 32, "20/60", F(rl_calls), check_bucket,
     "call:initiate per user, capacity/seconds"},
    {"RATE_LIMIT_TURN", CT_STR, 0, 32, "30/60", F(rl_turn), check_bucket,
     "GET /api/calls/turn-credentials per user, capacity/seconds"},
};

#define CONFIG_ROWS (sizeof(config_table) / sizeof(config_table[0]))

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

int config_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, log_level_names[i]))
            return i;
    return -1;
}

static int starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static int check_url(const char *v, char *why, size_t whylen)
{
    if (starts_with(v, "http://") || starts_with(v, "https://"))
        return 0;
    snprintf(why, whylen, "must start with http:// or https://");
    return -1;
}

static int check_database_url(const char *v, char *why, size_t whylen)
{
    if (starts_with(v, "postgresql://") || starts_with(v, "postgres://"))
        return 0;
    snprintf(why, whylen, "must start with postgresql:// (unset it for SQLite)");
    return -1;
}

/* The Redis bus (several nodes) is not built yet. Accepting the setting and running on the
 * in-process bus would let an operator believe two nodes share presence and delivery. */
static int check_redis_url(const char *v, char *why, size_t whylen)
{
    if (!starts_with(v, "redis://") && !starts_with(v, "rediss://"))
        snprintf(why, whylen, "must start with redis:// or rediss://");
    else
        snprintf(why, whylen,
                 "the Redis bus is not available in this version; unset it "
                 "(one node, in-process bus)");
    return -1;
}

static int check_bind(const char *v, char *why, size_t whylen)
{
    struct netaddr a;

    if (netaddr_parse(v, &a) == 0 && a.prefix == (a.family == 4 ? 32 : 128))
        return 0;
    snprintf(why, whylen, "must be an IPv4 or IPv6 address");
    return -1;
}

static int check_hex32(const char *v, char *why, size_t whylen)
{
    size_t n = strlen(v);

    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", v[i]))
            n = 0;
    if (n == 64)
        return 0;
    snprintf(why, whylen, "must be 64 hexadecimal characters (32 bytes)");
    return -1;
}

static int check_jwt_secret(const char *v, char *why, size_t whylen)
{
    if (strlen(v) >= 32)
        return 0;
    snprintf(why, whylen, "must be at least 32 characters");
    return -1;
}

static int check_token(const char *v, char *why, size_t whylen)
{
    if (strlen(v) >= 16)
        return 0;
    snprintf(why, whylen, "must be at least 16 characters");
    return -1;
}

static int check_cors(const char *v, char *why, size_t whylen)
{
    struct cors_list l;

    return cors_list_parse(v, &l, why, whylen);
}

static int check_proxies(const char *v, char *why, size_t whylen)
{
    struct netaddr_list l;

    return netaddr_list_parse(v, &l, why, whylen);
}

static int check_smtp_url(const char *v, char *why, size_t whylen)
{
    if (starts_with(v, "smtp://") || starts_with(v, "smtps://"))
        return 0;
    snprintf(why, whylen, "must start with smtp:// or smtps://");
    return -1;
}

static int check_mail_from(const char *v, char *why, size_t whylen)
{
    const char *at = strchr(v, '@');

    if (at && at != v && at[1] && !strchr(at + 1, '@') && !strpbrk(v, " <>\"\r\n\t,;"))
        return 0;
    snprintf(why, whylen, "must be a plain address like sotto@example.org");
    return -1;
}

static int check_smtp_tls(const char *v, char *why, size_t whylen)
{
    if (!strcmp(v, "auto") || !strcmp(v, "starttls") || !strcmp(v, "none"))
        return 0;
    snprintf(why, whylen, "must be auto, starttls or none");
    return -1;
}

int config_bucket_parse(const char *v, long *capacity, long *seconds)
{
    char *end;
    long c, p;

    errno = 0;
    c = strtol(v, &end, 10);
    if (errno || end == v || *end != '/' || c < 1 || c > 1000000)
        return -1;
    v = end + 1;
    p = strtol(v, &end, 10);
    if (errno || end == v || *end || p < 1 || p > 86400)
        return -1;
    *capacity = c;
    *seconds = p;
    return 0;
}

static int check_bucket(const char *v, char *why, size_t whylen)
{
    long c, p;

    if (!config_bucket_parse(v, &c, &p))
        return 0;
    snprintf(why, whylen, "must be capacity/seconds, e.g. 10/60 (1..1000000 / 1..86400)");
    return -1;
}

/* "turn:host:port?transport=udp, turns:host:5349?transport=tcp": each item a TURN or STUN URL,
 * without spaces or quotes inside (they go into JSON as they are). */
static int check_turn_urls(const char *v, char *why, size_t whylen)
{
    const char *p = v;

    while (*p) {
        size_t n = strcspn(p, ",");

        while (n && *p == ' ')
            p++, n--;
        if (!starts_with(p, "turn:") && !starts_with(p, "turns:") && !starts_with(p, "stun:")) {
            snprintf(why, whylen, "each URL starts with turn:, turns: or stun:");
            return -1;
        }
        size_t m = n;

        while (m && p[m - 1] == ' ')
            m--;
        for (size_t i = 0; i < m; i++)
            if ((unsigned char)p[i] <= ' ' || p[i] == '"' || p[i] == '\\' || p[i] == 0x7f) {
                snprintf(why, whylen, "a URL holds a space, a quote or a control character");
                return -1;
            }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int parse_int(const char *v, long min, long max, long *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* Applies one row; a set-but-empty variable counts as unset, so `FOO= sottod` is harmless. */
static int config_apply(struct config *cfg, const struct config_row *row, const char *v, char *err,
                        size_t errlen)
{
    char why[160] = "";
    char *base = (char *)cfg;

    if (v && !*v)
        v = NULL;
    if (!v)
        v = row->def;
    if (row->type == CT_INT) {
        if (parse_int(v, row->min, row->max, (long *)(void *)(base + row->offset))) {
            snprintf(err, errlen, "%s: must be an integer from %ld to %ld", row->env, row->min,
                     row->max);
            return -1;
        }
        return 0;
    }
    if (row->type == CT_LOGLEVEL) {
        int l = config_log_level_parse(v);

        if (l < 0) {
            snprintf(err, errlen, "%s: must be debug, info, warn or error", row->env);
            return -1;
        }
        *(long *)(void *)(base + row->offset) = l;
        return 0;
    }
    if (!v)
        return 0;
    if (strlen(v) > (size_t)row->max) {
        snprintf(err, errlen, "%s: longer than %ld characters", row->env, row->max);
        return -1;
    }
    if (row->check && row->check(v, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", row->env, why);
        return -1;
    }
    *(char **)(void *)(base + row->offset) =
        row->type == CT_SECRET ? config_secret_dup(v) : config_strdup(v);
    return 0;
}

/* S3_ENDPOINT needs a bucket and both keys; the keys without an endpoint would be ignored. */
static int config_check_s3(const struct config *cfg, char *err, size_t errlen)
{
    const char *missing = !cfg->s3_bucket              ? "S3_BUCKET"
                          : !cfg->s3_access_key_id     ? "S3_ACCESS_KEY_ID"
                          : !cfg->s3_secret_access_key ? "S3_SECRET_ACCESS_KEY"
                                                       : NULL;

    if (cfg->s3_endpoint && missing) {
        snprintf(err, errlen, "%s: must be set with S3_ENDPOINT", missing);
        return -1;
    }
    if (!cfg->s3_endpoint &&
        (cfg->s3_bucket || cfg->s3_access_key_id || cfg->s3_secret_access_key)) {
        snprintf(err, errlen, "S3_ENDPOINT: must be set with the other S3_* settings");
        return -1;
    }
    return 0;
}

int config_load(struct config *cfg, const char *(*getenv_fn)(const char *name), char *err,
                size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < CONFIG_ROWS; i++) {
        if (config_apply(cfg, &config_table[i], getenv_fn(config_table[i].env), err, errlen))
            goto fail;
    }
    if (!cfg->tls_cert_file != !cfg->tls_key_file) {
        snprintf(err, errlen, "%s: TLS_CERT_FILE and TLS_KEY_FILE go together",
                 cfg->tls_cert_file ? "TLS_KEY_FILE" : "TLS_CERT_FILE");
        goto fail;
    }
    if (cfg->login_lock_failures <= cfg->login_free_failures) {
        snprintf(err, errlen, "LOGIN_LOCK_FAILURES: must be more than LOGIN_FREE_FAILURES");
        goto fail;
    }
    if (cfg->login_delay_max < cfg->login_delay_base) {
        snprintf(err, errlen, "LOGIN_DELAY_MAX: must be at least LOGIN_DELAY_BASE");
        goto fail;
    }
    if (cfg->ws_idle_timeout <= cfg->ws_ping_interval) {
        snprintf(err, errlen, "WS_IDLE_TIMEOUT: must be more than WS_PING_INTERVAL");
        goto fail;
    }
    if (!cfg->turn_urls != !cfg->turn_secret) {
        snprintf(err, errlen, "%s: TURN_URLS and TURN_SECRET go together",
                 cfg->turn_urls ? "TURN_SECRET" : "TURN_URLS");
        goto fail;
    }
    if (config_check_s3(cfg, err, errlen))
        goto fail;
    if (cfg->argon2_memory_cost < 8 * cfg->argon2_parallelism) {
        snprintf(err, errlen, "ARGON2_MEMORY_COST: must be at least 8 KiB per lane");
        goto fail;
    }
    return 0;
fail:
    config_free(cfg);
    return -1;
}

static char *config_strdup(const char *v)
{
    char *s = strdup(v);

    if (!s)
        abort(); /* out of memory in the server aborts (house style) */
    return s;
}

char *config_secret_dup(const char *v)
{
    size_t n = strlen(v) + 1;
    char *s = sodium_malloc(n);

    if (!s)
        abort();
    memcpy(s, v, n);
    return s;
}

static void config_free_string(char **s, int secret)
{
    if (secret)
        sodium_free(*s); /* wipes, and handles NULL */
    else
        free(*s);
    *s = NULL;
}

void config_free(struct config *cfg)
{
    char *base = (char *)cfg;

    for (size_t i = 0; i < CONFIG_ROWS; i++) {
        const struct config_row *row = &config_table[i];

        if (row->type == CT_STR || row->type == CT_SECRET)
            config_free_string((char **)(void *)(base + row->offset), row->type == CT_SECRET);
    }
}

void config_print_help(FILE *out)
{
    int wname = (int)strlen("VARIABLE"), wdef = (int)strlen("DEFAULT");

    /* Columns as wide as the longest name and default, so every row lines up. */
    for (size_t i = 0; i < CONFIG_ROWS; i++) {
        const struct config_row *row = &config_table[i];
        int ln = (int)strlen(row->env), ld = row->def ? (int)strlen(row->def) : 1;

        wname = ln > wname ? ln : wname;
        wdef = ld > wdef ? ld : wdef;
    }
    fprintf(out, "Usage: sottod [--help] [--version] [--routes]\n\n"
                 "sottod is configured by environment variables only:\n\n");
    fprintf(out, "  %-*s  %-*s  %s\n", wname, "VARIABLE", wdef, "DEFAULT", "MEANING");
    for (size_t i = 0; i < CONFIG_ROWS; i++) {
        const struct config_row *row = &config_table[i];
        char bounds[48] = "";

        if (row->type == CT_INT)
            snprintf(bounds, sizeof(bounds), " [%ld..%ld]", row->min, row->max);
        fprintf(out, "  %-*s  %-*s  %s%s\n", wname, row->env, wdef, row->def ? row->def : "-",
                row->help, bounds);
    }
    fprintf(out, "\nInvalid settings stop sottod with one line naming the variable, exit 2.\n");
}
