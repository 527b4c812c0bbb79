/* cmd_mfa.c: two-factor sign-in: `mfa enable` (the secret as an otpauth URI and a QR code, a
 * code from the app turns it on, the backup codes shown once), `mfa disable` and
 * `mfa backup-codes` (new ones; the old stop working). Each needs the password, and all but
 * enable a current code. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "commands.h"
#include "owner.h"
#include "term.h"
#include "util.h"

static void print_codes(const json_t *codes)
{
    const json_t *v;
    size_t i;

    json_array_foreach(codes, i, v) {
        char s[64];
        printf("  %s\n", term_safe(s, sizeof s, json_string_value(v)));
        sodium_memzero(s, sizeof s);
    }
    printf("Each works once, in place of a code from the app. Keep them somewhere safe: they "
           "are not shown again.\n");
}

/* How to add the account to an authenticator app: the URI, the secret, a QR on a terminal. */
static void show_secret(const cli_opts *o, const json_t *enrol)
{
    const char *url = json_string_value(json_object_get(enrol, "otpauthUrl"));
    const char *secret = json_string_value(json_object_get(enrol, "secret"));
    char s1[512], s2[128];

    if (o->json) {
        owner_print_json(
            json_pack("{s:s,s:s}", "otpauthUrl", url ? url : "", "secret", secret ? secret : ""));
        return;
    }
    printf("Add this account to an authenticator app: scan the code, or enter the secret.\n");
    if (url != NULL && isatty(STDOUT_FILENO))
        term_qr((const uint8_t *)url, strlen(url));
    printf("otpauth URI: %s\nsecret: %s\n", term_safe(s1, sizeof s1, url),
           term_safe(s2, sizeof s2, secret));
    sodium_memzero(s1, sizeof s1);
    sodium_memzero(s2, sizeof s2);
}

/* A code from the app turns two-factor on; a terminal may try again. */
static int mfa_confirm(client *c, const cli_opts *o)
{
    char code[OWNER_CODE_MAX];
    http_resp r = {0};
    int rc = EXIT_AUTH;

    for (int i = 0; i < OWNER_TRIES && rc == EXIT_AUTH; i++) {
        if ((rc = owner_secret(o, "Code from the app: ", "a code from the app", code,
                               sizeof code)) != 0)
            break;
        json_t *body = json_pack("{s:s}", "code", code);
        sodium_memzero(code, sizeof code);
        rc = client_api(c, "POST", "/api/auth/mfa/verify", body, &r);
        owner_wipe_json(body);
        json_decref(body);
        if (rc == 0 && r.status != 200)
            rc = owner_fail(&r, NULL, "turning two-factor on");
        http_resp_clear(&r);
        if (rc == EXIT_AUTH && (o->password_stdin || !term_interactive()))
            break;
        if (rc == EXIT_AUTH)
            fprintf(stderr, "That code did not work; try the one the app shows now.\n");
    }
    return rc;
}

static int mfa_enable(client *c, const cli_opts *o, const char *pw)
{
    json_t *body = json_pack("{s:s}", "password", pw);
    http_resp r = {0};
    int rc;

    if ((rc = client_api(c, "POST", "/api/auth/mfa/enable", body, &r)) != 0)
        goto done;
    if (r.status != 200) {
        rc = r.status == 409 ? EXIT_REFUSED : owner_fail(&r, NULL, "two-factor set-up");
        if (r.status == 409)
            fprintf(stderr, "sotto: two-factor sign-in is already on\n");
        goto done;
    }
    show_secret(o, r.body);
    if ((rc = mfa_confirm(c, o)) != 0)
        goto done;
    if (o->json) {
        owner_print_json(json_pack("{s:b,s:O}", "enabled", 1, "backupCodes",
                                   json_object_get(r.body, "backupCodes")));
    } else {
        printf("Two-factor sign-in is on. Backup codes:\n");
        print_codes(json_object_get(r.body, "backupCodes"));
    }
done:
    owner_wipe_json(r.body);
    http_resp_clear(&r);
    owner_wipe_json(body);
    json_decref(body);
    return rc;
}

/* disable and backup-codes: the password and a code. */
static int mfa_with_code(client *c, const cli_opts *o, const char *pw, int regenerate)
{
    char code[OWNER_CODE_MAX];
    json_t *body = NULL;
    http_resp r = {0};
    int rc;

    if ((rc = owner_code(o, code, sizeof code)) != 0)
        return rc;
    body = json_pack("{s:s,s:s}", "password", pw, "code", code);
    sodium_memzero(code, sizeof code);
    rc = client_api(c, "POST", regenerate ? "/api/auth/mfa/backup-codes" : "/api/auth/mfa/disable",
                    body, &r);
    if (rc == 0 && r.status != 200) {
        const char *why = json_string_value(json_object_get(
            json_object_get(json_object_get(r.body, "error"), "details"), "reason"));
        if (why != NULL && !strcmp(why, "mfa_not_enabled")) {
            fprintf(stderr, "sotto: two-factor sign-in is not on\n");
            rc = EXIT_REFUSED;
        } else {
            rc = owner_fail(&r, NULL, regenerate ? "new backup codes" : "turning two-factor off");
        }
    } else if (rc == 0 && regenerate && o->json) {
        owner_print_json(json_pack("{s:O}", "backupCodes", json_object_get(r.body, "backupCodes")));
    } else if (rc == 0 && regenerate) {
        printf("New backup codes (the old ones no longer work):\n");
        print_codes(json_object_get(r.body, "backupCodes"));
    } else if (rc == 0) {
        owner_outcome(o, "enabled", 0, "Two-factor sign-in is off.");
    }
    owner_wipe_json(r.body);
    http_resp_clear(&r);
    owner_wipe_json(body);
    json_decref(body);
    return rc;
}

int cmd_mfa(const cli_opts *o)
{
    const char *what = o->npos == 1 ? o->pos[0] : "";
    char *pw = NULL;
    client c;
    int rc;

    if (strcmp(what, "enable") && strcmp(what, "disable") && strcmp(what, "backup-codes")) {
        fprintf(stderr, "sotto: usage: mfa enable | mfa disable | mfa backup-codes\n");
        return EXIT_USAGE;
    }
    if ((pw = owner_alloc()) == NULL)
        return EXIT_LOCAL;
    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = owner_secret(o, "Password: ", "your password", pw, OWNER_SECRET_MAX)) != 0)
        goto done;
    if (!strcmp(what, "enable"))
        rc = mfa_enable(&c, o, pw);
    else
        rc = mfa_with_code(&c, o, pw, !strcmp(what, "backup-codes"));
done:
    owner_free(pw);
    client_close(&c);
    return rc;
}
