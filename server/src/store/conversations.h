/* conversations.h: direct conversations (one per pair of users), their participants, and
 * the "contacts" relation that gates presence and typing.
 *
 * Visibility: every function that takes the caller's user id answers STORE_NOT_FOUND for a
 * conversation the caller is not in, exactly as for one that does not exist, so nothing
 * reveals that a conversation between two other people exists.
 *
 * Leaving: a participant who leaves stays a participant (a direct conversation is the pair's
 * one channel, and the other side's devices keep needing this user's devices in the
 * device-list check); leaving only hides the conversation from the leaver's list. It comes
 * back when a message is sent in it by either side, or when the leaver opens it again with
 * store_conversation_direct. Get, participants and history keep working for the leaver.
 *
 * Conventions as in store.h: times in ms passed in, ids as strings, structs out freed with
 * their _free function, strings passed in are borrowed.
 */
#ifndef SOTTO_STORE_CONVERSATIONS_H
#define SOTTO_STORE_CONVERSATIONS_H

#include "store/store.h"

/* A user's public form: what another user may see (no email, hash or MFA state). */
struct store_public_user {
    char id[STORE_ID_SIZE];
    char *username;                        /* never NULL once read */
    char *display_name, *avatar_url, *bio; /* NULL when unset */
    int64_t created_at;
};

struct store_participant {
    struct store_public_user user;
    int64_t joined_at;
    bool accepted;   /* has sent a message in this conversation, or accepted it */
    int64_t left_at; /* 0 when not left (or back since) */
};

struct store_conversation {
    char id[STORE_ID_SIZE];
    int64_t created_at, updated_at;         /* updated_at: last activity (creation or last send) */
    struct store_participant *participants; /* ordered by joined_at, then user id */
    size_t n_participants;
    /* The newest message that is not deleted (a deleted one says nothing worth a preview). */
    bool has_last_message;
    char last_message_id[STORE_ID_SIZE];
    char last_sender_id[STORE_ID_SIZE];
    int64_t last_sent_at;
    /* Messages from the other participant after the caller's read cursor, not deleted. */
    int64_t unread_count;
    /* The caller's acceptance, and whether the conversation is a message request to them:
     * not accepted by them, and started or written in by the other. */
    bool accepted, request;
};

/* Free the participants of one conversation (not the struct) and zero it. NULL allowed. */
void store_conversation_free(struct store_conversation *c);
/* Free an array from store_conversation_list. */
void store_conversations_free(struct store_conversation *list, size_t n);
/* Free an array from store_conversation_participants. */
void store_participants_free(struct store_participant *list, size_t n);

/* The direct conversation between user_id and other_id, created when missing, in one
 * transaction. Race-free: concurrent calls for one pair (in either order) all get the same
 * conversation, and exactly one of them reports *created = true. When user_id had left it,
 * it is back in their list. *out is seen by user_id (free with store_conversation_free).
 * Errors: STORE_INVALID for oneself; STORE_NOT_FOUND when other_id is no user;
 * STORE_FORBIDDEN when either has blocked the other (also for an existing conversation). */
enum store_err store_conversation_direct(struct store *s, const char *user_id, const char *other_id,
                                         int64_t now, struct store_conversation *out,
                                         bool *created);

/* user_id's conversations that are not left, most recently active first (updated_at, then
 * id, descending), limit/offset paged; *total counts them all. *out: array of *n (free with
 * store_conversations_free; NULL when 0). STORE_INVALID for a negative limit or offset. */
enum store_err store_conversation_list(struct store *s, const char *user_id, int64_t limit,
                                       int64_t offset, struct store_conversation **out, size_t *n,
                                       int64_t *total);

/* One conversation as user_id sees it, or STORE_NOT_FOUND when they are not in it. */
enum store_err store_conversation_get(struct store *s, const char *user_id,
                                      const char *conversation_id, struct store_conversation *out);

/* Hide the conversation from user_id's list (sets left_at; leaving again keeps the first
 * time and is STORE_OK). STORE_NOT_FOUND when they are not in it. */
enum store_err store_conversation_leave(struct store *s, const char *user_id,
                                        const char *conversation_id, int64_t now);

/* What accepting told: *contact_made, this acceptance made the two contacts (the other had
 * accepted, no block); receipt, the read receipt the request withheld, now due to the other
 * (the accepter's read cursor, when set, both send receipts and neither blocked the other). */
struct store_accept_result {
    bool contact_made;
    bool receipt;
    char other_id[STORE_ID_SIZE];
    char read_message_id[STORE_ID_SIZE];
    int64_t read_at;
};

/* user_id accepts the conversation (a message request, api.md): as after their first message,
 * presence and typing may flow once the other has accepted too, and it is back in their list.
 * Accepting again is STORE_OK and tells nothing (*res zeroed but for other_id). *out as
 * store_conversation_get. STORE_NOT_FOUND when they are not in it. */
enum store_err store_conversation_accept(struct store *s, const char *user_id,
                                         const char *conversation_id,
                                         struct store_conversation *out,
                                         struct store_accept_result *res);

/* The participants (array of *n, free with store_participants_free), or STORE_NOT_FOUND
 * when user_id is not in the conversation. */
enum store_err store_conversation_participants(struct store *s, const char *user_id,
                                               const char *conversation_id,
                                               struct store_participant **out, size_t *n);

/* *yes = whether user_id is a participant (left or not). STORE_OK either way. */
enum store_err store_conversation_is_participant(struct store *s, const char *conversation_id,
                                                 const char *user_id, bool *yes);

/* The other participant of a direct conversation user_id is in, into other_id;
 * STORE_NOT_FOUND when user_id is not in it. */
enum store_err store_conversation_other(struct store *s, const char *user_id,
                                        const char *conversation_id, char other_id[STORE_ID_SIZE]);

/* Contacts: users who share a conversation with user_id that both have accepted (each has
 * sent a message in it or accepted it), where neither has blocked the other. Leaving does not end a
 * contact. *ids: array of *n ids, sorted (free() it; NULL when 0). */
enum store_err store_contacts_list(struct store *s, const char *user_id,
                                   char (**ids)[STORE_ID_SIZE], size_t *n);
/* Everyone who shares a conversation with user_id, whatever its state (accepted or not,
 * left, blocked): the users an account deletion is told to. Same form as the list above. */
enum store_err store_conversation_partners(struct store *s, const char *user_id,
                                           char (**ids)[STORE_ID_SIZE], size_t *n);
/* *yes = whether a and b are contacts by the rule above. */
enum store_err store_contacts_check(struct store *s, const char *a, const char *b, bool *yes);

#endif
