/* The systemd notification protocol (sd_notify(3)): READY=1 once the server listens,
 * WATCHDOG=1 from the loop thread at half of WATCHDOG_USEC, STOPPING=1 when the drain
 * begins. Without NOTIFY_SOCKET every call does nothing. The watchdog ping is sent by the
 * loop thread itself, so a wedged loop stops it and systemd restarts the service. */
#ifndef SOTTO_SDNOTIFY_H
#define SOTTO_SDNOTIFY_H

#include <stdint.h>

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC (honoured only for this process, WATCHDOG_PID) and
 * opens the datagram socket. Call once at start. */
void sdnotify_init(void);
void sdnotify_ready(void);
void sdnotify_stopping(void);

/* Sends WATCHDOG=1 if half the watchdog interval has passed since the last one. now_usec:
 * a monotonic clock. Loop thread. */
void sdnotify_watchdog(uint64_t now_usec);

#endif
