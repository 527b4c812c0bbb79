/* cmd_send.c: send one message (the pipeline lives in outbox.c). */
#include <stdio.h>

#include "client.h"
#include "commands.h"
#include "outbox.h"
#include "term.h"
#include "util.h"

int cmd_send(const cli_opts *o)
{
    char sid[40];
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = send_text(&c, o->pos[0], o->pos[1], sid)) == 0) {
        char safe[64];
        if (o->json)
            rc = print_json(json_pack("{s:s}", "id", sid)); /* the server's id: quoted by jansson */
        else
            printf("sent %s\n", term_safe(safe, sizeof safe, sid));
    }
    client_close(&c);
    return rc;
}

/* "edited ID" or {"edited":"ID"}: the id as given, quoted by jansson. */
static int done_line(const cli_opts *o, const char *what, const char *id)
{
    char safe[128];

    if (o->json)
        return print_json(json_pack("{s:s}", what, id));
    printf("%s %s\n", what, term_safe(safe, sizeof safe, id));
    return 0;
}

int cmd_edit(const cli_opts *o)
{
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = edit_text(&c, o->pos[0], o->pos[1], o->pos[2])) == 0)
        rc = done_line(o, "edited", o->pos[1]);
    client_close(&c);
    return rc;
}

int cmd_delete(const cli_opts *o)
{
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = delete_message(&c, o->pos[0], o->pos[1])) == 0)
        rc = done_line(o, "deleted", o->pos[1]);
    client_close(&c);
    return rc;
}
