/*
 * bench_core.c: libsotto throughput on one core (a benchmark, not a test).
 *   ratchet encrypt+decrypt pairs/s of 200-byte messages within one chain;
 *   the same with a DH ratchet step on every message (strict ping-pong);
 *   X3DH set-ups/s including bundle verification (initiate + first decrypt);
 *   attachment encryption MB/s including the digest.
 * Output: one "name value unit" line each, for bench/core/RESULTS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sotto.h"

#define NOW 1764000000ull

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

typedef struct side { sotto_account *a; sotto_record *r; } side;

static void pair(side *x, side *y)
{
    sotto_bundle b;
    sotto_prekey pk;
    must(sotto_account_create(&x->a, NOW), "account");
    must(sotto_account_create(&y->a, NOW), "account");
    must(sotto_record_create(&x->r), "record");
    must(sotto_record_create(&y->r), "record");
    sotto_account_bundle(y->a, &b);
    must(sotto_account_generate_one_time_keys(y->a, 1, &pk), "otk");
    b.has_one_time_pre_key = 1;
    b.one_time_pre_key = pk;
    must(sotto_record_initiate(x->r, x->a, &b), "initiate");
}

static void send_recv(side *from, side *to, const uint8_t *msg, uint8_t *env, uint8_t *out)
{
    size_t n, m;
    unsigned type;
    must(sotto_record_encrypt(from->r, msg, 200, env, SOTTO_ENVELOPE_MAX, &n, &type), "encrypt");
    must(sotto_record_decrypt(to->r, to->a, env, n, NOW, out, SOTTO_ENVELOPE_MAX, &m), "decrypt");
}

static void bench_ratchet(int dh_every_message, int iters)
{
    static uint8_t env[SOTTO_ENVELOPE_MAX], out[SOTTO_ENVELOPE_MAX];
    uint8_t msg[200];
    side a, b;
    double t;
    memset(msg, 'x', sizeof msg);
    pair(&a, &b);
    send_recv(&a, &b, msg, env, out);
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
    sotto_account_free(a.a); sotto_account_free(b.a);
    sotto_record_free(a.r); sotto_record_free(b.r);
}

static void bench_x3dh(int iters)
{
    static uint8_t env[SOTTO_ENVELOPE_MAX], out[SOTTO_ENVELOPE_MAX];
    uint8_t msg[200] = {0};
    sotto_account *alice, *bob;
    sotto_bundle b;
    double t;
    must(sotto_account_create(&alice, NOW), "account");
    must(sotto_account_create(&bob, NOW), "account");
    sotto_account_bundle(bob, &b); /* 3-DH: one-time keys would run out */
    t = now_s();
    for (int i = 0; i < iters; i++) {
        side x = {alice, NULL}, y = {bob, NULL};
        must(sotto_record_create(&x.r), "record");
        must(sotto_record_create(&y.r), "record");
        must(sotto_record_initiate(x.r, alice, &b), "initiate"); /* verifies the bundle */
        send_recv(&x, &y, msg, env, out);                         /* responder's X3DH */
        sotto_record_free(x.r);
        sotto_record_free(y.r);
    }
    t = now_s() - t;
    printf("x3dh_setups %.0f setups/s\n", iters / t);
    sotto_account_free(alice);
    sotto_account_free(bob);
}

static void bench_attachment(size_t mb)
{
    static uint8_t in[SOTTO_ATTACHMENT_CHUNK], out[SOTTO_ATTACHMENT_CHUNK + 17];
    uint8_t key[32], header[24], digest[32];
    size_t chunks = mb * 16;
    sotto_attachment *st;
    double t = now_s();
    must(sotto_attachment_encrypt_create(&st, key, header), "attachment");
    for (size_t i = 0; i < chunks; i++)
        must(sotto_attachment_encrypt_chunk(st, in, sizeof in, 0, out), "chunk");
    must(sotto_attachment_encrypt_chunk(st, in, 0, 1, out), "chunk");
    must(sotto_attachment_encrypt_final(st, digest), "final");
    sotto_attachment_free(st);
    t = now_s() - t;
    printf("attachment_encrypt %.0f MB/s\n", (double)mb / t);
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1; /* bench: quick run with 1, steadier with 5 */
    must(sotto_init(), "init");
    bench_ratchet(0, 100000 * scale);
    bench_ratchet(1, 5000 * scale);
    bench_x3dh(2000 * scale);
    bench_attachment((size_t)256 * (size_t)scale);
    return 0;
}
