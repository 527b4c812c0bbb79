/* contract_calls.c: the store's call-record contract (calls.h), run unchanged against every
 * backend.
 *
 *   store_calls sqlite   a fresh SQLite file in a temp directory
 *   store_calls pg       PostgreSQL at $SOTTO_TEST_PG_URL, in a fresh schema dropped at the
 *                        end; fails (never skips) when the variable is unset
 *
 * Every test makes its own users and conversation. */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fixture.h"
#include "store/calls.h"
#include "store/conversations.h"
#include "store/devices.h"
#include "store/store.h"
#include "store/users.h"

#define NOW 1764000000000LL

static struct store_fixture fx;
static int64_t clock_ms;

static int64_t tick(void) { return NOW + (clock_ms += 1000); }

struct account {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
};

static void make_account(struct account *a)
{
    char name[32], email[64], id[STORE_ID_SIZE];
    struct store_bundle b;

    store_uuid_v4(id);
    snprintf(name, sizeof name, "c%.8s%.4s", id, id + 9);
    snprintf(email, sizeof email, "%s@example.com", name);
    assert_int_equal(getrandom(&b, sizeof b, 0), (ssize_t)sizeof b);
    struct store_new_user u = {email, name, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "web", NULL, NULL, &b};
    assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 200, NOW, a->user_id, a->device_id),
                     STORE_OK);
}

/* a and b with their conversation in conv. */
static void make_pair(struct account *a, struct account *b, char conv[STORE_ID_SIZE])
{
    struct store_conversation c;
    bool created;

    make_account(a);
    make_account(b);
    assert_int_equal(store_conversation_direct(fx.s, a->user_id, b->user_id, NOW, &c, &created),
                     STORE_OK);
    snprintf(conv, STORE_ID_SIZE, "%s", c.id);
    store_conversation_free(&c);
}

/* A call of a in conv, started now, as the calls room first records it. */
static struct store_call new_call(const struct account *a, const char *conv, bool video)
{
    struct store_call c;

    memset(&c, 0, sizeof c);
    c.started_at = tick();
    store_uuid_v7(c.id, c.started_at);
    snprintf(c.conversation_id, sizeof c.conversation_id, "%s", conv);
    snprintf(c.caller_id, sizeof c.caller_id, "%s", a->user_id);
    snprintf(c.caller_device_id, sizeof c.caller_device_id, "%s", a->device_id);
    c.video = video;
    return c;
}

static struct store_call fetch_one(const char *user_id, const char *conv, const char *id)
{
    struct store_call *list, out = {0};
    size_t n;
    bool more;

    assert_int_equal(store_call_history(fx.s, user_id, conv, NULL, 100, &list, &n, &more),
                     STORE_OK);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].id, id)) {
            out = list[i];
            free(list);
            return out;
        }
    free(list);
    fail_msg("call %s not recorded", id);
    return out;
}

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store calls", "calls");
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_close(&fx);
    return 0;
}

/* Ringing, answered, ended: each write adds what it knows. */
static void test_record_lifecycle(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE];
    struct store_call c, got;

    (void)state;
    make_pair(&a, &b, conv);
    c = new_call(&a, conv, true);
    assert_int_equal(store_call_record(fx.s, &c), STORE_OK);
    got = fetch_one(b.user_id, conv, c.id);
    assert_string_equal(got.caller_id, a.user_id);
    assert_true(got.video);
    assert_int_equal(got.started_at, c.started_at);
    assert_int_equal(got.answered_at, 0);
    assert_int_equal(got.ended_at, 0);
    assert_int_equal(got.reason, STORE_CALL_ONGOING);
    assert_string_equal(got.callee_device_id, "");

    c.answered_at = tick();
    snprintf(c.callee_device_id, sizeof c.callee_device_id, "%s", b.device_id);
    assert_int_equal(store_call_record(fx.s, &c), STORE_OK);
    c.ended_at = c.answered_at + 42000;
    c.duration = 42;
    c.reason = STORE_CALL_HANGUP;
    snprintf(c.ended_by, sizeof c.ended_by, "%s", b.user_id);
    assert_int_equal(store_call_record(fx.s, &c), STORE_OK);
    got = fetch_one(a.user_id, conv, c.id);
    assert_int_equal(got.answered_at, c.answered_at);
    assert_string_equal(got.callee_device_id, b.device_id);
    assert_int_equal(got.ended_at, c.ended_at);
    assert_int_equal(got.duration, 42);
    assert_int_equal(got.reason, STORE_CALL_HANGUP);
    assert_string_equal(got.ended_by, b.user_id);
    assert_string_equal(store_call_reason_name(got.reason), "hangup");
}

/* Writes that arrive out of order converge: a late "ringing" or "answered" write cannot undo
 * an end, and a second end cannot rename the first. */
static void test_record_out_of_order(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE];
    struct store_call start, answered, ended, second, got;

    (void)state;
    make_pair(&a, &b, conv);
    start = new_call(&a, conv, false);
    answered = start;
    answered.answered_at = tick();
    snprintf(answered.callee_device_id, sizeof answered.callee_device_id, "%s", b.device_id);
    ended = answered;
    ended.ended_at = answered.answered_at + 5000;
    ended.duration = 5;
    ended.reason = STORE_CALL_FAILED;
    second = ended;
    second.ended_at += 1000;
    second.duration = 6;
    second.reason = STORE_CALL_HANGUP;
    snprintf(second.ended_by, sizeof second.ended_by, "%s", a.user_id);

    assert_int_equal(store_call_record(fx.s, &ended), STORE_OK);
    assert_int_equal(store_call_record(fx.s, &start), STORE_OK);
    assert_int_equal(store_call_record(fx.s, &answered), STORE_OK);
    assert_int_equal(store_call_record(fx.s, &second), STORE_OK);
    got = fetch_one(a.user_id, conv, start.id);
    assert_int_equal(got.answered_at, answered.answered_at);
    assert_string_equal(got.callee_device_id, b.device_id);
    assert_int_equal(got.ended_at, ended.ended_at);
    assert_int_equal(got.duration, 5);
    assert_int_equal(got.reason, STORE_CALL_FAILED);
    assert_string_equal(got.ended_by, "");
}

/* Newest first, paged by call id; only participants see it; bounds. */
static void test_history(void **state)
{
    struct account a, b, c;
    char conv[STORE_ID_SIZE], ids[5][STORE_ID_SIZE];
    struct store_call *list;
    size_t n;
    bool more;

    (void)state;
    make_pair(&a, &b, conv);
    make_account(&c);
    for (int i = 0; i < 5; i++) {
        struct store_call k = new_call(i % 2 ? &b : &a, conv, false);

        k.ended_at = k.started_at + 1;
        k.reason = STORE_CALL_MISSED;
        assert_int_equal(store_call_record(fx.s, &k), STORE_OK);
        memcpy(ids[i], k.id, STORE_ID_SIZE);
    }
    assert_int_equal(store_call_history(fx.s, b.user_id, conv, NULL, 2, &list, &n, &more),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(list[0].id, ids[4]);
    assert_string_equal(list[1].id, ids[3]);
    assert_string_equal(list[1].caller_id, b.user_id);
    free(list);
    assert_int_equal(store_call_history(fx.s, b.user_id, conv, ids[3], 2, &list, &n, &more),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_string_equal(list[0].id, ids[2]);
    free(list);
    assert_int_equal(store_call_history(fx.s, a.user_id, conv, ids[1], 2, &list, &n, &more),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(list[0].id, ids[0]);
    assert_int_equal(list[0].reason, STORE_CALL_MISSED);
    free(list);

    assert_int_equal(store_call_history(fx.s, c.user_id, conv, NULL, 10, &list, &n, &more),
                     STORE_NOT_FOUND);
    assert_null(list);
    assert_int_equal(store_call_history(fx.s, a.user_id, conv, NULL, 0, &list, &n, &more),
                     STORE_INVALID);
    assert_int_equal(
        store_call_history(fx.s, a.user_id, conv, NULL, STORE_CALLS_PAGE_MAX + 1, &list, &n, &more),
        STORE_INVALID);
}

static void test_record_invalid(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE];
    struct store_call k;

    (void)state;
    make_pair(&a, &b, conv);
    k = new_call(&a, conv, false);
    k.reason = (enum store_call_reason)99;
    assert_int_equal(store_call_record(fx.s, &k), STORE_INVALID);
    k.reason = STORE_CALL_ONGOING;
    k.id[0] = 0;
    assert_int_equal(store_call_record(fx.s, &k), STORE_INVALID);
    k = new_call(&a, conv, false);
    store_uuid_v4(k.conversation_id); /* no such conversation */
    assert_int_not_equal(store_call_record(fx.s, &k), STORE_OK);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_lifecycle),
        cmocka_unit_test(test_record_out_of_order),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_record_invalid),
    };

    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.calls.pg" : "store.calls.sqlite", tests,
                                       group_setup, group_teardown);
}
