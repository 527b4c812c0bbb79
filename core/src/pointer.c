/*
 * pointer.c: the files a message carries, payload tag 17 (docs/protocol.md, "Attachments").
 * count (u8, 1..10), then per file: id (16) || key (32) || digest (32) || size (u64) ||
 * width (u32) || height (u32) || duration_ms (u32) || name length (u8) || name ||
 * type length (u8) || type || thumbnail length (u16) || thumbnail. Every field is checked on
 * both sides, so what one client can send the other can read, and a hostile name, type or
 * thumbnail is refused before any client shows or saves it.
 */
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(((sotto_attachment_pointer *)0)->key) == SOTTO_ATTACHMENT_KEYBYTES,
               "pointer key size");
_Static_assert(sizeof(((sotto_attachment_pointer *)0)->digest) == SOTTO_ATTACHMENT_DIGESTBYTES,
               "pointer digest size");

#define FIXED_BYTES (SOTTO_UUIDBYTES + 32u + 32u + 8u + 3u * 4u + 1u + 1u + 2u)

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) without C0 controls or
 * DEL, and without path separators: a receiver may save the file under this name. */
static int name_ok(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    if (n == 0 || n > SOTTO_ATTACHMENT_NAME_MAX || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
        return 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t k = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1fu : k == 3 ? c & 0x0fu : c & 0x07u;
        if (k == 0 || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + j] & 0x3fu);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || cp == 0x7f ||
            cp == '/' || cp == '\\')
            return 0;
        i += k;
    }
    return 1;
}

/* RFC 6838's restricted names, lower case: one '/', a token on each side. */
static int type_ok(const char *s, size_t n)
{
    size_t slash = 0, slashes = 0;
    if (n < 3 || n > SOTTO_ATTACHMENT_TYPE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/') {
            slash = i;
            slashes++;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     (c != '\0' && strchr("!#$&^_.+-", c) != NULL))) {
            return 0;
        }
    }
    return slashes == 1 && slash > 0 && slash < n - 1;
}

/* None, or the start of a JPEG, PNG or WebP file: what both clients can draw. */
static int thumbnail_ok(const uint8_t *t, size_t n)
{
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff}, png[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10};
    if (n == 0)
        return 1;
    if (n > SOTTO_ATTACHMENT_THUMB_MAX || t == NULL)
        return 0;
    return (n >= sizeof jpeg && memcmp(t, jpeg, sizeof jpeg) == 0) ||
           (n >= sizeof png && memcmp(t, png, sizeof png) == 0) ||
           (n >= 12 && memcmp(t, "RIFF", 4) == 0 && memcmp(t + 8, "WEBP", 4) == 0);
}

static int pointer_ok(const sotto_attachment_pointer *a)
{
    return a->size <= SOTTO_ATTACHMENT_FILE_MAX && a->name != NULL &&
           name_ok(a->name, a->name_len) && a->type != NULL && type_ok(a->type, a->type_len) &&
           thumbnail_ok(a->thumbnail, a->thumbnail_len);
}

size_t pointers_len(const sotto_attachment_pointer *a, size_t n)
{
    size_t len = 1;
    if (n == 0 || n > SOTTO_ATTACHMENTS_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!pointer_ok(&a[i]))
            return 0;
        len += FIXED_BYTES + a[i].name_len + a[i].type_len + a[i].thumbnail_len;
    }
    return len;
}

void pointers_write(wbuf *w, const sotto_attachment_pointer *a, size_t n)
{
    uint8_t t[2];
    wb_u8(w, (uint8_t)n);
    for (size_t i = 0; i < n; i++) {
        wb_bytes(w, a[i].id, sizeof a[i].id);
        wb_bytes(w, a[i].key, sizeof a[i].key);
        wb_bytes(w, a[i].digest, sizeof a[i].digest);
        wb_u64(w, a[i].size);
        wb_u32(w, a[i].width);
        wb_u32(w, a[i].height);
        wb_u32(w, a[i].duration_ms);
        wb_u8(w, (uint8_t)a[i].name_len);
        wb_bytes(w, (const uint8_t *)a[i].name, a[i].name_len);
        wb_u8(w, (uint8_t)a[i].type_len);
        wb_bytes(w, (const uint8_t *)a[i].type, a[i].type_len);
        t[0] = (uint8_t)(a[i].thumbnail_len >> 8);
        t[1] = (uint8_t)a[i].thumbnail_len;
        wb_bytes(w, t, 2);
        wb_bytes(w, a[i].thumbnail, a[i].thumbnail_len);
    }
}

static void read_one(rbuf *r, sotto_attachment_pointer *a)
{
    const uint8_t *t;
    rb_bytes(r, a->id, sizeof a->id);
    rb_bytes(r, a->key, sizeof a->key);
    rb_bytes(r, a->digest, sizeof a->digest);
    a->size = rb_u64(r);
    a->width = rb_u32(r);
    a->height = rb_u32(r);
    a->duration_ms = rb_u32(r);
    a->name_len = rb_u8(r);
    a->name = (const char *)rb_view(r, a->name_len);
    a->type_len = rb_u8(r);
    a->type = (const char *)rb_view(r, a->type_len);
    t = rb_view(r, 2);
    a->thumbnail_len = t ? ((size_t)t[0] << 8) | t[1] : 0;
    a->thumbnail = a->thumbnail_len ? rb_view(r, a->thumbnail_len) : NULL;
}

int pointers_read(sotto_payload *p, const uint8_t *v, uint32_t n)
{
    rbuf r = {v, n, 0, 0};
    size_t count = rb_u8(&r);
    if (r.err || count == 0 || count > SOTTO_ATTACHMENTS_MAX)
        return SOTTO_E_INVALID;
    for (size_t i = 0; i < count; i++) {
        read_one(&r, &p->attachments[i]);
        if (r.err || !pointer_ok(&p->attachments[i]))
            return SOTTO_E_INVALID;
    }
    if (r.off != r.len) /* nothing after the last file: one encoding only */
        return SOTTO_E_INVALID;
    p->n_attachments = count;
    return 0;
}
