/* cmd_users.c: users search, block and unblock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client.h"
#include "commands.h"
#include "term.h"
#include "util.h"

int print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);

    if (s != NULL)
        puts(s);
    free(s);
    json_decref(v);
    return s != NULL ? 0 : EXIT_LOCAL;
}

/* One line a user (username, display name; others' words made safe), or `none` on stderr. */
static void print_users(const json_t *users, const char *none)
{
    const json_t *u;
    size_t i;

    if (json_array_size(users) == 0)
        fprintf(stderr, "%s\n", none);
    json_array_foreach(users, i, u) {
        char s1[128], s2[404];
        printf("%-24s %s\n",
               term_safe(s1, sizeof s1, json_string_value(json_object_get(u, "username"))),
               term_safe(s2, sizeof s2, json_string_value(json_object_get(u, "displayName"))));
    }
}

int cmd_users(const cli_opts *o)
{
    http_resp r = {0};
    char *q = NULL, *path = NULL;
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0)
        goto done;
    if ((q = curl_easy_escape(NULL, o->pos[1], 0)) == NULL ||
        asprintf(&path, "/api/users/search?q=%s&limit=%d", q,
                 o->limit > 0 && o->limit <= 100 ? o->limit : 20) < 0) {
        path = NULL;
        rc = EXIT_LOCAL;
        goto done;
    }
    if ((rc = client_api(&c, "GET", path, NULL, &r)) != 0)
        goto done;
    if (r.status != 200)
        rc = client_fail(&r, "search");
    else if (o->json)
        rc = print_json(json_incref(r.body));
    else
        print_users(json_object_get(r.body, "users"), "(no users match)");
done:
    curl_free(q);
    free(path);
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}

static int block(const cli_opts *o, const char *method, const char *done_msg)
{
    http_resp r = {0};
    json_t *user = NULL;
    char path[128];
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = client_user_by_name(&c, o->pos[0], &user)) != 0)
        goto done;
    snprintf(path, sizeof path, "/api/users/block/%s",
             json_string_value(json_object_get(user, "id")));
    if ((rc = client_api(&c, method, path, NULL, &r)) != 0)
        goto done;
    if (r.status / 100 != 2)
        rc = client_fail(&r, done_msg);
    else
        printf("%s %s\n", done_msg, o->pos[0]);
done:
    json_decref(user);
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}

int cmd_block(const cli_opts *o) { return block(o, "POST", "blocked"); }

int cmd_unblock(const cli_opts *o) { return block(o, "DELETE", "unblocked"); }

int cmd_blocked(const cli_opts *o)
{
    http_resp r = {0};
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = client_api(&c, "GET", "/api/users/blocked", NULL, &r)) == 0) {
        if (r.status != 200 || !json_is_array(r.body))
            rc = client_fail(&r, "listing blocked users");
        else if (o->json)
            rc = print_json(json_incref(r.body));
        else
            print_users(r.body, "(you have not blocked anyone)");
    }
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}
