/*
 * test_objects.c: everything around the ratchet: the message payload, safety numbers
 * and their QR payload, attachment encryption (truncation, extension, digest), at-rest
 * sealing, saved-state parsing, signed pre-key rotation and retention, login proofs,
 * the ratchet's padding and the bundle's byte form.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "internal.h"

static void payload_round_trip_and_strictness(void **state)
{
    sotto_payload p = {0}, q;
    uint8_t buf[512];
    size_t n;
    (void)state;
    memset(p.client_message_id, 1, 16);
    memset(p.conversation_id, 2, 16);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.sent_at_ms = 1764000000123ull;
    p.body = (const uint8_t *)"hello";
    p.body_len = 5;
    p.has_reply_to = 1;
    memset(p.reply_to, 3, 16);
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(n, sotto_payload_encoded_size(&p));
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    assert_memory_equal(q.client_message_id, p.client_message_id, 16);
    assert_int_equal(q.sent_at_ms, p.sent_at_ms);
    assert_int_equal(q.body_len, 5);
    assert_memory_equal(q.body, "hello", 5);
    assert_true(q.has_reply_to && !q.has_edit_of);
    /* every truncation is refused, except dropping the whole optional last field */
    for (size_t k = 0; k < n; k++)
        if (k != n - 21)
            assert_int_not_equal(sotto_payload_decode(&q, buf, k), 0);
    /* unknown version, a duplicated tag, an unknown low tag */
    buf[0] = 2;
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_VERSION);
    buf[0] = 1;
    buf[1 + 21] = 1; /* second field's tag becomes 1 again */
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    buf[1 + 21] = 2;
    /* an unknown optional field (tag 18+; 16 is the call binding, 17 the files) is skipped */
    memcpy(buf + n, "\x12\x00\x00\x00\x01\x00", 6);
    assert_int_equal(sotto_payload_decode(&q, buf, n + 6), 0);
    buf[n] = 0x08;
    assert_int_equal(sotto_payload_decode(&q, buf, n + 6), SOTTO_E_INVALID);
    assert_int_equal(sotto_payload_encode(&p, buf, 10, &n), SOTTO_E_BUFFER);
}

static void one_file(sotto_attachment_pointer *a, int i)
{
    memset(a, 0, sizeof *a);
    memset(a->id, 0x60 + i, 16);
    memset(a->key, 0x70 + i, 32);
    memset(a->digest, 0x80 + i, 32);
    a->size = 123456u + (unsigned)i;
    a->width = 640;
    a->height = 480;
    a->duration_ms = 3000;
    a->name = "ảnh chụp.jpg";
    a->name_len = strlen(a->name);
    a->type = "image/jpeg";
    a->type_len = 10;
    a->thumbnail = (const uint8_t *)"\xff\xd8\xff\xe0 jpeg";
    a->thumbnail_len = 9;
}

/* Where the last field of an encoded payload starts (its tag). */
static size_t last_field(const uint8_t *buf, size_t n)
{
    size_t o = 1, last = 1;
    while (o < n) {
        last = o;
        o += 5 + load_u32(buf + o + 1);
    }
    return last;
}

static int encodes(sotto_payload *p, uint8_t *buf, size_t cap, size_t *n)
{
    return sotto_payload_encode(p, buf, cap, n);
}

/* Files (tag 17): a round trip of every field, on text, sync and resend only, at most 10, and
 * every hostile name, type and thumbnail refused by the encoder and by the decoder. */
static void payload_files(void **state)
{
    static const char *bad_names[] = {"",
                                      ".",
                                      "..",
                                      "a/b",
                                      "a\\b",
                                      "tab\there",
                                      "del\x7f",
                                      "\xc0\xaf",
                                      "\xed\xa0\x80",
                                      "\xe2\x82",
                                      "\xf4\x90\x80\x80"};
    static const char *bad_types[] = {"image",        "Image/jpeg",  "/jpeg",      "image/",
                                      "image/jpeg/x", "image/jp eg", "image//jpeg"};
    static sotto_payload p, q;
    static uint8_t buf[8192];
    uint8_t big[SOTTO_ATTACHMENT_THUMB_MAX + 1] = {0xff, 0xd8, 0xff};
    size_t n;
    (void)state;
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.n_attachments = 2;
    one_file(&p.attachments[0], 0);
    one_file(&p.attachments[1], 1);
    p.attachments[1].name = "notes.txt";
    p.attachments[1].name_len = 9;
    p.attachments[1].type = "application/vnd.oasis.opendocument.text";
    p.attachments[1].type_len = strlen(p.attachments[1].type);
    p.attachments[1].thumbnail = NULL;
    p.attachments[1].thumbnail_len = 0;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    assert_int_equal(q.n_attachments, 2);
    assert_int_equal(q.body_len, 0); /* files without a caption */
    for (int i = 0; i < 2; i++) {
        const sotto_attachment_pointer *a = &p.attachments[i], *b = &q.attachments[i];
        assert_memory_equal(b->id, a->id, 16);
        assert_memory_equal(b->key, a->key, 32);
        assert_memory_equal(b->digest, a->digest, 32);
        assert_true(b->size == a->size && b->width == 640 && b->height == 480 &&
                    b->duration_ms == 3000);
        assert_int_equal(b->name_len, a->name_len);
        assert_memory_equal(b->name, a->name, a->name_len);
        assert_int_equal(b->type_len, a->type_len);
        assert_memory_equal(b->type, a->type, a->type_len);
        assert_int_equal(b->thumbnail_len, a->thumbnail_len);
    }
    assert_memory_equal(q.attachments[0].thumbnail, p.attachments[0].thumbnail, 9);
    /* a byte after the last file, or one missing, is refused */
    {
        size_t o = last_field(buf, n);
        uint32_t len = load_u32(buf + o + 1);
        assert_int_equal(buf[o], 17);
        store_u32(buf + o + 1, len + 1);
        buf[n] = 0;
        assert_int_equal(sotto_payload_decode(&q, buf, n + 1), SOTTO_E_INVALID);
        store_u32(buf + o + 1, len - 1);
        assert_int_equal(sotto_payload_decode(&q, buf, n - 1), SOTTO_E_INVALID);
        store_u32(buf + o + 1, len);
        assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    }
    /* only text, sync and resend carry files */
    p.content_type = SOTTO_CONTENT_SYNC;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    p.content_type = SOTTO_CONTENT_RESEND;
    p.has_edit_of = 1;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    p.content_type = SOTTO_CONTENT_EDIT;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    assert_int_equal(sotto_payload_encoded_size(&p), 0);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.has_edit_of = 0;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    buf[1 + 21 + 21 + 5] = SOTTO_CONTENT_DELETE; /* the content type's value, after two ids */
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    buf[1 + 21 + 21 + 5] = SOTTO_CONTENT_TEXT;
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    /* ten files at most */
    for (int i = 0; i < 11; i++)
        one_file(&p.attachments[i < 10 ? i : 0], i);
    p.n_attachments = 10;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    p.n_attachments = 11;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    p.n_attachments = 1;
    /* hostile names and types, a thumbnail that is no image or too big, a file too big */
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        p.attachments[0].name = bad_names[i];
        p.attachments[0].name_len = strlen(bad_names[i]);
        assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    }
    one_file(&p.attachments[0], 0);
    for (size_t i = 0; i < sizeof bad_types / sizeof *bad_types; i++) {
        p.attachments[0].type = bad_types[i];
        p.attachments[0].type_len = strlen(bad_types[i]);
        assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    }
    one_file(&p.attachments[0], 0);
    p.attachments[0].thumbnail = (const uint8_t *)"GIF89a";
    p.attachments[0].thumbnail_len = 6;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    p.attachments[0].thumbnail = big;
    p.attachments[0].thumbnail_len = sizeof big;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    p.attachments[0].thumbnail_len = sizeof big - 1;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    p.attachments[0].size = SOTTO_ATTACHMENT_FILE_MAX + 1ull;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    /* the decoder refuses what the encoder would: a name made hostile inside the bytes */
    one_file(&p.attachments[0], 0);
    p.attachments[0].name = "a.b";
    p.attachments[0].name_len = 3;
    assert_int_equal(encodes(&p, buf, sizeof buf, &n), 0);
    {
        uint8_t *at = memmem(buf, n, "a.b", 3);
        assert_non_null(at);
        at[1] = '/';
        assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
        at[1] = '.';
        assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    }
}

/* Padding (Signal's buckets, in integers): never smaller than the file, at most 5% more above
 * the smallest bucket, the same size for files in one bucket, capped under the server's limit. */
static void attachment_padding(void **state)
{
    uint64_t last = 0;
    (void)state;
    assert_int_equal(sotto_attachment_padded_size(0), 541);
    assert_int_equal(sotto_attachment_padded_size(541), 541);
    assert_int_equal(sotto_attachment_padded_size(542), 568);
    assert_int_equal(sotto_attachment_padded_size(550), sotto_attachment_padded_size(560));
    for (uint64_t len = 1; len <= SOTTO_ATTACHMENT_FILE_MAX; len = len * 3 / 2 + 1) {
        uint64_t b = sotto_attachment_padded_size(len);
        assert_true(b >= len && b >= last);
        assert_true(len < 541 || b <= len + len / 20 + 1);
        last = b;
    }
    assert_true(
        sotto_attachment_padded_size(SOTTO_ATTACHMENT_FILE_MAX) >= SOTTO_ATTACHMENT_FILE_MAX &&
        sotto_attachment_padded_size(SOTTO_ATTACHMENT_FILE_MAX) <= SOTTO_ATTACHMENT_PADDED_MAX);
    assert_int_equal(sotto_attachment_padded_size(SOTTO_ATTACHMENT_FILE_MAX + 1ull), 0);
    /* the largest padded file's ciphertext fits the server's 101 MiB */
    assert_true(sotto_attachment_ciphertext_size(SOTTO_ATTACHMENT_PADDED_MAX) <= 105906176u);
}

/* Delete, retry and resend payloads (issue 17): round trip, the target and empty-body rules
 * on both sides, older payloads and unknown types still decode. */
static void payload_targets(void **state)
{
    static const uint8_t types[] = {SOTTO_CONTENT_EDIT, SOTTO_CONTENT_DELETE, SOTTO_CONTENT_RETRY,
                                    SOTTO_CONTENT_RESEND};
    sotto_payload p, q;
    uint8_t buf[512];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof types; i++) {
        int bodiless = types[i] == SOTTO_CONTENT_DELETE || types[i] == SOTTO_CONTENT_RETRY;
        memset(&p, 0, sizeof p);
        memset(p.client_message_id, 1, 16);
        memset(p.conversation_id, 2, 16);
        p.content_type = types[i];
        p.sent_at_ms = 1764000000123ull;
        p.body = (const uint8_t *)"text";
        p.body_len = bodiless ? 0 : 4;
        /* no target: refused by the encoder */
        assert_int_equal(sotto_payload_encoded_size(&p), 0);
        assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
        p.has_edit_of = 1;
        memset(p.edit_of, 9, 16);
        assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
        assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
        assert_int_equal(q.content_type, types[i]);
        assert_true(q.has_edit_of);
        assert_memory_equal(q.edit_of, p.edit_of, 16);
        assert_int_equal(q.body_len, p.body_len);
        /* the same bytes without the target field (the last 21): refused by the decoder */
        assert_int_equal(sotto_payload_decode(&q, buf, n - 21), SOTTO_E_INVALID);
        /* an unknown optional field after it is skipped */
        memcpy(buf + n, "\x12\x00\x00\x00\x01\x00", 6);
        assert_int_equal(sotto_payload_decode(&q, buf, n + 6), 0);
        assert_int_equal(q.content_type, types[i]);
        if (bodiless) { /* a body on a delete or retry: refused both ways */
            p.body_len = 4;
            assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
            p.content_type = SOTTO_CONTENT_TEXT;
            assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
            buf[1 + 21 + 21 + 5] = types[i]; /* the content type field's value */
            assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
        }
    }
    /* Older payloads: text with a target (ignored by readers) and an unknown content type
     * (a later version's) still decode; the reader decides to skip them. */
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.has_edit_of = 1;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    p.content_type = 200;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    assert_int_equal(q.content_type, 200);
    p.has_edit_of = 0;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
}

static void call_payload(sotto_payload *p)
{
    memset(p, 0, sizeof *p);
    memset(p->client_message_id, 1, 16);
    memset(p->conversation_id, 2, 16);
    p->content_type = SOTTO_CONTENT_CALL;
    p->sent_at_ms = 1764000000123ull;
    p->body = (const uint8_t *)"v=0";
    p->body_len = 3;
    p->has_call = 1;
    memset(p->call.call_id, 4, 16);
    memset(p->call.caller_device_id, 5, 16);
    memset(p->call.callee_device_id, 6, 16);
    p->call.call_type = SOTTO_CALL_VIDEO;
    p->call.signal = SOTTO_SIGNAL_OFFER;
}

/* Call signals (issue 18): the binding round-trips, is required on a call signal and refused on
 * anything else, both ways; its call type and signal kind are checked; same_call compares the
 * call, the two devices and the type, and nothing else. */
static void payload_call_binding(void **state)
{
    sotto_payload p, q;
    sotto_call_binding b;
    uint8_t buf[512], text[512];
    size_t n, tn;
    (void)state;
    call_payload(&p);
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    assert_int_equal(n, sotto_payload_encoded_size(&p));
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    assert_true(q.has_call && q.content_type == SOTTO_CONTENT_CALL);
    assert_memory_equal(&q.call, &p.call, sizeof p.call);
    assert_true(sotto_call_binding_same_call(&q.call, &p.call));
    /* the binding is the last field (5 + 50 bytes): without it the signal is refused */
    assert_int_equal(sotto_payload_decode(&q, buf, n - 55), SOTTO_E_INVALID);
    /* a bad call type or signal kind, and a short binding, are refused */
    buf[n - 2] = 3;
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    buf[n - 2] = SOTTO_CALL_VIDEO;
    buf[n - 1] = 6;
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    buf[n - 1] = 0;
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    buf[n - 1] = SOTTO_SIGNAL_RESTART_ANSWER;
    assert_int_equal(sotto_payload_decode(&q, buf, n), 0);
    buf[n - 51] = 49; /* the binding's length byte */
    assert_int_equal(sotto_payload_decode(&q, buf, n - 1), SOTTO_E_INVALID);
    /* the encoder refuses a signal without a binding and a binding on a text */
    p.has_call = 0;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    p.has_call = 1;
    p.call.signal = 9;
    assert_int_equal(sotto_payload_encoded_size(&p), 0);
    call_payload(&p);
    p.content_type = SOTTO_CONTENT_TEXT;
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), SOTTO_E_INVALID);
    /* a text with a binding appended, and a signal relabelled as text: refused by the decoder */
    p.has_call = 0;
    assert_int_equal(sotto_payload_encode(&p, text, sizeof text, &tn), 0);
    call_payload(&p);
    assert_int_equal(sotto_payload_encode(&p, buf, sizeof buf, &n), 0);
    memcpy(text + tn, buf + n - 55, 55);
    assert_int_equal(sotto_payload_decode(&q, text, tn + 55), SOTTO_E_INVALID);
    buf[1 + 21 + 21 + 5] = SOTTO_CONTENT_TEXT;
    assert_int_equal(sotto_payload_decode(&q, buf, n), SOTTO_E_INVALID);
    /* same_call: the signal kind is not compared; every other part is */
    b = p.call;
    b.signal = SOTTO_SIGNAL_CANDIDATE;
    assert_true(sotto_call_binding_same_call(&b, &p.call));
    uint8_t *parts[] = {b.call_id, b.caller_device_id, b.callee_device_id, &b.call_type};
    for (size_t i = 0; i < 4; i++) {
        b = p.call;
        parts[i][0] ^= 1;
        assert_false(sotto_call_binding_same_call(&b, &p.call));
    }
}

static const char *UA = "0190a6f2-7c1e-7d3a-9b2c-1f2e3d4c5b6a";
static const char *UB = "0190A6F2-7C1E-7D3A-9B2C-AAAAAAAAAAAA";

static void safety_numbers(void **state)
{
    uint8_t ka[3 * 32], kb[2 * 32], kar[3 * 32], qr1[SOTTO_SAFETY_QRBYTES],
        qr2[SOTTO_SAFETY_QRBYTES];
    char s1[61], s2[61], s3[61];
    (void)state;
    for (int i = 0; i < 96; i++)
        ka[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < 64; i++)
        kb[i] = (uint8_t)(i * 13 + 5);
    /* order of devices and of the two users does not matter */
    memcpy(kar, ka + 64, 32);
    memcpy(kar + 32, ka, 32);
    memcpy(kar + 64, ka + 32, 32);
    assert_int_equal(sotto_safety_number(s1, UA, ka, 3, UB, kb, 2), 0);
    assert_int_equal(sotto_safety_number(s2, UB, kb, 2, UA, kar, 3), 0);
    assert_string_equal(s1, s2);
    assert_int_equal(strlen(s1), 60);
    for (int i = 0; i < 60; i++)
        assert_true(s1[i] >= '0' && s1[i] <= '9');
    /* a removed device changes it; the user id is bound */
    assert_int_equal(sotto_safety_number(s3, UA, ka, 2, UB, kb, 2), 0);
    assert_string_not_equal(s1, s3);
    assert_int_equal(sotto_safety_number(s3, UB, ka, 3, UB, kb, 2), 0);
    assert_string_not_equal(s1, s3);
    /* refused: no device, duplicate device, bad uuid */
    assert_int_equal(sotto_safety_number(s3, UA, ka, 0, UB, kb, 2), SOTTO_E_INVALID);
    memcpy(kar + 32, kar, 32);
    assert_int_equal(sotto_safety_number(s3, UA, kar, 3, UB, kb, 2), SOTTO_E_INVALID);
    assert_int_equal(sotto_safety_number(s3, "not-a-uuid", ka, 3, UB, kb, 2), SOTTO_E_INVALID);
    /* QR: same on both sides, differs when a key differs */
    assert_int_equal(sotto_safety_qr(qr1, UA, ka, 3, UB, kb, 2), 0);
    assert_int_equal(sotto_safety_qr(qr2, UB, kb, 2, UA, ka, 3), 0);
    assert_int_equal(sotto_safety_qr_verify(qr1, qr2, sizeof qr2), 0);
    assert_int_equal(sotto_safety_qr(qr2, UB, kb, 1, UA, ka, 3), 0);
    assert_int_equal(sotto_safety_qr_verify(qr1, qr2, sizeof qr2), SOTTO_E_AUTH);
    assert_int_equal(sotto_safety_qr_verify(qr1, qr2, 10), SOTTO_E_INVALID);
}

/* Encrypts `len` bytes; returns the ciphertext (test_malloc) and fills key/digest. */
static uint8_t *attach_encrypt(const uint8_t *pt, size_t len, uint8_t key[32], uint8_t digest[32],
                               size_t *ct_len)
{
    sotto_attachment *st;
    size_t off = 0, o = 24;
    uint8_t *ct = test_malloc(sotto_attachment_ciphertext_size(len));
    assert_int_equal(sotto_attachment_encrypt_create(&st, key, ct), 0);
    for (;;) {
        size_t take = len - off >= SOTTO_ATTACHMENT_CHUNK ? SOTTO_ATTACHMENT_CHUNK : len - off;
        int last = take < SOTTO_ATTACHMENT_CHUNK;
        assert_int_equal(sotto_attachment_encrypt_chunk(st, pt + off, take, last, ct + o), 0);
        off += take;
        o += take + 17;
        if (last)
            break;
    }
    assert_int_equal(sotto_attachment_encrypt_final(st, digest), 0);
    sotto_attachment_free(st);
    *ct_len = o;
    assert_int_equal(o, sotto_attachment_ciphertext_size(len));
    return ct;
}

/* Decrypts in pieces of `piece` bytes; returns what _final says. */
static int attach_decrypt(const uint8_t *ct, size_t ct_len, const uint8_t key[32],
                          const uint8_t digest[32], uint64_t size, size_t piece, uint8_t *pt)
{
    sotto_attachment *st;
    size_t off = 0, got = 0, n;
    uint8_t *out = test_malloc(piece + SOTTO_ATTACHMENT_CHUNK);
    int rc = 0;
    assert_int_equal(sotto_attachment_decrypt_create(&st, key, digest, size), 0);
    while (off < ct_len && rc == 0) {
        size_t take = ct_len - off < piece ? ct_len - off : piece;
        rc = sotto_attachment_decrypt_update(st, ct + off, take, out, &n);
        if (rc == 0 && pt)
            memcpy(pt + got, out, n);
        got += rc == 0 ? n : 0;
        off += take;
    }
    if (rc == 0)
        rc = sotto_attachment_decrypt_final(st);
    sotto_attachment_free(st);
    test_free(out);
    return rc;
}

static void attachments(void **state)
{
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 200000};
    uint8_t key[32], digest[32];
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s], ct_len;
        uint8_t *pt = test_malloc(len + 1), *back = test_malloc(len + 1), *ct;
        randombytes_buf(pt, len);
        ct = attach_encrypt(pt, len, key, digest, &ct_len);
        assert_int_equal(attach_decrypt(ct, ct_len, key, digest, len, 1000, back), 0);
        assert_memory_equal(pt, back, len);
        assert_int_equal(attach_decrypt(ct, ct_len, key, digest, len, 100000, NULL), 0);
        /* truncation (a whole chunk or a byte), wrong size, wrong digest, a flipped bit */
        assert_int_not_equal(attach_decrypt(ct, ct_len - 1, key, digest, len, 4096, NULL), 0);
        if (len >= SOTTO_ATTACHMENT_CHUNK)
            assert_int_not_equal(attach_decrypt(ct, 24 + 65553, key, digest, len, 4096, NULL), 0);
        assert_int_not_equal(attach_decrypt(ct, ct_len, key, digest, len + 1, 4096, NULL), 0);
        if (len)
            assert_int_not_equal(attach_decrypt(ct, ct_len, key, digest, len - 1, 4096, NULL), 0);
        digest[0] ^= 1;
        assert_int_not_equal(attach_decrypt(ct, ct_len, key, digest, len, 4096, NULL), 0);
        digest[0] ^= 1;
        ct[ct_len / 2] ^= 4;
        assert_int_not_equal(attach_decrypt(ct, ct_len, key, digest, len, 4096, NULL), 0);
        test_free(pt);
        test_free(back);
        test_free(ct);
    }
}

static void seal_and_state(void **state)
{
    party p;
    uint8_t key[32], *raw, *sealed, *opened, *bad;
    size_t len;
    sotto_account *a2;
    (void)state;
    party_new(&p);
    raw = account_bytes(p.acct, &len);
    sealed = test_malloc(len + SOTTO_SEAL_OVERHEAD);
    opened = test_malloc(len);
    sotto_seal_keygen(key);
    assert_int_equal(sotto_seal(sealed, raw, len, (const uint8_t *)"account", 7, key), 0);
    assert_int_equal(sotto_seal_open(opened, sealed, len + SOTTO_SEAL_OVERHEAD,
                                     (const uint8_t *)"account", 7, key),
                     0);
    assert_memory_equal(raw, opened, len);
    assert_int_equal(sotto_seal_open(opened, sealed, len + SOTTO_SEAL_OVERHEAD,
                                     (const uint8_t *)"peer:x", 6, key),
                     SOTTO_E_AUTH);
    /* saved state: every truncation and a broken key pair are refused */
    for (size_t k = 0; k < len; k += 7)
        assert_int_not_equal(sotto_account_deserialize(&a2, raw, k), 0);
    bad = test_malloc(len);
    memcpy(bad, raw, len);
    bad[5 + 40] ^= 0x40; /* identity private key no longer matches the public key */
    assert_int_equal(sotto_account_deserialize(&a2, bad, len), SOTTO_E_INVALID);
    bad[5 + 40] ^= 0x40;
    bad[4] = 9;
    assert_int_equal(sotto_account_deserialize(&a2, bad, len), SOTTO_E_VERSION);
    assert_int_equal(sotto_account_deserialize(&a2, raw, len), 0);
    sotto_account_free(a2);
    party_free(&p);
    test_free(raw);
    test_free(sealed);
    test_free(opened);
    test_free(bad);
}

static void signed_pre_key_rotation(void **state)
{
    party a, b;
    sotto_bundle old_bundle;
    envl *m = test_calloc(1, sizeof *m);
    uint8_t out[SOTTO_ENVELOPE_MAX], sig[64];
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    bundle_of(&b, &old_bundle, 0);
    assert_int_equal(sotto_account_signed_pre_key_due(b.acct, T0 + 6 * 86400), 0);
    assert_int_equal(sotto_account_signed_pre_key_due(b.acct, T0 + 7 * 86400), 1);
    assert_int_equal(sotto_account_rotate_signed_pre_key(b.acct, T0 + 7 * 86400), 0);
    /* a message made from the old bundle still works within retention */
    assert_int_equal(sotto_record_initiate(a.peer, a.acct, &old_bundle), 0);
    send_text(&a, "queued", m);
    sotto_account_prune(b.acct, T0 + 43 * 86400);
    recv_text(&b, m, "queued");
    /* after 37 days (pending age + queue retention) the replaced private key is wiped */
    sotto_record_free(b.peer);
    assert_int_equal(sotto_record_create(&b.peer), 0);
    sotto_account_prune(b.acct, T0 + 44 * 86400);
    assert_int_equal(sotto_record_decrypt(b.peer, b.acct, m->b, m->len, T0, out, sizeof out, &n),
                     SOTTO_E_NO_KEY);
    assert_int_equal(sotto_account_login_proof(a.acct, "a@example.org", T0, sig), 0);
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* libsotto pads with memset and unpads with its own constant-time loop: both must agree
 * with libsodium's sodium_pad/sodium_unpad on every length and on damaged padding. */
static void padding_matches_libsodium(void **state)
{
    uint8_t buf[3 * SOTTO_PAD_BLOCK], ref[3 * SOTTO_PAD_BLOCK];
    size_t padded, mine, theirs;
    (void)state;
    for (size_t len = 0; len < 2 * SOTTO_PAD_BLOCK; len++) {
        randombytes_buf(ref, sizeof ref);
        assert_int_equal(sodium_pad(&padded, ref, len, SOTTO_PAD_BLOCK, sizeof ref), 0);
        memcpy(buf, ref, sizeof buf);
        assert_int_equal(unpad(&mine, buf, padded), 0);
        assert_int_equal(mine, len);
        /* damage one byte of the padding, or the byte before it */
        for (size_t at = len ? len - 1 : 0; at < padded; at++) {
            memcpy(buf, ref, sizeof buf);
            buf[at] ^= (uint8_t)(1u << (at % 8));
            int a = unpad(&mine, buf, padded),
                b = sodium_unpad(&theirs, buf, padded, SOTTO_PAD_BLOCK);
            assert_int_equal(a, b);
            if (a == 0)
                assert_int_equal(mine, theirs);
        }
    }
    memset(buf, 0, sizeof buf); /* no marker at all */
    assert_int_not_equal(unpad(&mine, buf, SOTTO_PAD_BLOCK), 0);
    buf[0] = 0x80; /* a marker outside the last block does not count */
    assert_int_not_equal(unpad(&mine, buf, 2 * SOTTO_PAD_BLOCK), 0);
    assert_int_not_equal(unpad(&mine, buf, SOTTO_PAD_BLOCK - 1), 0);
}

static void bundle_bytes(void **state)
{
    party a;
    sotto_bundle b, back;
    uint8_t bytes[SOTTO_BUNDLE_BYTES];
    (void)state;
    party_new(&a);
    for (int otk = 0; otk < 2; otk++) {
        bundle_of(&a, &b, !otk);
        sotto_bundle_encode(&b, bytes);
        assert_int_equal(sotto_bundle_decode(&back, bytes, sizeof bytes), 0);
        assert_memory_equal(&back, &b, sizeof b);
        assert_int_equal(sotto_bundle_verify(&back), 0);
        assert_int_not_equal(sotto_bundle_decode(&back, bytes, sizeof bytes - 1), 0);
        bytes[228] = 2; /* presence byte other than 0/1 */
        assert_int_equal(sotto_bundle_decode(&back, bytes, sizeof bytes), SOTTO_E_INVALID);
    }
    bytes[228] = 0; /* absent one-time key with a key present: refused */
    assert_int_equal(sotto_bundle_decode(&back, bytes, sizeof bytes), SOTTO_E_INVALID);
    assert_int_equal(sotto_bundle_bytes(), SOTTO_BUNDLE_BYTES);
    party_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(payload_round_trip_and_strictness),
        cmocka_unit_test(payload_targets),
        cmocka_unit_test(payload_call_binding),
        cmocka_unit_test(payload_files),
        cmocka_unit_test(attachment_padding),
        cmocka_unit_test(safety_numbers),
        cmocka_unit_test(attachments),
        cmocka_unit_test(seal_and_state),
        cmocka_unit_test(signed_pre_key_rotation),
        cmocka_unit_test(padding_matches_libsodium),
        cmocka_unit_test(bundle_bytes),
    };
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
