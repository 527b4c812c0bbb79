/* chat_marks.c: receipts shown against the chat's own messages (see chat_marks.h). */
#include "chat_marks.h"

#include <stdio.h>
#include <string.h>

#include "marks.h"
#include "util.h"

static void forget(chat_marks *t, size_t i)
{
    memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof t->e[0]);
    t->n--;
}

void chat_marks_add(chat_marks *t, const ls_message *m)
{
    if (!m->outgoing || m->status >= LS_MSG_READ || m->deleted_at_ms != 0)
        return;
    if (t->n == CHAT_MARKS_MAX)
        forget(t, 0);
    str_copy(t->e[t->n].id, sizeof t->e[0].id, m->id);
    t->e[t->n].shown = m->status;
    t->n++;
}

/* The statuses a line is printed for, in the order a message reaches them. */
static const int levels[] = {LS_MSG_SENT, LS_MSG_DELIVERED, LS_MSG_READ, LS_MSG_FAILED};

static void print_change(int status, const ls_message *newest, int earlier)
{
    char quote[256];

    printf("  %s: ", marks_label(status));
    if (newest->body != NULL)
        fputs(marks_snippet(quote, sizeof quote, newest->body, CHAT_MARKS_QUOTE), stdout);
    if (earlier > 0)
        printf(" (and %d earlier)", earlier);
    putchar('\n');
}

void chat_marks_refresh(chat_marks *t, ls_store *st)
{
    int now[CHAT_MARKS_MAX];

    for (size_t i = 0; i < t->n; i++) {
        ls_message m;
        now[i] = t->e[i].shown;
        if (ls_message_get(st, t->e[i].id, &m) == 0) {
            now[i] = m.deleted_at_ms != 0 ? LS_MSG_FAILED : m.status;
            ls_message_clear(&m);
        }
    }
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        size_t newest = t->n;
        int count = 0;
        for (size_t i = 0; i < t->n; i++)
            if (now[i] == levels[l] && t->e[i].shown != now[i]) {
                newest = i;
                count++;
            }
        ls_message m;
        if (newest < t->n && ls_message_get(st, t->e[newest].id, &m) == 0) {
            if (m.deleted_at_ms == 0)
                print_change(levels[l], &m, count - 1);
            ls_message_clear(&m);
        }
    }
    for (size_t i = t->n; i-- > 0;) {
        t->e[i].shown = now[i];
        if (now[i] >= LS_MSG_READ)
            forget(t, i);
    }
    fflush(stdout);
}
