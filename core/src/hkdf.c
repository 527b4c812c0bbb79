/*
 * hkdf.c: HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256 (1.0.18 has no HKDF), and
 * the Double Ratchet's two KDFs built from it: KDF_RK (HKDF) and KDF_CK (HMAC with the
 * constant inputs 0x01 and 0x02, as the Double Ratchet specification recommends).
 */
#include <string.h>

#include "internal.h"

static const uint8_t ratchet_info[] = "Sotto-v1-ratchet";

int hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
    static const uint8_t zero_salt[crypto_auth_hmacsha256_BYTES];
    uint8_t prk[crypto_auth_hmacsha256_BYTES], t[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    size_t done = 0;
    uint8_t counter = 1;

    if (out_len > 255u * sizeof t)
        return SOTTO_E_INVALID;
    if (salt == NULL || salt_len == 0) { /* RFC 5869 2.2: HashLen zero bytes */
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    /* Extract. */
    crypto_auth_hmacsha256_init(&st, salt, salt_len);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);
    /* Expand: T(i) = HMAC(PRK, T(i-1) || info || i). */
    while (done < out_len) {
        size_t take = out_len - done < sizeof t ? out_len - done : sizeof t;
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (counter > 1)
            crypto_auth_hmacsha256_update(&st, t, sizeof t);
        crypto_auth_hmacsha256_update(&st, info, info_len);
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        memcpy(out + done, t, take);
        done += take;
        counter++;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    sodium_memzero(&st, sizeof st);
    return 0;
}

int kdf_rk(uint8_t rk[KEY], uint8_t ck[KEY], const uint8_t dh[KEY])
{
    uint8_t okm[2 * KEY];
    int rc;

    TEST_OBSERVE(ROOT_RETIRED, rk);
    rc = hkdf_sha256(okm, sizeof okm, rk, KEY, dh, KEY, ratchet_info, sizeof ratchet_info - 1);
    if (rc == 0) {
        memcpy(rk, okm, KEY);
        memcpy(ck, okm + KEY, KEY);
    }
    sodium_memzero(okm, sizeof okm);
    return rc;
}

void kdf_ck(uint8_t ck[KEY], uint8_t mk[KEY])
{
    static const uint8_t one = 0x01, two = 0x02;
    crypto_auth_hmacsha256_state keyed, st;

    TEST_OBSERVE(CHAIN_RETIRED, ck);
    /* Key the HMAC once and clone it: two chain steps cost one key schedule. */
    crypto_auth_hmacsha256_init(&keyed, ck, KEY);
    st = keyed;
    crypto_auth_hmacsha256_update(&st, &one, 1);
    crypto_auth_hmacsha256_final(&st, mk);
    st = keyed;
    crypto_auth_hmacsha256_update(&st, &two, 1);
    crypto_auth_hmacsha256_final(&st, ck);
    sodium_memzero(&keyed, sizeof keyed);
    sodium_memzero(&st, sizeof st);
    TEST_OBSERVE(MESSAGE, mk);
}
