/*
 * gen_corpus.c: writes the seed corpus, valid objects the fuzzers start from, into
 * DIR/<target>/ (scripts/fuzz.sh --gen-corpus; the output is committed as core/fuzz/corpus).
 * Built with the seeded test RNG, so the seed envelopes decrypt in the targets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void put(const char *dir, const char *target, const char *name, const uint8_t *a, size_t na,
                const uint8_t *b, size_t nb)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(a, 1, na, f) != na ||
        (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0)
        fixture_fail(path);
}

static void payloads(const char *dir)
{
    sotto_payload p;
    uint8_t buf[1024];
    size_t n;
    memset(&p, 0, sizeof p);
    memset(p.client_message_id, 0x11, 16);
    memset(p.conversation_id, 0x22, 16);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.sent_at_ms = 1764000000123ull;
    p.body = (const uint8_t *)"hello";
    p.body_len = 5;
    if (sotto_payload_encode(&p, buf, sizeof buf, &n) != 0)
        fixture_fail("payload");
    put(dir, "payload", "text", buf, n, NULL, 0);
    p.content_type = SOTTO_CONTENT_EDIT;
    p.has_reply_to = p.has_edit_of = 1;
    memset(p.reply_to, 0x33, 16);
    memset(p.edit_of, 0x44, 16);
    if (sotto_payload_encode(&p, buf, sizeof buf, &n) != 0)
        fixture_fail("payload");
    put(dir, "payload", "edit-reply", buf, n, NULL, 0);
    buf[n] = 18, buf[n + 1] = buf[n + 2] = buf[n + 3] = 0, buf[n + 4] = 1, buf[n + 5] = 0xaa;
    put(dir, "payload", "unknown-optional-field", buf, n + 6, NULL, 0);
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_CALL;
    p.body = (const uint8_t *)"v=0";
    p.body_len = 3;
    p.has_call = 1;
    memset(p.call.call_id, 0x55, 16);
    p.call.call_type = SOTTO_CALL_VIDEO;
    p.call.signal = SOTTO_SIGNAL_OFFER;
    if (sotto_payload_encode(&p, buf, sizeof buf, &n) != 0)
        fixture_fail("payload");
    put(dir, "payload", "call-offer", buf, n, NULL, 0);
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.n_attachments = 2;
    for (size_t i = 0; i < 2; i++) {
        memset(p.attachments[i].id, (int)(0x60 + i), 16);
        memset(p.attachments[i].key, (int)(0x70 + i), 32);
        memset(p.attachments[i].digest, (int)(0x80 + i), 32);
        p.attachments[i].size = 1000 * (i + 1);
    }
    p.attachments[0].name = "ảnh.jpg";
    p.attachments[0].name_len = strlen("ảnh.jpg");
    p.attachments[0].type = "image/jpeg";
    p.attachments[0].type_len = 10;
    p.attachments[0].width = 640;
    p.attachments[0].height = 480;
    p.attachments[0].thumbnail = (const uint8_t *)"\xff\xd8\xff\xe0";
    p.attachments[0].thumbnail_len = 4;
    p.attachments[1].name = "notes.txt";
    p.attachments[1].name_len = 9;
    p.attachments[1].type = "text/plain";
    p.attachments[1].type_len = 10;
    if (sotto_payload_encode(&p, buf, sizeof buf, &n) != 0)
        fixture_fail("payload");
    put(dir, "payload", "two-files", buf, n, NULL, 0);
}

/* A signed list of three devices, and one of one (seeded RNG: the same bytes every time). */
static void device_lists(const char *dir)
{
    static sotto_device_list l;
    uint8_t seed[SOTTO_ACCOUNT_SEEDBYTES], buf[4096];
    size_t n;
    memset(&l, 0, sizeof l);
    if (sotto_account_key_create(seed, l.account_key) != 0)
        fixture_fail("account key");
    memset(l.user_id, 0x66, 16);
    l.version = 3;
    l.issued_at_ms = 1764000000123ull;
    for (l.n = 0; l.n < 3; l.n++) {
        memset(l.devices[l.n].device_id, (int)(0x70 + l.n), 16);
        memset(l.devices[l.n].signing_key, (int)(0x80 + l.n), 32);
    }
    if (sotto_device_list_sign(&l, seed, buf, sizeof buf, &n) != 0)
        fixture_fail("device list");
    put(dir, "devicelist", "three", buf, n, NULL, 0);
    l.n = 1;
    if (sotto_device_list_sign(&l, seed, buf, sizeof buf, &n) != 0)
        fixture_fail("device list");
    put(dir, "devicelist", "one", buf, n, NULL, 0);
}

static void attachments(const char *dir)
{
    static const uint8_t empty[4] = {0, 0, 0, 0};
    static const uint8_t two_chunks[8] = {0x01, 0x11, 0x70, 0, 0x40, 0x00, 0x10, 0x01};
    static const uint8_t one_change[10] = {0, 0x01, 0x00, 1, 0, 0, 30, 0x80, 0x01, 0x00};
    put(dir, "attachment", "empty", empty, sizeof empty, NULL, 0);
    put(dir, "attachment", "two-chunks-in-pieces", two_chunks, sizeof two_chunks, NULL, 0);
    put(dir, "attachment", "one-byte-changed", one_change, sizeof one_change, NULL, 0);
}

int main(int argc, char **argv)
{
    const fixture *f;
    static const uint8_t account_tag = 0, record_tag = 1;
    static uint8_t bad[512];
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    f = fixture_get();
    put(argv[1], "envelope", "in-order", f->env[0], f->env_len[0], NULL, 0);
    /* the next N on a live chain with a bad tag: a refusal on the fast path */
    memcpy(bad, f->env[0], f->env_len[0]);
    bad[f->env_len[0] - 1] ^= 0x01;
    put(argv[1], "envelope", "next-bad-tag", bad, f->env_len[0], NULL, 0);
    put(argv[1], "envelope", "skips-one", f->env[2], f->env_len[2], NULL, 0);
    put(argv[1], "envelope", "prekey-other-device", f->prekey, f->prekey_len, NULL, 0);
    put(argv[1], "prekey", "carol", f->prekey + 2, f->prekey_len - 2, NULL, 0);
    put(argv[1], "state", "account", &account_tag, 1, f->bob_account, f->bob_account_len);
    put(argv[1], "state", "record", &record_tag, 1, f->bob_record, f->bob_record_len);
    put(argv[1], "bundle", "bob", f->bob_bundle, sizeof f->bob_bundle, NULL, 0);
    payloads(argv[1]);
    attachments(argv[1]);
    device_lists(argv[1]);
    return 0;
}
