/* Passwords: Argon2id (libargon2) as encoded PHC strings, a dummy verify for unknown
 * accounts so the answer takes the same time, the password policy, and a counting gate
 * that bounds how many hashes run at once (each takes m_cost KiB of memory).
 * Thread-safe; meant for worker threads only (a hash takes tens to hundreds of ms). */
#ifndef SOTTO_AUTH_PASSWORD_H
#define SOTTO_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_MIN_CHARS 10U /* counted as UTF-8 code points */
#define PASSWORD_MAX_CHARS 1024U
#define PASSWORD_MAX_BYTES (PASSWORD_MAX_CHARS * 4U)
#define PASSWORD_ENCODED_MAX 192U /* buffer for an encoded hash, NUL included */
#define PASSWORD_SALT_BYTES 16U
#define PASSWORD_HASH_BYTES 32U
/* Upper bounds accepted from configuration and from stored hashes (memory safety). */
#define PASSWORD_M_COST_MAX_KIB (1024U * 1024U) /* 1 GiB */
#define PASSWORD_T_COST_MAX 16U
#define PASSWORD_PARALLELISM_MAX 16U

typedef struct password_params {
    uint32_t t_cost;      /* ARGON2_TIME_COST, default 3 */
    uint32_t m_cost_kib;  /* ARGON2_MEMORY_COST (KiB), default 65536 (64 MiB) */
    uint32_t parallelism; /* ARGON2_PARALLELISM, default 4 */
} password_params;

/* clang-format off */
#define PASSWORD_PARAMS_DEFAULT {3U, 65536U, 4U}
/* clang-format on */

typedef struct password_ctx password_ctx;

/* Creates a context: validates params (t 1..16, m 8*p..1 GiB, p 1..16), max_concurrent 1..256
 * (ARGON2_MAX_CONCURRENT), and computes the dummy hash (so this call itself takes one hash).
 * Returns NULL on bad arguments or allocation failure. Free with password_ctx_destroy. */
password_ctx *password_ctx_create(const password_params *params, unsigned max_concurrent);

/* Frees ctx (NULL is fine). No hash may be running in it. */
void password_ctx_destroy(password_ctx *ctx);

/* The most hashes ever in flight at once in ctx (for metrics and tests); <= max_concurrent. */
unsigned password_ctx_peak(password_ctx *ctx);

/* Hashes pw[0..len) with a fresh random salt into out (NUL-terminated PHC string,
 * "$argon2id$v=19$m=...,t=...,p=...$salt$hash"). Blocks while max_concurrent hashes run.
 * Returns 0, or -1 (bad args, len > PASSWORD_MAX_BYTES, out_size < PASSWORD_ENCODED_MAX). */
int password_hash(password_ctx *ctx, const char *pw, size_t len, char *out, size_t out_size);

/* Verifies pw against encoded (a stored hash). encoded NULL means "unknown account": a hash of
 * the same cost is verified and -1 returned, so both paths take about the same time.
 * A stored hash whose parameters exceed the maxima above is refused without hashing.
 * Returns 0 on match, -1 otherwise (mismatch, malformed hash, or error: the caller cannot and
 * need not tell which). */
int password_verify(password_ctx *ctx, const char *encoded, const char *pw, size_t len);

/* 1 if encoded was made with parameters other than ctx's (rehash after a successful login),
 * 0 if not, -1 if its prefix or parameters are not ones we accept (only the parameters are
 * read here; password_verify checks the rest). */
int password_needs_rehash(const password_ctx *ctx, const char *encoded);

typedef enum password_policy {
    PASSWORD_POLICY_OK = 0,
    PASSWORD_POLICY_TOO_SHORT,
    PASSWORD_POLICY_TOO_LONG,
    PASSWORD_POLICY_INVALID_UTF8, /* also any NUL byte */
    PASSWORD_POLICY_EQUALS_EMAIL,
    PASSWORD_POLICY_EQUALS_USERNAME
} password_policy;

/* Checks pw[0..len): valid UTF-8 (no overlong forms, surrogates or NUL), 10..1,024 code
 * points, not equal to email or username ignoring ASCII case (either may be NULL). */
password_policy password_check_policy(const char *pw, size_t len, const char *email,
                                      const char *username);

/* The `reason` for validation_failed details ("too_short", ...). Never NULL. */
const char *password_policy_reason(password_policy p);

#endif
