/* cmd_delete_account.c: `account delete`: the account and everything of it on the server, for
 * good, then this device's local data. A loud warning, the username typed back on a terminal
 * (--yes without one), the password and, with two-factor on, a code. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "commands.h"
#include "owner.h"
#include "term.h"
#include "util.h"

static int confirm(const client *c, const cli_opts *o)
{
    char typed[128], s[128];
    const char *name = c->username ? c->username : "";

    term_safe(s, sizeof s, name);
    fprintf(stderr,
            "!!! This deletes the account %s FOR GOOD: its devices and keys, the messages it\n"
            "!!! sent (for everyone), its conversations, blocks and call records. It cannot be\n"
            "!!! undone, and this profile's local history is wiped too.\n",
            s);
    if (!term_interactive() || o->password_stdin) {
        if (o->yes)
            return 0;
        fprintf(stderr, "sotto: nothing deleted: confirm with --yes (no terminal to ask on)\n");
        return EXIT_USAGE;
    }
    fprintf(stderr, "Type the username %s to delete it: ", s);
    if (term_prompt("", typed, sizeof typed, 1) != 0 || !name[0] || strcmp(typed, name) != 0) {
        fprintf(stderr, "sotto: nothing deleted (the username was not typed)\n");
        return EXIT_USAGE;
    }
    return 0;
}

/* The profile's files (and the directory, when nothing else is in it): the account is gone. */
static void wipe_profile(const char *dir)
{
    static const char *const FILES[] = {"sotto.db-wal", "sotto.db-shm", "sotto.db", "profile.key",
                                        "profile.salt"};
    char p[4200];

    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++)
        if (snprintf(p, sizeof p, "%s/%s", dir, FILES[i]) < (int)sizeof p)
            unlink(p);
    rmdir(dir);
}

static int delete_now(client *c, const cli_opts *o)
{
    char *pw = owner_alloc(), code[OWNER_CODE_MAX] = "";
    json_t *body = NULL;
    http_resp r = {0};
    int rc;

    if (pw == NULL)
        return EXIT_LOCAL;
    if ((rc = owner_secret(o, "Password: ", "your password", pw, OWNER_SECRET_MAX)) != 0 ||
        (rc = owner_code_if_on(c, o, code, sizeof code)) != 0)
        goto done;
    body = json_pack("{s:s}", "password", pw);
    if (code[0])
        json_object_set_new(body, "mfaCode", json_string(code));
    sodium_memzero(code, sizeof code);
    if ((rc = client_api(c, "DELETE", "/api/users/me", body, &r)) == 0 && r.status != 200)
        rc = owner_fail(&r, NULL, "deleting the account");
done:
    http_resp_clear(&r);
    owner_wipe_json(body);
    json_decref(body);
    owner_free(pw);
    return rc;
}

int cmd_account(const cli_opts *o)
{
    char dir[sizeof((client *)0)->profile];
    client c;
    int rc;

    if (o->npos != 1 || strcmp(o->pos[0], "delete") != 0) {
        fprintf(stderr, "sotto: usage: account delete\n");
        return EXIT_USAGE;
    }
    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = confirm(&c, o)) == 0)
        rc = delete_now(&c, o);
    str_copy(dir, sizeof dir, c.profile);
    client_close(&c);
    if (rc != 0)
        return rc;
    wipe_profile(dir);
    if (o->json)
        return print_json(json_pack("{s:b}", "deleted", 1));
    printf("The account is deleted, and this device's local data with it.\n");
    return 0;
}
