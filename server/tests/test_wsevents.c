/* The WebSocket event table (wsproto.c) and its routing: lookup by name, the rows' declared
 * limits (which make explicit what the dispatcher allowed before the table), and wsp_route's
 * answers in each connection state, in the order docs/api/events.md promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "messaging/rt_internal.h"

static const char *const known[] = {
    "authenticate",  "call:answer", "call:end",     "call:ice-candidate",
    "call:initiate", "call:offer",  "call:reject",  "message:read",
    "message:send",  "queue:ack",   "typing:start", "typing:stop",
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static void test_table_sorted_unique(void **state)
{
    size_t n;
    const struct wsp_event *const *t = wsp_event_table(&n);

    (void)state;
    assert_int_equal(n, N_KNOWN);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i]->run);
        assert_string_equal(t[i]->name, known[i]);
        if (i)
            assert_true(strcmp(t[i - 1]->name, t[i]->name) < 0);
    }
}

static void test_lookup(void **state)
{
    static const char *const unknown[] = {
        "",       "presence:list", "Authenticate", "message",     "message:sen", "message:sendx",
        "typing", "authenticate ", "queue:ack:",   "call:offerx", "call:",       "zzz",
    };

    (void)state;
    for (size_t i = 0; i < N_KNOWN; i++) {
        const struct wsp_event *row = wsp_event_find(known[i]);

        assert_non_null(row);
        assert_string_equal(row->name, known[i]);
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_null(wsp_event_find(unknown[i]));
}

/* What the strcmp chain allowed, now written in the rows: no event needs an id, none has a
 * tighter size than the frame's, every one takes an in-flight slot, and only authenticate
 * comes before authentication. The call:* rows came after the table (calls/events.c): each
 * needs an id, and those that never wait for the store take no in-flight slot. */
static void test_declared_limits(void **state)
{
    size_t n;
    const struct wsp_event *const *t = wsp_event_table(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(t[i]->name, "call:", 5)) {
            bool store = !strcmp(t[i]->name, "call:initiate") || !strcmp(t[i]->name, "call:offer");

            assert_true(t[i]->needs_id);
            assert_false(t[i]->before_auth);
            assert_int_equal(t[i]->rate, store ? WSP_RATE_INFLIGHT : WSP_RATE_FRAME);
            continue;
        }
        assert_false(t[i]->needs_id);
        assert_int_equal(t[i]->max_len, 0);
        assert_int_equal(t[i]->rate, WSP_RATE_INFLIGHT);
        assert_int_equal(t[i]->before_auth, !strcmp(t[i]->name, "authenticate"));
    }
}

/* Routes the frame text in state with inflight requests out; returns wsp_route's result and
 * leaves code (or NULL) and the row (or NULL) in *r, details freed. */
static int route(const char *text, enum conn_state st, unsigned inflight, struct wsp_route *r)
{
    struct wsp_frame f;
    int rc;

    assert_int_equal(wsp_parse(text, strlen(text), &f), 0);
    rc = wsp_route(&f, strlen(text), st, inflight, r);
    json_decref(r->details);
    r->details = NULL;
    wsp_frame_free(&f);
    return rc;
}

static void test_route_before_auth(void **state)
{
    struct wsp_route r;

    (void)state;
    assert_int_equal(
        route("{\"event\":\"authenticate\",\"data\":{\"token\":\"x\"}}", CONN_NEW, 0, &r), 0);
    assert_string_equal(r.row->name, "authenticate");
    assert_int_equal(route("{\"event\":\"message:send\",\"id\":\"a\"}", CONN_NEW, 0, &r), -1);
    assert_string_equal(r.code, "unauthenticated");
    assert_string_equal(r.message, "Authenticate first.");
    assert_int_equal(route("{\"event\":\"nope\"}", CONN_NEW, 0, &r), -1);
    assert_string_equal(r.message, "Authenticate first.");
    assert_int_equal(route("{\"event\":\"authenticate\"}", CONN_AUTHING, 0, &r), -1);
    assert_string_equal(r.code, "unauthenticated");
    assert_string_equal(r.message, "Authentication is in progress.");
    assert_int_equal(route("{\"event\":\"queue:ack\"}", CONN_AUTHING, 0, &r), -1);
    assert_string_equal(r.message, "Authentication is in progress.");
}

static void test_route_ready(void **state)
{
    struct wsp_route r;
    struct wsp_frame f;
    const char *unknown = "{\"event\":\"presence:list\",\"id\":\"x\"}";

    (void)state;
    for (size_t i = 0; i < N_KNOWN; i++) {
        char text[96];

        snprintf(text, sizeof(text), "{\"event\":\"%s\",\"id\":\"x\"}", known[i]);
        assert_int_equal(route(text, CONN_READY, 0, &r), 0);
        assert_string_equal(r.row->name, known[i]);
        assert_int_equal(route(text, CONN_READY, RT_INFLIGHT_MAX - 1, &r), 0);
        if (r.row->rate == WSP_RATE_FRAME) { /* never waits at the pool: no slot to run out of */
            assert_int_equal(route(text, CONN_READY, RT_INFLIGHT_MAX, &r), 0);
            continue;
        }
        assert_int_equal(route(text, CONN_READY, RT_INFLIGHT_MAX, &r), -1);
        assert_string_equal(r.code, "rate_limited");
        assert_string_equal(r.message, "Too many requests in flight.");
    }
    /* Unknown: validation_failed {event, unknown_event}, but the in-flight refusal first. */
    assert_int_equal(wsp_parse(unknown, strlen(unknown), &f), 0);
    assert_int_equal(wsp_route(&f, strlen(unknown), CONN_READY, 0, &r), -1);
    assert_null(r.row);
    assert_string_equal(r.code, "validation_failed");
    assert_string_equal(r.message, "Unknown event.");
    assert_string_equal(json_string_value(json_object_get(r.details, "field")), "event");
    assert_string_equal(json_string_value(json_object_get(r.details, "reason")), "unknown_event");
    json_decref(r.details);
    wsp_frame_free(&f);
    assert_int_equal(route(unknown, CONN_READY, RT_INFLIGHT_MAX, &r), -1);
    assert_string_equal(r.code, "rate_limited");
}

/* A name with a NUL inside never reaches the table (the parser refuses the frame), so a C
 * string lookup cannot match a prefix of what the client sent. */
static void test_nul_in_name(void **state)
{
    const char *text = "{\"event\":\"typing:stop\\u0000x\"}";
    struct wsp_frame f;

    (void)state;
    assert_int_equal(wsp_parse(text, strlen(text), &f), -1);
    assert_string_equal(f.code, "invalid_json");
    wsp_frame_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sorted_unique), cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_declared_limits),     cmocka_unit_test(test_route_before_auth),
        cmocka_unit_test(test_route_ready),         cmocka_unit_test(test_nul_in_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
