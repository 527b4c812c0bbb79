/*
 * fuzz_payload.c: the message payload parser. What decodes must encode back to the
 * same bytes once fields it skips (tags 17 and up) are left out, and decode again to the
 * same fields: one encoding per payload.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
           (!x->has_call || memcmp(&x->call, &y->call, sizeof x->call) == 0);
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
