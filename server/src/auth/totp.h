/* TOTP (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1 (OpenSSL), 30-second steps, 6 digits,
 * accepting the current step and one either side. The matched step is returned so the caller
 * can store it and refuse any code at or before it (a code works once). Pure, thread-safe. */
#ifndef SOTTO_AUTH_TOTP_H
#define SOTTO_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_BYTES 20U /* 160 bits, as RFC 4226 recommends */
#define TOTP_PERIOD 30
#define TOTP_DIGITS 6U
#define TOTP_WINDOW 1            /* steps accepted either side of now */
#define TOTP_SECRET_B32_SIZE 33U /* base32 of 20 bytes, no padding, NUL included */
#define TOTP_URL_MAX 1024U

/* Fills secret with TOTP_SECRET_BYTES random bytes (libsodium). Wipe it after use. */
void totp_secret_generate(uint8_t secret[TOTP_SECRET_BYTES]);

/* HOTP value of counter `step` with `digits` (6..8) digits: *code = truncate(HMAC) mod 10^digits.
 * secret_len 1..64. Returns 0, or -1 on bad arguments. */
int totp_code_at(const uint8_t *secret, size_t secret_len, uint64_t step, unsigned digits,
                 uint32_t *code);

/* Checks code[0..code_len) (exactly 6 ASCII digits) at unix time now against steps
 * now/30 - 1 .. now/30 + 1, in constant time per step. A step <= last_step (the last step the
 * account used, or -1 for none) never matches. Returns 0 and *matched_step on success;
 * -1 otherwise (wrong, reused, malformed). */
int totp_verify(const uint8_t *secret, size_t secret_len, const char *code, size_t code_len,
                int64_t now, int64_t last_step, int64_t *matched_step);

/* Builds "otpauth://totp/<issuer>:<account>?secret=<B32>&issuer=<issuer>&algorithm=SHA1&digits=6
 * &period=30" with issuer and account percent-encoded (all but RFC 3986 unreserved bytes).
 * issuer and account: 1..128 bytes, no NUL. Returns a string the caller frees with free(),
 * or NULL. The URL holds the secret: wipe it (sodium_memzero) before freeing, never log it. */
char *totp_otpauth_url(const char *issuer, const char *account, const uint8_t *secret,
                       size_t secret_len);

#endif
