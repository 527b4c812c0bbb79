/* The security header set. The CSP allows only our own origin: scripts from 'self' plus
 * 'wasm-unsafe-eval' (libsotto runs as WebAssembly), no plugins, no <base>, no framing, and
 * Trusted Types so a DOM XSS sink cannot take a plain string. connect-src is 'self' only: CSP
 * level 3 browsers map it to ws:/wss: of the same host, and a bare "wss:" would let injected
 * code reach any host. img-src/media-src allow blob: and data: for decrypted attachments and
 * avatars shown from memory. trusted-types names the web client's one policy
 * (web/src/lib/trusted.ts), so no other script can create a policy of its own.
 *
 * The same set also goes to libwebsockets as the vhost's canned headers, which lws adds to
 * every status line it writes: its own answers (a refused URI, a failed upgrade) carry them
 * too. Our responses are written with that status line, so http.c adds nothing itself. */
#include "net/headers.h"

#include <libwebsockets.h>

#define CSP                                                                         \
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "                    \
    "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "        \
    "connect-src 'self'; worker-src 'self' blob:; font-src 'self'; "                \
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " \
    "frame-ancestors 'none'; require-trusted-types-for 'script'; "                  \
    "trusted-types sotto-script-url"

#define PERMISSIONS                                                          \
    "camera=(self), microphone=(self), geolocation=(), payment=(), usb=(), " \
    "interest-cohort=()"

#define COMMON                                      \
    "content-security-policy: " CSP "\r\n"          \
    "x-content-type-options: nosniff\r\n"           \
    "referrer-policy: no-referrer\r\n"              \
    "permissions-policy: " PERMISSIONS "\r\n"       \
    "cross-origin-opener-policy: same-origin\r\n"   \
    "cross-origin-resource-policy: same-origin\r\n" \
    "x-frame-options: DENY\r\n"

#define HSTS "strict-transport-security: max-age=63072000; includeSubDomains\r\n"

/* The vhost list, most specific last (lws walks it in order). Names end with ':' as lws
 * writes them verbatim. */
static const struct lws_protocol_vhost_options hsts = {
    NULL, NULL, "strict-transport-security:", "max-age=63072000; includeSubDomains"};
#define VH(var, next, name, value) \
    static const struct lws_protocol_vhost_options var = {next, NULL, name, value}
VH(vh_xfo_tls, &hsts, "x-frame-options:", "DENY");
VH(vh_xfo, NULL, "x-frame-options:", "DENY");
VH(vh_corp_tls, &vh_xfo_tls, "cross-origin-resource-policy:", "same-origin");
VH(vh_corp, &vh_xfo, "cross-origin-resource-policy:", "same-origin");
VH(vh_coop_tls, &vh_corp_tls, "cross-origin-opener-policy:", "same-origin");
VH(vh_coop, &vh_corp, "cross-origin-opener-policy:", "same-origin");
VH(vh_pp_tls, &vh_coop_tls, "permissions-policy:", PERMISSIONS);
VH(vh_pp, &vh_coop, "permissions-policy:", PERMISSIONS);
VH(vh_rp_tls, &vh_pp_tls, "referrer-policy:", "no-referrer");
VH(vh_rp, &vh_pp, "referrer-policy:", "no-referrer");
VH(vh_xcto_tls, &vh_rp_tls, "x-content-type-options:", "nosniff");
VH(vh_xcto, &vh_rp, "x-content-type-options:", "nosniff");
VH(vh_csp_tls, &vh_xcto_tls, "content-security-policy:", CSP);
VH(vh_csp, &vh_xcto, "content-security-policy:", CSP);

const struct lws_protocol_vhost_options *headers_vhost_list(bool tls)
{
    return tls ? &vh_csp_tls : &vh_csp;
}

static const char plain_block[] = COMMON;
static const char tls_block[] = COMMON HSTS;

const char *headers_security(bool tls, size_t *len)
{
    *len = tls ? sizeof(tls_block) - 1 : sizeof(plain_block) - 1;
    return tls ? tls_block : plain_block;
}

const char *headers_csp(void) { return CSP; }
