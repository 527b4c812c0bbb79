/* Small secrets at rest (the MFA secret): XChaCha20-Poly1305 (libsodium) under the 32-byte
 * MFA_ENCRYPTION_KEY, random 24-byte nonce, associated data binding the ciphertext to its
 * purpose (a context label) and its owner (the user id), so a row copied to another user or
 * another column does not open. Pure, thread-safe; the key stays with the caller.
 * Blob layout: version byte 0x01 || nonce (24) || ciphertext || tag (16). */
#ifndef SOTTO_AUTH_SECRETBOX_H
#define SOTTO_AUTH_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#define SECRETBOX_KEY_BYTES 32U
#define SECRETBOX_OVERHEAD (1U + 24U + 16U)
#define SECRETBOX_MAX_PLAINTEXT 1024U
#define SECRETBOX_LABEL_MFA "sotto-v1-mfa-secret"

size_t secretbox_overhead(void);

/* Seals msg[0..len) (len 1..SECRETBOX_MAX_PLAINTEXT) into out (out_size >= len + overhead),
 * *out_len gets the blob length. label and user_id: non-empty NUL-terminated strings of at
 * most 255 bytes. Returns 0, or -1 on bad arguments. */
int secretbox_seal(const uint8_t key[SECRETBOX_KEY_BYTES], const char *label, const char *user_id,
                   const uint8_t *msg, size_t len, uint8_t *out, size_t out_size, size_t *out_len);

/* Opens blob[0..len) sealed with the same key, label and user id into out
 * (out_size >= len - overhead); *out_len gets the plaintext length. Returns 0, or -1 for any
 * failure (wrong key, label or user, tampering, truncation); then out is wiped.
 * The caller wipes the plaintext (sodium_memzero) when done. */
int secretbox_open(const uint8_t key[SECRETBOX_KEY_BYTES], const char *label, const char *user_id,
                   const uint8_t *blob, size_t len, uint8_t *out, size_t out_size, size_t *out_len);

#endif
