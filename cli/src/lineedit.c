/* lineedit.c: the chat's input line on a terminal, edited with libedit (see lineedit.h). */
#include "lineedit.h"

#include <errno.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#define LE_HISTORY 500 /* lines kept for Up and Down; the history ends with the chat */

struct lineedit {
    EditLine *el;
    History *hist;
    char prompt[32];
    size_t pending;
    struct sigaction old_winch;
    int ready; /* the terminal is ours: le_close gives it back */
    int eof;   /* the terminal has gone (read_key saw the end of input) */
    /* Keys read ahead: a whole escape sequence is read before libedit sees any of it. */
    unsigned char keys[32];
    size_t nkeys, at;
};

/* A resized terminal: noted by the handler, applied in le_read (libedit is not
 * async-signal-safe, so el_resize never runs inside the handler). */
static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
    (void)sig;
    resized = 1;
}

/* ------------------------------------------------------------------ keys */

/* How long the rest of a sequence or character may take after its first byte: they come in
 * one write, so this is only a bound for a lone Escape. */
#define KEY_FOLLOW_MS 50

/* One byte from the terminal, waiting at most ms (-1: as long as it takes). 1, 0 when none
 * came in time, -1 at end of input. */
static int key_byte(unsigned char *b, int ms)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};

    for (;;) {
        ssize_t n;

        if (ms >= 0 && poll(&p, 1, ms) != 1)
            return 0;
        n = read(STDIN_FILENO, b, 1);
        if (n == 1)
            return 1;
        if (n == 0 || errno != EINTR)
            return -1;
    }
}

/* The escape sequences libedit binds (cursor keys, Home, End, Delete), in either of the
 * forms terminals send; Ctrl-Left and Ctrl-Right become Meta-b and Meta-f (a word back and
 * forward). */
static const struct {
    const char *from, *to;
} kept_keys[] = {
    {"\033[A", NULL},  {"\033[B", NULL},       {"\033[C", NULL},       {"\033[D", NULL},
    {"\033[H", NULL},  {"\033[F", NULL},       {"\033OA", NULL},       {"\033OB", NULL},
    {"\033OC", NULL},  {"\033OD", NULL},       {"\033OH", NULL},       {"\033OF", NULL},
    {"\033[1~", NULL}, {"\033[3~", NULL},      {"\033[4~", NULL},      {"\033[7~", NULL},
    {"\033[8~", NULL}, {"\033[1;5D", "\033b"}, {"\033[1;5C", "\033f"},
};

/* Reads an escape sequence after its ESC (CSI: ESC [ parameters final; SS3: ESC O key).
 * Sequences libedit knows are queued for it; any other (function keys, modified keys) is
 * dropped whole, so none of its bytes becomes text. A lone ESC is dropped too (nothing
 * follows it in time), and ESC with another key is Meta with that key. */
static void read_sequence(lineedit *le)
{
    unsigned char b;
    size_t n = 1;

    le->keys[0] = 0x1b;
    if (key_byte(&b, KEY_FOLLOW_MS) != 1)
        return;
    le->keys[n++] = b;
    if (b == '[' || b == 'O') {
        int csi = b == '[';
        while (key_byte(&b, KEY_FOLLOW_MS) == 1) {
            if (n < sizeof le->keys)
                le->keys[n++] = b;
            if (!csi || (b >= 0x40 && b <= 0x7e))
                break;
        }
        le->nkeys = 0;
        for (size_t i = 0; i < sizeof kept_keys / sizeof kept_keys[0]; i++) {
            const char *from = kept_keys[i].from, *to = kept_keys[i].to;
            if (strlen(from) == n && memcmp(from, le->keys, n) == 0) {
                if (to != NULL)
                    memcpy(le->keys, to, n = strlen(to));
                le->nkeys = n;
            }
        }
        return;
    }
    le->nkeys = n;
}

/* libedit's character reader (EL_GETCFN): UTF-8 from the terminal, escape sequences
 * filtered (read_sequence). 1 with a character, 0 at end of input. */
static int read_key(EditLine *el, wchar_t *wc)
{
    lineedit *le = NULL;

    el_get(el, EL_CLIENTDATA, &le);
    for (;;) {
        mbstate_t mb;
        unsigned char b;
        char c;
        size_t r;

        if (le->at == le->nkeys) {
            le->at = le->nkeys = 0;
            if (key_byte(&b, -1) != 1) {
                le->eof = 1;
                return 0;
            }
            if (b == 0x1b) {
                read_sequence(le);
                continue;
            }
            le->keys[le->nkeys++] = b;
        }
        /* One character: its bytes come together. */
        memset(&mb, 0, sizeof mb);
        for (;;) {
            c = (char)le->keys[le->at++];
            r = mbrtowc(wc, &c, 1, &mb);
            if (r != (size_t)-2)
                break;
            if (le->at == le->nkeys) {
                if (le->nkeys == sizeof le->keys || key_byte(&b, KEY_FOLLOW_MS) != 1)
                    break;
                le->keys[le->nkeys++] = b;
            }
        }
        if (r == (size_t)-1 || r == (size_t)-2)
            continue; /* not a character: dropped */
        return 1;
    }
}

/* ------------------------------------------------------------------ the line */

static char *prompt_of(EditLine *el)
{
    lineedit *le = NULL;

    el_get(el, EL_CLIENTDATA, &le);
    return le != NULL ? le->prompt : "";
}

lineedit *le_open(const char *prompt)
{
    lineedit *le;
    HistEvent ev;
    struct sigaction sa;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || (le = calloc(1, sizeof *le)) == NULL)
        return NULL;
    /* Keys are UTF-8 (as everything Sotto sends), whatever the locale says. */
    if (setlocale(LC_CTYPE, "") == NULL || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
    snprintf(le->prompt, sizeof le->prompt, "%s", prompt);
    le->el = el_init("sotto", stdin, stdout, stderr);
    le->hist = history_init();
    if (le->el == NULL || le->hist == NULL) {
        le_close(le);
        return NULL;
    }
    history(le->hist, &ev, H_SETSIZE, LE_HISTORY);
    history(le->hist, &ev, H_SETUNIQUE, 1);
    el_set(le->el, EL_CLIENTDATA, le);
    el_set(le->el, EL_EDITOR, "emacs");
    el_set(le->el, EL_PROMPT, prompt_of);
    el_set(le->el, EL_HIST, history, le->hist);
    el_set(le->el, EL_BIND, "^W", "ed-delete-prev-word", NULL); /* as in readline and shells */
    /* Our own SIGINT handler ends the chat cleanly; libedit's would re-send the signal to
     * the whole process group. */
    el_set(le->el, EL_SIGNAL, 0);
    el_set(le->el, EL_GETCFN, read_key);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, &le->old_winch);
    /* One key per el_gets: the caller's loop stays in charge. This also draws the prompt. */
    el_set(le->el, EL_UNBUFFERED, 1);
    le->ready = 1;
    return le;
}

void le_close(lineedit *le)
{
    if (le == NULL)
        return;
    if (le->ready) {
        le_hide(le);
        sigaction(SIGWINCH, &le->old_winch, NULL);
    }
    if (le->el != NULL)
        el_end(le->el); /* the terminal's modes as they were */
    if (le->hist != NULL)
        history_end(le->hist);
    free(le);
}

/* One finished line: into the history (if not empty), then to the caller. */
static void finish_line(lineedit *le, const char *s, int n, le_line_fn fn, void *ctx)
{
    char *line = malloc((size_t)n);
    HistEvent ev;

    if (line == NULL)
        return;
    memcpy(line, s, (size_t)n - 1);
    line[n - 1] = '\0';
    if (line[0] != '\0')
        history(le->hist, &ev, H_ENTER, line);
    /* One-key mode off and on again: the terminal is as usual while the line is handled,
     * then the editor starts an empty line with a fresh prompt below what was printed. */
    el_set(le->el, EL_UNBUFFERED, 0);
    fn(ctx, line);
    el_set(le->el, EL_UNBUFFERED, 1);
    free(line);
}

/* At most this many keys per le_read, so a paste cannot hold up the socket. */
#define LE_KEYS_PER_READ 256

void le_read(lineedit *le, le_line_fn fn, void *ctx)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};

    if (resized) {
        resized = 0;
        el_resize(le->el);
    }
    for (int keys = 0; keys < LE_KEYS_PER_READ && poll(&p, 1, 0) == 1; keys++) {
        int n = 0;
        const char *s;

        errno = 0;
        s = el_gets(le->el, &n);
        /* In one-key mode an empty line comes back as NULL: after a cursor key, say. Only
         * an error or a hung-up terminal is the end; Ctrl-D on an empty line comes back as
         * the line "^D". */
        if (s == NULL && !le->eof && errno == 0 && !(p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
            le->pending = 0;
            continue;
        }
        if (le->eof || s == NULL || n <= 0 || (n == 1 && s[0] == '\x04')) {
            le->pending = 0;
            fn(ctx, NULL);
            return;
        }
        if (s[n - 1] == '\n') {
            le->pending = 0;
            finish_line(le, s, n, fn, ctx);
        } else {
            le->pending = (size_t)n;
        }
    }
}

size_t le_pending(const lineedit *le) { return le->pending; }

/* Columns from the start of the prompt to the cursor. */
static size_t cursor_column(lineedit *le)
{
    const LineInfoW *li = el_wline(le->el);
    size_t col = 0;

    for (const char *p = le->prompt; *p; p++)
        col += ((unsigned char)*p & 0xc0) != 0x80;
    for (const wchar_t *w = li->buffer; w < li->cursor; w++) {
        int cw = wcwidth(*w);
        col += cw > 0 ? (size_t)cw : 0;
    }
    return col;
}

void le_hide(lineedit *le)
{
    struct winsize ws;
    size_t cols = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    size_t up = cursor_column(le) / cols;

    /* Up to the prompt's row, then clear from there to the end of the screen. */
    fflush(stdout);
    fputs("\r", stdout);
    if (up > 0)
        printf("\033[%zuA", up);
    fputs("\033[J", stdout);
    fflush(stdout);
}

void le_show(lineedit *le)
{
    fflush(stdout);
    fflush(stderr);
    el_set(le->el, EL_REFRESH);
}
