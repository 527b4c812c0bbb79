/*
 * payload.c: what a message is, inside the ciphertext (docs/protocol.md, "Payload").
 * version (1) then fields as tag (u8) || length (u32 BE) || value, tags strictly
 * increasing, so every payload has exactly one encoding. Tags 1-5 are required;
 * tag 16 is a call signal's binding; tag 17 the files a message carries (pointer.c); unknown
 * tags from 18 up are skipped (later fields); unknown tags below 18 are refused, so a field
 * that changes meaning needs a new version. Content types that are about another message (edit,
 * delete, retry, resend) must name it (tag 7); delete and retry carry no body; a call signal, and
 * only a call signal, carries the call binding (tag 16); files (tag 17) ride only on text, sync and
 * resend. Unknown content types decode: readers skip them.
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
    TAG_CALL = 16, /* call_id || caller_device_id || callee_device_id || call_type || signal */
    TAG_ATTACHMENTS = 17,
    TAG_FIRST_UNKNOWN = 18
};
#define CALL_FIELD_BYTES (3u * SOTTO_UUIDBYTES + 2u)
#define BODY_MAX (SOTTO_PLAINTEXT_MAX - 128u)

#ifdef __EMSCRIPTEN__
#include <stddef.h>
/* core/wasm/src/sotto.ts reads and writes sotto_payload by these wasm32 offsets. */
_Static_assert(
    offsetof(sotto_payload, content_type) == 32 && offsetof(sotto_payload, sent_at_ms) == 40 &&
        offsetof(sotto_payload, body) == 48 && offsetof(sotto_payload, body_len) == 52 &&
        offsetof(sotto_payload, has_reply_to) == 56 && offsetof(sotto_payload, reply_to) == 60 &&
        offsetof(sotto_payload, has_edit_of) == 76 && offsetof(sotto_payload, edit_of) == 80 &&
        offsetof(sotto_payload, has_call) == 96 && offsetof(sotto_payload, call) == 100 &&
        offsetof(sotto_payload, n_attachments) == 152 &&
        offsetof(sotto_payload, attachments) == 160 && sizeof(sotto_attachment_pointer) == 128 &&
        sizeof(sotto_payload) <= 1600,
    "sotto_payload layout changed: update core/wasm/src/sotto.ts");
#endif

static void field(wbuf *w, uint8_t tag, const uint8_t *v, size_t n)
{
    wb_u8(w, tag);
    wb_u32(w, (uint32_t)n);
    wb_bytes(w, v, n);
}

static int call_ok(const sotto_call_binding *c)
{
    return (c->call_type == SOTTO_CALL_AUDIO || c->call_type == SOTTO_CALL_VIDEO) &&
           c->signal >= SOTTO_SIGNAL_OFFER && c->signal <= SOTTO_SIGNAL_RESTART_ANSWER;
}

static void write_call(wbuf *w, const sotto_call_binding *c)
{
    wb_u8(w, TAG_CALL);
    wb_u32(w, CALL_FIELD_BYTES);
    wb_bytes(w, c->call_id, SOTTO_UUIDBYTES);
    wb_bytes(w, c->caller_device_id, SOTTO_UUIDBYTES);
    wb_bytes(w, c->callee_device_id, SOTTO_UUIDBYTES);
    wb_u8(w, c->call_type);
    wb_u8(w, c->signal);
}

static int read_call(sotto_call_binding *c, const uint8_t *v, uint32_t n)
{
    if (n != CALL_FIELD_BYTES)
        return SOTTO_E_INVALID;
    memcpy(c->call_id, v, SOTTO_UUIDBYTES);
    memcpy(c->caller_device_id, v + SOTTO_UUIDBYTES, SOTTO_UUIDBYTES);
    memcpy(c->callee_device_id, v + 2 * SOTTO_UUIDBYTES, SOTTO_UUIDBYTES);
    c->call_type = v[3 * SOTTO_UUIDBYTES];
    c->signal = v[3 * SOTTO_UUIDBYTES + 1];
    return call_ok(c) ? 0 : SOTTO_E_INVALID;
}

int sotto_call_binding_same_call(const sotto_call_binding *a, const sotto_call_binding *b)
{
    return memcmp(a->call_id, b->call_id, SOTTO_UUIDBYTES) == 0 &&
           memcmp(a->caller_device_id, b->caller_device_id, SOTTO_UUIDBYTES) == 0 &&
           memcmp(a->callee_device_id, b->callee_device_id, SOTTO_UUIDBYTES) == 0 &&
           a->call_type == b->call_type;
}

/* The rules tying the content type to the other fields (the same for encode and decode). */
static int shape_ok(const sotto_payload *p)
{
    uint8_t t = p->content_type;
    int targeted = t == SOTTO_CONTENT_EDIT || t == SOTTO_CONTENT_DELETE ||
                   t == SOTTO_CONTENT_RETRY || t == SOTTO_CONTENT_RESEND;
    int bodiless = t == SOTTO_CONTENT_DELETE || t == SOTTO_CONTENT_RETRY;

    int call = t == SOTTO_CONTENT_CALL;
    int files = t == SOTTO_CONTENT_TEXT || t == SOTTO_CONTENT_SYNC || t == SOTTO_CONTENT_RESEND;

    return t != 0 && (!targeted || p->has_edit_of) && (!bodiless || p->body_len == 0) &&
           call == (p->has_call != 0) && (!call || call_ok(&p->call)) &&
           (p->n_attachments == 0 || files) && p->n_attachments <= SOTTO_ATTACHMENTS_MAX;
}

static int write_payload(wbuf *w, const sotto_payload *p)
{
    uint8_t t[8];
    size_t files = p->n_attachments ? pointers_len(p->attachments, p->n_attachments) : 0;
    if (p->body_len > BODY_MAX || (p->body_len && p->body == NULL) || !shape_ok(p) ||
        (p->n_attachments && files == 0))
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
    if (p->has_call)
        write_call(w, &p->call);
    if (files) {
        wb_u8(w, TAG_ATTACHMENTS);
        wb_u32(w, (uint32_t)files);
        pointers_write(w, p->attachments, p->n_attachments);
    }
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
    case TAG_CALL: p->has_call = 1; return read_call(&p->call, v, n);
    case TAG_ATTACHMENTS: return pointers_read(p, v, n);
    default: return tag >= TAG_FIRST_UNKNOWN ? 0 : SOTTO_E_INVALID;
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
