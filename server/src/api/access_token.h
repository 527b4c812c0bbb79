/* When an access token was issued, to the millisecond, and whether a logout has ended it.
 *
 * Logout, logout-all and reset-password set the device's tokens_not_before (unix ms, in the
 * store: store_device_end_tokens, store_user_end_tokens); every token of the device issued
 * at or before that instant is void. The JWT's own iat is in whole seconds (RFC 7519), too
 * coarse: a token minted in the same second as a logout but before it must die, and a login
 * right after the logout in that second must not. So sottod mints access tokens whose jti is a
 * UUIDv7 (RFC 9562) of the issue time (session.c): its first 48 bits are the unix
 * milliseconds, covered by the signature like every claim. The issue time is the clock
 * reading of the job that also stamps the session's refresh token (created_at), so an access
 * token and its refresh token die together.
 *
 * A jti that is not a UUIDv7 or does not fall in the iat second (a token of an older sottod)
 * counts as issued at the very start of its iat second, the earliest it can have been: such a
 * token from the second of a logout is refused, never kept.
 *
 * Used by the REST auth hook (auth_hook.c) and the WebSocket authenticate (conn.c); both
 * read tokens_not_before with the device row they read anyway. Header-only. */
#ifndef SOTTO_ACCESS_TOKEN_H
#define SOTTO_ACCESS_TOKEN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "auth/jwt.h"

static inline int access_token_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The issue time of verified claims, unix ms. */
static inline int64_t access_token_issued_ms(const jwt_claims *c)
{
    /* xxxxxxxx-xxxx-7xxx-...: 12 hex digits of milliseconds, then the version nibble. */
    static const int pos[12] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12};
    int64_t ms = 0;

    if (c->iat < 0 || c->iat > INT64_MAX / 1000)
        return 0;
    if (strlen(c->jti) != 36 || c->jti[8] != '-' || c->jti[13] != '-' || c->jti[14] != '7')
        return c->iat * 1000;
    for (int i = 0; i < 12; i++) {
        int v = access_token_hex(c->jti[pos[i]]);

        if (v < 0)
            return c->iat * 1000;
        ms = ms * 16 + v;
    }
    return ms / 1000 == c->iat ? ms : c->iat * 1000;
}

/* False when a logout (tokens_not_before, unix ms) has ended the token. */
static inline bool access_token_current(const jwt_claims *c, int64_t tokens_not_before)
{
    return access_token_issued_ms(c) > tokens_not_before;
}

#endif
