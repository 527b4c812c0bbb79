/*
 * fuzz_avatar: the header readers of the profile-picture gate (accounts/avatar_image.c), which
 * read an upload's pixel size before any decoder runs. Input: the bytes of an upload, read as
 * a PNG, a JPEG and a WebP in turn.
 *
 * Findings: a crash or overread (the readers walk JPEG markers by their lengths); a size
 * reported with an error, or a success without a size; a PNG size that is not the IHDR's
 * bytes; a JPEG or WebP size beyond what its header can express.
 */
#include <string.h>

#include "accounts/avatar_image.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the input. */
    uint8_t *in = malloc(size ? size : 1);
    uint32_t w, h;

    if (!in)
        abort();
    memcpy(in, data, size);
    if (avatar_dimensions("image/png", in, size, &w, &h) == 0) {
        FUZZ_CHECK(size >= 24);
        FUZZ_CHECK(w == be32(in + 16) && h == be32(in + 20));
    } else {
        FUZZ_CHECK(w == 0 && h == 0);
    }
    if (avatar_dimensions("image/jpeg", in, size, &w, &h) == 0)
        FUZZ_CHECK(w <= 0xFFFF && h <= 0xFFFF);
    else
        FUZZ_CHECK(w == 0 && h == 0);
    if (avatar_dimensions("image/webp", in, size, &w, &h) == 0)
        FUZZ_CHECK(w <= 1U << 24 && h <= 1U << 24);
    else
        FUZZ_CHECK(w == 0 && h == 0);
    FUZZ_CHECK(avatar_dimensions("image/gif", in, size, &w, &h) == -1);
    free(in);
    return 0;
}
