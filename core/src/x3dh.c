/*
 * x3dh.c: the X3DH shared secret, for the initiator (from a verified bundle) and the
 * responder (from a pre-key message), and the associated data that binds both devices.
 *
 *   SK = HKDF-SHA256(salt = 32 zero bytes, IKM = 32 x 0xFF || DH1 || DH2 || DH3 [|| DH4],
 *                    info = "Sotto-v1-X3DH", 32 bytes)
 *   DH1 = DH(IK_I, SPK_R)  DH2 = DH(EK_I, IK_R)  DH3 = DH(EK_I, SPK_R)  DH4 = DH(EK_I, OPK_R)
 */
#include <string.h>

#include "internal.h"

static const uint8_t x3dh_info[] = "Sotto-v1-X3DH";

void x3dh_ad(uint8_t ad[AD_BYTES], const uint8_t ik_i[KEY], const uint8_t sk_i[KEY],
             const uint8_t ik_r[KEY], const uint8_t sk_r[KEY])
{
    ad[0] = 0x01; /* AD format version */
    memcpy(ad + 1, ik_i, KEY);
    memcpy(ad + 1 + KEY, sk_i, KEY);
    memcpy(ad + 1 + 2 * KEY, ik_r, KEY);
    memcpy(ad + 1 + 3 * KEY, sk_r, KEY);
}

static int x3dh_kdf(uint8_t sk[KEY], const uint8_t *ikm, size_t dh_count)
{
    return hkdf_sha256(sk, KEY, NULL, 0, ikm, KEY * (1 + dh_count), x3dh_info,
                       sizeof x3dh_info - 1);
}

int x3dh_initiator(uint8_t sk[KEY], const sotto_account *a, const uint8_t ek_sk[KEY],
                   const sotto_bundle *peer)
{
    uint8_t ikm[5 * KEY];
    size_t n = 3;
    int rc = SOTTO_E_AUTH;

    memset(ikm, 0xff, KEY);
    if (x25519(ikm + KEY, a->ik_sk, peer->signed_pre_key) != 0 ||
        x25519(ikm + 2 * KEY, ek_sk, peer->identity_key) != 0 ||
        x25519(ikm + 3 * KEY, ek_sk, peer->signed_pre_key) != 0)
        goto done;
    if (peer->has_one_time_pre_key) {
        if (x25519(ikm + 4 * KEY, ek_sk, peer->one_time_pre_key.public_key) != 0)
            goto done;
        n = 4;
    }
    rc = x3dh_kdf(sk, ikm, n);
done:
    sodium_memzero(ikm, sizeof ikm);
    return rc;
}

int x3dh_responder(uint8_t sk[KEY], const sotto_account *a, const uint8_t spk_sk[KEY],
                   const uint8_t *opk_sk, const uint8_t ik_i[KEY], const uint8_t ek[KEY])
{
    uint8_t ikm[5 * KEY];
    size_t n = 3;
    int rc = SOTTO_E_AUTH;

    memset(ikm, 0xff, KEY);
    if (x25519(ikm + KEY, spk_sk, ik_i) != 0 || x25519(ikm + 2 * KEY, a->ik_sk, ek) != 0 ||
        x25519(ikm + 3 * KEY, spk_sk, ek) != 0)
        goto done;
    if (opk_sk) {
        if (x25519(ikm + 4 * KEY, opk_sk, ek) != 0)
            goto done;
        n = 4;
    }
    rc = x3dh_kdf(sk, ikm, n);
done:
    sodium_memzero(ikm, sizeof ikm);
    return rc;
}
