/* key=value logging to stderr. A line is built in a stack buffer and written with one
 * write(2): no lock, no interleaving, nothing buffered to lose on a crash. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#define LOG_LINE_MAX 2048

static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level level)
{
	log_min = level;
}

bool log_enabled(enum log_level level)
{
	return level >= log_min;
}

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

__attribute__((format(printf, 3, 0)))
static void log_vemit(enum log_level level, const char *event, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n, start;
	int m;

	n = (size_t)snprintf(line, sizeof(line), "ts=");
	n += log_timestamp(line + n, sizeof(line) - n);
	m = snprintf(line + n, sizeof(line) - n, " level=%s event=%s ", level_names[level], event);
	n += (size_t)m;
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
	log_vemit(level, event, fmt, ap);
	va_end(ap);
}

void log_notice(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, event, fmt, ap);
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
	log_emit(lws_level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "msg=%s",
		 log_quote((char[512]){0}, 512, clean));
}

void log_bridge_lws(enum log_level level)
{
	lws_set_log_level(level == LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, log_lws_emit);
}
