/* client.c: profile + tokens + REST with one token refresh (see client.h). */
#include "client.h"
#include "term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "devlist.h"
#include "profile.h"
#include "util.h"

static void free_secret_str(char **s)
{
    if (*s != NULL) {
        sodium_memzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

int client_open(client *c, const cli_opts *o, int create)
{
    int rc;

    memset(c, 0, sizeof *c);
    c->o = o;
    if (profile_dir(c->profile, sizeof c->profile, o->profile) != 0) {
        fprintf(stderr, "sotto: no profile directory (set --profile or $SOTTO_PROFILE)\n");
        return EXIT_LOCAL;
    }
    if ((rc = profile_open(c->profile, create, &c->st)) != 0) {
        if (rc > 0)
            fprintf(stderr, "sotto: no profile at %s: run 'sotto register' or 'sotto login'\n",
                    c->profile);
        return rc > 0 ? EXIT_AUTH : EXIT_LOCAL;
    }
    if ((rc = pr_ctx_load(&c->pr, c->st)) < 0) {
        fprintf(stderr, "sotto: the profile's keys cannot be read\n");
        return EXIT_LOCAL;
    }
    c->pr.st = c->st;
    c->have_account = rc == 0;
    if (o->server != NULL)
        c->server = strdup(o->server);
    else if (ls_kv_get_str(c->st, "server", &c->server) != 0)
        c->server = strdup(DEFAULT_SERVER);
    /* A trailing slash would double up with every path. */
    size_t n = c->server ? strlen(c->server) : 0;
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = '\0';
    if (ls_kv_get_str(c->st, "access_token", &c->access) != 0)
        c->access = NULL;
    if (ls_kv_get_str(c->st, "refresh_token", &c->refresh) != 0)
        c->refresh = NULL;
    if (ls_kv_get_str(c->st, "username", &c->username) != 0)
        c->username = NULL;
    return c->server != NULL ? 0 : EXIT_LOCAL;
}

void client_close(client *c)
{
    pr_ctx_free(&c->pr);
    ls_close(c->st);
    free_secret_str(&c->access);
    free_secret_str(&c->refresh);
    free(c->server);
    free(c->username);
    memset(c, 0, sizeof *c);
}

int client_require_login(client *c)
{
    if (!c->have_account || !c->pr.device_id[0] || c->refresh == NULL) {
        fprintf(stderr, "sotto: not logged in (profile %s): run 'sotto login'\n", c->profile);
        return EXIT_AUTH;
    }
    return 0;
}

int client_save_tokens(client *c, const json_t *tokens)
{
    const char *a = json_string_value(json_object_get(tokens, "accessToken"));
    const char *r = json_string_value(json_object_get(tokens, "refreshToken"));

    if (a == NULL || r == NULL)
        return -1;
    free_secret_str(&c->access);
    free_secret_str(&c->refresh);
    c->access = strdup(a);
    c->refresh = strdup(r);
    /* The refresh token rotates on every use: the new one must reach the disk. */
    return ls_kv_put_str(c->st, "access_token", a) || ls_kv_put_str(c->st, "refresh_token", r);
}

int client_forget_tokens(client *c)
{
    free_secret_str(&c->access);
    free_secret_str(&c->refresh);
    return ls_kv_del(c->st, "access_token") || ls_kv_del(c->st, "refresh_token");
}

int client_refresh(client *c)
{
    http_resp r;
    json_t *body = json_pack("{s:s}", "refreshToken", c->refresh ? c->refresh : "");
    int rc = -1;

    if (http_call(c->server, "POST", "/api/auth/refresh", NULL, body, &r) == 0 && r.status == 200)
        rc = client_save_tokens(c, json_object_get(r.body, "tokens"));
    json_decref(body);
    http_resp_clear(&r);
    return rc;
}

int client_api(client *c, const char *method, const char *path, json_t *body, http_resp *r)
{
    return client_api_body(c, method, path, body, NULL, NULL, 0, r);
}

int client_api_body(client *c, const char *method, const char *path, json_t *body,
                    const char *content_type, const void *data, size_t len, http_resp *r)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int sent = content_type != NULL ? http_call_raw(c->server, method, path, c->access,
                                                        content_type, data, len, r)
                                        : http_call(c->server, method, path, c->access, body, r);
        if (sent != 0) {
            fprintf(stderr, "sotto: cannot reach the server at %s\n", c->server);
            return EXIT_NET;
        }
        if (r->status != 401 || attempt == 1 || c->refresh == NULL)
            return 0;
        const char *code = http_error_code(r);
        if (strcmp(code, "token_expired") != 0 && strcmp(code, "unauthenticated") != 0)
            return 0;
        if (client_refresh(c) != 0)
            return 0; /* the 401 stands: the session is over */
        http_resp_clear(r);
    }
    return 0;
}

int client_revoked(const http_resp *r)
{
    const json_t *d = json_object_get(json_object_get(r->body, "error"), "details");
    const char *reason = json_string_value(json_object_get(d, "reason"));

    return r->status == 403 && reason != NULL && strcmp(reason, "device_revoked") == 0;
}

int client_fail(const http_resp *r, const char *what)
{
    const char *msg = http_error_message(r);
    char s1[256], s2[64];

    /* The server's words: shown, never obeyed by the terminal. */
    fprintf(stderr, "sotto: %s failed: %s%s%s (HTTP %ld)\n", what,
            term_safe(s1, sizeof s1, msg[0] ? msg : "error"), http_error_code(r)[0] ? " / " : "",
            term_safe(s2, sizeof s2, http_error_code(r)), r->status);
    if (r->status == 401) {
        fprintf(stderr, "sotto: run 'sotto login' to sign in again\n");
        return EXIT_AUTH;
    }
    if (r->status == 403 && client_revoked(r)) {
        fprintf(stderr, "sotto: this device was revoked; to use the account here again, sign in"
                        " as a new device with a new profile: sotto --profile DIR login\n");
        return EXIT_AUTH;
    }
    if (r->status == 404)
        return EXIT_NOTFOUND;
    if (r->status >= 500 || r->status == 0)
        return EXIT_NET;
    return EXIT_REFUSED; /* other 403s included: blocked, not the owner */
}

int client_fail_session(const http_resp *r, const char *what)
{
    int rc = client_fail(r, what);

    return r->status == 403 ? EXIT_AUTH : rc;
}

int client_user_by_name(client *c, const char *username, json_t **user)
{
    http_resp r;
    char *path = NULL;
    char *esc;
    int rc;

    /* Usernames are [A-Za-z0-9_] in practice; escape anyway so a path cannot be injected. */
    if ((esc = curl_easy_escape(NULL, username, 0)) == NULL)
        return EXIT_LOCAL;
    if (asprintf(&path, "/api/users/by-username/%s", esc) < 0)
        path = NULL;
    curl_free(esc);
    if (path == NULL)
        return EXIT_LOCAL;
    rc = client_api(c, "GET", path, NULL, &r);
    free(path);
    if (rc != 0)
        return rc;
    if (r.status == 404) {
        fprintf(stderr, "sotto: no user named '%s'\n", username);
        http_resp_clear(&r);
        return EXIT_NOTFOUND;
    }
    if (r.status != 200 || !json_is_string(json_object_get(r.body, "id"))) {
        rc = client_fail(&r, "user lookup");
        http_resp_clear(&r);
        return rc;
    }
    *user = json_incref(r.body);
    http_resp_clear(&r);
    return 0;
}

int client_device_keys_raw(client *c, const char *user_id, json_t **body)
{
    http_resp r;
    char path[128];
    int rc;

    snprintf(path, sizeof path, "/api/keys/users/%s", user_id);
    if ((rc = client_api(c, "GET", path, NULL, &r)) != 0)
        return rc;
    if (r.status != 200 || !json_is_array(json_object_get(r.body, "devices"))) {
        rc = client_fail(&r, "device key lookup");
        http_resp_clear(&r);
        return rc;
    }
    *body = json_incref(r.body);
    http_resp_clear(&r);
    return 0;
}

int client_device_keys(client *c, const char *user_id, json_t **devices)
{
    json_t *body = NULL;
    int rc = client_device_keys_raw(c, user_id, &body);

    /* Only what the user's signed device list names is ever talked to (devlist.h). */
    if (rc == 0)
        rc = devlist_check(c, user_id, body, devices);
    json_decref(body);
    return rc;
}

void client_username(client *c, const char *user_id, char *out, size_t cap)
{
    ls_contact ct;
    http_resp r;
    char path[128];

    str_copy(out, cap, "?");
    if (strcmp(user_id, c->pr.user_id) == 0 && c->username != NULL) {
        str_copy(out, cap, c->username);
        return;
    }
    if (ls_contact_get(c->st, user_id, &ct) == 0) {
        str_copy(out, cap, ct.username);
        ls_contact_clear(&ct);
        return;
    }
    snprintf(path, sizeof path, "/api/users/%s", user_id);
    if (client_api(c, "GET", path, NULL, &r) == 0 && r.status == 200) {
        const char *u = json_string_value(json_object_get(r.body, "username"));
        if (u != NULL)
            str_copy(out, cap, u);
    }
    http_resp_clear(&r);
}
