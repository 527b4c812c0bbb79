/* Profile pictures as hostile input (avatar_image.h): sniff, measure, decode, re-encode. */
#include "accounts/avatar_image.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gd.h>
#include <magic.h>

#define SNIFF_BYTES 65536 /* a signature is at the start: libmagic needs no more */

static const char *const allowed[] = {"image/png", "image/jpeg", "image/webp"};

static atomic_int decodes;

static void gd_quiet(int priority, const char *format, va_list args)
{
    (void)priority;
    (void)format;
    (void)args;
}

void avatar_image_init(void) { gdSetErrorMethod(gd_quiet); }

int avatar_sniff(const uint8_t *in, size_t len, const char **type)
{
    /* No decompression, archives or executables: libmagic looks at an image's signature. */
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS |
                           MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_CDF);
    const char *t;
    int rc = -1;

    *type = NULL;
    if (m && magic_load(m, NULL) == 0 &&
        (t = magic_buffer(m, in, len < SNIFF_BYTES ? len : SNIFF_BYTES)) != NULL) {
        rc = 0;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            if (!strcmp(t, allowed[i]))
                *type = allowed[i];
    }
    if (m)
        magic_close(m);
    return rc;
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le24(const uint8_t *p) { return (uint32_t)p[2] << 16 | le16(p); }

/* IHDR is the first chunk: width and height at 16 and 20. */
static int png_size(const uint8_t *p, size_t n, uint32_t *w, uint32_t *h)
{
    if (n < 24 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) || memcmp(p + 12, "IHDR", 4))
        return -1;
    *w = be32(p + 16);
    *h = be32(p + 20);
    return 0;
}

/* A frame header (SOF0..15 but DHT, JPG and DAC) carries precision, height, width. */
static int jpeg_is_sof(uint8_t m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Walks the markers from SOI to the first frame header, each segment by its length; bytes
 * that are not a marker where one must be are refused (libjpeg would skip them, and might
 * then find another frame than ours). */
static int jpeg_size(const uint8_t *p, size_t n, uint32_t *w, uint32_t *h)
{
    size_t i = 2;

    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return -1;
    while (i + 4 <= n) {
        uint8_t m = p[i + 1];

        if (p[i] != 0xFF)
            return -1;
        if (m == 0xFF) { /* fill */
            i++;
            continue;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* no length */
            i += 2;
            continue;
        }
        if (m == 0xD9 || m == 0xDA) /* the end, or scan data, before any frame */
            return -1;
        if (jpeg_is_sof(m)) {
            if (i + 9 > n)
                return -1;
            *h = be16(p + i + 5);
            *w = be16(p + i + 7);
            return 0;
        }
        if (be16(p + i + 2) < 2)
            return -1;
        i += 2 + be16(p + i + 2);
    }
    return -1;
}

/* RIFF....WEBP then the first chunk: VP8X (the canvas), VP8L (lossless) or "VP8 " (lossy). */
static int webp_size(const uint8_t *p, size_t n, uint32_t *w, uint32_t *h)
{
    if (n < 30 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WEBP", 4))
        return -1;
    if (!memcmp(p + 12, "VP8X", 4)) {
        *w = le24(p + 24) + 1;
        *h = le24(p + 27) + 1;
    } else if (!memcmp(p + 12, "VP8L", 4) && p[20] == 0x2F) {
        uint32_t v = le16(p + 21) | le16(p + 23) << 16;

        *w = (v & 0x3FFF) + 1;
        *h = (v >> 14 & 0x3FFF) + 1;
    } else if (!memcmp(p + 12, "VP8 ", 4) && !memcmp(p + 23, "\x9d\x01\x2a", 3)) {
        *w = le16(p + 26) & 0x3FFF;
        *h = le16(p + 28) & 0x3FFF;
    } else {
        return -1;
    }
    return 0;
}

int avatar_dimensions(const char *type, const uint8_t *in, size_t len, uint32_t *w, uint32_t *h)
{
    *w = *h = 0;
    if (!strcmp(type, "image/png"))
        return png_size(in, len, w, h);
    if (!strcmp(type, "image/jpeg"))
        return jpeg_size(in, len, w, h);
    if (!strcmp(type, "image/webp"))
        return webp_size(in, len, w, h);
    return -1;
}

static bool size_ok(uint32_t w, uint32_t h)
{
    return w >= 1 && h >= 1 && w <= AVATAR_MAX_SIDE && h <= AVATAR_MAX_SIDE &&
           (uint64_t)w * h <= AVATAR_MAX_PIXELS;
}

static gdImagePtr decode(const char *type, const uint8_t *in, size_t len)
{
    void *data =
        (void *)(uintptr_t)in; /* libgd's readers take a non-const pointer, and only read */

    if (len > INT32_MAX)
        return NULL;
    if (!strcmp(type, "image/png"))
        return gdImageCreateFromPngPtr((int)len, data);
    if (!strcmp(type, "image/jpeg"))
        return gdImageCreateFromJpegPtr((int)len, data);
    return gdImageCreateFromWebpPtr((int)len, data);
}

/* A new true-colour picture of src's pixels, scaled to fit AVATAR_SIDE (never up), with its
 * transparency kept. */
static gdImagePtr fit(gdImagePtr src)
{
    int sw = gdImageSX(src), sh = gdImageSY(src), dw = sw, dh = sh;
    gdImagePtr dst;

    if (sw > AVATAR_SIDE || sh > AVATAR_SIDE) {
        dw = sw >= sh ? AVATAR_SIDE : (int)((int64_t)sw * AVATAR_SIDE / sh);
        dh = sw >= sh ? (int)((int64_t)sh * AVATAR_SIDE / sw) : AVATAR_SIDE;
        dw = dw < 1 ? 1 : dw;
        dh = dh < 1 ? 1 : dh;
    }
    dst = gdImageCreateTrueColor(dw, dh);
    if (!dst)
        return NULL;
    gdImageAlphaBlending(dst, 0);
    gdImageSaveAlpha(dst, 1);
    gdImageFilledRectangle(dst, 0, 0, dw - 1, dh - 1,
                           gdTrueColorAlpha(0, 0, 0, gdAlphaTransparent));
    gdImageCopyResampled(dst, src, 0, 0, 0, 0, dw, dh, sw, sh);
    return dst;
}

/* WebP at falling qualities until it fits AVATAR_OUT_MAX. */
static enum avatar_verdict encode(gdImagePtr im, uint8_t **out, size_t *out_len)
{
    static const int qualities[] = {82, 60, 40};

    for (size_t i = 0; i < sizeof(qualities) / sizeof(qualities[0]); i++) {
        int size = 0;
        void *p = gdImageWebpPtrEx(im, &size, qualities[i]);

        if (!p)
            return AVATAR_FAILED;
        if (size > 0 && (size_t)size <= AVATAR_OUT_MAX) {
            *out = malloc((size_t)size);
            if (*out)
                memcpy(*out, p, (size_t)size);
            *out_len = (size_t)size;
            gdFree(p);
            return *out ? AVATAR_OK : AVATAR_FAILED;
        }
        gdFree(p);
    }
    return AVATAR_FAILED;
}

static enum avatar_verdict reencode_measured(const char *type, const uint8_t *in, size_t len,
                                             uint32_t w, uint32_t h, uint8_t **out, size_t *out_len)
{
    gdImagePtr src = decode(type, in, len), dst = NULL;
    enum avatar_verdict v = AVATAR_UNDECODABLE;

    /* The decoder must have read the size the header declared, nothing larger. */
    if (src && (uint32_t)gdImageSX(src) <= w && (uint32_t)gdImageSY(src) <= h) {
        dst = fit(src);
        v = dst ? encode(dst, out, out_len) : AVATAR_FAILED;
    }
    if (src)
        gdImageDestroy(src);
    if (dst)
        gdImageDestroy(dst);
    return v;
}

enum avatar_verdict avatar_reencode(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    const char *type;
    uint32_t w, h;
    enum avatar_verdict v;

    *out = NULL;
    *out_len = 0;
    if (avatar_sniff(in, len, &type))
        return AVATAR_FAILED;
    if (!type)
        return AVATAR_TYPE;
    if (avatar_dimensions(type, in, len, &w, &h) || !size_ok(w, h))
        return AVATAR_DIMENSIONS;
    if (atomic_fetch_add(&decodes, 1) >= AVATAR_DECODES_MAX) {
        atomic_fetch_sub(&decodes, 1);
        return AVATAR_BUSY;
    }
    v = reencode_measured(type, in, len, w, h, out, out_len);
    atomic_fetch_sub(&decodes, 1);
    return v;
}
