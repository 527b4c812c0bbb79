/* Rate limits: token buckets keyed by string (an IP, an account, a (caller, target) pair),
 * and the failed-login guard (progressive delay, then lock-out).
 *
 * Memory is bounded: each table is a fixed set-associative array (8 ways per set) chosen at
 * creation; a new key replaces the least recently used entry of its set. Keys are never stored:
 * an entry holds a 128-bit BLAKE2b digest of (rule name, key) under a random per-table key, so
 * an outsider cannot aim many keys at one set to evict a chosen entry, and no IP or email sits
 * in memory. Time is passed in (milliseconds of a monotonic clock), so tests control it.
 * Thread-safe: each table has its own mutex (meant for the loop thread, safe from workers). */
#ifndef SOTTO_AUTH_RATELIMIT_H
#define SOTTO_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 512U /* longer keys are refused (the call is then limited) */
#define RATELIMIT_MIN_ENTRIES 8U
#define RATELIMIT_MAX_ENTRIES (1U << 24)

/* A bucket: `capacity` requests at once, refilled evenly at capacity per period_s.
 * From settings RATE_LIMIT_<NAME>=<capacity>/<period_s>, e.g. RATE_LIMIT_LOGIN_IP=10/60.
 * capacity 1..1,000,000, period_s 1..86,400. name: a short static label ("login_ip") that
 * keeps different rules' buckets apart even for the same key. */
typedef struct ratelimit_rule {
    const char *name;
    uint32_t capacity;
    uint32_t period_s;
} ratelimit_rule;

typedef struct ratelimit ratelimit;

/* Creates a table of about max_entries buckets (RATE_LIMIT_TABLE_SIZE; rounded down to a
 * multiple of 8, 8..2^24). NULL on bad size or out of memory. Free with ratelimit_destroy. */
ratelimit *ratelimit_create(size_t max_entries);
void ratelimit_destroy(ratelimit *rl);

/* Takes one token from the bucket (rule, key[0..len)) at now_ms. Returns 0 when allowed;
 * 1 when limited, with *retry_after_s (>= 1) the seconds until a token is back; -1 on a bad
 * rule or key (empty or longer than RATELIMIT_KEY_MAX), with *retry_after_s = 1: treat it as
 * limited. */
int ratelimit_take(ratelimit *rl, const ratelimit_rule *rule, const char *key, size_t len,
                   int64_t now_ms, uint32_t *retry_after_s);

/* Failed logins of one account. Failures beyond free_failures make the next attempt wait
 * base_delay_s * 2^(n - free_failures - 1) (capped at max_delay_s) after the last failure; at
 * lock_failures the account is locked for lock_s. A failure count is forgotten forget_s after
 * the last failure. Settings: LOGIN_FREE_FAILURES=5, LOGIN_DELAY_BASE=1, LOGIN_DELAY_MAX=60,
 * LOGIN_LOCK_FAILURES=20, LOGIN_LOCK_SECONDS=900, LOGIN_FORGET_SECONDS=3600.
 *
 * A stranger must not be able to lock the owner out: an attempt that carries a valid device
 * proof (bundle_verify_login_proof, for a device of that account) passes the guard whatever
 * its state; delay and lock-out apply to password-only attempts (new devices). The per-IP and
 * per-account buckets still apply to every attempt. */
typedef struct loginguard_policy {
    uint32_t free_failures;
    uint32_t base_delay_s;
    uint32_t max_delay_s;
    uint32_t lock_failures; /* > free_failures */
    uint32_t lock_s;
    uint32_t forget_s;
} loginguard_policy;

/* clang-format off */
#define LOGINGUARD_POLICY_DEFAULT {5U, 1U, 60U, 20U, 900U, 3600U}
/* clang-format on */

typedef enum loginguard_verdict {
    LOGINGUARD_ALLOW = 0,
    LOGINGUARD_SLOW_DOWN = 1, /* 429 rate_limited, Retry-After */
    LOGINGUARD_LOCKED = 2     /* 429 account_locked, Retry-After */
} loginguard_verdict;

typedef struct loginguard loginguard;

/* policy is copied. NULL on a bad policy or size, or out of memory. */
loginguard *loginguard_create(const loginguard_policy *policy, size_t max_entries);
void loginguard_destroy(loginguard *lg);

/* Before checking the password. device_proven: the request carried a valid device proof.
 * account: a stable account key (the user id, or the normalised email for unknown ones so
 * unknown and known emails behave alike). *retry_after_s is set unless ALLOW. A bad key
 * (empty, too long) gives LOGINGUARD_SLOW_DOWN. */
loginguard_verdict loginguard_check(loginguard *lg, const char *account, size_t len,
                                    int device_proven, int64_t now_ms, uint32_t *retry_after_s);

/* After a wrong password (or MFA code). Returns LOGINGUARD_LOCKED when this failure locked the
 * account (audit it), else LOGINGUARD_ALLOW. */
loginguard_verdict loginguard_failure(loginguard *lg, const char *account, size_t len,
                                      int64_t now_ms);

/* After a successful login: forgets the account's failures. */
void loginguard_success(loginguard *lg, const char *account, size_t len);

#endif
