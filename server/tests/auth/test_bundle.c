/* auth.bundle: a valid bundle built the way a client does (messages laid out byte by byte here,
 * independently of bundle.c), every field's errors, weak keys, bad signatures, wrong message
 * layouts, one-time pre-key limits, signed pre-key replacement, and login proofs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"

typedef struct client {
    uint8_t sign_pk[32], sign_sk[64], ik[32], spk[32];
} client;

static client cl;

static char *b64(const uint8_t *b, size_t n)
{
    static char bufs[8][200];
    static int i;
    char *o = bufs[i++ % 8];
    sodium_bin2base64(o, 200, b, n, sodium_base64_VARIANT_ORIGINAL);
    return o;
}

static void x25519_pub(uint8_t pk[32])
{
    uint8_t sk[32];
    randombytes_buf(sk, sizeof sk);
    crypto_scalarmult_base(pk, sk);
}

/* keyId big-endian unless le is set (a wrong layout, to prove the layout is checked). */
static void spk_sig(uint32_t key_id, const uint8_t pub[32], int le, uint8_t sig[64])
{
    uint8_t msg[12 + 32 + 4 + 32];
    memcpy(msg, "Sotto-v1-spk", 12);
    memcpy(msg + 12, cl.ik, 32);
    for (int i = 0; i < 4; i++)
        msg[44 + i] = (uint8_t)(key_id >> (le ? 8 * i : 8 * (3 - i)));
    memcpy(msg + 48, pub, 32);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, cl.sign_sk);
}

static json_t *make_spk(uint32_t key_id)
{
    uint8_t sig[64];
    spk_sig(key_id, cl.spk, 0, sig);
    return json_pack("{s:I, s:s, s:s}", "keyId", (json_int_t)key_id, "publicKey", b64(cl.spk, 32),
                     "signature", b64(sig, 64));
}

static json_t *make_bundle(size_t otpks)
{
    uint8_t msg[17 + 32], sig[64];
    json_t *arr = json_array();
    memcpy(msg, "Sotto-v1-identity", 17);
    memcpy(msg + 17, cl.ik, 32);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, cl.sign_sk);
    for (size_t i = 0; i < otpks; i++) {
        uint8_t pk[32];
        x25519_pub(pk);
        json_array_append_new(
            arr, json_pack("{s:I, s:s}", "keyId", (json_int_t)(i + 1), "publicKey", b64(pk, 32)));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "identityKey", b64(cl.ik, 32), "signingKey",
                     b64(cl.sign_pk, 32), "identitySignature", b64(sig, 64), "signedPreKey",
                     make_spk(7), "oneTimePreKeys", arr);
}

static bundle b;

static void expect(json_t *j, bundle_status st, const char *field, const char *reason)
{
    bundle_error err = {{0}, NULL};
    bundle_status got = bundle_parse(j, &b, &err);
    if (got != st || (field && strcmp(err.field, field) != 0) ||
        (reason && strcmp(err.reason, reason) != 0))
        fail_msg("got %d %s/%s, want %d %s/%s", got, err.field, err.reason ? err.reason : "-", st,
                 field ? field : "-", reason ? reason : "-");
    json_decref(j);
}

static void test_valid(void **state)
{
    json_t *j = make_bundle(100);
    bundle_error err = {{0}, NULL};
    (void)state;
    assert_int_equal(bundle_parse(j, &b, &err), BUNDLE_OK);
    assert_memory_equal(b.identity_key, cl.ik, 32);
    assert_memory_equal(b.signing_key, cl.sign_pk, 32);
    assert_int_equal(b.spk.key_id, 7);
    assert_memory_equal(b.spk.public_key, cl.spk, 32);
    assert_int_equal(b.otpk_count, 100);
    assert_int_equal(b.otpk[99].key_id, 100);
    json_decref(j);
    /* oneTimePreKeys is optional; keyId 0 and UINT32_MAX are in range. */
    j = make_bundle(0);
    json_object_del(j, "oneTimePreKeys");
    json_object_set_new(j, "signedPreKey", make_spk(UINT32_MAX));
    expect(j, BUNDLE_OK, NULL, NULL);
    assert_int_equal(b.otpk_count, 0);
    assert_int_equal(b.spk.key_id, UINT32_MAX);
    j = make_bundle(0);
    json_object_set_new(j, "signedPreKey", make_spk(0));
    expect(j, BUNDLE_OK, NULL, NULL);
}

static void test_missing_and_types(void **state)
{
    static const char *fields[] = {"identityKey", "signingKey", "identitySignature"};
    json_t *j;
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        j = make_bundle(1);
        json_object_del(j, fields[i]);
        expect(j, BUNDLE_ERR_VALIDATION, fields[i], "missing");
        j = make_bundle(1);
        json_object_set_new(j, fields[i], json_integer(5));
        expect(j, BUNDLE_ERR_VALIDATION, fields[i], "wrong_type");
        j = make_bundle(1);
        json_object_set_new(j, fields[i], json_string("not base64!"));
        expect(j, BUNDLE_ERR_VALIDATION, fields[i], "bad_base64");
        j = make_bundle(1);
        json_object_set_new(j, fields[i], json_string("AAAA"));
        expect(j, BUNDLE_ERR_VALIDATION, fields[i], "bad_base64");
    }
    j = make_bundle(1);
    json_object_del(j, "signedPreKey");
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey", "missing");
    j = make_bundle(1);
    json_object_set_new(j, "signedPreKey", json_string("x"));
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey", "wrong_type");
    j = make_bundle(1);
    json_object_set_new(j, "extra", json_true());
    expect(j, BUNDLE_ERR_VALIDATION, "", "unknown_field");
    j = json_array();
    expect(j, BUNDLE_ERR_VALIDATION, "", "wrong_type");
    expect(NULL, BUNDLE_ERR_VALIDATION, "", "wrong_type");
}

static void test_base64_strictness(void **state)
{
    char s[100];
    json_t *j;
    (void)state;
    /* URL-safe alphabet, missing padding, embedded NUL, whitespace, a huge string. */
    snprintf(s, sizeof s, "%s", b64(cl.ik, 32));
    s[strlen(s) - 1] = '\0';
    j = make_bundle(0);
    json_object_set_new(j, "identityKey", json_string(s));
    expect(j, BUNDLE_ERR_VALIDATION, "identityKey", "bad_base64");
    j = make_bundle(0);
    snprintf(s, sizeof s, "%s", b64(cl.ik, 32));
    json_object_set_new(j, "identityKey", json_stringn(s, strlen(s) + 1)); /* trailing NUL */
    expect(j, BUNDLE_ERR_VALIDATION, "identityKey", "bad_base64");
    j = make_bundle(0);
    snprintf(s, sizeof s, " %s", b64(cl.ik, 32));
    json_object_set_new(j, "identityKey", json_string(s));
    expect(j, BUNDLE_ERR_VALIDATION, "identityKey", "bad_base64");
    {
        static char huge[1 << 20];
        memset(huge, 'A', sizeof huge - 1);
        j = make_bundle(0);
        json_object_set_new(j, "signingKey", json_string(huge));
        expect(j, BUNDLE_ERR_VALIDATION, "signingKey", "wrong_length");
    }
    j = make_bundle(0); /* 33 bytes */
    {
        uint8_t k33[33] = {0};
        json_object_set_new(j, "identityKey", json_string(b64(k33, 33)));
    }
    expect(j, BUNDLE_ERR_VALIDATION, "identityKey", "bad_base64");
}

static void test_weak_keys(void **state)
{
    static const char *x25519_bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p: non-canonical */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0900000000000000000000000000000000000000000000000000000000000080"}; /* high bit */
    static const char *ed_bad[] = {
        "0100000000000000000000000000000000000000000000000000000000000000", /* identity */
        "0000000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* order 2 */
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", /* order 8 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"};
    uint8_t k[32];
    json_t *j;
    (void)state;
    for (size_t i = 0; i < sizeof x25519_bad / sizeof *x25519_bad; i++) {
        assert_int_equal(sodium_hex2bin(k, 32, x25519_bad[i], 64, NULL, NULL, NULL), 0);
        assert_int_equal(bundle_x25519_ok(k), -1);
        j = make_bundle(0);
        json_object_set_new(j, "identityKey", json_string(b64(k, 32)));
        expect(j, BUNDLE_ERR_VALIDATION, "identityKey", "weak_key");
        j = make_bundle(0);
        json_object_set_new(json_object_get(j, "signedPreKey"), "publicKey",
                            json_string(b64(k, 32)));
        expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey.publicKey", "weak_key");
        j = make_bundle(1);
        json_object_set_new(json_array_get(json_object_get(j, "oneTimePreKeys"), 0), "publicKey",
                            json_string(b64(k, 32)));
        expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys[0].publicKey", "weak_key");
    }
    for (size_t i = 0; i < sizeof ed_bad / sizeof *ed_bad; i++) {
        assert_int_equal(sodium_hex2bin(k, 32, ed_bad[i], 64, NULL, NULL, NULL), 0);
        assert_int_equal(bundle_ed25519_ok(k), -1);
        j = make_bundle(0);
        json_object_set_new(j, "signingKey", json_string(b64(k, 32)));
        expect(j, BUNDLE_ERR_VALIDATION, "signingKey", "weak_key");
    }
    assert_int_equal(bundle_x25519_ok(cl.ik), 0);
    assert_int_equal(bundle_ed25519_ok(cl.sign_pk), 0);
}

static void test_signatures(void **state)
{
    uint8_t sig[64], other_pk[32], other_sk[64];
    json_t *j, *spk;
    (void)state;
    /* Identity signature: flipped bit, or by another key. */
    j = make_bundle(0);
    assert_int_equal(sodium_base642bin(sig, 64,
                                       json_string_value(json_object_get(j, "identitySignature")),
                                       88, NULL, NULL, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    sig[0] ^= 1;
    json_object_set_new(j, "identitySignature", json_string(b64(sig, 64)));
    expect(j, BUNDLE_ERR_SIGNATURE, "identitySignature", "bad_signature");
    crypto_sign_keypair(other_pk, other_sk);
    j = make_bundle(0);
    json_object_set_new(j, "signingKey", json_string(b64(other_pk, 32)));
    expect(j, BUNDLE_ERR_SIGNATURE, "identitySignature", "bad_signature");
    /* Signed pre-key: keyId little-endian in the message, a different keyId, a swapped key. */
    j = make_bundle(0);
    spk_sig(7, cl.spk, 1, sig);
    json_object_set_new(json_object_get(j, "signedPreKey"), "signature", json_string(b64(sig, 64)));
    expect(j, BUNDLE_ERR_SIGNATURE, "signedPreKey.signature", "bad_signature");
    j = make_bundle(0);
    json_object_set_new(json_object_get(j, "signedPreKey"), "keyId", json_integer(8));
    expect(j, BUNDLE_ERR_SIGNATURE, "signedPreKey.signature", "bad_signature");
    j = make_bundle(0);
    {
        uint8_t pk[32];
        x25519_pub(pk);
        json_object_set_new(json_object_get(j, "signedPreKey"), "publicKey",
                            json_string(b64(pk, 32)));
    }
    expect(j, BUNDLE_ERR_SIGNATURE, "signedPreKey.signature", "bad_signature");
    /* keyId types and range. */
    spk = make_spk(7);
    json_object_set_new(spk, "keyId", json_integer(-1));
    j = make_bundle(0);
    json_object_set_new(j, "signedPreKey", spk);
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey.keyId", "out_of_range");
    spk = make_spk(7);
    json_object_set_new(spk, "keyId", json_integer((json_int_t)UINT32_MAX + 1));
    j = make_bundle(0);
    json_object_set_new(j, "signedPreKey", spk);
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey.keyId", "out_of_range");
    spk = make_spk(7);
    json_object_set_new(spk, "keyId", json_real(7.0));
    j = make_bundle(0);
    json_object_set_new(j, "signedPreKey", spk);
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey.keyId", "wrong_type");
    spk = make_spk(7);
    json_object_set_new(spk, "extra", json_null());
    j = make_bundle(0);
    json_object_set_new(j, "signedPreKey", spk);
    expect(j, BUNDLE_ERR_VALIDATION, "signedPreKey", "unknown_field");
}

static void test_one_time_prekeys(void **state)
{
    json_t *j, *arr;
    uint8_t pk[32];
    (void)state;
    j = make_bundle(101);
    expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys", "too_many");
    j = make_bundle(3);
    json_object_set_new(json_array_get(json_object_get(j, "oneTimePreKeys"), 2), "keyId",
                        json_integer(1));
    expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys[2].keyId", "duplicate");
    j = make_bundle(0);
    json_object_set_new(j, "oneTimePreKeys", json_object());
    expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys", "wrong_type");
    j = make_bundle(2);
    json_array_set_new(json_object_get(j, "oneTimePreKeys"), 1, json_string("x"));
    expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys[1]", "wrong_type");
    j = make_bundle(2);
    json_object_del(json_array_get(json_object_get(j, "oneTimePreKeys"), 1), "publicKey");
    expect(j, BUNDLE_ERR_VALIDATION, "oneTimePreKeys[1].publicKey", "missing");
    /* The standalone upload form. */
    {
        bundle_prekey out[BUNDLE_MAX_OTPK];
        size_t n = 99;
        bundle_error err = {{0}, NULL};
        arr = json_array();
        x25519_pub(pk);
        json_array_append_new(arr, json_pack("{s:i, s:s}", "keyId", 5, "publicKey", b64(pk, 32)));
        assert_int_equal(bundle_parse_otpks(arr, "keys", out, &n, &err), BUNDLE_OK);
        assert_int_equal(n, 1);
        assert_int_equal(out[0].key_id, 5);
        json_array_append_new(arr, json_pack("{s:i, s:s}", "keyId", 5, "publicKey", b64(pk, 32)));
        assert_int_equal(bundle_parse_otpks(arr, "keys", out, &n, &err), BUNDLE_ERR_VALIDATION);
        assert_string_equal(err.field, "keys[1].keyId");
        assert_int_equal(n, 0);
        json_decref(arr);
    }
}

static void test_spk_replacement(void **state)
{
    bundle_signed_prekey out;
    bundle_error err = {{0}, NULL};
    json_t *spk;
    uint8_t other[32];
    (void)state;
    x25519_pub(cl.spk);
    spk = make_spk(42);
    assert_int_equal(bundle_parse_spk(spk, cl.ik, cl.sign_pk, &out, &err), BUNDLE_OK);
    assert_int_equal(out.key_id, 42);
    assert_memory_equal(out.public_key, cl.spk, 32);
    x25519_pub(other); /* checked against a different identity key: refused */
    assert_int_equal(bundle_parse_spk(spk, other, cl.sign_pk, &out, &err), BUNDLE_ERR_SIGNATURE);
    assert_string_equal(err.field, "signature");
    json_decref(spk);
}

static void proof(const char *email, uint64_t t, uint8_t sig[64])
{
    uint8_t msg[14 + 320 + 8];
    size_t n = strlen(email);
    memcpy(msg, "Sotto-v1-login", 14);
    memcpy(msg + 14, email, n);
    for (int i = 0; i < 8; i++)
        msg[14 + n + i] = (uint8_t)(t >> (8 * (7 - i)));
    crypto_sign_detached(sig, NULL, msg, 14 + n + 8, cl.sign_sk);
}

static bundle_status check_proof(const char *email, int64_t t, const uint8_t sig[64], int64_t now)
{
    const char *s = b64(sig, 64);
    bundle_error err = {{0}, NULL};
    return bundle_verify_login_proof(cl.sign_pk, email, strlen(email), t, s, strlen(s), now, &err);
}

static void test_login_proof(void **state)
{
    const int64_t now = 1800000000;
    uint8_t sig[64], other_pk[32], other_sk[64];
    bundle_error err = {{0}, NULL};
    (void)state;
    proof("alice@example.com", (uint64_t)now, sig);
    assert_int_equal(check_proof("alice@example.com", now, sig, now), BUNDLE_OK);
    assert_int_equal(check_proof("alice@example.com", now, sig, now + 300), BUNDLE_OK);
    assert_int_equal(check_proof("alice@example.com", now, sig, now - 300), BUNDLE_OK);
    assert_int_equal(check_proof("alice@example.com", now, sig, now + 301), BUNDLE_ERR_STALE);
    assert_int_equal(check_proof("alice@example.com", now, sig, now - 301), BUNDLE_ERR_STALE);
    assert_int_equal(check_proof("bob@example.com", now, sig, now), BUNDLE_ERR_SIGNATURE);
    assert_int_equal(check_proof("alice@example.com", now + 1, sig, now), BUNDLE_ERR_SIGNATURE);
    crypto_sign_keypair(other_pk, other_sk);
    assert_int_equal(bundle_verify_login_proof(other_pk, "alice@example.com", 17, now, b64(sig, 64),
                                               88, now, &err),
                     BUNDLE_ERR_SIGNATURE);
    assert_int_equal(
        bundle_verify_login_proof(cl.sign_pk, "alice@example.com", 17, now, "AAAA", 4, now, &err),
        BUNDLE_ERR_VALIDATION);
    assert_string_equal(err.field, "device.proof");
    assert_int_equal(bundle_verify_login_proof(cl.sign_pk, "", 0, now, b64(sig, 64), 88, now, &err),
                     BUNDLE_ERR_VALIDATION);
    assert_int_equal(bundle_verify_login_proof(cl.sign_pk, "a", 1, -1, b64(sig, 64), 88, now, &err),
                     BUNDLE_ERR_VALIDATION);
    assert_int_equal(
        bundle_verify_login_proof(cl.sign_pk, "a", 1, INT64_MAX, b64(sig, 64), 88, now, &err),
        BUNDLE_ERR_STALE);
    assert_int_equal(
        bundle_verify_login_proof(cl.sign_pk, "a", 1, 0, b64(sig, 64), 88, INT64_MAX, &err),
        BUNDLE_ERR_STALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_missing_and_types),
        cmocka_unit_test(test_base64_strictness),
        cmocka_unit_test(test_weak_keys),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_one_time_prekeys),
        cmocka_unit_test(test_spk_replacement),
        cmocka_unit_test(test_login_proof),
    };
    if (sodium_init() < 0)
        return 1;
    crypto_sign_keypair(cl.sign_pk, cl.sign_sk);
    x25519_pub(cl.ik);
    x25519_pub(cl.spk);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
