/* localstore.h: one profile's local state in SQLite, every sensitive value sealed.
 *
 * Tables: kv (account keys, tokens, settings), peers (one sotto_record per peer device),
 * contacts (known device sets, verified/hold flags), conversations (id -> peer), messages
 * (history, the text sealed), outbox (encrypted envelopes not yet accepted by the server) and
 * controls (retry requests and deletes for everyone waiting for a connection).
 * Every sealed column is sotto_seal()ed under the profile key with its slot name
 * ("<table>:<row key>") as associated data, so a blob moved to another row does not open.
 *
 * Transactions: ls_begin/ls_commit/ls_rollback wrap several writes into one atomic step
 * (the "save before acting" points). Functions return 0 on success and -1 on error unless
 * they say otherwise; strings and buffers they return are owned by the caller.
 */
#ifndef SOTTO_CLI_LOCALSTORE_H
#define SOTTO_CLI_LOCALSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sotto.h>

typedef struct ls_store ls_store;

/* Opens (creating if needed) `path` with the 32-byte profile key (copied, wiped on close). */
int ls_open(ls_store **out, const char *path, const uint8_t key[SOTTO_SEAL_KEYBYTES]);
void ls_close(ls_store *s);

int ls_begin(ls_store *s);
int ls_commit(ls_store *s);
void ls_rollback(ls_store *s);

/* Secret buffers from the store are sodium_malloc()ed: release with ls_secret_free. */
void ls_secret_free(void *p);

/* kv: sealed values by name. get returns 1 when absent. */
int ls_kv_put(ls_store *s, const char *name, const uint8_t *v, size_t len);
int ls_kv_get(ls_store *s, const char *name, uint8_t **v, size_t *len);
int ls_kv_put_str(ls_store *s, const char *name, const char *v);
/* A malloc()ed copy (not secret-grade: use for ids and URLs), 1 when absent. */
int ls_kv_get_str(ls_store *s, const char *name, char **v);
int ls_kv_del(ls_store *s, const char *name);
/* Calls fn with each kv name that begins with prefix, in name order (collected first: fn may
 * delete them); fn returns non-zero to stop. */
typedef int (*ls_id_fn)(void *ctx, const char *id);
int ls_kv_each_prefix(ls_store *s, const char *prefix, ls_id_fn fn, void *ctx);

/* This device's sotto_account. load returns 1 when there is none yet. */
int ls_account_save(ls_store *s, const sotto_account *a);
int ls_account_load(ls_store *s, sotto_account **out);

/* The record for (user, device); load gives a fresh empty record (and returns 1) when none. */
int ls_record_save(ls_store *s, const char *user, const char *device, const sotto_record *r);
int ls_record_load(ls_store *s, const char *user, const char *device, sotto_record **out);

/* Contacts: the device set we last accepted for a user (JSON object deviceId -> signing key,
 * sealed), whether the user marked them verified, and whether sending is held. */
typedef struct ls_contact {
    char user_id[40];
    char username[128];
    char *devices_json; /* malloc()ed, "{}" when unknown */
    int verified;
    int hold;
} ls_contact;
int ls_contact_get(ls_store *s, const char *user_id, ls_contact *out);   /* 1 when absent */
int ls_contact_find(ls_store *s, const char *username, ls_contact *out); /* 1 when absent */
int ls_contact_put(ls_store *s, const ls_contact *c);
void ls_contact_clear(ls_contact *c);

int ls_conversation_put(ls_store *s, const char *conv_id, const char *peer_id);
/* Copies the peer into peer (>= 40 bytes); 1 when unknown. */
int ls_conversation_peer(ls_store *s, const char *conv_id, char *peer);
int ls_conversation_for(ls_store *s, const char *peer_id, char *conv_id);

/* History. */
/* Outgoing: pending, sent, delivered, read in order, or failed (refused by the server for
 * good, e.g. by a block: never sent, never retried). Incoming: received, refused (a security
 * event, or an authentic payload this client does not accept) or undecryptable (it failed to
 * decrypt: the sender device is asked to resend it, and a resend fills the row in). */
enum {
    LS_MSG_PENDING = 0,
    LS_MSG_SENT = 1,
    LS_MSG_DELIVERED = 2,
    LS_MSG_READ = 3,
    LS_MSG_RECEIVED = 10,
    LS_MSG_REFUSED = 11,
    LS_MSG_FAILED = 12,
    LS_MSG_UNREADABLE = 13
};
typedef struct ls_message {
    char id[40];        /* client message id (ours) or server id (received) */
    char server_id[40]; /* "" until the server accepted it */
    char conversation_id[40];
    char peer_id[40];
    char sender_device[40];
    int outgoing;
    int status;
    uint64_t sent_at_ms;
    char *body; /* sodium_malloc()ed, NUL-terminated; NULL when refused or deleted */
    size_t body_len;
    uint64_t edited_at_ms;  /* 0 unless edited: the sender's (authenticated) edit time */
    uint64_t deleted_at_ms; /* 0 unless deleted: the body is gone (wiped) */
} ls_message;
int ls_message_put(ls_store *s, const ls_message *m);
/* 1 when a message with that server id is stored. */
int ls_message_seen(ls_store *s, const char *server_id);
int ls_message_get(ls_store *s, const char *id, ls_message *out); /* 1 when absent */
int ls_message_sent(ls_store *s, const char *id, const char *server_id);
/* Marks our message with this (local) id failed, if the server has not accepted it. */
int ls_message_failed(ls_store *s, const char *id);
/* Replaces the body of the message with this (local) id and records the edit time; a deleted
 * message stays deleted. */
int ls_message_edit(ls_store *s, const char *id, const char *body, size_t len,
                    uint64_t edited_at_ms);
/* Fills in an undecryptable row (this local id) from its resend: body, sent time, direction
 * and status. Only a row still undecryptable and not deleted changes. */
int ls_message_fill(ls_store *s, const ls_message *m);
/* Deletes the body of the message with this (local) id (the row stays, marked deleted). */
int ls_message_wipe(ls_store *s, const char *id, uint64_t deleted_at_ms);
/* Moves the WAL into the database file and truncates it (after a wipe; not in a transaction). */
int ls_checkpoint(ls_store *s);
/* Raises the status of a message by server id (never lowers it). */
int ls_message_status(ls_store *s, const char *server_id, int status);
void ls_message_clear(ls_message *m);
/* Raises every outgoing message of the conversation up to server id upto, inclusive, to
 * read: a read receipt is a cursor over the reader's conversation. */
int ls_message_read_upto(ls_store *s, const char *conv_id, const char *upto);
/* Conversations whose accepted, not deleted outgoing messages are not all read yet, the most
 * recently active first, at most LS_UNSETTLED_MAX: fn gets the conversation id and the oldest such
 * message's server id, and returns non-zero to stop. */
#define LS_UNSETTLED_MAX 32
typedef int (*ls_unsettled_fn)(void *ctx, const char *conv_id, const char *oldest_server_id);
int ls_unsettled_each(ls_store *s, ls_unsettled_fn fn, void *ctx);
/* Calls fn for each message with the peer, oldest first; fn returns non-zero to stop. */
typedef int (*ls_message_fn)(void *ctx, const ls_message *m);
int ls_messages_each(ls_store *s, const char *peer_id, ls_message_fn fn, void *ctx);
/* The same for the last n messages only (still oldest first). */
int ls_messages_recent(ls_store *s, const char *peer_id, int n, ls_message_fn fn, void *ctx);
/* The server id of the newest message received from the peer; 1 when there is none. */
int ls_last_incoming(ls_store *s, const char *peer_id, char server_id[40]);

/* Outbox: the envelopes (JSON array text) of a message encrypted but not yet accepted. */
int ls_outbox_put(ls_store *s, const char *client_id, const char *conv_id, const char *json);
int ls_outbox_get(ls_store *s, const char *client_id, char **conv_id, char **json);
int ls_outbox_del(ls_store *s, const char *client_id);
/* Client ids in the outbox, oldest first: fn returns non-zero to stop. */
int ls_outbox_each(ls_store *s, ls_id_fn fn, void *ctx);

/* Controls: the queue of control payloads (a retry request, a delete for everyone) whose send
 * failed for want of a connection, by their clientMessageId; each entry is JSON text, sealed
 * under "controls:<id>". put keeps an updated entry's place; each walks them oldest first;
 * get returns 1 when absent; count is -1 on error. */
int ls_control_put(ls_store *s, const char *id, const char *json);
int ls_control_get(ls_store *s, const char *id, char **json);
int ls_control_del(ls_store *s, const char *id);
int ls_control_each(ls_store *s, ls_id_fn fn, void *ctx);
int ls_control_count(ls_store *s);

#endif
