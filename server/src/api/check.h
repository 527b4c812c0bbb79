/* Input checks that are not a field of a JSON body: identifiers, user names, query
 * parameters, and the text rules that fields.h applies to strings. */
#ifndef SOTTO_CHECK_H
#define SOTTO_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_req;
struct job;

/* Whether s is a canonical lower-case UUID string (the form of every id). */
bool api_is_uuid(const char *s);
/* 3 to 32 characters of A-Z, a-z, 0-9 and _. */
bool api_username_ok(const char *s);
/* Lower-cases ASCII for rate-limit keys (an email is one account whatever its case). */
void api_lower(char *dst, size_t dstlen, const char *src);
/* Whether s[0..len), valid UTF-8, holds a control character (C0, DEL, C1) or a
 * bidirectional embedding, override or isolate control. */
bool api_has_control(const char *s, size_t len);
/* An integer query parameter in [min, max], def when absent; *bad set when malformed. */
int64_t api_query_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max,
                      bool *bad);

/* obj[field] as a string of min_chars..max_chars code points, valid UTF-8 without control
 * characters (one FIELD_STRING row of fields.h); NULL after job_invalid. required=false: a
 * missing field gives "". */
const char *api_string(struct job *j, const json_t *obj, const char *field, bool required,
                       size_t min_chars, size_t max_chars);

#endif
