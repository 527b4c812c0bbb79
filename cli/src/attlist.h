/* attlist.h: the files a message carries (payload tag 17), kept in the local store beside the
 * message under kv "att:<message id>" (sealed like every kv value), so `get-file` can fetch
 * them later and the outbox can name the uploads (`attachmentIds`) when it posts again.
 *
 * The stored form is the core's own encoding of a TEXT payload holding only the pointers: the
 * same encoder and decoder that check the wire check what is kept, so nothing stored here can
 * be a pointer the peer's payload would not have been allowed to carry.
 */
#ifndef SOTTO_CLI_ATTLIST_H
#define SOTTO_CLI_ATTLIST_H

#include <stddef.h>

#include <jansson.h>
#include <sotto.h>

#include "localstore.h"

typedef struct att_list {
    uint8_t *buf; /* the stored encoding (sodium_malloc()ed: it holds the file keys) */
    size_t len;
    sotto_payload p; /* p.attachments[0..p.n_attachments) point into buf */
} att_list;

/* Saves the pointers for message `msg_id` (inside the caller's transaction, if any). */
int att_save(ls_store *st, const char *msg_id, const sotto_attachment_pointer *a, size_t n);
/* Loads them; 1 when the message carries no files. */
int att_load(ls_store *st, const char *msg_id, att_list *out);
void att_list_clear(att_list *l);
/* Drops the pointers (their keys) of a message deleted for everyone. */
int att_forget(ls_store *st, const char *msg_id);
/* The server ids of the files as a JSON array of strings (for attachmentIds), NULL on OOM. */
json_t *att_ids_json(const att_list *l);
/* A JSON array of {index, name, type, size} for `--json` output (index from 1). */
json_t *att_summary_json(const att_list *l);
/* Prints one line per file ("  file 1: NAME (SIZE) ..."), names made inert for the terminal. */
void att_print_lines(const att_list *l, const char *msg_id);
/* For a stored message (history, chat's recent lines): its files as lines, or as "files" in
 * the JSON object j; nothing when it has none or was deleted. */
void att_print_for(ls_store *st, const char *msg_id, uint64_t deleted_at_ms);
void att_json_for(ls_store *st, const char *msg_id, uint64_t deleted_at_ms, json_t *j);

#endif
