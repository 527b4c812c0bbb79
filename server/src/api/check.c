/* Input checks (check.h). */
#include "api/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/job.h"
#include "net/http.h"

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
