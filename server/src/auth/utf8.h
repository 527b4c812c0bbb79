/* Strict UTF-8 validation shared by the auth and mail code. Pure, thread-safe. */
#ifndef SOTTO_AUTH_UTF8_H
#define SOTTO_AUTH_UTF8_H

#include <stddef.h>

/* Validates s[0..len) as UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) with no NUL byte, and stores the number of code points in *count.
 * Returns 0, or -1 on the first invalid byte (then *count is 0). */
int utf8_count(const char *s, size_t len, size_t *count);

#endif
