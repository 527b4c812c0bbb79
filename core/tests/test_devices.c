/*
 * test_devices.c: the account key and the signed device list (issue 23): what a list signed by
 * the account key lets a client refuse — a device the server added, a key it swapped, a list
 * it rolled back or forked, another account key — and the safety number over account keys.
 */
#include "helpers.h"

static const uint8_t USER[16] = {0x01, 0x90, 0xa6, 0xf2, 0x7c, 0x1e, 0x7d, 0x3a,
                                 0x9b, 0x2c, 0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a};

static void make_list(sotto_device_list *l, const uint8_t pk[32], uint64_t version, size_t n)
{
    memset(l, 0, sizeof *l);
    memcpy(l->user_id, USER, 16);
    memcpy(l->account_key, pk, 32);
    l->version = version;
    l->issued_at_ms = 1764000000000ull + version;
    l->n = n;
    for (size_t i = 0; i < n; i++) { /* ids given out of order: signing sorts them */
        memset(l->devices[i].device_id, (int)(n - i), 16);
        memset(l->devices[i].signing_key, (int)(0x40 + n - i), 32);
    }
}

static size_t sign(sotto_device_list *l, const uint8_t seed[32], uint8_t *out)
{
    size_t len = 0;
    assert_int_equal(sotto_device_list_sign(l, seed, out, 4096, &len), 0);
    assert_int_equal(len, sotto_device_list_signed_size(l->n));
    return len;
}

static void signed_list_round_trip_and_tampering(void **state)
{
    uint8_t seed[32], pk[32], other_seed[32], other_pk[32], buf[4096];
    sotto_device_list l, got;
    size_t len;
    (void)state;
    assert_int_equal(sotto_account_key_create(seed, pk), 0);
    assert_int_equal(sotto_account_key_create(other_seed, other_pk), 0);
    make_list(&l, pk, 1, 3);
    len = sign(&l, seed, buf);
    assert_int_equal(sotto_device_list_open(&got, buf, len, NULL), 0);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.version, 1);
    assert_memory_equal(got.account_key, pk, 32);
    assert_true(memcmp(got.devices[0].device_id, got.devices[1].device_id, 16) < 0);
    assert_int_equal(sotto_device_list_open(&got, buf, len, pk), 0);
    /* pinned to another account key: refused as untrusted */
    assert_int_equal(sotto_device_list_open(&got, buf, len, other_pk), SOTTO_E_UNTRUSTED);
    assert_int_equal(got.n, 0);
    /* any flipped bit is refused */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        assert_int_not_equal(sotto_device_list_open(&got, buf, len, NULL), 0);
        buf[i] ^= 0x01;
    }
    /* truncated, extended, another format version */
    assert_int_equal(sotto_device_list_open(&got, buf, len - 1, NULL), SOTTO_E_INVALID);
    assert_int_equal(sotto_device_list_open(&got, buf, len + 1, NULL), SOTTO_E_INVALID);
    buf[0] = 2;
    assert_int_equal(sotto_device_list_open(&got, buf, len, NULL), SOTTO_E_VERSION);
    /* the server swaps in its own account key and signs: a client that pinned pk refuses */
    make_list(&l, other_pk, 2, 4);
    len = sign(&l, other_seed, buf);
    assert_int_equal(sotto_device_list_open(&got, buf, len, pk), SOTTO_E_UNTRUSTED);
}

static void signing_refuses_bad_lists(void **state)
{
    uint8_t seed[32], pk[32], other_seed[32], other_pk[32], buf[4096];
    sotto_device_list l;
    size_t len;
    (void)state;
    assert_int_equal(sotto_account_key_create(seed, pk), 0);
    assert_int_equal(sotto_account_key_create(other_seed, other_pk), 0);
    make_list(&l, pk, 1, 2);
    assert_int_equal(sotto_device_list_sign(&l, other_seed, buf, sizeof buf, &len),
                     SOTTO_E_INVALID); /* signed by a key the list does not name */
    make_list(&l, pk, 0, 2);
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, sizeof buf, &len), SOTTO_E_INVALID);
    make_list(&l, pk, 1, 0);
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, sizeof buf, &len), SOTTO_E_INVALID);
    make_list(&l, pk, 1, 1);
    l.n = SOTTO_DEVICE_LIST_MAX + 1;
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, sizeof buf, &len), SOTTO_E_INVALID);
    make_list(&l, pk, 1, 2);
    memcpy(l.devices[1].device_id, l.devices[0].device_id, 16); /* one device twice */
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, sizeof buf, &len), SOTTO_E_INVALID);
    make_list(&l, pk, 1, 2);
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, 10, &len), SOTTO_E_BUFFER);
    make_list(&l, pk, 1, SOTTO_DEVICE_LIST_MAX);
    assert_int_equal(sotto_device_list_sign(&l, seed, buf, sizeof buf, &len), 0);
}

static void updates_only_grow(void **state)
{
    uint8_t seed[32], pk[32], other_seed[32], other_pk[32], buf[4096];
    sotto_device_list l, v1, v2, v2b, v1_other;
    size_t len;
    (void)state;
    assert_int_equal(sotto_account_key_create(seed, pk), 0);
    assert_int_equal(sotto_account_key_create(other_seed, other_pk), 0);
    make_list(&l, pk, 1, 2);
    len = sign(&l, seed, buf);
    assert_int_equal(sotto_device_list_open(&v1, buf, len, pk), 0);
    make_list(&l, pk, 2, 3);
    len = sign(&l, seed, buf);
    assert_int_equal(sotto_device_list_open(&v2, buf, len, pk), 0);
    make_list(&l, pk, 2, 1); /* the same version with other devices: a fork */
    len = sign(&l, seed, buf);
    assert_int_equal(sotto_device_list_open(&v2b, buf, len, pk), 0);
    assert_int_equal(sotto_device_list_update_ok(&v1, &v2), 0);
    assert_int_equal(sotto_device_list_update_ok(&v2, &v2), 0); /* a repeat */
    assert_int_equal(sotto_device_list_update_ok(&v2, &v1), SOTTO_E_REPLAY);
    assert_int_equal(sotto_device_list_update_ok(&v2, &v2b), SOTTO_E_REPLAY);
    make_list(&l, other_pk, 3, 2);
    len = sign(&l, other_seed, buf);
    assert_int_equal(sotto_device_list_open(&v1_other, buf, len, NULL), 0);
    assert_int_equal(sotto_device_list_update_ok(&v2, &v1_other), SOTTO_E_UNTRUSTED);
    v1_other = v2;
    v1_other.version = 9;
    v1_other.user_id[15] ^= 1; /* another user's list */
    assert_int_equal(sotto_device_list_update_ok(&v2, &v1_other), SOTTO_E_UNTRUSTED);
}

static void membership_needs_the_listed_key(void **state)
{
    uint8_t seed[32], pk[32], buf[4096], id[16], key[32];
    sotto_device_list l, got;
    size_t len;
    (void)state;
    assert_int_equal(sotto_account_key_create(seed, pk), 0);
    make_list(&l, pk, 1, 3);
    len = sign(&l, seed, buf);
    assert_int_equal(sotto_device_list_open(&got, buf, len, pk), 0);
    memset(id, 2, 16);
    memset(key, 0x42, 32);
    assert_int_equal(sotto_device_list_has(&got, id, key), 1);
    key[31] ^= 1; /* the server's device under a listed id */
    assert_int_equal(sotto_device_list_has(&got, id, key), 0);
    memset(id, 9, 16); /* a device the server added */
    memset(key, 0x49, 32);
    assert_int_equal(sotto_device_list_has(&got, id, key), 0);
}

static void safety_number_over_account_keys(void **state)
{
    static const char *UA = "0190a6f2-7c1e-7d3a-9b2c-1f2e3d4c5b6a";
    static const char *UB = "0190a6f2-7c1e-7d3a-9b2c-aaaaaaaaaaaa";
    uint8_t a[32], b[32], seed[32], b2[32];
    char n1[61], n2[61], n3[61], v1[61];
    (void)state;
    assert_int_equal(sotto_account_key_create(seed, a), 0);
    assert_int_equal(sotto_account_key_create(seed, b), 0);
    assert_int_equal(sotto_account_key_create(seed, b2), 0);
    assert_int_equal(sotto_safety_number_accounts(n1, UA, a, UB, b), 0);
    assert_int_equal(sotto_safety_number_accounts(n2, UB, b, UA, a), 0);
    assert_string_equal(n1, n2); /* the same on both sides */
    assert_int_equal(strlen(n1), 60);
    assert_int_equal(sotto_safety_number_accounts(n3, UA, a, UB, b2), 0);
    assert_string_not_equal(n1, n3); /* a new account key changes it */
    /* version 2 differs from version 1 over the same single key */
    assert_int_equal(sotto_safety_number(v1, UA, a, 1, UB, b, 1), 0);
    assert_string_not_equal(n1, v1);
    assert_int_equal(sotto_safety_number_accounts(n3, "not-a-uuid", a, UB, b), SOTTO_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_list_round_trip_and_tampering),
        cmocka_unit_test(signing_refuses_bad_lists),
        cmocka_unit_test(updates_only_grow),
        cmocka_unit_test(membership_needs_the_listed_key),
        cmocka_unit_test(safety_number_over_account_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
