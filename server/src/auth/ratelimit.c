/* Token buckets and the failed-login guard on a bounded set-associative table. */
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RL_WAYS 8U
#define RL_ID_BYTES 16U

typedef struct rl_slot {
    uint8_t id[RL_ID_BYTES];
    int used;
    int64_t touched_ms; /* last use, for eviction; buckets also refill from it */
    int64_t units;      /* bucket: tokens scaled by period_ms (exact integer refill) */
    uint32_t failures;  /* guard */
    int64_t last_failure_ms;
    int64_t locked_until_ms;
} rl_slot;

typedef struct rl_table {
    pthread_mutex_t mu;
    uint8_t hash_key[crypto_generichash_KEYBYTES];
    size_t sets;
    rl_slot *slots;
} rl_table;

struct ratelimit {
    rl_table t;
};

struct loginguard {
    rl_table t;
    loginguard_policy policy;
};

static int rl_table_init(rl_table *t, size_t max_entries)
{
    if (max_entries < RATELIMIT_MIN_ENTRIES || max_entries > RATELIMIT_MAX_ENTRIES)
        return -1;
    t->sets = max_entries / RL_WAYS;
    if ((t->slots = calloc(t->sets * RL_WAYS, sizeof *t->slots)) == NULL)
        return -1;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->slots);
        return -1;
    }
    randombytes_buf(t->hash_key, sizeof t->hash_key);
    return 0;
}

static void rl_table_free(rl_table *t)
{
    pthread_mutex_destroy(&t->mu);
    sodium_memzero(t->hash_key, sizeof t->hash_key);
    free(t->slots);
}

static int rl_digest(const rl_table *t, const char *name, const char *key, size_t len,
                     uint8_t id[RL_ID_BYTES])
{
    crypto_generichash_state st;

    if (key == NULL || len == 0 || len > RATELIMIT_KEY_MAX)
        return -1;
    crypto_generichash_init(&st, t->hash_key, sizeof t->hash_key, RL_ID_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
    crypto_generichash_update(&st, (const unsigned char *)key, len);
    crypto_generichash_final(&st, id, RL_ID_BYTES);
    return 0;
}

/* Finds the slot for id, or claims one (a free way, else the least recently used) and marks
 * it fresh. Called with the mutex held. */
static rl_slot *rl_lookup(rl_table *t, const uint8_t id[RL_ID_BYTES], int *fresh)
{
    uint64_t h;
    rl_slot *set, *victim = NULL;

    memcpy(&h, id, sizeof h);
    set = t->slots + (h % t->sets) * RL_WAYS;
    for (size_t w = 0; w < RL_WAYS; w++)
        if (set[w].used && memcmp(set[w].id, id, RL_ID_BYTES) == 0) {
            *fresh = 0;
            return &set[w];
        }
    for (size_t w = 0; w < RL_WAYS; w++)
        if (victim == NULL || !set[w].used ||
            (victim->used && set[w].touched_ms < victim->touched_ms))
            victim = &set[w];
    memset(victim, 0, sizeof *victim);
    memcpy(victim->id, id, RL_ID_BYTES);
    victim->used = 1;
    *fresh = 1;
    return victim;
}

static uint32_t rl_ms_to_s(int64_t ms)
{
    int64_t s = (ms + 999) / 1000;
    return s < 1 ? 1U : (s > UINT32_MAX ? UINT32_MAX : (uint32_t)s);
}

ratelimit *ratelimit_create(size_t max_entries)
{
    ratelimit *rl = calloc(1, sizeof *rl);

    if (rl != NULL && rl_table_init(&rl->t, max_entries) != 0) {
        free(rl);
        rl = NULL;
    }
    return rl;
}

void ratelimit_destroy(ratelimit *rl)
{
    if (rl == NULL)
        return;
    rl_table_free(&rl->t);
    free(rl);
}

static int rl_rule_ok(const ratelimit_rule *r)
{
    return r != NULL && r->name != NULL && r->capacity >= 1 && r->capacity <= 1000000U &&
           r->period_s >= 1 && r->period_s <= 86400U;
}

/* Refills and takes one token. One token = period_ms units; refill = capacity units per ms. */
static int rl_bucket_take(rl_slot *s, const ratelimit_rule *r, int fresh, int64_t now_ms,
                          uint32_t *retry_after_s)
{
    int64_t period_ms = (int64_t)r->period_s * 1000, full = (int64_t)r->capacity * period_ms;
    int64_t elapsed = now_ms - s->touched_ms;

    if (fresh)
        s->units = full;
    else if (elapsed > 0)
        s->units = elapsed >= period_ms ? full : s->units + elapsed * (int64_t)r->capacity;
    if (s->units > full)
        s->units = full;
    if (fresh || now_ms > s->touched_ms)
        s->touched_ms = now_ms;
    if (s->units >= period_ms) {
        s->units -= period_ms;
        return 0;
    }
    *retry_after_s = rl_ms_to_s((period_ms - s->units + r->capacity - 1) / r->capacity);
    return 1;
}

int ratelimit_take(ratelimit *rl, const ratelimit_rule *rule, const char *key, size_t len,
                   int64_t now_ms, uint32_t *retry_after_s)
{
    uint8_t id[RL_ID_BYTES];
    int fresh = 0, rc;
    rl_slot *s;

    if (retry_after_s != NULL)
        *retry_after_s = 1;
    if (rl == NULL || retry_after_s == NULL || !rl_rule_ok(rule) ||
        rl_digest(&rl->t, rule->name, key, len, id) != 0)
        return -1;
    pthread_mutex_lock(&rl->t.mu);
    s = rl_lookup(&rl->t, id, &fresh); /* sets fresh: keep it a separate statement */
    rc = rl_bucket_take(s, rule, fresh, now_ms, retry_after_s);
    pthread_mutex_unlock(&rl->t.mu);
    if (rc == 0)
        *retry_after_s = 0;
    return rc;
}

static int lg_policy_ok(const loginguard_policy *p)
{
    return p != NULL && p->lock_failures > p->free_failures && p->lock_failures <= 1000 &&
           p->base_delay_s >= 1 && p->max_delay_s >= p->base_delay_s && p->max_delay_s <= 86400 &&
           p->lock_s >= 1 && p->lock_s <= 7 * 86400 && p->forget_s >= 1 &&
           p->forget_s <= 30 * 86400;
}

loginguard *loginguard_create(const loginguard_policy *policy, size_t max_entries)
{
    loginguard *lg;

    if (!lg_policy_ok(policy) || (lg = calloc(1, sizeof *lg)) == NULL)
        return NULL;
    lg->policy = *policy;
    if (rl_table_init(&lg->t, max_entries) != 0) {
        free(lg);
        return NULL;
    }
    return lg;
}

void loginguard_destroy(loginguard *lg)
{
    if (lg == NULL)
        return;
    rl_table_free(&lg->t);
    free(lg);
}

/* Drops a failure count that has aged out (but never an active lock). */
static void lg_age(const loginguard_policy *p, rl_slot *s, int64_t now_ms)
{
    if (s->failures > 0 && now_ms - s->last_failure_ms >= (int64_t)p->forget_s * 1000 &&
        now_ms >= s->locked_until_ms)
        s->failures = 0;
}

static int64_t lg_delay_ms(const loginguard_policy *p, uint32_t failures)
{
    uint32_t over = failures - p->free_failures - 1;
    int64_t d = (int64_t)p->base_delay_s << (over > 20 ? 20 : over);

    return (d > p->max_delay_s ? p->max_delay_s : d) * 1000;
}

static loginguard_verdict lg_judge(const loginguard_policy *p, const rl_slot *s, int64_t now_ms,
                                   uint32_t *retry_after_s)
{
    if (now_ms < s->locked_until_ms) {
        *retry_after_s = rl_ms_to_s(s->locked_until_ms - now_ms);
        return LOGINGUARD_LOCKED;
    }
    if (s->failures > p->free_failures) {
        int64_t next = s->last_failure_ms + lg_delay_ms(p, s->failures);
        if (now_ms < next) {
            *retry_after_s = rl_ms_to_s(next - now_ms);
            return LOGINGUARD_SLOW_DOWN;
        }
    }
    return LOGINGUARD_ALLOW;
}

loginguard_verdict loginguard_check(loginguard *lg, const char *account, size_t len,
                                    int device_proven, int64_t now_ms, uint32_t *retry_after_s)
{
    uint8_t id[RL_ID_BYTES];
    int fresh = 0;
    loginguard_verdict v;
    rl_slot *s;

    if (retry_after_s != NULL)
        *retry_after_s = 0;
    if (lg == NULL || retry_after_s == NULL || rl_digest(&lg->t, "login", account, len, id)) {
        if (retry_after_s != NULL)
            *retry_after_s = 1;
        return LOGINGUARD_SLOW_DOWN;
    }
    if (device_proven)
        return LOGINGUARD_ALLOW;
    pthread_mutex_lock(&lg->t.mu);
    s = rl_lookup(&lg->t, id, &fresh);
    s->touched_ms = now_ms;
    lg_age(&lg->policy, s, now_ms);
    v = lg_judge(&lg->policy, s, now_ms, retry_after_s);
    pthread_mutex_unlock(&lg->t.mu);
    return v;
}

loginguard_verdict loginguard_failure(loginguard *lg, const char *account, size_t len,
                                      int64_t now_ms)
{
    uint8_t id[RL_ID_BYTES];
    int fresh = 0;
    loginguard_verdict v = LOGINGUARD_ALLOW;
    rl_slot *s;

    if (lg == NULL || rl_digest(&lg->t, "login", account, len, id) != 0)
        return LOGINGUARD_ALLOW;
    pthread_mutex_lock(&lg->t.mu);
    s = rl_lookup(&lg->t, id, &fresh);
    s->touched_ms = now_ms;
    lg_age(&lg->policy, s, now_ms);
    s->failures++;
    s->last_failure_ms = now_ms;
    if (s->failures >= lg->policy.lock_failures && now_ms >= s->locked_until_ms) {
        s->locked_until_ms = now_ms + (int64_t)lg->policy.lock_s * 1000;
        s->failures = lg->policy.free_failures; /* after the lock, delays resume at once */
        v = LOGINGUARD_LOCKED;
    }
    pthread_mutex_unlock(&lg->t.mu);
    return v;
}

void loginguard_success(loginguard *lg, const char *account, size_t len)
{
    uint8_t id[RL_ID_BYTES];
    int fresh = 0;
    rl_slot *s;

    if (lg == NULL || rl_digest(&lg->t, "login", account, len, id) != 0)
        return;
    pthread_mutex_lock(&lg->t.mu);
    s = rl_lookup(&lg->t, id, &fresh);
    memset(s, 0, sizeof *s); /* frees the way */
    pthread_mutex_unlock(&lg->t.mu);
}
