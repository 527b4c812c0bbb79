/*
 * bench_core.c: libsotto throughput on one core (a benchmark, not a test). One
 * "name value unit" line per figure; bench/core/run.sh runs it beside the WebAssembly
 * runner (bench_wasm.mjs, the same figures the same way) and writes the medians.
 *
 *   ratchet_chain_pairs     encrypt + decrypt of a 200-byte message, one chain, in order
 *   ratchet_dh_step_pairs   the same in strict ping-pong: a DH ratchet step every message
 *   x3dh_initiator_setups   sotto_record_initiate on a fresh record (bundle verification:
 *                           two Ed25519 verifies; X3DH, 3-DH; first ratchet key) and the
 *                           first encrypt of a 200-byte message
 *   x3dh_responder_setups   decrypting such a pre-key message into a fresh record (identity
 *                           signature, X3DH, the first DH ratchet step, the AEAD)
 *   x25519_ops              crypto_scalarmult (the baseline: the primitive itself, same run)
 *   ed25519_verify_ops      crypto_sign_verify_detached of a 33-byte message (baseline)
 *   x3dh_initiator_ceiling  what the initiator's primitives alone allow: 1 / (2 verifies
 *                           + 6 X25519), from the two baselines above; the gap to
 *                           x3dh_initiator_setups is libsotto's own cost
 *   attachment_ceiling      the same two primitives alone (secretstream push, BLAKE2b over
 *                           the ciphertext): attachment_encrypt's baseline in this run
 *   attachment_encrypt      64 KiB chunks, secretstream and the BLAKE2b digest, MiB/s
 *   attachment_decrypt      the same file back, digest checked, MiB/s
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sotto.h"

#define NOW 1764000000ull
#define MSG 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench: %s: %s\n", what, sotto_strerror(rc));
        exit(1);
    }
}

typedef struct side {
    sotto_account *a;
    sotto_record *r;
} side;

static void pair(side *x, side *y)
{
    sotto_bundle b;
    must(sotto_account_create(&x->a, NOW), "account");
    must(sotto_account_create(&y->a, NOW), "account");
    must(sotto_record_create(&x->r), "record");
    must(sotto_record_create(&y->r), "record");
    sotto_account_bundle(y->a, &b);
    must(sotto_record_initiate(x->r, x->a, &b), "initiate");
}

static void send_recv(side *from, side *to, const uint8_t *msg, uint8_t *env, uint8_t *out)
{
    size_t n, m;
    unsigned type;
    must(sotto_record_encrypt(from->r, msg, MSG, env, SOTTO_ENVELOPE_MAX, &n, &type), "encrypt");
    must(sotto_record_decrypt(to->r, to->a, env, n, NOW, out, SOTTO_ENVELOPE_MAX, &m), "decrypt");
}

static void bench_ratchet(int dh_every_message, int iters)
{
    static uint8_t env[SOTTO_ENVELOPE_MAX], out[SOTTO_ENVELOPE_MAX];
    uint8_t msg[MSG];
    side a, b;
    double t;

    memset(msg, 'x', sizeof msg);
    pair(&a, &b);
    send_recv(&a, &b, msg, env, out); /* both sides past the pre-key phase */
    send_recv(&b, &a, msg, env, out);
    t = now_s();
    for (int i = 0; i < iters; i++) {
        if (dh_every_message && (i & 1))
            send_recv(&b, &a, msg, env, out);
        else
            send_recv(&a, &b, msg, env, out);
    }
    t = now_s() - t;
    printf("%s %.0f pairs/s\n", dh_every_message ? "ratchet_dh_step_pairs" : "ratchet_chain_pairs",
           iters / t);
    sotto_account_free(a.a);
    sotto_account_free(b.a);
    sotto_record_free(a.r);
    sotto_record_free(b.r);
}

/* The primitives an initiator set-up is made of, timed alone in the same run: a machine
 * that is slower today is slower for both, and the ratio says what libsotto adds. */
static void bench_primitives(int iters)
{
    uint8_t sk[32], pk[32], q[32], spk[32], ssk[64], sig[64], msg[33] = {0x05};
    double tx, tv;
    int bad = 0;

    randombytes_buf(sk, sizeof sk);
    crypto_scalarmult_base(pk, sk);
    crypto_sign_keypair(spk, ssk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, ssk);
    tx = now_s();
    for (int i = 0; i < iters; i++)
        bad |= crypto_scalarmult(q, sk, pk);
    tx = (now_s() - tx) / iters;
    tv = now_s();
    for (int i = 0; i < iters; i++)
        bad |= crypto_sign_verify_detached(sig, msg, sizeof msg, spk);
    tv = (now_s() - tv) / iters;
    if (bad)
        must(SOTTO_E_AUTH, "primitives");
    printf("x25519_ops %.0f ops/s\n", 1 / tx);
    printf("ed25519_verify_ops %.0f ops/s\n", 1 / tv);
    printf("x3dh_initiator_ceiling %.0f setups/s\n", 1 / (2 * tv + 6 * tx));
}

/* Initiator set-ups, then the responder's on the envelopes they produced. */
static void bench_x3dh(int iters)
{
    static uint8_t out[SOTTO_ENVELOPE_MAX];
    uint8_t msg[MSG] = {0}, *envs = malloc((size_t)iters * SOTTO_ENVELOPE_MAX);
    size_t *lens = malloc((size_t)iters * sizeof *lens), m;
    sotto_account *alice, *bob;
    sotto_bundle b;
    unsigned type;
    double t;

    if (envs == NULL || lens == NULL)
        must(SOTTO_E_NOMEM, "malloc");
    must(sotto_account_create(&alice, NOW), "account");
    must(sotto_account_create(&bob, NOW), "account");
    sotto_account_bundle(bob, &b); /* 3-DH: one-time keys would run out */
    t = now_s();
    for (int i = 0; i < iters; i++) {
        sotto_record *r;
        must(sotto_record_create(&r), "record");
        must(sotto_record_initiate(r, alice, &b), "initiate");
        must(sotto_record_encrypt(r, msg, MSG, envs + (size_t)i * SOTTO_ENVELOPE_MAX,
                                  SOTTO_ENVELOPE_MAX, &lens[i], &type),
             "encrypt");
        sotto_record_free(r);
    }
    t = now_s() - t;
    printf("x3dh_initiator_setups %.0f setups/s\n", iters / t);
    t = now_s();
    for (int i = 0; i < iters; i++) {
        sotto_record *r;
        must(sotto_record_create(&r), "record");
        must(sotto_record_decrypt(r, bob, envs + (size_t)i * SOTTO_ENVELOPE_MAX, lens[i], NOW, out,
                                  sizeof out, &m),
             "decrypt");
        sotto_record_free(r);
    }
    t = now_s() - t;
    printf("x3dh_responder_setups %.0f setups/s\n", iters / t);
    sotto_account_free(alice);
    sotto_account_free(bob);
    free(envs);
    free(lens);
}

/* The baseline of attachment_encrypt, in the same run: the two libsodium primitives alone
 * (secretstream push of 64 KiB chunks, BLAKE2b over the ciphertext), no libsotto in
 * between. The ratio says what libsotto adds; the figure says how fast this machine is. */
static void bench_attachment_ceiling(size_t mib)
{
    static uint8_t in[SOTTO_ATTACHMENT_CHUNK],
        ct[SOTTO_ATTACHMENT_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES];
    uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES], digest[32],
        header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_generichash_state h;
    size_t chunks = mib * 16;
    double t;

    memset(in, 'a', sizeof in);
    crypto_secretstream_xchacha20poly1305_keygen(key);
    t = now_s();
    crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    crypto_generichash_update(&h, header, sizeof header);
    for (size_t i = 0; i < chunks; i++) {
        crypto_secretstream_xchacha20poly1305_push(
            &st, ct, NULL, in, sizeof in, NULL, 0,
            crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        crypto_generichash_update(&h, ct, sizeof ct);
    }
    crypto_generichash_final(&h, digest, sizeof digest);
    t = now_s() - t;
    sodium_memzero(key, sizeof key);
    printf("attachment_ceiling %.0f MiB/s\n", (double)mib / t);
}

static void bench_attachment_encrypt(size_t mib)
{
    static uint8_t in[SOTTO_ATTACHMENT_CHUNK], ct[SOTTO_ATTACHMENT_CHUNK + 17];
    uint8_t key[32], header[24], digest[32];
    size_t chunks = mib * 16;
    sotto_attachment *st;
    double t;

    memset(in, 'a', sizeof in);
    t = now_s();
    must(sotto_attachment_encrypt_create(&st, key, header), "attachment");
    for (size_t i = 0; i < chunks; i++)
        must(sotto_attachment_encrypt_chunk(st, in, sizeof in, 0, ct), "chunk");
    must(sotto_attachment_encrypt_chunk(st, in, 0, 1, ct), "chunk");
    must(sotto_attachment_encrypt_final(st, digest), "final");
    t = now_s() - t;
    sotto_attachment_free(st);
    printf("attachment_encrypt %.0f MiB/s\n", (double)mib / t);
}

/* A 16 MiB file encrypted into memory once, then decrypted `rounds` times as a client
 * receives it: in pieces of one ciphertext chunk, digest and size checked at the end. */
static void bench_attachment_decrypt(int rounds)
{
    enum { MIB = 16 };
    static uint8_t in[SOTTO_ATTACHMENT_CHUNK], pt[2 * SOTTO_ATTACHMENT_CHUNK + 17];
    const size_t piece = SOTTO_ATTACHMENT_CHUNK + SOTTO_ATTACHMENT_CHUNK_OVERHEAD;
    uint64_t size = (uint64_t)MIB << 20, total = sotto_attachment_ciphertext_size(size);
    uint8_t key[32], digest[32], *ct = malloc((size_t)total), *p;
    sotto_attachment *st;
    size_t n;
    double t;

    if (ct == NULL)
        must(SOTTO_E_NOMEM, "malloc");
    memset(in, 'a', sizeof in);
    must(sotto_attachment_encrypt_create(&st, key, ct), "attachment");
    p = ct + SOTTO_ATTACHMENT_HEADERBYTES;
    for (int i = 0; i < MIB * 16; i++, p += piece)
        must(sotto_attachment_encrypt_chunk(st, in, sizeof in, 0, p), "chunk");
    must(sotto_attachment_encrypt_chunk(st, in, 0, 1, p), "chunk");
    must(sotto_attachment_encrypt_final(st, digest), "final");
    sotto_attachment_free(st);
    t = now_s();
    for (int r = 0; r < rounds; r++) {
        must(sotto_attachment_decrypt_create(&st, key, digest, size), "attachment");
        for (uint64_t off = 0; off < total; off += piece) {
            size_t take = total - off < piece ? (size_t)(total - off) : piece;
            must(sotto_attachment_decrypt_update(st, ct + off, take, pt, &n), "update");
        }
        must(sotto_attachment_decrypt_final(st), "digest");
        sotto_attachment_free(st);
    }
    t = now_s() - t;
    printf("attachment_decrypt %.0f MiB/s\n", (double)MIB * rounds / t);
    free(ct);
}

int main(int argc, char **argv)
{
    int scale = 1; /* 1: a quick run; more: steadier figures */
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (end == argv[1] || *end != '\0' || v > 10000) {
            fprintf(stderr, "usage: %s [scale: 1 to 10000]\n", argv[0]);
            return 2;
        }
        scale = v < 1 ? 1 : (int)v;
    }
    must(sotto_init(), "init");
    bench_ratchet(0, 100000 * scale);
    bench_ratchet(1, 5000 * scale);
    bench_primitives(2000 * scale);
    bench_x3dh(2000 * scale);
    bench_attachment_ceiling((size_t)256 * (size_t)scale);
    bench_attachment_encrypt((size_t)256 * (size_t)scale);
    bench_attachment_decrypt(16 * scale);
    return 0;
}
