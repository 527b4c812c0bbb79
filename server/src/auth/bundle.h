/* Device key bundles (api.md, "Devices and their keys"): parse a JSON bundle (jansson) into a
 * plain struct, check every key and both Ed25519 signatures, and check device login proofs.
 * Pure, thread-safe, no allocation beyond jansson's own reads; the caller owns every struct.
 *
 * Results map to the contract: BUNDLE_ERR_VALIDATION -> 400 validation_failed with details
 * {field, reason} taken from bundle_error; BUNDLE_ERR_SIGNATURE -> 400 invalid_signature
 * (bundle_error.field says which). Uniqueness and immutability are the store's business. */
#ifndef SOTTO_AUTH_BUNDLE_H
#define SOTTO_AUTH_BUNDLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BUNDLE_KEY_BYTES 32U
#define BUNDLE_SIG_BYTES 64U
#define BUNDLE_MAX_OTPK 100U            /* per upload */
#define BUNDLE_PROOF_WINDOW_SECONDS 300 /* +-5 minutes */
#define BUNDLE_EMAIL_MAX 320U
#define BUNDLE_FIELD_MAX 48U

#define BUNDLE_LABEL_IDENTITY "Sotto-v1-identity"
#define BUNDLE_LABEL_SPK "Sotto-v1-spk"
#define BUNDLE_LABEL_LOGIN "Sotto-v1-login"

typedef enum bundle_status {
    BUNDLE_OK = 0,
    BUNDLE_ERR_VALIDATION = 1, /* 400 validation_failed */
    BUNDLE_ERR_SIGNATURE = 2,  /* 400 invalid_signature */
    BUNDLE_ERR_STALE = 3       /* login proof outside the +-5 minute window */
} bundle_status;

typedef struct bundle_error {
    char field[BUNDLE_FIELD_MAX]; /* JSON path, e.g. "oneTimePreKeys[3].keyId" */
    const char *reason;           /* static: "missing", "wrong_type", "bad_base64",
                                     "wrong_length", "weak_key", "out_of_range",
                                     "duplicate", "too_many", "unknown_field", "bad_signature",
                                     "stale" */
} bundle_error;

typedef struct bundle_prekey {
    uint32_t key_id;
    uint8_t public_key[BUNDLE_KEY_BYTES]; /* X25519 */
} bundle_prekey;

typedef struct bundle_signed_prekey {
    uint32_t key_id;
    uint8_t public_key[BUNDLE_KEY_BYTES]; /* X25519 */
    uint8_t signature[BUNDLE_SIG_BYTES];
} bundle_signed_prekey;

typedef struct bundle {
    uint8_t identity_key[BUNDLE_KEY_BYTES]; /* X25519 */
    uint8_t signing_key[BUNDLE_KEY_BYTES];  /* Ed25519: the device's identity for people */
    uint8_t identity_signature[BUNDLE_SIG_BYTES];
    bundle_signed_prekey spk;
    size_t otpk_count;
    bundle_prekey otpk[BUNDLE_MAX_OTPK];
} bundle;

/* Parses and fully verifies a bundle object: exactly the fields identityKey, signingKey,
 * identitySignature, signedPreKey, oneTimePreKeys (optional; <= 100, unique keyIds), each key
 * canonical and not of small order, both signatures valid. *out is zeroed unless BUNDLE_OK. */
bundle_status bundle_parse(const json_t *obj, bundle *out, bundle_error *err);

/* Parses and verifies a replacement signed pre-key {keyId, publicKey, signature} against the
 * device's stored identity and signing keys (PUT /api/keys/signed-pre-key). */
bundle_status bundle_parse_spk(const json_t *obj, const uint8_t identity_key[BUNDLE_KEY_BYTES],
                               const uint8_t signing_key[BUNDLE_KEY_BYTES],
                               bundle_signed_prekey *out, bundle_error *err);

/* Parses an array of one-time pre-keys (POST /api/keys/one-time-keys {keys}): <= 100 entries,
 * unique keyIds, valid points. out must hold BUNDLE_MAX_OTPK entries. field_prefix names the
 * array in errors ("keys"). */
bundle_status bundle_parse_otpks(const json_t *arr, const char *field_prefix,
                                 bundle_prekey out[BUNDLE_MAX_OTPK], size_t *count,
                                 bundle_error *err);

/* Checks a login proof: proof_b64 (standard base64 of 64 bytes) is an Ed25519 signature by
 * signing_key over "Sotto-v1-login" || email || proof_time (u64 big-endian), and
 * |now - proof_time| <= 300. email: 1..320 bytes, as the client sent it. Replay: the caller
 * keeps the device's last accepted proof_time and requires a strictly greater one.
 * Returns BUNDLE_OK, BUNDLE_ERR_VALIDATION (malformed), BUNDLE_ERR_STALE (time window, checked
 * before the signature), or BUNDLE_ERR_SIGNATURE. */
bundle_status bundle_verify_login_proof(const uint8_t signing_key[BUNDLE_KEY_BYTES],
                                        const char *email, size_t email_len, int64_t proof_time,
                                        const char *proof_b64, size_t proof_len, int64_t now,
                                        bundle_error *err);

/* 0 if pk is a usable X25519 public key (canonical, not of small order), else -1. */
int bundle_x25519_ok(const uint8_t pk[BUNDLE_KEY_BYTES]);

/* 0 if pk is a usable Ed25519 public key (canonical, on the curve, not of small order). */
int bundle_ed25519_ok(const uint8_t pk[BUNDLE_KEY_BYTES]);

#endif
