/* cmd_calls.c: `sotto calls USER`, the call history with one user, newest first, from the
 * server's call records (GET /api/conversations/:id/calls, paged with before/hasMore). The
 * server has these records anyway (who called whom, when, for how long); no media or signal
 * is in them. */
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "client.h"
#include "commands.h"
#include "term.h"
#include "util.h"

#define PAGE_MAX 100

/* Prints (or collects into out) up to `limit` records, page by page. */
static int list(client *c, const char *conv, const char *peer_name, int limit, json_t *out)
{
    char before[40] = "";
    int shown = 0, more = 1, rc;

    while (more && shown < limit) {
        json_t *calls = NULL, *call;
        size_t i;
        int want = limit - shown < PAGE_MAX ? limit - shown : PAGE_MAX;
        if ((rc = calls_page(c, conv, before[0] ? before : NULL, want, &calls, &more)) != 0)
            return rc;
        json_array_foreach(calls, i, call) {
            if (out != NULL)
                json_array_append_new(out, calls_record_json(c, call));
            else
                calls_print_record(c, call, peer_name);
            str_copy(before, sizeof before, json_string_value(json_object_get(call, "id")));
            shown++;
        }
        if (json_array_size(calls) == 0)
            more = 0;
        json_decref(calls);
    }
    return 0;
}

int cmd_calls(const cli_opts *o)
{
    json_t *user = NULL, *out = NULL;
    char conv[40], safe[128];
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = client_user_by_name(&c, o->pos[0], &user)) != 0)
        goto done;
    rc = calls_conversation_with(&c, json_string_value(json_object_get(user, "id")), conv);
    if (rc == 1) { /* no conversation, so no calls */
        rc = o->json ? print_json(json_array()) : 0;
        if (!o->json)
            printf("no calls with %s\n", term_safe(safe, sizeof safe, o->pos[0]));
        goto done;
    }
    if (rc != 0)
        goto done;
    if (o->json)
        out = json_array();
    if ((rc = list(&c, conv, o->pos[0], o->limit, out)) == 0 && out != NULL)
        rc = print_json(json_incref(out));
done:
    json_decref(out);
    json_decref(user);
    client_close(&c);
    return rc;
}
