/* image_fixture: writes a small test picture to stdout for the avatar tests (tests/api,
 * tests/e2e, tests/web), so no binary fixture is committed.
 *
 *   image_fixture png|jpeg|webp WIDTH HEIGHT
 *
 * A gradient with a disc, so a re-encoding has real pixels to work on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gd.h>

static gdImagePtr draw(int w, int h)
{
    gdImagePtr im = gdImageCreateTrueColor(w, h);

    if (!im)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            gdImageSetPixel(im, x, y, gdTrueColor(x * 255 / w, y * 255 / h, 128));
    gdImageFilledEllipse(im, w / 2, h / 2, w / 2, h / 2, gdTrueColor(250, 200, 20));
    return im;
}

/* A side in pixels, 1..4096; 0 when malformed. */
static int side(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    return *s && !*end && v >= 1 && v <= 4096 ? (int)v : 0;
}

int main(int argc, char **argv)
{
    gdImagePtr im;
    void *out = NULL;
    int size = 0, w, h;

    if (argc != 4 || !(w = side(argv[2])) || !(h = side(argv[3]))) {
        fprintf(stderr, "usage: image_fixture png|jpeg|webp WIDTH HEIGHT\n");
        return 2;
    }
    im = draw(w, h);
    if (!im)
        return 1;
    if (!strcmp(argv[1], "png"))
        out = gdImagePngPtr(im, &size);
    else if (!strcmp(argv[1], "jpeg"))
        out = gdImageJpegPtr(im, &size, 85);
    else if (!strcmp(argv[1], "webp"))
        out = gdImageWebpPtrEx(im, &size, 85);
    gdImageDestroy(im);
    if (!out || size <= 0 || fwrite(out, 1, (size_t)size, stdout) != (size_t)size)
        return 1;
    gdFree(out);
    return fflush(stdout) ? 1 : 0;
}
