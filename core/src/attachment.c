/*
 * attachment.c: file encryption for attachments. A fresh 32-byte key per file,
 * crypto_secretstream_xchacha20poly1305 over 64 KiB plaintext chunks, and a BLAKE2b-256
 * digest of the whole ciphertext (stream header included) that the message carries.
 *
 * A plaintext of L bytes is L / 64 KiB full chunks tagged MESSAGE, then one chunk of
 * L mod 64 KiB bytes (possibly empty) tagged FINAL, so the receiver knows from L alone
 * where every chunk ends and which must be final: a truncated, extended or re-chunked
 * stream fails. Constant memory: one chunk buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CT_CHUNK (SOTTO_ATTACHMENT_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

enum { MODE_ENCRYPT = 1, MODE_DECRYPT = 2 };

struct sotto_attachment {
    crypto_generichash_state digest_state; /* first: it wants 64-byte alignment */
    crypto_secretstream_xchacha20poly1305_state stream;
    int mode, done, failed;
    uint8_t key[SOTTO_ATTACHMENT_KEYBYTES];
    uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES];
    uint64_t plain_size, chunks_total, chunks_done, ct_seen;
    uint8_t header[SOTTO_ATTACHMENT_HEADERBYTES];
    size_t have; /* bytes in header (then in buf) */
    /* One ciphertext chunk. Encryption writes at buf + 63 so that the chunk's ciphertext
     * proper (after its one tag byte) is 64-byte aligned: libsodium's ChaCha20 and
     * Poly1305 run measurably faster on aligned data than on a caller's odd address. */
    _Alignas(64) uint8_t buf[CT_CHUNK + 64];
};
#define ALIGNED_CHUNK(st) ((st)->buf + 63)

uint64_t sotto_attachment_ciphertext_size(uint64_t len)
{
    return SOTTO_ATTACHMENT_HEADERBYTES + len +
           (len / SOTTO_ATTACHMENT_CHUNK + 1) * crypto_secretstream_xchacha20poly1305_ABYTES;
}

_Static_assert(SOTTO_ATTACHMENT_FILE_MAX <= SOTTO_ATTACHMENT_PADDED_MAX,
               "every file fits its padding");

/* Buckets 541, then b + b/20 (about 5% apart, in integers so every client computes the same
 * ones): the server sees one of about 250 sizes, never the exact one (Signal pads the same
 * way). */
uint64_t sotto_attachment_padded_size(uint64_t len)
{
    uint64_t b = 541;
    if (len > SOTTO_ATTACHMENT_FILE_MAX)
        return 0;
    while (b < len)
        b += b / 20;
    return b < SOTTO_ATTACHMENT_PADDED_MAX ? b : SOTTO_ATTACHMENT_PADDED_MAX;
}

static sotto_attachment *attachment_alloc(void)
{
    sotto_attachment *st = aligned_alloc(64, (sizeof *st + 63) / 64 * 64);
    if (st)
        memset(st, 0, sizeof *st);
    return st;
}

void sotto_attachment_free(sotto_attachment *st)
{
    if (st == NULL)
        return;
    sodium_memzero(st, sizeof *st);
    free(st);
}

int sotto_attachment_encrypt_create(sotto_attachment **out, uint8_t key[SOTTO_ATTACHMENT_KEYBYTES],
                                    uint8_t header[SOTTO_ATTACHMENT_HEADERBYTES])
{
    sotto_attachment *st = attachment_alloc();
    *out = NULL;
    if (st == NULL)
        return SOTTO_E_NOMEM;
    st->mode = MODE_ENCRYPT;
    rng_buf(st->key, sizeof st->key);
    crypto_secretstream_xchacha20poly1305_init_push(&st->stream, header, st->key);
    crypto_generichash_init(&st->digest_state, NULL, 0, SOTTO_ATTACHMENT_DIGESTBYTES);
    crypto_generichash_update(&st->digest_state, header, SOTTO_ATTACHMENT_HEADERBYTES);
    memcpy(key, st->key, SOTTO_ATTACHMENT_KEYBYTES);
    *out = st;
    return 0;
}

int sotto_attachment_encrypt_chunk(sotto_attachment *st, const uint8_t *in, size_t in_len, int last,
                                   uint8_t *out)
{
    unsigned char tag = last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                             : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    size_t ct_len = in_len + crypto_secretstream_xchacha20poly1305_ABYTES;

    if (st->mode != MODE_ENCRYPT || st->done)
        return SOTTO_E_STATE;
    if (last ? in_len >= SOTTO_ATTACHMENT_CHUNK : in_len != SOTTO_ATTACHMENT_CHUNK)
        return SOTTO_E_INVALID; /* the chunking rule above is what makes truncation visible */
    /* Encrypt and hash in our aligned buffer, where the chunk is still in cache, and copy
     * out once (a copy costs a few percent; misalignment cost more). */
    crypto_secretstream_xchacha20poly1305_push(&st->stream, ALIGNED_CHUNK(st), NULL, in, in_len,
                                               NULL, 0, tag);
    crypto_generichash_update(&st->digest_state, ALIGNED_CHUNK(st), ct_len);
    memcpy(out, ALIGNED_CHUNK(st), ct_len);
    st->done = last;
    return 0;
}

int sotto_attachment_encrypt_final(sotto_attachment *st,
                                   uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES])
{
    if (st->mode != MODE_ENCRYPT || !st->done)
        return SOTTO_E_STATE;
    crypto_generichash_final(&st->digest_state, digest, SOTTO_ATTACHMENT_DIGESTBYTES);
    st->mode = 0;
    return 0;
}

int sotto_attachment_decrypt_create(sotto_attachment **out,
                                    const uint8_t key[SOTTO_ATTACHMENT_KEYBYTES],
                                    const uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES],
                                    uint64_t plaintext_size)
{
    sotto_attachment *st;
    *out = NULL;
    if (plaintext_size > UINT64_MAX / 2)
        return SOTTO_E_INVALID;
    if ((st = attachment_alloc()) == NULL)
        return SOTTO_E_NOMEM;
    st->mode = MODE_DECRYPT;
    memcpy(st->key, key, sizeof st->key);
    memcpy(st->digest, digest, sizeof st->digest);
    st->plain_size = plaintext_size;
    st->chunks_total = plaintext_size / SOTTO_ATTACHMENT_CHUNK + 1;
    crypto_generichash_init(&st->digest_state, NULL, 0, SOTTO_ATTACHMENT_DIGESTBYTES);
    *out = st;
    return 0;
}

/* Ciphertext length of the chunk being collected. */
static size_t current_chunk_len(const sotto_attachment *st)
{
    if (st->chunks_done + 1 < st->chunks_total)
        return CT_CHUNK;
    return st->plain_size % SOTTO_ATTACHMENT_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES;
}

static int pull_chunk(sotto_attachment *st, const uint8_t *c, size_t c_len, uint8_t *out,
                      size_t *produced)
{
    unsigned char tag;
    unsigned long long n;
    int last = st->chunks_done + 1 == st->chunks_total;

    if (crypto_secretstream_xchacha20poly1305_pull(&st->stream, out, &n, &tag, c, c_len, NULL, 0) !=
        0)
        return SOTTO_E_AUTH;
    if (tag != (last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                     : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
        return SOTTO_E_AUTH;
    st->chunks_done++;
    st->done = last;
    st->have = 0;
    *produced = (size_t)n;
    return 0;
}

static int absorb(sotto_attachment *st, const uint8_t *in, size_t in_len, uint8_t *out,
                  size_t *out_len)
{
    size_t used = 0, produced;
    int rc;

    while (used < in_len) {
        size_t chunk = current_chunk_len(st), want, take;
        if (st->done)
            return SOTTO_E_AUTH; /* bytes after the final chunk */
        if (st->have == 0 && in_len - used >= chunk) {
            /* A whole chunk in the input: decrypt it in place, no copy. */
            if ((rc = pull_chunk(st, in + used, chunk, out + *out_len, &produced)) != 0)
                return rc;
            used += chunk;
            *out_len += produced;
            continue;
        }
        want = chunk - st->have;
        take = in_len - used < want ? in_len - used : want;
        memcpy(st->buf + st->have, in + used, take);
        st->have += take;
        used += take;
        if (st->have < chunk)
            break;
        if ((rc = pull_chunk(st, st->buf, st->have, out + *out_len, &produced)) != 0)
            return rc;
        *out_len += produced;
    }
    return 0;
}

int sotto_attachment_decrypt_update(sotto_attachment *st, const uint8_t *in, size_t in_len,
                                    uint8_t *out, size_t *out_len)
{
    uint64_t expected = sotto_attachment_ciphertext_size(st->plain_size);
    size_t hdr = 0;
    int rc;

    *out_len = 0;
    if (st->mode != MODE_DECRYPT || st->failed)
        return SOTTO_E_STATE;
    rc = SOTTO_E_AUTH;
    if (in_len > expected - st->ct_seen)
        goto fail; /* more than the declared size */
    crypto_generichash_update(&st->digest_state, in, in_len);
    st->ct_seen += in_len;
    if (st->ct_seen - in_len < SOTTO_ATTACHMENT_HEADERBYTES) { /* still collecting the header */
        size_t off = (size_t)(st->ct_seen - in_len);
        hdr = SOTTO_ATTACHMENT_HEADERBYTES - off < in_len ? SOTTO_ATTACHMENT_HEADERBYTES - off
                                                          : in_len;
        memcpy(st->header + off, in, hdr);
        if (off + hdr == SOTTO_ATTACHMENT_HEADERBYTES &&
            crypto_secretstream_xchacha20poly1305_init_pull(&st->stream, st->header, st->key) != 0)
            goto fail;
    }
    if ((rc = absorb(st, in + hdr, in_len - hdr, out, out_len)) != 0)
        goto fail;
    return 0;
fail:
    st->failed = 1;
    sodium_memzero(out, *out_len);
    *out_len = 0;
    return rc;
}

int sotto_attachment_decrypt_final(sotto_attachment *st)
{
    uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES];
    int rc = SOTTO_E_AUTH;

    if (st->mode != MODE_DECRYPT)
        return SOTTO_E_STATE;
    crypto_generichash_final(&st->digest_state, digest, sizeof digest);
    if (!st->failed && st->done &&
        st->ct_seen == sotto_attachment_ciphertext_size(st->plain_size) &&
        sodium_memcmp(digest, st->digest, sizeof digest) == 0)
        rc = 0;
    st->mode = 0;
    st->failed = 1;
    return rc;
}
