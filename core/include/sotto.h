/*
 * sotto.h: the public API of libsotto, Sotto's end-to-end encryption core.
 *
 * Everything a client needs to talk to another device privately: its own device keys
 * (sotto_account), one record per peer device holding the Double Ratchet sessions with it
 * (sotto_record), X3DH set-up from a peer's bundle, the message payload inside the
 * ciphertext, safety numbers, attachment encryption and at-rest sealing of saved state.
 *
 * Rules every function follows:
 *  - No global mutable state, no I/O, no clock: callers pass `now` (unix seconds).
 *  - Return 0 on success or a negative sotto_error; anything that can fail is
 *    warn_unused_result. A failed call leaves every object it was given unchanged.
 *  - Output goes to caller-owned buffers whose size is given by a macro or a _size()
 *    function; objects come from _create()/_deserialize() and go to _free().
 *  - Secrets are wiped before their memory is released. The account's long-term private
 *    keys live in guarded, locked sodium_malloc() memory; per-peer state (records,
 *    sessions, skipped keys) in ordinary heap memory (docs/protocol.md, "Memory").
 * Byte layouts and KDF labels: docs/protocol.md.
 */
#ifndef SOTTO_H
#define SOTTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SOTTO_WUR __attribute__((warn_unused_result))
#define SOTTO_EXPORT __attribute__((visibility("default")))
#else
#define SOTTO_WUR
#define SOTTO_EXPORT
#endif

/* Errors are negative so that `if (sotto_x(...) != 0)` and `< 0` both work. */
typedef enum sotto_error {
    SOTTO_OK = 0,
    SOTTO_E_INVALID = -1,      /* malformed input or argument */
    SOTTO_E_AUTH = -2,         /* a signature, tag or digest did not verify */
    SOTTO_E_NOMEM = -3,        /* out of memory */
    SOTTO_E_BUFFER = -4,       /* the output buffer is too small */
    SOTTO_E_VERSION = -5,      /* unknown format version */
    SOTTO_E_BOUNDS = -6,       /* a protocol bound would be exceeded (MAX_SKIP, sizes) */
    SOTTO_E_REPLAY = -7,       /* message or pre-key message already seen */
    SOTTO_E_UNTRUSTED = -8,    /* the peer's identity differs from the one pinned */
    SOTTO_E_NO_SESSION = -9,   /* no session can take this message */
    SOTTO_E_NO_KEY = -10,      /* the pre-key it names is gone (used, expired, unknown) */
    SOTTO_E_STATE = -11,       /* call out of order (e.g. attachment after final) */
    SOTTO_E_KEY_MISMATCH = -12 /* the peer's signing key is not the one the caller listed */
} sotto_error;

/* Protocol constants (docs/protocol.md says why each has its value). */
#define SOTTO_VERSION 1u
#define SOTTO_KEYBYTES 32u
#define SOTTO_SIGBYTES 64u
#define SOTTO_MAX_SKIP 1000u         /* message keys skipped in one chain */
#define SOTTO_MAX_SKIPPED_KEYS 2000u /* stored skipped keys per session */
#define SOTTO_RECEIVING_CHAINS 5u
#define SOTTO_ARCHIVED_SESSIONS 40u /* per peer device */
#define SOTTO_SKIPPED_KEY_TTL (30u * 86400u)
#define SOTTO_SPK_ROTATION (7u * 86400u)
#define SOTTO_QUEUE_RETENTION (30u * 86400u) /* the server keeps an undelivered envelope */
#define SOTTO_PENDING_MAX_AGE (7u * 86400u)  /* a session nobody answered sends this long */
/* A replaced signed pre-key (and its replay-cache entries) is kept long enough for a pre-key
 * message from a bundle fetched just before the rotation: pending age + queue retention. */
#define SOTTO_SPK_RETENTION (SOTTO_PENDING_MAX_AGE + SOTTO_QUEUE_RETENTION)
#define SOTTO_ONE_TIME_KEYS_MAX 1000u /* kept locally; the server stores 200 */
/* A one-time key the server no longer holds was claimed: its pre-key message can still be
 * on its way for as long as a replaced signed pre-key is kept. */
#define SOTTO_ONE_TIME_KEY_GRACE SOTTO_SPK_RETENTION
/* (SPK id, EK) pairs remembered, see sotto_record_decrypt. */
#define SOTTO_REPLAY_CACHE_MAX 16384u
#define SOTTO_PAD_BLOCK 160u
#define SOTTO_PLAINTEXT_MAX 65279u /* padded to 65,280; envelopes stay under 64 KiB */
#define SOTTO_ENVELOPE_PREKEY 1u
#define SOTTO_ENVELOPE_MESSAGE 2u
#define SOTTO_MESSAGE_OVERHEAD 82u /* 2 + 32 + 4 + 4 header, 24 nonce, 16 tag */
#define SOTTO_PREKEY_OVERHEAD 251u /* + 32 IK + 32 SK + 64 sig + 32 EK + 4 + 1 + 4 */
#define SOTTO_ENVELOPE_MAX (65280u + SOTTO_PREKEY_OVERHEAD)

SOTTO_EXPORT size_t sotto_keybytes(void);
SOTTO_EXPORT size_t sotto_sigbytes(void);
SOTTO_EXPORT size_t sotto_plaintext_max(void);
SOTTO_EXPORT size_t sotto_envelope_max(void);
/* Exact envelope size for a plaintext of `len` bytes (0 if len > SOTTO_PLAINTEXT_MAX). */
SOTTO_EXPORT size_t sotto_envelope_size(size_t len, int prekey);

/* Initialises libsodium; call once before anything else (safe to call again). */
SOTTO_EXPORT int sotto_init(void) SOTTO_WUR;
/* A static English description of an error code (never NULL). */
SOTTO_EXPORT const char *sotto_strerror(int err);

/* ---------------------------------------------------------------- bundles */

typedef struct sotto_prekey {
    uint32_t key_id;
    uint8_t public_key[SOTTO_KEYBYTES];
} sotto_prekey;

/* One device's public bundle as the server returns it to a claimer (api.md, "Devices"). */
typedef struct sotto_bundle {
    uint8_t identity_key[SOTTO_KEYBYTES];       /* X25519 */
    uint8_t signing_key[SOTTO_KEYBYTES];        /* Ed25519 */
    uint8_t identity_signature[SOTTO_SIGBYTES]; /* over "Sotto-v1-identity" || identity_key */
    uint32_t signed_pre_key_id;
    uint8_t signed_pre_key[SOTTO_KEYBYTES];
    uint8_t signed_pre_key_signature[SOTTO_SIGBYTES];
    int has_one_time_pre_key; /* 0: none left, X3DH falls back to 3-DH */
    sotto_prekey one_time_pre_key;
} sotto_bundle;

/* Both signatures valid, no X25519 key of low order, Ed25519 key canonical and not small. */
SOTTO_EXPORT int sotto_bundle_verify(const sotto_bundle *b) SOTTO_WUR;

/* A bundle as fixed-size bytes, for callers that cannot see the struct (WebAssembly, FFI):
 * IK (32) || SK (32) || identity signature (64) || SPK id (u32 BE) || SPK (32) || SPK
 * signature (64) || one-time key present (u8 0/1) || its id (u32 BE) || its key (32); an
 * absent one-time key is all zero. Decoding checks the form only: verify separately. */
#define SOTTO_BUNDLE_BYTES 265u
SOTTO_EXPORT size_t sotto_bundle_bytes(void);
SOTTO_EXPORT void sotto_bundle_encode(const sotto_bundle *b, uint8_t out[SOTTO_BUNDLE_BYTES]);
SOTTO_EXPORT int sotto_bundle_decode(sotto_bundle *b, const uint8_t *in, size_t len) SOTTO_WUR;

/* ---------------------------------------------------------------- account */

/* This device's private keys, its signed and one-time pre-keys and its X3DH replay cache. */
typedef struct sotto_account sotto_account;

SOTTO_EXPORT int sotto_account_create(sotto_account **out, uint64_t now) SOTTO_WUR;
SOTTO_EXPORT void sotto_account_free(sotto_account *a);
/* The public bundle without one-time keys (those come from generate_one_time_keys). */
SOTTO_EXPORT void sotto_account_bundle(const sotto_account *a, sotto_bundle *out);
/* Adds `count` one-time pre-keys and writes their public halves to out[0..count). Never
 * fails for want of room while count <= SOTTO_ONE_TIME_KEYS_MAX: when the local store would
 * exceed the cap, keys the server no longer holds go first (oldest claim first; see
 * sync_one_time_keys), then the oldest keys (lowest id). SOTTO_E_BOUNDS only for
 * count > SOTTO_ONE_TIME_KEYS_MAX or when the id counter is exhausted. */
SOTTO_EXPORT int sotto_account_generate_one_time_keys(sotto_account *a, uint32_t count,
                                                      sotto_prekey *out) SOTTO_WUR;
SOTTO_EXPORT uint32_t sotto_account_one_time_key_count(const sotto_account *a);
/* Tells the account which one-time key ids the server still holds (ids[0..n), any order).
 * A local key missing from the list was claimed: it is marked with `now` (once) and wiped
 * SOTTO_ONE_TIME_KEY_GRACE later, by this call or by sotto_account_prune; a listed key is
 * unmarked. Ids that are not ours are ignored. */
SOTTO_EXPORT int sotto_account_sync_one_time_keys(sotto_account *a, const uint32_t *ids, size_t n,
                                                  uint64_t now) SOTTO_WUR;
/* 1 when the current signed pre-key is older than SOTTO_SPK_ROTATION, or when it holds half
 * of the replay cache (a flood of pre-key messages: rotate early, see sotto_record_decrypt). */
SOTTO_EXPORT int sotto_account_signed_pre_key_due(const sotto_account *a, uint64_t now);
/* New signed pre-key; the replaced private key stays for SOTTO_SPK_RETENTION. */
SOTTO_EXPORT int sotto_account_rotate_signed_pre_key(sotto_account *a, uint64_t now) SOTTO_WUR;
/* The whole schedule in one call: rotates when due (*rotated = 1: upload the new signed
 * pre-key from sotto_account_bundle) and prunes. rotated may be NULL. */
SOTTO_EXPORT int sotto_account_maintain(sotto_account *a, uint64_t now, int *rotated) SOTTO_WUR;
/* Wipes replaced signed pre-keys past retention with their replay-cache entries, and
 * claimed one-time keys past their grace. */
SOTTO_EXPORT void sotto_account_prune(sotto_account *a, uint64_t now);
/* Ed25519 over "Sotto-v1-login" || email || seconds (u64 BE): api.md's device proof. */
SOTTO_EXPORT int sotto_account_login_proof(const sotto_account *a, const char *email,
                                           uint64_t unix_seconds,
                                           uint8_t sig[SOTTO_SIGBYTES]) SOTTO_WUR;

/* ---------------------------------------------------------------- sessions */

/* Everything shared with one peer device: its pinned identity and signing keys, the
 * current session and up to SOTTO_ARCHIVED_SESSIONS archived ones. */
typedef struct sotto_record sotto_record;

SOTTO_EXPORT int sotto_record_create(sotto_record **out) SOTTO_WUR;
SOTTO_EXPORT void sotto_record_free(sotto_record *r);
/* 1 if the record has a session to encrypt with (sotto_record_has_session_at also
 * applies SOTTO_PENDING_MAX_AGE: 0 when the current session is a pre-key session nobody
 * answered for that long, so the caller claims a new bundle and initiates again). */
SOTTO_EXPORT int sotto_record_has_session(const sotto_record *r);
SOTTO_EXPORT int sotto_record_has_session_at(const sotto_record *r, uint64_t now);
/* Verifies the bundle, checks that its signing key is `expected_signing_key` (the one the
 * server's device list gives for that exact (user, device): SOTTO_E_KEY_MISMATCH if not),
 * pins (or checks) the peer's keys, runs X3DH and makes the new session current, pending
 * since `now`; earlier sessions are archived. On failure nothing changes. */
SOTTO_EXPORT int sotto_record_initiate_expected(sotto_record *r, const sotto_account *a,
                                                const sotto_bundle *peer,
                                                const uint8_t expected_signing_key[32],
                                                uint64_t now) SOTTO_WUR;
/* Deprecated: initiate_expected without the listed-key check; the pending age counts from
 * the first sotto_record_encrypt_at. */
SOTTO_EXPORT int sotto_record_initiate(sotto_record *r, const sotto_account *a,
                                       const sotto_bundle *peer) SOTTO_WUR;
/* Encrypts one padded plaintext. Writes *type (SOTTO_ENVELOPE_*) and exactly
 * sotto_envelope_size(len, *type == PREKEY) bytes to out. _at refuses with
 * SOTTO_E_NO_SESSION a pending session older than SOTTO_PENDING_MAX_AGE; the plain call
 * (deprecated) does not know the time and never does. */
SOTTO_EXPORT int sotto_record_encrypt_at(sotto_record *r, const uint8_t *pt, size_t pt_len,
                                         uint64_t now, uint8_t *out, size_t out_cap,
                                         size_t *out_len, unsigned *type) SOTTO_WUR;
SOTTO_EXPORT int sotto_record_encrypt(sotto_record *r, const uint8_t *pt, size_t pt_len,
                                      uint8_t *out, size_t out_cap, size_t *out_len,
                                      unsigned *type) SOTTO_WUR;
/* Decrypts an envelope from this peer device. A pre-key envelope may consume a one-time
 * pre-key and add a replay-cache entry in `a`; store `a` and `r` together afterwards.
 * On failure neither `a` nor `r` changes. out_cap >= in_len suffices.
 * `expected_signing_key`: the signing key the server's device list gives for the device
 * the envelope came from. A pre-key envelope signed by another key, or a record pinned to
 * another key, is refused with SOTTO_E_KEY_MISMATCH before anything else.
 * A pre-key message is refused (SOTTO_E_REPLAY) if its (SPK id, EK) pair was accepted
 * before, for as long as that signed pre-key exists: the cache never forgets an entry of a
 * key it still holds. When it is full, the oldest replaced signed pre-key holding entries is
 * wiped with them to make room; if only the one in use holds entries, the message is
 * refused (SOTTO_E_BOUNDS) until the signed pre-key is rotated (signed_pre_key_due says so). */
SOTTO_EXPORT int sotto_record_decrypt_expected(sotto_record *r, sotto_account *a, const uint8_t *in,
                                               size_t in_len, uint64_t now,
                                               const uint8_t expected_signing_key[32], uint8_t *out,
                                               size_t out_cap, size_t *out_len) SOTTO_WUR;
/* Deprecated: decrypt_expected without the listed-key check. */
SOTTO_EXPORT int sotto_record_decrypt(sotto_record *r, sotto_account *a, const uint8_t *in,
                                      size_t in_len, uint64_t now, uint8_t *out, size_t out_cap,
                                      size_t *out_len) SOTTO_WUR;
/* The peer device's pinned keys (0), or SOTTO_E_NO_SESSION before anything is pinned. */
SOTTO_EXPORT int sotto_record_peer_keys(const sotto_record *r, uint8_t identity_key[32],
                                        uint8_t signing_key[32]) SOTTO_WUR;

/* ---------------------------------------------------------------- saved state */

SOTTO_EXPORT size_t sotto_account_serialized_size(const sotto_account *a);
SOTTO_EXPORT int sotto_account_serialize(const sotto_account *a, uint8_t *out, size_t cap,
                                         size_t *len) SOTTO_WUR;
SOTTO_EXPORT int sotto_account_deserialize(sotto_account **out, const uint8_t *in,
                                           size_t len) SOTTO_WUR;
SOTTO_EXPORT size_t sotto_record_serialized_size(const sotto_record *r);
SOTTO_EXPORT int sotto_record_serialize(const sotto_record *r, uint8_t *out, size_t cap,
                                        size_t *len) SOTTO_WUR;
SOTTO_EXPORT int sotto_record_deserialize(sotto_record **out, const uint8_t *in,
                                          size_t len) SOTTO_WUR;

/* At-rest sealing of serialized state: XChaCha20-Poly1305 under a caller key, with the
 * storage slot's name as associated data so that blobs cannot be swapped between slots. */
#define SOTTO_SEAL_KEYBYTES 32u
#define SOTTO_SEAL_OVERHEAD 41u /* version 1 + nonce 24 + tag 16 */
SOTTO_EXPORT size_t sotto_seal_keybytes(void);
SOTTO_EXPORT size_t sotto_seal_overhead(void);
SOTTO_EXPORT void sotto_seal_keygen(uint8_t key[SOTTO_SEAL_KEYBYTES]);
/* out must hold len + SOTTO_SEAL_OVERHEAD bytes. */
SOTTO_EXPORT int sotto_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *slot,
                            size_t slot_len, const uint8_t key[SOTTO_SEAL_KEYBYTES]) SOTTO_WUR;
/* out must hold len - SOTTO_SEAL_OVERHEAD bytes. */
SOTTO_EXPORT int sotto_seal_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *slot,
                                 size_t slot_len, const uint8_t key[SOTTO_SEAL_KEYBYTES]) SOTTO_WUR;

/* A sealing key from a passphrase, for state at rest behind something a person types:
 * Argon2id (v1.3, one lane) through libsodium's crypto_pwhash, 32 bytes. The cost goes into
 * the caller's stored record beside the salt, so it can be raised later; outside
 * [SOTTO_PASSPHRASE_OPSLIMIT_MIN, _MAX] passes or [SOTTO_PASSPHRASE_MEMLIMIT_KIB_MIN, _MAX] KiB
 * (a tampered record asking for 16 GiB, say) the call refuses with SOTTO_E_INVALID. The
 * defaults are libsodium's "interactive" limits, the ones the CLI's passphrase uses. */
#define SOTTO_PASSPHRASE_SALTBYTES 16u
#define SOTTO_PASSPHRASE_OPSLIMIT 2u
#define SOTTO_PASSPHRASE_MEMLIMIT_KIB 65536u
#define SOTTO_PASSPHRASE_OPSLIMIT_MIN 1u
#define SOTTO_PASSPHRASE_OPSLIMIT_MAX 16u
#define SOTTO_PASSPHRASE_MEMLIMIT_KIB_MIN 8192u
#define SOTTO_PASSPHRASE_MEMLIMIT_KIB_MAX 1048576u
SOTTO_EXPORT size_t sotto_passphrase_saltbytes(void);
SOTTO_EXPORT uint32_t sotto_passphrase_opslimit(void);
SOTTO_EXPORT uint32_t sotto_passphrase_memlimit_kib(void);
/* SOTTO_E_NOMEM when the memory cannot be had. */
SOTTO_EXPORT int sotto_passphrase_key(uint8_t key[SOTTO_SEAL_KEYBYTES], const char *passphrase,
                                      size_t passphrase_len,
                                      const uint8_t salt[SOTTO_PASSPHRASE_SALTBYTES],
                                      uint32_t opslimit, uint32_t memlimit_kib) SOTTO_WUR;

/* ---------------------------------------------------------------- payload */

#define SOTTO_UUIDBYTES 16u

/* edit_of (tag 7) is the *target*: the server id of the message an EDIT, DELETE, RETRY or
 * RESEND is about. Those four require it, and DELETE and RETRY an empty body; a CALL requires
 * the call binding (tag 16), which no other type may carry; both encode and decode refuse
 * otherwise. Other values (8..255) decode: a reader ignores a type it does not know
 * (docs/protocol.md, "Deletes, edits and retries"). */
enum sotto_content_type {
    SOTTO_CONTENT_TEXT = 1,
    SOTTO_CONTENT_EDIT = 2,   /* body replaces the target */
    SOTTO_CONTENT_DELETE = 3, /* delete-for-everyone of the target; empty body */
    SOTTO_CONTENT_SYNC = 4,   /* a copy of one's own message for one's other devices */
    SOTTO_CONTENT_RETRY = 5,  /* "I could not decrypt the target: resend it"; empty body */
    SOTTO_CONTENT_RESEND = 6, /* the target again (its clientMessageId, sentAt and text) */
    SOTTO_CONTENT_CALL = 7    /* a call signal; requires the call binding (tag 16) */
};
enum sotto_call_type { SOTTO_CALL_AUDIO = 1, SOTTO_CALL_VIDEO = 2 };
/* What a call signal's body is: SDP text for the offers and answers, one ICE candidate as
 * RTCIceCandidateInit JSON for a candidate. Restarts renegotiate an active call (ICE restart). */
enum sotto_call_signal {
    SOTTO_SIGNAL_OFFER = 1,
    SOTTO_SIGNAL_ANSWER = 2,
    SOTTO_SIGNAL_CANDIDATE = 3,
    SOTTO_SIGNAL_RESTART_OFFER = 4,
    SOTTO_SIGNAL_RESTART_ANSWER = 5
};
/* The call a signal belongs to (docs/protocol.md, "Calls"): a receiver compares it with the
 * call the server's event names, so a signal cannot be replayed into another call, another
 * device pair or another kind of call. Device ids are the server's UUIDs as 16 bytes. */
typedef struct sotto_call_binding {
    uint8_t call_id[SOTTO_UUIDBYTES];
    uint8_t caller_device_id[SOTTO_UUIDBYTES];
    uint8_t callee_device_id[SOTTO_UUIDBYTES];
    uint8_t call_type; /* enum sotto_call_type */
    uint8_t signal;    /* enum sotto_call_signal */
} sotto_call_binding;
#define SOTTO_PAYLOAD_VERSION 1u

/* One file a message carries (docs/protocol.md, "Attachments"): where the server keeps its
 * ciphertext, the key and digest that open it, and what a receiver shows before fetching it.
 * Name, type and thumbnail point into the decoded buffer (borrowed), like the body; the key
 * is copied in: wipe the decoded payload when done with it. */
#define SOTTO_ATTACHMENTS_MAX 10u
#define SOTTO_ATTACHMENT_NAME_MAX 255u       /* bytes of UTF-8, no control character, no / or \ */
#define SOTTO_ATTACHMENT_TYPE_MAX 127u       /* a MIME type "type/subtype" in lower case */
#define SOTTO_ATTACHMENT_THUMB_MAX 4096u     /* a small JPEG, PNG or WebP image, or none */
#define SOTTO_ATTACHMENT_FILE_MAX 104857600u /* 100 MiB */
typedef struct sotto_attachment_pointer {
    uint8_t id[SOTTO_UUIDBYTES]; /* the server's attachment id */
    uint8_t key[32];             /* SOTTO_ATTACHMENT_KEYBYTES */
    uint8_t digest[32];          /* SOTTO_ATTACHMENT_DIGESTBYTES */
    uint64_t size;               /* the file's bytes; the stream is padded past them */
    uint32_t width, height;      /* pixels, 0 when not an image or a video */
    uint32_t duration_ms;        /* 0 when not a video or audio */
    const char *name;
    size_t name_len;
    const char *type;
    size_t type_len;
    const uint8_t *thumbnail;
    size_t thumbnail_len;
} sotto_attachment_pointer;

/* What a message is. Decoded bodies point into the decoded buffer (borrowed). */
typedef struct sotto_payload {
    uint8_t client_message_id[SOTTO_UUIDBYTES];
    uint8_t conversation_id[SOTTO_UUIDBYTES];
    uint8_t content_type;
    uint64_t sent_at_ms;
    const uint8_t *body;
    size_t body_len;
    int has_reply_to;
    uint8_t reply_to[SOTTO_UUIDBYTES];
    int has_edit_of;
    uint8_t edit_of[SOTTO_UUIDBYTES];
    int has_call; /* exactly when content_type is SOTTO_CONTENT_CALL */
    sotto_call_binding call;
    /* Files (tag 17): only on text, sync and resend; a text with files may have an empty body
     * (no caption). */
    size_t n_attachments;
    sotto_attachment_pointer attachments[SOTTO_ATTACHMENTS_MAX];
} sotto_payload;

SOTTO_EXPORT size_t sotto_payload_encoded_size(const sotto_payload *p);
SOTTO_EXPORT int sotto_payload_encode(const sotto_payload *p, uint8_t *out, size_t cap,
                                      size_t *len) SOTTO_WUR;
SOTTO_EXPORT int sotto_payload_decode(sotto_payload *p, const uint8_t *in, size_t len) SOTTO_WUR;
/* 1 when two bindings name the same call, caller and callee device and call type; else 0.
 * The signal kind is not compared: the receiver checks it against the event it came in. */
SOTTO_EXPORT int sotto_call_binding_same_call(const sotto_call_binding *a,
                                              const sotto_call_binding *b);

/* ---------------------------------------------------------------- safety numbers */

#define SOTTO_SAFETY_HALF_DIGITS 30u
#define SOTTO_SAFETY_DIGITS 60u
#define SOTTO_SAFETY_QRBYTES 97u
#define SOTTO_SAFETY_MAX_DEVICES 64u
/* user_id: a canonical UUID string (36 characters, any case). signing_keys: n * 32 bytes,
 * the user's active devices in any order. out gets 60 digits and a NUL. */
SOTTO_EXPORT int sotto_safety_number(char out[SOTTO_SAFETY_DIGITS + 1], const char *user_a,
                                     const uint8_t *keys_a, size_t n_a, const char *user_b,
                                     const uint8_t *keys_b, size_t n_b) SOTTO_WUR;
SOTTO_EXPORT int sotto_safety_qr(uint8_t out[SOTTO_SAFETY_QRBYTES], const char *user_a,
                                 const uint8_t *keys_a, size_t n_a, const char *user_b,
                                 const uint8_t *keys_b, size_t n_b) SOTTO_WUR;
/* 0 when a scanned QR payload equals ours (constant time). */
SOTTO_EXPORT int sotto_safety_qr_verify(const uint8_t ours[SOTTO_SAFETY_QRBYTES],
                                        const uint8_t *scanned, size_t scanned_len) SOTTO_WUR;

/* ---------------------------------------------------------------- account key, device list */

/* An account's Ed25519 key (issue 23; docs/protocol.md, "Account key and device list"): made
 * on the account's first device, held only by its devices (the 32-byte seed is the secret:
 * seal it like the account), it signs the list of the account's devices. Clients encrypt only
 * to a device in a valid list, and safety numbers cover the account key instead of every
 * device's key. */
#define SOTTO_ACCOUNT_SEEDBYTES 32u
#define SOTTO_DEVICE_LIST_MAX SOTTO_SAFETY_MAX_DEVICES
#define SOTTO_DEVICE_LIST_VERSION 1u

typedef struct sotto_listed_device {
    uint8_t device_id[SOTTO_UUIDBYTES];
    uint8_t signing_key[SOTTO_KEYBYTES];
} sotto_listed_device;

typedef struct sotto_device_list {
    uint8_t user_id[SOTTO_UUIDBYTES];
    uint8_t account_key[SOTTO_KEYBYTES]; /* the Ed25519 public key that signs the list */
    uint64_t version;                    /* only grows: 1 for the first list */
    uint64_t issued_at_ms;
    size_t n; /* 1..SOTTO_DEVICE_LIST_MAX */
    sotto_listed_device devices[SOTTO_DEVICE_LIST_MAX];
} sotto_device_list;

/* A fresh account key: its seed (secret) and public key. */
SOTTO_EXPORT int sotto_account_key_create(uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES],
                                          uint8_t public_key[SOTTO_KEYBYTES]) SOTTO_WUR;
SOTTO_EXPORT int sotto_account_key_public(const uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES],
                                          uint8_t public_key[SOTTO_KEYBYTES]) SOTTO_WUR;
/* Bytes of a signed list of n devices (0 if n is out of range). */
SOTTO_EXPORT size_t sotto_device_list_signed_size(size_t n);
/* Sorts l->devices by id and signs the list with the seed, whose public key must be
 * l->account_key. Refused (SOTTO_E_INVALID): no device, too many, one id twice, version 0. */
SOTTO_EXPORT int sotto_device_list_sign(sotto_device_list *l,
                                        const uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES], uint8_t *out,
                                        size_t cap, size_t *len) SOTTO_WUR;
/* Decodes a signed list and checks its signature under the account key it names. With
 * pinned (the account key this client already holds for the user), that key must be the
 * list's: SOTTO_E_UNTRUSTED otherwise. SOTTO_E_AUTH for a bad signature. */
SOTTO_EXPORT int sotto_device_list_open(sotto_device_list *l, const uint8_t *in, size_t len,
                                        const uint8_t pinned[SOTTO_KEYBYTES]) SOTTO_WUR;
/* Whether next may replace seen (both opened): 0 when it is the same user and account key
 * with a greater version, or the same version with the same devices (a repeat);
 * SOTTO_E_UNTRUSTED for another user or account key; SOTTO_E_REPLAY for an older version, or
 * the same version with other devices (a rollback or a fork). */
SOTTO_EXPORT int sotto_device_list_update_ok(const sotto_device_list *seen,
                                             const sotto_device_list *next) SOTTO_WUR;
/* 1 when the list names device_id with exactly this signing key, else 0. */
SOTTO_EXPORT int sotto_device_list_has(const sotto_device_list *l,
                                       const uint8_t device_id[SOTTO_UUIDBYTES],
                                       const uint8_t signing_key[SOTTO_KEYBYTES]);
/* Safety numbers over the two users' account keys (version 2 of the halves): the number
 * stays the same when either adds or removes a device, and changes with an account key. */
SOTTO_EXPORT int
sotto_safety_number_accounts(char out[SOTTO_SAFETY_DIGITS + 1], const char *user_a,
                             const uint8_t account_key_a[SOTTO_KEYBYTES], const char *user_b,
                             const uint8_t account_key_b[SOTTO_KEYBYTES]) SOTTO_WUR;

/* ---------------------------------------------------------------- attachments */

#define SOTTO_ATTACHMENT_KEYBYTES 32u
#define SOTTO_ATTACHMENT_DIGESTBYTES 32u
#define SOTTO_ATTACHMENT_HEADERBYTES 24u
#define SOTTO_ATTACHMENT_CHUNK 65536u
#define SOTTO_ATTACHMENT_CHUNK_OVERHEAD 17u

/* Streaming state for one file, constant memory (one chunk buffer). */
typedef struct sotto_attachment sotto_attachment;

/* Ciphertext size of a plaintext of `len` bytes (header + chunks; an empty file is one
 * final chunk). */
SOTTO_EXPORT uint64_t sotto_attachment_ciphertext_size(uint64_t len);
/* Bytes a file of `len` bytes is padded to before it is encrypted (zeros after the file), so
 * the server learns only a size bucket: the smallest of 541, then each step 1/20 more, that
 * holds `len`, capped at SOTTO_ATTACHMENT_PADDED_MAX. 0 when len > SOTTO_ATTACHMENT_FILE_MAX. */
#define SOTTO_ATTACHMENT_PADDED_MAX 105840640u
SOTTO_EXPORT uint64_t sotto_attachment_padded_size(uint64_t len);
/* Fresh key; writes it and the stream header (the first ciphertext bytes). */
SOTTO_EXPORT int
sotto_attachment_encrypt_create(sotto_attachment **st, uint8_t key[SOTTO_ATTACHMENT_KEYBYTES],
                                uint8_t header[SOTTO_ATTACHMENT_HEADERBYTES]) SOTTO_WUR;
/* One chunk: exactly SOTTO_ATTACHMENT_CHUNK bytes, or fewer with last = 1 (the final
 * chunk). out gets in_len + SOTTO_ATTACHMENT_CHUNK_OVERHEAD bytes. */
SOTTO_EXPORT int sotto_attachment_encrypt_chunk(sotto_attachment *st, const uint8_t *in,
                                                size_t in_len, int last, uint8_t *out) SOTTO_WUR;
/* After the last chunk: the BLAKE2b-256 digest of the whole ciphertext. */
SOTTO_EXPORT int
sotto_attachment_encrypt_final(sotto_attachment *st,
                               uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES]) SOTTO_WUR;
/* Decryption takes what the message carried: key, digest and plaintext size. */
SOTTO_EXPORT int sotto_attachment_decrypt_create(sotto_attachment **st,
                                                 const uint8_t key[SOTTO_ATTACHMENT_KEYBYTES],
                                                 const uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES],
                                                 uint64_t plaintext_size) SOTTO_WUR;
/* Feed ciphertext in pieces of any size; complete chunks are decrypted into out, which
 * must hold in_len + SOTTO_ATTACHMENT_CHUNK bytes. Bytes past the final chunk or the
 * declared size fail at once. Output is provisional until _final returns 0: write it
 * somewhere temporary and release it only then. */
SOTTO_EXPORT int sotto_attachment_decrypt_update(sotto_attachment *st, const uint8_t *in,
                                                 size_t in_len, uint8_t *out,
                                                 size_t *out_len) SOTTO_WUR;
/* 0 only if the final-tagged chunk ended the stream and the size and digest match. */
SOTTO_EXPORT int sotto_attachment_decrypt_final(sotto_attachment *st) SOTTO_WUR;
/* Wipes and frees either kind of state (NULL is fine). */
SOTTO_EXPORT void sotto_attachment_free(sotto_attachment *st);

/* ---------------------------------------------------------------- test-only hooks */
#ifdef SOTTO_TEST_RNG
/* Present only in builds with -DSOTTO_TEST_RNG=ON (a test proves release builds lack
 * them). Process-wide by necessity: they stand in for the system RNG. */
SOTTO_EXPORT void sotto_test_rng_seed(const uint8_t seed[32]); /* NULL: system RNG again */
typedef void (*sotto_test_key_observer)(void *ctx, int kind, const uint8_t key[32]);
enum {
    SOTTO_TEST_KEY_ROOT_RETIRED = 1,
    SOTTO_TEST_KEY_CHAIN_RETIRED = 2,
    SOTTO_TEST_KEY_MESSAGE = 3
};
SOTTO_EXPORT void sotto_test_set_key_observer(sotto_test_key_observer fn, void *ctx);
#endif

#ifdef __cplusplus
}
#endif
#endif
