/* cmd_account.c: register, login, logout, whoami and devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "commands.h"
#include "devices.h"
#include "devlist.h"
#include "keys_maint.h"
#include "owner.h"
#include "rules.h"
#include "term.h"
#include "trust.h"
#include "util.h"

#define PW_MAX OWNER_SECRET_MAX

/* A value from its option, else a prompt; EXIT_USAGE when neither is possible. */
static int ask(const char *given, const char *prompt, char *out, size_t cap)
{
    if (given != NULL)
        return str_copy(out, cap, given) == 0 ? 0 : EXIT_USAGE;
    if (!term_interactive() || term_prompt(prompt, out, cap, 1) != 0 || !out[0]) {
        fprintf(stderr, "sotto: %s is required (option or prompt)\n", prompt);
        return EXIT_USAGE;
    }
    return 0;
}

static int ask_password(const cli_opts *o, char *pw)
{
    int rc = -1;

    if (o->password_stdin)
        rc = term_read_line(pw, PW_MAX);
    else if (term_interactive())
        rc = term_prompt("Password: ", pw, PW_MAX, 0);
    if (rc != 0 || !pw[0]) {
        fprintf(stderr, "sotto: a password is required (--password-stdin or a terminal)\n");
        return EXIT_USAGE;
    }
    return 0;
}

static json_t *device_json(const cli_opts *o)
{
    char host[64] = "cli";

    if (o->device_name == NULL)
        gethostname(host, sizeof host - 1);
    return json_pack("{s:s,s:s}", "name", o->device_name ? o->device_name : host, "platform",
                     "cli");
}

/* Saves what register/login returned, in one transaction. */
static int save_session(client *c, const json_t *body, const char *email)
{
    const json_t *user = json_object_get(body, "user");
    const char *uid = json_string_value(json_object_get(user, "id"));
    const char *uname = json_string_value(json_object_get(user, "username"));
    const char *did = json_string_value(json_object_get(json_object_get(body, "device"), "id"));

    if (uid == NULL || uname == NULL || did == NULL || ls_begin(c->st) != 0)
        return EXIT_LOCAL;
    if (ls_kv_put_str(c->st, "user_id", uid) || ls_kv_put_str(c->st, "device_id", did) ||
        ls_kv_put_str(c->st, "username", uname) || ls_kv_put_str(c->st, "email", email) ||
        ls_kv_put_str(c->st, "server", c->server) ||
        client_save_tokens(c, json_object_get(body, "tokens")) || ls_commit(c->st)) {
        ls_rollback(c->st);
        return EXIT_LOCAL;
    }
    str_copy(c->pr.user_id, sizeof c->pr.user_id, uid);
    str_copy(c->pr.device_id, sizeof c->pr.device_id, did);
    return 0;
}

static int print_session(const cli_opts *o, const json_t *body, const char *what)
{
    const char *uname =
        json_string_value(json_object_get(json_object_get(body, "user"), "username"));
    const char *did = json_string_value(json_object_get(json_object_get(body, "device"), "id"));

    if (o->json)
        return print_json(json_pack("{s:O,s:O}", "user", json_object_get(body, "user"), "device",
                                    json_object_get(body, "device")));
    char s1[128], s2[64];
    printf("%s as %s (device %s)\n", what, term_safe(s1, sizeof s1, uname ? uname : "?"),
           term_safe(s2, sizeof s2, did ? did : "?"));
    return 0;
}

/* A new device: fresh keys, saved before they are uploaded. */
static int new_keys(client *c, json_t **bundle)
{
    json_t *otk;

    if (pr_account_create(&c->pr, c->st, 0) != 0 ||
        (otk = keys_new_one_time(c, OTK_INITIAL)) == NULL)
        return EXIT_LOCAL;
    c->have_account = 1;
    *bundle = pr_bundle_json(c->pr.acct, NULL, 0);
    json_object_set_new(*bundle, "oneTimePreKeys", otk);
    return 0;
}

/* What a registration sends; on a terminal the answer the server refuses is asked again. */
typedef struct reg_form {
    char email[256], username[128], display[404];
    char *pw; /* sodium_malloc()ed */
} reg_form;

static int interactive(const cli_opts *o) { return term_interactive() && !o->password_stdin; }

/* The display name others see: its option, else asked on a terminal (Enter: none). */
static int ask_display(const cli_opts *o, char *out, size_t cap)
{
    out[0] = '\0';
    if (o->display_name != NULL)
        return str_copy(out, cap, o->display_name) == 0 ? 0 : EXIT_USAGE;
    if (interactive(o) &&
        term_prompt("Display name (what others see; Enter for none): ", out, cap, 1) != 0)
        out[0] = '\0';
    return 0;
}

static int reg_ask(const cli_opts *o, reg_form *f, const json_t *rules)
{
    int rc;

    if ((rc = ask(o->email, "Email: ", f->email, sizeof f->email)) ||
        (rc = ask(o->username, "Username: ", f->username, sizeof f->username)) ||
        (rc = ask_display(o, f->display, sizeof f->display)))
        return rc;
    if (interactive(o))
        rules_explain_password(rules);
    return owner_new_password(o, "Password: ", f->pw, PW_MAX);
}

/* Asks again for the field the server refused; EXIT_REFUSED when it is not one to ask. */
static int reg_ask_again(const cli_opts *o, reg_form *f, const char *field)
{
    if (!strcmp(field, "password"))
        return owner_new_password(o, "Password: ", f->pw, PW_MAX);
    if (!strcmp(field, "email"))
        return ask(NULL, "Email: ", f->email, sizeof f->email);
    if (!strcmp(field, "username"))
        return ask(NULL, "Username: ", f->username, sizeof f->username);
    if (!strcmp(field, "displayName"))
        return ask(NULL, "Display name: ", f->display, sizeof f->display);
    return EXIT_REFUSED;
}

/* The language of the account's mails: the person's locale (LC_ALL, LC_MESSAGES, LANG, in
 * POSIX's order) when the server writes it, else English. */
static const char *mail_language(void)
{
    static const char *const VARS[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

    for (size_t i = 0; i < sizeof VARS / sizeof VARS[0]; i++) {
        const char *v = getenv(VARS[i]);
        if (v != NULL && v[0])
            return strncmp(v, "vi", 2) == 0 ? "vi" : "en";
    }
    return "en";
}

static int reg_post(client *c, const cli_opts *o, const reg_form *f, const json_t *keys,
                    http_resp *r)
{
    json_t *body = json_pack("{s:s,s:s,s:s,s:o,s:O}", "email", f->email, "username", f->username,
                             "password", f->pw, "device", device_json(o), "keys", keys);
    int rc;

    if (body == NULL)
        return EXIT_LOCAL;
    if (f->display[0])
        json_object_set_new(body, "displayName", json_string(f->display));
    json_object_set_new(body, "language", json_string(mail_language()));
    rc = client_api(c, "POST", "/api/auth/register", body, r);
    /* jansson frees without wiping; the serialized request is wiped in http_call */
    owner_wipe_json(json_object_get(body, "password"));
    json_decref(body);
    return rc;
}

/* Posts until the server takes it; a refused field is asked again on a terminal (the rule it
 * broke named), and ends the command elsewhere. */
static int reg_send(client *c, const cli_opts *o, reg_form *f, const json_t *keys,
                    const json_t *rules, http_resp *r)
{
    const char *field;
    char name[32];
    int rc;

    for (int i = 0;; i++) {
        http_resp_clear(r);
        if ((rc = reg_post(c, o, f, keys, r)) != 0 || r->status == 201)
            return rc;
        if ((r->status != 400 && r->status != 409) ||
            (field = rules_refusal(r, rules, "registration")) == NULL)
            return client_fail(r, "registration");
        if (!interactive(o) || i + 1 >= OWNER_TRIES)
            return EXIT_REFUSED;
        str_copy(name, sizeof name, field);
        if ((rc = reg_ask_again(o, f, name)) != 0)
            return rc;
    }
}

/* The first list of a new account: this device alone. A failed PUT is not fatal: the seed is
 * kept, and the next look at our own keys signs it again (devlist_check). */
static void first_list(client *c)
{
    sotto_bundle b;
    char *sk;
    json_t *me;

    sotto_account_bundle(c->pr.acct, &b);
    if ((sk = b64_encode(b.signing_key, 32)) == NULL)
        return;
    me = json_pack("[{s:s,s:s}]", "deviceId", c->pr.device_id, "signingKey", sk);
    if (me == NULL || devlist_create(c, me) != 0)
        fprintf(stderr, "sotto: the account key's first device list was not published yet;"
                        " it will be on the next send\n");
    json_decref(me);
    free(sk);
}

int cmd_register(const cli_opts *o)
{
    reg_form f = {.pw = sodium_malloc(PW_MAX)};
    json_t *keys = NULL, *rules = NULL;
    http_resp r = {0};
    client c;
    int rc;

    if (f.pw == NULL || (rc = client_open(&c, o, 1)) != 0) {
        if (f.pw != NULL)
            sodium_free(f.pw);
        return f.pw ? rc : EXIT_LOCAL;
    }
    if (c.pr.device_id[0]) {
        fprintf(stderr, "sotto: profile %s already belongs to an account; use another --profile\n",
                c.profile);
        rc = EXIT_USAGE;
        goto done;
    }
    if ((rc = rules_fetch(&c, &rules)) || (rc = reg_ask(o, &f, rules)) ||
        (rc = new_keys(&c, &keys)) || (rc = reg_send(&c, o, &f, keys, rules, &r)))
        goto done;
    if ((rc = save_session(&c, r.body, f.email)) == 0)
        rc = print_session(o, r.body, "registered");
    if (rc == 0 && devlist_enabled())
        first_list(&c); /* the account's first device: its key signs version 1 */
done:
    http_resp_clear(&r);
    json_decref(keys);
    json_decref(rules);
    sodium_free(f.pw);
    client_close(&c);
    return rc;
}

/* The time a new login proof is signed for: now, or one second after the last this device
 * used. The server keeps every proof it has seen and refuses one again as a replay, so two
 * sign-ins within one second (a password change, then signing in again) must not sign the
 * same bytes; the server accepts a proof time a little ahead of its clock. */
static uint64_t proof_time(client *c)
{
    char *last = NULL, next[24];
    uint64_t t = now_s(), l = 0;

    if (ls_kv_get_str(c->st, "login-proof-time", &last) == 0 && last != NULL)
        l = strtoull(last, NULL, 10);
    free(last);
    if (t <= l)
        t = l + 1;
    snprintf(next, sizeof next, "%llu", (unsigned long long)t);
    (void)ls_kv_put_str(c->st, "login-proof-time", next);
    return t;
}

/* Signing in again as this profile's device: a proof by its signing key. */
static int add_proof(client *c, json_t *device, const char *email)
{
    uint8_t sig[SOTTO_SIGBYTES];
    uint64_t t = proof_time(c);
    char *b64;

    if (sotto_account_login_proof(c->pr.acct, email, t, sig) != 0 ||
        (b64 = b64_encode(sig, sizeof sig)) == NULL)
        return EXIT_LOCAL;
    json_object_set_new(device, "id", json_string(c->pr.device_id));
    json_object_set_new(device, "proof", json_string(b64));
    json_object_set_new(device, "proofTime", json_integer((json_int_t)t));
    free(b64);
    return 0;
}

static int login_once(client *c, const cli_opts *o, const char *email, const char *pw,
                      const char *mfa, http_resp *r)
{
    json_t *device = device_json(o), *keys = NULL, *body;
    int rc;

    if (c->have_account && c->pr.device_id[0])
        rc = add_proof(c, device, email);
    else if (c->have_account) /* keys made by an earlier attempt that never completed */
        rc = (keys = pr_bundle_json(c->pr.acct, NULL, 0)) ? 0 : EXIT_LOCAL;
    else
        rc = new_keys(c, &keys);
    if (rc != 0) {
        json_decref(device);
        return rc;
    }
    body = json_pack("{s:s,s:s,s:o}", "email", email, "password", pw, "device", device);
    if (keys != NULL)
        json_object_set_new(body, "keys", keys);
    if (mfa != NULL)
        json_object_set_new(body, "mfaCode", json_string(mfa));
    rc = client_api(c, "POST", "/api/auth/login", body, r);
    json_decref(body);
    return rc;
}

/* After a sign-in: our own account's list is checked (a legacy account is migrated, and a
 * device the list does not name is told how to get approved). Nothing here fails the login. */
static void own_list_notice(client *c)
{
    json_t *mine = NULL;

    (void)client_device_keys(c, c->pr.user_id, &mine);
    json_decref(mine);
}

int cmd_login(const cli_opts *o)
{
    char email[256], mfa[32], *pw = sodium_malloc(PW_MAX), *saved = NULL;
    http_resp r = {0};
    client c;
    int rc;

    if (pw == NULL)
        return EXIT_LOCAL;
    if ((rc = client_open(&c, o, 1)) != 0) {
        sodium_free(pw);
        return rc;
    }
    if (o->email == NULL && ls_kv_get_str(c.st, "email", &saved) == 0)
        str_copy(email, sizeof email, saved);
    else if ((rc = ask(o->email, "Email: ", email, sizeof email)) != 0)
        goto done;
    if ((rc = ask_password(o, pw)) != 0 ||
        (rc = login_once(&c, o, email, pw, o->mfa_code, &r)) != 0)
        goto done;
    if (r.status == 401 && !strcmp(http_error_code(&r), "mfa_required") && o->mfa_code == NULL) {
        http_resp_clear(&r);
        if ((rc = ask(NULL, "MFA code: ", mfa, sizeof mfa)) != 0 ||
            (rc = login_once(&c, o, email, pw, mfa, &r)) != 0)
            goto done;
    }
    if (r.status != 200) {
        rc = client_fail(&r, "login");
        goto done;
    }
    if ((rc = save_session(&c, r.body, email)) == 0) {
        keys_maintain(&c); /* a device signing in again may be short of one-time keys */
        rc = print_session(o, r.body, "logged in");
        own_list_notice(&c);
    }
done:
    free(saved);
    http_resp_clear(&r);
    sodium_free(pw);
    client_close(&c);
    return rc;
}

int cmd_logout(const cli_opts *o)
{
    http_resp r = {0};
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0)
        goto done;
    json_t *empty = json_object();
    if ((rc = client_api(&c, "POST", "/api/auth/logout", empty, &r)) == 0 && r.status != 200 &&
        r.status != 401)
        rc = client_fail(&r, "logout");
    json_decref(empty);
    if (client_forget_tokens(&c) != 0)
        rc = EXIT_LOCAL;
    if (rc == 0)
        printf("logged out (this device's keys and history stay in %s)\n", c.profile);
done:
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}

/* The address's and two-factor's state, and what to do about them. */
static void print_account_state(const json_t *me)
{
    const json_t *left = json_object_get(me, "backupCodesLeft");

    if (json_is_true(json_object_get(me, "emailVerified")))
        printf("email: verified\n");
    else
        printf("email: not verified (until it is, others find you only by your exact username "
               "and no reset link is sent; sotto verify-email resend)\n");
    if (!json_is_true(json_object_get(me, "mfaEnabled")))
        printf("two-factor: off (sotto mfa enable)\n");
    else if (json_is_integer(left))
        printf("two-factor: on, %lld backup codes left%s\n", (long long)json_integer_value(left),
               json_integer_value(left) < 3 ? " (sotto mfa backup-codes makes new ones)" : "");
    else
        printf("two-factor: on\n");
}

int cmd_whoami(const cli_opts *o)
{
    http_resp r = {0};
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = client_api(&c, "GET", "/api/users/me", NULL, &r)) != 0)
        goto done;
    if (r.status != 200) {
        rc = client_fail_session(&r, "whoami");
        goto done;
    }
    if (o->json) {
        json_object_set_new(r.body, "deviceId", json_string(c.pr.device_id));
        json_object_set_new(r.body, "server", json_string(c.server));
        devices_whoami_json(&c, r.body);
        rc = print_json(json_incref(r.body));
    } else {
        char s1[128], s2[300];
        printf("%s <%s> user %s, device %s, server %s\n",
               term_safe(s1, sizeof s1, json_string_value(json_object_get(r.body, "username"))),
               term_safe(s2, sizeof s2, json_string_value(json_object_get(r.body, "email"))),
               c.pr.user_id, c.pr.device_id, c.server);
        devices_whoami(&c);
        print_account_state(r.body);
    }
done:
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}

static int devices_list(client *c, const cli_opts *o)
{
    http_resp r = {0};
    json_t *d;
    size_t i;
    int rc;

    if ((rc = client_api(c, "GET", "/api/users/me/devices", NULL, &r)) != 0)
        return rc;
    if (r.status != 200) {
        rc = client_fail(&r, "listing devices");
    } else if (o->json) {
        rc = print_json(json_incref(r.body));
    } else {
        json_array_foreach(r.body, i, d) {
            char s1[64], s2[404], s3[32];
            printf("%s  %-20s %-8s %s%s\n",
                   term_safe(s1, sizeof s1, json_string_value(json_object_get(d, "id"))),
                   term_safe(s2, sizeof s2, json_string_value(json_object_get(d, "name"))),
                   term_safe(s3, sizeof s3, json_string_value(json_object_get(d, "platform"))),
                   json_is_true(json_object_get(d, "active")) ? "active" : "inactive",
                   json_is_true(json_object_get(d, "current")) ? " (this device)" : "");
        }
    }
    http_resp_clear(&r);
    return rc;
}

/* Accepts this account's current device list (ends the hold a new device put on sending). */
static int devices_accept(client *c)
{
    json_t *mine = NULL;
    int rc;

    if ((rc = client_device_keys(c, c->pr.user_id, &mine)) != 0)
        return rc;
    rc = trust_accept(c, c->pr.user_id, c->username ? c->username : "you", mine, -1);
    if (rc == 0)
        printf("accepted the %zu devices of your account now listed (sotto devices lists them)\n",
               json_array_size(mine));
    json_decref(mine);
    return rc;
}

/* A name the rules refuse, told with the rule (fetched only then). */
static int device_name_refused(client *c, const http_resp *r)
{
    json_t *rules = NULL;
    int refused;

    rules_fetch(c, &rules);
    refused = rules_refusal(r, rules, "renaming the device") != NULL;
    json_decref(rules);
    return refused;
}

static int devices_rename(client *c, const cli_opts *o, const char *id, const char *name)
{
    json_t *body = json_pack("{s:s}", "name", name);
    http_resp r = {0};
    char path[128], s1[404];
    uint8_t raw[16];
    int rc;

    if (uuid_parse(id, raw) != 0) { /* an id goes into the path: nothing else may */
        fprintf(stderr, "sotto: '%s' is not a device id (sotto devices lists them)\n",
                term_safe(s1, sizeof s1, id));
        json_decref(body);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "/api/users/devices/%s", id);
    if ((rc = client_api(c, "PATCH", path, body, &r)) != 0)
        goto done;
    if (r.status == 404) {
        fprintf(stderr, "sotto: no device %s on your account\n", id);
        rc = EXIT_NOTFOUND;
    } else if (r.status != 200) {
        rc = device_name_refused(c, &r) ? EXIT_REFUSED : client_fail(&r, "renaming the device");
    } else if (o->json) {
        rc = print_json(json_incref(r.body));
    } else {
        printf("renamed device %s to %s\n", id,
               term_safe(s1, sizeof s1, json_string_value(json_object_get(r.body, "name"))));
    }
done:
    http_resp_clear(&r);
    json_decref(body);
    return rc;
}

int cmd_devices(const cli_opts *o)
{
    http_resp r = {0};
    char path[128];
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0)
        goto done;
    if (o->npos == 0 || (o->npos == 1 && !strcmp(o->pos[0], "list"))) {
        rc = devices_list(&c, o);
        goto done;
    }
    if (o->npos == 1 && !strcmp(o->pos[0], "accept")) {
        rc = devices_accept(&c);
        goto done;
    }
    if (o->npos == 2 && !strcmp(o->pos[0], "approve")) {
        rc = devices_approve(&c, o, o->pos[1]);
        goto done;
    }
    if (o->npos == 3 && !strcmp(o->pos[0], "rename")) {
        rc = devices_rename(&c, o, o->pos[1], o->pos[2]);
        goto done;
    }
    if (o->npos != 2 || strcmp(o->pos[0], "revoke") != 0) {
        fprintf(stderr, "sotto: usage: devices [list] | devices accept | devices revoke DEVICE_ID"
                        " | devices rename DEVICE_ID NAME | devices approve DEVICE_ID\n");
        rc = EXIT_USAGE;
        goto done;
    }
    snprintf(path, sizeof path, "/api/users/devices/%s", o->pos[1]);
    if ((rc = client_api(&c, "DELETE", path, NULL, &r)) == 0) {
        if (r.status / 100 != 2)
            rc = client_fail(&r, "revoking the device");
        else
            printf("revoked device %s\n", o->pos[1]);
        if (rc == 0)
            rc = devices_unlist(&c, o->pos[1]);
    }
done:
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}
