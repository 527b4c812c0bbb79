/* HS256 JWT sign/verify. The MAC is checked before the header or payload is parsed, and
 * the header must be exactly alg HS256 / typ JWT, so no algorithm confusion is possible. */
#include "jwt.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "b64.h"

#define JWT_MAC_BYTES crypto_auth_hmacsha256_BYTES
#define JWT_PART_MAX JWT_MAX_TOKEN_LEN

static const char jwt_header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void jwt_mac(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                    uint8_t mac[JWT_MAC_BYTES])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, msg_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

static int jwt_id_ok(const char *s)
{
    size_t n = strnlen(s, JWT_ID_MAX);

    if (n == 0 || n >= JWT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int jwt_claims_ok(const jwt_claims *c)
{
    return jwt_id_ok(c->sub) && jwt_id_ok(c->dev) && jwt_id_ok(c->jti) && c->iat >= 0 &&
           c->exp > c->iat;
}

/* Appends base64url(data) to buf at *pos. */
static int jwt_append_b64(char *buf, size_t size, size_t *pos, const void *data, size_t len)
{
    if (b64_encode(data, len, B64_URL, buf + *pos, size - *pos) != 0)
        return -1;
    *pos += strlen(buf + *pos);
    return 0;
}

jwt_status jwt_sign(const uint8_t *key, size_t key_len, const jwt_claims *claims, char **out)
{
    jwt_status rc = JWT_ERR_ARG;
    json_t *payload = NULL;
    char *payload_json = NULL;
    char *buf = NULL;
    uint8_t mac[JWT_MAC_BYTES];
    size_t pos = 0, size;

    if (out != NULL)
        *out = NULL;
    if (key == NULL || key_len < JWT_KEY_MIN_BYTES || claims == NULL || out == NULL ||
        !jwt_claims_ok(claims))
        goto fail;
    payload =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "sub", claims->sub, "dev", claims->dev, "jti",
                  claims->jti, "iat", (json_int_t)claims->iat, "exp", (json_int_t)claims->exp);
    if (payload == NULL || (payload_json = json_dumps(payload, JSON_COMPACT)) == NULL)
        goto fail;
    size = b64_encoded_size(sizeof jwt_header_json - 1, B64_URL) +
           b64_encoded_size(strlen(payload_json), B64_URL) +
           b64_encoded_size(JWT_MAC_BYTES, B64_URL) + 2;
    if ((buf = malloc(size)) == NULL)
        goto fail;
    if (jwt_append_b64(buf, size, &pos, jwt_header_json, sizeof jwt_header_json - 1) != 0)
        goto fail;
    buf[pos++] = '.';
    if (jwt_append_b64(buf, size, &pos, payload_json, strlen(payload_json)) != 0)
        goto fail;
    jwt_mac(key, key_len, buf, pos, mac);
    buf[pos++] = '.';
    if (jwt_append_b64(buf, size, &pos, mac, sizeof mac) != 0)
        goto fail;
    *out = buf;
    buf = NULL;
    rc = JWT_OK;
fail:
    free(buf);
    free(payload_json);
    json_decref(payload);
    sodium_memzero(mac, sizeof mac);
    return rc;
}

/* Splits "a.b.c" into three non-empty parts of base64url characters only. */
static int jwt_split(const char *t, size_t len, size_t start[3], size_t plen[3])
{
    size_t part = 0;

    start[0] = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (ch == '.') {
            if (part == 2)
                return -1;
            plen[part] = i - start[part];
            start[++part] = i + 1;
        } else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
            return -1;
        }
    }
    if (part != 2)
        return -1;
    plen[2] = len - start[2];
    return (plen[0] && plen[1] && plen[2]) ? 0 : -1;
}

/* Decodes a base64url part and parses it as one JSON object (no duplicate keys). */
static json_t *jwt_part_json(const char *s, size_t len)
{
    uint8_t buf[JWT_PART_MAX];
    size_t n = 0;
    json_t *j = NULL;

    if (b64_decode(s, len, B64_URL, buf, sizeof buf, &n) == 0)
        j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int jwt_header_ok(const json_t *h)
{
    const json_t *alg = json_object_get(h, "alg");
    const json_t *typ = json_object_get(h, "typ");

    return json_object_size(h) == 2 && json_is_string(alg) && json_is_string(typ) &&
           json_string_length(alg) == 5 && strcmp(json_string_value(alg), "HS256") == 0 &&
           json_string_length(typ) == 3 && strcmp(json_string_value(typ), "JWT") == 0;
}

static int jwt_copy_id(const json_t *obj, const char *name, char dst[JWT_ID_MAX])
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_string(v) || json_string_length(v) >= JWT_ID_MAX)
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return jwt_id_ok(dst) ? 0 : -1;
}

static int jwt_claims_parse(const json_t *p, jwt_claims *c)
{
    const json_t *iat = json_object_get(p, "iat");
    const json_t *exp = json_object_get(p, "exp");

    if (jwt_copy_id(p, "sub", c->sub) || jwt_copy_id(p, "dev", c->dev) ||
        jwt_copy_id(p, "jti", c->jti) || !json_is_integer(iat) || !json_is_integer(exp))
        return -1;
    c->iat = json_integer_value(iat);
    c->exp = json_integer_value(exp);
    return jwt_claims_ok(c) ? 0 : -1;
}

jwt_status jwt_verify(const uint8_t *key, size_t key_len, const char *token, size_t len,
                      int64_t now, jwt_claims *out)
{
    jwt_status rc = JWT_ERR_MALFORMED;
    size_t start[3], plen[3];
    uint8_t mac[JWT_MAC_BYTES], sig[JWT_MAC_BYTES];
    json_t *header = NULL, *payload = NULL;

    if (out == NULL)
        return JWT_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (key == NULL || key_len < JWT_KEY_MIN_BYTES) {
        rc = JWT_ERR_ARG;
        goto fail;
    }
    if (token == NULL || len == 0 || len > JWT_MAX_TOKEN_LEN || jwt_split(token, len, start, plen))
        goto fail;
    rc = JWT_ERR_SIGNATURE;
    if (b64_decode_exact(token + start[2], plen[2], B64_URL, sig, sizeof sig) != 0)
        goto fail;
    jwt_mac(key, key_len, token, start[2] - 1, mac);
    if (sodium_memcmp(mac, sig, sizeof mac) != 0)
        goto fail;
    rc = JWT_ERR_MALFORMED;
    header = jwt_part_json(token + start[0], plen[0]);
    payload = jwt_part_json(token + start[1], plen[1]);
    if (header == NULL || payload == NULL || !jwt_header_ok(header) ||
        jwt_claims_parse(payload, out) != 0 || out->iat > now + JWT_CLOCK_SKEW_SECONDS)
        goto fail;
    rc = now >= out->exp ? JWT_ERR_EXPIRED : JWT_OK;
fail:
    if (rc != JWT_OK && rc != JWT_ERR_EXPIRED)
        memset(out, 0, sizeof *out);
    json_decref(header);
    json_decref(payload);
    sodium_memzero(mac, sizeof mac);
    return rc;
}

const char *jwt_status_name(jwt_status s)
{
    switch (s) {
    case JWT_OK: return "ok";
    case JWT_ERR_ARG: return "bad_argument";
    case JWT_ERR_MALFORMED: return "malformed";
    case JWT_ERR_SIGNATURE: return "bad_signature";
    case JWT_ERR_EXPIRED: return "expired";
    }
    return "unknown";
}
