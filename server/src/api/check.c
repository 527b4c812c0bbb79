/* Input checks (check.h). */
#include "api/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "api/job.h"
#include "net/http.h"

bool api_has_control(const char *s, size_t len)
{
    /* Control characters (C0, DEL, C1) and the bidirectional embedding, override and isolate
     * controls (U+202A-U+202E, U+2066-U+2069): a name or a bio is shown beside other text, and
     * an override in it reorders that text ("Bob\u202Egpj.exe"). Right-to-left scripts need
     * none of them. s is valid UTF-8 (checked first), so a lead byte has its continuations. */
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return true;
        if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return true;
        if (u[i] == 0xe2 && ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
                             (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
            return true;
    }
    return false;
}

const char *api_string(struct job *j, const json_t *obj, const char *field, bool required,
                       size_t min_chars, size_t max_chars)
{
    struct field_spec row = {field, FIELD_STRING, required ? FIELD_REQUIRED : 0,
                             .min = (int64_t)min_chars, .max = (int64_t)max_chars};
    struct field_value v;

    if (job_fields(j, obj, &row, 1, &v, 1))
        return NULL;
    return v.str ? v.str : "";
}

bool api_is_uuid(const char *s)
{
    if (!s || strlen(s) != STORE_ID_LEN)
        return false;
    for (int i = 0; i < STORE_ID_LEN; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool api_username_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

void api_lower(char *dst, size_t dstlen, const char *src)
{
    size_t i = 0;

    for (; src[i] && i + 1 < dstlen; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
    dst[i] = 0;
}

int64_t api_query_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max,
                      bool *bad)
{
    char buf[24], *end;
    long long v;
    int n = http_query(req, name, buf, sizeof(buf));

    if (n < 0)
        return def;
    v = strtoll(buf, &end, 10);
    if (!n || *end || v < min || v > max) {
        *bad = true;
        return def;
    }
    return v;
}
