/* QR codes as compact SVG (libqrencode), for the otpauth URL shown when enabling MFA.
 * The SVG holds only numbers and fixed markup: the encoded text never reaches the markup.
 * Thread-safe (libqrencode is reentrant when built with pthreads, as Debian's is). */
#ifndef SOTTO_AUTH_QR_H
#define SOTTO_AUTH_QR_H

#include <stddef.h>

#define QR_TEXT_MAX 1024U /* bytes; enough for any otpauth URL we build */
#define QR_QUIET_ZONE 4   /* modules of margin, as ISO/IEC 18004 asks */

/* Encodes text[0..len) (1..QR_TEXT_MAX bytes, any bytes) at error-correction level M and
 * returns a NUL-terminated SVG document ("<svg ...><path d=.../></svg>") that the caller frees
 * with free(); NULL on bad input or failure. If text holds a secret, wipe the SVG before
 * freeing (it encodes the secret). */
char *qr_svg(const char *text, size_t len);

#endif
