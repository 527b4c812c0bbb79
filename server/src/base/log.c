/* key=value logging to stderr. A line is built in a stack buffer and written with one
 * write(2): no lock, no interleaving, nothing buffered to lose on a crash.
 *
 * Warnings, errors, libwebsockets' lines and the *_limited calls are rate-limited per event
 * name (LOG_BURST a second, the rest counted and reported as "suppressed=N" on the next line
 * of that event): a condition that repeats on every turn of the loop (accept() failing at
 * the descriptor limit wrote 176 MB in 4 s) cannot fill the disk or take the CPU. */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#define LOG_LINE_MAX 2048
#define LOG_BURST 10 /* lines per second per event, for the limited kinds */
#define LOG_SLOTS 64 /* events hashed into this many limiters (a collision shares one) */

struct log_limiter {
    atomic_llong second;
    atomic_uint count;      /* lines this second */
    atomic_uint suppressed; /* dropped since the last line written */
};

static struct log_limiter log_limiters[LOG_SLOTS];

static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level level) { log_min = level; }

bool log_enabled(enum log_level level) { return level >= log_min; }

static size_t log_timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return n;
}

/* Whether a line of this event may go out now; *dropped gets how many were suppressed
 * before it. Approximate under races between threads, never blocking. */
static bool log_admit(const char *event, unsigned *dropped)
{
    struct log_limiter *l;
    struct timespec ts;
    uint32_t h = 2166136261u;
    long long now;

    for (const char *p = event; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    l = &log_limiters[h % LOG_SLOTS];
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    now = (long long)ts.tv_sec;
    if (atomic_exchange(&l->second, now) != now)
        atomic_store(&l->count, 0);
    if (atomic_fetch_add(&l->count, 1) >= LOG_BURST) {
        atomic_fetch_add(&l->suppressed, 1);
        return false;
    }
    *dropped = atomic_exchange(&l->suppressed, 0);
    return true;
}

__attribute__((format(printf, 4, 0))) static void
log_vemit(enum log_level level, bool limited, const char *event, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    size_t n, start;
    unsigned dropped = 0;
    int m;

    if ((limited || level >= LOG_WARN) && !log_admit(event, &dropped))
        return;
    n = (size_t)snprintf(line, sizeof(line), "ts=");
    n += log_timestamp(line + n, sizeof(line) - n);
    m = snprintf(line + n, sizeof(line) - n, " level=%s event=%s ", level_names[level], event);
    n += (size_t)m;
    if (dropped) {
        m = snprintf(line + n, sizeof(line) - n, "suppressed=%u ", dropped);
        n += (size_t)m;
    }
    start = n;
    m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (m < 0)
        m = 0;
    n = n + (size_t)m >= sizeof(line) - 1 ? sizeof(line) - 2 : n + (size_t)m;
    for (size_t i = start; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return; /* nowhere left to report it */
}

void log_emit(enum log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    log_vemit(level, false, event, fmt, ap);
    va_end(ap);
}

void log_emit_limited(enum log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    log_vemit(level, true, event, fmt, ap);
    va_end(ap);
}

void log_notice(const char *event, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vemit(LOG_INFO, false, event, fmt, ap);
    va_end(ap);
}

const char *log_quote(char *buf, size_t buflen, const char *s)
{
    size_t o = 0;

    if (buflen < 3) {
        if (buflen)
            buf[0] = 0;
        return buf;
    }
    buf[o++] = '"';
    for (; s && *s && o + 3 < buflen; s++) {
        if (*s == '"' || *s == '\\')
            buf[o++] = '\\';
        buf[o++] = *s;
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}

static void log_lws_emit(int lws_level, const char *msg)
{
    char clean[512];
    size_t n = strlen(msg);

    /* lws lines end in "\n" and carry their own timestamp prefix in some builds. */
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    if (n >= sizeof(clean))
        n = sizeof(clean) - 1;
    memcpy(clean, msg, n);
    clean[n] = 0;
    log_emit_limited(lws_level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "msg=%s",
                     log_quote((char[512]){0}, 512, clean));
}

void log_bridge_lws(enum log_level level)
{
    lws_set_log_level(level == LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, log_lws_emit);
}
