/*
 * keys.c: this device's keys (sotto_account): identity and signing keys, signed
 * pre-key rotation and retention, one-time pre-keys, the X3DH replay cache, and the
 * X25519/Ed25519 helpers everything else uses.
 */
#include <string.h>

#include "internal.h"

static const uint8_t label_identity[] = "Sotto-v1-identity";
static const uint8_t label_spk[] = "Sotto-v1-spk";
static const uint8_t label_login[] = "Sotto-v1-login";

void x25519_keypair(uint8_t pk[KEY], uint8_t sk[KEY])
{
    rng_buf(sk, KEY);
    crypto_scalarmult_base(pk, sk);
}

/* The X25519 points of order 1, 2, 4 and 8 and their non-canonical encodings, top bit
 * ignored (RFC 7748 says to ignore it). A peer offering one would force a known shared
 * secret. Constant time over the list. */
int x25519_is_low_order(const uint8_t pk[KEY])
{
    static const uint8_t bad[7][KEY] = {
        {0},
        {1},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
        {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
         0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
         0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    };
    unsigned hit = 0;
    for (size_t i = 0; i < 7; i++) {
        unsigned diff = (unsigned)((pk[KEY - 1] & 0x7f) ^ bad[i][KEY - 1]);
        for (size_t j = 0; j < KEY - 1; j++)
            diff |= (unsigned)(pk[j] ^ bad[i][j]);
        hit |= ((diff - 1) >> 8) & 1; /* 1 iff diff == 0 */
    }
    return (int)hit;
}

int x25519(uint8_t out[KEY], const uint8_t sk[KEY], const uint8_t pk[KEY])
{
    if (x25519_is_low_order(pk) || crypto_scalarmult(out, sk, pk) != 0)
        return SOTTO_E_AUTH;
    return 0;
}

void sign_identity(uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY], const uint8_t *sign_sk)
{
    uint8_t msg[sizeof label_identity - 1 + KEY];
    memcpy(msg, label_identity, sizeof label_identity - 1);
    memcpy(msg + sizeof label_identity - 1, ik, KEY);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sign_sk);
}

int verify_identity(const uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY],
                    const uint8_t sign_pk[KEY])
{
    uint8_t msg[sizeof label_identity - 1 + KEY];
    memcpy(msg, label_identity, sizeof label_identity - 1);
    memcpy(msg + sizeof label_identity - 1, ik, KEY);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, sign_pk) == 0 ? 0 : SOTTO_E_AUTH;
}

/* 'Sotto-v1-spk' || identityKey || keyId (u32 BE) || publicKey */
static void spk_message(uint8_t *msg, const uint8_t ik[KEY], uint32_t id, const uint8_t pk[KEY])
{
    memcpy(msg, label_spk, sizeof label_spk - 1);
    memcpy(msg + sizeof label_spk - 1, ik, KEY);
    store_u32(msg + sizeof label_spk - 1 + KEY, id);
    memcpy(msg + sizeof label_spk - 1 + KEY + 4, pk, KEY);
}

int spk_verify(const uint8_t sig[SOTTO_SIGBYTES], const uint8_t ik[KEY], uint32_t id,
               const uint8_t pk[KEY], const uint8_t sign_pk[KEY])
{
    uint8_t msg[sizeof label_spk - 1 + KEY + 4 + KEY];
    spk_message(msg, ik, id, pk);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, sign_pk) == 0 ? 0 : SOTTO_E_AUTH;
}

/* The long-term private keys: the one object in guarded, locked memory (memory.c says
 * why per-peer state is not). There is one per device, allocated once per run. */
sotto_account *account_alloc(void)
{
    sotto_account *a = sodium_malloc(sizeof *a);
    if (a)
        memset(a, 0, sizeof *a);
    return a;
}

void sotto_account_free(sotto_account *a)
{
    if (a)
        sodium_free(a); /* sodium_free wipes before unmapping */
}

static void spk_generate(sotto_account *a, spk_slot *s, uint64_t now)
{
    uint8_t msg[sizeof label_spk - 1 + KEY + 4 + KEY];
    memset(s, 0, sizeof *s);
    s->id = a->next_spk_id++;
    x25519_keypair(s->pk, s->sk);
    spk_message(msg, a->ik_pk, s->id, s->pk);
    crypto_sign_detached(s->sig, NULL, msg, sizeof msg, a->sign_sk);
    s->created = now;
}

int sotto_account_create(sotto_account **out, uint64_t now)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    sotto_account *a;

    *out = NULL;
    if ((a = account_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    x25519_keypair(a->ik_pk, a->ik_sk);
    rng_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(a->sign_pk, a->sign_sk, seed);
    sodium_memzero(seed, sizeof seed);
    sign_identity(a->id_sig, a->ik_pk, a->sign_sk);
    a->next_spk_id = 1;
    a->next_opk_id = 1;
    spk_generate(a, &a->spk[0], now);
    a->n_spk = 1;
    *out = a;
    return 0;
}

void sotto_account_bundle(const sotto_account *a, sotto_bundle *b)
{
    memset(b, 0, sizeof *b);
    memcpy(b->identity_key, a->ik_pk, KEY);
    memcpy(b->signing_key, a->sign_pk, KEY);
    memcpy(b->identity_signature, a->id_sig, SOTTO_SIGBYTES);
    b->signed_pre_key_id = a->spk[0].id;
    memcpy(b->signed_pre_key, a->spk[0].pk, KEY);
    memcpy(b->signed_pre_key_signature, a->spk[0].sig, SOTTO_SIGBYTES);
}

/* The one-time key to give up for a new one: the earliest claimed (the server handed it out
 * longest ago), else the oldest (lowest id; ids only grow). Never fails on a non-empty store. */
static uint32_t opk_victim(const sotto_account *a)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < a->n_opk; i++) {
        const opk_slot *x = &a->opk[i], *b = &a->opk[best];
        if (x->claimed &&
            (!b->claimed || x->claimed < b->claimed || (x->claimed == b->claimed && x->id < b->id)))
            best = i;
        else if (!x->claimed && !b->claimed && x->id < b->id)
            best = i;
    }
    return best;
}

int sotto_account_generate_one_time_keys(sotto_account *a, uint32_t count, sotto_prekey *out)
{
    if (count > SOTTO_ONE_TIME_KEYS_MAX)
        return SOTTO_E_BOUNDS;
    if (count > UINT32_MAX - a->next_opk_id)
        return SOTTO_E_BOUNDS; /* ids are never reused */
    /* Make room first: replenishment must never fail for good at the cap. */
    while (a->n_opk > SOTTO_ONE_TIME_KEYS_MAX - count)
        account_remove_opk(a, (int)opk_victim(a));
    for (uint32_t i = 0; i < count; i++) {
        opk_slot *s = &a->opk[a->n_opk++];
        s->id = a->next_opk_id++;
        s->claimed = 0;
        x25519_keypair(s->pk, s->sk);
        out[i].key_id = s->id;
        memcpy(out[i].public_key, s->pk, KEY);
    }
    return 0;
}

uint32_t sotto_account_one_time_key_count(const sotto_account *a) { return a->n_opk; }

static void opk_expire(sotto_account *a, uint64_t now)
{
    for (uint32_t i = a->n_opk; i-- > 0;)
        if (a->opk[i].claimed && now >= a->opk[i].claimed &&
            now - a->opk[i].claimed >= SOTTO_ONE_TIME_KEY_GRACE)
            account_remove_opk(a, (int)i);
}

int sotto_account_sync_one_time_keys(sotto_account *a, const uint32_t *ids, size_t n, uint64_t now)
{
    if (n && ids == NULL)
        return SOTTO_E_INVALID;
    for (uint32_t i = 0; i < a->n_opk; i++) {
        int held = 0;
        for (size_t j = 0; j < n && !held; j++)
            held = ids[j] == a->opk[i].id;
        if (held)
            a->opk[i].claimed = 0;
        else if (!a->opk[i].claimed)
            a->opk[i].claimed = now ? now : 1;
    }
    opk_expire(a, now);
    return 0;
}

int sotto_account_signed_pre_key_due(const sotto_account *a, uint64_t now)
{
    if (account_replay_count(a, a->spk[0].id) >= REPLAY_CACHE_MAX / 2)
        return 1; /* flooded: a new key gets room in the replay cache */
    return now >= a->spk[0].created && now - a->spk[0].created >= SOTTO_SPK_ROTATION;
}

/* Drops replay-cache entries of a signed pre-key being wiped: its pair can never be
 * accepted again anyway, because the key is gone. Entries stay oldest first. */
static void replay_forget(sotto_account *a, uint32_t spk_id)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < a->n_replay; i++)
        if (a->replay[i].spk_id != spk_id)
            a->replay[kept++] = a->replay[i];
    sodium_memzero(a->replay + kept, (a->n_replay - kept) * sizeof a->replay[0]);
    a->n_replay = kept;
}

static void spk_wipe(sotto_account *a, uint32_t index)
{
    replay_forget(a, a->spk[index].id);
    memmove(&a->spk[index], &a->spk[index + 1], (a->n_spk - index - 1) * sizeof a->spk[0]);
    a->n_spk--;
    sodium_memzero(&a->spk[a->n_spk], sizeof a->spk[0]);
}

int sotto_account_rotate_signed_pre_key(sotto_account *a, uint64_t now)
{
    if (a->next_spk_id == UINT32_MAX)
        return SOTTO_E_BOUNDS;
    if (a->n_spk == SPK_SLOTS) /* more rotations than retention allows: drop the oldest */
        spk_wipe(a, SPK_SLOTS - 1);
    memmove(&a->spk[1], &a->spk[0], a->n_spk * sizeof a->spk[0]);
    a->spk[1].replaced = now ? now : 1;
    a->n_spk++;
    spk_generate(a, &a->spk[0], now);
    return 0;
}

void sotto_account_prune(sotto_account *a, uint64_t now)
{
    for (uint32_t i = a->n_spk; i-- > 1;)
        if (now >= a->spk[i].replaced && now - a->spk[i].replaced >= SOTTO_SPK_RETENTION)
            spk_wipe(a, i);
    opk_expire(a, now);
}

int sotto_account_maintain(sotto_account *a, uint64_t now, int *rotated)
{
    int rc = 0, due = sotto_account_signed_pre_key_due(a, now);
    if (due)
        rc = sotto_account_rotate_signed_pre_key(a, now);
    if (rotated)
        *rotated = due && rc == 0;
    sotto_account_prune(a, now);
    return rc;
}

spk_slot *account_find_spk(sotto_account *a, uint32_t id)
{
    for (uint32_t i = 0; i < a->n_spk; i++)
        if (a->spk[i].id == id)
            return &a->spk[i];
    return NULL;
}

int account_find_opk(const sotto_account *a, uint32_t id)
{
    for (uint32_t i = 0; i < a->n_opk; i++)
        if (a->opk[i].id == id)
            return (int)i;
    return -1;
}

void account_remove_opk(sotto_account *a, int index)
{
    memmove(&a->opk[index], &a->opk[index + 1],
            (a->n_opk - (uint32_t)index - 1) * sizeof a->opk[0]);
    a->n_opk--;
    sodium_memzero(&a->opk[a->n_opk], sizeof a->opk[0]);
}

/* The cache holds a 16-byte hash of each accepted ephemeral key with its signed pre-key.
 * Ephemeral keys travel in clear, so the scan compares with plain memcmp: it runs over up
 * to 16,384 entries on every pre-key message, where sodium_memcmp's cost showed. */
static void ek_hash(uint8_t h[16], const uint8_t ek[KEY])
{
    crypto_generichash(h, 16, ek, KEY, NULL, 0);
}

int account_replay_seen(const sotto_account *a, uint32_t spk_id, const uint8_t ek[KEY])
{
    uint8_t h[16];
    ek_hash(h, ek);
    for (uint32_t i = 0; i < a->n_replay; i++)
        if (a->replay[i].spk_id == spk_id && memcmp(a->replay[i].ek_hash, h, 16) == 0)
            return 1;
    return 0;
}

uint32_t account_replay_count(const sotto_account *a, uint32_t spk_id)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->n_replay; i++)
        n += a->replay[i].spk_id == spk_id;
    return n;
}

/* Replay protection must not weaken with time or flooding, so an entry is never forgotten
 * while its signed pre-key can still accept: room comes only from wiping a whole replaced
 * signed pre-key (the oldest holding entries, never the one in use), after which its pairs
 * fail for want of the key. If only the key in use holds entries, refuse: the caller
 * rotates (signed_pre_key_due says so) and the flood moves to a key that can be wiped. */
int account_replay_room(const sotto_account *a, uint32_t spk_id, uint32_t *wipe)
{
    if (a->n_replay < REPLAY_CACHE_MAX)
        return 0;
    for (uint32_t i = a->n_spk; i-- > 1;)
        if (a->spk[i].id != spk_id && account_replay_count(a, a->spk[i].id) > 0) {
            *wipe = i;
            return 1;
        }
    return SOTTO_E_BOUNDS;
}

void account_replay_add(sotto_account *a, uint32_t spk_id, const uint8_t ek[KEY], int room,
                        uint32_t wipe)
{
    if (room == 1)
        spk_wipe(a, wipe);
    a->replay[a->n_replay].spk_id = spk_id;
    ek_hash(a->replay[a->n_replay].ek_hash, ek);
    a->n_replay++;
}

int sotto_account_login_proof(const sotto_account *a, const char *email, uint64_t unix_seconds,
                              uint8_t sig[SOTTO_SIGBYTES])
{
    uint8_t msg[sizeof label_login - 1 + 320 + 8];
    size_t elen = strlen(email), n = sizeof label_login - 1;

    if (elen == 0 || elen > 320)
        return SOTTO_E_INVALID;
    memcpy(msg, label_login, n);
    memcpy(msg + n, email, elen);
    n += elen;
    store_u64(msg + n, unix_seconds);
    n += 8;
    crypto_sign_detached(sig, NULL, msg, n, a->sign_sk);
    return 0;
}
