/*
 * rng.c: where libsotto's randomness comes from, and the test-only hooks.
 *
 * Release builds: rng_buf() is randombytes_buf() (in WebAssembly, crypto.getRandomValues
 * called once per buffer) and nothing else exists here.
 * Builds with SOTTO_TEST_RNG: a seeded generator (ChaCha20 via
 * randombytes_buf_deterministic, re-keyed after every draw) can replace it, so that a
 * scripted conversation is reproducible byte for byte, natively and in WebAssembly; and a
 * key observer lets the forward-secrecy test see every retired key. These are the only
 * process-wide variables in libsotto, and they do not exist in release builds
 * (tests/test_release_rng.c proves it on the release library).
 */
#include <string.h>

#include "internal.h"

#ifdef SOTTO_TEST_RNG
static int test_seeded;
static uint8_t test_key[randombytes_SEEDBYTES];
static sotto_test_key_observer test_observer;
static void *test_observer_ctx;

void sotto_test_rng_seed(const uint8_t seed[32])
{
    test_seeded = seed != NULL;
    if (seed)
        memcpy(test_key, seed, sizeof test_key);
    else
        sodium_memzero(test_key, sizeof test_key);
}

void sotto_test_set_key_observer(sotto_test_key_observer fn, void *ctx)
{
    test_observer = fn;
    test_observer_ctx = ctx;
}

/* Each draw expands the key into a new key plus the output, so draws never overlap. */
static void test_rng_buf(uint8_t *buf, size_t n)
{
    uint8_t block[64 + randombytes_SEEDBYTES];
    while (n) {
        size_t take = n < 64 ? n : 64;
        randombytes_buf_deterministic(block, sizeof block, test_key);
        memcpy(test_key, block, randombytes_SEEDBYTES);
        memcpy(buf, block + randombytes_SEEDBYTES, take);
        buf += take;
        n -= take;
    }
    sodium_memzero(block, sizeof block);
}
#endif

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
/* libsodium's WebAssembly randombytes_buf calls into JavaScript once per byte (24 calls
 * for a nonce: most of the cost of encrypting a short message). This fills the buffer
 * with crypto.getRandomValues directly, at most 65,536 bytes a call as the Web Crypto API
 * allows. The wrapper (core/wasm) refuses to start where crypto.getRandomValues is absent. */
EM_JS(int, js_random_fill, (void *buf, size_t n), {
    try {
        for (var off = 0; off < n; off += 65536)
            crypto.getRandomValues(HEAPU8.subarray(buf + off, buf + Math.min(n, off + 65536)));
        return 0;
    } catch (e) {
        return -1;
    }
});
#endif

void rng_buf(void *buf, size_t n)
{
#ifdef SOTTO_TEST_RNG
    if (test_seeded) {
        test_rng_buf(buf, n);
        return;
    }
#endif
#ifdef __EMSCRIPTEN__
    if (js_random_fill(buf, n) == 0)
        return;
        /* No Web Crypto here: libsodium's own source (Module.getRandomValue), which throws if
         * it has none either. */
#endif
    randombytes_buf(buf, n);
}

#ifdef SOTTO_TEST_RNG
void test_observe(int kind, const uint8_t key[32])
{
    if (test_observer)
        test_observer(test_observer_ctx, kind, key);
}
#endif
