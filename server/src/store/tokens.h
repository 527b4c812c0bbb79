/* tokens.h: refresh tokens (rotation, reuse detection, revocation), device login proofs
 * (replay refusal), and single-use email tokens (verification, password reset).
 *
 * The store never sees a token: callers pass a hash (STORE_HASH_SIZE bytes, e.g. SHA-256
 * of the 256-bit random token), so a database leak yields nothing usable.
 */
#ifndef SOTTO_STORE_TOKENS_H
#define SOTTO_STORE_TOKENS_H

#include "store/store.h"

#define STORE_HASH_SIZE 32

struct store_refresh {
    char family_id[STORE_ID_SIZE];
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
};

/* Store a new refresh token starting a new family (a login); its family id goes to
 * family_id (may be NULL). STORE_NOT_FOUND for an unknown user or device. */
enum store_err store_refresh_insert(struct store *s, const uint8_t hash[STORE_HASH_SIZE],
                                    const char *user_id, const char *device_id, int64_t expires_at,
                                    int64_t now, char family_id[STORE_ID_SIZE]);

/* Rotate: mark old_hash used and store new_hash in the same family, atomically.
 *  STORE_OK: *out says whose token it was.
 *  STORE_TOKEN_REUSED: old_hash was already rotated, so it was stolen or replayed: every
 *    token of its family is revoked (committed) and *out names the owner (for the audit).
 *  STORE_NOT_FOUND: unknown, expired, revoked, its device is revoked, or it was created at
 *    or before its device's tokens_not_before (store_device_end_tokens). */
enum store_err store_refresh_rotate(struct store *s, const uint8_t old_hash[STORE_HASH_SIZE],
                                    const uint8_t new_hash[STORE_HASH_SIZE], int64_t new_expires_at,
                                    int64_t now, struct store_refresh *out);

/* Revocations; all succeed (STORE_OK) when there was nothing left to revoke. */
enum store_err store_refresh_revoke_family(struct store *s, const char *family_id, int64_t now);
enum store_err store_refresh_revoke_device(struct store *s, const char *device_id, int64_t now);
enum store_err store_refresh_revoke_user(struct store *s, const char *user_id, int64_t now);

/* Remember a device login proof until expires_at; STORE_CONFLICT if it was seen before
 * (a replay). Forgets expired proofs on the way. */
enum store_err store_proof_record(struct store *s, const char *device_id,
                                  const uint8_t proof_hash[STORE_HASH_SIZE], int64_t expires_at,
                                  int64_t now);

enum store_email_kind { STORE_EMAIL_VERIFY = 1, STORE_EMAIL_RESET = 2 };

enum store_err store_email_token_insert(struct store *s, enum store_email_kind kind,
                                        const uint8_t hash[STORE_HASH_SIZE], const char *user_id,
                                        int64_t expires_at, int64_t now);

/* Use a token once: STORE_OK with its user in user_id, or STORE_NOT_FOUND when unknown,
 * of another kind, expired or already used. */
enum store_err store_email_token_consume(struct store *s, enum store_email_kind kind,
                                         const uint8_t hash[STORE_HASH_SIZE], int64_t now,
                                         char user_id[STORE_ID_SIZE]);

#endif
