/*
 * fuzz_payload.c: the message payload parser. What decodes must encode back to the
 * same bytes once fields it skips (tags 18 and up) are left out, and decode again to the
 * same fields: one encoding per payload.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(const void *a, size_t na, const void *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static int same_files(const sotto_payload *x, const sotto_payload *y)
{
    if (x->n_attachments != y->n_attachments)
        return 0;
    for (size_t i = 0; i < x->n_attachments; i++) {
        const sotto_attachment_pointer *a = &x->attachments[i], *b = &y->attachments[i];
        if (memcmp(a->id, b->id, sizeof a->id) != 0 || memcmp(a->key, b->key, sizeof a->key) != 0 ||
            memcmp(a->digest, b->digest, sizeof a->digest) != 0 || a->size != b->size ||
            a->width != b->width || a->height != b->height || a->duration_ms != b->duration_ms ||
            !same_bytes(a->name, a->name_len, b->name, b->name_len) ||
            !same_bytes(a->type, a->type_len, b->type, b->type_len) ||
            !same_bytes(a->thumbnail, a->thumbnail_len, b->thumbnail, b->thumbnail_len))
            return 0;
    }
    return 1;
}

static int same(const sotto_payload *x, const sotto_payload *y)
{
    return memcmp(x->client_message_id, y->client_message_id, SOTTO_UUIDBYTES) == 0 &&
           memcmp(x->conversation_id, y->conversation_id, SOTTO_UUIDBYTES) == 0 &&
           x->content_type == y->content_type && x->sent_at_ms == y->sent_at_ms &&
           x->body_len == y->body_len &&
           (x->body_len == 0 || memcmp(x->body, y->body, x->body_len) == 0) &&
           x->has_reply_to == y->has_reply_to && x->has_edit_of == y->has_edit_of &&
           (!x->has_reply_to || memcmp(x->reply_to, y->reply_to, SOTTO_UUIDBYTES) == 0) &&
           (!x->has_edit_of || memcmp(x->edit_of, y->edit_of, SOTTO_UUIDBYTES) == 0) &&
           x->has_call == y->has_call &&
           (!x->has_call || memcmp(&x->call, &y->call, sizeof x->call) == 0) && same_files(x, y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sotto_payload p, q;
    uint8_t *buf;
    size_t cap, n;

    (void)fixture_get(); /* sotto_init, and the same keys in every run */
    if (sotto_payload_decode(&p, data, size) != 0)
        return 0;
    cap = sotto_payload_encoded_size(&p);
    if (cap == 0 || cap > size || (buf = malloc(cap)) == NULL)
        fixture_fail("decoded payload has no encoding, or a longer one");
    if (sotto_payload_encode(&p, buf, cap, &n) != 0 || n != cap)
        fixture_fail("decoded payload does not encode");
    if (sotto_payload_decode(&q, buf, n) != 0 || !same(&p, &q))
        fixture_fail("payload does not survive a round trip");
    free(buf);
    return 0;
}
