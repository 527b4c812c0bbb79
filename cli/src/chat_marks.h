/* chat_marks.h: the marks of one's own messages in a running `sotto chat`, kept up to date.
 *
 * A receipt for a message already on the screen is shown as a line of its own below
 * everything else ("✓✓ read: <its first 30 characters>"), never by redrawing the old line in
 * place: that line may have scrolled away or wrapped, the terminal may have been resized, and
 * other output (stderr, a half-typed line) sits between, so the row it is on cannot be known
 * for sure. The chat remembers the last CHAT_MARKS_MAX of its own messages not yet read and,
 * after each event, compares their stored status with the one last shown.
 */
#ifndef SOTTO_CLI_CHAT_MARKS_H
#define SOTTO_CLI_CHAT_MARKS_H

#include "localstore.h"

#define CHAT_MARKS_MAX 32
/* Characters of a message quoted in the line about its new state. */
#define CHAT_MARKS_QUOTE 30

typedef struct chat_marks {
    struct {
        char id[40]; /* our local id */
        int shown;   /* the status its last line showed */
    } e[CHAT_MARKS_MAX];
    size_t n;
} chat_marks;

/* Remembers a message just printed with its mark (only our own, not yet read; the oldest is
 * forgotten when full). */
void chat_marks_add(chat_marks *t, const ls_message *m);
/* Prints a line for each status reached since last shown: the newest message that reached
 * it, "(and N earlier)" when a read cursor or a catch-up raised several at once. Read and
 * failed messages are settled and forgotten. */
void chat_marks_refresh(chat_marks *t, ls_store *st);

#endif
