/* controls.h: control payloads that must not be lost, and the marks that keep a retry and its
 * resend to once (docs/protocol.md, "Retry"; the same rules and numbers as the web client).
 *
 * A retry request or a delete for everyone whose send fails for want of a connection (no
 * network, HTTP 5xx or 429, a timeout) waits in the profile's `controls` table under its
 * clientMessageId, the server's idempotency key, so a send that did reach the server is not
 * posted twice. controls_flush sends the queue, oldest first, where the outbox is flushed
 * (sync, chat, watch, send), until a send fails again; an entry is given up after
 * CONTROLS_FAILS_MAX failed sends or CONTROLS_AGE_MAX_MS, or at once when refused, with a line
 * on stderr. Then ended rate windows ("<kind>-rate:") and marks ("retry:<id>",
 * "resent:<id>", holding the time they were made) older than CONTROLS_MARK_KEEP_MS go.
 */
#ifndef SOTTO_CLI_CONTROLS_H
#define SOTTO_CLI_CONTROLS_H

#include <stdint.h>

#include "client.h"

/* At most RETRY_RATE_MAX retries sent to, and as many resends answered for, one peer device
 * per RETRY_RATE_WINDOW_MS (a fixed window): kv "<kind>-rate:<user>:<device>" holds
 * "<window start ms> <count>". */
#define RETRY_RATE_MAX 5
#define RETRY_RATE_WINDOW_MS (10u * 60u * 1000u)

#define CONTROLS_MAX 50
#define CONTROLS_FAILS_MAX 5
#define CONTROLS_AGE_MAX_MS (7ull * 24 * 3600 * 1000)
#define CONTROLS_MARK_KEEP_MS (30ull * 24 * 3600 * 1000)
/* How long the asking side shows "Waiting for this message from X…" (the web's words; the
 * ellipsis is U+2026 in UTF-8), before "This message could not be decrypted." */
#define CONTROLS_WAIT_MS (24ull * 3600 * 1000)
#define CONTROLS_WAITING "Waiting for this message from %s\xe2\x80\xa6"
#define CONTROLS_UNDECRYPTABLE "This message could not be decrypted."

/* One queued control. kind "retry" (target: the message asked for) or "delete" (target: our
 * message's server id, local: its local id). id is the clientMessageId of every attempt. */
typedef struct ctl_entry {
    char kind[8], id[40], conv[40], peer[40], target[40], local[40];
    uint64_t first_ms;
    int fails;
} ctl_entry;

/* Fills e with a fresh clientMessageId and the time; the caller sets the rest. */
void controls_entry(ctl_entry *e, const char *kind, const char *conv, const char *peer,
                    const char *target, const char *local);
/* Queues e (a retry with its mark, in one transaction, before the first send): 0 queued,
 * 1 the queue is full (nothing stored), -1 a local error. */
int controls_add(client *c, const ctl_entry *e);
/* One send of a queued entry: 0 sent (and removed), 1 kept for later (no connection),
 * 2 given up (removed, a line printed), or EXIT_AUTH (kept: the session is over). */
int controls_try(client *c, const char *id);
/* Sends the queue, oldest first, then prunes; 0 or EXIT_LOCAL. */
int controls_flush(client *c);
/* Drops ended rate windows and marks older than CONTROLS_MARK_KEEP_MS. */
void controls_prune(client *c);
/* Writes the mark "<prefix>:<id>" with the time now (inside the caller's transaction). */
int controls_mark(client *c, const char *prefix, const char *id);
/* 1 when message `id` (undecryptable) was asked for less than CONTROLS_WAIT_MS ago. */
int controls_waiting(client *c, const char *id);
/* 1 when message `id` was asked for (its mark is kept): a received one was resent. */
int controls_asked(client *c, const char *id);

#endif
