/* protocol.h: the message protocol over libsotto and the local store, without any network.
 *
 * Sending: pr_send_prepare encrypts one payload per target device (X3DH first where a claimed
 * bundle is given and there is no session), then commits in ONE transaction the advanced
 * ratchet records, the outgoing message (sealed text) and the outbox row holding the exact
 * envelopes. Only then may the caller send them; after a crash it resends the stored
 * envelopes with the same clientMessageId (pr_outbox_*), never encrypting the same payload
 * again under a key already used. pr_outbox_amend handles device_list_mismatch: envelopes
 * for removed devices are dropped, new devices get fresh envelopes, committed before sending.
 *
 * Receiving: pr_receive decrypts one envelope and commits the plaintext, the record and the
 * account (a pre-key message uses up a one-time key) in ONE transaction; only after it
 * returns may the caller queue:ack. A message already stored (by server id) is reported as a
 * duplicate without touching any state, so a redelivery after a crash is acked, not shown.
 */
#ifndef SOTTO_CLI_PROTOCOL_H
#define SOTTO_CLI_PROTOCOL_H

#include <jansson.h>
#include <sotto.h>

#include "localstore.h"

typedef struct pr_ctx {
    ls_store *st;        /* borrowed */
    sotto_account *acct; /* owned: loaded by pr_ctx_load, freed by pr_ctx_free */
    char user_id[40];
    char device_id[40];
} pr_ctx;

/* Loads the account and ids from the store; 1 when the profile has no account yet. */
int pr_ctx_load(pr_ctx *c, ls_store *st);
void pr_ctx_free(pr_ctx *c);
/* Creates a fresh account with `n_otk` one-time keys and saves it (before it is uploaded). */
int pr_account_create(pr_ctx *c, ls_store *st, uint32_t n_otk);

/* The public bundle in the contract's JSON form, with the one-time keys in otk[0..n). */
json_t *pr_bundle_json(const sotto_account *a, const sotto_prekey *otk, size_t n);
/* Parses a device object of GET /keys/users or POST /keys/claim into a bundle. */
int pr_bundle_parse(const json_t *dev, sotto_bundle *b);

typedef struct pr_target {
    char user_id[40];
    char device_id[40];
    /* The signing key the trust-checked listing gives for exactly this (user, device): the
     * claimed bundle must carry it (sotto_record_initiate_expected) and an existing session
     * must be pinned to it. Without it nothing is encrypted (SOTTO_E_KEY_MISMATCH). */
    int has_listed;
    uint8_t listed_signing_key[32];
    int has_bundle; /* a claimed bundle: start a session when there is none */
    int fresh;      /* start a new session from the bundle even if one exists (a resend) */
    sotto_bundle bundle;
} pr_target;

/* 1 when the record for (user, device) has a session to encrypt with now (a pending session
 * older than SOTTO_PENDING_MAX_AGE counts as none: claim again), 0 if not, -1 error. */
int pr_has_session(pr_ctx *c, const char *user, const char *device);

/* Encrypts `text` for every target (see above). client_id gets the new clientMessageId.
 * Returns 0, -1 on error, or SOTTO_E_* from libsotto (nothing committed in either case). */
int pr_send_prepare(pr_ctx *c, const char *conv, const char *peer, const char *text,
                    const pr_target *t, size_t n, char client_id[40]);
/* The same for a message that carries files (att[0..n_att), payload tag 17; `text` is the
 * caption, possibly empty): the pointers are committed with it (attlist.h), so an amend
 * encrypts them again for new devices and the outbox names the uploads when it posts. */
int pr_send_prepare_files(pr_ctx *c, const char *conv, const char *peer, const char *text,
                          const sotto_attachment_pointer *att, size_t n_att, const pr_target *t,
                          size_t n, char client_id[40]);
/* device_list_mismatch: drop envelopes for `extra`, encrypt for `add`, commit. */
int pr_outbox_amend(pr_ctx *c, const char *client_id, const char *const *extra, size_t n_extra,
                    const pr_target *add, size_t n_add);
/* The server accepted the message: record its id and empty the outbox row (one transaction). */
int pr_send_done(pr_ctx *c, const char *client_id, const char *server_id);

typedef struct pr_incoming {
    const char *server_id;
    const char *conversation_id;
    const char *sender_id;
    const char *sender_device;
    const char *ciphertext_b64;
    /* The signing key the accepted device set (or, for a device not in it, a fresh listing)
     * gives for exactly (sender_id, sender_device); NULL: the device is not listed. */
    const uint8_t *expected_signing_key;
} pr_incoming;

/* PR_SECURITY: refused because the sender device is not listed, or the envelope's (or the
 * pinned) signing key is not the listed one: a security event, never a message. Like
 * PR_REFUSED it is recorded (no text) so a redelivery is acked as a duplicate. */
/* PR_CONTROL: an authentic payload that is not a message to show (a delete, a retry request,
 * a resend this device did not ask for, or a content type this client does not know): its
 * id is remembered (kv "ctl:<server id>") so a redelivery is a duplicate; pr_info says what
 * it was and what became of it. */
enum { PR_STORED = 0, PR_DUPLICATE = 1, PR_REFUSED = 2, PR_SECURITY = 3, PR_CONTROL = 4 };

/* What pr_receive_ex found besides its verdict. */
enum {
    PR_CTL_APPLIED = 0, /* DELETE: the target was wiped; RETRY: ask the caller to act */
    PR_CTL_IGNORED = 1, /* nothing to do here (unknown or already deleted target, a resend
                           another device asked for) */
    PR_CTL_REFUSED = 2, /* DELETE of a message its sender is not the target's sender */
    PR_CTL_UNKNOWN = 3  /* a content type this client does not know: skipped */
};
typedef struct pr_info {
    int content_type; /* of the payload; 0 when it did not decrypt */
    char target[40];  /* DELETE, RETRY, RESEND: the message named (its server id) */
    int outcome;      /* PR_CONTROL: PR_CTL_* */
    int retry;        /* PR_REFUSED: it did not decrypt, so ask its sender device to resend */
} pr_info;

/* Decrypts and stores one incoming message. peer_id is the other participant of the
 * conversation (needed when the sender is this user's own other device). On PR_STORED,
 * *out (if given) holds the stored message; the caller clears it. -1 only on local errors
 * (nothing committed: do not ack). */
int pr_receive(pr_ctx *c, const pr_incoming *in, const char *peer_id, ls_message *out);
/* The same, with *info (may be NULL) filled in. Beyond TEXT and SYNC it takes, in the same
 * transaction as the advanced state: DELETE (the target is wiped only when the sender's user is
 * the target's sender: PR_CONTROL), RETRY (PR_CONTROL, PR_CTL_APPLIED: the caller decides
 * with pr_resend_source) and RESEND (fills the target when it is still undecryptable here, this
 * device asked for it and the resend comes from the device it was labelled with: PR_STORED with
 * *out the filled message; else PR_CONTROL, ignored). A message that does not decrypt is
 * stored as LS_MSG_UNREADABLE with info->retry set (not for a replay or a security event). */
int pr_receive_ex(pr_ctx *c, const pr_incoming *in, const char *peer_id, ls_message *out,
                  pr_info *info);

/* A call signal (call:incoming): in->server_id is unused, in->conversation_id the call's
 * conversation as the server says. Decrypts with the session of (sender_id, sender_device),
 * bound to the listed key like a message, and commits the advanced record and account (so the
 * ratchet stays in step with the sender's; a signal is never stored). PR_STORED: a call
 * payload of that conversation, *binding is its binding; PR_REFUSED: it did not decrypt
 * (nothing changed) or was not a call signal of that conversation (*why says which);
 * PR_SECURITY: the device is not listed or its key is not the listed one; -1 local error. */
int pr_receive_call(pr_ctx *c, const pr_incoming *in, sotto_call_binding *binding,
                    const char **why);

/* message:edited: in->server_id is the edited message's id, in->ciphertext_b64 the new
 * envelope. Decrypts it and, when the payload is an EDIT of that very message (edit target
 * and conversation as the server says) by the user who sent it (the authenticated session's
 * user), replaces the stored text and records the edit time, with the advanced state, in ONE
 * transaction. PR_STORED (*out, if given, is the edited message), PR_DUPLICATE (this edit was
 * applied already), PR_REFUSED (not applied; any advanced state is kept), -1 local error. */
int pr_receive_edit(pr_ctx *c, const pr_incoming *in, ls_message *out);
/* message:deleted, the server's event: it is not authenticated, so nothing local changes (an
 * authenticated DELETE payload from the sender is what deletes). PR_STORED: we hold that
 * message and it is not deleted here (worth a notice: the server dropped its ciphertext);
 * PR_DUPLICATE: unknown or already deleted; PR_REFUSED: another conversation; -1. */
int pr_receive_delete(pr_ctx *c, const char *server_id, const char *conv, uint64_t deleted_at_ms);

/* Encrypts one control payload (DELETE, RETRY or RESEND; the same bytes for every target) and
 * commits the advanced records, with the kv `mark` (may be NULL; it holds the time now, in ms)
 * set in the same transaction, before anything is sent. *envelopes: the JSON array to POST. 0, -1
 * or SOTTO_E_*. */
int pr_control_prepare(pr_ctx *c, const sotto_payload *p, const pr_target *t, size_t n,
                       const char *mark, json_t **envelopes);
/* Whether this device answers a RETRY for `target` from user `requester` in `conv`: 0 yes (*m
 * is the message to resend; the caller clears it), 1 not a message this device sent (another
 * device's business: stay silent), 2 sent here but deleted or never accepted, 3 resent once
 * already (kv "resent:<target>"), -1 local error. */
int pr_resend_source(pr_ctx *c, const char *target, const char *conv, const char *requester,
                     ls_message *m);
/* Encrypts an EDIT of our message `message_id` (local or server id) for every target and
 * commits the advanced records; *envelopes gets the JSON array for PATCH /messages/:id and
 * server_id the message's id. 1: not an editable message of ours; -1 or SOTTO_E_*. The
 * local text changes only once the server accepted the edit (ls_message_edit). */
int pr_edit_prepare(pr_ctx *c, const char *message_id, const char *text, const pr_target *t,
                    size_t n, json_t **envelopes, char server_id[40]);

#endif
