/* The bus contract (bus/bus.h), run against every implementation (today: in-process):
 * publications (and contact changes) reach the sink with their arguments, presence counts
 * connections per user and reports the first and the last one, lastSeen is kept after going
 * offline; call state: a user in one call at most (busy), compare-and-set updates (first
 * answer wins), one ender. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus.h"

struct sink_log {
    int device, user, kick, contacts;
    char last_other[40];
    bool made;
    char last_id[40], last_except[40], frame[64];
    int64_t seq;
    int code;
    uint64_t keep_node, keep_conn;
};

static void on_device(void *arg, const char *device_id, int64_t seq, const char *frame, size_t len)
{
    struct sink_log *l = arg;

    l->device++;
    snprintf(l->last_id, sizeof(l->last_id), "%s", device_id);
    snprintf(l->frame, sizeof(l->frame), "%.*s", (int)len, frame);
    l->seq = seq;
}

static void on_user(void *arg, const char *user_id, const char *except, const char *frame,
                    size_t len)
{
    struct sink_log *l = arg;

    l->user++;
    snprintf(l->last_id, sizeof(l->last_id), "%s", user_id);
    snprintf(l->last_except, sizeof(l->last_except), "%s", except ? except : "-");
    snprintf(l->frame, sizeof(l->frame), "%.*s", (int)len, frame);
}

static void on_kick(void *arg, const char *device_id, int code, uint64_t keep_node,
                    uint64_t keep_conn)
{
    struct sink_log *l = arg;

    l->kick++;
    snprintf(l->last_id, sizeof(l->last_id), "%s", device_id);
    l->code = code;
    l->keep_node = keep_node;
    l->keep_conn = keep_conn;
}

static void on_contacts(void *arg, const char *a, const char *b, bool contacts)
{
    struct sink_log *l = arg;

    l->contacts++;
    snprintf(l->last_id, sizeof(l->last_id), "%s", a);
    snprintf(l->last_other, sizeof(l->last_other), "%s", b);
    l->made = contacts;
}

static const struct bus_ops *const impls[] = {&bus_inproc};

static void test_publish(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        struct sink_log log = {0};
        struct bus_sink sink = {on_device, on_user, on_kick, on_contacts, &log};
        struct bus *b = impls[i]->create(NULL, &sink);

        assert_non_null(b);
        impls[i]->to_device(b, "dev-1", 7, "{\"event\":\"x\"}", 13);
        assert_int_equal(log.device, 1);
        assert_string_equal(log.last_id, "dev-1");
        assert_int_equal(log.seq, 7);
        assert_string_equal(log.frame, "{\"event\":\"x\"}");
        impls[i]->to_user(b, "user-1", "dev-2", "abc", 3);
        assert_int_equal(log.user, 1);
        assert_string_equal(log.last_except, "dev-2");
        impls[i]->to_user(b, "user-1", NULL, "abc", 3);
        assert_string_equal(log.last_except, "-");
        impls[i]->kick(b, "dev-3", 4409, impls[i]->node_id(b), 42);
        assert_int_equal(log.kick, 1);
        assert_int_equal(log.code, 4409);
        assert_int_equal(log.keep_conn, 42);
        impls[i]->contacts(b, "user-a", "user-b", false);
        assert_int_equal(log.contacts, 1);
        assert_string_equal(log.last_id, "user-a");
        assert_string_equal(log.last_other, "user-b");
        assert_false(log.made);
        impls[i]->contacts(b, "user-b", "user-a", true);
        assert_int_equal(log.contacts, 2);
        assert_true(log.made);
        impls[i]->destroy(b);
    }
}

static void test_presence(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        struct sink_log log = {0};
        struct bus_sink sink = {on_device, on_user, on_kick, on_contacts, &log};
        struct bus *b = impls[i]->create(NULL, &sink);
        bool online;
        int64_t seen;

        impls[i]->presence_get(b, "u", 100, &online, &seen);
        assert_false(online);
        assert_int_equal(seen, 0); /* never seen */
        assert_int_equal(impls[i]->presence_change(b, "u", 1, 100), 1);
        assert_int_equal(impls[i]->presence_change(b, "u", 1, 110), 0);
        impls[i]->presence_get(b, "u", 120, &online, &seen);
        assert_true(online);
        assert_int_equal(seen, 120);
        assert_int_equal(impls[i]->presence_change(b, "u", -1, 130), 0);
        assert_int_equal(impls[i]->presence_change(b, "u", -1, 140), -1);
        impls[i]->presence_get(b, "u", 150, &online, &seen);
        assert_false(online);
        assert_int_equal(seen, 140);
        /* An extra close never goes below zero or reports twice. */
        assert_int_equal(impls[i]->presence_change(b, "u", -1, 160), 0);
        assert_int_equal(impls[i]->presence_change(b, "u", 1, 170), 1);
        impls[i]->destroy(b);
    }
}

static struct bus_call call_of(const char *id, const char *caller, const char *callee)
{
    struct bus_call c;

    memset(&c, 0, sizeof(c));
    snprintf(c.id, sizeof(c.id), "%s", id);
    snprintf(c.caller_id, sizeof(c.caller_id), "%s", caller);
    snprintf(c.caller_device, sizeof(c.caller_device), "%s-dev", caller);
    snprintf(c.callee_id, sizeof(c.callee_id), "%s", callee);
    c.state = BUS_CALL_RINGING;
    c.started_ms = 1000;
    return c;
}

static void test_calls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        struct sink_log log = {0};
        struct bus_sink sink = {on_device, on_user, on_kick, on_contacts, &log};
        struct bus *b = impls[i]->create(NULL, &sink);
        struct bus_call c = call_of("call-1", "alice", "bob"), other, r1, r2;

        assert_int_equal(impls[i]->call_begin(b, &c), 0);
        /* busy: either party, either side, and the same id again */
        other = call_of("call-2", "carol", "bob");
        assert_int_equal(impls[i]->call_begin(b, &other), -1);
        other = call_of("call-2", "alice", "carol");
        assert_int_equal(impls[i]->call_begin(b, &other), -1);
        other = call_of("call-2", "carol", "alice");
        assert_int_equal(impls[i]->call_begin(b, &other), -1);
        other = call_of("call-1", "carol", "dave");
        assert_int_equal(impls[i]->call_begin(b, &other), -1);
        assert_int_equal(impls[i]->call_get(b, "call-2", &other), -1);
        other = call_of("call-3", "carol", "dave"); /* strangers call freely */
        assert_int_equal(impls[i]->call_begin(b, &other), 0);

        assert_int_equal(impls[i]->call_of_user(b, "bob", &r1), 0);
        assert_string_equal(r1.id, "call-1");
        assert_int_equal(impls[i]->call_of_user(b, "erin", &r1), -1);
        /* two answers read the same version: the first update wins, the second is refused */
        assert_int_equal(impls[i]->call_get(b, "call-1", &r1), 0);
        assert_int_equal(impls[i]->call_get(b, "call-1", &r2), 0);
        r1.state = BUS_CALL_ACTIVE;
        snprintf(r1.callee_device, sizeof(r1.callee_device), "bob-phone");
        r1.answered_ms = 2000;
        r2.state = BUS_CALL_ACTIVE;
        snprintf(r2.callee_device, sizeof(r2.callee_device), "bob-laptop");
        assert_int_equal(impls[i]->call_update(b, &r1), 0);
        assert_int_equal(impls[i]->call_update(b, &r2), -1);
        assert_int_equal(impls[i]->call_get(b, "call-1", &r2), 0);
        assert_string_equal(r2.callee_device, "bob-phone");
        assert_int_equal(r2.answered_ms, 2000);
        assert_int_equal(r2.version, r1.version);
        /* one ender */
        assert_int_equal(impls[i]->call_end(b, "call-1"), 0);
        assert_int_equal(impls[i]->call_end(b, "call-1"), -1);
        assert_int_equal(impls[i]->call_update(b, &r1), -1);
        assert_int_equal(impls[i]->call_of_user(b, "alice", &r1), -1);
        other = call_of("call-4", "bob", "alice"); /* both free again */
        assert_int_equal(impls[i]->call_begin(b, &other), 0);
        impls[i]->destroy(b); /* frees the calls still in progress */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_presence),
        cmocka_unit_test(test_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
