/* receive.h: a live session on /ws for sync, watch and chat.
 *
 * On connect: authenticate, then (after `authenticated`) the own-device check, the sign-ins missed
 * while away (acct_events.h), key maintenance and the outbox flush. device:added and user:deleted
 * are shown as they come. Every message:new is decrypted and committed (protocol.c) before its
 * queue:ack is sent; a duplicate is acked without being shown; a refused one is reported and
 * acked. sync ends once queue:drained has come and every ack was answered.
 */
#ifndef SOTTO_CLI_RECEIVE_H
#define SOTTO_CLI_RECEIVE_H

#include "client.h"

enum rx_mode { RX_SYNC, RX_WATCH, RX_CHAT };

/* peer_username: the chat partner (RX_CHAT only). timeout_s: stop after that long (0 never;
 * sync uses 30 s when 0). Returns 0 or an EXIT_* code. */
int rx_run(client *c, enum rx_mode mode, const char *peer_username, int timeout_s);

#endif
