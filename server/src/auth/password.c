/* Argon2id hashing behind a counting semaphore, dummy verify, and the password policy. */
#include "password.h"

#include <argon2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct password_ctx {
    password_params params;
    pthread_mutex_t mu; /* guards the gate counters */
    pthread_cond_t cv;
    unsigned limit, in_flight, peak;
    char dummy[PASSWORD_ENCODED_MAX];
};

static int password_params_ok(const password_params *p)
{
    return p->t_cost >= 1 && p->t_cost <= PASSWORD_T_COST_MAX && p->parallelism >= 1 &&
           p->parallelism <= PASSWORD_PARALLELISM_MAX && p->m_cost_kib >= 8U * p->parallelism &&
           p->m_cost_kib <= PASSWORD_M_COST_MAX_KIB;
}

/* A counting semaphore: at most ctx->limit hashes in flight. */
static void password_gate_enter(password_ctx *ctx)
{
    pthread_mutex_lock(&ctx->mu);
    while (ctx->in_flight >= ctx->limit)
        pthread_cond_wait(&ctx->cv, &ctx->mu);
    if (++ctx->in_flight > ctx->peak)
        ctx->peak = ctx->in_flight;
    pthread_mutex_unlock(&ctx->mu);
}

static void password_gate_leave(password_ctx *ctx)
{
    pthread_mutex_lock(&ctx->mu);
    ctx->in_flight--;
    pthread_cond_signal(&ctx->cv);
    pthread_mutex_unlock(&ctx->mu);
}

unsigned password_ctx_peak(password_ctx *ctx)
{
    unsigned peak;

    pthread_mutex_lock(&ctx->mu);
    peak = ctx->peak;
    pthread_mutex_unlock(&ctx->mu);
    return peak;
}

static int password_hash_raw(password_ctx *ctx, const password_params *p, const char *pw,
                             size_t len, char *out, size_t out_size)
{
    uint8_t salt[PASSWORD_SALT_BYTES];
    int rc;

    randombytes_buf(salt, sizeof salt);
    password_gate_enter(ctx);
    rc = argon2id_hash_encoded(p->t_cost, p->m_cost_kib, p->parallelism, pw, len, salt, sizeof salt,
                               PASSWORD_HASH_BYTES, out, out_size);
    password_gate_leave(ctx);
    return rc == ARGON2_OK ? 0 : -1;
}

/* The hash an unknown account is checked against: the real parameters around a random salt
 * and a random "hash". Verifying against it costs one full Argon2id run, like a wrong password,
 * and no password can match it (that would need a 256-bit preimage). Made without hashing, so
 * start-up does not pay a 64 MiB Argon2 run before the first connection is accepted. */
static int password_dummy_encode(const password_params *p, char *out, size_t out_size)
{
    uint8_t salt[PASSWORD_SALT_BYTES], hash[PASSWORD_HASH_BYTES];
    char salt64[sodium_base64_ENCODED_LEN(PASSWORD_SALT_BYTES,
                                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    char hash64[sodium_base64_ENCODED_LEN(PASSWORD_HASH_BYTES,
                                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    int n;

    randombytes_buf(salt, sizeof salt);
    randombytes_buf(hash, sizeof hash);
    sodium_bin2base64(salt64, sizeof salt64, salt, sizeof salt,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(hash64, sizeof hash64, hash, sizeof hash,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    n = snprintf(out, out_size, "$argon2id$v=19$m=%u,t=%u,p=%u$%s$%s", p->m_cost_kib, p->t_cost,
                 p->parallelism, salt64, hash64);
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}

password_ctx *password_ctx_create(const password_params *params, unsigned max_concurrent)
{
    password_ctx *ctx = NULL;

    if (params == NULL || !password_params_ok(params) || max_concurrent < 1 || max_concurrent > 256)
        return NULL;
    if ((ctx = calloc(1, sizeof *ctx)) == NULL)
        return NULL;
    ctx->params = *params;
    ctx->limit = max_concurrent;
    if (pthread_mutex_init(&ctx->mu, NULL) != 0) {
        free(ctx);
        return NULL;
    }
    if (pthread_cond_init(&ctx->cv, NULL) != 0) {
        pthread_mutex_destroy(&ctx->mu);
        free(ctx);
        return NULL;
    }
    if (password_dummy_encode(params, ctx->dummy, sizeof ctx->dummy) != 0) {
        password_ctx_destroy(ctx);
        ctx = NULL;
    }
    return ctx;
}

void password_ctx_destroy(password_ctx *ctx)
{
    if (ctx == NULL)
        return;
    pthread_cond_destroy(&ctx->cv);
    pthread_mutex_destroy(&ctx->mu);
    sodium_memzero(ctx->dummy, sizeof ctx->dummy);
    free(ctx);
}

int password_hash(password_ctx *ctx, const char *pw, size_t len, char *out, size_t out_size)
{
    if (ctx == NULL || pw == NULL || out == NULL || len > PASSWORD_MAX_BYTES ||
        out_size < PASSWORD_ENCODED_MAX)
        return -1;
    if (password_hash_raw(ctx, &ctx->params, pw, len, out, out_size) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* Reads a decimal u32 at *s, advancing it. */
static int password_read_u32(const char **s, uint32_t *v)
{
    uint64_t acc = 0;
    const char *p = *s;

    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        acc = acc * 10 + (uint64_t)(*p++ - '0');
        if (acc > UINT32_MAX)
            return -1;
    }
    *s = p;
    *v = (uint32_t)acc;
    return 0;
}

/* Parses the parameters of "$argon2id$v=19$m=M,t=T,p=P$..." and checks them. */
static int password_parse_params(const char *encoded, password_params *p)
{
    static const char prefix[] = "$argon2id$v=19$m=";
    const char *s = encoded;

    if (encoded == NULL || strnlen(encoded, PASSWORD_ENCODED_MAX) >= PASSWORD_ENCODED_MAX ||
        strncmp(s, prefix, sizeof prefix - 1) != 0)
        return -1;
    s += sizeof prefix - 1;
    if (password_read_u32(&s, &p->m_cost_kib) || strncmp(s, ",t=", 3) != 0)
        return -1;
    s += 3;
    if (password_read_u32(&s, &p->t_cost) || strncmp(s, ",p=", 3) != 0)
        return -1;
    s += 3;
    if (password_read_u32(&s, &p->parallelism) || *s != '$')
        return -1;
    return password_params_ok(p) ? 0 : -1;
}

int password_verify(password_ctx *ctx, const char *encoded, const char *pw, size_t len)
{
    password_params p;
    int known = encoded != NULL;
    int rc;

    if (ctx == NULL || pw == NULL || len > PASSWORD_MAX_BYTES)
        return -1;
    if (!known)
        encoded = ctx->dummy;
    if (password_parse_params(encoded, &p) != 0)
        return -1;
    password_gate_enter(ctx);
    rc = argon2id_verify(encoded, pw, len);
    password_gate_leave(ctx);
    return (known && rc == ARGON2_OK) ? 0 : -1;
}

int password_needs_rehash(const password_ctx *ctx, const char *encoded)
{
    password_params p;

    if (ctx == NULL || password_parse_params(encoded, &p) != 0)
        return -1;
    return (p.t_cost != ctx->params.t_cost || p.m_cost_kib != ctx->params.m_cost_kib ||
            p.parallelism != ctx->params.parallelism);
}

/* Equal ignoring ASCII case; non-ASCII bytes must match exactly. */
static int password_eq_nocase(const char *pw, size_t len, const char *other)
{
    size_t n;
    unsigned char diff = 0;

    if (other == NULL || (n = strlen(other)) != len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)pw[i], b = (unsigned char)other[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        diff |= (unsigned char)(a ^ b);
    }
    return diff == 0;
}

password_policy password_check_policy(const char *pw, size_t len, const char *email,
                                      const char *username)
{
    size_t chars = 0;

    if (pw == NULL || utf8_count(pw, len, &chars) != 0)
        return PASSWORD_POLICY_INVALID_UTF8;
    if (chars < PASSWORD_MIN_CHARS)
        return PASSWORD_POLICY_TOO_SHORT;
    if (chars > PASSWORD_MAX_CHARS)
        return PASSWORD_POLICY_TOO_LONG;
    if (password_eq_nocase(pw, len, email))
        return PASSWORD_POLICY_EQUALS_EMAIL;
    if (password_eq_nocase(pw, len, username))
        return PASSWORD_POLICY_EQUALS_USERNAME;
    return PASSWORD_POLICY_OK;
}

const char *password_policy_reason(password_policy p)
{
    switch (p) {
    case PASSWORD_POLICY_OK: return "ok";
    case PASSWORD_POLICY_TOO_SHORT: return "too_short";
    case PASSWORD_POLICY_TOO_LONG: return "too_long";
    case PASSWORD_POLICY_INVALID_UTF8: return "invalid_utf8";
    case PASSWORD_POLICY_EQUALS_EMAIL: return "equals_email";
    case PASSWORD_POLICY_EQUALS_USERNAME: return "equals_username";
    }
    return "invalid";
}
