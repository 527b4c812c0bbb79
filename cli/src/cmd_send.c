/* cmd_send.c: send one message (the pipeline lives in outbox.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "outbox.h"
#include "term.h"
#include "util.h"

/* The whole of stdin, without its trailing newlines, for 'send USER -' (multi-line text,
 * scripts). NULL with a message when it is too long to be a message or holds a NUL byte. */
#define STDIN_TEXT_MAX (40000 + 2) /* 10,000 characters of at most 4 bytes, a CR LF */

static char *read_stdin_text(void)
{
    char *buf = malloc(STDIN_TEXT_MAX + 1);
    size_t n = 0, got;

    if (buf == NULL)
        return NULL;
    while (n <= STDIN_TEXT_MAX && (got = fread(buf + n, 1, STDIN_TEXT_MAX + 1 - n, stdin)) > 0)
        n += got;
    if (n > STDIN_TEXT_MAX || memchr(buf, '\0', n) != NULL) {
        fprintf(stderr, "sotto: %s\n",
                n > STDIN_TEXT_MAX ? "the text on stdin is too long for a"
                                     " message (at most 10,000 characters)"
                                   : "the text on stdin holds a NUL byte");
        free(buf);
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

int cmd_send(const cli_opts *o)
{
    char sid[40], *in = NULL;
    const char *text = o->pos[1];
    client c;
    int rc;

    if (strcmp(text, "-") == 0 && (text = in = read_stdin_text()) == NULL)
        return EXIT_USAGE;
    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = send_text(&c, o->pos[0], text, sid)) == 0) {
        char safe[64];
        if (o->json)
            rc = print_json(json_pack("{s:s}", "id", sid)); /* the server's id: quoted by jansson */
        else
            printf("sent %s\n", term_safe(safe, sizeof safe, sid));
    }
    client_close(&c);
    free(in);
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
    int rc, queued = 0;

    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = delete_message(&c, o->pos[0], o->pos[1], &queued)) == 0)
        rc = done_line(o, queued ? "queued" : "deleted", o->pos[1]);
    client_close(&c);
    return rc;
}
