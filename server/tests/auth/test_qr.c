/* auth.qr: the SVG is well-formed, holds nothing of the input, and its dark modules decode
 * back to the same matrix libqrencode produced; hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

/* Re-draws the path ("Mx yhNv1h-Nz" runs) into a grid and compares with libqrencode. */
static void check_matrix(const char *svg, const char *text, size_t len)
{
    QRcode *q = QRcode_encodeData((int)len, (const unsigned char *)text, 0, QR_ECLEVEL_M);
    int w, size, x, y, n, dark = 0;
    const char *p = strstr(svg, " d=\"");
    char *grid;
    assert_non_null(q);
    w = q->width;
    size = w + 2 * QR_QUIET_ZONE;
    grid = calloc((size_t)size * (size_t)size, 1);
    assert_non_null(p);
    p += 4;
    while (*p == 'M') {
        int consumed = 0, n2 = 0;
        assert_int_equal(sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &consumed), 4);
        assert_int_equal(n, n2);
        for (int i = 0; i < n; i++)
            grid[y * size + x + i] = 1;
        p += consumed;
    }
    assert_int_equal(*p, '"');
    for (y = 0; y < size; y++)
        for (x = 0; x < size; x++) {
            int in = x >= QR_QUIET_ZONE && y >= QR_QUIET_ZONE && x < w + QR_QUIET_ZONE &&
                     y < w + QR_QUIET_ZONE;
            int want = in ? (q->data[(y - QR_QUIET_ZONE) * w + x - QR_QUIET_ZONE] & 1) : 0;
            assert_int_equal(grid[y * size + x], want);
            dark += want;
        }
    assert_true(dark > 0);
    free(grid);
    QRcode_free(q);
}

static void test_svg(void **state)
{
    const char *url = "otpauth://totp/Sotto:alice%40example.com?secret=GEZDGNBVGY3TQOJQ"
                      "&issuer=Sotto&algorithm=SHA1&digits=6&period=30";
    char *svg = qr_svg(url, strlen(url));
    (void)state;
    assert_non_null(svg);
    assert_int_equal(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 52),
                     0);
    assert_int_equal(strcmp(svg + strlen(svg) - 6, "</svg>"), 0);
    assert_null(strstr(svg, "GEZDGNBVGY3TQOJQ"));
    assert_null(strstr(svg, "alice"));
    check_matrix(svg, url, strlen(url));
    free(svg);
}

static void test_hostile(void **state)
{
    const char markup[] = "\"><script>alert(1)</script><!--&amp;\0\xff";
    char *svg;
    char big[QR_TEXT_MAX + 1];
    (void)state;
    svg = qr_svg(markup, sizeof markup - 1);
    assert_non_null(svg);
    assert_null(strstr(svg, "script"));
    assert_null(strstr(svg, "<!--"));
    for (const char *c = svg; *c; c++) /* only ASCII printable, no stray quotes in the path */
        assert_true(*c >= 0x20 && *c < 0x7f);
    check_matrix(svg, markup, sizeof markup - 1);
    free(svg);
    assert_null(qr_svg("", 0));
    assert_null(qr_svg(NULL, 5));
    memset(big, 'a', sizeof big);
    assert_null(qr_svg(big, sizeof big));
    svg = qr_svg(big, QR_TEXT_MAX);
    assert_non_null(svg);
    check_matrix(svg, big, QR_TEXT_MAX);
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_svg), cmocka_unit_test(test_hostile)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
