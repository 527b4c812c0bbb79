/* Logging: one line per event on stderr, key=value, with the request id where there is one.
 * Never pass a secret, token, password, key or message body to these functions. */
#ifndef SOTTO_LOG_H
#define SOTTO_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

void log_init(enum log_level level);
bool log_enabled(enum log_level level);

/* Writes "ts=... level=... event=<event> <fmt...>\n" with one write(2), so lines from the
 * loop and the workers never interleave. Control characters become '?'. Any thread. */
void log_emit(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As log_emit at level info, whatever LOG_LEVEL says: for the one line a supervisor may
 * need (server.start naming the port the kernel chose for PORT=0). */
void log_notice(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(ev, ...)                        \
    do {                                          \
        if (log_enabled(LOG_DEBUG))               \
            log_emit(LOG_DEBUG, ev, __VA_ARGS__); \
    } while (0)
/* As log_emit, at most a few lines a second per event (the rest counted, "suppressed=N"). */
void log_emit_limited(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define log_info_limited(ev, ...)                        \
    do {                                                 \
        if (log_enabled(LOG_INFO))                       \
            log_emit_limited(LOG_INFO, ev, __VA_ARGS__); \
    } while (0)
#define log_info(ev, ...)                        \
    do {                                         \
        if (log_enabled(LOG_INFO))               \
            log_emit(LOG_INFO, ev, __VA_ARGS__); \
    } while (0)
#define log_warn(ev, ...) log_emit(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_emit(LOG_ERROR, ev, __VA_ARGS__)

/* Formats an untrusted value for a log line: quoted, with '"' and '\' escaped and cut at
 * buflen. Returns buf. */
const char *log_quote(char *buf, size_t buflen, const char *s);

/* Routes libwebsockets' own messages into our format (errors; warnings too at debug). */
void log_bridge_lws(enum log_level level);

#endif
