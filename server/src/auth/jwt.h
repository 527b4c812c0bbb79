/* Access tokens: compact JWS with HS256 (HMAC-SHA256, libsodium), base64url without padding.
 * Only the header {"alg":"HS256","typ":"JWT"} is ever produced or accepted. Pure functions,
 * thread-safe; the key stays with the caller (keep it in sodium_malloc memory). */
#ifndef SOTTO_AUTH_JWT_H
#define SOTTO_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_KEY_MIN_BYTES 32U      /* JWT_SECRET must decode to at least this many bytes */
#define JWT_ACCESS_TTL_SECONDS 900 /* 15 minutes */
#define JWT_MAX_TOKEN_LEN 1024U    /* longer input is refused before any work */
#define JWT_ID_MAX 64U             /* sub, dev, jti: at most 63 bytes + NUL */
#define JWT_CLOCK_SKEW_SECONDS 60  /* tolerated for iat in the future */

typedef enum jwt_status {
    JWT_OK = 0,
    JWT_ERR_ARG = 1,       /* caller error: NULL, short key, bad claim values */
    JWT_ERR_MALFORMED = 2, /* not three base64url parts, bad JSON, wrong header or claims */
    JWT_ERR_SIGNATURE = 3, /* MAC mismatch (checked before anything in the token is parsed) */
    JWT_ERR_EXPIRED = 4    /* signature good, now >= exp */
} jwt_status;

typedef struct jwt_claims {
    char sub[JWT_ID_MAX]; /* user id */
    char dev[JWT_ID_MAX]; /* device id */
    char jti[JWT_ID_MAX]; /* token id */
    int64_t iat;          /* unix seconds */
    int64_t exp;          /* unix seconds, > iat */
} jwt_claims;

/* Signs the claims. sub/dev/jti must be 1..63 printable ASCII bytes, iat >= 0, exp > iat.
 * On JWT_OK *out is a NUL-terminated token the caller frees with free(); otherwise *out is
 * NULL. Aborts only on out-of-memory inside jansson (returns JWT_ERR_ARG). */
jwt_status jwt_sign(const uint8_t *key, size_t key_len, const jwt_claims *claims, char **out);

/* Verifies token[0..len) at time `now` (unix seconds): length bound, shape, HMAC in constant
 * time, then header pinned to exactly {alg: HS256, typ: JWT} (so alg "none" or any other is
 * refused), then claims (all five present with the right types, iat <= now + skew, exp > iat).
 * On JWT_OK and JWT_ERR_EXPIRED *out holds the claims; on other results *out is zeroed.
 * The caller still checks that the device is not revoked. */
jwt_status jwt_verify(const uint8_t *key, size_t key_len, const char *token, size_t len,
                      int64_t now, jwt_claims *out);

/* A stable name for logs and error mapping ("ok", "malformed", ...). Never NULL. */
const char *jwt_status_name(jwt_status s);

#endif
