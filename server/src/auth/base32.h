/* RFC 4648 base32 (alphabet A-Z2-7), used for TOTP secrets. Pure, thread-safe. */
#ifndef SOTTO_AUTH_BASE32_H
#define SOTTO_AUTH_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode len bytes, NUL included (with or without '=' padding). */
size_t base32_encoded_size(size_t len, int pad);

/* Encodes in[0..len) into out; pad != 0 adds '=' padding to a multiple of 8 characters
 * (RFC 4648), pad == 0 omits it (otpauth URLs). Returns 0, or -1 if out_size is too small. */
int base32_encode(const uint8_t *in, size_t len, int pad, char *out, size_t out_size);

/* Decodes s[0..len) into out (at most out_max bytes), *out_len gets the count.
 * Accepts upper- and lower-case letters and optional correct padding; refuses any other
 * character (NUL, spaces), an impossible length, and non-zero trailing bits.
 * Returns 0, or -1 (then out is wiped). */
int base32_decode(const char *s, size_t len, uint8_t *out, size_t out_max, size_t *out_len);

#endif
