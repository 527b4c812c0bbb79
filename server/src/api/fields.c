/* The one check of declared input fields (fields.h): each row's presence, type and bounds, in
 * the order of the table, the first failure reported as {field, reason}. */
#include "api/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/b64.h"
#include "auth/utf8.h"
#include "mail/mail.h"

/* Room for the decoded bytes of a FIELD_BASE64 checked on the stack; longer ones go to
 * the heap. */
#define FIELDS_B64_STACK 256

struct fields_walk {
    struct field_value *values;
    size_t next; /* the next slot of values */
    struct field_fail *fail;
};

static int fields_rows(struct fields_walk *w, const json_t *obj, const char *at,
                       const struct field_spec *specs, size_t n);

static int fields_fail(struct fields_walk *w, const char *at, const struct field_spec *s,
                       const char *reason)
{
    if (at && *at)
        snprintf(w->fail->field, sizeof(w->fail->field), "%s.%s", at, s->name);
    else
        snprintf(w->fail->field, sizeof(w->fail->field), "%s", s->name);
    w->fail->reason = reason;
    return -1;
}

static const char *fields_bounds(const struct field_spec *s, const char *reason)
{
    return s->as_bounds ? s->as_bounds : reason;
}

static const char *fields_invalid(const struct field_spec *s, const char *reason)
{
    return s->as_invalid ? s->as_invalid : reason;
}

static bool fields_username_chars(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool fields_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* Text for people, in the order api_string checks it: a byte length no count of max code
 * points can reach, then the characters, then the count. */
static const char *fields_text(const struct field_spec *s, const char *v, size_t len)
{
    size_t chars;

    if (s->max < FIELD_UNBOUNDED / 4 && len > (uint64_t)s->max * 4)
        return fields_bounds(s, "too_long");
    if (utf8_count(v, len, &chars) || api_has_control(v, len))
        return "invalid_characters";
    if ((int64_t)chars < s->min)
        return fields_bounds(s, "too_short");
    if ((uint64_t)chars > (uint64_t)s->max)
        return fields_bounds(s, "too_long");
    if (s->type == FIELD_USERNAME && !fields_username_chars(v))
        return "invalid_characters";
    if (s->type == FIELD_EMAIL && mail_addr_check(v))
        return "invalid";
    return NULL;
}

static const char *fields_base64(const struct field_spec *s, const char *v, size_t len)
{
    uint8_t stack[FIELDS_B64_STACK], *buf = stack;
    size_t cap = len / 4 * 3 + 3, got = 0;
    const char *reason = NULL;

    if (cap > sizeof(stack) && !(buf = malloc(cap)))
        abort();
    if (b64_decode(v, len, B64_STANDARD, buf, cap, &got))
        reason = "bad_base64";
    else if (s->min == s->max && (int64_t)got != s->min)
        reason = fields_bounds(s, "wrong_length");
    else if ((int64_t)got < s->min)
        reason = fields_bounds(s, "too_short");
    else if ((uint64_t)got > (uint64_t)s->max)
        reason = fields_bounds(s, "too_long");
    if (buf != stack)
        free(buf);
    return reason;
}

static const char *fields_enum(const struct field_spec *s, const char *v)
{
    for (size_t i = 0; s->one_of && s->one_of[i]; i++)
        if (!strcmp(v, s->one_of[i]))
            return NULL;
    return fields_invalid(s, "unknown");
}

/* The string kinds: the value's own checks; NULL when it passes. */
static const char *fields_string(const struct field_spec *s, struct field_value *out)
{
    const char *v = json_string_value(out->json);
    size_t len = json_string_length(out->json);

    out->str = v;
    out->len = len;
    switch (s->type) {
    case FIELD_STRING:
    case FIELD_USERNAME:
    case FIELD_EMAIL: return fields_text(s, v, len);
    case FIELD_UUID: return fields_uuid(v, len) ? NULL : fields_invalid(s, "invalid");
    case FIELD_BASE64: return fields_base64(s, v, len);
    case FIELD_ENUM: return fields_enum(s, v);
    default: break;
    }
    if ((int64_t)len < s->min)
        return fields_bounds(s, "too_short");
    if ((uint64_t)len > (uint64_t)s->max)
        return fields_bounds(s, "too_long");
    return NULL;
}

static bool fields_type_ok(const struct field_spec *s, const json_t *v)
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

/* One present, non-absent value of the right type: its bounds and its sub rows. */
static const char *fields_value(struct fields_walk *w, const char *at, const struct field_spec *s,
                                struct field_value *out)
{
    char path[FIELD_PATH_MAX];

    switch (s->type) {
    case FIELD_INTEGER:
        out->num = (int64_t)json_integer_value(out->json);
        return out->num < s->min || out->num > s->max ? fields_bounds(s, "out_of_range") : NULL;
    case FIELD_BOOLEAN: out->flag = json_is_true(out->json); return NULL;
    case FIELD_ARRAY:
        return (uint64_t)json_array_size(out->json) > (uint64_t)s->max
                   ? fields_bounds(s, "too_many")
                   : NULL;
    case FIELD_ANY: return NULL;
    case FIELD_OBJECT:
        if (at && *at)
            snprintf(path, sizeof(path), "%s.%s", at, s->name);
        else
            snprintf(path, sizeof(path), "%s", s->name);
        return fields_rows(w, out->json, path, s->sub, s->n_sub) ? w->fail->reason : NULL;
    default: return fields_string(s, out);
    }
}

static int fields_row(struct fields_walk *w, const json_t *obj, const char *at,
                      const struct field_spec *s)
{
    struct field_value *out = &w->values[w->next++];
    const json_t *v = obj ? json_object_get(obj, s->name) : NULL;
    bool absent = !v || (json_is_null(v) && !(s->flags & FIELD_NULL_WRONG));
    const char *reason;

    out->json = v;
    if (absent) {
        /* The sub rows' slots stay zero. */
        w->next += s->type == FIELD_OBJECT ? fields_count(s->sub, s->n_sub) : 0;
        return s->flags & FIELD_REQUIRED ? fields_fail(w, at, s, "missing") : 0;
    }
    if (!fields_type_ok(s, v))
        return fields_fail(w, at, s, s->as_wrong_type ? s->as_wrong_type : "wrong_type");
    if (s->type == FIELD_OBJECT)
        return fields_value(w, at, s, out) ? -1 : 0; /* a sub row already said which */
    reason = fields_value(w, at, s, out);
    if (reason) {
        out->str = NULL;
        return fields_fail(w, at, s, reason);
    }
    return 0;
}

static int fields_rows(struct fields_walk *w, const json_t *obj, const char *at,
                       const struct field_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fields_row(w, obj, at, &specs[i]))
            return -1;
    return 0;
}

size_t fields_count(const struct field_spec *specs, size_t n)
{
    size_t count = n;

    for (size_t i = 0; i < n; i++)
        if (specs[i].type == FIELD_OBJECT)
            count += fields_count(specs[i].sub, specs[i].n_sub);
    return count;
}

int fields_check(const json_t *obj, const char *at, const struct field_spec *specs, size_t n,
                 struct field_value *values, size_t n_values, struct field_fail *fail)
{
    struct fields_walk w = {values, 0, fail};

    if (fields_count(specs, n) > n_values)
        abort(); /* a table bigger than its values: a programming error */
    memset(values, 0, n_values * sizeof(*values));
    fail->field[0] = 0;
    fail->reason = NULL;
    return fields_rows(&w, obj, at, specs, n);
}

int job_fields(struct job *j, const json_t *obj, const struct field_spec *specs, size_t n,
               struct field_value *values, size_t n_values)
{
    struct field_fail fail;

    if (!fields_check(obj, NULL, specs, n, values, n_values, &fail))
        return 0;
    job_invalid(j, fail.field, fail.reason);
    return -1;
}

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
