/*
 * fuzz_attachment.c: attachment decryption. The input chooses a plaintext size, a few
 * byte changes (offset, xor) and where the stream is cut into pieces; the target encrypts
 * a file of that size, applies the changes and feeds the pieces. It must succeed exactly
 * when nothing was changed, return the plaintext, and never release a byte otherwise.
 *
 *   input: size (u24 BE) || n_changes (u8) || n_changes x (offset u24 BE, xor u8) ||
 *          piece sizes (u16 BE each, 0 means 1), cycled
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PLAIN (3u * SOTTO_ATTACHMENT_CHUNK + 100u)

static uint32_t u24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }

static uint8_t *encrypt_file(size_t plain, uint8_t key[32], uint8_t digest[32], size_t *ct_len)
{
    static uint8_t in[SOTTO_ATTACHMENT_CHUNK];
    sotto_attachment *st;
    uint8_t *ct;
    size_t off = SOTTO_ATTACHMENT_HEADERBYTES, left = plain;

    *ct_len = (size_t)sotto_attachment_ciphertext_size(plain);
    if ((ct = malloc(*ct_len)) == NULL || sotto_attachment_encrypt_create(&st, key, ct) != 0)
        fixture_fail("attachment set-up");
    for (;;) {
        size_t take = left < SOTTO_ATTACHMENT_CHUNK ? left : SOTTO_ATTACHMENT_CHUNK;
        int last = take < SOTTO_ATTACHMENT_CHUNK;
        memset(in, (int)(off & 0xff), take);
        if (sotto_attachment_encrypt_chunk(st, in, take, last, ct + off) != 0)
            fixture_fail("attachment encrypt");
        off += take + SOTTO_ATTACHMENT_CHUNK_OVERHEAD;
        left -= take;
        if (last)
            break;
    }
    if (sotto_attachment_encrypt_final(st, digest) != 0 || off != *ct_len)
        fixture_fail("attachment final");
    sotto_attachment_free(st);
    return ct;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[3 * SOTTO_ATTACHMENT_CHUNK];
    uint8_t key[32], digest[32], *ct, *orig;
    size_t plain, ct_len, n_changes, pos, off = 0, got = 0, produced;
    int changed, rc = 0;
    sotto_attachment *st;

    (void)fixture_get(); /* sotto_init, and the same keys in every run */
    if (size < 4)
        return 0;
    plain = u24(data) % (MAX_PLAIN + 1);
    n_changes = data[3];
    if (size < 4 + 4 * n_changes)
        return 0;
    ct = encrypt_file(plain, key, digest, &ct_len);
    if ((orig = malloc(ct_len)) == NULL)
        fixture_fail("malloc");
    memcpy(orig, ct, ct_len);
    for (size_t i = 0; i < n_changes; i++) {
        const uint8_t *c = data + 4 + 4 * i;
        ct[u24(c) % ct_len] ^= c[3];
    }
    changed = memcmp(orig, ct, ct_len) != 0; /* two changes of one byte may cancel */
    free(orig);
    pos = 4 + 4 * n_changes;
    if (sotto_attachment_decrypt_create(&st, key, digest, plain) != 0)
        fixture_fail("attachment decrypt set-up");
    while (off < ct_len && rc == 0) {
        size_t piece = 1;
        if (pos + 2 <= size) {
            piece = (size_t)data[pos] << 8 | data[pos + 1];
            pos = pos + 2 < size ? pos + 2 : 4 + 4 * n_changes;
        }
        piece = piece == 0 ? 1 : piece;
        piece = piece < ct_len - off ? piece : ct_len - off;
        rc = sotto_attachment_decrypt_update(st, ct + off, piece, out, &produced);
        if (rc == 0 && produced > piece + SOTTO_ATTACHMENT_CHUNK)
            fixture_fail("more plaintext than the piece allows");
        /* every released byte must be the file's (the pattern encrypt_file wrote) */
        for (size_t i = 0; rc == 0 && i < produced; i++, got++) {
            size_t chunk = got / SOTTO_ATTACHMENT_CHUNK;
            size_t at = SOTTO_ATTACHMENT_HEADERBYTES + chunk * (SOTTO_ATTACHMENT_CHUNK + 17);
            if (out[i] != (uint8_t)(at & 0xff))
                fixture_fail("released plaintext differs from the file");
        }
        off += piece;
    }
    if (rc == 0)
        rc = sotto_attachment_decrypt_final(st);
    if ((rc == 0) == changed)
        fixture_fail(changed ? "a changed attachment was accepted" : "a genuine attachment failed");
    if (rc == 0 && got != plain)
        fixture_fail("wrong plaintext size");
    sotto_attachment_free(st);
    free(ct);
    return 0;
}
