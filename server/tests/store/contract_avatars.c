/* contract_avatars.c: the store's profile picture contract (avatars.h), run unchanged against
 * every backend: a put stores the bytes and points avatarUrl at a new version, the version
 * only grows (across a delete too), a delete clears the URL, a PATCH of avatarUrl drops the
 * picture, and deleting the account deletes it.
 *
 *   store_avatars sqlite | pg   (pg: $SOTTO_TEST_PG_URL, fails when unset) */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "fixture.h"
#include "store/avatars.h"
#include "store/devices.h"
#include "store/store.h"
#include "store/users.h"

#define NOW 1764000000000LL

static struct store_fixture fx;

static void make_user(char user_id[STORE_ID_SIZE])
{
    char name[32], email[64], id[STORE_ID_SIZE], device_id[STORE_ID_SIZE];
    struct store_bundle b;

    store_uuid_v4(id);
    snprintf(name, sizeof name, "a%.8s%.4s", id, id + 9);
    snprintf(email, sizeof email, "%s@example.com", name);
    assert_int_equal(getrandom(&b, sizeof b, 0), (ssize_t)sizeof b);
    struct store_new_user u = {email, name, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "cli", NULL, NULL, &b};
    assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 200, NOW, user_id, device_id),
                     STORE_OK);
}

/* The user's avatarUrl is the stored picture's (version) or, for version 0, unset. */
static void expect_url(const char *user, int64_t version)
{
    struct store_user u = {0};
    char want[128];

    assert_int_equal(store_user_get(fx.s, user, &u), STORE_OK);
    if (version == 0) {
        assert_null(u.avatar_url);
    } else {
        snprintf(want, sizeof want, STORE_AVATAR_PATH, user, (long long)version);
        assert_non_null(u.avatar_url);
        assert_string_equal(u.avatar_url, want);
    }
    store_user_free(&u);
}

static void expect_avatar(const char *user, int64_t version, const char *type, const uint8_t *bytes,
                          size_t len)
{
    struct store_avatar a;

    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_OK);
    assert_int_equal(a.version, version);
    assert_string_equal(a.content_type, type);
    assert_int_equal(a.len, len);
    assert_memory_equal(a.image, bytes, len);
    store_avatar_free(&a);
    expect_url(user, version);
}

static void test_put_get_delete(void **state)
{
    char user[STORE_ID_SIZE], other[STORE_ID_SIZE];
    static uint8_t one[1000], two[STORE_AVATAR_MAX];
    struct store_avatar a;
    int64_t v = -1;

    (void)state;
    make_user(user);
    make_user(other);
    memset(one, 1, sizeof one);
    memset(two, 2, sizeof two);
    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_NOT_FOUND);
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", one, sizeof one, NOW, &v), STORE_OK);
    assert_int_equal(v, 1);
    expect_avatar(user, 1, "image/png", one, sizeof one);
    assert_int_equal(store_avatar_put(fx.s, user, "image/webp", two, sizeof two, NOW + 1, &v),
                     STORE_OK);
    assert_int_equal(v, 2);
    expect_avatar(user, 2, "image/webp", two, sizeof two);
    /* another account is its own */
    assert_int_equal(store_avatar_get(fx.s, other, &a), STORE_NOT_FOUND);
    expect_url(other, 0);
    /* a delete clears the URL; the next picture does not reuse a version */
    assert_int_equal(store_avatar_delete(fx.s, user, NOW + 2), STORE_OK);
    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_NOT_FOUND);
    expect_url(user, 0);
    assert_int_equal(store_avatar_delete(fx.s, user, NOW + 3), STORE_OK); /* again: nothing */
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", one, sizeof one, NOW + 4, &v),
                     STORE_OK);
    assert_int_equal(v, 3);
    expect_avatar(user, 3, "image/png", one, sizeof one);
}

static void test_invalid(void **state)
{
    char user[STORE_ID_SIZE], nobody[STORE_ID_SIZE];
    static uint8_t big[STORE_AVATAR_MAX + 1];
    struct store_avatar a;
    int64_t v = -1;

    (void)state;
    make_user(user);
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", big, 0, NOW, &v), STORE_INVALID);
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", big, sizeof big, NOW, &v),
                     STORE_INVALID);
    assert_int_equal(store_avatar_put(fx.s, user, "", big, 10, NOW, &v), STORE_INVALID);
    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_NOT_FOUND);
    expect_url(user, 0);
    store_uuid_v4(nobody);
    assert_int_equal(store_avatar_put(fx.s, nobody, "image/png", big, 10, NOW, &v),
                     STORE_NOT_FOUND);
    assert_int_equal(v, 0);
    assert_int_equal(store_avatar_delete(fx.s, nobody, NOW), STORE_NOT_FOUND);
}

/* A URL of the user's own replaces the picture; deleting the account deletes it. */
static void test_replaced_and_account_deleted(void **state)
{
    char user[STORE_ID_SIZE];
    uint8_t img[64];
    struct store_avatar a;
    struct store_user u = {0};
    int64_t v;

    (void)state;
    make_user(user);
    memset(img, 7, sizeof img);
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", img, sizeof img, NOW, &v), STORE_OK);
    struct store_profile p = {.set_avatar_url = true, .avatar_url = "https://example.com/me.png"};
    assert_int_equal(store_user_update_profile(fx.s, user, &p, NOW + 1), STORE_OK);
    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_NOT_FOUND);
    assert_int_equal(store_user_get(fx.s, user, &u), STORE_OK);
    assert_string_equal(u.avatar_url, "https://example.com/me.png");
    store_user_free(&u);
    /* a PATCH of other fields leaves the picture */
    assert_int_equal(store_avatar_put(fx.s, user, "image/png", img, sizeof img, NOW + 2, &v),
                     STORE_OK);
    struct store_profile bio = {.set_bio = true, .bio = "hello"};
    assert_int_equal(store_user_update_profile(fx.s, user, &bio, NOW + 3), STORE_OK);
    expect_avatar(user, v, "image/png", img, sizeof img);
    assert_int_equal(store_user_delete(fx.s, user), STORE_OK);
    assert_int_equal(store_avatar_get(fx.s, user, &a), STORE_NOT_FOUND);
}

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store avatars", "avatars");
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_close(&fx);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_delete),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_replaced_and_account_deleted),
    };

    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.avatars.pg" : "store.avatars.sqlite", tests,
                                       group_setup, group_teardown);
}
