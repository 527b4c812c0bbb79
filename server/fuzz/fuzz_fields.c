/*
 * fuzz_fields: the declared field checks of every JSON body (api/fields.c). Input: one
 * selector byte that picks a table (a registration, a sign-in with its nested device and the
 * reasons older routes keep, one row of every kind), then JSON text parsed as the server
 * parses a body.
 *
 * Findings: a crash, overread or leak; a success where a required row is absent, null or of
 * another type, a string kind's value that is not the member's text, a number or an array
 * out of its bounds, text with invalid UTF-8 or a control character; a failure naming a field
 * that is no row's path, a reason that is no reason of that row, "missing" for a member that
 * is there, "wrong_type" for one of the right type; a failure that is not the first (the rows
 * before it pass alone); two runs that disagree.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "api/fields.h"
#include "auth/utf8.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define VALUES 32

static const char *const platforms[] = {"web", "ios", "android", "cli", NULL};

static const struct field_spec reg_device[] = {
    {"name", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 100},
    {"platform", FIELD_ENUM, FIELD_REQUIRED, .one_of = platforms, .as_wrong_type = "missing"},
};
static const struct field_spec reg[] = {
    {"email", FIELD_EMAIL, FIELD_REQUIRED, .min = 3, .max = 254},
    {"username", FIELD_USERNAME, FIELD_REQUIRED, .min = 3, .max = 32},
    {"password", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
    {"displayName", FIELD_STRING, 0, .min = 1, .max = 100},
    {"device", FIELD_OBJECT, FIELD_REQUIRED | FIELD_NULL_WRONG, .sub = reg_device, .n_sub = 2},
    {.name = "keys", .type = FIELD_ANY},
};

static const struct field_spec login_device[] = {
    {"name", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 100},
    {"platform", FIELD_ENUM, FIELD_REQUIRED, .one_of = platforms, .as_wrong_type = "missing"},
    {"id", FIELD_UUID, FIELD_NULL_WRONG, .as_wrong_type = "invalid"},
};
static const struct field_spec login[] = {
    {"email", FIELD_OPAQUE, FIELD_REQUIRED, .min = 1, .max = 254, .as_wrong_type = "missing",
     .as_bounds = "invalid"},
    {"password", FIELD_OPAQUE, FIELD_REQUIRED, .max = 1024, .as_wrong_type = "missing"},
    {"mfaCode", FIELD_STRING, 0, .max = 32},
    {"device", FIELD_OBJECT, FIELD_REQUIRED | FIELD_NULL_WRONG, .sub = login_device, .n_sub = 3},
};

static const struct field_spec inner[] = {
    {"k", FIELD_BASE64, FIELD_REQUIRED, .min = 4, .max = 4},
    {"n", FIELD_INTEGER, 0, .min = 0, .max = 4294967295LL},
};
static const struct field_spec every[] = {
    {"s", FIELD_STRING, 0, .min = 2, .max = 8},
    {.name = "u", .type = FIELD_UUID},
    {.name = "b", .type = FIELD_BOOLEAN},
    {"i", FIELD_INTEGER, 0, .min = -5, .max = 5},
    {"a", FIELD_ARRAY, 0, .max = 3},
    {"o", FIELD_OBJECT, FIELD_NULL_WRONG, .sub = inner, .n_sub = 2},
    {"c", FIELD_BASE64, 0, .min = 0, .max = 300},
    {"x", FIELD_OPAQUE, FIELD_REQUIRED, .min = 1, .max = 16},
};

/* A message envelope (messaging.c), whose older reasons override the defaults. */
static const char *const envelope_types[] = {"prekey", "message", NULL};
static const struct field_spec envelope[] = {
    {"deviceId", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
    {"type", FIELD_ENUM, FIELD_REQUIRED | FIELD_NULL_WRONG, .one_of = envelope_types,
     .as_wrong_type = "out_of_range", .as_invalid = "out_of_range"},
    {"ciphertext", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
};

struct table {
    const struct field_spec *rows;
    size_t n;
};

static const struct table tables[] = {
    {reg, N(reg)}, {login, N(login)}, {every, N(every)}, {envelope, N(envelope)}};

static bool is_string_kind(enum field_type t)
{
    return t != FIELD_INTEGER && t != FIELD_BOOLEAN && t != FIELD_OBJECT && t != FIELD_ARRAY &&
           t != FIELD_ANY;
}

static bool type_ok(const struct field_spec *s, const json_t *v)
{
    switch (s->type) {
    case FIELD_INTEGER: return json_is_integer(v);
    case FIELD_BOOLEAN: return json_is_boolean(v);
    case FIELD_OBJECT: return json_is_object(v);
    case FIELD_ARRAY: return json_is_array(v);
    case FIELD_ANY: return true;
    default: return json_is_string(v);
    }
}

/* Any C0, DEL, C1 or bidirectional control in valid UTF-8 text. */
static bool has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < len; i++)
        if (u[i] < 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && u[i + 1] < 0xa0) ||
            (u[i] == 0xe2 && u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
            (u[i] == 0xe2 && u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9))
            return true;
    return false;
}

/* After a success: every row's slot against the object, depth first. */
static void check_success(const json_t *obj, const struct field_spec *rows, size_t n,
                          const struct field_value *v, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        const struct field_spec *s = &rows[i];
        const struct field_value *x = &v[(*at)++];
        const json_t *m = json_object_get(obj, s->name);
        bool absent = !m || (json_is_null(m) && !(s->flags & FIELD_NULL_WRONG));

        FUZZ_CHECK(x->json == m);
        if (absent) {
            FUZZ_CHECK(!(s->flags & FIELD_REQUIRED));
            FUZZ_CHECK(x->str == NULL);
            *at += s->type == FIELD_OBJECT ? fields_count(s->sub, s->n_sub) : 0;
            continue;
        }
        FUZZ_CHECK(type_ok(s, m));
        if (is_string_kind(s->type)) {
            FUZZ_CHECK(x->str == json_string_value(m) && x->len == json_string_length(m));
        }
        if (s->type == FIELD_STRING || s->type == FIELD_USERNAME || s->type == FIELD_EMAIL) {
            size_t chars = 0;

            FUZZ_CHECK(utf8_count(x->str, x->len, &chars) == 0);
            FUZZ_CHECK(!has_control(x->str, x->len));
            FUZZ_CHECK((int64_t)chars >= s->min && (uint64_t)chars <= (uint64_t)s->max);
        }
        if (s->type == FIELD_OPAQUE)
            FUZZ_CHECK((int64_t)x->len >= s->min && (uint64_t)x->len <= (uint64_t)s->max);
        if (s->type == FIELD_UUID)
            FUZZ_CHECK(x->len == 36);
        if (s->type == FIELD_INTEGER)
            FUZZ_CHECK(x->num == json_integer_value(m) && x->num >= s->min && x->num <= s->max);
        if (s->type == FIELD_ARRAY)
            FUZZ_CHECK(json_array_size(m) <= (uint64_t)s->max);
        if (s->type == FIELD_BOOLEAN)
            FUZZ_CHECK(x->flag == json_is_true(m));
        if (s->type == FIELD_OBJECT)
            check_success(m, s->sub, s->n_sub, v, at);
    }
}

/* After a failure: the row it names, found by walking the paths. */
static const struct field_spec *find_row(const json_t *obj, const char *prefix,
                                         const struct field_spec *rows, size_t n, const char *field,
                                         const json_t **member)
{
    char path[FIELD_PATH_MAX];

    for (size_t i = 0; i < n; i++) {
        const struct field_spec *hit;

        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", rows[i].name);
        if (!strcmp(path, field)) {
            *member = json_object_get(obj, rows[i].name);
            return &rows[i];
        }
        if (rows[i].type == FIELD_OBJECT &&
            (hit = find_row(json_object_get(obj, rows[i].name), path, rows[i].sub, rows[i].n_sub,
                            field, member)))
            return hit;
    }
    return NULL;
}

static bool reason_of(const struct field_spec *s, const char *r)
{
    static const char *const known[] = {
        "missing",    "wrong_type",   "too_short", "too_long",     "invalid", "invalid_characters",
        "bad_base64", "wrong_length", "unknown",   "out_of_range", "too_many"};

    if ((s->as_wrong_type && !strcmp(r, s->as_wrong_type)) ||
        (s->as_bounds && !strcmp(r, s->as_bounds)) || (s->as_invalid && !strcmp(r, s->as_invalid)))
        return true;
    for (size_t i = 0; i < N(known); i++)
        if (!strcmp(r, known[i]))
            return true;
    return false;
}

static void check_failure(const json_t *obj, const struct table *t, const struct field_fail *f)
{
    const json_t *m = NULL;
    const struct field_spec *s = find_row(obj, "", t->rows, t->n, f->field, &m);
    static struct field_value v[VALUES];
    struct field_fail again;
    size_t top = 0;

    if (!s)
        FUZZ_FAIL("failure names no row: %s", f->field);
    FUZZ_CHECK(reason_of(s, f->reason));
    if (!strcmp(f->reason, "missing") && s->as_wrong_type == NULL)
        FUZZ_CHECK(m == NULL || json_is_null(m));
    if (!strcmp(f->reason, "wrong_type") &&
        !(s->as_invalid && !strcmp(s->as_invalid, "wrong_type")))
        FUZZ_CHECK(m != NULL && (!type_ok(s, m) || json_is_null(m)));
    /* The first failure: the top-level rows before the one that failed pass alone. */
    while (top < t->n) {
        size_t k = strlen(t->rows[top].name);

        if (!strncmp(f->field, t->rows[top].name, k) && (!f->field[k] || f->field[k] == '.'))
            break;
        top++;
    }
    FUZZ_CHECK(top < t->n);
    FUZZ_CHECK(fields_check(obj, NULL, t->rows, top, v, VALUES, &again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct field_value v[VALUES], w[VALUES];
    struct field_fail f, g;
    const struct table *t;
    json_t *obj;
    int rc;

    if (size == 0)
        return 0;
    t = &tables[data[0] % N(tables)];
    obj = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (!obj)
        return 0;
    /* A body that is no object reads as an empty one. */
    rc = fields_check(obj, NULL, t->rows, t->n, v, VALUES, &f);
    FUZZ_CHECK(fields_check(obj, NULL, t->rows, t->n, w, VALUES, &g) == rc);
    if (rc == 0) {
        size_t at = 0;

        FUZZ_CHECK(f.reason == NULL);
        check_success(json_is_object(obj) ? obj : NULL, t->rows, t->n, v, &at);
        FUZZ_CHECK(memcmp(v, w, sizeof(v)) == 0);
    } else {
        FUZZ_CHECK(rc == -1 && f.reason != NULL);
        FUZZ_CHECK(!strcmp(f.field, g.field) && f.reason == g.reason);
        check_failure(json_is_object(obj) ? obj : NULL, t, &f);
    }
    json_decref(obj);
    return 0;
}
