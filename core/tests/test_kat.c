/*
 * test_kat.c: known-answer tests for every primitive the protocol rests on:
 * HKDF-SHA256 (RFC 5869 A.1-A.3, through libsotto's own HKDF), X25519 (RFC 7748 6.1),
 * Ed25519 (RFC 8032 7.1, tests 1-3) and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha A.3.1);
 * and the passphrase key (Argon2id) against the reference implementation.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "internal.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), " :", &n, NULL), 0);
    return n;
}

static void check_hkdf(const char *ikm_h, const char *salt_h, const char *info_h, size_t l,
                       const char *okm_h)
{
    uint8_t ikm[128], salt[128], info[128], okm[128], expect[128];
    size_t ni = unhex(ikm, sizeof ikm, ikm_h), ns = unhex(salt, sizeof salt, salt_h),
           nf = unhex(info, sizeof info, info_h), ne = unhex(expect, sizeof expect, okm_h);
    assert_int_equal(ne, l);
    assert_int_equal(hkdf_sha256(okm, l, ns ? salt : NULL, ns, ikm, ni, info, nf), 0);
    assert_memory_equal(okm, expect, l);
}

static void hkdf_rfc5869(void **state)
{
    (void)state;
    check_hkdf("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
               "f0f1f2f3f4f5f6f7f8f9", 42,
               "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
               "34007208d5b887185865");
    check_hkdf("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
               "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
               "404142434445464748494a4b4c4d4e4f",
               "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
               "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
               "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
               "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
               "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
               "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
               82,
               "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
               "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
               "cc30c58179ec3e87c14c01d5c1f3434f1d87");
    check_hkdf("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
               "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
               "9d201395faa4b61a96c8");
}

static void x25519_rfc7748(void **state)
{
    uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], pk[32], k1[32], k2[32], expect[32];
    (void)state;
    unhex(a_sk, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    unhex(a_pk, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    unhex(b_sk, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    unhex(b_pk, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    unhex(expect, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    crypto_scalarmult_base(pk, a_sk);
    assert_memory_equal(pk, a_pk, 32);
    crypto_scalarmult_base(pk, b_sk);
    assert_memory_equal(pk, b_pk, 32);
    assert_int_equal(x25519(k1, a_sk, b_pk), 0);
    assert_int_equal(x25519(k2, b_sk, a_pk), 0);
    assert_memory_equal(k1, expect, 32);
    assert_memory_equal(k2, expect, 32);
    /* A low-order point is refused rather than yielding a known secret. */
    memset(pk, 0, 32);
    assert_int_not_equal(x25519(k1, a_sk, pk), 0);
    pk[0] = 1;
    assert_int_not_equal(x25519(k1, a_sk, pk), 0);
    assert_int_equal(x25519_is_low_order(a_pk), 0);
}

static void check_ed25519(const char *sk_h, const char *pk_h, const char *msg_h, const char *sig_h)
{
    uint8_t seed[32], pk[32], expect_pk[32], sk[64], msg[1024], sig[64], expect[64];
    size_t mlen = unhex(msg, sizeof msg, msg_h);
    unhex(seed, 32, sk_h);
    unhex(expect_pk, 32, pk_h);
    unhex(expect, 64, sig_h);
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_memory_equal(pk, expect_pk, 32);
    crypto_sign_detached(sig, NULL, msg, mlen, sk);
    assert_memory_equal(sig, expect, 64);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, mlen, pk), 0);
    sig[0] ^= 1;
    assert_int_not_equal(crypto_sign_verify_detached(sig, msg, mlen, pk), 0);
}

static void ed25519_rfc8032(void **state)
{
    (void)state;
    check_ed25519("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    check_ed25519("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
    check_ed25519("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
                  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a");
}

static void xchacha20poly1305_draft(void **state)
{
    static const char pt_s[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                               "only one tip for the future, sunscreen would be it.";
    uint8_t key[32], nonce[24], ad[12], expect[256], ct[256], back[256];
    unsigned long long clen, mlen;
    size_t elen;
    (void)state;
    unhex(key, 32, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    unhex(nonce, 24, "404142434445464748494a4b4c4d4e4f5051525354555657");
    unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
    elen = unhex(expect, sizeof expect,
                 "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
                 "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
                 "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
                 "21f9664c97637da9768812f615c68b13b52e"
                 "c0875924c1c7987947deafd8780acf49");
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, (const uint8_t *)pt_s, sizeof pt_s - 1,
                                               ad, sizeof ad, NULL, nonce, key);
    assert_int_equal(clen, elen);
    assert_memory_equal(ct, expect, elen);
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(back, &mlen, NULL, ct, clen, ad,
                                                                sizeof ad, nonce, key),
                     0);
    assert_memory_equal(back, pt_s, sizeof pt_s - 1);
}

/* sotto_passphrase_key against Argon2id from the reference implementation (libargon2,
 * argon2id_hash_raw with one lane and a 32-byte output), computed once outside this test:
 * RFC 9106's vectors use a secret and associated data, which crypto_pwhash has no room for. */
static void passphrase_argon2id(void **state)
{
    static const struct {
        uint32_t ops, mem_kib;
        const char *pass, *salt, *key;
    } v[] = {
        {2, 65536, "correct horse battery staple", "000102030405060708090a0b0c0d0e0f",
         "c05ce4c4dd7e0e45ee6011cc59d068ade47df1b01fc0cf9cd4678bdf68a5b7b0"},
        {1, 8192, "c\xc3\xa2u m\xe1\xba\xadt kh\xe1\xba\xa9u", "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
         "59071de426d04e144c70fbabc021202fe51e45fd4053be5ada5736fc7075bf34"},
        {3, 16384, "", "000102030405060708090a0b0c0d0e0f",
         "f3f1ab0f545795121025ed24a89948fe53b0a38ad86c2d80c49ada0a77f33e0d"},
    };
    uint8_t salt[16], key[32], expect[32];
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unhex(salt, sizeof salt, v[i].salt);
        unhex(expect, sizeof expect, v[i].key);
        assert_int_equal(
            sotto_passphrase_key(key, v[i].pass, strlen(v[i].pass), salt, v[i].ops, v[i].mem_kib),
            0);
        assert_memory_equal(key, expect, 32);
    }
    /* The defaults are the first vector's cost. */
    assert_int_equal(sotto_passphrase_opslimit(), 2);
    assert_int_equal(sotto_passphrase_memlimit_kib(), 65536);
    assert_int_equal(sotto_passphrase_saltbytes(), 16);
    /* A cost outside the bounds (a tampered record) is refused before any work. */
    assert_int_equal(sotto_passphrase_key(key, "x", 1, salt, 0, 65536), SOTTO_E_INVALID);
    assert_int_equal(sotto_passphrase_key(key, "x", 1, salt, 17, 65536), SOTTO_E_INVALID);
    assert_int_equal(sotto_passphrase_key(key, "x", 1, salt, 2, 8191), SOTTO_E_INVALID);
    assert_int_equal(sotto_passphrase_key(key, "x", 1, salt, 2, 1048577), SOTTO_E_INVALID);
    assert_int_equal(sotto_passphrase_key(key, NULL, 1, salt, 2, 65536), SOTTO_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hkdf_rfc5869),        cmocka_unit_test(x25519_rfc7748),
        cmocka_unit_test(ed25519_rfc8032),     cmocka_unit_test(xchacha20poly1305_draft),
        cmocka_unit_test(passphrase_argon2id),
    };
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
