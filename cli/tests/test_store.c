/* test_store.c: the local store seals every sensitive value, binds it to its slot, keeps
 * transactions atomic, and the profile has the right modes and key handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "helpers.h"
#include "localstore.h"
#include "profile.h"

static const char MARKER[] = "MARKER-store-7f3a9c";

static int setup(void **state)
{
    assert_int_equal(sotto_init(), 0);
    *state = tmp_dir();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    rm_tree(*state);
    free(*state);
    return 0;
}

static void test_profile_modes(void **state)
{
    char dir[512], path[600];
    struct stat sb;
    ls_store *st = NULL;

    snprintf(dir, sizeof dir, "%s/p/q", (char *)*state);
    assert_int_equal(profile_open(dir, 0, &st), 1);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    ls_close(st);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/profile.key", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    ls_close(st);
}

static void test_passphrase(void **state)
{
    char dir[512];
    ls_store *st = NULL;

    snprintf(dir, sizeof dir, "%s/pp", (char *)*state);
    setenv("SOTTO_PASSPHRASE", "right horse", 1);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    assert_int_equal(ls_kv_put_str(st, "x", MARKER), 0);
    ls_close(st);
    setenv("SOTTO_PASSPHRASE", "wrong horse", 1);
    assert_int_equal(profile_open(dir, 0, &st), -1);
    unsetenv("SOTTO_PASSPHRASE");
    assert_int_equal(profile_open(dir, 0, &st), -1);
    setenv("SOTTO_PASSPHRASE", "right horse", 1);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    char *v = NULL;
    assert_int_equal(ls_kv_get_str(st, "x", &v), 0);
    assert_string_equal(v, MARKER);
    free(v);
    ls_close(st);
    unsetenv("SOTTO_PASSPHRASE");
    assert_false(dir_leaks(dir, MARKER));
}

static void test_sealed_and_bound(void **state)
{
    char dir[512], db[600];
    ls_store *st = NULL;
    sqlite3 *raw;
    uint8_t *v;
    size_t len;

    snprintf(dir, sizeof dir, "%s/s", (char *)*state);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    assert_int_equal(ls_kv_put_str(st, "a", MARKER), 0);
    assert_int_equal(ls_kv_put_str(st, "b", "other"), 0);
    ls_message m = {.id = "11111111-1111-4111-8111-111111111111",
                    .conversation_id = "c",
                    .peer_id = "p",
                    .sender_device = "d",
                    .outgoing = 1,
                    .sent_at_ms = 5};
    char body[] = "MARKER-store-7f3a9c";
    m.body = body;
    m.body_len = strlen(MARKER);
    assert_int_equal(ls_message_put(st, &m), 0);
    ls_close(st);
    assert_false(dir_leaks(dir, MARKER));

    /* A sealed value copied into another row must not open there. */
    snprintf(db, sizeof db, "%s/sotto.db", dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "UPDATE kv SET value = (SELECT value FROM kv WHERE name='a')"
                                  " WHERE name='b'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    assert_int_equal(ls_kv_get(st, "b", &v, &len), -1);
    assert_int_equal(ls_kv_get(st, "a", &v, &len), 0);
    assert_memory_equal(v, MARKER, len);
    ls_secret_free(v);
    ls_message got;
    assert_int_equal(ls_message_get(st, m.id, &got), 0);
    assert_string_equal(got.body, MARKER);
    ls_message_clear(&got);
    ls_close(st);
}

static void test_transactions(void **state)
{
    char dir[512];
    ls_store *st = NULL;
    uint8_t *v;
    size_t len;

    snprintf(dir, sizeof dir, "%s/t", (char *)*state);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    assert_int_equal(ls_begin(st), 0);
    assert_int_equal(ls_kv_put_str(st, "gone", "x"), 0);
    assert_int_equal(ls_outbox_put(st, "id1", "conv", "[]"), 0);
    ls_rollback(st);
    assert_int_equal(ls_kv_get(st, "gone", &v, &len), 1);
    char *conv, *json;
    assert_int_equal(ls_outbox_get(st, "id1", &conv, &json), 1);
    /* An open transaction that is never committed (a crash) leaves nothing either. */
    assert_int_equal(ls_begin(st), 0);
    assert_int_equal(ls_kv_put_str(st, "gone", "x"), 0);
    ls_close(st);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    assert_int_equal(ls_kv_get(st, "gone", &v, &len), 1);
    assert_int_equal(ls_outbox_put(st, "id2", "conv", "[1]"), 0);
    assert_int_equal(ls_outbox_get(st, "id2", &conv, &json), 0);
    assert_string_equal(json, "[1]");
    free(conv);
    free(json);
    ls_close(st);
}

static void test_contacts_conversations(void **state)
{
    char dir[512], peer[40];
    ls_store *st = NULL;
    ls_contact c = {.user_id = "u1", .username = "alice", .verified = 1};
    ls_contact got;

    snprintf(dir, sizeof dir, "%s/c", (char *)*state);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    char devs[] = "{\"d1\":\"key\"}";
    c.devices_json = devs;
    assert_int_equal(ls_contact_put(st, &c), 0);
    assert_int_equal(ls_contact_find(st, "alice", &got), 0);
    assert_string_equal(got.devices_json, "{\"d1\":\"key\"}");
    assert_int_equal(got.verified, 1);
    ls_contact_clear(&got);
    assert_int_equal(ls_contact_get(st, "nobody", &got), 1);
    assert_int_equal(ls_conversation_put(st, "conv1", "u1"), 0);
    assert_int_equal(ls_conversation_peer(st, "conv1", peer), 0);
    assert_string_equal(peer, "u1");
    assert_int_equal(ls_conversation_for(st, "u1", peer), 0);
    assert_string_equal(peer, "conv1");
    ls_close(st);
}

/* Issue 17: the verified and hold flags are sealed with the device set (bound to the row):
 * flipping the columns changes nothing, a blob moved to another row does not open, and a
 * profile from before (flags only in the columns) is migrated once, then strict. */
static void test_contact_flags_sealed(void **state)
{
    char dir[512], db[600], keyfile[600], devs[] = "{\"d1\":\"key\"}";
    ls_store *st = NULL;
    ls_contact c = {.user_id = "u1", .username = "alice", .verified = 1, .hold = 1}, got;
    uint8_t key[SOTTO_SEAL_KEYBYTES], legacy[64 + SOTTO_SEAL_OVERHEAD];
    sqlite3 *raw;
    sqlite3_stmt *ins;
    FILE *f;

    snprintf(dir, sizeof dir, "%s/f", (char *)*state);
    snprintf(db, sizeof db, "%s/sotto.db", dir);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    c.devices_json = devs;
    assert_int_equal(ls_contact_put(st, &c), 0);
    c.user_id[1] = '2', c.verified = 0, c.hold = 0;
    assert_int_equal(ls_contact_put(st, &c), 0);
    ls_close(st);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "UPDATE contacts SET verified = 0, hold = 0 WHERE user_id = 'u1';"
                                  "UPDATE contacts SET devices = (SELECT devices FROM contacts"
                                  " WHERE user_id = 'u1') WHERE user_id = 'u2'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    assert_int_equal(ls_contact_get(st, "u1", &got), 0);
    assert_int_equal(got.verified, 1);
    assert_int_equal(got.hold, 1);
    assert_string_equal(got.devices_json, devs);
    ls_contact_clear(&got);
    assert_int_equal(ls_contact_get(st, "u2", &got), -1);
    ls_close(st);

    /* A row in the old form (the set alone sealed, flags in the columns), as an older sotto
     * left it: migrated at open with its column flags, from then on sealed. */
    snprintf(keyfile, sizeof keyfile, "%s/profile.key", dir);
    assert_non_null(f = fopen(keyfile, "rb"));
    assert_int_equal(fread(key, 1, sizeof key, f), sizeof key);
    fclose(f);
    assert_int_equal(sotto_seal(legacy, (const uint8_t *)devs, strlen(devs),
                                (const uint8_t *)"contact:u3", 10, key),
                     0);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(raw, "DELETE FROM kv WHERE name = 'contacts_v2'", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "INSERT INTO contacts VALUES('u3', 'carol', ?, 1, 0)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(ins, 1, legacy, (int)(strlen(devs) + SOTTO_SEAL_OVERHEAD), SQLITE_STATIC);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_finalize(ins);
    assert_int_equal(
        sqlite3_exec(raw, "DELETE FROM contacts WHERE user_id = 'u2'", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(profile_open(dir, 0, &st), 0); /* migrates */
    ls_close(st);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "UPDATE contacts SET verified = 0 WHERE user_id = 'u3'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    assert_int_equal(ls_contact_get(st, "u3", &got), 0);
    assert_int_equal(got.verified, 1);
    assert_string_equal(got.devices_json, devs);
    ls_contact_clear(&got);
    assert_int_equal(ls_contact_get(st, "u1", &got), 0);
    assert_int_equal(got.hold, 1);
    ls_contact_clear(&got);
    ls_close(st);
    sodium_memzero(key, sizeof key);
}

static int collect_unsettled(void *ctx, const char *conv, const char *oldest)
{
    char *out = ctx;

    snprintf(out + strlen(out), 256 - strlen(out), "%s<%s;", conv, oldest);
    return 0;
}

/* Statuses only rise; a read cursor covers its conversation's earlier outgoing messages and
 * nothing later, nothing incoming, nothing in another conversation. */
static void test_status_cursor(void **state)
{
    static const struct {
        const char *id, *server, *conv;
        int out;
    } rows[] = {
        {"l1", "01a20000-0000-7000-8000-000000000001", "c1", 1},
        {"l2", "01a20000-0000-7000-8000-000000000002", "c1", 0},
        {"l3", "01a20000-0000-7000-8000-000000000003", "c1", 1},
        {"l4", "01a20000-0000-7000-8000-000000000004", "c1", 1},
        {"l5", "01a20000-0000-7000-8000-000000000000", "c2", 1}, /* before the cursor */
        {"l6", "", "c1", 1}, /* not accepted by the server yet */
    };
    char dir[512], seen[256] = "";
    ls_store *st = NULL;
    ls_message m;

    snprintf(dir, sizeof dir, "%s/r", (char *)*state);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ls_message r = {.outgoing = rows[i].out,
                        .sender_device = "d",
                        .peer_id = "p",
                        .status = rows[i].out ? (rows[i].server[0] ? LS_MSG_SENT : LS_MSG_PENDING)
                                              : LS_MSG_RECEIVED};
        snprintf(r.id, sizeof r.id, "%s", rows[i].id);
        snprintf(r.server_id, sizeof r.server_id, "%s", rows[i].server);
        snprintf(r.conversation_id, sizeof r.conversation_id, "%s", rows[i].conv);
        assert_int_equal(ls_message_put(st, &r), 0);
    }
    assert_int_equal(ls_message_status(st, rows[3].server, LS_MSG_DELIVERED), 0);
    assert_int_equal(ls_message_read_upto(st, "c1", rows[2].server), 0);
    assert_int_equal(ls_message_status(st, rows[2].server, LS_MSG_DELIVERED), 0); /* no lowering */
    static const int want[] = {LS_MSG_READ,      LS_MSG_RECEIVED, LS_MSG_READ,
                               LS_MSG_DELIVERED, LS_MSG_SENT,     LS_MSG_PENDING};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(ls_message_get(st, rows[i].id, &m), 0);
        assert_int_equal(m.status, want[i]);
        ls_message_clear(&m);
    }
    assert_int_equal(ls_unsettled_each(st, collect_unsettled, seen), 0);
    assert_string_equal(seen, "c2<01a20000-0000-7000-8000-000000000000;"
                              "c1<01a20000-0000-7000-8000-000000000004;");
    ls_close(st);
}

/* Collects ids (at most 8) for the each-functions. */
typedef struct seen {
    char ids[8][64];
    int n;
} seen;

static int collect(void *ctx, const char *id)
{
    seen *s = ctx;

    if (s->n < 8)
        snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", id);
    return 0;
}

/* The queue of controls: sealed and bound to its row, oldest first even after an update, and
 * the kv names by prefix (a '_' is a character, not a wildcard). */
static void test_controls_queue(void **state)
{
    char dir[512], db[600], *json = NULL;
    ls_store *st = NULL;
    sqlite3 *raw;
    seen s = {0};

    snprintf(dir, sizeof dir, "%s/ctl", (char *)*state);
    assert_int_equal(profile_open(dir, 1, &st), 0);
    assert_int_equal(ls_control_count(st), 0);
    assert_int_equal(ls_control_get(st, "c1", &json), 1);
    assert_int_equal(ls_control_put(st, "c1", "{\"kind\":\"retry\",\"m\":\"MARKER-store-7f3a9c\"}"),
                     0);
    assert_int_equal(ls_control_put(st, "c2", "{\"kind\":\"delete\"}"), 0);
    assert_int_equal(ls_control_put(st, "c1", "{\"kind\":\"retry\",\"fails\":1}"), 0);
    assert_int_equal(ls_control_count(st), 2);
    assert_int_equal(ls_control_each(st, collect, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], "c1"); /* updated, still first */
    assert_string_equal(s.ids[1], "c2");
    assert_int_equal(ls_control_get(st, "c1", &json), 0);
    assert_string_equal(json, "{\"kind\":\"retry\",\"fails\":1}");
    free(json);
    assert_int_equal(ls_control_del(st, "c2"), 0);
    assert_int_equal(ls_control_count(st), 1);

    assert_int_equal(ls_kv_put_str(st, "retry:a", "1"), 0);
    assert_int_equal(ls_kv_put_str(st, "retry-rate:u:d", "1 1"), 0);
    assert_int_equal(ls_kv_put_str(st, "retryXa", "1"), 0);
    assert_int_equal(ls_kv_put_str(st, "a_b", "1"), 0);
    assert_int_equal(ls_kv_put_str(st, "axb", "1"), 0);
    s.n = 0;
    assert_int_equal(ls_kv_each_prefix(st, "retry:", collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], "retry:a");
    s.n = 0;
    assert_int_equal(ls_kv_each_prefix(st, "a_", collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], "a_b");
    assert_int_equal(ls_control_put(st, "c3", "{}"), 0);
    ls_close(st);
    assert_false(dir_leaks(dir, MARKER));

    /* An entry copied onto another row does not open there. */
    snprintf(db, sizeof db, "%s/sotto.db", dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "UPDATE controls SET entry = (SELECT entry FROM controls"
                                  " WHERE id='c1') WHERE id='c3'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(profile_open(dir, 0, &st), 0);
    assert_int_equal(ls_control_get(st, "c3", &json), -1);
    assert_int_equal(ls_control_get(st, "c1", &json), 0);
    free(json);
    ls_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profile_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_controls_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_and_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts_conversations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_flags_sealed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
