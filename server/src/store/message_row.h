/* message_row.h: reading a message row, shared by messages.c and queue.c. Internal to the
 * store, like store_internal.h.
 *
 * A query that selects MESSAGE_ROW_COLS (columns 0-9, messages aliased `m`) followed by an
 * envelope type and a ciphertext (columns 10-11, NULL for none) is read by message_row_read.
 */
#ifndef SOTTO_STORE_MESSAGE_ROW_H
#define SOTTO_STORE_MESSAGE_ROW_H

#include "store/messages.h"
#include "store_internal.h"

/* status: read when the recipient's (the participant who is not the sender) cursor reached
 * the message, the recipient has accepted the conversation and both send read receipts (a
 * receipt withheld from the event is withheld here too), else delivered when a recipient device
 * acknowledged it, else sent. */
#define MESSAGE_ROW_COLS                                                                     \
    "m.id, m.conversation_id, m.sender_user_id, m.sender_device_id, m.client_message_id, "   \
    "m.sent_at, m.edited_at, m.deleted_at, m.delivered_at, "                                 \
    "CASE WHEN EXISTS (SELECT 1 FROM conversation_participants rp "                          \
    "WHERE rp.conversation_id = m.conversation_id AND rp.user_id <> m.sender_user_id "       \
    "AND rp.read_cursor >= m.id AND rp.accepted = 1 AND NOT EXISTS (SELECT 1 FROM users ru " \
    "WHERE ru.id IN (rp.user_id, m.sender_user_id) AND ru.read_receipts = 0)) "              \
    "THEN 2 WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END"

/* Fill *m from the current row (zeroing it first); the ciphertext is copied (malloc). */
void message_row_read(struct store *s, struct db_rows *r, struct store_message *m);

#endif
