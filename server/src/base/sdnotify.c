/* See sdnotify.h. The protocol is one datagram of "KEY=VALUE" lines to the unix socket named
 * by NOTIFY_SOCKET ('@' for the abstract namespace); sd_notify(3) documents it as stable. */
#include "base/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

static int sd_fd = -1;
static struct sockaddr_un sd_addr;
static socklen_t sd_addr_len;
static uint64_t sd_interval_usec, sd_last_usec;

/* A decimal number of the whole string, or -1. */
static long long sd_number(const char *s)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno || *end || v < 0 ? -1 : v;
}

void sdnotify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    long long usec = sd_number(getenv("WATCHDOG_USEC"));
    long long pid = sd_number(getenv("WATCHDOG_PID"));
    size_t n;

    if (!path || (path[0] != '/' && path[0] != '@') ||
        (n = strlen(path)) >= sizeof(sd_addr.sun_path))
        return;
    memset(&sd_addr, 0, sizeof(sd_addr));
    sd_addr.sun_family = AF_UNIX;
    memcpy(sd_addr.sun_path, path, n);
    if (path[0] == '@')
        sd_addr.sun_path[0] = 0;
    sd_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    sd_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sd_fd < 0)
        return;
    if (usec > 0 && (pid < 0 || pid == (long long)getpid()))
        sd_interval_usec = (uint64_t)usec / 2;
    log_info("sdnotify.on", "watchdog_usec=%lld", usec > 0 ? usec : 0);
}

static void sd_send(const char *msg)
{
    if (sd_fd < 0)
        return;
    /* Non-blocking: a full socket loses a ping, never the loop. */
    (void)sendto(sd_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sd_addr, sd_addr_len);
}

void sdnotify_ready(void) { sd_send("READY=1\nSTATUS=serving"); }

void sdnotify_stopping(void) { sd_send("STOPPING=1\nSTATUS=draining"); }

void sdnotify_watchdog(uint64_t now_usec)
{
    if (!sd_interval_usec || now_usec - sd_last_usec < sd_interval_usec)
        return;
    sd_last_usec = now_usec;
    sd_send("WATCHDOG=1");
}
