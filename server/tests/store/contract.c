/* contract.c: the store contract suite, run unchanged against every backend.
 *
 *   store_contract sqlite   a fresh SQLite file in a temp directory
 *   store_contract pg       PostgreSQL at $SOTTO_TEST_PG_URL, in a fresh schema that is
 *                           dropped at the end (so runs never see each other's rows)
 *
 * Without SOTTO_TEST_PG_URL the pg run fails loudly: a store test that silently skips
 * would let a PostgreSQL-only bug through (scripts/pg-test.sh start provides the URL).
 */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "store/audit.h"
#include "store/blocks.h"
#include "store/devices.h"
#include "store/mfa.h"
#include "store/prekeys.h"
#include "store/store.h"
#include "store/tokens.h"
#include "store/users.h"
#include "fixture.h"
#include "store_internal.h" /* raw SQL for checks the API does not expose */

#define NOW 1764000000000LL /* a fixed clock: 2025-11-24 */
#define MAX_PREKEYS 200

static struct store_fixture fx;

/* ---------- helpers ---------- */

static void rand_bytes(void *buf, size_t n) { assert_int_equal(getrandom(buf, n, 0), (ssize_t)n); }

static void random_bundle(struct store_bundle *b)
{
    rand_bytes(b, sizeof *b);
    b->spk_id = 7;
}

/* A unique tag per call, so tests never collide on email or username. */
static void unique(char *out, size_t n, const char *prefix)
{
    char id[STORE_ID_SIZE];
    store_uuid_v4(id);
    snprintf(out, n, "%s%.8s", prefix, id);
}

struct account {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
    char email[96], username[64];
    struct store_bundle bundle;
};

static void make_account(struct account *a)
{
    unique(a->username, sizeof a->username, "user");
    snprintf(a->email, sizeof a->email, "%s@example.com", a->username);
    random_bundle(&a->bundle);
    struct store_new_user u = {a->email, a->username, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "web", "127.0.0.1", "test-agent", &a->bundle};
    assert_int_equal(
        store_user_register(fx.s, &u, &d, NULL, 0, MAX_PREKEYS, NOW, a->user_id, a->device_id),
        STORE_OK);
}

static int64_t count_rows(const char *sql, const char *arg)
{
    struct db_param p = db_text(arg);
    struct db_rows *r;
    int64_t n = -1;
    assert_int_equal(fx.s->drv->query(fx.s->db, sql, &p, arg ? 1 : 0, &r), DB_OK);
    if (fx.s->drv->next(r) == 1)
        n = fx.s->drv->get_int(r, 0);
    fx.s->drv->done(r);
    return n;
}

static void fill_prekeys(struct store_prekey *keys, size_t n, uint32_t first)
{
    for (size_t i = 0; i < n; i++) {
        keys[i].key_id = first + (uint32_t)i;
        rand_bytes(keys[i].public_key, STORE_KEY_SIZE);
    }
}

/* ---------- set-up ---------- */

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store contract", "test");
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_close(&fx);
    return 0;
}

/* ---------- opening, migrations, transactions ---------- */

static void test_config_and_ping(void **state)
{
    char err[256] = "";
    (void)state;
    struct store_config bad = {.database_url = "mysql://x"};
    assert_int_equal(store_config_check(&bad, err, sizeof err), STORE_INVALID);
    assert_non_null(strstr(err, "DATABASE_URL"));
    struct store_config none = {0};
    assert_int_equal(store_config_check(&none, err, sizeof err), STORE_INVALID);
    assert_int_equal(store_ping(fx.s), STORE_OK);
    assert_string_equal(store_backend(fx.s), fx.pg ? "postgresql" : "sqlite");
}

static void test_unreachable_pg(void **state)
{
    char err[256] = "";
    struct store *s = NULL;
    (void)state;
    struct store_config cfg = {.database_url = "postgresql://nobody:secretpw@127.0.0.1:1/x"};
    assert_int_equal(store_open(&cfg, &s, err, sizeof err), STORE_ERROR);
    assert_null(s);
    assert_null(strchr(err, '\n'));       /* one line */
    assert_null(strstr(err, "secretpw")); /* never the password */
}

static void test_migrations_idempotent(void **state)
{
    static const char count[] = "SELECT COUNT(*) FROM schema_migrations";
    static const char future[] =
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'x', 0)";
    static const char unfuture[] = "DELETE FROM schema_migrations WHERE version = 9999";
    struct store *other;
    char err[256];
    (void)state;
    int64_t before = count_rows(count, NULL);
    assert_true(before >= 1);
    assert_int_equal(store_migrate(fx.s), STORE_OK);
    assert_int_equal(store_open(&fx.cfg, &other, err, sizeof err), STORE_OK);
    assert_int_equal(store_migrate(other), STORE_OK);
    assert_int_equal(count_rows(count, NULL), before);
    /* A schema from a newer sottod is refused, not run over. */
    assert_int_equal(store_exec(other, future, NULL, 0, NULL), STORE_OK);
    assert_int_equal(store_migrate(fx.s), STORE_ERROR);
    assert_int_equal(store_exec(other, unfuture, NULL, 0, NULL), STORE_OK);
    assert_int_equal(store_migrate(fx.s), STORE_OK);
    store_close(other);
}

struct migrator {
    const struct store_config *cfg;
    pthread_barrier_t *start;
    enum store_err rc;
};

static void *migrator_run(void *arg)
{
    struct migrator *m = arg;
    struct store *s = NULL;
    char err[256];
    m->rc = store_open(m->cfg, &s, err, sizeof err);
    pthread_barrier_wait(m->start);
    for (int tries = 0; m->rc == STORE_OK || (m->rc == STORE_BUSY && tries < 20); tries++)
        if ((m->rc = store_migrate(s)) != STORE_BUSY)
            break;
    store_close(s);
    return NULL;
}

/* Nodes starting together on an empty database: all succeed, each migration runs once. */
static void test_migrate_concurrent(void **state)
{
    static const char count[] = "SELECT COUNT(*) FROM schema_migrations";
    char dir[64] = "/tmp/sotto-store-XXXXXX", url[1024], sql[160], schema[64];
    struct store_config cfg = {0};
    struct migrator m[4];
    pthread_t th[4];
    pthread_barrier_t start;
    struct store *s;
    (void)state;
    if (fx.pg) {
        snprintf(schema, sizeof schema, "%s_m", fx.schema);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        assert_int_equal(fixture_pg_script(fx.base_url, sql), 0);
        snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3D%s", fx.base_url,
                 strchr(fx.base_url, '?') ? "&" : "?", schema);
        cfg.database_url = url;
    } else {
        assert_non_null(mkdtemp(dir));
        cfg.data_dir = dir;
    }
    pthread_barrier_init(&start, NULL, 4);
    for (int i = 0; i < 4; i++) {
        m[i] = (struct migrator){.cfg = &cfg, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, migrator_run, &m[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 4; i++)
        assert_int_equal(m[i].rc, STORE_OK);
    assert_int_equal(store_open(&cfg, &s, sql, sizeof sql), STORE_OK);
    struct db_rows *r;
    assert_int_equal(s->drv->query(s->db, count, NULL, 0, &r), DB_OK);
    assert_int_equal(s->drv->next(r), 1);
    assert_int_equal(s->drv->get_int(r, 0), count_rows(count, NULL));
    s->drv->done(r);
    store_close(s);
    if (fx.pg) {
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
        assert_int_equal(fixture_pg_script(fx.base_url, sql), 0);
    } else {
        fixture_remove_dir(dir);
    }
}

/* The user's stored bio is `want`. */
static void assert_bio(const char *user_id, const char *want)
{
    struct store_user u;
    assert_int_equal(store_user_get(fx.s, user_id, &u), STORE_OK);
    assert_string_equal(u.bio, want);
    store_user_free(&u);
}

/* One nesting level that updates user_id's profile, then commits it (keep) or rolls it back. */
static void level_update(const char *user_id, const struct store_profile *p, bool keep)
{
    assert_int_equal(store_begin(fx.s), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, user_id, p, NOW), STORE_OK);
    if (keep)
        assert_int_equal(store_commit(fx.s), STORE_OK);
    else
        store_rollback(fx.s);
}

/* An inner level is a savepoint: its rollback undoes its own work only, and the outer
 * transaction still commits what it did before and after. */
static void test_nested_rollback(void **state)
{
    struct account a;
    struct store_profile outer = {.set_bio = true, .bio = "outer"};
    struct store_profile inner = {.set_bio = true, .bio = "inner"};
    (void)state;
    make_account(&a);
    assert_int_equal(store_begin(fx.s), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &outer, NOW), STORE_OK);
    assert_int_equal(store_begin(fx.s), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &inner, NOW), STORE_OK);
    store_rollback(fx.s);                           /* an inner failure ... */
    assert_int_equal(store_commit(fx.s), STORE_OK); /* ... undoes only its own work */
    assert_bio(a.user_id, "outer");
    /* The outermost rollback still undoes everything, inner commits included. */
    assert_int_equal(store_begin(fx.s), STORE_OK);
    level_update(a.user_id, &inner, true);
    store_rollback(fx.s);
    assert_bio(a.user_id, "outer");
}

/* store_begin_batch, as group commit uses it: a request refused before it writes is undone
 * alone, at no cost, and the others commit. A request that fails after writing dooms the
 * whole batch on SQLite (its levels are no savepoints) and is undone alone on PostgreSQL. */
static void test_batch_nesting(void **state)
{
    struct account a, b;
    struct store_profile p1 = {.set_bio = true, .bio = "first"};
    struct store_profile p2 = {.set_bio = true, .bio = "second"};
    char nobody[STORE_ID_SIZE];
    (void)state;
    make_account(&a);
    make_account(&b);
    store_uuid_v4(nobody);
    assert_int_equal(store_begin_batch(fx.s), STORE_OK);
    assert_int_equal(store_begin_batch(fx.s), STORE_ERROR); /* only as the outermost level */
    level_update(a.user_id, &p1, true);                     /* request 1: succeeds */
    assert_int_equal(store_begin(fx.s), STORE_OK);          /* request 2: refused, no write */
    assert_int_equal(store_user_update_profile(fx.s, nobody, &p2, NOW), STORE_NOT_FOUND);
    store_rollback(fx.s);
    level_update(b.user_id, &p2, true); /* request 3: succeeds */
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_bio(a.user_id, "first");
    assert_bio(b.user_id, "second");

    /* A request that wrote and then failed, beside one that succeeded. */
    assert_int_equal(store_begin_batch(fx.s), STORE_OK);
    level_update(b.user_id, &p1, true);
    level_update(a.user_id, &p2, false);
    assert_int_equal(store_commit(fx.s), fx.pg ? STORE_OK : STORE_ERROR);
    assert_bio(a.user_id, "first");                    /* undone either way */
    assert_bio(b.user_id, fx.pg ? "first" : "second"); /* SQLite: the batch is undone */
    /* The connection is usable again, in ordinary (savepoint) nesting. */
    assert_int_equal(store_begin(fx.s), STORE_OK);
    level_update(a.user_id, &p2, false);
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_bio(a.user_id, "first");
}

/* The writer's tuning and the background checkpoint work on both backends (no-ops on
 * PostgreSQL), outside a transaction, and leave committed data as it was. */
static void test_housekeeping(void **state)
{
    struct account a;
    struct store_profile p = {.set_bio = true, .bio = "kept"};
    (void)state;
    make_account(&a);
    assert_int_equal(store_tune_writer(fx.s), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW), STORE_OK);
    assert_int_equal(store_checkpoint(fx.s), STORE_OK);
    assert_bio(a.user_id, "kept");
    assert_int_equal(store_checkpoint(fx.s), STORE_OK); /* nothing left to copy */
    assert_bio(a.user_id, "kept");
}

/* The write-ahead log's size after a commit, which sottod watches to checkpoint in the
 * background: it grows with what a commit wrote, stays put without commits, and the next commit
 * after a full checkpoint starts the log over. PostgreSQL has none to report. */
static void test_wal_pages(void **state)
{
    struct account a;
    struct store_profile p = {.set_bio = true, .bio = "one"};
    size_t before, after;
    (void)state;
    make_account(&a);
    before = store_wal_pages(fx.s);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW), STORE_OK);
    after = store_wal_pages(fx.s);
    if (fx.pg) {
        assert_int_equal(before + after, 0);
        return;
    }
    assert_true(after > 0);
    assert_int_equal(store_checkpoint(fx.s), STORE_OK);
    assert_int_equal(store_wal_pages(fx.s), after); /* only commits report */
    p.bio = "two";
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW), STORE_OK);
    assert_true(store_wal_pages(fx.s) < after); /* restarted from the beginning */
    assert_bio(a.user_id, "two");
}

/* Savepoint isolation, as group commit uses it: several requests in one transaction, each in
 * its own level; one that fails on a constraint (which aborts the whole transaction on
 * PostgreSQL without a savepoint) is undone alone, the others and the outer work commit. */
static void test_savepoint_isolation(void **state)
{
    struct account a, b;
    struct store_bundle bundle;
    char uid[STORE_ID_SIZE], did[STORE_ID_SIZE], name[64], email[96];
    struct store_profile p1 = {.set_bio = true, .bio = "first"};
    struct store_profile p2 = {.set_bio = true, .bio = "second"};
    (void)state;
    make_account(&a);
    make_account(&b);
    random_bundle(&bundle);
    unique(name, sizeof name, "sp");
    snprintf(email, sizeof email, "%s@example.com", name);
    assert_int_equal(store_begin(fx.s), STORE_OK);
    /* request 1: succeeds */
    level_update(a.user_id, &p1, true);
    /* request 2: a duplicate identity key, refused by the database (nested register) */
    struct store_new_user fresh = {email, name, "h", NULL, NULL};
    struct store_new_device dup_key = {"phone", "ios", NULL, NULL, &a.bundle};
    assert_int_equal(store_user_register(fx.s, &fresh, &dup_key, NULL, 0, 10, NOW, uid, did),
                     STORE_CONFLICT_KEY);
    /* request 3: succeeds after the failure, in the same transaction */
    level_update(b.user_id, &p2, true);
    /* request 4: works, then rolls back by itself */
    level_update(b.user_id, &p1, false);
    /* savepoints nest too */
    assert_int_equal(store_begin(fx.s), STORE_OK);
    level_update(b.user_id, &p1, false);
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_bio(a.user_id, "first");
    assert_bio(b.user_id, "second");
    /* the refused registration left nothing behind */
    struct store_new_device d = {"phone", "ios", NULL, NULL, &bundle};
    assert_int_equal(store_user_register(fx.s, &fresh, &d, NULL, 0, 10, NOW, uid, did), STORE_OK);
}

static void test_uuids(void **state)
{
    char a[STORE_ID_SIZE], b[STORE_ID_SIZE];
    (void)state;
    store_uuid_v7(a, NOW);
    store_uuid_v7(b, NOW + 1);
    assert_int_equal(strlen(a), STORE_ID_LEN);
    assert_true(strcmp(a, b) < 0); /* time-ordered */
    assert_int_equal(a[14], '7');
    store_uuid_v4(a);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
}

#define LATER (NOW + 86400000) /* after every time another test here uses */

static void test_uuids_ordered(void **state)
{
    char prev[STORE_ID_SIZE], next[STORE_ID_SIZE];
    (void)state;
    store_uuid_v7_ordered(prev, LATER);
    for (int i = 0; i < 2000; i++) { /* one millisecond, then the clock stepping back */
        store_uuid_v7_ordered(next, i < 1000 ? LATER : LATER - 1000);
        assert_true(strcmp(prev, next) < 0);
        assert_int_equal(next[14], '7');
        assert_true(strchr("89ab", next[19]) != NULL);
        assert_memory_equal(next, prev, 13); /* still that millisecond */
        memcpy(prev, next, sizeof prev);
    }
    store_uuid_v7_ordered(next, LATER + 1); /* a new millisecond starts afresh, later */
    assert_true(strcmp(prev, next) < 0);
    assert_false(memcmp(next, prev, 13) == 0);
}

/* ---------- users ---------- */

static void test_register_and_lookup(void **state)
{
    struct account a;
    struct store_user u;
    struct store_device *devs;
    size_t n;
    char upper[96];
    (void)state;
    make_account(&a);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_string_equal(u.email, a.email);
    assert_string_equal(u.username, a.username);
    assert_string_equal(u.display_name, "Someone");
    assert_false(u.email_verified);
    assert_false(u.mfa_enabled);
    assert_int_equal(u.created_at, NOW);
    store_user_free(&u);
    snprintf(upper, sizeof upper, "%s", a.email);
    for (char *c = upper; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    assert_int_equal(store_user_get_by_email(fx.s, upper, &u), STORE_OK);
    assert_string_equal(u.id, a.user_id);
    store_user_free(&u);
    assert_int_equal(store_user_get_by_username(fx.s, a.username, &u), STORE_OK);
    store_user_free(&u);
    assert_int_equal(store_user_get(fx.s, "00000000-0000-4000-8000-000000000000", &u),
                     STORE_NOT_FOUND);
    assert_int_equal(store_device_list(fx.s, a.user_id, STORE_DEVICES_ACTIVE, &devs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(devs[0].id, a.device_id);
    assert_string_equal(devs[0].platform, "web");
    assert_memory_equal(&devs[0].bundle, &a.bundle, sizeof a.bundle);
    store_devices_free(devs, n);
}

static void test_register_conflicts(void **state)
{
    struct account a;
    struct store_bundle b;
    char uid[STORE_ID_SIZE], did[STORE_ID_SIZE], name[64], email[96];
    struct store_user u;
    (void)state;
    make_account(&a);
    random_bundle(&b);
    unique(name, sizeof name, "fresh");
    snprintf(email, sizeof email, "%s@example.com", name);
    struct store_new_device d = {"phone", "ios", NULL, NULL, &b};
    /* Same email in other case: taken. */
    char shout[96];
    snprintf(shout, sizeof shout, "%s", a.email);
    shout[0] = (char)(shout[0] - 32);
    struct store_new_user dup_email = {shout, name, "h", NULL, NULL};
    assert_int_equal(store_user_register(fx.s, &dup_email, &d, NULL, 0, 10, NOW, uid, did),
                     STORE_CONFLICT_EMAIL);
    struct store_new_user dup_name = {email, a.username, "h", NULL, NULL};
    assert_int_equal(store_user_register(fx.s, &dup_name, &d, NULL, 0, 10, NOW, uid, did),
                     STORE_CONFLICT_USERNAME);
    struct store_new_device dup_key = {"phone", "ios", NULL, NULL, &a.bundle};
    struct store_new_user fresh = {email, name, "h", NULL, NULL};
    assert_int_equal(store_user_register(fx.s, &fresh, &dup_key, NULL, 0, 10, NOW, uid, did),
                     STORE_CONFLICT_KEY);
    /* Nothing of the refused registrations stayed behind. */
    assert_int_equal(store_user_get_by_username(fx.s, name, &u), STORE_NOT_FOUND);
    struct store_new_device bad_platform = {"x", "windows", NULL, NULL, NULL};
    assert_int_equal(store_user_register(fx.s, &fresh, &bad_platform, NULL, 0, 10, NOW, uid, did),
                     STORE_INVALID);
    assert_int_equal(store_user_get_by_email(fx.s, email, &u), STORE_NOT_FOUND);
    /* Too many pre-keys: all or nothing. */
    struct store_prekey keys[3];
    fill_prekeys(keys, 3, 1);
    assert_int_equal(store_user_register(fx.s, &fresh, &d, keys, 3, 2, NOW, uid, did), STORE_LIMIT);
    assert_int_equal(store_user_get_by_email(fx.s, email, &u), STORE_NOT_FOUND);
    assert_int_equal(store_user_register(fx.s, &fresh, &d, keys, 3, 3, NOW, uid, did), STORE_OK);
}

static char *big_string(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = "'\"\\%_!$;-"[i % 9];
    s[n] = '\0';
    return s;
}

static void test_hostile_strings(void **state)
{
    static const char *const nasty[] = {
        "Robert'); DROP TABLE users;--", "\" OR 1=1 -- $1 ?1 :a @b \\x00 %s %n",
        "100% _wild_ card! [a-z]* \\",   "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x99\x82 \xe2\x80\xae",
        "line\nbreak\ttab\r\x01\x7f",
    };
    struct account a;
    struct store_user u;
    (void)state;
    make_account(&a);
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        struct store_profile p = {.set_display_name = true,
                                  .set_bio = true,
                                  .set_avatar_url = true,
                                  .display_name = nasty[i],
                                  .bio = nasty[i],
                                  .avatar_url = nasty[i]};
        assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW), STORE_OK);
        assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
        assert_string_equal(u.display_name, nasty[i]);
        assert_string_equal(u.bio, nasty[i]);
        assert_string_equal(u.avatar_url, nasty[i]);
        store_user_free(&u);
    }
    char *big = big_string(1 << 20);
    struct store_profile p = {.set_bio = true, .bio = big};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW), STORE_OK);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_int_equal(strlen(u.bio), 1 << 20);
    assert_string_equal(u.bio, big);
    store_user_free(&u);
    /* A hostile email and username round-trip too, and find the user. */
    char name[96], email[128];
    char uid[STORE_ID_SIZE], did[STORE_ID_SIZE];
    unique(name, sizeof name, "o'brien\"--;");
    snprintf(email, sizeof email, "x'or'1'='1%s@example.com", name + 11);
    struct store_new_user nu = {email, name, big, "' OR ''='", NULL};
    struct store_new_device nd = {"'); --", "cli", "::1", "\"ua\"", NULL};
    assert_int_equal(store_user_register(fx.s, &nu, &nd, NULL, 0, 1, NOW, uid, did), STORE_OK);
    assert_int_equal(store_user_get_by_username(fx.s, name, &u), STORE_OK);
    assert_string_equal(u.email, email);
    assert_string_equal(u.password_hash, big);
    assert_string_equal(u.display_name, "' OR ''='");
    store_user_free(&u);
    free(big);
}

static void test_search(void **state)
{
    char tag[32], name[64], email[96], *uids[5];
    char uid[STORE_ID_SIZE], did[STORE_ID_SIZE];
    struct store_user *users;
    size_t n;
    int64_t total;
    (void)state;
    unique(tag, sizeof tag, "srch");
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%s_%d", tag, i);
        snprintf(email, sizeof email, "%s@example.com", name);
        struct store_new_user u = {email, name, "h", i == 4 ? "Percent 100% Pat" : NULL, NULL};
        struct store_new_device d = {"d", "web", NULL, NULL, NULL};
        assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 1, NOW, uid, did), STORE_OK);
        uids[i] = strdup(uid);
    }
    /* Not verified: found only by the exact username, in any case. */
    assert_int_equal(store_user_search(fx.s, tag, 10, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 0);
    snprintf(name, sizeof name, "%s_3", tag);
    name[0] = (char)(name[0] - 32);
    assert_int_equal(store_user_search(fx.s, name, 10, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_string_equal(users[0].id, uids[3]);
    store_users_free(users, n);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(store_user_set_email_verified(fx.s, uids[i], NOW), STORE_OK);
        free(uids[i]);
    }
    assert_int_equal(store_user_search(fx.s, tag, 2, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 5);
    assert_int_equal(n, 2);
    snprintf(name, sizeof name, "%s_0", tag);
    assert_string_equal(users[0].username, name);
    store_users_free(users, n);
    assert_int_equal(store_user_search(fx.s, tag, 10, 4, &users, &n, &total), STORE_OK);
    assert_int_equal(n, 1);
    store_users_free(users, n);
    /* Case-insensitive, and wildcards are literal. */
    for (char *c = tag; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    assert_int_equal(store_user_search(fx.s, tag, 10, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 5);
    store_users_free(users, n);
    assert_int_equal(store_user_search(fx.s, "100% p", 10, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 1);
    store_users_free(users, n);
    assert_int_equal(store_user_search(fx.s, "%", 10, 0, &users, &n, &total), STORE_OK);
    assert_int_equal(total, 1);
    store_users_free(users, n);
    assert_int_equal(store_user_search(fx.s, "nobody-has-this-zz", 10, 0, &users, &n, &total),
                     STORE_OK);
    assert_int_equal(total, 0);
    assert_null(users);
}

static void test_profile_password_verify(void **state)
{
    struct account a;
    struct store_user u;
    (void)state;
    make_account(&a);
    struct store_profile p = {
        .set_bio = true, .bio = "hi", .set_avatar_url = true, .avatar_url = "https://x/a.png"};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW + 5), STORE_OK);
    struct store_profile clear = {.set_display_name = true, .display_name = NULL};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &clear, NOW + 6), STORE_OK);
    assert_int_equal(store_user_set_password(fx.s, a.user_id, "new-hash", NOW + 7), STORE_OK);
    assert_int_equal(store_user_set_email_verified(fx.s, a.user_id, NOW + 8), STORE_OK);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_null(u.display_name);
    assert_string_equal(u.bio, "hi");
    assert_string_equal(u.avatar_url, "https://x/a.png");
    assert_string_equal(u.password_hash, "new-hash");
    assert_true(u.email_verified);
    assert_int_equal(u.updated_at, NOW + 8);
    assert_string_equal(u.language, "en"); /* the default */
    store_user_free(&u);
    /* The language: set by a profile change, never cleared by one that leaves it NULL. */
    struct store_profile lang = {.language = "vi"};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &lang, NOW + 9), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW + 10), STORE_OK);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_string_equal(u.language, "vi");
    assert_true(u.read_receipts); /* privacy: sharing by default, left by other changes */
    assert_false(u.last_seen_hidden);
    store_user_free(&u);
    struct store_profile hide = {.set_last_seen_hidden = true, .last_seen_hidden = true};
    struct store_profile quiet = {.set_read_receipts = true, .read_receipts = false};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &hide, NOW + 11), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &quiet, NOW + 12), STORE_OK);
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &p, NOW + 13), STORE_OK);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_false(u.read_receipts);
    assert_true(u.last_seen_hidden);
    store_user_free(&u);
    assert_int_equal(store_user_set_password(fx.s, "no-such-user", "h", NOW), STORE_NOT_FOUND);
    /* Deleted: gone, with its devices; a second time is not found. */
    assert_int_equal(store_user_delete(fx.s, a.user_id), STORE_OK);
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_NOT_FOUND);
    struct store_device gone;
    assert_int_equal(store_device_get(fx.s, a.device_id, &gone), STORE_NOT_FOUND);
    assert_int_equal(store_user_delete(fx.s, a.user_id), STORE_NOT_FOUND);
}

/* ---------- devices and keys ---------- */

static void test_devices_and_revoke(void **state)
{
    struct account a, b;
    char did[STORE_ID_SIZE], fam[STORE_ID_SIZE];
    struct store_device *devs, dev;
    struct store_refresh r;
    size_t n;
    uint8_t h1[STORE_HASH_SIZE], h2[STORE_HASH_SIZE];
    (void)state;
    make_account(&a);
    make_account(&b);
    struct store_new_device nd = {"cli box", "cli", "10.0.0.1", "sotto-cli", NULL};
    assert_int_equal(store_device_create(fx.s, a.user_id, &nd, NOW + 1, did), STORE_OK);
    assert_int_equal(store_device_list(fx.s, a.user_id, STORE_DEVICES_NOT_REVOKED, &devs, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_false(store_device_active(&devs[1])); /* no bundle yet */
    store_devices_free(devs, n);
    assert_int_equal(store_device_touch(fx.s, did, "10.0.0.2", NULL, NOW + 9), STORE_OK);
    assert_int_equal(store_device_get(fx.s, did, &dev), STORE_OK);
    assert_string_equal(dev.last_ip, "10.0.0.2");
    assert_string_equal(dev.user_agent, "sotto-cli");
    assert_int_equal(dev.last_active_at, NOW + 9);
    store_device_free(&dev);
    /* Revocation: only the owner, only once; tokens and pre-keys go with it. */
    rand_bytes(h1, sizeof h1);
    rand_bytes(h2, sizeof h2);
    assert_int_equal(store_refresh_insert(fx.s, h1, a.user_id, a.device_id, NOW + 1000, NOW, fam),
                     STORE_OK);
    struct store_prekey keys[4];
    fill_prekeys(keys, 4, 1);
    assert_int_equal(store_prekeys_add(fx.s, a.device_id, keys, 4, MAX_PREKEYS, NOW), STORE_OK);
    assert_int_equal(store_device_revoke(fx.s, b.user_id, a.device_id, NOW), STORE_NOT_FOUND);
    /* Renamed only by its owner, and only while not revoked. */
    assert_int_equal(store_device_rename(fx.s, b.user_id, a.device_id, "theirs"), STORE_NOT_FOUND);
    assert_int_equal(store_device_rename(fx.s, a.user_id, a.device_id, "renamed"), STORE_OK);
    struct store_device named;
    assert_int_equal(store_device_get(fx.s, a.device_id, &named), STORE_OK);
    assert_string_equal(named.name, "renamed");
    store_device_free(&named);
    assert_int_equal(store_device_revoke(fx.s, a.user_id, a.device_id, NOW + 2), STORE_OK);
    assert_int_equal(store_device_revoke(fx.s, a.user_id, a.device_id, NOW + 3), STORE_NOT_FOUND);
    assert_int_equal(store_device_rename(fx.s, a.user_id, a.device_id, "again"), STORE_NOT_FOUND);
    assert_int_equal(store_refresh_rotate(fx.s, h1, h2, NOW + 2000, NOW + 4, &r), STORE_NOT_FOUND);
    int64_t left;
    assert_int_equal(store_prekeys_count(fx.s, a.device_id, &left), STORE_OK);
    assert_int_equal(left, 0);
    assert_int_equal(store_device_get(fx.s, a.device_id, &dev), STORE_OK);
    assert_int_equal(dev.revoked_at, NOW + 2);
    assert_false(store_device_active(&dev));
    store_device_free(&dev);
    assert_int_equal(store_device_list(fx.s, a.user_id, STORE_DEVICES_ALL, &devs, &n), STORE_OK);
    assert_int_equal(n, 2);
    store_devices_free(devs, n);
    assert_int_equal(store_device_list(fx.s, a.user_id, STORE_DEVICES_ACTIVE, &devs, &n), STORE_OK);
    assert_int_equal(n, 0);
    /* A revoked device's keys stay taken: a reinstall is a new device with new keys. */
    char uid2[STORE_ID_SIZE];
    struct store_new_device again = {"again", "web", NULL, NULL, &a.bundle};
    assert_int_equal(store_device_create(fx.s, a.user_id, &again, NOW, uid2), STORE_CONFLICT_KEY);
}

static void test_bundle_rules(void **state)
{
    struct account a, other;
    char did[STORE_ID_SIZE];
    struct store_bundle b, b2;
    struct store_device dev;
    (void)state;
    make_account(&a);
    make_account(&other);
    struct store_new_device nd = {"new", "android", NULL, NULL, NULL};
    assert_int_equal(store_device_create(fx.s, a.user_id, &nd, NOW, did), STORE_OK);
    random_bundle(&b);
    /* Not yours: not found. A key of another device: conflict. */
    assert_int_equal(store_device_set_bundle(fx.s, other.user_id, did, &b, NOW), STORE_NOT_FOUND);
    b2 = b;
    memcpy(b2.signing_key, other.bundle.signing_key, STORE_KEY_SIZE);
    assert_int_equal(store_device_set_bundle(fx.s, a.user_id, did, &b2, NOW), STORE_CONFLICT_KEY);
    assert_int_equal(store_device_set_bundle(fx.s, a.user_id, did, &b, NOW), STORE_OK);
    /* The same keys again with a new signed pre-key: accepted. */
    b.spk_id = 8;
    assert_int_equal(store_device_set_bundle(fx.s, a.user_id, did, &b, NOW), STORE_OK);
    /* Other identity keys: never. */
    b2 = b;
    b2.identity_key[0] ^= 1;
    assert_int_equal(store_device_set_bundle(fx.s, a.user_id, did, &b2, NOW),
                     STORE_IDENTITY_IMMUTABLE);
    b2 = b;
    memcpy(b2.signing_key, other.bundle.signing_key, STORE_KEY_SIZE);
    assert_int_equal(store_device_set_bundle(fx.s, a.user_id, did, &b2, NOW),
                     STORE_IDENTITY_IMMUTABLE);
    /* Signed pre-key replacement. */
    uint8_t pub[STORE_KEY_SIZE], sig[STORE_SIG_SIZE];
    rand_bytes(pub, sizeof pub);
    rand_bytes(sig, sizeof sig);
    assert_int_equal(
        store_device_set_signed_prekey(fx.s, a.user_id, did, 0xFFFFFFFFu, pub, sig, NOW), STORE_OK);
    assert_int_equal(store_device_set_signed_prekey(fx.s, other.user_id, did, 9, pub, sig, NOW),
                     STORE_NOT_FOUND);
    assert_int_equal(store_device_get(fx.s, did, &dev), STORE_OK);
    assert_true(store_device_active(&dev));
    assert_int_equal(dev.bundle.spk_id, 0xFFFFFFFFu);
    assert_memory_equal(dev.bundle.spk_public, pub, sizeof pub);
    assert_memory_equal(dev.bundle.spk_signature, sig, sizeof sig);
    assert_memory_equal(dev.bundle.identity_key, b.identity_key, STORE_KEY_SIZE);
    store_device_free(&dev);
}

static void test_prekeys(void **state)
{
    struct account a;
    struct store_prekey keys[5], got;
    int64_t count;
    bool found;
    (void)state;
    make_account(&a);
    fill_prekeys(keys, 5, 10);
    keys[4].key_id = 3; /* out of order: claims take the lowest id */
    assert_int_equal(store_prekeys_add(fx.s, a.device_id, keys, 5, 5, NOW), STORE_OK);
    assert_int_equal(store_prekeys_add(fx.s, a.device_id, keys, 2, 5, NOW), STORE_OK); /* retry */
    struct store_prekey changed = keys[0];
    changed.public_key[0] ^= 1;
    assert_int_equal(store_prekeys_add(fx.s, a.device_id, &changed, 1, 5, NOW), STORE_CONFLICT);
    struct store_prekey extra;
    fill_prekeys(&extra, 1, 99);
    assert_int_equal(store_prekeys_add(fx.s, a.device_id, &extra, 1, 5, NOW), STORE_LIMIT);
    assert_int_equal(store_prekeys_count(fx.s, a.device_id, &count), STORE_OK);
    assert_int_equal(count, 5);
    assert_int_equal(store_prekeys_add(fx.s, "no-such-device", &extra, 1, 5, NOW), STORE_NOT_FOUND);
    assert_int_equal(store_prekeys_claim(fx.s, a.device_id, &got, &found), STORE_OK);
    assert_true(found);
    assert_int_equal(got.key_id, 3);
    assert_memory_equal(got.public_key, keys[4].public_key, STORE_KEY_SIZE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_prekeys_claim(fx.s, a.device_id, &got, &found), STORE_OK);
        assert_true(found);
        assert_int_equal(got.key_id, 10 + i);
    }
    assert_int_equal(store_prekeys_claim(fx.s, a.device_id, &got, &found), STORE_OK);
    assert_false(found);
}

#define CLAIMERS 8
#define POOL 200 /* a multiple of CLAIMERS */

struct claimer {
    const char *device_id;
    pthread_barrier_t *start;
    uint32_t ids[POOL];
    size_t n;
    int failures;
};

/* Each claimer takes exactly its share, so supply equals demand: a claim that reports "none
 * left" while keys remain (e.g. waiting on a row another claimer deletes) is a failure. */
static void *claimer_run(void *arg)
{
    struct claimer *c = arg;
    struct store *s = NULL;
    char err[256];
    struct store_prekey k;
    bool found;
    if (store_open(&fx.cfg, &s, err, sizeof err) != STORE_OK)
        c->failures++;
    pthread_barrier_wait(c->start);
    while (s && c->n < POOL / CLAIMERS) {
        enum store_err rc = store_prekeys_claim(s, c->device_id, &k, &found);
        if (rc == STORE_BUSY)
            continue; /* contention: try again */
        if (rc != STORE_OK || !found) {
            c->failures++;
            break;
        }
        c->ids[c->n++] = k.key_id;
    }
    store_close(s);
    return NULL;
}

static void test_concurrent_claim(void **state)
{
    struct account a;
    static struct claimer cl[CLAIMERS];
    pthread_t th[CLAIMERS];
    pthread_barrier_t start;
    struct store_prekey keys[100];
    bool seen[POOL + 1] = {false};
    size_t total = 0;
    (void)state;
    make_account(&a);
    for (uint32_t first = 1; first <= POOL; first += 100) {
        fill_prekeys(keys, 100, first);
        assert_int_equal(store_prekeys_add(fx.s, a.device_id, keys, 100, POOL, NOW), STORE_OK);
    }
    pthread_barrier_init(&start, NULL, CLAIMERS);
    for (int i = 0; i < CLAIMERS; i++) {
        cl[i] = (struct claimer){.device_id = a.device_id, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, claimer_run, &cl[i]), 0);
    }
    for (int i = 0; i < CLAIMERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < CLAIMERS; i++) {
        assert_int_equal(cl[i].failures, 0);
        for (size_t j = 0; j < cl[i].n; j++) {
            assert_true(cl[i].ids[j] >= 1 && cl[i].ids[j] <= POOL);
            assert_false(seen[cl[i].ids[j]]); /* never the same key twice */
            seen[cl[i].ids[j]] = true;
        }
        total += cl[i].n;
    }
    assert_int_equal(total, POOL); /* and none lost */
    struct store_prekey k;
    bool found;
    assert_int_equal(store_prekeys_claim(fx.s, a.device_id, &k, &found), STORE_OK);
    assert_false(found);
}

/* ---------- tokens ---------- */

static void test_refresh_rotation(void **state)
{
    struct account a;
    uint8_t t1[STORE_HASH_SIZE], t2[STORE_HASH_SIZE], t3[STORE_HASH_SIZE], t4[STORE_HASH_SIZE];
    char fam[STORE_ID_SIZE];
    struct store_refresh r;
    (void)state;
    make_account(&a);
    rand_bytes(t1, sizeof t1);
    rand_bytes(t2, sizeof t2);
    rand_bytes(t3, sizeof t3);
    rand_bytes(t4, sizeof t4);
    assert_int_equal(store_refresh_insert(fx.s, t1, a.user_id, a.device_id, NOW + 100, NOW, fam),
                     STORE_OK);
    assert_int_equal(store_refresh_rotate(fx.s, t1, t2, NOW + 200, NOW + 1, &r), STORE_OK);
    assert_string_equal(r.user_id, a.user_id);
    assert_string_equal(r.device_id, a.device_id);
    assert_string_equal(r.family_id, fam);
    assert_int_equal(store_refresh_rotate(fx.s, t2, t3, NOW + 300, NOW + 2, &r), STORE_OK);
    /* t1 comes back: stolen. The whole family dies, including the current t3. */
    assert_int_equal(store_refresh_rotate(fx.s, t1, t4, NOW + 400, NOW + 3, &r),
                     STORE_TOKEN_REUSED);
    assert_string_equal(r.user_id, a.user_id);
    assert_int_equal(store_refresh_rotate(fx.s, t3, t4, NOW + 400, NOW + 4, &r), STORE_NOT_FOUND);
    /* Unknown and expired tokens. */
    assert_int_equal(store_refresh_rotate(fx.s, t4, t1, NOW + 400, NOW + 5, &r), STORE_NOT_FOUND);
    assert_int_equal(store_refresh_insert(fx.s, t4, a.user_id, a.device_id, NOW + 10, NOW, NULL),
                     STORE_OK);
    rand_bytes(t1, sizeof t1);
    assert_int_equal(store_refresh_rotate(fx.s, t4, t1, NOW + 400, NOW + 10, &r), STORE_NOT_FOUND);
    /* Revoke everything of a user (password reset, logout-all). */
    rand_bytes(t1, sizeof t1);
    rand_bytes(t2, sizeof t2);
    assert_int_equal(store_refresh_insert(fx.s, t1, a.user_id, a.device_id, NOW + 100, NOW, NULL),
                     STORE_OK);
    assert_int_equal(store_refresh_revoke_user(fx.s, a.user_id, NOW), STORE_OK);
    assert_int_equal(store_refresh_rotate(fx.s, t1, t2, NOW + 200, NOW + 1, &r), STORE_NOT_FOUND);
    /* Logout of one device. */
    rand_bytes(t1, sizeof t1);
    assert_int_equal(store_refresh_insert(fx.s, t1, a.user_id, a.device_id, NOW + 100, NOW, NULL),
                     STORE_OK);
    assert_int_equal(store_refresh_revoke_device(fx.s, a.device_id, NOW), STORE_OK);
    assert_int_equal(store_refresh_rotate(fx.s, t1, t2, NOW + 200, NOW + 1, &r), STORE_NOT_FOUND);
    assert_int_equal(store_refresh_insert(fx.s, t2, "no-user", a.device_id, NOW + 1, NOW, NULL),
                     STORE_NOT_FOUND);
}

struct rotator {
    const uint8_t *old_hash;
    uint8_t new_hash[STORE_HASH_SIZE];
    pthread_barrier_t *start;
    enum store_err rc;
};

static void *rotator_run(void *arg)
{
    struct rotator *r = arg;
    struct store *s = NULL;
    struct store_refresh out;
    char err[256];
    r->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(r->start);
    while (r->rc == STORE_OK || r->rc == STORE_BUSY) {
        r->rc = store_refresh_rotate(s, r->old_hash, r->new_hash, NOW + 500, NOW + 1, &out);
        if (r->rc != STORE_BUSY)
            break;
    }
    store_close(s);
    return NULL;
}

/* The same token presented twice at once (two tabs, a retry): exactly one rotation wins,
 * the other is treated as reuse, and the family (the winner's new token too) is revoked. */
static void test_refresh_concurrent(void **state)
{
    struct account a;
    uint8_t t[STORE_HASH_SIZE], spare[STORE_HASH_SIZE];
    struct rotator r[2];
    pthread_t th[2];
    pthread_barrier_t start;
    struct store_refresh out;
    (void)state;
    make_account(&a);
    for (int round = 0; round < 5; round++) {
        rand_bytes(t, sizeof t);
        assert_int_equal(
            store_refresh_insert(fx.s, t, a.user_id, a.device_id, NOW + 100, NOW, NULL), STORE_OK);
        pthread_barrier_init(&start, NULL, 2);
        for (int i = 0; i < 2; i++) {
            r[i] = (struct rotator){.old_hash = t, .start = &start};
            rand_bytes(r[i].new_hash, STORE_HASH_SIZE);
            assert_int_equal(pthread_create(&th[i], NULL, rotator_run, &r[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        int ok = (r[0].rc == STORE_OK) + (r[1].rc == STORE_OK);
        int reused = (r[0].rc == STORE_TOKEN_REUSED) + (r[1].rc == STORE_TOKEN_REUSED);
        assert_int_equal(ok, 1);
        assert_int_equal(reused, 1);
        const uint8_t *winner = r[0].rc == STORE_OK ? r[0].new_hash : r[1].new_hash;
        rand_bytes(spare, sizeof spare);
        assert_int_equal(store_refresh_rotate(fx.s, winner, spare, NOW + 500, NOW + 2, &out),
                         STORE_NOT_FOUND);
    }
}

static int64_t not_before(const char *device_id)
{
    struct store_device d;
    assert_int_equal(store_device_get(fx.s, device_id, &d), STORE_OK);
    int64_t v = d.tokens_not_before;
    store_device_free(&d);
    return v;
}

static void fresh_refresh(const struct account *a, const char *device_id, int64_t created,
                          uint8_t out[STORE_HASH_SIZE])
{
    rand_bytes(out, STORE_HASH_SIZE);
    assert_int_equal(
        store_refresh_insert(fx.s, out, a->user_id, device_id, NOW + 100000, created, NULL),
        STORE_OK);
}

static enum store_err try_rotate(const uint8_t old[STORE_HASH_SIZE], int64_t now)
{
    uint8_t next[STORE_HASH_SIZE];
    struct store_refresh r;
    rand_bytes(next, sizeof next);
    return store_refresh_rotate(fx.s, old, next, NOW + 100000, now, &r);
}

/* Logout of one device: refresh tokens revoked and tokens_not_before set together; it never
 * goes down, covers a refresh token created "later" by a racing rotation, and leaves the
 * user's other devices alone. */
static void test_device_end_tokens(void **state)
{
    struct account a;
    char other[STORE_ID_SIZE];
    uint8_t t1[STORE_HASH_SIZE], t2[STORE_HASH_SIZE], t3[STORE_HASH_SIZE], t4[STORE_HASH_SIZE];
    struct store_device *devs;
    size_t n;
    (void)state;
    make_account(&a);
    struct store_new_device nd = {"phone", "ios", NULL, NULL, NULL};
    assert_int_equal(store_device_create(fx.s, a.user_id, &nd, NOW, other), STORE_OK);
    assert_int_equal(not_before(a.device_id), 0);
    fresh_refresh(&a, a.device_id, NOW, t1);
    fresh_refresh(&a, other, NOW, t2);
    assert_int_equal(store_device_end_tokens(fx.s, a.device_id, NOW + 10), STORE_OK);
    assert_int_equal(not_before(a.device_id), NOW + 10);
    assert_int_equal(not_before(other), 0);
    assert_int_equal(try_rotate(t1, NOW + 11), STORE_NOT_FOUND);
    assert_int_equal(try_rotate(t2, NOW + 11), STORE_OK); /* the other device keeps its session */
    /* Never lowered. */
    assert_int_equal(store_device_end_tokens(fx.s, a.device_id, NOW + 5), STORE_OK);
    assert_int_equal(not_before(a.device_id), NOW + 10);
    /* A refresh token minted with a later clock than the logout's (a rotation that committed
     * while the logout waited): the cut-off moves up to it, and it cannot rotate. */
    fresh_refresh(&a, a.device_id, NOW + 50, t3);
    assert_int_equal(store_device_end_tokens(fx.s, a.device_id, NOW + 30), STORE_OK);
    assert_int_equal(not_before(a.device_id), NOW + 50);
    assert_int_equal(try_rotate(t3, NOW + 60), STORE_NOT_FOUND);
    /* Even unrevoked, a token created at or before the cut-off is dead; one after it lives. */
    fresh_refresh(&a, a.device_id, NOW + 50, t3);
    assert_int_equal(try_rotate(t3, NOW + 60), STORE_NOT_FOUND);
    fresh_refresh(&a, a.device_id, NOW + 51, t4);
    assert_int_equal(try_rotate(t4, NOW + 60), STORE_OK);
    /* The value comes back with lists too; unknown devices are not found. */
    assert_int_equal(store_device_list(fx.s, a.user_id, STORE_DEVICES_ALL, &devs, &n), STORE_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(devs[i].tokens_not_before, strcmp(devs[i].id, other) ? NOW + 50 : 0);
    store_devices_free(devs, n);
    assert_int_equal(store_device_end_tokens(fx.s, "00000000-0000-4000-8000-000000000000", NOW),
                     STORE_NOT_FOUND);
}

struct ender {
    const char *device_id;
    int64_t now;
    pthread_barrier_t *start;
    enum store_err rc;
};

static void *ender_run(void *arg)
{
    struct ender *e = arg;
    struct store *s = NULL;
    char err[256];
    e->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(e->start);
    while (e->rc == STORE_OK || e->rc == STORE_BUSY)
        if ((e->rc = store_device_end_tokens(s, e->device_id, e->now)) != STORE_BUSY)
            break;
    store_close(s);
    return NULL;
}

struct racer {
    const uint8_t *old_hash;
    uint8_t new_hash[STORE_HASH_SIZE];
    int64_t now;
    pthread_barrier_t *start;
    enum store_err rc;
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    struct store *s = NULL;
    struct store_refresh out;
    char err[256];
    r->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(r->start);
    while (r->rc == STORE_OK || r->rc == STORE_BUSY)
        if ((r->rc = store_refresh_rotate(s, r->old_hash, r->new_hash, r->now + 100000, r->now,
                                          &out)) != STORE_BUSY)
            break;
    store_close(s);
    return NULL;
}

/* A refresh racing a logout, the refresh with the later clock: whichever commits first, the
 * session it mints (its refresh token, and an access token stamped with the same time) must
 * not outlive the logout. */
static void test_end_tokens_race(void **state)
{
    struct account a;
    uint8_t t[STORE_HASH_SIZE];
    pthread_barrier_t start;
    pthread_t th[2];
    (void)state;
    make_account(&a);
    for (int round = 0; round < 20; round++) {
        int64_t at = NOW + 1000 + round * 100;
        fresh_refresh(&a, a.device_id, at - 50, t);
        struct ender e = {.device_id = a.device_id, .now = at, .start = &start};
        struct racer r = {.old_hash = t, .now = at + 5, .start = &start};
        rand_bytes(r.new_hash, STORE_HASH_SIZE);
        pthread_barrier_init(&start, NULL, 2);
        assert_int_equal(pthread_create(&th[0], NULL, ender_run, &e), 0);
        assert_int_equal(pthread_create(&th[1], NULL, racer_run, &r), 0);
        pthread_join(th[0], NULL);
        pthread_join(th[1], NULL);
        pthread_barrier_destroy(&start);
        assert_int_equal(e.rc, STORE_OK);
        assert_true(r.rc == STORE_OK || r.rc == STORE_NOT_FOUND);
        if (r.rc == STORE_OK) /* rotated first: its access token (stamped at+5) is void */
            assert_true(not_before(a.device_id) >= at + 5);
        assert_int_equal(try_rotate(r.new_hash, at + 10), STORE_NOT_FOUND);
    }
}

/* logout-all and password reset: every device of the user, nobody else's; inside a caller's
 * transaction that rolls back, nothing happens. */
static void test_user_end_tokens(void **state)
{
    struct account a, b;
    char second[STORE_ID_SIZE];
    uint8_t t1[STORE_HASH_SIZE], t2[STORE_HASH_SIZE], tb[STORE_HASH_SIZE];
    (void)state;
    make_account(&a);
    make_account(&b);
    struct store_new_device nd = {"tablet", "android", NULL, NULL, NULL};
    assert_int_equal(store_device_create(fx.s, a.user_id, &nd, NOW, second), STORE_OK);
    fresh_refresh(&a, a.device_id, NOW, t1);
    fresh_refresh(&a, second, NOW + 70, t2); /* minted "after" the reset's clock */
    fresh_refresh(&b, b.device_id, NOW, tb);
    /* Rolled back with the caller's transaction (a refused password in reset-password). */
    assert_int_equal(store_begin(fx.s), STORE_OK);
    assert_int_equal(store_user_end_tokens(fx.s, a.user_id, NOW + 20), STORE_OK);
    store_rollback(fx.s);
    assert_int_equal(not_before(a.device_id), 0);
    assert_int_equal(not_before(second), 0);
    /* Committed with it. */
    assert_int_equal(store_begin(fx.s), STORE_OK);
    assert_int_equal(store_user_end_tokens(fx.s, a.user_id, NOW + 20), STORE_OK);
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_int_equal(not_before(a.device_id), NOW + 20);
    assert_int_equal(not_before(second), NOW + 70);
    assert_int_equal(not_before(b.device_id), 0);
    assert_int_equal(try_rotate(t1, NOW + 80), STORE_NOT_FOUND);
    assert_int_equal(try_rotate(t2, NOW + 80), STORE_NOT_FOUND);
    assert_int_equal(try_rotate(tb, NOW + 80), STORE_OK);
    /* On its own, and for a user without devices: fine. */
    assert_int_equal(store_user_end_tokens(fx.s, a.user_id, NOW + 90), STORE_OK);
    assert_int_equal(not_before(a.device_id), NOW + 90);
    assert_int_equal(not_before(second), NOW + 90);
    assert_int_equal(store_user_end_tokens(fx.s, "00000000-0000-4000-8000-000000000000", NOW),
                     STORE_OK);
}

static void test_proof_replay(void **state)
{
    struct account a;
    uint8_t h[STORE_HASH_SIZE];
    (void)state;
    make_account(&a);
    rand_bytes(h, sizeof h);
    assert_int_equal(store_proof_record(fx.s, a.device_id, h, NOW + 300000, NOW), STORE_OK);
    assert_int_equal(store_proof_record(fx.s, a.device_id, h, NOW + 300000, NOW + 1),
                     STORE_CONFLICT);
    /* Once expired it is forgotten (the caller refuses stale proofs by their time anyway). */
    assert_int_equal(store_proof_record(fx.s, a.device_id, h, NOW + 700000, NOW + 400000),
                     STORE_OK);
}

static void test_email_tokens(void **state)
{
    struct account a;
    uint8_t v[STORE_HASH_SIZE], r[STORE_HASH_SIZE];
    char who[STORE_ID_SIZE];
    (void)state;
    make_account(&a);
    rand_bytes(v, sizeof v);
    rand_bytes(r, sizeof r);
    assert_int_equal(
        store_email_token_insert(fx.s, STORE_EMAIL_VERIFY, v, a.user_id, NOW + 100, NOW), STORE_OK);
    assert_int_equal(
        store_email_token_insert(fx.s, STORE_EMAIL_RESET, r, a.user_id, NOW + 100, NOW), STORE_OK);
    assert_int_equal(store_email_token_consume(fx.s, STORE_EMAIL_RESET, v, NOW, who),
                     STORE_NOT_FOUND); /* wrong kind */
    assert_int_equal(store_email_token_consume(fx.s, STORE_EMAIL_VERIFY, v, NOW, who), STORE_OK);
    assert_string_equal(who, a.user_id);
    assert_int_equal(store_email_token_consume(fx.s, STORE_EMAIL_VERIFY, v, NOW, who),
                     STORE_NOT_FOUND); /* used */
    assert_int_equal(store_email_token_consume(fx.s, STORE_EMAIL_RESET, r, NOW + 100, who),
                     STORE_NOT_FOUND); /* expired */
}

static void test_mfa(void **state)
{
    struct account a;
    struct store_mfa m;
    uint8_t codes[10][STORE_HASH_SIZE];
    uint8_t secret[40];
    int64_t left;
    (void)state;
    make_account(&a);
    rand_bytes(codes, sizeof codes);
    rand_bytes(secret, sizeof secret);
    assert_int_equal(store_mfa_begin(fx.s, a.user_id, secret, sizeof secret,
                                     (const uint8_t(*)[STORE_HASH_SIZE])codes, 10, NOW),
                     STORE_OK);
    assert_int_equal(store_mfa_get(fx.s, a.user_id, &m), STORE_OK);
    assert_false(m.enabled);
    assert_int_equal(m.secret_len, sizeof secret);
    assert_memory_equal(m.secret, secret, sizeof secret);
    store_mfa_free(&m);
    assert_int_equal(store_mfa_enable(fx.s, a.user_id, 1000, NOW), STORE_OK);
    assert_int_equal(store_mfa_use_step(fx.s, a.user_id, 1000), STORE_CONFLICT); /* same code */
    assert_int_equal(store_mfa_use_step(fx.s, a.user_id, 999), STORE_CONFLICT);
    assert_int_equal(store_mfa_use_step(fx.s, a.user_id, 1001), STORE_OK);
    assert_int_equal(store_mfa_use_backup(fx.s, a.user_id, codes[3], NOW), STORE_OK);
    assert_int_equal(store_mfa_use_backup(fx.s, a.user_id, codes[3], NOW), STORE_NOT_FOUND);
    assert_int_equal(store_mfa_backup_left(fx.s, a.user_id, &left), STORE_OK);
    assert_int_equal(left, 9);
    /* Replaced: the old codes stop working, the new ones count. */
    uint8_t fresh[10][STORE_HASH_SIZE];
    rand_bytes(fresh, sizeof fresh);
    assert_int_equal(
        store_mfa_set_backups(fx.s, a.user_id, (const uint8_t(*)[STORE_HASH_SIZE])fresh, 10, NOW),
        STORE_OK);
    assert_int_equal(store_mfa_use_backup(fx.s, a.user_id, codes[4], NOW), STORE_NOT_FOUND);
    assert_int_equal(store_mfa_use_backup(fx.s, a.user_id, fresh[4], NOW), STORE_OK);
    assert_int_equal(store_mfa_backup_left(fx.s, a.user_id, &left), STORE_OK);
    assert_int_equal(left, 9);
    assert_int_equal(store_mfa_set_backups(fx.s, "00000000-0000-4000-8000-000000000000",
                                           (const uint8_t(*)[STORE_HASH_SIZE])fresh, 10, NOW),
                     STORE_NOT_FOUND);
    struct store_user u;
    assert_int_equal(store_user_get(fx.s, a.user_id, &u), STORE_OK);
    assert_true(u.mfa_enabled);
    store_user_free(&u);
    assert_int_equal(store_mfa_disable(fx.s, a.user_id, NOW), STORE_OK);
    assert_int_equal(store_mfa_get(fx.s, a.user_id, &m), STORE_OK);
    assert_false(m.enabled);
    assert_null(m.secret);
    store_mfa_free(&m);
    assert_int_equal(store_mfa_backup_left(fx.s, a.user_id, &left), STORE_OK);
    assert_int_equal(left, 0);
    assert_int_equal(store_mfa_enable(fx.s, a.user_id, 5, NOW), STORE_NOT_FOUND); /* no secret */
}

/* ---------- blocks and audit ---------- */

static void test_blocks(void **state)
{
    struct account a, b, c;
    struct store_user *list;
    size_t n;
    bool blocked;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    assert_int_equal(store_block_add(fx.s, a.user_id, b.user_id, NOW), STORE_OK);
    assert_int_equal(store_block_add(fx.s, a.user_id, b.user_id, NOW), STORE_OK); /* idempotent */
    assert_int_equal(store_block_add(fx.s, a.user_id, c.user_id, NOW + 1), STORE_OK);
    assert_int_equal(store_block_add(fx.s, a.user_id, a.user_id, NOW), STORE_INVALID);
    assert_int_equal(store_block_add(fx.s, a.user_id, "no-such-user", NOW), STORE_NOT_FOUND);
    assert_int_equal(store_block_between(fx.s, b.user_id, a.user_id, &blocked), STORE_OK);
    assert_true(blocked); /* either direction */
    assert_int_equal(store_block_between(fx.s, b.user_id, c.user_id, &blocked), STORE_OK);
    assert_false(blocked);
    assert_int_equal(store_block_list(fx.s, a.user_id, &list, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, c.user_id); /* most recent first */
    assert_string_equal(list[1].username, b.username);
    store_users_free(list, n);
    assert_int_equal(store_block_remove(fx.s, a.user_id, b.user_id), STORE_OK);
    assert_int_equal(store_block_remove(fx.s, a.user_id, b.user_id), STORE_OK);
    assert_int_equal(store_block_between(fx.s, a.user_id, b.user_id, &blocked), STORE_OK);
    assert_false(blocked);
}

static void test_audit(void **state)
{
    struct account a;
    struct store_audit_row *rows;
    size_t n;
    (void)state;
    make_account(&a);
    struct store_audit e1 = {a.user_id, a.device_id, "login", true, "203.0.113.9", "ua'; --", NULL};
    struct store_audit e2 = {a.user_id, NULL, "login", false, NULL, NULL, "bad password"};
    struct store_audit e3 = {NULL, NULL, "login", false, "198.51.100.1", NULL, "unknown email"};
    assert_int_equal(store_audit_add(fx.s, &e1, NOW), STORE_OK);
    assert_int_equal(store_audit_add(fx.s, &e2, NOW + 1), STORE_OK);
    assert_int_equal(store_audit_add(fx.s, &e3, NOW + 2), STORE_OK);
    assert_int_equal(store_audit_list(fx.s, a.user_id, 10, &rows, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_false(rows[0].success);
    assert_string_equal(rows[0].detail, "bad password");
    assert_null(rows[0].device_id);
    assert_true(rows[1].success);
    assert_string_equal(rows[1].user_agent, "ua'; --");
    assert_string_equal(rows[1].device_id, a.device_id);
    store_audit_rows_free(rows, n);
    assert_int_equal(store_audit_list(fx.s, NULL, 1, &rows, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_null(rows[0].user_id);
    store_audit_rows_free(rows, n);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_ping),
        cmocka_unit_test(test_unreachable_pg),
        cmocka_unit_test(test_migrations_idempotent),
        cmocka_unit_test(test_migrate_concurrent),
        cmocka_unit_test(test_nested_rollback),
        cmocka_unit_test(test_savepoint_isolation),
        cmocka_unit_test(test_batch_nesting),
        cmocka_unit_test(test_housekeeping),
        cmocka_unit_test(test_wal_pages),
        cmocka_unit_test(test_uuids),
        cmocka_unit_test(test_register_and_lookup),
        cmocka_unit_test(test_register_conflicts),
        cmocka_unit_test(test_hostile_strings),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_profile_password_verify),
        cmocka_unit_test(test_devices_and_revoke),
        cmocka_unit_test(test_bundle_rules),
        cmocka_unit_test(test_prekeys),
        cmocka_unit_test(test_concurrent_claim),
        cmocka_unit_test(test_refresh_rotation),
        cmocka_unit_test(test_refresh_concurrent),
        cmocka_unit_test(test_device_end_tokens),
        cmocka_unit_test(test_user_end_tokens),
        cmocka_unit_test(test_end_tokens_race),
        cmocka_unit_test(test_proof_replay),
        cmocka_unit_test(test_email_tokens),
        cmocka_unit_test(test_mfa),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_uuids_ordered), /* last: it moves this process's id clock on */
    };
    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.contract.pg" : "store.contract.sqlite", tests,
                                       group_setup, group_teardown);
}
