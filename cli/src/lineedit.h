/* lineedit.h: the chat's input line on a terminal, edited with libedit: the cursor keys
 * move and recall (history lives as long as the chat), escape sequences edit and are never
 * text, and what others send is printed above the half-typed line without garbling it.
 *
 * Driven by the caller's loop: le_read takes only what stdin already has, so the socket is
 * never starved by a person who stops typing mid-line. */
#ifndef SOTTO_CLI_LINEEDIT_H
#define SOTTO_CLI_LINEEDIT_H

#include <stddef.h>

typedef struct lineedit lineedit;

/* A finished line (without its newline), or NULL at end of input (Ctrl-D on an empty
 * line). */
typedef void (*le_line_fn)(void *ctx, const char *line);

/* Takes the terminal for editing, showing prompt. Returns NULL when stdin or stdout is not a
 * terminal (the caller then reads plain lines) or libedit cannot start. */
lineedit *le_open(const char *prompt);
/* Gives the terminal back as it was found. NULL is fine. */
void le_close(lineedit *le);

/* Handles every key stdin has now, calling fn for each finished line; never waits. */
void le_read(lineedit *le, le_line_fn fn, void *ctx);
/* Bytes on the line being typed (0 once it is sent or emptied). */
size_t le_pending(const lineedit *le);

/* Around output printed while a line is being typed: le_hide takes the prompt and the
 * half-typed line off the screen, le_show draws them again below what was printed. */
void le_hide(lineedit *le);
void le_show(lineedit *le);

#endif
