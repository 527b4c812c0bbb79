/* Input checks declared, not typed out: a JSON body's fields as rows of a table (name, type,
 * bounds, required), checked in order by one function that answers the first failure as
 * {field, reason}, the validation_failed details every route gives (docs/api/openapi.yaml).
 *
 * A handler declares its body once:
 *
 *     enum { EMAIL, PASSWORD, N };
 *     static const struct field_spec login_fields[] = {
 *         [EMAIL] = {"email", FIELD_EMAIL, FIELD_REQUIRED, .min = 3, .max = 254},
 *         [PASSWORD] = {"password", FIELD_OPAQUE, FIELD_REQUIRED, .max = PASSWORD_MAX_BYTES},
 *     };
 *     struct field_value v[N];
 *     if (job_fields(j, j->body, login_fields, N, v, N)) ...   (v[EMAIL].str, ...)
 *
 * Rows past name, type and flags use designators (.min, .max, ...): the build warns about a
 * row that leaves members out without them.
 *
 * What is not the shape of one field (a signature, a rule across fields, the password
 * policy) stays code after the check. Members not in the table are ignored. Pure and
 * thread-safe, apart from job_fields, which sets the job's error. */
#ifndef SOTTO_API_FIELDS_H
#define SOTTO_API_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The kinds of field, each with its default reasons after "missing" and "wrong_type". */
enum field_type {
    /* Text shown to people: valid UTF-8 without control or bidirectional-override characters
     * ("invalid_characters"); min/max in code points ("too_short", "too_long"). */
    FIELD_STRING,
    /* FIELD_STRING whose characters are [A-Za-z0-9_] ("invalid_characters"). */
    FIELD_USERNAME,
    /* FIELD_STRING that is an addr-spec (mail_addr_check; "invalid"). */
    FIELD_EMAIL,
    /* A canonical lower-case UUID ("invalid"). */
    FIELD_UUID,
    /* Any JSON string, used as given by what comes after (passwords, tokens, codes, proofs,
     * the email a sign-in looks up): min/max in bytes ("too_short", "too_long"). */
    FIELD_OPAQUE,
    /* Standard base64 with padding ("bad_base64") of min..max decoded bytes ("too_short",
     * "too_long"; "wrong_length" when min == max). */
    FIELD_BASE64,
    /* One of the strings in one_of ("unknown"). */
    FIELD_ENUM,
    /* A JSON integer (not a real) in min..max ("out_of_range"). */
    FIELD_INTEGER,
    FIELD_BOOLEAN,
    /* A JSON object; its members are the rows sub[0..n_sub), named "<name>.<member>". */
    FIELD_OBJECT,
    /* A JSON array of at most max items ("too_many"); the items are the handler's. */
    FIELD_ARRAY,
    /* Any JSON value, checked by the handler later (a key bundle): only presence here. */
    FIELD_ANY,
};

/* Row flags. */
#define FIELD_REQUIRED 1U   /* absent (or null) answers "missing" */
#define FIELD_NULL_WRONG 2U /* null is a value of the wrong type, not an absent field */

#define FIELD_UNBOUNDED INT64_MAX /* a max with no limit */
#define FIELD_PATH_MAX 96         /* "device.name": the longest field path reported */

struct field_spec {
    const char *name;
    enum field_type type;
    unsigned flags;
    int64_t min, max;             /* see the type; every bounded row states max (FIELD_UNBOUNDED) */
    const char *const *one_of;    /* FIELD_ENUM: the allowed strings, NULL-terminated */
    const struct field_spec *sub; /* FIELD_OBJECT: its member rows (may be NULL) */
    size_t n_sub;
    /* Routes older than these defaults answer other reasons, and the wire is a contract:
     * when set, the reason given for a wrong type, for any bound (too short, too long, out
     * of range, too many), and for a value its kind refuses (a UUID that is not one, a string
     * not in one_of). */
    const char *as_wrong_type, *as_bounds, *as_invalid;
};

/* A checked field. The pointers are into the object checked (owned by it). */
struct field_value {
    const json_t *json; /* the member as found, null included; NULL when absent */
    const char *str;    /* string kinds: the text; NULL when absent or null */
    size_t len;         /* its length in bytes */
    int64_t num;        /* FIELD_INTEGER */
    bool flag;          /* FIELD_BOOLEAN */
};

/* The first failure: the field's path and a static reason. */
struct field_fail {
    char field[FIELD_PATH_MAX];
    const char *reason;
};

/* Checks obj (NULL: an empty object) against specs[0..n) in order and stops at the first
 * failure. values has n_values slots, filled in depth-first order of the rows (a row, then
 * its sub rows), every slot zeroed first; too few slots is a programming error (abort).
 * at: obj's own path ("device"), or NULL for a body. Returns 0, or -1 with *fail set. */
int fields_check(const json_t *obj, const char *at, const struct field_spec *specs, size_t n,
                 struct field_value *values, size_t n_values, struct field_fail *fail);

/* The number of value slots a table needs: its rows and all their sub rows. */
size_t fields_count(const struct field_spec *specs, size_t n);

/* fields_check for a handler: on failure the job answers 400 validation_failed with
 * {field, reason} (job_invalid). Returns 0 or -1. */
struct job;
int job_fields(struct job *j, const json_t *obj, const struct field_spec *specs, size_t n,
               struct field_value *values, size_t n_values);

/* Whether s[0..len), valid UTF-8, holds a control character (C0, DEL, C1) or a
 * bidirectional embedding, override or isolate control. */
bool api_has_control(const char *s, size_t len);

/* obj[field] as a string of min_chars..max_chars code points, valid UTF-8 without control
 * characters (one FIELD_STRING row of fields.h); NULL after job_invalid. required=false: a
 * missing field gives "". */
const char *api_string(struct job *j, const json_t *obj, const char *field, bool required,
                       size_t min_chars, size_t max_chars);

#endif
