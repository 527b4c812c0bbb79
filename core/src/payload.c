/*
 * payload.c: what a message is, inside the ciphertext (docs/protocol.md, "Payload").
 * version (1) then fields as tag (u8) || length (u32 BE) || value, tags strictly
 * increasing, so every payload has exactly one encoding. Tags 1-5 are required;
 * unknown tags from 16 up are skipped (later fields: attachments, call signals);
 * unknown tags below 16 are refused, so a field that changes meaning needs a new version.
 * Content types that are about another message (edit, delete, retry, resend) must name it
 * (tag 7); delete and retry carry no body. Unknown content types decode: readers skip them.
 */
#include <string.h>

#include "internal.h"

enum {
    TAG_CLIENT_MESSAGE_ID = 1,
    TAG_CONVERSATION_ID = 2,
    TAG_CONTENT_TYPE = 3,
    TAG_SENT_AT = 4,
    TAG_BODY = 5,
    TAG_REPLY_TO = 6,
    TAG_EDIT_OF = 7,
    TAG_FIRST_OPTIONAL = 16
};
#define BODY_MAX (SOTTO_PLAINTEXT_MAX - 128u)

#ifdef __EMSCRIPTEN__
#include <stddef.h>
/* core/wasm/src/sotto.ts reads and writes sotto_payload by these wasm32 offsets. */
_Static_assert(offsetof(sotto_payload, content_type) == 32 &&
                   offsetof(sotto_payload, sent_at_ms) == 40 &&
                   offsetof(sotto_payload, body) == 48 && offsetof(sotto_payload, body_len) == 52 &&
                   offsetof(sotto_payload, has_reply_to) == 56 &&
                   offsetof(sotto_payload, reply_to) == 60 &&
                   offsetof(sotto_payload, has_edit_of) == 76 &&
                   offsetof(sotto_payload, edit_of) == 80 && sizeof(sotto_payload) <= 128,
               "sotto_payload layout changed: update core/wasm/src/sotto.ts");
#endif

static void field(wbuf *w, uint8_t tag, const uint8_t *v, size_t n)
{
    wb_u8(w, tag);
    wb_u32(w, (uint32_t)n);
    wb_bytes(w, v, n);
}

/* The rules tying the content type to the other fields (the same for encode and decode). */
static int shape_ok(const sotto_payload *p)
{
    uint8_t t = p->content_type;
    int targeted = t == SOTTO_CONTENT_EDIT || t == SOTTO_CONTENT_DELETE ||
                   t == SOTTO_CONTENT_RETRY || t == SOTTO_CONTENT_RESEND;
    int bodiless = t == SOTTO_CONTENT_DELETE || t == SOTTO_CONTENT_RETRY;

    return t != 0 && (!targeted || p->has_edit_of) && (!bodiless || p->body_len == 0);
}

static int write_payload(wbuf *w, const sotto_payload *p)
{
    uint8_t t[8];
    if (p->body_len > BODY_MAX || (p->body_len && p->body == NULL) || !shape_ok(p))
        return SOTTO_E_INVALID;
    wb_u8(w, SOTTO_PAYLOAD_VERSION);
    field(w, TAG_CLIENT_MESSAGE_ID, p->client_message_id, SOTTO_UUIDBYTES);
    field(w, TAG_CONVERSATION_ID, p->conversation_id, SOTTO_UUIDBYTES);
    field(w, TAG_CONTENT_TYPE, &p->content_type, 1);
    store_u64(t, p->sent_at_ms);
    field(w, TAG_SENT_AT, t, 8);
    field(w, TAG_BODY, p->body, p->body_len);
    if (p->has_reply_to)
        field(w, TAG_REPLY_TO, p->reply_to, SOTTO_UUIDBYTES);
    if (p->has_edit_of)
        field(w, TAG_EDIT_OF, p->edit_of, SOTTO_UUIDBYTES);
    return 0;
}

size_t sotto_payload_encoded_size(const sotto_payload *p)
{
    wbuf w = {NULL, 0, SIZE_MAX, 0};
    return write_payload(&w, p) == 0 ? w.len : 0;
}

int sotto_payload_encode(const sotto_payload *p, uint8_t *out, size_t cap, size_t *len)
{
    wbuf w = {out, 0, cap, 0};
    int rc = write_payload(&w, p);
    if (rc != 0)
        return rc;
    if (w.err)
        return SOTTO_E_BUFFER;
    *len = w.len;
    return 0;
}

/* Stores one known field; the length must be the field's exact size. */
static int read_field(sotto_payload *p, uint8_t tag, const uint8_t *v, uint32_t n)
{
    switch (tag) {
    case TAG_CLIENT_MESSAGE_ID:
    case TAG_CONVERSATION_ID:
    case TAG_REPLY_TO:
    case TAG_EDIT_OF:
        if (n != SOTTO_UUIDBYTES)
            return SOTTO_E_INVALID;
        memcpy(tag == TAG_CLIENT_MESSAGE_ID ? p->client_message_id
               : tag == TAG_CONVERSATION_ID ? p->conversation_id
               : tag == TAG_REPLY_TO        ? p->reply_to
                                            : p->edit_of,
               v, n);
        p->has_reply_to |= tag == TAG_REPLY_TO;
        p->has_edit_of |= tag == TAG_EDIT_OF;
        return 0;
    case TAG_CONTENT_TYPE:
        if (n != 1 || v[0] == 0)
            return SOTTO_E_INVALID;
        p->content_type = v[0];
        return 0;
    case TAG_SENT_AT:
        if (n != 8)
            return SOTTO_E_INVALID;
        p->sent_at_ms = ((uint64_t)load_u32(v) << 32) | load_u32(v + 4);
        return 0;
    case TAG_BODY:
        if (n > BODY_MAX)
            return SOTTO_E_INVALID;
        p->body = v;
        p->body_len = n;
        return 0;
    default: return tag >= TAG_FIRST_OPTIONAL ? 0 : SOTTO_E_INVALID;
    }
}

int sotto_payload_decode(sotto_payload *p, const uint8_t *in, size_t len)
{
    rbuf r = {in, len, 0, 0};
    unsigned last = 0, required = 0;
    int rc;

    memset(p, 0, sizeof *p);
    if (len == 0)
        return SOTTO_E_INVALID;
    if (rb_u8(&r) != SOTTO_PAYLOAD_VERSION)
        return SOTTO_E_VERSION;
    while (r.off < r.len) {
        uint8_t tag = rb_u8(&r);
        uint32_t n = rb_u32(&r);
        const uint8_t *v = rb_view(&r, n);
        if (r.err || tag <= last)
            goto invalid;
        if ((rc = read_field(p, tag, v, n)) != 0)
            goto invalid;
        if (tag <= TAG_BODY)
            required++;
        last = tag;
    }
    if (required == 5 && shape_ok(p))
        return 0;
invalid:
    memset(p, 0, sizeof *p);
    return SOTTO_E_INVALID;
}
