/* Input checks that are not a field of a JSON body (fields.h checks those): identifiers,
 * user names, query parameters. */
#ifndef SOTTO_CHECK_H
#define SOTTO_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_req;

/* Whether s is a canonical lower-case UUID string (the form of every id). */
bool api_is_uuid(const char *s);
/* 3 to 32 characters of A-Z, a-z, 0-9 and _. */
bool api_username_ok(const char *s);
/* Lower-cases ASCII for rate-limit keys (an email is one account whatever its case). */
void api_lower(char *dst, size_t dstlen, const char *src);
/* An integer query parameter in [min, max], def when absent; *bad set when malformed. */
int64_t api_query_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max,
                      bool *bad);

#endif
