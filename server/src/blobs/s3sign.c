/* Presigned GETs of the S3-compatible store: SigV4 query signing (AWS's "Authenticating
 * Requests: Using Query Parameters"), which libcurl does not do, on OpenSSL's HMAC-SHA256. The
 * URL carries the access key id, never the secret; it is valid for at most
 * BLOB_PRESIGN_TTL_MAX seconds and only for the one object and method signed. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blobs/s3.h"

void s3_uri_encode(const char *s, int keep_slash, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *s && o + 4 < outlen; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "%%%02X", c);
    }
    out[o] = 0;
}

static void s3_hmac(const unsigned char *key, size_t keylen, const char *data,
                    unsigned char out[32])
{
    unsigned int n = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, strlen(data), out, &n) ||
        n != 32)
        abort();
}

static void s3_hex(const unsigned char *md, char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The signature of string_to_sign under the key derived from the secret for date and region. */
static void s3_signature(const struct s3_conn *c, const char *date, const char *string_to_sign,
                         char hex[65])
{
    char first[300];
    unsigned char k[32], sig[32];

    snprintf(first, sizeof(first), "AWS4%s", c->secret);
    s3_hmac((const unsigned char *)first, strlen(first), date, k);
    OPENSSL_cleanse(first, sizeof(first));
    s3_hmac(k, 32, c->region, k);
    s3_hmac(k, 32, "s3", k);
    s3_hmac(k, 32, "aws4_request", k);
    s3_hmac(k, 32, string_to_sign, sig);
    OPENSSL_cleanse(k, sizeof(k));
    s3_hex(sig, hex);
}

int s3_presign(const struct s3_conn *c, const char *key, unsigned ttl_s, char *url, size_t urllen)
{
    char date[9], stamp[17], scope[160], cred[512], path[512], query[1024], canon[2048];
    char sts[512], hash[65], sig[65];
    unsigned char md[32];
    unsigned int n = 0;
    time_t now = time(NULL);
    struct tm tm;
    int len;

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date, c->region);
    snprintf(canon, sizeof(canon), "%s/%s", c->key_id, scope);
    s3_uri_encode(canon, 0, cred, sizeof(cred));
    snprintf(canon, sizeof(canon), "/%s/%s", c->bucket, key);
    s3_uri_encode(canon, 1, path, sizeof(path));
    /* The parameters in SigV4's order (sorted by name), each value encoded. */
    snprintf(query, sizeof(query),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
             "&X-Amz-Expires=%u&X-Amz-SignedHeaders=host",
             cred, stamp, ttl_s);
    len = snprintf(canon, sizeof(canon), "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", path,
                   query, c->host);
    if (len < 0 || (size_t)len >= sizeof(canon) ||
        !EVP_Digest(canon, (size_t)len, md, &n, EVP_sha256(), NULL))
        return -1;
    s3_hex(md, hash);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope, hash);
    s3_signature(c, date, sts, sig);
    len = snprintf(url, urllen, "%s%s?%s&X-Amz-Signature=%s", c->endpoint, path, query, sig);
    return len < 0 || (size_t)len >= urllen ? -1 : 0;
}
