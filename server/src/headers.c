/* The security header set. The CSP allows only our own origin: scripts from 'self' plus
 * 'wasm-unsafe-eval' (libsotto runs as WebAssembly), no plugins, no <base>, no framing, and
 * Trusted Types so a DOM XSS sink cannot take a plain string. connect-src is 'self' only: CSP
 * level 3 browsers map it to ws:/wss: of the same host, and a bare "wss:" would let injected
 * code reach any host. img-src/media-src allow blob: and data: for decrypted attachments and
 * avatars shown from memory. */
#include "headers.h"

#define CSP "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " \
	    "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " \
	    "connect-src 'self'; worker-src 'self' blob:; font-src 'self'; " \
	    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " \
	    "frame-ancestors 'none'; require-trusted-types-for 'script'"

#define COMMON \
	"content-security-policy: " CSP "\r\n" \
	"x-content-type-options: nosniff\r\n" \
	"referrer-policy: no-referrer\r\n" \
	"permissions-policy: camera=(self), microphone=(self), geolocation=(), payment=(), " \
	"usb=(), interest-cohort=()\r\n" \
	"cross-origin-opener-policy: same-origin\r\n" \
	"cross-origin-resource-policy: same-origin\r\n" \
	"x-frame-options: DENY\r\n"

#define HSTS "strict-transport-security: max-age=63072000; includeSubDomains\r\n"

static const char plain_block[] = COMMON;
static const char tls_block[] = COMMON HSTS;

const char *headers_security(bool tls, size_t *len)
{
	*len = tls ? sizeof(tls_block) - 1 : sizeof(plain_block) - 1;
	return tls ? tls_block : plain_block;
}

const char *headers_csp(void)
{
	return CSP;
}
