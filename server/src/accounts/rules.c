/* GET /api/auth/rules: the rules an account's fields are checked with, for clients to show
 * before a form is sent (the lengths, and which characters are allowed or refused). Nothing
 * here is typed out twice: the lengths are the field rows the routes check with (internal.h)
 * and the password policy's constants, and the characters are found by asking the very
 * checks those rows run (fields_check, api_has_control), once at start. The same answer for
 * everyone, public and cacheable. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/internal.h"
#include "api/fields.h"
#include "auth/password.h"
#include "base/server.h"
#include "net/http.h"
#include "net/router.h"

/* An hour: a client that caches them sees a changed rule after a release within that. */
#define RULES_CACHE_CONTROL "public, max-age=3600"
#define RULES_CLASS_MAX 512
#define RULES_LAST_ASCII 0x7fU
#define RULES_LAST_CODE_POINT 0x10ffffU

enum { RULE_EMAIL, RULE_USERNAME, RULE_DISPLAY_NAME, RULE_BIO, RULE_DEVICE_NAME, RULE_ROWS };
static const struct field_spec rules_rows[] = {
    [RULE_EMAIL] = ACCOUNT_EMAIL_ROW,
    [RULE_USERNAME] = ACCOUNT_USERNAME_ROW,
    [RULE_DISPLAY_NAME] = ACCOUNT_DISPLAY_NAME_ROW(1),
    [RULE_BIO] = ACCOUNT_BIO_ROW,
    [RULE_DEVICE_NAME] = ACCOUNT_DEVICE_NAME_ROW,
};
/* The names clients know them by (a device's name is "name" inside "device"). */
static const char *const rules_names[] = {"email", "username", "displayName", "bio", "deviceName"};

struct rules_buf {
    char s[RULES_CLASS_MAX];
    size_t len;
};

static void rules_put(struct rules_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rules_put(struct rules_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->s) - b->len)
        abort(); /* a class this long means a check changed beyond what this expects */
    b->len += (size_t)n;
}

/* One code point in a JavaScript regular expression class (flag u). */
static void rules_put_cp(struct rules_buf *b, uint32_t cp)
{
    if (cp > 0x20 && cp < 0x7f && !strchr("\\]-^[/", (int)cp))
        rules_put(b, "%c", (char)cp);
    else if (cp <= 0xffff)
        rules_put(b, "\\u%04x", cp);
    else
        rules_put(b, "\\u{%x}", cp);
}

static size_t rules_utf8(uint32_t cp, char out[5])
{
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};

    memset(out, 0, 5);
    for (size_t i = n - 1; i > 0; i--, cp >>= 6)
        out[i] = (char)(0x80 | (cp & 0x3f));
    out[0] = (char)(n == 1 ? cp : lead[n] | cp);
    return n;
}

typedef bool (*rules_probe)(const struct field_spec *row, uint32_t cp);

/* The class of the code points first..last (surrogates left out) that probe accepts, as
 * ranges. */
static void rules_class(struct rules_buf *b, const struct field_spec *row, rules_probe probe,
                        uint32_t first, uint32_t last)
{
    rules_put(b, "[");
    for (uint32_t cp = first; cp <= last; cp++) {
        uint32_t end = cp;

        if ((cp >= 0xd800 && cp <= 0xdfff) || !probe(row, cp))
            continue;
        while (end < last && !(end + 1 >= 0xd800 && end + 1 <= 0xdfff) && probe(row, end + 1))
            end++;
        rules_put_cp(b, cp);
        if (end > cp + 1)
            rules_put(b, "-");
        if (end > cp)
            rules_put_cp(b, end);
        cp = end;
    }
    rules_put(b, "]");
}

/* Whether the row takes `before` + cp + `after` as its value. */
static bool rules_row_takes(const struct field_spec *row, const char *before, uint32_t cp,
                            const char *after)
{
    char c[5], text[32];
    struct field_value v;
    struct field_fail fail;
    json_t *o;
    bool ok;

    rules_utf8(cp, c);
    snprintf(text, sizeof(text), "%s%s%s", before, c, after);
    o = json_pack("{s:s}", row->name, text);
    ok = o && !fields_check(o, NULL, row, 1, &v, 1, &fail);
    json_decref(o);
    return ok;
}

static bool rules_username_char(const struct field_spec *row, uint32_t cp)
{
    return rules_row_takes(row, "ab", cp, "");
}

static bool rules_email_char(const struct field_spec *row, uint32_t cp)
{
    return rules_row_takes(row, "a", cp, "@b");
}

static bool rules_refused_char(const struct field_spec *row, uint32_t cp)
{
    char c[5];
    size_t n = rules_utf8(cp, c);

    (void)row;
    return api_has_control(c, n);
}

/* refused: the class of characters no text row takes (the same check for every one). */
static json_t *rules_field(const struct field_spec *row, const char *refused)
{
    struct rules_buf b = {.len = 0};
    json_t *o = json_pack("{s:I, s:I, s:s}", "minLength", (json_int_t)row->min, "maxLength",
                          (json_int_t)row->max, "unit", "characters");

    if (row->type == FIELD_USERNAME) {
        rules_put(&b, "^");
        rules_class(&b, row, rules_username_char, 1, RULES_LAST_ASCII);
        rules_put(&b, "+$");
        json_object_set_new(o, "pattern", json_string(b.s));
    } else if (row->type == FIELD_EMAIL) {
        struct rules_buf c = {.len = 0};

        rules_class(&c, row, rules_email_char, 1, RULES_LAST_ASCII);
        rules_put(&b, "^%s+@%s+$", c.s, c.s);
        json_object_set_new(o, "pattern", json_string(b.s));
    } else {
        json_object_set_new(o, "refused", json_string(refused));
    }
    return o;
}

static json_t *rules_password(void)
{
    return json_pack("{s:I, s:I, s:s, s:[ss]}", "minLength", (json_int_t)PASSWORD_MIN_CHARS,
                     "maxLength", (json_int_t)PASSWORD_MAX_CHARS, "unit", "characters",
                     "notEqualTo", "email", "username");
}

/* The answer, built once. */
static char *rules_build(void)
{
    json_t *o = json_pack("{s:o}", "password", rules_password());
    struct rules_buf refused = {.len = 0};
    char *s;

    rules_class(&refused, NULL, rules_refused_char, 0, RULES_LAST_CODE_POINT);
    for (size_t i = 0; i < RULE_ROWS; i++)
        json_object_set_new(o, rules_names[i], rules_field(&rules_rows[i], refused.s));
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s)
        abort();
    return s;
}

static void rules_get(struct http_req *req, void *arg)
{
    const struct auth_state *a = arg;

    /* A constant: no store, no worker, so no job; and cacheable, unlike a job's answer. */
    http_add_header(req, "cache-control", RULES_CACHE_CONTROL);
    http_respond(req, 200, "application/json", a->rules_json, strlen(a->rules_json));
}

int rules_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_GET, "/api/auth/rules", rules_get, a, 0, 0};

    if (a && !a->rules_json)
        a->rules_json = rules_build();
    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
