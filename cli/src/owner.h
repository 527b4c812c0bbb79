/* owner.h: what proves the account's owner is at the keyboard, not just its tokens: the
 * password and, with two-factor on, a code. Secrets are read without echo (or one per line of
 * stdin under --password-stdin, in the order they are asked for) into buffers the caller
 * wipes; they are never printed or logged. And the refusals of the routes that ask for them:
 * a wrong password there does not mean the session ended. */
#ifndef SOTTO_CLI_OWNER_H
#define SOTTO_CLI_OWNER_H

#include <jansson.h>

#include "client.h"

#define OWNER_SECRET_MAX 1024 /* a password (the server takes 1024 characters at most) */
#define OWNER_CODE_MAX 64     /* a TOTP or backup code */
#define OWNER_TRIES 5         /* a terminal asks again this often after a refusal */

/* sodium_malloc()ed, for a password; NULL on OOM. Free with owner_free. */
char *owner_alloc(void);
void owner_free(char *secret);

/* One secret: the next line of stdin with --password-stdin, else a prompt without echo on a
 * terminal. EXIT_USAGE naming `what` when neither can give one. */
int owner_secret(const cli_opts *o, const char *prompt, const char *what, char *out, size_t cap);
/* A new password: like owner_secret, and typed twice on a terminal (asked again until both
 * match, OWNER_TRIES times). */
int owner_new_password(const cli_opts *o, const char *prompt, char *out, size_t cap);
/* A two-factor code: --mfa-code, else as owner_secret. */
int owner_code(const cli_opts *o, char *out, size_t cap);
/* The code a route needs when the account has two-factor on (GET /api/users/me says);
 * out is "" when it is off. */
int owner_code_if_on(client *c, const cli_opts *o, char *out, size_t cap);
/* A refusal of a route that takes the password: 401 invalid_credentials, mfa_required,
 * invalid_mfa_code are EXIT_AUTH with the field named (the session goes on); a field
 * refusal is told in words (rules.h) and EXIT_REFUSED; anything else as client_fail. */
int owner_fail(const http_resp *r, const json_t *rules, const char *what);
/* Wipes every string in v (a response that carried secrets or backup codes) before it is
 * freed: jansson frees without wiping. */
void owner_wipe_json(json_t *v);
/* What an account action did: {"key": value} with --json, else the sentence. 0. */
int owner_outcome(const cli_opts *o, const char *key, int value, const char *sentence);
/* print_json for output that holds secrets: the copies are wiped once printed. */
int owner_print_json(json_t *v);

#endif
