/* marks.c: the marks of one's own messages (see marks.h). */
#include "marks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "localstore.h"
#include "term.h"

/* The locale the terminal was started in: the first of LC_ALL, LC_CTYPE, LANG that is set,
 * as setlocale reads them. */
static int utf8_locale(void)
{
    const char *names[] = {"LC_ALL", "LC_CTYPE", "LANG"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return strcasestr(v, "UTF-8") != NULL || strcasestr(v, "utf8") != NULL;
    }
    return 0; /* the C locale: ASCII */
}

/* Colour only for a person at a terminal that has it, and never with NO_COLOR
 * (no-color.org: set and not empty). */
static int colour(void)
{
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

    return isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0') && term != NULL &&
           term[0] != '\0' && strcmp(term, "dumb") != 0;
}

#define READ_BLUE "\033[34m\xe2\x9c\x93\xe2\x9c\x93\033[0m" /* ✓✓ in blue */

const char *marks_after(int status)
{
    int u = utf8_locale();

    switch (status) {
    case LS_MSG_PENDING: return u ? "\xe2\x80\xa6" : "[queued]";
    case LS_MSG_SENT: return u ? "\xe2\x9c\x93" : "[sent]";
    case LS_MSG_DELIVERED: return u ? "\xe2\x9c\x93\xe2\x9c\x93" : "[delivered]";
    case LS_MSG_READ: return !u ? "[read]" : colour() ? READ_BLUE : "\xe2\x9c\x93\xe2\x9c\x93 read";
    default: return "failed";
    }
}

const char *marks_label(int status)
{
    int u = utf8_locale();

    switch (status) {
    case LS_MSG_PENDING: return u ? "\xe2\x80\xa6 queued" : "[queued]";
    case LS_MSG_SENT: return u ? "\xe2\x9c\x93 sent" : "[sent]";
    case LS_MSG_DELIVERED: return u ? "\xe2\x9c\x93\xe2\x9c\x93 delivered" : "[delivered]";
    case LS_MSG_READ:
        return !u ? "[read]" : colour() ? READ_BLUE " read" : "\xe2\x9c\x93\xe2\x9c\x93 read";
    default: return "failed";
    }
}

const char *marks_status_name(int status)
{
    switch (status) {
    case LS_MSG_PENDING: return "queued";
    case LS_MSG_SENT: return "sent";
    case LS_MSG_DELIVERED: return "delivered";
    case LS_MSG_READ: return "read";
    default: return "failed";
    }
}

const char *marks_snippet(char *buf, size_t cap, const char *text, size_t chars)
{
    char cut[256];
    size_t n = 0, seen = 0;

    /* Up to `chars` characters (UTF-8 lead bytes counted), and never past cut's room. */
    while (text[n] != '\0' && n + 4 < sizeof cut - 4) {
        if (((unsigned char)text[n] & 0xc0) != 0x80 && seen++ == chars)
            break;
        n++;
    }
    memcpy(cut, text, n);
    if (text[n] != '\0')
        memcpy(cut + n, utf8_locale() ? "\xe2\x80\xa6" : "...", 4);
    else
        cut[n] = '\0';
    return term_safe(buf, cap, cut);
}
