/* owner.c: the password and code that prove the owner, and their refusals (see owner.h). */
#include "owner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "commands.h"
#include "rules.h"
#include "term.h"
#include "util.h"

char *owner_alloc(void) { return sodium_malloc(OWNER_SECRET_MAX); }

void owner_free(char *secret)
{
    if (secret != NULL)
        sodium_free(secret); /* sodium_free wipes before it frees */
}

int owner_secret(const cli_opts *o, const char *prompt, const char *what, char *out, size_t cap)
{
    int rc = -1;

    out[0] = '\0';
    if (o->password_stdin)
        rc = term_read_line(out, cap);
    else if (term_interactive())
        rc = term_prompt(prompt, out, cap, 0);
    if (rc != 0 || !out[0]) {
        sodium_memzero(out, cap);
        fprintf(stderr, "sotto: %s is required (--password-stdin or a terminal)\n", what);
        return EXIT_USAGE;
    }
    return 0;
}

int owner_new_password(const cli_opts *o, const char *prompt, char *out, size_t cap)
{
    char *again;
    int rc;

    if (o->password_stdin || !term_interactive())
        return owner_secret(o, prompt, "a new password", out, cap);
    if ((again = owner_alloc()) == NULL)
        return EXIT_LOCAL;
    for (int i = 0; i < OWNER_TRIES; i++) {
        if ((rc = owner_secret(o, prompt, "a new password", out, cap)) != 0 ||
            (rc = owner_secret(o, "The same again: ", "a new password", again, OWNER_SECRET_MAX)) !=
                0)
            break;
        if (!strcmp(out, again))
            break;
        fprintf(stderr, "The two did not match; again.\n");
        rc = EXIT_USAGE;
    }
    owner_free(again);
    if (rc != 0)
        sodium_memzero(out, cap);
    return rc;
}

int owner_code(const cli_opts *o, char *out, size_t cap)
{
    if (o->mfa_code != NULL)
        return str_copy(out, cap, o->mfa_code) == 0 ? 0 : EXIT_USAGE;
    return owner_secret(o, "Two-factor code (or a backup code): ", "a two-factor code (--mfa-code)",
                        out, cap);
}

int owner_code_if_on(client *c, const cli_opts *o, char *out, size_t cap)
{
    http_resp r = {0};
    int rc, on;

    out[0] = '\0';
    if ((rc = client_api(c, "GET", "/api/users/me", NULL, &r)) != 0)
        return rc;
    if (r.status != 200) {
        rc = client_fail_session(&r, "reading your account");
        http_resp_clear(&r);
        return rc;
    }
    on = json_is_true(json_object_get(r.body, "mfaEnabled"));
    http_resp_clear(&r);
    return on ? owner_code(o, out, cap) : 0;
}

int owner_fail(const http_resp *r, const json_t *rules, const char *what)
{
    const char *code = http_error_code(r);

    if (r->status == 401 && !strcmp(code, "invalid_credentials")) {
        fprintf(stderr, "sotto: %s: the password is not right\n", what);
        return EXIT_AUTH;
    }
    if (r->status == 401 && !strcmp(code, "mfa_required")) {
        fprintf(stderr, "sotto: %s: a two-factor code is required (--mfa-code)\n", what);
        return EXIT_AUTH;
    }
    if (r->status == 401 && !strcmp(code, "invalid_mfa_code")) {
        fprintf(stderr, "sotto: %s: the two-factor code is not valid\n", what);
        return EXIT_AUTH;
    }
    if (rules_refusal(r, rules, what) != NULL)
        return EXIT_REFUSED;
    return client_fail(r, what);
}

int owner_outcome(const cli_opts *o, const char *key, int value, const char *sentence)
{
    if (o->json)
        return print_json(json_pack("{s:b}", key, value));
    puts(sentence);
    return 0;
}

int owner_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);

    if (s != NULL) {
        puts(s);
        sodium_memzero(s, strlen(s));
    }
    free(s);
    owner_wipe_json(v);
    json_decref(v);
    return s != NULL ? 0 : EXIT_LOCAL;
}

void owner_wipe_json(json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    /* jansson owns the bytes and frees them next: wiping them in place is what is left. */
    if (json_is_string(v))
        sodium_memzero((void *)(uintptr_t)json_string_value(v), json_string_length(v));
    else if (json_is_array(v))
        json_array_foreach(v, i, x)
            owner_wipe_json(x);
    else if (json_is_object(v))
        json_object_foreach(v, k, x)
            owner_wipe_json(x);
}
