/* Device key bundle parsing and verification (libsodium Ed25519 / X25519 checks). */
#include "bundle.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"

#define BUNDLE_B64_MAX 128U /* longer strings cannot hold 64 bytes; refuse before decoding */

static bundle_status bundle_fail(bundle_error *err, const char *prefix, const char *field,
                                 const char *reason, bundle_status st)
{
    if (err != NULL) {
        /* Field paths are short by construction; a truncated one is still a fine hint. */
        if (snprintf(err->field, sizeof err->field, "%s%s%s", prefix ? prefix : "",
                     (prefix && *prefix && field && *field) ? "." : "",
                     field ? field : "") >= (int)sizeof err->field)
            err->field[sizeof err->field - 1] = '\0';
        err->reason = reason;
    }
    return st;
}

int bundle_x25519_ok(const uint8_t pk[BUNDLE_KEY_BYTES])
{
    static const uint8_t p_minus[31] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t scalar[crypto_scalarmult_SCALARBYTES], q[crypto_scalarmult_BYTES];
    int rc;

    /* Canonical: u < 2^255 - 19 (little-endian). */
    if (pk[31] > 0x7f ||
        (pk[31] == 0x7f && memcmp(pk + 1, p_minus + 1, 30) == 0 && pk[0] >= p_minus[0]))
        return -1;
    /* A small-order point times any clamped scalar (a multiple of the cofactor) is the
     * identity, which crypto_scalarmult reports as -1. Scalar value does not matter. */
    memset(scalar, 0x5a, sizeof scalar);
    rc = crypto_scalarmult(q, scalar, pk);
    sodium_memzero(q, sizeof q);
    return rc == 0 ? 0 : -1;
}

int bundle_ed25519_ok(const uint8_t pk[BUNDLE_KEY_BYTES])
{
    /* Checks canonical encoding, on-curve, main subgroup and not small order. */
    return crypto_core_ed25519_is_valid_point(pk) == 1 ? 0 : -1;
}

/* Reads obj[name] as standard base64 of exactly n bytes. */
static bundle_status bundle_get_bytes(const json_t *obj, const char *prefix, const char *name,
                                      uint8_t *out, size_t n, bundle_error *err)
{
    const json_t *v = json_object_get(obj, name);

    if (v == NULL)
        return bundle_fail(err, prefix, name, "missing", BUNDLE_ERR_VALIDATION);
    if (!json_is_string(v))
        return bundle_fail(err, prefix, name, "wrong_type", BUNDLE_ERR_VALIDATION);
    if (json_string_length(v) > BUNDLE_B64_MAX)
        return bundle_fail(err, prefix, name, "wrong_length", BUNDLE_ERR_VALIDATION);
    if (b64_decode_exact(json_string_value(v), json_string_length(v), B64_STANDARD, out, n))
        return bundle_fail(err, prefix, name, "bad_base64", BUNDLE_ERR_VALIDATION);
    return BUNDLE_OK;
}

static bundle_status bundle_get_x25519(const json_t *obj, const char *prefix, const char *name,
                                       uint8_t out[BUNDLE_KEY_BYTES], bundle_error *err)
{
    bundle_status st = bundle_get_bytes(obj, prefix, name, out, BUNDLE_KEY_BYTES, err);

    if (st == BUNDLE_OK && bundle_x25519_ok(out) != 0)
        st = bundle_fail(err, prefix, name, "weak_key", BUNDLE_ERR_VALIDATION);
    return st;
}

static bundle_status bundle_get_key_id(const json_t *obj, const char *prefix, uint32_t *out,
                                       bundle_error *err)
{
    const json_t *v = json_object_get(obj, "keyId");

    if (v == NULL)
        return bundle_fail(err, prefix, "keyId", "missing", BUNDLE_ERR_VALIDATION);
    if (!json_is_integer(v))
        return bundle_fail(err, prefix, "keyId", "wrong_type", BUNDLE_ERR_VALIDATION);
    if (json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)UINT32_MAX)
        return bundle_fail(err, prefix, "keyId", "out_of_range", BUNDLE_ERR_VALIDATION);
    *out = (uint32_t)json_integer_value(v);
    return BUNDLE_OK;
}

/* Refuses members other than the allowed names (NULL-terminated list): every member present
 * must be one of them, so the object's size equals the count of allowed names it holds. */
static bundle_status bundle_only(const json_t *obj, const char *prefix, const char *const *allowed,
                                 bundle_error *err)
{
    size_t known = 0;

    for (size_t i = 0; allowed[i] != NULL; i++)
        if (json_object_get(obj, allowed[i]) != NULL)
            known++;
    if (known != json_object_size(obj))
        return bundle_fail(err, prefix, "", "unknown_field", BUNDLE_ERR_VALIDATION);
    return BUNDLE_OK;
}

static void bundle_spk_message(const uint8_t ik[BUNDLE_KEY_BYTES], const bundle_signed_prekey *spk,
                               uint8_t *msg, size_t *len)
{
    size_t p = sizeof BUNDLE_LABEL_SPK - 1;

    memcpy(msg, BUNDLE_LABEL_SPK, p);
    memcpy(msg + p, ik, BUNDLE_KEY_BYTES);
    p += BUNDLE_KEY_BYTES;
    for (int i = 3; i >= 0; i--)
        msg[p++] = (uint8_t)(spk->key_id >> (8 * i));
    memcpy(msg + p, spk->public_key, BUNDLE_KEY_BYTES);
    *len = p + BUNDLE_KEY_BYTES;
}

static bundle_status bundle_spk_read(const json_t *obj, const char *prefix,
                                     const uint8_t ik[BUNDLE_KEY_BYTES],
                                     const uint8_t sk[BUNDLE_KEY_BYTES], bundle_signed_prekey *out,
                                     bundle_error *err)
{
    static const char *const allowed[] = {"keyId", "publicKey", "signature", NULL};
    uint8_t msg[sizeof BUNDLE_LABEL_SPK + 4 + 2 * BUNDLE_KEY_BYTES];
    size_t len = 0;
    bundle_status st;

    if (!json_is_object(obj))
        return bundle_fail(err, prefix, "", obj ? "wrong_type" : "missing", BUNDLE_ERR_VALIDATION);
    if ((st = bundle_only(obj, prefix, allowed, err)) != BUNDLE_OK ||
        (st = bundle_get_key_id(obj, prefix, &out->key_id, err)) != BUNDLE_OK ||
        (st = bundle_get_x25519(obj, prefix, "publicKey", out->public_key, err)) != BUNDLE_OK ||
        (st = bundle_get_bytes(obj, prefix, "signature", out->signature, BUNDLE_SIG_BYTES, err)) !=
            BUNDLE_OK)
        return st;
    bundle_spk_message(ik, out, msg, &len);
    if (crypto_sign_verify_detached(out->signature, msg, len, sk) != 0)
        return bundle_fail(err, prefix, "signature", "bad_signature", BUNDLE_ERR_SIGNATURE);
    return BUNDLE_OK;
}

static int bundle_id_seen(const bundle_prekey *keys, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].key_id == id)
            return 1;
    return 0;
}

static bundle_status bundle_otpks_read(const json_t *arr, const char *prefix, bundle_prekey *out,
                                       size_t *count, bundle_error *err)
{
    static const char *const allowed[] = {"keyId", "publicKey", NULL};
    char path[BUNDLE_FIELD_MAX];
    bundle_status st;

    *count = 0;
    if (!json_is_array(arr))
        return bundle_fail(err, prefix, "", "wrong_type", BUNDLE_ERR_VALIDATION);
    if (json_array_size(arr) > BUNDLE_MAX_OTPK)
        return bundle_fail(err, prefix, "", "too_many", BUNDLE_ERR_VALIDATION);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *item = json_array_get(arr, i);
        if (snprintf(path, sizeof path, "%s[%zu]", prefix, i) >= (int)sizeof path)
            path[sizeof path - 1] = '\0';
        if (!json_is_object(item))
            return bundle_fail(err, path, "", "wrong_type", BUNDLE_ERR_VALIDATION);
        if ((st = bundle_only(item, path, allowed, err)) != BUNDLE_OK ||
            (st = bundle_get_key_id(item, path, &out[i].key_id, err)) != BUNDLE_OK ||
            (st = bundle_get_x25519(item, path, "publicKey", out[i].public_key, err)))
            return st;
        if (bundle_id_seen(out, i, out[i].key_id))
            return bundle_fail(err, path, "keyId", "duplicate", BUNDLE_ERR_VALIDATION);
        *count = i + 1;
    }
    return BUNDLE_OK;
}

static bundle_status bundle_identity_read(const json_t *obj, bundle *b, bundle_error *err)
{
    uint8_t msg[sizeof BUNDLE_LABEL_IDENTITY - 1 + BUNDLE_KEY_BYTES];
    bundle_status st;

    if ((st = bundle_get_x25519(obj, "", "identityKey", b->identity_key, err)) != BUNDLE_OK ||
        (st = bundle_get_bytes(obj, "", "signingKey", b->signing_key, BUNDLE_KEY_BYTES, err)))
        return st;
    if (bundle_ed25519_ok(b->signing_key) != 0)
        return bundle_fail(err, "", "signingKey", "weak_key", BUNDLE_ERR_VALIDATION);
    if ((st = bundle_get_bytes(obj, "", "identitySignature", b->identity_signature,
                               BUNDLE_SIG_BYTES, err)) != BUNDLE_OK)
        return st;
    memcpy(msg, BUNDLE_LABEL_IDENTITY, sizeof BUNDLE_LABEL_IDENTITY - 1);
    memcpy(msg + sizeof BUNDLE_LABEL_IDENTITY - 1, b->identity_key, BUNDLE_KEY_BYTES);
    if (crypto_sign_verify_detached(b->identity_signature, msg, sizeof msg, b->signing_key))
        return bundle_fail(err, "", "identitySignature", "bad_signature", BUNDLE_ERR_SIGNATURE);
    return BUNDLE_OK;
}

bundle_status bundle_parse(const json_t *obj, bundle *out, bundle_error *err)
{
    static const char *const allowed[] = {"identityKey",  "signingKey",     "identitySignature",
                                          "signedPreKey", "oneTimePreKeys", NULL};
    const json_t *otpk;
    bundle_status st;

    memset(out, 0, sizeof *out);
    if (!json_is_object(obj)) {
        st = bundle_fail(err, "", "", "wrong_type", BUNDLE_ERR_VALIDATION);
        goto fail;
    }
    if ((st = bundle_only(obj, "", allowed, err)) != BUNDLE_OK ||
        (st = bundle_identity_read(obj, out, err)) != BUNDLE_OK ||
        (st = bundle_spk_read(json_object_get(obj, "signedPreKey"), "signedPreKey",
                              out->identity_key, out->signing_key, &out->spk, err)))
        goto fail;
    otpk = json_object_get(obj, "oneTimePreKeys");
    if (otpk != NULL &&
        (st = bundle_otpks_read(otpk, "oneTimePreKeys", out->otpk, &out->otpk_count, err)))
        goto fail;
    return BUNDLE_OK;
fail:
    memset(out, 0, sizeof *out);
    return st;
}

bundle_status bundle_parse_spk(const json_t *obj, const uint8_t identity_key[BUNDLE_KEY_BYTES],
                               const uint8_t signing_key[BUNDLE_KEY_BYTES],
                               bundle_signed_prekey *out, bundle_error *err)
{
    bundle_status st = bundle_spk_read(obj, "", identity_key, signing_key, out, err);

    if (st != BUNDLE_OK)
        memset(out, 0, sizeof *out);
    return st;
}

bundle_status bundle_parse_otpks(const json_t *arr, const char *field_prefix,
                                 bundle_prekey out[BUNDLE_MAX_OTPK], size_t *count,
                                 bundle_error *err)
{
    bundle_status st = bundle_otpks_read(arr, field_prefix ? field_prefix : "", out, count, err);

    if (st != BUNDLE_OK) {
        memset(out, 0, sizeof(bundle_prekey) * BUNDLE_MAX_OTPK);
        *count = 0;
    }
    return st;
}

bundle_status bundle_verify_login_proof(const uint8_t signing_key[BUNDLE_KEY_BYTES],
                                        const char *email, size_t email_len, int64_t proof_time,
                                        const char *proof_b64, size_t proof_len, int64_t now,
                                        bundle_error *err)
{
    uint8_t sig[BUNDLE_SIG_BYTES];
    uint8_t msg[sizeof BUNDLE_LABEL_LOGIN - 1 + BUNDLE_EMAIL_MAX + 8];
    size_t p = sizeof BUNDLE_LABEL_LOGIN - 1;
    bundle_status st;

    if (email == NULL || email_len == 0 || email_len > BUNDLE_EMAIL_MAX || proof_time < 0 ||
        now < 0 || signing_key == NULL)
        return bundle_fail(err, "device", "proofTime", "out_of_range", BUNDLE_ERR_VALIDATION);
    if (proof_b64 == NULL || proof_len > BUNDLE_B64_MAX ||
        b64_decode_exact(proof_b64, proof_len, B64_STANDARD, sig, sizeof sig) != 0)
        return bundle_fail(err, "device", "proof", "bad_base64", BUNDLE_ERR_VALIDATION);
    /* Both are non-negative, so neither difference can overflow. */
    if ((now >= proof_time && now - proof_time > BUNDLE_PROOF_WINDOW_SECONDS) ||
        (now < proof_time && proof_time - now > BUNDLE_PROOF_WINDOW_SECONDS))
        return bundle_fail(err, "device", "proofTime", "stale", BUNDLE_ERR_STALE);
    memcpy(msg, BUNDLE_LABEL_LOGIN, p);
    memcpy(msg + p, email, email_len);
    p += email_len;
    for (int i = 7; i >= 0; i--)
        msg[p++] = (uint8_t)((uint64_t)proof_time >> (8 * i));
    st = crypto_sign_verify_detached(sig, msg, p, signing_key) == 0
             ? BUNDLE_OK
             : bundle_fail(err, "device", "proof", "bad_signature", BUNDLE_ERR_SIGNATURE);
    return st;
}
