/* cmd_password.c: `password change` (signed in: the current password, a new one and, with
 * two-factor on, a code; the other devices are signed out), `password forgot` (a reset link
 * by mail) and `password reset` (the link or its token, and a new password; every device is
 * signed out). On a terminal the server's rules are shown first, and a new password it
 * refuses is asked for again with the rule it broke. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "commands.h"
#include "owner.h"
#include "profile.h"
#include "rules.h"
#include "term.h"
#include "util.h"

static int interactive(const cli_opts *o) { return term_interactive() && !o->password_stdin; }

/* Posts body (with "newPassword" set from a fresh answer each round) until it is taken or a
 * refusal is final: on a terminal a new password the rules refuse is asked again, with the
 * rule. Returns 0 with *r holding a 2xx, or an EXIT_* code. */
static int post_new_password(client *c, const cli_opts *o, const char *path, json_t *body,
                             const json_t *rules, const char *what, http_resp *r)
{
    char *pw = owner_alloc();
    const char *field;
    int rc = 0;

    if (pw == NULL)
        return EXIT_LOCAL;
    if (interactive(o))
        rules_explain_password(rules);
    for (int i = 0; i < OWNER_TRIES; i++) {
        http_resp_clear(r);
        if ((rc = owner_new_password(o, "New password: ", pw, OWNER_SECRET_MAX)) != 0)
            break;
        owner_wipe_json(json_object_get(body, "newPassword")); /* the last round's */
        json_object_set_new(body, "newPassword", json_string(pw));
        sodium_memzero(pw, OWNER_SECRET_MAX);
        if ((rc = client_api(c, "POST", path, body, r)) != 0 || r->status / 100 == 2)
            break;
        if (r->status != 400 || (field = rules_refusal(r, rules, what)) == NULL) {
            rc = owner_fail(r, rules, what);
            break;
        }
        rc = EXIT_REFUSED;
        if (strcmp(field, "newPassword") != 0 || !interactive(o))
            break;
    }
    owner_free(pw);
    return rc;
}

static int password_change(client *c, const cli_opts *o)
{
    char *cur = owner_alloc(), code[OWNER_CODE_MAX] = "";
    json_t *rules = NULL, *body = NULL;
    http_resp r = {0};
    int rc;

    if (cur == NULL)
        return EXIT_LOCAL;
    if ((rc = client_require_login(c)) != 0 || (rc = rules_fetch(c, &rules)) != 0 ||
        (rc = owner_secret(o, "Current password: ", "your current password", cur,
                           OWNER_SECRET_MAX)) != 0 ||
        (rc = owner_code_if_on(c, o, code, sizeof code)) != 0)
        goto done;
    body = json_pack("{s:s}", "currentPassword", cur);
    if (code[0])
        json_object_set_new(body, "mfaCode", json_string(code));
    sodium_memzero(code, sizeof code);
    rc = post_new_password(c, o, "/api/auth/change-password", body, rules, "password change", &r);
    if (rc == 0)
        owner_outcome(o, "changed", 1, "Password changed. Your other devices are signed out.");
done:
    http_resp_clear(&r);
    owner_wipe_json(body);
    json_decref(body);
    json_decref(rules);
    owner_free(cur);
    return rc;
}

/* forgot and reset need no session: the address (or link) is all they have. */
static int password_forgot(client *c, const cli_opts *o)
{
    char email[256], *saved = NULL;
    json_t *body;
    http_resp r = {0};
    int rc = 0;

    if (o->email != NULL)
        rc = str_copy(email, sizeof email, o->email) == 0 ? 0 : EXIT_USAGE;
    else if (c->st != NULL && ls_kv_get_str(c->st, "email", &saved) == 0)
        str_copy(email, sizeof email, saved);
    else if (!term_interactive() || term_prompt("Email: ", email, sizeof email, 1) != 0 ||
             !email[0])
        rc = EXIT_USAGE;
    free(saved);
    if (rc != 0) {
        fprintf(stderr, "sotto: the account's email is required (--email or a terminal)\n");
        return rc;
    }
    body = json_pack("{s:s}", "email", email);
    if ((rc = client_api(c, "POST", "/api/auth/forgot-password", body, &r)) == 0 && r.status != 202)
        rc = owner_fail(&r, NULL, "asking for a reset link");
    else if (rc == 0)
        owner_outcome(o, "requested", 1,
                      "If this address belongs to an account whose address is verified, a reset "
                      "link is on its way. Then: sotto password reset");
    json_decref(body);
    http_resp_clear(&r);
    return rc;
}

/* The token from a pasted link (".../reset-password?token=T&...") or the token itself. */
static const char *link_token(char *s)
{
    char *t = strstr(s, "token=");

    t = t != NULL ? t + strlen("token=") : s;
    t[strcspn(t, "&# \t")] = '\0';
    return t;
}

static int password_reset(client *c, const cli_opts *o)
{
    char *link = owner_alloc();
    json_t *rules = NULL, *body = NULL;
    http_resp r = {0};
    int rc;

    if (link == NULL)
        return EXIT_LOCAL;
    if ((rc = rules_fetch(c, &rules)) != 0 ||
        (rc = owner_secret(o, "The link from the mail (or its token): ", "the reset link", link,
                           OWNER_SECRET_MAX)) != 0)
        goto done;
    body = json_pack("{s:s}", "token", link_token(link));
    sodium_memzero(link, OWNER_SECRET_MAX);
    rc = post_new_password(c, o, "/api/auth/reset-password", body, rules, "password reset", &r);
    if (rc == 0)
        owner_outcome(o, "reset", 1,
                      "Password reset. Every device is signed out: sign in again with sotto "
                      "login.");
done:
    owner_wipe_json(body);
    http_resp_clear(&r);
    json_decref(body);
    json_decref(rules);
    owner_free(link);
    return rc;
}

/* A profile when there is one (its server and email), else just the server to ask. */
static int open_quietly(client *c, const cli_opts *o)
{
    char dir[4096], db[4200];

    memset(c, 0, sizeof *c);
    if (profile_dir(dir, sizeof dir, o->profile) == 0 &&
        snprintf(db, sizeof db, "%s/sotto.db", dir) < (int)sizeof db && access(db, F_OK) == 0)
        return client_open(c, o, 0);
    c->o = o;
    c->server = strdup(o->server ? o->server : DEFAULT_SERVER);
    return c->server != NULL ? 0 : EXIT_LOCAL;
}

int cmd_password(const cli_opts *o)
{
    const char *what = o->npos == 1 ? o->pos[0] : "";
    client c;
    int rc;

    if (strcmp(what, "change") && strcmp(what, "forgot") && strcmp(what, "reset")) {
        fprintf(stderr, "sotto: usage: password change | password forgot | password reset\n");
        return EXIT_USAGE;
    }
    if ((rc = open_quietly(&c, o)) == 0)
        rc = !strcmp(what, "change")   ? password_change(&c, o)
             : !strcmp(what, "forgot") ? password_forgot(&c, o)
                                       : password_reset(&c, o);
    client_close(&c);
    return rc;
}
