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
#include "controls.h"

/* Returns 0 or an EXIT_* code; server_id (>= 40 bytes, may be NULL) gets the message id. */
int send_text(client *c, const char *username, const char *text, char *server_id);
/* The same for a message carrying files (uploaded already; text is the caption, may be ""). */
int send_files(client *c, const char *username, const char *text,
               const sotto_attachment_pointer *att, size_t n_att, char *server_id);
int outbox_flush(client *c);
/* Edits our message `id` (local or server id, sent to `username`): an EDIT payload encrypted
 * for every current device (records committed first), PATCH /api/messages/:id, then the local
 * text. A 409 device_list_mismatch encrypts again for the new list. */
int edit_text(client *c, const char *username, const char *id, const char *text);
/* Deletes our message for everyone: an authenticated DELETE payload naming it goes to every
 * device of both users (that is what deletes it there), then DELETE /api/messages/:id drops
 * the server's ciphertext, then the local text is wiped. When the payload cannot be sent for
 * want of a connection it is queued (controls.h; *queued set, 0 returned) and all of that
 * happens when it goes out; a refusal or a full queue deletes nothing. */
int delete_message(client *c, const char *username, const char *id, int *queued);
/* One send of a queued control (controls.c): 0 sent (a delete finished too), EXIT_NET when
 * it failed for want of a connection, EXIT_AUTH, or another code when refused. */
int control_send_queued(client *c, const ctl_entry *e);
/* A message from (sender, device) in `conv` (with `peer`) did not decrypt: a RETRY payload
 * naming `target` goes to every device of both users (the sender device answers), at most 5
 * per sender device per 10 minutes; kv "retry:<target>" records when we asked (a RESEND is
 * accepted only then). It is queued before its first send (controls.h). 0 asked,
 * 1 rate-limited (not asked), 2 queued (no connection: asked later), else an EXIT_* code. */
int retry_request(client *c, const char *conv, const char *peer, const char *sender,
                  const char *device, const char *target);
/* A RETRY for `target` from (requester, device): when this device sent that message, still
 * has it and has not resent it (pr_resend_source), claims a new bundle for that device, starts
 * a session with the listed key and sends the message again as a RESEND (to every device; kv
 * "resent:<target>" makes it once only; 5 per requesting device per 10 minutes). 0 resent;
 * 1 not this device's message (say nothing); 2 deleted here; 3 resent before; 4 rate-limited;
 * 5 older than 30 days (its mark would be gone); a negative EXIT_* code when sending failed. */
int resend_answer(client *c, const char *conv, const char *requester, const char *device,
                  const char *target);
/* The conversation with a user (local mapping, else POST /api/conversations). */
int conversation_with(client *c, const char *peer_id, char conv[40]);
/* Accepts the conversation if it is a message request (POST /api/conversations/:id/accept):
 * opening a chat with someone is choosing to talk to them, as a reply would be. */
int conversation_accept(client *c, const char *conv);

#endif
