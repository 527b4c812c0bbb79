/* mfa.h: a user's TOTP secret (encrypted by the caller with MFA_ENCRYPTION_KEY; the store
 * keeps opaque bytes), its last accepted time step (so a code works once), and the hashed
 * single-use backup codes.
 *
 * Backup codes are looked up by hash, so the caller must hash deterministically (e.g.
 * HMAC-SHA-256 under a server key, or SHA-256 of a code with enough entropy).
 */
#ifndef SOTTO_STORE_MFA_H
#define SOTTO_STORE_MFA_H

#include "store/store.h"
#include "store/tokens.h"

struct store_mfa {
    bool enabled;
    uint8_t *secret; /* encrypted; NULL when none; freed by store_mfa_free */
    size_t secret_len;
    int64_t last_step;
};

void store_mfa_free(struct store_mfa *m);

/* STORE_NOT_FOUND for an unknown user. */
enum store_err store_mfa_get(struct store *s, const char *user_id, struct store_mfa *out);

/* Enrolment: store a new (encrypted) secret, not yet enabled, and replace the backup
 * codes with `n` new hashes, in one transaction. */
enum store_err store_mfa_begin(struct store *s, const char *user_id, const uint8_t *secret,
                               size_t secret_len, const uint8_t (*code_hashes)[STORE_HASH_SIZE],
                               size_t n, int64_t now);

/* Replace the backup codes with `n` new hashes, in one transaction (the old ones stop
 * working). STORE_NOT_FOUND for an unknown user. */
enum store_err store_mfa_set_backups(struct store *s, const char *user_id,
                                     const uint8_t (*code_hashes)[STORE_HASH_SIZE], size_t n,
                                     int64_t now);

/* Turn MFA on once the first code checked out; `step` is that code's step (used up). */
enum store_err store_mfa_enable(struct store *s, const char *user_id, int64_t step, int64_t now);

/* Turn MFA off: secret and backup codes are deleted. */
enum store_err store_mfa_disable(struct store *s, const char *user_id, int64_t now);

/* Accept a TOTP step once: STORE_OK if step is later than the last accepted one,
 * STORE_CONFLICT if not (a replayed or older code). Atomic under concurrency. */
enum store_err store_mfa_use_step(struct store *s, const char *user_id, int64_t step);

/* Use a backup code once: STORE_OK, or STORE_NOT_FOUND (unknown or already used). */
enum store_err store_mfa_use_backup(struct store *s, const char *user_id,
                                    const uint8_t hash[STORE_HASH_SIZE], int64_t now);

/* How many backup codes are left unused. */
enum store_err store_mfa_backup_left(struct store *s, const char *user_id, int64_t *left);

#endif
