/* The hostile-image gate of profile pictures: an upload's type by its content (libmagic)
 * against the allow-list, its pixel size read from the format's own header before anything
 * is decoded, then a decode and a fresh encoding (libgd) at most AVATAR_SIDE pixels a side.
 * Nothing of the upload survives but its pixels: metadata (EXIF, GPS, comments), trailing
 * bytes and other chunks are gone. Blocking and CPU-bound: workers only. */
#ifndef SOTTO_ACCOUNTS_AVATAR_IMAGE_H
#define SOTTO_ACCOUNTS_AVATAR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define AVATAR_SIDE 512                 /* the stored picture fits in this square */
#define AVATAR_MAX_SIDE 8192            /* pixels a side an upload may declare */
#define AVATAR_MAX_PIXELS (4096 * 3072) /* and in all (12.6 MP: a phone photo) */
#define AVATAR_OUT_TYPE "image/webp"    /* what is stored and served */
#define AVATAR_OUT_MAX (200 * 1024)     /* bytes of the encoding, at most */
/* Decodes at once, server-wide: each may hold AVATAR_MAX_PIXELS * 4 bytes (48 MiB) and the
 * decoder's own buffers, so memory stays bounded whatever the pool's size. */
#define AVATAR_DECODES_MAX 2

enum avatar_verdict {
    AVATAR_OK,
    AVATAR_TYPE,        /* not PNG, JPEG or WebP by its content */
    AVATAR_DIMENSIONS,  /* no readable size in the header, or over the bounds above */
    AVATAR_UNDECODABLE, /* an allowed type that does not decode (or animated WebP) */
    AVATAR_BUSY,        /* AVATAR_DECODES_MAX decodes run already: try again */
    AVATAR_FAILED,      /* the server's failure (memory, libmagic's database) */
};

/* The type of in by its content into *type when it is one of the allowed ("image/png",
 * "image/jpeg", "image/webp"), else NULL there; -1 when libmagic could not run. */
int avatar_sniff(const uint8_t *in, size_t len, const char **type);

/* The pixel size a PNG, JPEG or WebP header declares; 0, or -1 when none is found. Reads
 * only the header (and, for JPEG, walks the markers to the frame header). */
int avatar_dimensions(const char *type, const uint8_t *in, size_t len, uint32_t *w, uint32_t *h);

/* The whole gate: *out (malloc'd, *out_len bytes of AVATAR_OUT_TYPE) on AVATAR_OK. */
enum avatar_verdict avatar_reencode(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* libgd reports to stderr by default: hostile uploads would write there at will. Once, at
 * start. */
void avatar_image_init(void);

#endif
