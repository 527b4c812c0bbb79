/* term.h: talking to a person at a terminal: prompts, secrets without echo, QR codes, and
 * text from others made safe to show. */
#ifndef SOTTO_CLI_TERM_H
#define SOTTO_CLI_TERM_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* 1 when stdin is a terminal. */
int term_interactive(void);
/* Prompts on stderr and reads one line into out (newline removed). echo 0: no echo.
 * Returns 0, or -1 at end of input. */
int term_prompt(const char *prompt, char *out, size_t cap, int echo);
/* The first line of stdin (for --password-stdin). */
int term_read_line(char *out, size_t cap);
/* Prints a QR code of the bytes with UTF-8 half blocks (two modules per character). */
int term_qr(const uint8_t *data, size_t len);
/* A 60-digit safety number as 3 lines of 4 groups of 5 digits. */
void term_print_safety_number(const char *digits);
/* Text from others (a message, a name, a server's error) as it may reach a terminal: control
 * characters (C0 but tab, DEL, C1), the bidirectional embedding, override and isolate
 * controls and invalid UTF-8 are written as U+FFFD, so such text cannot move the cursor,
 * clear the screen, set the clipboard or reorder what is shown. multiline: a newline stays
 * one and the next line is indented, so a message cannot fake a line of its own; otherwise a
 * newline is U+FFFD too. */
void term_print(FILE *f, const char *s, int multiline);
/* The same (single line) into buf, always terminated; cut at a character boundary when it
 * does not fit. Returns buf, so it can stand as a printf argument. */
const char *term_safe(char *buf, size_t cap, const char *s);

/* The characters (code points) in s, or -1 if s is not valid UTF-8 (RFC 3629). */
long term_utf8_chars(const char *s);

/* "2026-01-02 10:11:12" in local time from milliseconds. */
void term_time(uint64_t ms, char *out, size_t cap);

#endif
