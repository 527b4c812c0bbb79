/* QR code to SVG: one path, one horizontal run of dark modules per subpath. */
#include "qr.h"

#include <qrencode.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct qr_buf {
    char *p;
    size_t len, cap;
} qr_buf;

static int qr_printf(qr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int qr_printf(qr_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        return -1;
    b->len += (size_t)n;
    return 0;
}

static int qr_render(const QRcode *q, qr_buf *b)
{
    int w = q->width, size = w + 2 * QR_QUIET_ZONE;

    if (qr_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                  "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                  "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                  size, size, size, size))
        return -1;
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w;) {
            int run = 0;
            while (x + run < w && (q->data[y * w + x + run] & 1))
                run++;
            if (run > 0 &&
                qr_printf(b, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE, run, run))
                return -1;
            x += run > 0 ? run : 1;
        }
    }
    return qr_printf(b, "\"/></svg>");
}

char *qr_svg(const char *text, size_t len)
{
    QRcode *q = NULL;
    qr_buf b = {NULL, 0, 0};

    if (text == NULL || len == 0 || len > QR_TEXT_MAX)
        return NULL;
    q = QRcode_encodeData((int)len, (const unsigned char *)text, 0, QR_ECLEVEL_M);
    if (q == NULL)
        goto fail;
    /* Worst case per module: "M177 177h1v1h-1z" (16) for every other module, plus framing. */
    b.cap = (size_t)q->width * (size_t)q->width * 10 + 512;
    if ((b.p = malloc(b.cap)) == NULL || qr_render(q, &b) != 0)
        goto fail;
    sodium_memzero(q->data, (size_t)q->width * (size_t)q->width);
    QRcode_free(q);
    return b.p;
fail:
    if (b.p != NULL) {
        sodium_memzero(b.p, b.cap);
        free(b.p);
    }
    if (q != NULL) {
        sodium_memzero(q->data, (size_t)q->width * (size_t)q->width);
        QRcode_free(q);
    }
    return NULL;
}
