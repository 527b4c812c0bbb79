/* util.h: small helpers every part of the CLI uses: base64, UUIDs, clocks, exit codes. */
#ifndef SOTTO_CLI_UTIL_H
#define SOTTO_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes (documented in cli/README.md). */
enum {
    EXIT_OK_ = 0,
    EXIT_USAGE = 1,    /* bad command line */
    EXIT_NET = 2,      /* server unreachable or a server error */
    EXIT_AUTH = 3,     /* not logged in, bad credentials, MFA needed, device revoked */
    EXIT_TRUST = 4,    /* a verified contact's safety number changed: sending is held */
    EXIT_NOTFOUND = 5, /* no such user */
    EXIT_LOCAL = 6,    /* the local profile cannot be opened, read or written */
    EXIT_REFUSED = 7   /* the server refused the request (4xx other than the above) */
};

#define UUID_STRLEN 36

/* Standard base64 with padding. Returns a malloc()ed NUL-terminated string, NULL on OOM. */
char *b64_encode(const uint8_t *in, size_t len);
/* Decodes into a malloc()ed buffer (*out, *len); 0 or -1 on bad input / OOM. */
int b64_decode(const char *in, uint8_t **out, size_t *len);
/* Decodes exactly `len` bytes into a fixed buffer; 0 or -1. */
int b64_decode_fixed(const char *in, uint8_t *out, size_t len);

void uuid_v4(char out[UUID_STRLEN + 1]);
int uuid_parse(const char *s, uint8_t out[16]);
void uuid_format(const uint8_t in[16], char out[UUID_STRLEN + 1]);

/* Writes all n bytes to fd (again after a short write or EINTR); 0, or -1 with errno. */
int write_all(int fd, const uint8_t *p, size_t n);
uint64_t now_s(void);
uint64_t now_ms(void);
/* 1 when a test build runs as a client from before account keys (SOTTO_TEST_LEGACY_CLIENT). */
int test_legacy_client(void);

/* Bounded copy that always terminates; returns -1 when it had to truncate. */
int str_copy(char *dst, size_t cap, const char *src);

#endif
