/* Opaque tokens (refresh, email verification, password reset) and MFA backup codes: random
 * generation, the hash that is stored instead of the value, and constant-time compares.
 * Pure, thread-safe.
 *
 * Storage hash = BLAKE2b-256(key = pepper or none, "sotto-v1-token" || purpose || 0x00 || value).
 * The purpose separates the kinds, so a verify token's hash never matches a reset lookup.
 * The pepper (a server secret, e.g. derived from MFA_ENCRYPTION_KEY with crypto_kdf) matters for
 * backup codes: they have only ~40 bits, so an unkeyed hash from a leaked database could be
 * brute-forced; 256-bit tokens are safe either way. */
#ifndef SOTTO_AUTH_TOKENS_H
#define SOTTO_AUTH_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_BYTES 32U    /* 256 bits of randomness */
#define TOKEN_CHARS 43U    /* base64url without padding */
#define TOKEN_STR_SIZE 44U /* TOKEN_CHARS + NUL */
#define TOKEN_HASH_BYTES 32U
#define TOKEN_HASH_HEX_SIZE 65U
#define TOKEN_PEPPER_BYTES 32U

#define BACKUP_CODE_COUNT 10U
#define BACKUP_CODE_CHARS 8U                                   /* shown as xxxx-xxxx */
#define BACKUP_CODE_STR_SIZE 10U                               /* "xxxx-xxxx" + NUL */
#define BACKUP_CODE_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz" /* no 0 o 1 l i */

typedef enum token_purpose {
    TOKEN_REFRESH = 1,
    TOKEN_EMAIL_VERIFY = 2,
    TOKEN_PASSWORD_RESET = 3,
    TOKEN_BACKUP_CODE = 4
} token_purpose;

/* Writes a fresh 43-character base64url token (256 random bits) and NUL into out. */
void token_generate(char out[TOKEN_STR_SIZE]);

/* Hashes a presented token for lookup/storage. The token must be exactly 43 base64url
 * characters decoding canonically to 32 bytes; anything else (empty, NUL, too long, padding)
 * gives -1 so the caller answers invalid_token without touching the store.
 * pepper: NULL or TOKEN_PEPPER_BYTES bytes. Returns 0 or -1. */
int token_hash(token_purpose purpose, const uint8_t *pepper, const char *token, size_t len,
               uint8_t out[TOKEN_HASH_BYTES]);

/* Lower-case hex of a hash, for TEXT columns. out gets 64 characters and NUL. */
void token_hash_hex(const uint8_t hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX_SIZE]);

/* Writes BACKUP_CODE_COUNT fresh codes "xxxx-xxxx" (uniform over the 31-letter alphabet).
 * The caller shows them once and wipes them. */
void backup_codes_generate(char codes[BACKUP_CODE_COUNT][BACKUP_CODE_STR_SIZE]);

/* Hashes a code as the user typed it: case-insensitive, '-' and spaces ignored; it must then
 * be 8 characters of the alphabet, else -1. pepper: NULL or TOKEN_PEPPER_BYTES bytes. */
int backup_code_hash(const uint8_t *pepper, const char *code, size_t len,
                     uint8_t out[TOKEN_HASH_BYTES]);

/* Constant-time equality of two byte strings of the same length: 1 equal, 0 not. */
int tokens_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Constant-time equality of two strings; only the lengths' (in)equality leaks. 1 or 0. */
int tokens_str_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
