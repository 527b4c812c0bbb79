/* outbox.h: sending a message end to end, and resending what a crash left unsent.
 *
 * send_text: look the user up, open the conversation, fetch both users' device lists (trust
 * check: a held contact stops here), claim bundles for devices without a session, encrypt and
 * commit (protocol.c), then POST the stored envelopes. A 409 device_list_mismatch amends the
 * stored envelopes (drop removed devices, encrypt for new ones, commit) and posts again.
 * outbox_flush posts every message committed but not yet accepted, oldest first, with its
 * original clientMessageId, so the server's idempotency makes a resend after a crash safe.
 */
#ifndef SOTTO_CLI_OUTBOX_H
#define SOTTO_CLI_OUTBOX_H

#include "client.h"

/* Returns 0 or an EXIT_* code; server_id (>= 40 bytes, may be NULL) gets the message id. */
int send_text(client *c, const char *username, const char *text, char *server_id);
int outbox_flush(client *c);
/* Edits our message `id` (local or server id, sent to `username`): an EDIT payload encrypted
 * for every current device (records committed first), PATCH /api/messages/:id, then the local
 * text. A 409 device_list_mismatch encrypts again for the new list. */
int edit_text(client *c, const char *username, const char *id, const char *text);
/* Deletes our message for everyone (DELETE /api/messages/:id), then wipes the local text. */
int delete_message(client *c, const char *username, const char *id);
/* The conversation with a user (local mapping, else POST /api/conversations). */
int conversation_with(client *c, const char *peer_id, char conv[40]);

#endif
