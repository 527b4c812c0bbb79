/* users.h: accounts: registration (user + first device + keys in one transaction), look-ups,
 * search, profile and password changes, email verification.
 *
 * Email and username are unique case-insensitively (ASCII case folding, identical on both
 * backends); the stored values keep the case the user typed. Every function returns a
 * store_err; see store.h for the conventions (times in ms, ids as strings, who frees).
 */
#ifndef SOTTO_STORE_USERS_H
#define SOTTO_STORE_USERS_H

#include "store/devices.h"
#include "store/prekeys.h"
#include "store/store.h"

struct store_user {
    char id[STORE_ID_SIZE];
    char *email, *username, *password_hash; /* never NULL once read */
    char *display_name, *bio, *avatar_url;  /* NULL when unset */
    char *language;                         /* "en", "vi": never NULL once read */
    bool email_verified, mfa_enabled;
    int64_t created_at, updated_at;
    /* Privacy: read_receipts sends and receives read receipts; last_seen_hidden gives others
     * null for lastSeen. */
    bool read_receipts, last_seen_hidden;
};

/* Free the strings of one user (not the struct itself) and zero it. NULL is allowed. */
void store_user_free(struct store_user *u);
/* Free an array returned by a list function, with every user's strings. */
void store_users_free(struct store_user *users, size_t n);

struct store_new_user {
    const char *email, *username, *password_hash; /* required */
    const char *display_name;                     /* may be NULL */
    const char *language;                         /* NULL: "en" */
};

/* Create the user, the first device (with its bundle when given) and its one-time pre-keys
 * (at most max_prekeys), all or nothing. Ids of the new rows go to user_id and device_id.
 * Errors: STORE_CONFLICT_EMAIL, STORE_CONFLICT_USERNAME, STORE_CONFLICT_KEY (checked in that
 * order), STORE_CONFLICT (a concurrent registration won a race), STORE_LIMIT (too many
 * pre-keys), STORE_INVALID (e.g. an unknown platform). */
enum store_err store_user_register(struct store *s, const struct store_new_user *u,
                                   const struct store_new_device *d,
                                   const struct store_prekey *prekeys, size_t n_prekeys,
                                   size_t max_prekeys, int64_t now, char user_id[STORE_ID_SIZE],
                                   char device_id[STORE_ID_SIZE]);

/* Look-ups fill *out (free with store_user_free) or return STORE_NOT_FOUND. */
enum store_err store_user_get(struct store *s, const char *id, struct store_user *out);
enum store_err store_user_get_by_email(struct store *s, const char *email, struct store_user *out);
enum store_err store_user_get_by_username(struct store *s, const char *username,
                                          struct store_user *out);

/* Users whose username or display name contains `query` (case-insensitively for ASCII; LIKE
 * wildcards in the query are literal), ordered by username; an account whose e-mail is not
 * verified only when `query` is its username. *out is an array of *n users
 * (free with store_users_free; NULL when n is 0); *total counts every match. */
enum store_err store_user_search(struct store *s, const char *query, int64_t limit, int64_t offset,
                                 struct store_user **out, size_t *n, int64_t *total);

/* A PATCH: fields whose set_ flag is false are left alone; a set field may be NULL (clear).
 * language: NULL leaves it (it is never cleared); a privacy flag whose set_ flag is false is left.
 * Setting avatar_url also removes an uploaded picture (avatars.h): the URL given replaces it. */
struct store_profile {
    bool set_display_name, set_bio, set_avatar_url;
    const char *display_name, *bio, *avatar_url;
    const char *language;
    bool set_read_receipts, read_receipts, set_last_seen_hidden, last_seen_hidden;
};
enum store_err store_user_update_profile(struct store *s, const char *id,
                                         const struct store_profile *p, int64_t now);

/* Delete the account and everything of it, all or nothing: its devices with their keys,
 * tokens and queues, what it sent (the messages and their queued ciphertext), its
 * participation in conversations, its blocks, calls, MFA codes, e-mail tokens and audit
 * entries; what others queued to it is released from their counts. STORE_NOT_FOUND for an
 * unknown user. */
enum store_err store_user_delete(struct store *s, const char *id);

enum store_err store_user_set_password(struct store *s, const char *id, const char *password_hash,
                                       int64_t now);
enum store_err store_user_set_email_verified(struct store *s, const char *id, int64_t now);

#endif
