/*
 * api.c: library set-up, error strings and the size functions that mirror the size
 * macros of sotto.h for callers that cannot see macros (WebAssembly, FFI).
 */
#include "internal.h"

int sotto_init(void)
{
    return sodium_init() < 0 ? SOTTO_E_NOMEM : 0; /* 1 (already initialised) is fine */
}

const char *sotto_strerror(int err)
{
    switch (err) {
    case SOTTO_OK: return "ok";
    case SOTTO_E_INVALID: return "malformed input";
    case SOTTO_E_AUTH: return "authentication failed";
    case SOTTO_E_NOMEM: return "out of memory";
    case SOTTO_E_BUFFER: return "output buffer too small";
    case SOTTO_E_VERSION: return "unsupported version";
    case SOTTO_E_BOUNDS: return "protocol bound exceeded";
    case SOTTO_E_REPLAY: return "message already seen";
    case SOTTO_E_UNTRUSTED: return "peer identity changed";
    case SOTTO_E_NO_SESSION: return "no session";
    case SOTTO_E_NO_KEY: return "pre-key not available";
    case SOTTO_E_STATE: return "call out of order";
    case SOTTO_E_KEY_MISMATCH: return "peer key differs from the listed one";
    default: return "unknown error";
    }
}

size_t sotto_keybytes(void) { return SOTTO_KEYBYTES; }
size_t sotto_sigbytes(void) { return SOTTO_SIGBYTES; }
size_t sotto_plaintext_max(void) { return SOTTO_PLAINTEXT_MAX; }
size_t sotto_envelope_max(void) { return SOTTO_ENVELOPE_MAX; }
