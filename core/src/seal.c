/*
 * seal.c: at-rest encryption of saved state. version (1) || nonce (24) ||
 * XChaCha20-Poly1305(key, nonce, ad = "Sotto-v1-seal" || slot, state). The slot names
 * where the blob lives ("account", or the peer's user and device ids), so a stored blob
 * cannot be moved into another slot (for instance to roll one peer's ratchet back with
 * another's) without failing to open. sotto_passphrase_key makes such a key from a passphrase
 * (Argon2id), for state behind something a person types.
 */
#include <string.h>

#include "internal.h"

#define SEAL_VERSION 1u
static const uint8_t seal_label[] = "Sotto-v1-seal";

size_t sotto_seal_keybytes(void) { return SOTTO_SEAL_KEYBYTES; }
size_t sotto_seal_overhead(void) { return SOTTO_SEAL_OVERHEAD; }

void sotto_seal_keygen(uint8_t key[SOTTO_SEAL_KEYBYTES]) { rng_buf(key, SOTTO_SEAL_KEYBYTES); }

/* The AEAD's associated data, streamed through a hash so slots of any length fit. */
static void seal_ad(uint8_t ad[32], const uint8_t *slot, size_t slot_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, seal_label, sizeof seal_label - 1);
    crypto_generichash_update(&st, slot, slot_len);
    crypto_generichash_final(&st, ad, 32);
}

int sotto_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *slot, size_t slot_len,
               const uint8_t key[SOTTO_SEAL_KEYBYTES])
{
    uint8_t ad[32];
    if (len > SIZE_MAX - SOTTO_SEAL_OVERHEAD || (slot == NULL && slot_len))
        return SOTTO_E_INVALID;
    seal_ad(ad, slot, slot_len);
    out[0] = SEAL_VERSION;
    rng_buf(out + 1, NONCE_BYTES);
    memmove(out + 1 + NONCE_BYTES, in, len);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE_BYTES, NULL, out + 1 + NONCE_BYTES,
                                               len, ad, sizeof ad, NULL, out + 1, key);
    return 0;
}

int sotto_seal_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t *slot,
                    size_t slot_len, const uint8_t key[SOTTO_SEAL_KEYBYTES])
{
    uint8_t ad[32];
    if (len < SOTTO_SEAL_OVERHEAD || (slot == NULL && slot_len))
        return SOTTO_E_INVALID;
    if (in[0] != SEAL_VERSION)
        return SOTTO_E_VERSION;
    seal_ad(ad, slot, slot_len);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + 1 + NONCE_BYTES,
                                                   len - 1 - NONCE_BYTES, ad, sizeof ad, in + 1,
                                                   key) != 0)
        return SOTTO_E_AUTH;
    return 0;
}

size_t sotto_passphrase_saltbytes(void) { return SOTTO_PASSPHRASE_SALTBYTES; }
uint32_t sotto_passphrase_opslimit(void) { return SOTTO_PASSPHRASE_OPSLIMIT; }
uint32_t sotto_passphrase_memlimit_kib(void) { return SOTTO_PASSPHRASE_MEMLIMIT_KIB; }

int sotto_passphrase_key(uint8_t key[SOTTO_SEAL_KEYBYTES], const char *passphrase,
                         size_t passphrase_len, const uint8_t salt[SOTTO_PASSPHRASE_SALTBYTES],
                         uint32_t opslimit, uint32_t memlimit_kib)
{
    if ((passphrase == NULL && passphrase_len) || opslimit < SOTTO_PASSPHRASE_OPSLIMIT_MIN ||
        opslimit > SOTTO_PASSPHRASE_OPSLIMIT_MAX ||
        memlimit_kib < SOTTO_PASSPHRASE_MEMLIMIT_KIB_MIN ||
        memlimit_kib > SOTTO_PASSPHRASE_MEMLIMIT_KIB_MAX ||
        passphrase_len > crypto_pwhash_PASSWD_MAX)
        return SOTTO_E_INVALID;
    /* crypto_pwhash fails only for bounds checked above, or when it cannot allocate. */
    if (crypto_pwhash(key, SOTTO_SEAL_KEYBYTES, passphrase != NULL ? passphrase : "",
                      passphrase_len, salt, opslimit, (size_t)memlimit_kib * 1024u,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, SOTTO_SEAL_KEYBYTES);
        return SOTTO_E_NOMEM;
    }
    return 0;
}
