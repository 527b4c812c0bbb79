/* The auth module's state: keys derived from the server secrets, the Argon2id context, the
 * rate-limit buckets and login guard from the RATE_LIMIT_* and LOGIN_* settings, the mail
 * transport (outbox or SMTP), and the public URL that e-mailed links point at. */
#include "accounts/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "base/config.h"
#include "base/cors.h"
#include "api/gate.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/server.h"
#include "net/http.h"

/* crypto_kdf context and subkey ids: one per purpose, never reused. */
#define AUTH_KDF_CONTEXT "sottoaut"
enum { KDF_MFA_SECRET = 1, KDF_TOKEN_PEPPER = 2, KDF_BACKUP_PEPPER = 3 };

static uint8_t *auth_key_alloc(void)
{
    uint8_t *k = sodium_malloc(AUTH_KEY_BYTES);

    if (!k)
        abort();
    return k;
}

static int auth_derive_keys(struct auth_state *a, const struct config *cfg, char *err,
                            size_t errlen)
{
    uint8_t master[crypto_kdf_KEYBYTES];
    int rc = -1;

    if (sodium_hex2bin(master, sizeof(master), cfg->mfa_encryption_key,
                       strlen(cfg->mfa_encryption_key), NULL, NULL, NULL)) {
        snprintf(err, errlen, "MFA_ENCRYPTION_KEY: must be 64 hexadecimal characters");
        goto done;
    }
    a->mfa_key = auth_key_alloc();
    a->token_pepper = auth_key_alloc();
    a->backup_pepper = auth_key_alloc();
    crypto_kdf_derive_from_key(a->mfa_key, AUTH_KEY_BYTES, KDF_MFA_SECRET, AUTH_KDF_CONTEXT,
                               master);
    crypto_kdf_derive_from_key(a->token_pepper, AUTH_KEY_BYTES, KDF_TOKEN_PEPPER, AUTH_KDF_CONTEXT,
                               master);
    crypto_kdf_derive_from_key(a->backup_pepper, AUTH_KEY_BYTES, KDF_BACKUP_PEPPER,
                               AUTH_KDF_CONTEXT, master);
    /* The JWT key is JWT_SECRET's bytes as given, as every HS256 verifier expects: operators
     * can check tokens with standard tools. */
    a->jwt_key = (const uint8_t *)cfg->jwt_secret;
    a->jwt_key_len = strlen(cfg->jwt_secret);
    rc = 0;
done:
    sodium_memzero(master, sizeof(master));
    return rc;
}

static void auth_rule_set(ratelimit_rule *r, const char *name, const char *setting,
                          const struct config *cfg)
{
    long cap = cfg->rate_limit_max, period = cfg->rate_limit_window;

    if (setting)
        config_bucket_parse(setting, &cap, &period); /* checked by config_load */
    r->name = name;
    r->capacity = (uint32_t)cap;
    r->period_s = (uint32_t)period;
}

static void auth_rules(struct auth_state *a, const struct config *c)
{
    auth_rule_set(&a->rules[RULE_REGISTER_IP], "register_ip", c->rl_register_ip, c);
    auth_rule_set(&a->rules[RULE_LOGIN_IP], "login_ip", c->rl_login_ip, c);
    auth_rule_set(&a->rules[RULE_LOGIN_ACCOUNT], "login_account", c->rl_login_account, c);
    auth_rule_set(&a->rules[RULE_REFRESH_IP], "refresh_ip", c->rl_refresh_ip, c);
    auth_rule_set(&a->rules[RULE_FORGOT_IP], "forgot_ip", c->rl_forgot_ip, c);
    auth_rule_set(&a->rules[RULE_FORGOT_ACCOUNT], "forgot_account", c->rl_forgot_account, c);
    auth_rule_set(&a->rules[RULE_MFA_IP], "mfa_ip", c->rl_mfa_ip, c);
    auth_rule_set(&a->rules[RULE_MFA_ACCOUNT], "mfa_account", c->rl_mfa_account, c);
    auth_rule_set(&a->rules[RULE_EMAIL_IP], "email_token_ip", c->rl_email_ip, c);
    auth_rule_set(&a->rules[RULE_AVATAR_USER], "avatar_user", c->rl_avatar, c);
}

static int auth_limits(struct auth_state *a, const struct config *c, char *err, size_t errlen)
{
    loginguard_policy lp = {
        (uint32_t)c->login_free_failures, (uint32_t)c->login_delay_base,
        (uint32_t)c->login_delay_max,     (uint32_t)c->login_lock_failures,
        (uint32_t)c->login_lock_seconds,  (uint32_t)c->login_forget_seconds,
    };

    auth_rules(a, c);
    a->rl = ratelimit_create((size_t)c->rate_limit_table);
    a->guard = loginguard_create(&lp, (size_t)c->rate_limit_table);
    if (!a->rl || !a->guard) {
        snprintf(err, errlen, "LOGIN_*: the login guard settings are not consistent");
        return -1;
    }
    return 0;
}

static mail_tls auth_mail_tls(const char *s)
{
    if (s && !strcmp(s, "starttls"))
        return MAIL_TLS_STARTTLS;
    if (s && !strcmp(s, "none"))
        return MAIL_TLS_NONE;
    return MAIL_TLS_AUTO;
}

static int auth_mail(struct auth_state *a, const struct config *c, char *err, size_t errlen)
{
    char dir[4200];

    if (c->smtp_url) {
        mail_smtp_config sc = {.url = c->smtp_url,
                               .from = c->mail_from,
                               .tls = auth_mail_tls(c->smtp_tls),
                               .timeout_s = c->smtp_timeout,
                               .ca_file = c->smtp_ca_file};

        /* Loads lib/sotto_mail_smtp.so and runs curl_global_init: here, on the main
         * thread at start, before any worker exists (not thread-safe in older libcurl). */
        if (mail_smtp_load(c->module_dir, err, errlen))
            return -1;
        a->mail = mail_smtp_create(&sc);
        if (!a->mail)
            snprintf(err, errlen,
                     "SMTP_URL: not usable with SMTP_TLS=%s (plain SMTP "
                     "with a password only to loopback)",
                     c->smtp_tls);
        return a->mail ? 0 : -1;
    }
    snprintf(dir, sizeof(dir), "%s/outbox", c->data_dir);
    a->mail = mail_outbox_create(dir, c->mail_from);
    if (!a->mail)
        snprintf(err, errlen, "DATA_DIR: cannot create the mail outbox %s", dir);
    return a->mail ? 0 : -1;
}

/* PUBLIC_URL without a trailing slash (default http://localhost:<port listened on>) and
 * its origin. */
static void auth_public_url(struct auth_state *a, const struct config *c, int port)
{
    const char *host;
    size_t n;

    if (c->public_url)
        snprintf(a->public_url, sizeof(a->public_url), "%s", c->public_url);
    else /* the scheme matters: it is the one the refresh cookie's Origin check expects */
        snprintf(a->public_url, sizeof(a->public_url), "%s://localhost:%d",
                 c->tls_cert_file ? "https" : "http", port);
    n = strlen(a->public_url);
    while (n > 0 && a->public_url[n - 1] == '/')
        a->public_url[--n] = 0;
    host = strstr(a->public_url, "://");
    n = host ? (size_t)(strchrnul(host + 3, '/') - a->public_url) : 0;
    if (n >= sizeof(a->public_origin))
        n = 0;
    memcpy(a->public_origin, a->public_url, n);
    a->public_origin[n] = 0;
}

static int auth_passwords(struct auth_state *a, const struct config *c, char *err, size_t errlen)
{
    password_params pp = {(uint32_t)c->argon2_time_cost, (uint32_t)c->argon2_memory_cost,
                          (uint32_t)c->argon2_parallelism};

    a->pw = password_ctx_create(&pp, (unsigned)c->argon2_max_concurrent);
    if (!a->pw)
        snprintf(err, errlen, "ARGON2_MEMORY_COST: the Argon2id parameters were refused");
    return a->pw ? 0 : -1;
}

/* The Argon2 gate: at most ARGON2_MAX_CONCURRENT hashes at once, leaving at least one worker
 * free (a gate wait also holds a worker); waiting jobs bounded by QUEUE_MAX; per address
 * ARGON2_PER_ADDRESS (default: the gate's width), per account ACCOUNTS_ARGON2_PER_ACCOUNT. */
#define ACCOUNTS_ARGON2_PER_ACCOUNT 2

static struct job_gate *auth_gate(const struct config *c)
{
    unsigned running = (unsigned)(c->argon2_max_concurrent < c->workers ? c->argon2_max_concurrent
                                  : c->workers > 1                      ? c->workers - 1
                                                                        : 1);

    return job_gate_create(running, (size_t)c->queue_max,
                           (unsigned)(c->argon2_per_address ? c->argon2_per_address : running),
                           ACCOUNTS_ARGON2_PER_ACCOUNT);
}

struct auth_state *auth_create(struct server *srv, char *err, size_t errlen)
{
    const struct config *c = srv->cfg;
    struct auth_state *a = calloc(1, sizeof(*a));

    if (!a)
        abort();
    a->srv = srv;
    a->access_ttl = c->access_token_ttl;
    a->heavy = auth_gate(c);
    a->refresh_ttl = c->refresh_token_ttl;
    if (auth_derive_keys(a, c, err, errlen) || auth_limits(a, c, err, errlen) ||
        auth_mail(a, c, err, errlen) || auth_passwords(a, c, err, errlen))
        goto fail;
    log_info("auth.ready", "mail=%s argon2_m=%ld argon2_t=%ld argon2_p=%ld gate=%ld",
             a->mail->iface->name, c->argon2_memory_cost, c->argon2_time_cost,
             c->argon2_parallelism, c->argon2_max_concurrent);
    return a;
fail:
    auth_destroy(a);
    return NULL;
}

void auth_destroy(struct auth_state *a)
{
    if (!a)
        return;
    password_ctx_destroy(a->pw);
    ratelimit_destroy(a->rl);
    loginguard_destroy(a->guard);
    mail_destroy(a->mail);
    sodium_free(a->mfa_key);
    sodium_free(a->token_pepper);
    sodium_free(a->backup_pepper);
    job_gate_destroy(a->heavy);
    free(a->rules_json);
    free(a);
}

int auth_limit(struct auth_state *a, struct http_req *req, enum auth_rule rule, const char *key)
{
    uint32_t retry = 1;
    int rc;

    if (!key || !*key)
        return 0;
    rc = ratelimit_take(a->rl, &a->rules[rule], key, strlen(key), clock_mono_ms(), &retry);
    if (rc == 0)
        return 0;
    log_info("auth.rate_limited", "rid=%s rule=%s", http_request_id(req), a->rules[rule].name);
    http_respond_rate_limited(req, "rate_limited", retry);
    return -1;
}

/* A Host header as an origin's authority: host[:port], nothing that could end it early. */
static bool host_ok(const char *h, int n) { return n > 0 && strcspn(h, "/@\\?# \t") == (size_t)n; }

/* Same origin as the request: the configured scheme and the Host the browser sent. A page of
 * another site cannot send the cookie with its own Origin, and a name that merely resolves to
 * this server (DNS rebinding) never had the cookie: it is the browser's, per host. */
static bool own_origin(const struct auth_state *a, struct http_req *req, const char *origin)
{
    const char *sep = strstr(a->public_origin, "://");
    size_t scheme = sep ? (size_t)(sep - a->public_origin) + 3 : 0;
    char host[CORS_ORIGIN_MAX];
    int n = req ? http_header(req, "host", host, sizeof(host)) : -1;

    return scheme && host_ok(host, n) && !strncasecmp(origin, a->public_origin, scheme) &&
           !strcasecmp(origin + scheme, host);
}

bool auth_origin_allowed(const struct auth_state *a, struct http_req *req, const char *origin)
{
    if (!origin || !*origin)
        return false;
    if (a->public_origin[0] && !strcasecmp(origin, a->public_origin))
        return true;
    return own_origin(a, req, origin) || cors_origin_allowed(&a->srv->cors, origin);
}

int auth_routes(struct server *srv, struct auth_state *a)
{
    if (a)                                       /* NULL for `sottod --routes` */
        auth_public_url(a, srv->cfg, srv->port); /* the port is known once listening */
    if (auth_hook_install(srv, a ? a->jwt_key : NULL, a ? a->jwt_key_len : 0) ||
        register_routes(srv, a) || login_routes(srv, a) || session_routes(srv, a) ||
        email_routes(srv, a) || mfa_routes(srv, a) || users_routes(srv, a) ||
        rules_routes(srv, a) || change_password_routes(srv, a) || delete_account_routes(srv, a) ||
        avatar_routes(srv, a))
        return -1;
    return 0;
}
