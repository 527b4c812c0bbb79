/* The few fields the S3-compatible store's XML answers are read for (keys of a listing, an
 * upload id, an ETag, an error code), found by their tags: the answers are flat and the
 * values this store writes are ids and hex, so no XML parser is needed. Entities are decoded
 * (an ETag comes as &quot;...&quot;). */
#include <stdio.h>
#include <string.h>

#include "blobs/s3.h"

static const struct {
    const char *entity;
    char c;
} s3_entities[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};

/* Copies n bytes of XML text into out, entities decoded, truncated to outlen - 1. */
static void s3_xml_copy(const char *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    const char *end = p + n;

    while (p < end && o + 1 < outlen) {
        size_t i, k = 0;

        for (i = 0; *p == '&' && i < sizeof(s3_entities) / sizeof(s3_entities[0]); i++) {
            k = strlen(s3_entities[i].entity);
            if ((size_t)(end - p) >= k && !strncmp(p, s3_entities[i].entity, k))
                break;
        }
        if (*p == '&' && i < sizeof(s3_entities) / sizeof(s3_entities[0])) {
            out[o++] = s3_entities[i].c;
            p += k;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
}

int s3_xml_next(const char **from, const char *tag, char *out, size_t outlen)
{
    char open[64], close[64];
    const char *a, *b;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    a = strstr(*from, open);
    if (!a)
        return -1;
    a += strlen(open);
    b = strstr(a, close);
    if (!b)
        return -1;
    s3_xml_copy(a, (size_t)(b - a), out, outlen);
    *from = b + strlen(close);
    return 0;
}
