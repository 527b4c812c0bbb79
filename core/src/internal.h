/*
 * internal.h: libsotto's private types and the functions its files share.
 * Nothing here is part of the public API or ABI.
 */
#ifndef SOTTO_INTERNAL_H
#define SOTTO_INTERNAL_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto.h"

#define KEY SOTTO_KEYBYTES
#define AD_BYTES (1u + 4u * KEY)         /* 0x01 || IK_I || SK_I || IK_R || SK_R */
#define MSG_HEADER_BYTES (2u + KEY + 8u) /* version || type || DH || PN || N */
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PREKEY_FIELDS (3u * KEY + SOTTO_SIGBYTES + 4u + 1u + 4u) /* IK SK sig EK spk opk */
#define SPK_SLOTS 8u
#define REPLAY_CACHE_MAX SOTTO_REPLAY_CACHE_MAX

/* ------------------------------------------------------------ byte buffers (wire.c) */

/* A bounded writer and reader: the first overflow sets err and later calls do nothing,
 * so callers check once at the end. */
typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int err;
} wbuf;
typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
    int err;
} rbuf;

void wb_u8(wbuf *w, uint8_t v);
void wb_u32(wbuf *w, uint32_t v);
void wb_u64(wbuf *w, uint64_t v);
void wb_bytes(wbuf *w, const uint8_t *b, size_t n);
uint8_t rb_u8(rbuf *r);
uint32_t rb_u32(rbuf *r);
uint64_t rb_u64(rbuf *r);
void rb_bytes(rbuf *r, uint8_t *b, size_t n);
const uint8_t *rb_view(rbuf *r, size_t n);
void store_u32(uint8_t *p, uint32_t v);
uint32_t load_u32(const uint8_t *p);
void store_u64(uint8_t *p, uint64_t v);

/* ------------------------------------------------------------ attachment pointers (pointer.c) */

/* Bytes of payload tag 17 for n files; 0 when n or any file is out of bounds. */
size_t pointers_len(const sotto_attachment_pointer *a, size_t n);
/* Writes tag 17's value; only after pointers_len said the files are valid. */
void pointers_write(wbuf *w, const sotto_attachment_pointer *a, size_t n);
/* Reads tag 17's value into p->attachments and p->n_attachments. */
int pointers_read(sotto_payload *p, const uint8_t *v, uint32_t n);

/* ------------------------------------------------------------ per-peer memory (memory.c) */

/* Heap memory for records, sessions and skipped keys: zeroed like calloc(n, size), NULL
 * on failure. Not guarded, locked or kept out of core dumps (only sotto_account is, in
 * sodium_malloc memory): docs/protocol.md, "Memory". */
void *secret_alloc(size_t n, size_t size);
/* Wipes the n * size bytes secret_alloc(n, size) returned, then frees them; NULL is fine. */
void secret_free(void *p, size_t n, size_t size);

/* ------------------------------------------------------------ randomness and hooks (rng.c) */

void rng_buf(void *buf, size_t n);
#ifdef SOTTO_TEST_RNG
void test_observe(int kind, const uint8_t key[32]);
#define TEST_OBSERVE(kind, key) test_observe(SOTTO_TEST_KEY_##kind, key)
#else
#define TEST_OBSERVE(kind, key) ((void)0) /* release builds: no hook at all */
#endif

/* ------------------------------------------------------------ KDFs (hkdf.c) */

int hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len);
/* Double Ratchet KDF_RK: (rk, dh) -> (rk', ck). rk is updated in place. */
int kdf_rk(uint8_t rk[KEY], uint8_t ck[KEY], const uint8_t dh[KEY]);
/* KDF_CK: ck -> (ck', mk). ck is updated in place. */
void kdf_ck(uint8_t ck[KEY], uint8_t mk[KEY]);

/* ------------------------------------------------------------ keys (keys.c, bundle.c) */

typedef struct spk_slot {
    uint32_t id;
    uint8_t pk[KEY], sk[KEY], sig[SOTTO_SIGBYTES];
    uint64_t created, replaced; /* replaced == 0: current */
} spk_slot;

typedef struct opk_slot {
    uint32_t id;
    uint8_t pk[KEY], sk[KEY];
    uint64_t claimed; /* when the server was first seen without it; 0: it holds it */
} opk_slot;
typedef struct replay_entry {
    uint32_t spk_id;
    uint8_t ek_hash[16];
} replay_entry;

struct sotto_account {
    uint8_t ik_pk[KEY], ik_sk[KEY];
    uint8_t sign_pk[KEY], sign_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t id_sig[SOTTO_SIGBYTES];
    uint32_t next_spk_id, next_opk_id;
    uint32_t n_spk; /* spk[0] is current */
    spk_slot spk[SPK_SLOTS];
    uint32_t n_opk;
    opk_slot opk[SOTTO_ONE_TIME_KEYS_MAX];
    uint32_t n_replay; /* oldest first; never evicted while their SPK exists */
    replay_entry replay[REPLAY_CACHE_MAX];
};

void x25519_keypair(uint8_t pk[KEY], uint8_t sk[KEY]);
int x25519_is_low_order(const uint8_t pk[KEY]);
int x25519(uint8_t out[KEY], const uint8_t sk[KEY], const uint8_t pk[KEY]);
void sign_identity(uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY], const uint8_t *sign_sk);
int verify_identity(const uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY],
                    const uint8_t sign_pk[KEY]);
int spk_verify(const uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY], uint32_t id,
               const uint8_t pk[KEY], const uint8_t sign_pk[KEY]);
sotto_account *account_alloc(void);
spk_slot *account_find_spk(sotto_account *a, uint32_t id);
int account_find_opk(const sotto_account *a, uint32_t id);
void account_remove_opk(sotto_account *a, int index);
int account_replay_seen(const sotto_account *a, uint32_t spk_id, const uint8_t ek[KEY]);
/* Room for one more replay entry for spk_id: 0 (there is room), or 1 with *wipe set to
 * the index of the replaced signed pre-key whose wiping (with its entries) makes room, or
 * SOTTO_E_BOUNDS. Changes nothing; account_replay_add(a, spk_id, ek, wipe) commits. */
int account_replay_room(const sotto_account *a, uint32_t spk_id, uint32_t *wipe);
void account_replay_add(sotto_account *a, uint32_t spk_id, const uint8_t ek[KEY], int room,
                        uint32_t wipe);
uint32_t account_replay_count(const sotto_account *a, uint32_t spk_id);

/* ------------------------------------------------------------ ratchet (ratchet.c) */

typedef struct recv_chain {
    uint8_t dh[KEY], ck[KEY];
    uint32_t n;
} recv_chain;
typedef struct skipped_key {
    uint8_t dh[KEY];
    uint32_t n;
    uint64_t created;
    uint8_t mk[KEY];
} skipped_key;

/* The fixed-size part of a session: decryption works on a copy of it. */
typedef struct ratchet_core {
    uint8_t ad[AD_BYTES];
    uint8_t rk[KEY];
    uint8_t dhs_pk[KEY], dhs_sk[KEY];
    uint8_t cks[KEY];
    uint32_t ns, pn;
    uint8_t has_cks;
    uint8_t n_recv; /* recv[0] is the newest */
    recv_chain recv[SOTTO_RECEIVING_CHAINS];
    uint8_t base_key[KEY]; /* the initiator's ephemeral key: routes pre-key repeats */
    uint8_t pending;       /* initiator, no reply yet: keep sending pre-key messages */
    uint32_t pending_spk_id;
    uint8_t pending_has_opk;
    uint32_t pending_opk_id;
    uint8_t pending_sig[SOTTO_SIGBYTES];
    uint64_t pending_since; /* when the session was initiated; 0: not known yet */
} ratchet_core;

typedef struct session {
    ratchet_core c;
    uint32_t n_skipped, cap_skipped;
    skipped_key *skipped; /* secret_alloc(cap_skipped), oldest first */
} session;

/* What a parsed envelope says; pointers point into the envelope. */
typedef struct envelope {
    unsigned type;
    const uint8_t *ik, *sk, *sig, *ek; /* pre-key fields (NULL for messages) */
    uint32_t spk_id, opk_id;
    uint8_t has_opk;
    const uint8_t *dh;
    uint32_t pn, n;
    const uint8_t *header;
    size_t header_len; /* every byte before the nonce */
    const uint8_t *nonce;
    const uint8_t *ct;
    size_t ct_len; /* ciphertext with tag */
} envelope;

int envelope_parse(envelope *e, const uint8_t *in, size_t len);
/* Removes ISO/IEC 7816-4 padding from a whole number of pad blocks, in constant time. */
int unpad(size_t *len, const uint8_t *buf, size_t padded);

session *session_alloc(void);
void session_free(session *s);
void ratchet_init_initiator(ratchet_core *c, const uint8_t sk[KEY], const uint8_t peer_spk[KEY]);
void ratchet_init_responder(ratchet_core *c, const uint8_t sk[KEY], const uint8_t spk_pk[KEY],
                            const uint8_t spk_sk[KEY]);
int ratchet_encrypt(session *s, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t cap,
                    size_t *out_len, unsigned *type);
int ratchet_decrypt(session *s, const envelope *e, uint64_t now, uint8_t *out, size_t cap,
                    size_t *out_len);

/* ------------------------------------------------------------ X3DH (x3dh.c) */

void x3dh_ad(uint8_t ad[AD_BYTES], const uint8_t ik_i[KEY], const uint8_t sk_i[KEY],
             const uint8_t ik_r[KEY], const uint8_t sk_r[KEY]);
int x3dh_initiator(uint8_t sk[KEY], const sotto_account *a, const uint8_t ek_sk[KEY],
                   const sotto_bundle *peer);
int x3dh_responder(uint8_t sk[KEY], const sotto_account *a, const uint8_t spk_sk[KEY],
                   const uint8_t *opk_sk, const uint8_t ik_i[KEY], const uint8_t ek[KEY]);

/* ------------------------------------------------------------ records (session.c) */

struct sotto_record {
    uint8_t pinned;
    uint8_t peer_ik[KEY], peer_sk[KEY];
    uint32_t n; /* s[0] current, s[1..] archived */
    session *s[SOTTO_ARCHIVED_SESSIONS + 1];
};

sotto_record *record_alloc(void);
void record_push(sotto_record *r, session *s);

#endif
