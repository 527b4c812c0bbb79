/* Listing the S3-compatible store's keys under a prefix (ListObjectsV2, page after page): the
 * pieces of one partial blob, every finished blob, every partial blob (the "directories" under
 * partial/, with a delimiter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs/s3.h"

/* Calls on for each entry of one page's answer; 1 when on stopped. */
static int s3_list_page(const char *xml, bool delimited,
                        int (*on)(void *arg, const char *key, uint64_t size), void *arg)
{
    struct s3_xml x;
    char key[1024], size[32], entry[8];
    int rc = 0;

    if (s3_xml_open(&x, xml))
        return 0;
    while (!rc &&
           !s3_xml_next(&x, delimited ? "CommonPrefixes" : "Contents", entry, sizeof(entry))) {
        if (s3_xml_next(&x, delimited ? "Prefix" : "Key", key, sizeof(key)))
            break;
        size[0] = '0', size[1] = 0;
        if (!delimited)
            s3_xml_next(&x, "Size", size, sizeof(size));
        rc = on(arg, key, strtoull(size, NULL, 10));
    }
    s3_xml_close(&x);
    return rc ? 1 : 0;
}

int s3_list_keys(const struct s3_conn *c, const char *prefix, bool delimited,
                 int (*on)(void *arg, const char *key, uint64_t size), void *arg)
{
    char token[1024] = "", enc_token[3072], enc_prefix[512], query[4096], truncated[8];
    int rc = 0;

    s3_uri_encode(prefix, 0, enc_prefix, sizeof(enc_prefix));
    do {
        struct s3_req r = {.method = "GET", .key = "", .query = query};

        /* SigV4 signs the query as written: names sorted, values encoded. */
        s3_uri_encode(token, 0, enc_token, sizeof(enc_token));
        snprintf(query, sizeof(query), "%s%s%s%slist-type=2&prefix=%s",
                 token[0] ? "continuation-token=" : "", token[0] ? enc_token : "",
                 token[0] ? "&" : "", delimited ? "delimiter=%2F&" : "", enc_prefix);
        s3_request(c, &r);
        if (r.status != 200) {
            s3_fail(c, "list", prefix, &r);
            free(r.text);
            return -1;
        }
        rc = r.text ? s3_list_page(r.text, delimited, on, arg) : 0;
        truncated[0] = token[0] = 0;
        s3_xml_find(r.text, "IsTruncated", truncated, sizeof(truncated));
        if (!strcmp(truncated, "true") &&
            s3_xml_find(r.text, "NextContinuationToken", token, sizeof(token))) {
            c->warn("blobs.s3", "op=list result=no_continuation_token");
            rc = -1; /* truncated with no way on: never loop on the same page */
        }
        free(r.text);
    } while (!rc && token[0]);
    return rc < 0 ? -1 : 0;
}
