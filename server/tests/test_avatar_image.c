/* The hostile-image gate of profile pictures (accounts/avatar_image.c): the type comes from
 * the content, the pixel size from each format's header (crafted headers, truncated ones,
 * and bombs that declare far more than the bound), and a re-encoding keeps no byte of the
 * upload's metadata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gd.h>

#include "accounts/avatar_image.h"

#define MARKER "sotto-marker-7f3a"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The PNG signature and an IHDR declaring w x h (no valid CRC: only the header is read). */
static size_t png_header(uint8_t *b, uint32_t w, uint32_t h)
{
    memcpy(b, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    memcpy(b + 24, "\x08\x02\0\0\0\0\0\0\0", 9);
    return 33;
}

static void test_png_dimensions(void **state)
{
    uint8_t b[64];
    uint32_t w, h;

    (void)state;
    png_header(b, 640, 480);
    assert_int_equal(avatar_dimensions("image/png", b, 33, &w, &h), 0);
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    assert_int_equal(avatar_dimensions("image/png", b, 20, &w, &h), -1); /* cut short */
    memcpy(b + 12, "IDAT", 4);
    assert_int_equal(avatar_dimensions("image/png", b, 33, &w, &h), -1); /* IHDR must lead */
}

static void test_jpeg_dimensions(void **state)
{
    /* SOI, an APP0 of 16 bytes, a COM, then SOF0 (8-bit, 300 high, 1200 wide). */
    static const uint8_t j[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',
                                0,    1,    1,    0,    0,    1,    0,    1,    0,    0,
                                0xFF, 0xFE, 0x00, 0x04, 'h',  'i',  0xFF, 0xFF, 0xC0, 0x00,
                                0x11, 0x08, 0x01, 0x2C, 0x04, 0xB0, 0x03};
    uint8_t bad[sizeof j];
    uint32_t w, h;

    (void)state;
    assert_int_equal(avatar_dimensions("image/jpeg", j, sizeof j, &w, &h), 0);
    assert_int_equal(w, 1200);
    assert_int_equal(h, 300);
    assert_int_equal(avatar_dimensions("image/jpeg", j, 30, &w, &h), -1); /* no frame yet */
    memcpy(bad, j, sizeof j);
    bad[20] = 0x00; /* not a marker where one must be */
    assert_int_equal(avatar_dimensions("image/jpeg", bad, sizeof bad, &w, &h), -1);
    memcpy(bad, j, sizeof j);
    bad[28] = 0xDA; /* a scan before any frame */
    assert_int_equal(avatar_dimensions("image/jpeg", bad, sizeof bad, &w, &h), -1);
}

static void test_webp_dimensions(void **state)
{
    uint8_t b[32] = "RIFF\0\0\0\0WEBPVP8X";
    uint32_t w, h;

    (void)state;
    /* VP8X: canvas width-1 and height-1 as 24-bit little-endian at 24 and 27. */
    b[24] = 0x2F; /* 30000 - 1 = 0x752F */
    b[25] = 0x75;
    b[27] = 0x2F;
    b[28] = 0x75;
    assert_int_equal(avatar_dimensions("image/webp", b, 30, &w, &h), 0);
    assert_int_equal(w, 30000);
    assert_int_equal(h, 30000);
    memcpy(b + 12, "VP8 ", 4);
    assert_int_equal(avatar_dimensions("image/webp", b, 30, &w, &h), -1); /* no start code */
    memcpy(b + 23, "\x9d\x01\x2a\x40\x01\xf0\x00", 7);
    assert_int_equal(avatar_dimensions("image/webp", b, 30, &w, &h), 0);
    assert_int_equal(w, 320);
    assert_int_equal(h, 240);
}

static void test_sniff(void **state)
{
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)"
                              "</script></svg>";
    static const char html[] = "<!DOCTYPE html><html><body><script>alert(1)</script></body>";
    const char *t = "x";
    uint8_t b[64];

    (void)state;
    assert_int_equal(avatar_sniff((const uint8_t *)svg, sizeof svg - 1, &t), 0);
    assert_null(t);
    assert_int_equal(avatar_sniff((const uint8_t *)html, sizeof html - 1, &t), 0);
    assert_null(t);
    png_header(b, 1, 1);
    assert_int_equal(avatar_sniff(b, 33, &t), 0);
    assert_non_null(t);
    assert_string_equal(t, "image/png");
}

/* A bomb is refused from its header: nothing is decoded. */
static void test_bomb_refused(void **state)
{
    uint8_t b[64], *out = (uint8_t *)"x";
    size_t n = 1;

    (void)state;
    png_header(b, 30000, 30000);
    assert_int_equal(avatar_reencode(b, 33, &out, &n), AVATAR_DIMENSIONS);
    assert_null(out);
    png_header(b, AVATAR_MAX_SIDE + 1, 1);
    assert_int_equal(avatar_reencode(b, 33, &out, &n), AVATAR_DIMENSIONS);
    png_header(b, 4096, 4096); /* each side fine, too many in all */
    assert_int_equal(avatar_reencode(b, 33, &out, &n), AVATAR_DIMENSIONS);
    png_header(b, 64, 64); /* a header that does not decode */
    assert_int_equal(avatar_reencode(b, 33, &out, &n), AVATAR_UNDECODABLE);
}

/* A JPEG with a comment: the re-encoding is WebP, scaled to fit, without the comment. */
static void test_reencode_strips(void **state)
{
    gdImagePtr im = gdImageCreateTrueColor(1024, 256);
    int size = 0;
    uint8_t *jpeg, *with, *out = NULL;
    size_t n = 0, mlen = strlen(MARKER), wlen;
    uint32_t w, h;

    (void)state;
    assert_non_null(im);
    gdImageFilledRectangle(im, 0, 0, 1023, 255, gdTrueColor(10, 120, 200));
    jpeg = gdImageJpegPtr(im, &size, 80);
    gdImageDestroy(im);
    assert_non_null(jpeg);
    /* SOI, then a COM segment with the marker, then the rest */
    wlen = (size_t)size + 4 + mlen;
    with = malloc(wlen);
    assert_non_null(with);
    memcpy(with, jpeg, 2);
    with[2] = 0xFF;
    with[3] = 0xFE;
    with[4] = (uint8_t)((mlen + 2) >> 8);
    with[5] = (uint8_t)(mlen + 2);
    memcpy(with + 6, MARKER, mlen);
    memcpy(with + 6 + mlen, jpeg + 2, (size_t)size - 2);
    gdFree(jpeg);
    assert_int_equal(avatar_reencode(with, wlen, &out, &n), AVATAR_OK);
    assert_non_null(out);
    assert_true(n > 0 && n <= AVATAR_OUT_MAX);
    assert_null(memmem(out, n, MARKER, mlen));
    assert_int_equal(avatar_dimensions("image/webp", out, n, &w, &h), 0);
    assert_int_equal(w, AVATAR_SIDE);
    assert_int_equal(h, AVATAR_SIDE / 4);
    free(out);
    free(with);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_dimensions),  cmocka_unit_test(test_jpeg_dimensions),
        cmocka_unit_test(test_webp_dimensions), cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_bomb_refused),    cmocka_unit_test(test_reencode_strips),
    };

    avatar_image_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
