/*
 * gen_corpus.c: writes the seed corpus of sottod's fuzz targets into DIR/<target>/
 * (scripts/fuzz.sh --gen-corpus; the output is committed as server/fuzz/corpus). Tokens are
 * signed with the targets' fixed key (fuzz_common.h), so the seeds get past the MAC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "fuzz_common.h"

static const char *out_dir;

static void put(const char *target, const char *name, const void *a, size_t na)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(a, 1, na, f) != na || fclose(f) != 0)
        FUZZ_FAIL("cannot write %s", path);
}

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, s, strlen(s));
}

/* One mode byte, then bytes. */
static void put_mode(const char *target, const char *name, unsigned char mode, const void *p,
                     size_t n)
{
    unsigned char *b = malloc(n + 1);
    if (b == NULL)
        abort();
    b[0] = mode;
    memcpy(b + 1, p, n);
    put(target, name, b, n + 1);
    free(b);
}

static char *token(int64_t iat, int64_t exp)
{
    jwt_claims c;
    char *t = NULL;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "0199aaaa-0000-7000-8000-000000000001");
    snprintf(c.dev, sizeof c.dev, "0199aaaa-0000-7000-8000-000000000002");
    /* a UUIDv7 jti of the issue time (session.c): 0x019ab3c5a800 ms = 1764000000000 */
    snprintf(c.jti, sizeof c.jti, "019ab3c5-a800-7000-8000-000000000003");
    c.iat = iat, c.exp = exp;
    if (jwt_sign(FUZZ_JWT_KEY, FUZZ_JWT_KEY_LEN, &c, &t) != JWT_OK)
        FUZZ_FAIL("jwt_sign");
    return t;
}

static void jwt_seeds(void)
{
    char *ok = token(FUZZ_NOW, FUZZ_NOW + 900), *old = token(FUZZ_NOW - 2000, FUZZ_NOW - 1100);
    char *dot2 = strrchr(ok, '.');
    static const char none[] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                               "eyJzdWIiOiJ4IiwiZGV2IjoieSIsImp0aSI6InoiLCJpYXQiOjEsImV4cCI6Mn0.";
    static const char json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}\0"
                               "{\"sub\":\"u\",\"dev\":\"d\",\"jti\":\"j\",\"iat\":1764000000,"
                               "\"exp\":1764000900}";
    static const char json_dup[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"alg\":\"none\"}\0"
                                   "{\"sub\":\"u\",\"dev\":\"d\",\"jti\":\"j\",\"iat\":1,"
                                   "\"exp\":2}";
    static const char json_types[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}\0"
                                     "{\"sub\":7,\"dev\":\"d\",\"jti\":\"j\",\"iat\":1.5,"
                                     "\"exp\":\"2\"}";
    static const unsigned char claims[] = {5, 'a', 'l', 'i', 'c', 'e', 3, 'd', 'e', 'v',
                                           4, 'j', 't', 'i', '1', 0,   0, 7,   208, 0,
                                           0, 3,   132, 0,   0,   0,   0, 9,   42};

    put_mode("jwt", "valid", 0, ok, strlen(ok));
    put_mode("jwt", "expired", 0, old, strlen(old));
    put_mode("jwt", "alg-none", 0, none, sizeof none - 1);
    put_mode("jwt", "resigned-header-payload", 1, ok, (size_t)(dot2 - ok));
    put_mode("jwt", "json-valid", 2, json, sizeof json - 1);
    put_mode("jwt", "json-duplicate-alg", 2, json_dup, sizeof json_dup - 1);
    put_mode("jwt", "json-wrong-types", 2, json_types, sizeof json_types - 1);
    put_mode("jwt", "round-trip", 3, claims, sizeof claims);
    free(ok);
    free(old);
}

static void wsproto_seeds(void)
{
    char *tok = token(FUZZ_NOW, FUZZ_NOW + 900), buf[1024];
    static const char *const frames[][2] = {
        {"send", "{\"event\":\"message:send\",\"id\":\"r2\",\"data\":{\"conversationId\":"
                 "\"0199aaaa-0000-7000-8000-0000000000c1\",\"clientMessageId\":\"c-1\","
                 "\"envelopes\":[{\"deviceId\":\"0199aaaa-0000-7000-8000-000000000002\","
                 "\"type\":\"message\",\"ciphertext\":\"aGVsbG8=\"},{\"deviceId\":"
                 "\"0199aaaa-0000-7000-8000-000000000004\",\"type\":\"prekey\","
                 "\"ciphertext\":\"AAAA\"}]}}"},
        {"read", "{\"event\":\"message:read\",\"id\":\"r3\",\"data\":{\"messageId\":"
                 "\"0199aaaa-0000-7000-8000-0000000000d1\"}}"},
        {"ack", "{\"event\":\"queue:ack\",\"data\":{\"seq\":42}}"},
        {"typing-start", "{\"event\":\"typing:start\",\"data\":{\"conversationId\":"
                         "\"0199aaaa-0000-7000-8000-0000000000c1\"}}"},
        {"typing-stop", "{\"id\":\"t\",\"event\":\"typing:stop\",\"data\":{\"conversationId\":"
                        "\"0199aaaa-0000-7000-8000-0000000000c1\"}}"},
        {"unknown-event", "{\"event\":\"presence:list\",\"id\":\"x\"}"},
        {"no-data", "{\"event\":\"queue:ack\",\"id\":\"\\u00e9\\u0000\"}"},
        {"bad-id", "{\"event\":\"queue:ack\",\"id\":17,\"data\":{}}"},
        {"long-id", "{\"event\":\"queue:ack\",\"id\":\"0123456789012345678901234567890123456789"
                    "01234567890123456789012345\",\"data\":{}}"},
        {"data-array", "{\"event\":\"typing:stop\",\"id\":\"a\",\"data\":[]}"},
        {"duplicate-key", "{\"event\":\"queue:ack\",\"event\":\"authenticate\"}"},
        {"not-object", "[\"event\",\"authenticate\"]"},
        /* Table lookups: a name with a NUL inside (the parser must refuse it, or a C string
         * lookup would find the row of what comes before the NUL), and a prefix of rows. */
        {"event-nul", "{\"event\":\"typing:stop\\u0000x\",\"data\":{\"conversationId\":"
                      "\"0199aaaa-0000-7000-8000-0000000000c1\"}}"},
        {"event-prefix", "{\"event\":\"message\",\"id\":\"p\"}"},
        {"send-bad-base64", "{\"event\":\"message:send\",\"data\":{\"conversationId\":"
                            "\"0199aaaa-0000-7000-8000-0000000000c1\",\"clientMessageId\":"
                            "\"c\",\"envelopes\":[{\"deviceId\":"
                            "\"0199aaaa-0000-7000-8000-000000000002\",\"type\":\"message\","
                            "\"ciphertext\":\"====\"}]}}"},
    };

    snprintf(buf, sizeof buf,
             "{\"event\":\"authenticate\",\"id\":\"r1\",\"data\":{\"token\":\"%s\"}}", tok);
    put_str("wsproto", "authenticate", buf);
    put_str("wsproto", "authenticate-no-token", "{\"event\":\"authenticate\",\"data\":{}}");
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        put_str("wsproto", frames[i][0], frames[i][1]);
    free(tok);
}

static void router_seeds(void)
{
    /* method index (GET 0, HEAD 1, POST 2, PUT 3, PATCH 4, DELETE 5, OPTIONS 6), path, NUL,
     * scratch size (0: what http.c gives), extra route pattern, NUL, its methods */
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } seeds[] = {
#define S(n, b) {n, b, sizeof b - 1}
        S("healthz", "\0/healthz\0\0/healthz\0\x01"),
        S("user-by-id",
          "\0/api/users/0199aaaa-0000-7000-8000-000000000001\0\0/api/users/:id\0\x01"),
        S("messages-read", "\x02/api/messages/m1/read\0\0/api/messages/:id/read\0\x04"),
        S("conversation-messages", "\0/api/conversations/c1/messages\0\x05/:a/:b/:c\0\x01"),
        S("method-not-allowed", "\x05/api/auth/login\0\0/api/auth/login\0\x04"),
        S("head", "\x01/api/users/me\0\0/x/:y\0\x01"),
        S("empty-segments", "\0//api//users/\0\0/\0\x7f"),
        S("many-params", "\0/a/b/c/d/e/f/g/h/i\0\x03/:a/:b/:c/:d/:e/:f/:g/:h/:i\0\x01"),
        S("block", "\x05/api/users/block/u2\0\0/api/users/block/:userId\0\x20"),
#undef S
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        put("router", seeds[i].name, seeds[i].bytes, seeds[i].len);
}

static void netaddr_seeds(void)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } seeds[] = {
#define S(n, b) {n, b, sizeof b - 1}
        S("proxy-chain", "10.0.0.0/8, 127.0.0.1\0"
                         "127.0.0.1\0"
                         "203.0.113.9, 10.1.2.3"),
        S("ipv6", "fd00::/8,::1\0::1\0"
                  "2001:db8::1 , fd00::2,,"),
        S("mapped", "::ffff:127.0.0.0/104\0::ffff:127.0.0.1\0::ffff:198.51.100.7"),
        S("garbage-xff", "127.0.0.0/8\0"
                         "127.0.0.1\0"
                         "1.2.3.4, evil, 127.0.0.2"),
        S("untrusted-peer", "10.0.0.0/8\0"
                            "192.0.2.1\0"
                            "127.0.0.1"),
        S("bad-list", "10.0.0.0/33,1.2.3.4/\0"
                      "127.0.0.1/8\0"),
        S("prefix-edges", "0.0.0.0/0,::/0,1.2.3.4/32,1.2.3.4/31,::1/128\0"
                          "1.2.3.5\0"
                          "9.9.9.9"),
#undef S
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        put("netaddr", seeds[i].name, seeds[i].bytes, seeds[i].len);
}

static void text_seeds(void)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } seeds[] = {
#define S(n, b) {n, b, sizeof b - 1}
        S("display-name", "\x81"
                          "Ana \xc3\xb1 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"),
        S("bidi-override", "\x7d"
                           "Bob\xe2\x80\xaegpj.exe"),
        S("c1-control", "\x7d"
                        "a\xc2\x85"
                        "b"),
        S("overlong", "\x7d"
                      "\xc0\xaf\xe0\x80\xaf"),
        S("surrogate", "\x7d"
                       "\xed\xa0\x80"),
        S("above-max", "\x7d"
                       "\xf4\x90\x80\x80"),
        S("truncated", "\x7d"
                       "ab\xe2\x82"),
        S("username", "\x00"
                      "alice_01"),
        S("uuid", "\x00"
                  "0199aaaa-0000-7000-8000-000000000001"),
        S("uuid-upper", "\x00"
                        "0199AAAA-0000-7000-8000-000000000001"),
        S("base32-secret", "\x10"
                           "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
        S("base32-padded", "\x10"
                           "MZXW6==="),
        S("base32-lower", "\x10"
                          "mzxw6ytboi"),
        S("b64-standard", "\x20"
                          "aGVsbG8gd29ybGQ="),
        S("b64-url", "\x20"
                     "aGVsbG8_d29ybGQ-"),
        S("b64-trailing-bits", "\x20"
                               "aGVsbG9="),
#undef S
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        put("text", seeds[i].name, seeds[i].bytes, seeds[i].len);
}

/* --- raw HTTP ------------------------------------------------------------------------ */

static char *cat(char *dst, const char *s)
{
    size_t n = strlen(s);
    memcpy(dst, s, n);
    return dst + n;
}

static char *post(char *p, const char *path, const char *body, const char *extra)
{
    char head[512];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n%s\r\n",
             path, strlen(body), extra ? extra : "");
    p = cat(p, head);
    return cat(p, body);
}

static char *get(char *p, const char *path, const char *extra)
{
    char head[512];
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", path,
             extra ? extra : "");
    return cat(p, head);
}

/* A masked client frame. */
static char *ws_frame(char *p, int fin, int opcode, const char *payload, size_t n)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *u = (unsigned char *)p;
    *u++ = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        *u++ = (unsigned char)(0x80 | n);
    } else {
        *u++ = 0x80 | 126;
        *u++ = (unsigned char)(n >> 8);
        *u++ = (unsigned char)n;
    }
    memcpy(u, mask, 4);
    u += 4;
    for (size_t i = 0; i < n; i++)
        *u++ = (unsigned char)payload[i] ^ mask[i % 4];
    return (char *)u;
}

static void put_http(const char *name, const char *start, const char *end)
{
    put("http_raw", name, start, (size_t)(end - start));
}

enum {
    PLAN_ONE_WRITE = 1,
    PLAN_KEEP_OPEN = 2,
    PLAN_CUT_IN_FIRST_BODY = 4,
    PLAN_CUT_IN_SECOND_BODY = 8,
};

/* GET or POST /api/auth/forgot-password, then that POST again, in a form whose
 * fuzz_http_plan_of (fuzz_common.h) is the plan wanted: the address in the bodies is varied
 * until the hash agrees. */
static void pipelined(const char *name, int post_first, int want)
{
    static char b[4096];
    char body[128];

    for (unsigned n = 0; n < 100000; n++) {
        char *p = b, *body1 = NULL, *body2;
        snprintf(body, sizeof body, "{\"email\":\"nobody%u@example.com\"}", n);
        if (post_first) {
            p = post(p, "/api/auth/forgot-password", body, NULL);
            body1 = p - strlen(body);
        } else {
            p = get(p, "/healthz", NULL);
        }
        p = post(p, "/api/auth/forgot-password", body, NULL);
        body2 = p - strlen(body);
        size_t size = (size_t)(p - b);
        fuzz_http_plan plan = fuzz_http_plan_of((const uint8_t *)b, size);
        size_t c0 = plan.cut[0], c1 = plan.cut[1];
        if ((want & PLAN_ONE_WRITE) && !plan.one_write)
            continue;
        if (!!(want & PLAN_KEEP_OPEN) == !!plan.half_close_at_once)
            continue;
        if ((want & PLAN_CUT_IN_FIRST_BODY) &&
            (plan.one_write || !body1 || c0 <= (size_t)(body1 - b) || c0 >= (size_t)(body2 - b)))
            continue;
        if ((want & PLAN_CUT_IN_SECOND_BODY) &&
            (plan.one_write || c1 <= (size_t)(body2 - b) || c1 >= size))
            continue;
        put_http(name, b, p);
        return;
    }
    FUZZ_FAIL("no form of %s takes the plan wanted", name);
}

static void http_seeds(void)
{
    static char b[32768];
    char *p;
    static const char login[] = "{\"identifier\":\"alice\",\"password\":\"correct horse\","
                                "\"device\":{\"name\":\"fuzz\",\"platform\":\"cli\"}}";
    static const char ws_upgrade[] =
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: sotto.v1\r\n\r\n";

    p = get(b, "/healthz", NULL);
    put_http("get", b, p);
    p = get(b, "/healthz", NULL);
    p = get(p, "/api/users/me", "Authorization: Bearer abc.def.ghi\r\n");
    put_http("get-get", b, p);
    /* KNOWN WEDGE (lws 4.1.6 lws_service_do_ripe_rxflow): a second pipelined request with a
     * body, in the same write as the first (so these seeds take a one-write plan). */
    pipelined("get-post-pipelined", 0, PLAN_ONE_WRITE);
    pipelined("post-post-pipelined", 1, PLAN_ONE_WRITE);
    pipelined("post-post-kept-open", 1, PLAN_ONE_WRITE | PLAN_KEEP_OPEN);
    pipelined("post-post-cut-in-first-body", 1, PLAN_CUT_IN_FIRST_BODY);
    pipelined("get-post-cut-in-second-body", 0, PLAN_CUT_IN_SECOND_BODY);
    p = post(b, "/api/auth/login", login, "X-Forwarded-For: 198.51.100.7, 10.0.0.1\r\n");
    put_http("post-login-xff", b, p);
    p = post(b, "/api/_test/echo", "{\"a\":[1,2,{\"b\":null}]}", "Origin: https://app.example\r\n");
    put_http("post-echo-cors", b, p);
    p = cat(b, "POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
               "\r\nContent-Length: 90\r\n\r\n{\"username\":"); /* the body ends early */
    put_http("post-short-body", b, p);
    p = cat(b, "POST /api/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}");
    put_http("duplicate-content-length", b, p);
    p = cat(b, "POST /api/auth/logout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    put_http("chunked", b, p);
    p = cat(b, "POST /api/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    put_http("chunked-and-length", b, p);
    p = cat(b, "POST /api/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
               "Content-Length: 99999999\r\n\r\nxx");
    put_http("too-large-wrong-type", b, p);
    p = cat(b, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
    put_http("h2c-upgrade", b, p);
    p = cat(b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    put_http("h2-preface", b, p);
    p = cat(b, "GET /app.js HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(p, 'a', 5000);
    p += 5000;
    p = cat(p, "\r\n\r\n");
    put_http("huge-header", b, p);
    p = get(b, "/index.html", "If-None-Match: \"x\"\r\nRange: bytes=0-3\r\n");
    p = get(p, "/../../etc/passwd", NULL);
    p = get(p, "/%2e%2e/%2fsecrets", NULL);
    put_http("static-and-traversal", b, p);
    p = get(b, "/metrics", "Authorization: Bearer fuzz-metrics-token-0123456789abcdef\r\n");
    put_http("metrics", b, p);
    p = cat(b, "OPTIONS /api/auth/login HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
               "Access-Control-Request-Method: POST\r\n\r\n");
    p = cat(p, "DELETE /api/users/block/u1?x=%zz&y HTTP/1.1\r\nHost: x\r\n\r\n");
    put_http("preflight-delete", b, p);
    p = cat(b, "GET /api/users/search?q=al%00ice&limit=-1 HTTP/1.0\r\n\r\n");
    put_http("http10-query", b, p);
    p = cat(b, "GET /healthz HTTP/1.1\nHost: x\n\n");
    put_http("bare-lf", b, p);
    p = cat(b, "G\xe9T /\x01 HTTP/1.1\r\n\r\n");
    put_http("garbage-method", b, p);
    /* WebSocket: upgrade, then frames: authenticate (fragmented), a ping, a close. */
    p = cat(b, ws_upgrade);
    {
        static const char auth1[] = "{\"event\":\"authenticate\",";
        static const char auth2[] = "\"id\":\"1\",\"data\":{\"token\":\"a.b.c\"}}";
        p = ws_frame(p, 0, 1, auth1, sizeof auth1 - 1);
        p = ws_frame(p, 1, 0, auth2, sizeof auth2 - 1);
        p = ws_frame(p, 1, 9, "hi", 2);
        p = ws_frame(p, 1, 8, "\x03\xe8", 2);
    }
    put_http("ws-fragmented-authenticate", b, p);
    p = cat(b, ws_upgrade);
    {
        static const char send[] = "{\"event\":\"message:send\",\"data\":{}}";
        p = ws_frame(p, 1, 1, send, sizeof send - 1);
        p = ws_frame(p, 1, 2, "\x00\x01", 2);
    }
    put_http("ws-unauthenticated-send", b, p);
    p = cat(b, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Origin: https://evil.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    put_http("ws-bad-origin", b, p);
}

/* fuzz_fields: a table byte (0 registration, 1 sign-in, 2 one row of every kind), then a
 * JSON body. */
static void fields_seeds(void)
{
    static const struct {
        const char *name;
        unsigned char table;
        const char *json;
    } seeds[] = {
        {"register-ok", 0,
         "{\"email\":\"alice@example.com\",\"username\":\"alice_1\",\"password\":"
         "\"correct horse\",\"displayName\":\"Alice\",\"device\":{\"name\":\"Phone\","
         "\"platform\":\"ios\"},\"keys\":{}}"},
        {"register-bad-device", 0,
         "{\"email\":\"a@b.c\",\"username\":\"bob\",\"password\":\"x\",\"device\":"
         "{\"name\":\"\\u202egpj\",\"platform\":\"tv\"}}"},
        {"register-null-password", 0,
         "{\"email\":\"a@b.c\",\"username\":\"bob\","
         "\"password\":null}"},
        {"login-device-id", 1,
         "{\"email\":\"a@b.c\",\"password\":\"pw\",\"mfaCode\":\"123456\",\"device\":"
         "{\"name\":\"Laptop\",\"platform\":\"cli\",\"id\":"
         "\"0199aaaa-0000-7000-8000-000000000002\"}}"},
        {"login-wrong-types", 1, "{\"email\":7,\"password\":[],\"device\":null}"},
        {"every-ok", 2,
         "{\"s\":\"h\\u00e9llo\",\"u\":\"0199aaaa-0000-7000-8000-000000000001\",\"b\":true,"
         "\"i\":-5,\"a\":[1,\"2\",null],\"o\":{\"k\":\"AQIDBA==\",\"n\":4294967295},"
         "\"c\":\"\",\"x\":\"\\u0001\"}"},
        {"every-bounds", 2, "{\"s\":\"123456789\",\"i\":6,\"a\":[1,2,3,4],\"x\":\"\"}"},
        {"every-nested", 2, "{\"o\":{\"k\":\"AQID\",\"n\":-1},\"x\":\"y\"}"},
        {"not-object", 2, "[1,2,3]"},
    };

    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        put_mode("fields", seeds[i].name, seeds[i].table, seeds[i].json, strlen(seeds[i].json));
}

/* Upload headers for the profile-picture gate: each format's size header, a bomb, and the
 * malformed forms the readers must refuse. */
static void avatar_seeds(void)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } seeds[] = {
#define S(n, b) {n, b, sizeof b - 1}
        S("png", "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x02\x80\0\0\x01\xe0\x08\x02\0\0\0"),
        S("png-bomb", "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x75\x30\0\0\x75\x30\x08\x02\0\0\0"),
        S("png-cut", "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0"),
        S("jpeg", "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
                  "\xff\xfe\0\x04hi\xff\xff\xc0\0\x11\x08\x01\x2c\x04\xb0\x03"),
        S("jpeg-zero-length", "\xff\xd8\xff\xe1\0\0\xff\xc0\0\x11\x08\0\x10\0\x10"),
        S("jpeg-long-segment", "\xff\xd8\xff\xe1\xff\xff\0\0"),
        S("jpeg-scan-first", "\xff\xd8\xff\xda\0\x08\x01\x01\0\0\x3f\0"),
        S("webp-vp8", "RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0\x30\x01\0\x9d\x01\x2a\x40\x01\xf0\0"),
        S("webp-vp8l", "RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\x3f\xc0\x0f\0\0\0\0\0\0"),
        S("webp-vp8x", "RIFF\x1a\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\x2f\x75\0\x2f\x75\0"),
        S("svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
#undef S
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        put("avatar", seeds[i].name, seeds[i].bytes, seeds[i].len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (with DIR/<target>/ made)\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    out_dir = argv[1];
    jwt_seeds();
    wsproto_seeds();
    router_seeds();
    netaddr_seeds();
    text_seeds();
    http_seeds();
    fields_seeds();
    avatar_seeds();
    return 0;
}
