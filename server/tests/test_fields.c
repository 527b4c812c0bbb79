/* fields.c: every kind of row, its bounds and reasons, null and absent, UTF-8 and control
 * characters, nested objects and their paths, the order of failures, and job_fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/fields.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Checks the JSON text against one table; returns the reason (NULL on success) and leaves
 * the failing path in field. values and the parsed object live until the next call. */
static json_t *last;
static struct field_value vals[16];
static char field[FIELD_PATH_MAX];

static const char *run_obj(json_t *obj, const struct field_spec *specs, size_t n)
{
    struct field_fail fail;

    json_decref(last);
    last = obj;
    if (!fields_check(obj, NULL, specs, n, vals, N(vals), &fail)) {
        assert_null(fail.reason);
        field[0] = 0;
        return NULL;
    }
    assert_non_null(fail.reason);
    snprintf(field, sizeof(field), "%s", fail.field);
    return fail.reason;
}

static const char *run(const char *text, const struct field_spec *specs, size_t n)
{
    json_t *obj = json_loads(text, 0, NULL);

    assert_non_null(obj);
    return run_obj(obj, specs, n);
}

/* {"f": <the n bytes of s>}, without jansson's UTF-8 check. */
static const char *run_raw(const char *s, size_t n, const struct field_spec *spec)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "f", json_stringn_nocheck(s, n));
    return run_obj(obj, spec, 1);
}

static void test_presence(void **state)
{
    static const struct field_spec req[] = {{"f", FIELD_STRING, FIELD_REQUIRED, .max = 10}};
    static const struct field_spec opt[] = {{"f", FIELD_STRING, 0, .max = 10}};
    static const struct field_spec null_wrong[] = {
        {"f", FIELD_STRING, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = 10}};
    static const struct field_spec opt_null_wrong[] = {
        {"f", FIELD_STRING, FIELD_NULL_WRONG, .max = 10}};

    (void)state;
    assert_string_equal(run("{}", req, 1), "missing");
    assert_string_equal(field, "f");
    assert_string_equal(run("{\"f\": null}", req, 1), "missing");
    assert_string_equal(run("{\"f\": 1}", req, 1), "wrong_type");
    assert_null(run("{\"f\": \"x\"}", req, 1));
    assert_string_equal(vals[0].str, "x");
    assert_int_equal(vals[0].len, 1);

    assert_null(run("{}", opt, 1));
    assert_null(vals[0].json);
    assert_null(vals[0].str);
    /* Null is absent, but seen: a PATCH clears a field with it. */
    assert_null(run("{\"f\": null}", opt, 1));
    assert_true(json_is_null(vals[0].json));
    assert_null(vals[0].str);
    assert_string_equal(run("{\"f\": []}", opt, 1), "wrong_type");

    assert_string_equal(run("{\"f\": null}", null_wrong, 1), "wrong_type");
    assert_string_equal(run("{}", null_wrong, 1), "missing");
    assert_string_equal(run("{\"f\": null}", opt_null_wrong, 1), "wrong_type");
    assert_null(run("{}", opt_null_wrong, 1));

    /* No object at all is an empty one. */
    assert_string_equal(run_obj(NULL, req, 1), "missing");
    assert_null(run_obj(NULL, opt, 1));
    /* Members not in the table are ignored. */
    assert_null(run("{\"f\": \"x\", \"other\": [1, 2]}", req, 1));
}

static void test_string_bounds(void **state)
{
    static const struct field_spec s[] = {{"f", FIELD_STRING, FIELD_REQUIRED, .min = 2, .max = 4}};

    (void)state;
    assert_string_equal(run("{\"f\": \"a\"}", s, 1), "too_short");
    assert_string_equal(run("{\"f\": \"\"}", s, 1), "too_short");
    assert_null(run("{\"f\": \"ab\"}", s, 1));
    assert_null(run("{\"f\": \"abcd\"}", s, 1));
    assert_string_equal(run("{\"f\": \"abcde\"}", s, 1), "too_long");
    /* Code points, not bytes: four 4-byte characters fit, two 2-byte ones are two. */
    assert_null(run("{\"f\": \"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"}", s, 1));
    assert_int_equal(vals[0].len, 16);
    assert_null(run("{\"f\": \"\\u00e9\\u00e9\"}", s, 1));
    assert_string_equal(run("{\"f\": \"\\u00e9\"}", s, 1), "too_short");
    assert_string_equal(run("{\"f\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", s, 1), "too_long");
}

static void test_string_characters(void **state)
{
    static const struct field_spec s[] = {{"f", FIELD_STRING, FIELD_REQUIRED, .min = 2, .max = 4}};
    static const char *const bad[] = {
        "a\x01",             /* C0 */
        "a\x1f",             /* C0 */
        "a\x7f",             /* DEL */
        "a\xc2\x85",         /* C1 (NEL) */
        "a\xc2\x9f",         /* C1 */
        "a\xe2\x80\xae",     /* U+202E right-to-left override */
        "a\xe2\x80\xaa",     /* U+202A */
        "a\xe2\x81\xa6",     /* U+2066 isolate */
        "a\xe2\x81\xa9",     /* U+2069 */
        "a\xc3",             /* truncated sequence */
        "a\xc0\xaf",         /* overlong */
        "a\xed\xa0\x80",     /* surrogate */
        "a\xf4\x90\x80\x80", /* above U+10FFFF */
        "a\xff",
    };
    static const char *const good[] = {
        "ab", "\xd8\xb3\xd9\x84", /* Arabic: right to left needs no control */
        "a\xe2\x80\xa9",          /* U+2029: not one of the refused */
        "a\xc2\xa0",              /* U+00A0 */
    };

    (void)state;
    for (size_t i = 0; i < N(bad); i++)
        assert_string_equal(run_raw(bad[i], strlen(bad[i]), s), "invalid_characters");
    for (size_t i = 0; i < N(good); i++)
        assert_null(run_raw(good[i], strlen(good[i]), s));
    /* Byte length first: more bytes than max code points can take is too long, whatever
     * they hold; then the characters; then the count. */
    assert_string_equal(run_raw("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                                "\x01\x01",
                                17, s),
                        "too_long");
    assert_string_equal(run_raw("\x01", 1, s), "invalid_characters");
    assert_string_equal(run_raw("a\x00", 2, s), "invalid_characters");
}

static void test_kinds(void **state)
{
    static const struct field_spec user[] = {
        {"f", FIELD_USERNAME, FIELD_REQUIRED, .min = 3, .max = 32}};
    static const struct field_spec email[] = {
        {"f", FIELD_EMAIL, FIELD_REQUIRED, .min = 3, .max = 254}};
    static const struct field_spec uuid[] = {{"f", FIELD_UUID, .flags = FIELD_REQUIRED}};
    static const struct field_spec opaque[] = {
        {"f", FIELD_OPAQUE, FIELD_REQUIRED, .min = 1, .max = 4}};
    static const char *const colours[] = {"red", "green", NULL};
    static const struct field_spec one_of[] = {
        {"f", FIELD_ENUM, FIELD_REQUIRED, .one_of = colours}};

    (void)state;
    assert_null(run("{\"f\": \"alice_01\"}", user, 1));
    assert_string_equal(run("{\"f\": \"al\"}", user, 1), "too_short");
    assert_string_equal(run("{\"f\": \"al-ce\"}", user, 1), "invalid_characters");
    assert_string_equal(run("{\"f\": \"al\\u00e9ce\"}", user, 1), "invalid_characters");
    assert_string_equal(run("{\"f\": \"al\\u0007ce\"}", user, 1), "invalid_characters");

    assert_null(run("{\"f\": \"a@example.com\"}", email, 1));
    assert_string_equal(run("{\"f\": \"example.com\"}", email, 1), "invalid");
    assert_string_equal(run("{\"f\": \"a b@example.com\"}", email, 1), "invalid");
    assert_string_equal(run("{\"f\": \"a@\"}", email, 1), "too_short");
    assert_string_equal(run("{\"f\": 7}", email, 1), "wrong_type");

    assert_null(run("{\"f\": \"0199aaaa-0000-7000-8000-00000000000f\"}", uuid, 1));
    assert_string_equal(run("{\"f\": \"0199AAAA-0000-7000-8000-00000000000F\"}", uuid, 1),
                        "invalid");
    assert_string_equal(run("{\"f\": \"0199aaaa-0000-7000-8000-00000000000\"}", uuid, 1),
                        "invalid");
    assert_string_equal(run("{\"f\": \"0199aaaa00000-7000-8000-00000000000f\"}", uuid, 1),
                        "invalid");
    assert_string_equal(run("{\"f\": \"0199aaaa-0000-7000-8000-00000000000g\"}", uuid, 1),
                        "invalid");

    /* Bytes, as given: controls are the caller's business. */
    assert_null(run("{\"f\": \"\\u0001\\u0002\"}", opaque, 1));
    assert_string_equal(run("{\"f\": \"\"}", opaque, 1), "too_short");
    assert_string_equal(run("{\"f\": \"\\u00e9\\u00e9\\u00e9\"}", opaque, 1), "too_long");

    assert_null(run("{\"f\": \"green\"}", one_of, 1));
    assert_string_equal(run("{\"f\": \"Green\"}", one_of, 1), "unknown");
    assert_string_equal(run("{\"f\": \"\"}", one_of, 1), "unknown");
    assert_string_equal(run("{\"f\": true}", one_of, 1), "wrong_type");
}

static void test_base64(void **state)
{
    static const struct field_spec fixed[] = {
        {"f", FIELD_BASE64, FIELD_REQUIRED, .min = 32, .max = 32}};
    static const struct field_spec bounded[] = {
        {"f", FIELD_BASE64, FIELD_REQUIRED, .min = 1, .max = 300}};
    static const char k32[] = "{\"f\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}";
    static const char k31[] = "{\"f\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}";
    char big[512];

    (void)state;
    assert_null(run(k32, fixed, 1));
    assert_int_equal(vals[0].len, 44);
    assert_string_equal(run(k31, fixed, 1), "wrong_length");
    assert_string_equal(run("{\"f\": \"AAAA*AAA\"}", fixed, 1), "bad_base64");
    assert_string_equal(run("{\"f\": \"AAA\"}", fixed, 1), "bad_base64");    /* no padding */
    assert_string_equal(run("{\"f\": \"AAB=\"}", bounded, 1), "bad_base64"); /* trailing bits */
    assert_null(run("{\"f\": \"AA==\"}", bounded, 1));
    assert_string_equal(run("{\"f\": \"\"}", bounded, 1), "too_short");
    /* 301 bytes, past the stack buffer: decoded on the heap. */
    memcpy(big, "{\"f\": \"", 7);
    memset(big + 7, 'A', 404);
    memcpy(big + 411, "\"}", 3);
    assert_string_equal(run(big, bounded, 1), "too_long");
    big[7 + 400] = '"', big[7 + 401] = '}', big[7 + 402] = 0; /* 300 bytes */
    assert_null(run(big, bounded, 1));
}

static void test_integer_boolean_array(void **state)
{
    static const struct field_spec n[] = {
        {"f", FIELD_INTEGER, FIELD_REQUIRED, .min = -2, .max = 5}};
    static const struct field_spec wide[] = {
        {"f", FIELD_INTEGER, FIELD_REQUIRED, .min = INT64_MIN, .max = INT64_MAX}};
    static const struct field_spec b[] = {{"f", FIELD_BOOLEAN, .flags = FIELD_REQUIRED}};
    static const struct field_spec a[] = {{"f", FIELD_ARRAY, FIELD_REQUIRED, .max = 2}};

    (void)state;
    assert_null(run("{\"f\": 5}", n, 1));
    assert_int_equal(vals[0].num, 5);
    assert_null(run("{\"f\": -2}", n, 1));
    assert_int_equal(vals[0].num, -2);
    assert_string_equal(run("{\"f\": 6}", n, 1), "out_of_range");
    assert_string_equal(run("{\"f\": -3}", n, 1), "out_of_range");
    assert_string_equal(run("{\"f\": 1.0}", n, 1), "wrong_type");
    assert_string_equal(run("{\"f\": \"1\"}", n, 1), "wrong_type");
    assert_null(run("{\"f\": -9223372036854775808}", wide, 1));
    assert_true(vals[0].num == INT64_MIN);

    assert_null(run("{\"f\": true}", b, 1));
    assert_true(vals[0].flag);
    assert_null(run("{\"f\": false}", b, 1));
    assert_false(vals[0].flag);
    assert_string_equal(run("{\"f\": 0}", b, 1), "wrong_type");

    assert_null(run("{\"f\": [1, \"x\"]}", a, 1));
    assert_int_equal(json_array_size(vals[0].json), 2);
    assert_null(run("{\"f\": []}", a, 1));
    assert_string_equal(run("{\"f\": [1, 2, 3]}", a, 1), "too_many");
    assert_string_equal(run("{\"f\": {}}", a, 1), "wrong_type");
}

/* The shape of a sign-in body: the rows' values in depth-first order. */
enum { E_NAME, E_PLATFORM, E_ID, E_N };
static const char *const platforms[] = {"web", "cli", NULL};
static const struct field_spec dev_rows[] = {
    [E_NAME] = {"name", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 100},
    [E_PLATFORM] = {"platform", FIELD_ENUM, FIELD_REQUIRED, .one_of = platforms},
    [E_ID] = {.name = "id", .type = FIELD_UUID},
};
enum { V_EMAIL, V_DEVICE, V_NAME, V_PLATFORM, V_ID, V_AFTER, V_N };
static const struct field_spec body_rows[] = {
    {"email", FIELD_EMAIL, FIELD_REQUIRED, .min = 3, .max = 254},
    {"device", FIELD_OBJECT, FIELD_NULL_WRONG, .sub = dev_rows, .n_sub = E_N},
    {"after", FIELD_INTEGER, 0, .min = 0, .max = 9},
};

static void test_nested(void **state)
{
    (void)state;
    assert_int_equal(fields_count(body_rows, N(body_rows)), V_N);
    assert_null(run("{\"email\": \"a@b.c\", \"device\": {\"name\": \"Phone\", \"platform\": "
                    "\"web\"}, \"after\": 3}",
                    body_rows, N(body_rows)));
    assert_string_equal(vals[V_EMAIL].str, "a@b.c");
    assert_true(json_is_object(vals[V_DEVICE].json));
    assert_string_equal(vals[V_NAME].str, "Phone");
    assert_string_equal(vals[V_PLATFORM].str, "web");
    assert_null(vals[V_ID].json);
    assert_int_equal(vals[V_AFTER].num, 3);

    /* An absent object leaves its rows' slots zero and the next rows where they belong. */
    assert_null(run("{\"email\": \"a@b.c\", \"after\": 4}", body_rows, N(body_rows)));
    assert_null(vals[V_DEVICE].json);
    assert_null(vals[V_NAME].str);
    assert_int_equal(vals[V_AFTER].num, 4);

    assert_string_equal(
        run("{\"email\": \"a@b.c\", \"device\": {\"platform\": \"web\"}}", body_rows, N(body_rows)),
        "missing");
    assert_string_equal(field, "device.name");
    assert_string_equal(run("{\"email\": \"a@b.c\", \"device\": {\"name\": \"P\", \"platform\": "
                            "\"tv\"}}",
                            body_rows, N(body_rows)),
                        "unknown");
    assert_string_equal(field, "device.platform");
    assert_string_equal(run("{\"email\": \"a@b.c\", \"device\": null}", body_rows, N(body_rows)),
                        "wrong_type");
    assert_string_equal(field, "device");

    /* Deeper: the path grows a name a level. */
    {
        static const struct field_spec c[] = {{"c", FIELD_BOOLEAN, .flags = FIELD_REQUIRED}};
        static const struct field_spec b[] = {
            {"b", FIELD_OBJECT, FIELD_REQUIRED, .sub = c, .n_sub = 1}};
        static const struct field_spec a[] = {
            {"a", FIELD_OBJECT, FIELD_REQUIRED, .sub = b, .n_sub = 1}};
        struct field_fail fail;
        json_t *o = json_loads("{\"a\": {\"b\": {\"c\": 1}}}", 0, NULL);

        assert_string_equal(run_obj(json_deep_copy(o), a, 1), "wrong_type");
        assert_string_equal(field, "a.b.c");
        /* A given path prefixes every name. */
        assert_int_equal(fields_check(o, "body", a, 1, vals, 3, &fail), -1);
        assert_string_equal(fail.field, "body.a.b.c");
        json_decref(o);
    }
}

static void test_order(void **state)
{
    static const struct field_spec rows[] = {
        {"a", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 3},
        {"b", FIELD_INTEGER, FIELD_REQUIRED, .min = 0, .max = 3},
        {"c", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 3},
    };

    (void)state;
    /* The table's order decides, not the body's. */
    assert_string_equal(run("{\"c\": 1, \"b\": 9, \"a\": \"toolong\"}", rows, 3), "too_long");
    assert_string_equal(field, "a");
    assert_string_equal(run("{\"c\": 1, \"b\": 9, \"a\": \"ok\"}", rows, 3), "out_of_range");
    assert_string_equal(field, "b");
    assert_string_equal(run("{\"c\": 1, \"b\": 1, \"a\": \"ok\"}", rows, 3), "wrong_type");
    assert_string_equal(field, "c");
    assert_string_equal(run("{\"b\": 1, \"a\": \"ok\"}", rows, 3), "missing");
    assert_string_equal(field, "c");
    /* Within a field: missing, then type, then bounds. */
    assert_string_equal(run("{\"b\": \"x\", \"a\": \"ok\"}", rows, 3), "wrong_type");
}

static void test_overrides(void **state)
{
    /* Reasons that older routes answer (login's email and password). */
    static const struct field_spec rows[] = {
        {"email", FIELD_OPAQUE, FIELD_REQUIRED, .min = 1, .max = 5, .as_wrong_type = "missing",
         .as_bounds = "invalid"},
        {"n", FIELD_INTEGER, 0, .min = 0, .max = 1, .as_bounds = "too_big"},
    };

    (void)state;
    assert_string_equal(run("{\"email\": 3}", rows, 2), "missing");
    assert_string_equal(run("{\"email\": \"\"}", rows, 2), "invalid");
    assert_string_equal(run("{\"email\": \"abcdef\"}", rows, 2), "invalid");
    assert_string_equal(run("{}", rows, 2), "missing");
    assert_string_equal(run("{\"email\": \"a\", \"n\": 2}", rows, 2), "too_big");
    assert_string_equal(run("{\"email\": \"a\", \"n\": \"2\"}", rows, 2), "wrong_type");
    /* A refused value with its own older reason (message envelopes): only that reason moves. */
    static const char *const kinds[] = {"prekey", "message", NULL};
    static const struct field_spec env[] = {
        {"d", FIELD_UUID, FIELD_REQUIRED | FIELD_NULL_WRONG, .as_invalid = "wrong_type"},
        {"t", FIELD_ENUM, FIELD_REQUIRED, .one_of = kinds, .as_invalid = "out_of_range"},
    };
    const char *ok_d = "\"d\": \"0199aaaa-0000-7000-8000-000000000000\"";
    char buf[160];

    assert_string_equal(run("{\"d\": \"x\"}", env, 2), "wrong_type");
    assert_string_equal(run("{\"d\": null}", env, 2), "wrong_type");
    assert_string_equal(run("{}", env, 2), "missing");
    snprintf(buf, sizeof(buf), "{%s, \"t\": \"other\"}", ok_d);
    assert_string_equal(run(buf, env, 2), "out_of_range");
    snprintf(buf, sizeof(buf), "{%s, \"t\": 1}", ok_d);
    assert_string_equal(run(buf, env, 2), "wrong_type");
    snprintf(buf, sizeof(buf), "{%s, \"t\": \"prekey\"}", ok_d);
    assert_null(run(buf, env, 2));
}

static void test_job_fields(void **state)
{
    static const struct field_spec rows[] = {{"f", FIELD_STRING, FIELD_REQUIRED, .max = 3}};
    struct field_value v;
    struct job j;
    json_t *obj = json_loads("{\"f\": \"long\"}", 0, NULL);

    (void)state;
    memset(&j, 0, sizeof(j));
    assert_int_equal(job_fields(&j, obj, rows, 1, &v, 1), -1);
    assert_int_equal(j.status, 400);
    assert_string_equal(j.code, "validation_failed");
    assert_string_equal(json_string_value(json_object_get(j.details, "field")), "f");
    assert_string_equal(json_string_value(json_object_get(j.details, "reason")), "too_long");
    json_decref(j.details);
    json_object_set_new(obj, "f", json_string("ok"));
    memset(&j, 0, sizeof(j));
    assert_int_equal(job_fields(&j, obj, rows, 1, &v, 1), 0);
    assert_int_equal(j.status, 0);
    assert_null(j.details);
    assert_string_equal(v.str, "ok");
    json_decref(obj);
}

static int teardown(void **state)
{
    (void)state;
    json_decref(last);
    last = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presence),
        cmocka_unit_test(test_string_bounds),
        cmocka_unit_test(test_string_characters),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_integer_boolean_array),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_job_fields),
    };

    return cmocka_run_group_tests(tests, NULL, teardown);
}
