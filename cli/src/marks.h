/* marks.h: the state of one's own message as a mark after it, as messengers show it.
 *
 * UTF-8 locale: "…" queued in the outbox, "✓" accepted by the server, "✓✓" delivered to at
 * least one of the recipient's devices, "✓✓" in blue when read on a colour terminal and
 * "✓✓ read" elsewhere (not a terminal, NO_COLOR set, TERM dumb). Another locale gets words
 * in brackets: "[queued]", "[sent]", "[delivered]", "[read]". The locale is read from the
 * environment (LC_ALL, LC_CTYPE, LANG): the chat's editor switches LC_CTYPE to UTF-8 for its
 * keys, and that says nothing about what the terminal can draw.
 */
#ifndef SOTTO_CLI_MARKS_H
#define SOTTO_CLI_MARKS_H

#include <stddef.h>

/* The mark after a message with this outgoing status (LS_MSG_*; failed: "failed"). */
const char *marks_after(int status);
/* The mark with its word, for a line about a change: "✓✓ read", "✓ sent", "[read]". */
const char *marks_label(int status);
/* The status as --json says it: "queued", "sent", "delivered", "read", "failed". */
const char *marks_status_name(int status);
/* The first `chars` characters of text, made safe to show (term_safe), with "…" ("..." in
 * another locale) when cut. Returns buf. */
const char *marks_snippet(char *buf, size_t cap, const char *text, size_t chars);

#endif
