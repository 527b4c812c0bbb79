/*
 * wire.c: bounded big-endian byte writers and readers shared by every encoder and
 * parser in libsotto. An overflow sets a sticky error instead of touching memory.
 */
#include <string.h>

#include "internal.h"

void wb_bytes(wbuf *w, const uint8_t *b, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = 1;
        return;
    }
    if (n && w->p) /* p == NULL: only count */
        memcpy(w->p + w->len, b, n);
    w->len += n;
}

void wb_u8(wbuf *w, uint8_t v) { wb_bytes(w, &v, 1); }

void wb_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4];
    store_u32(b, v);
    wb_bytes(w, b, 4);
}

void wb_u64(wbuf *w, uint64_t v)
{
    uint8_t b[8];
    store_u64(b, v);
    wb_bytes(w, b, 8);
}

const uint8_t *rb_view(rbuf *r, size_t n)
{
    const uint8_t *p;
    if (r->err || n > r->len - r->off) {
        r->err = 1;
        return NULL;
    }
    p = r->p + r->off;
    r->off += n;
    return p;
}

void rb_bytes(rbuf *r, uint8_t *b, size_t n)
{
    const uint8_t *p = rb_view(r, n);
    if (p)
        memcpy(b, p, n);
    else
        memset(b, 0, n);
}

uint8_t rb_u8(rbuf *r)
{
    const uint8_t *p = rb_view(r, 1);
    return p ? p[0] : 0;
}

uint32_t rb_u32(rbuf *r)
{
    const uint8_t *p = rb_view(r, 4);
    return p ? load_u32(p) : 0;
}

uint64_t rb_u64(rbuf *r)
{
    const uint8_t *p = rb_view(r, 8);
    return p ? ((uint64_t)load_u32(p) << 32) | load_u32(p + 4) : 0;
}

void store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t load_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void store_u64(uint8_t *p, uint64_t v)
{
    store_u32(p, (uint32_t)(v >> 32));
    store_u32(p + 4, (uint32_t)v);
}
