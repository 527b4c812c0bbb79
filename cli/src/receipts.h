/* receipts.h: delivery and read receipts that arrived while this device was away.
 *
 * message:delivered and message:read reach only the devices online at that moment; every
 * message carries its current `status` in the REST history. After each queue:drained the
 * live session asks for the recent history of the conversations whose outgoing messages
 * are not all read yet and raises the local statuses (never lowers them).
 */
#ifndef SOTTO_CLI_RECEIPTS_H
#define SOTTO_CLI_RECEIPTS_H

#include "client.h"

/* Pages of history (100 messages each) asked for per conversation at most. */
#define RECEIPTS_MAX_PAGES 5

/* Brings the statuses of this device's outgoing messages up to the server's. Best effort:
 * a failure leaves them as they were and is reported once on stderr. */
void receipts_catch_up(client *c);

#endif
