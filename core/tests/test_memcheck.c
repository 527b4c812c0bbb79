/*
 * test_memcheck.c: one short pass over every allocating and parsing path of libsotto,
 * small enough to run under valgrind in seconds (core.valgrind_memcheck, builds without
 * sanitizers): X3DH both ways, in-order, out-of-order and skipped messages, a replay and
 * a forgery refused, a restart from saved state, sealing, payloads, a bundle's bytes,
 * attachments. Behaviour is tested elsewhere; here uninitialised reads, leaks and
 * invalid accesses are the findings.
 */
#include <sodium.h>
#include <stdlib.h>

#include "helpers.h"

static void conversation(void **state)
{
    party a, b;
    envl *m = test_calloc(6, sizeof *m);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    send_text(&a, "one", &m[0]);
    send_text(&a, "two", &m[1]);
    send_text(&a, "three", &m[2]);
    recv_text(&b, &m[2], "three"); /* skips two keys */
    recv_text(&b, &m[0], "one");
    assert_int_equal(try_recv(&b, &m[0], out, &n), SOTTO_E_REPLAY);
    restart(&b);
    recv_text(&b, &m[1], "two");
    send_text(&b, "reply", &m[3]);
    m[3].b[m[3].len - 1] ^= 1;
    assert_int_not_equal(try_recv(&a, &m[3], out, &n), 0);
    m[3].b[m[3].len - 1] ^= 1;
    recv_text(&a, &m[3], "reply");
    send_text(&a, "after", &m[4]);
    restart(&a);
    recv_text(&b, &m[4], "after");
    party_free(&a);
    party_free(&b);
    test_free(m);
}

static void objects(void **state)
{
    sotto_payload p = {0}, q;
    sotto_bundle bd;
    sotto_attachment *st;
    party a;
    uint8_t buf[512], sealed[512 + SOTTO_SEAL_OVERHEAD], key[32], hdr[24], digest[32];
    uint8_t chunk[100], ct[100 + SOTTO_ATTACHMENT_CHUNK_OVERHEAD], pt[SOTTO_ATTACHMENT_CHUNK + 200];
    size_t n;
    (void)state;
    p.content_type = SOTTO_CONTENT_TEXT;
    p.body = (const uint8_t *)"hi";
    p.body_len = 2;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    sotto_seal_keygen(key);
    assert_int_equal(sotto_seal(sealed, buf, n, (const uint8_t *)"s", 1, key), 0);
    assert_int_equal(
        sotto_seal_open(buf, sealed, n + SOTTO_SEAL_OVERHEAD, (const uint8_t *)"s", 1, key), 0);
    party_new(&a);
    bundle_of(&a, &bd, 0);
    sotto_bundle_encode(&bd, buf);
    assert_int_equal(sotto_bundle_decode(&bd, buf, SOTTO_BUNDLE_BYTES), 0);
    assert_int_equal(sotto_bundle_verify(&bd), 0);
    party_free(&a);
    memset(chunk, 7, sizeof chunk);
    assert_int_equal(sotto_attachment_encrypt_create(&st, key, hdr), 0);
    assert_int_equal(sotto_attachment_encrypt_chunk(st, chunk, sizeof chunk, 1, ct), 0);
    assert_int_equal(sotto_attachment_encrypt_final(st, digest), 0);
    sotto_attachment_free(st);
    assert_int_equal(sotto_attachment_decrypt_create(&st, key, digest, sizeof chunk), 0);
    assert_int_equal(sotto_attachment_decrypt_update(st, hdr, sizeof hdr, pt, &n), 0);
    assert_int_equal(sotto_attachment_decrypt_update(st, ct, sizeof ct, pt, &n), 0);
    assert_int_equal(n, sizeof chunk);
    assert_int_equal(sotto_attachment_decrypt_final(st), 0);
    sotto_attachment_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(conversation), cmocka_unit_test(objects)};
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
