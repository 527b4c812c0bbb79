/*
 * vectors_gen.c: a scripted conversation under the seeded test RNG, written out as JSON
 * with every byte that crossed the wire, every key the test-only observer saw retired
 * and both final states. The native test and the WebAssembly build both run this same
 * code and must produce the committed core/tests/vectors/conversation.json byte for byte;
 * tests/vectors.test.mjs recomputes the first keys from it with Node's own crypto.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "vectors_gen.h"

#define VT0 1764000000ull
#define LOG_MAX 256

typedef struct out {
    char *p;
    size_t len, cap;
    int err;
} out;
typedef struct klog {
    size_t n;
    int kind[LOG_MAX];
    uint8_t k[LOG_MAX][32];
} klog;

static void put(out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->err || n >= o->cap - o->len) {
        o->err = 1;
        return;
    }
    memcpy(o->p + o->len, s, n + 1);
    o->len += n;
}

static void put_hex(out *o, const char *name, const uint8_t *b, size_t n, const char *after)
{
    char hex[2 * 4096 + 1];
    put(o, "\"");
    put(o, name);
    put(o, "\": \"");
    for (size_t i = 0; i < n; i += 2048) {
        size_t take = n - i < 2048 ? n - i : 2048;
        sodium_bin2hex(hex, sizeof hex, b + i, take);
        put(o, hex);
    }
    put(o, "\"");
    put(o, after);
}

static void put_num(out *o, const char *name, unsigned long long v, const char *after)
{
    char buf[64];
    snprintf(buf, sizeof buf, "\"%s\": %llu%s", name, v, after);
    put(o, buf);
}

static void observe(void *ctx, int kind, const uint8_t key[32])
{
    klog *l = ctx;
    if (l->n < LOG_MAX) {
        l->kind[l->n] = kind;
        memcpy(l->k[l->n++], key, 32);
    }
}

typedef struct step {
    int from;
    const char *text;
} step;

static const step script[] = {
    {0, "Hello Bob"}, {0, "Are you there?"}, {1, "Hi Alice"}, {0, "Good"}, {1, "one"}, {1, "two"},
    {0, "ok"},
};
/* +k: step k-1 is encrypted by its sender; -k: it is delivered. "two" overtakes "one". */
static const int actions[] = {1, 2, -1, -2, 3, -3, 4, -4, 5, 6, -6, -5, 7, -7};

static int run(out *o, klog *log)
{
    sotto_account *acct[2] = {NULL, NULL};
    sotto_record *rec[2] = {NULL, NULL};
    sotto_bundle bundle;
    sotto_prekey otk;
    static uint8_t env[8][SOTTO_ENVELOPE_MAX], buf[8192], pt[SOTTO_ENVELOPE_MAX];
    size_t len[8], n, ptlen;
    unsigned type[8];
    const size_t steps = sizeof script / sizeof script[0];
    int rc = -1;

    if (sotto_account_create(&acct[0], VT0) || sotto_account_create(&acct[1], VT0) ||
        sotto_record_create(&rec[0]) || sotto_record_create(&rec[1]) ||
        sotto_account_generate_one_time_keys(acct[1], 1, &otk))
        goto done;
    sotto_account_bundle(acct[1], &bundle);
    bundle.has_one_time_pre_key = 1;
    bundle.one_time_pre_key = otk;
    put(o,
        "{\n  \"description\": \"libsotto deterministic conversation, see docs/protocol.md\",\n");
    put(o, "  ");
    put_num(o, "version", 1, ",\n  ");
    put_num(o, "now", VT0, ",\n  ");
    put(o, "\"bob\": {");
    put_hex(o, "identityKeyPrivate", acct[1]->ik_sk, 32, ", ");
    put_hex(o, "signedPreKeyPrivate", acct[1]->spk[0].sk, 32, ", ");
    put_hex(o, "oneTimePreKeyPrivate", acct[1]->opk[0].sk, 32, ",\n    ");
    put_hex(o, "identityKey", bundle.identity_key, 32, ", ");
    put_hex(o, "signingKey", bundle.signing_key, 32, ",\n    ");
    put_hex(o, "identitySignature", bundle.identity_signature, 64, ",\n    ");
    put_num(o, "signedPreKeyId", bundle.signed_pre_key_id, ", ");
    put_hex(o, "signedPreKey", bundle.signed_pre_key, 32, ",\n    ");
    put_hex(o, "signedPreKeySignature", bundle.signed_pre_key_signature, 64, ",\n    ");
    put_num(o, "oneTimePreKeyId", otk.key_id, ", ");
    put_hex(o, "oneTimePreKey", otk.public_key, 32, "},\n  ");
    put(o, "\"alice\": {");
    put_hex(o, "identityKey", acct[0]->ik_pk, 32, ", ");
    put_hex(o, "signingKey", acct[0]->sign_pk, 32, "},\n  \"messages\": [\n");
    sotto_test_set_key_observer(observe, log);
    if (sotto_record_initiate(rec[0], acct[0], &bundle))
        goto done;
    for (size_t k = 0; k < sizeof actions / sizeof actions[0]; k++) {
        size_t j = (size_t)(actions[k] < 0 ? -actions[k] - 1 : actions[k] - 1);
        int f = script[j].from;
        if (actions[k] > 0) {
            if (sotto_record_encrypt(rec[f], (const uint8_t *)script[j].text,
                                     strlen(script[j].text), env[j], sizeof env[j], &len[j],
                                     &type[j]))
                goto done;
        } else if (sotto_record_decrypt(rec[!f], acct[!f], env[j], len[j], VT0 + 60, pt, sizeof pt,
                                        &ptlen) ||
                   ptlen != strlen(script[j].text) || memcmp(pt, script[j].text, ptlen) != 0) {
            goto done;
        }
    }
    sotto_test_set_key_observer(NULL, NULL);
    for (size_t i = 0; i < steps; i++) {
        put(o, "    {");
        put_num(o, "from", (unsigned long long)script[i].from, ", ");
        put_num(o, "type", type[i], ", ");
        put_hex(o, "plaintext", (const uint8_t *)script[i].text, strlen(script[i].text),
                ",\n     ");
        put_hex(o, "envelope", env[i], len[i], i + 1 < steps ? "},\n" : "}\n  ],\n");
    }
    put(o, "  \"actions\": [1, 2, -1, -2, 3, -3, 4, -4, 5, 6, -6, -5, 7, -7],\n  \"keyLog\": [\n");
    for (size_t i = 0; i < log->n; i++) {
        put(o, "    {");
        put_num(o, "kind", (unsigned long long)log->kind[i], ", ");
        put_hex(o, "key", log->k[i], 32, i + 1 < log->n ? "},\n" : "}\n  ],\n");
    }
    for (int p = 0; p < 2; p++) {
        if (sotto_record_serialize(rec[p], buf, sizeof buf, &n))
            goto done;
        put(o, "  ");
        put_hex(o, p ? "bobRecord" : "aliceRecord", buf, n, ",\n");
    }
    put(o, "  \"end\": true\n}\n");
    rc = o->err ? -1 : 0;
done:
    sotto_test_set_key_observer(NULL, NULL);
    for (int p = 0; p < 2; p++) {
        sotto_account_free(acct[p]);
        sotto_record_free(rec[p]);
    }
    return rc;
}

int sotto_vectors_json(char *buf, size_t cap, size_t *len)
{
    static const uint8_t seed[32] = {0x53, 0x6f, 0x74, 0x74, 0x6f, 0x2d, 0x76, 0x31,
                                     0x2d, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x73,
                                     0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    static klog log;
    out o = {buf, 0, cap, 0};
    int rc;

    if (sotto_init() != 0 || cap == 0)
        return -1;
    memset(&log, 0, sizeof log);
    sotto_test_rng_seed(seed);
    rc = run(&o, &log);
    sotto_test_rng_seed(NULL);
    *len = o.len;
    return rc;
}
