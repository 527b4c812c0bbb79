/* Base64 helpers for the auth building blocks: strict decoding into fixed-size buffers.
 * Thin wrappers over libsodium's constant-time codec; no allocation, thread-safe. */
#ifndef SOTTO_AUTH_B64_H
#define SOTTO_AUTH_B64_H

#include <stddef.h>
#include <stdint.h>

typedef enum b64_variant {
    B64_STANDARD = 0, /* RFC 4648 section 4, with '=' padding (the wire contract) */
    B64_URL = 1       /* RFC 4648 section 5, no padding (JWTs, opaque tokens) */
} b64_variant;

/* Bytes needed to encode bin_len bytes, terminating NUL included. */
size_t b64_encoded_size(size_t bin_len, b64_variant v);

/* Encodes bin into out (out_size >= b64_encoded_size). Returns 0, or -1 if out is too small. */
int b64_encode(const uint8_t *bin, size_t bin_len, b64_variant v, char *out, size_t out_size);

/* Decodes exactly `want` bytes from s[0..len): any other length, a character outside the
 * alphabet (NUL included), wrong padding or non-zero trailing bits gives -1. On -1 out is
 * wiped. Nothing is allocated. */
int b64_decode_exact(const char *s, size_t len, b64_variant v, uint8_t *out, size_t want);

/* Decodes up to out_max bytes; *out_len gets the count. Same strictness; -1 on any error. */
int b64_decode(const char *s, size_t len, b64_variant v, uint8_t *out, size_t out_max,
               size_t *out_len);

#endif
