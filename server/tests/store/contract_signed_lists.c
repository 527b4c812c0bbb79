/* contract_signed_lists.c: the store's signed device list contract (signed_lists.h), run
 * unchanged against every backend: the version only moves forward, a retry of the same list
 * is fine, a rollback or a fork of the same version is refused and changes nothing.
 *
 *   store_signed_lists sqlite | pg   (pg: $SOTTO_TEST_PG_URL, fails when unset) */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "fixture.h"
#include "store/devices.h"
#include "store/signed_lists.h"
#include "store/store.h"
#include "store/users.h"

#define NOW 1764000000000LL

static struct store_fixture fx;

static void make_user(char user_id[STORE_ID_SIZE])
{
    char name[32], email[64], id[STORE_ID_SIZE], device_id[STORE_ID_SIZE];
    struct store_bundle b;

    store_uuid_v4(id);
    snprintf(name, sizeof name, "l%.8s%.4s", id, id + 9);
    snprintf(email, sizeof email, "%s@example.com", name);
    assert_int_equal(getrandom(&b, sizeof b, 0), (ssize_t)sizeof b);
    struct store_new_user u = {email, name, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "cli", NULL, NULL, &b};
    assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 200, NOW, user_id, device_id),
                     STORE_OK);
}

static void expect_list(const char *user, int64_t version, const uint8_t *bytes, size_t len)
{
    uint8_t got[STORE_SIGNED_LIST_MAX];
    size_t n;
    int64_t v;

    assert_int_equal(store_signed_list_get(fx.s, user, got, sizeof got, &n, &v), STORE_OK);
    assert_int_equal(v, version);
    assert_int_equal(n, len);
    assert_memory_equal(got, bytes, len);
}

static void test_forward_only(void **state)
{
    char user[STORE_ID_SIZE], other[STORE_ID_SIZE];
    uint8_t v1[300], v2[400], fork[400], got[STORE_SIGNED_LIST_MAX];
    size_t n;
    int64_t v;

    (void)state;
    make_user(user);
    make_user(other);
    memset(v1, 1, sizeof v1);
    memset(v2, 2, sizeof v2);
    memset(fork, 3, sizeof fork);
    assert_int_equal(store_signed_list_get(fx.s, user, got, sizeof got, &n, &v), STORE_NOT_FOUND);
    assert_int_equal(store_signed_list_put(fx.s, user, 1, v1, sizeof v1, NOW), STORE_OK);
    expect_list(user, 1, v1, sizeof v1);
    assert_int_equal(store_signed_list_put(fx.s, user, 1, v1, sizeof v1, NOW + 1), STORE_OK);
    assert_int_equal(store_signed_list_put(fx.s, user, 2, v2, sizeof v2, NOW + 2), STORE_OK);
    expect_list(user, 2, v2, sizeof v2);
    /* a rollback, and another list under the same version: refused, nothing changes */
    assert_int_equal(store_signed_list_put(fx.s, user, 1, v1, sizeof v1, NOW + 3), STORE_CONFLICT);
    assert_int_equal(store_signed_list_put(fx.s, user, 2, fork, sizeof fork, NOW + 3),
                     STORE_CONFLICT);
    expect_list(user, 2, v2, sizeof v2);
    /* another account is its own */
    assert_int_equal(store_signed_list_get(fx.s, other, got, sizeof got, &n, &v), STORE_NOT_FOUND);
    assert_int_equal(store_signed_list_put(fx.s, other, 7, fork, sizeof fork, NOW), STORE_OK);
    expect_list(user, 2, v2, sizeof v2);
    expect_list(other, 7, fork, sizeof fork);
}

static void test_invalid(void **state)
{
    char user[STORE_ID_SIZE], nobody[STORE_ID_SIZE];
    uint8_t b[STORE_SIGNED_LIST_MAX + 1] = {0};

    (void)state;
    make_user(user);
    assert_int_equal(store_signed_list_put(fx.s, user, 0, b, 10, NOW), STORE_INVALID);
    assert_int_equal(store_signed_list_put(fx.s, user, 1, b, 0, NOW), STORE_INVALID);
    assert_int_equal(store_signed_list_put(fx.s, user, 1, b, sizeof b, NOW), STORE_INVALID);
    store_uuid_v4(nobody); /* no such user: the foreign key refuses it */
    assert_int_not_equal(store_signed_list_put(fx.s, nobody, 1, b, 10, NOW), STORE_OK);
}

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store signed lists", "signed_lists");
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
        cmocka_unit_test(test_forward_only),
        cmocka_unit_test(test_invalid),
    };

    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.signed_lists.pg"
                                             : "store.signed_lists.sqlite",
                                       tests, group_setup, group_teardown);
}
