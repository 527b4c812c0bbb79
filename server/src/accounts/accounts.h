/* The accounts-and-authentication module's shared state: the keys derived from the server
 * secrets, the password context (Argon2id with its concurrency gate), the rate-limit table
 * and login guard, and the mail transport. Created once in main before the loop starts;
 * every auth, users and keys handler gets it as its route arg. */
#ifndef SOTTO_AUTH_H
#define SOTTO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/password.h"
#include "auth/ratelimit.h"
#include "mail/mail.h"

struct server;
struct http_req;
struct job_gate;

enum auth_rule {
    RULE_REGISTER_IP,
    RULE_LOGIN_IP,
    RULE_LOGIN_ACCOUNT,
    RULE_REFRESH_IP,
    RULE_FORGOT_IP,
    RULE_FORGOT_ACCOUNT,
    RULE_MFA_IP,
    RULE_MFA_ACCOUNT,
    RULE_EMAIL_IP,
    RULE_AVATAR_USER,
    RULE_COUNT
};

#define AUTH_KEY_BYTES 32U
#define AUTH_URL_MAX 1100U
#define AUTH_ORIGIN_MAX 256U

struct auth_state {
    struct server *srv;
    password_ctx *pw;
    ratelimit *rl;
    loginguard *guard;
    mail *mail;
    ratelimit_rule rules[RULE_COUNT];
    /* sodium_malloc'd, wiped on destroy: derived with crypto_kdf from MFA_ENCRYPTION_KEY. */
    uint8_t *mfa_key;       /* secretbox key for TOTP secrets */
    uint8_t *token_pepper;  /* refresh, verify and reset token hashes */
    uint8_t *backup_pepper; /* backup code hashes (~40 bits each: a pepper matters) */
    const uint8_t *jwt_key; /* JWT_SECRET's bytes (config-owned, sodium_malloc) */
    size_t jwt_key_len;
    int64_t access_ttl, refresh_ttl; /* seconds */
    /* Admission of Argon2 jobs (api/gate.h): at most ARGON2_MAX_CONCURRENT in the pool at
     * once, each client's share bounded per address and per account. */
    struct job_gate *heavy;
    char public_url[AUTH_URL_MAX];       /* no trailing slash */
    char public_origin[AUTH_ORIGIN_MAX]; /* scheme://host[:port] of public_url */
    char *rules_json;                    /* GET /api/auth/rules' answer, built once (rules.c) */
};

/* Builds the state from srv->cfg (secrets loaded). NULL with a one-line reason naming the
 * variable in err. Takes one Argon2 hash (the dummy for unknown accounts). */
struct auth_state *auth_create(struct server *srv, char *err, size_t errlen);
void auth_destroy(struct auth_state *a);

/* Takes a token from (rule, key). Returns 0, or answers 429 rate_limited with Retry-After
 * and returns -1. Loop thread. An empty key is not limited (nothing to key on). */
int auth_limit(struct auth_state *a, struct http_req *req, enum auth_rule rule, const char *key);

/* Whether origin may use the refresh cookie: PUBLIC_URL's origin, the request's own origin
 * (PUBLIC_URL's scheme and the request's Host: the app opened at 127.0.0.1 or a LAN address),
 * or one in CORS_ORIGINS. */
bool auth_origin_allowed(const struct auth_state *a, struct http_req *req, const char *origin);

/* Registers every auth, users and keys route. Call once listening: the default PUBLIC_URL
 * names the port (srv->port). */
int auth_routes(struct server *srv, struct auth_state *a);

#endif
