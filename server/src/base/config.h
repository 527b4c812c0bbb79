/* Server configuration: every setting comes from one environment variable, described by one
 * row of the table in config.c (name, variable, type, bounds, default, help). */
#ifndef SOTTO_CONFIG_H
#define SOTTO_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Filled by config_load; strings are owned by the struct and freed by config_free. The two
 * secrets live in sodium_malloc memory (wiped on free) once secrets_load has run. NULL means
 * "not set" for optional strings. */
struct config {
    long port;
    char *bind;
    char *data_dir;
    char *public_url;
    char *database_url;
    char *redis_url;
    char *jwt_secret;         /* secret: never logged */
    char *mfa_encryption_key; /* secret: 64 hex characters (32 bytes) */
    char *metrics_token;      /* secret */
    char *cors_origins;       /* comma-separated; parsed by cors_list_parse */
    char *trusted_proxies;    /* comma-separated CIDRs; parsed by netaddr_list_parse */
    long rate_limit_window;
    long rate_limit_max;
    long argon2_memory_cost; /* KiB */
    long argon2_time_cost;
    long argon2_parallelism;
    long argon2_max_concurrent; /* hashes at once (each takes argon2_memory_cost KiB) */
    long argon2_per_address;    /* a client address's share of the queue; 0: max_concurrent */
    char *smtp_url;             /* secret (may hold a password); NULL = outbox */
    char *mail_from;
    char *smtp_tls;    /* auto | starttls | none */
    long smtp_timeout; /* seconds */
    char *smtp_ca_file;
    long rate_limit_table; /* buckets kept in memory */
    /* Per-route buckets "capacity/seconds"; NULL = RATE_LIMIT_MAX/RATE_LIMIT_WINDOW. */
    char *rl_register_ip, *rl_login_ip, *rl_login_account, *rl_refresh_ip;
    char *rl_forgot_ip, *rl_forgot_account, *rl_mfa_ip, *rl_mfa_account, *rl_email_ip;
    long login_free_failures, login_delay_base, login_delay_max;
    long login_lock_failures, login_lock_seconds, login_forget_seconds;
    long access_token_ttl;  /* seconds */
    long refresh_token_ttl; /* seconds */
    char *tls_cert_file;
    char *tls_key_file;
    long log_level; /* enum log_level */
    char *web_root;
    char *module_dir; /* SOTTO_MODULE_DIR; NULL = ../lib beside the binary */
    long workers;
    long queue_max;            /* pool queue bound */
    long body_limit;           /* default per-route JSON body limit, bytes */
    long ws_max_frame;         /* bytes */
    long ws_max_queue;         /* outbound frames per WebSocket */
    long ws_rate_burst;        /* frames a WebSocket may send at once ... */
    long ws_rate_per_sec;      /* ... refilled at this rate */
    long ws_rate_strikes;      /* limited frames in a row before the close (1008) */
    long ws_max_inflight;      /* requests of one WebSocket at the pool at once */
    long ws_ping_interval;     /* s of silence from the client before a ping */
    long ws_idle_timeout;      /* s without a frame or pong before the close (1001) */
    char *rl_key_claim;        /* "capacity/seconds" per (caller, target) */
    long queue_retention_days; /* device queue rows older than this are purged */
    long static_max_file;      /* largest static file served, bytes */
    long max_connections;
    long max_connections_per_ip; /* 0: no cap */
    long body_memory_max;        /* bytes of request bodies held at once */
    long request_timeout;        /* seconds for a request to arrive whole */

    /* Bytes of undelivered ciphertext an account may have stored (0: no bound). */
    long queue_bytes_per_account;

    /* Attachments (attachments/): the largest upload and each user's stored bytes. */
    long attachment_max_bytes;
    long attachment_quota_bytes; /* 0: no bound */
    char *rl_attachments;        /* "capacity/seconds" new uploads per user */
    char *rl_avatar;             /* "capacity/seconds" profile picture uploads per user */
    /* The S3-compatible blob store (blobs/s3.c); s3_endpoint NULL: files under DATA_DIR. */
    char *s3_endpoint, *s3_bucket, *s3_region, *s3_access_key_id;
    char *s3_secret_access_key; /* secret */

    /* Calls (calls/): ring and reconnect times, TURN credentials, rate limits. */
    long call_ring_seconds;
    long call_reconnect_seconds;
    char *turn_urls;   /* comma-separated; NULL: no TURN */
    char *turn_secret; /* secret: coturn's static-auth-secret */
    long turn_ttl;     /* seconds */
    char *rl_calls;    /* "capacity/seconds" call:initiate per user */
    char *rl_turn;     /* "capacity/seconds" turn-credentials per user */
};

/* Reads every setting through getenv_fn (getenv in production; tests pass their own), checks
 * types and bounds, and validates the lists. Returns 0, or -1 with a one-line message naming
 * the variable in err. On -1 the config is freed already. */
int config_load(struct config *cfg, const char *(*getenv_fn)(const char *name), char *err,
                size_t errlen);

/* Frees every string (wipes the secrets). Safe on a zeroed or already-freed struct. */
void config_free(struct config *cfg);

/* Copies a secret into sodium_malloc memory (guarded, wiped by config_free). Aborts on OOM.
 * Needs sodium_init() first, as does config_load. */
char *config_secret_dup(const char *v);

/* Parses "capacity/seconds" (1..1000000 / 1..86400). 0 or -1. */
int config_bucket_parse(const char *v, long *capacity, long *seconds);

/* Prints the table for `sottod --help`. */
void config_print_help(FILE *out);

/* Parses a log level name ("debug", "info", "warn", "error"); -1 if unknown. */
int config_log_level_parse(const char *s);

#endif
