/* term.c: prompts (no echo for secrets), line input and terminal QR codes. */
#include "term.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <qrencode.h>

int term_interactive(void)
{
    return isatty(STDIN_FILENO);
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

int term_read_line(char *out, size_t cap)
{
    if (fgets(out, (int)cap, stdin) == NULL)
        return -1;
    chomp(out);
    return 0;
}

int term_prompt(const char *prompt, char *out, size_t cap, int echo)
{
    struct termios old, quiet;
    int restore = 0, rc;

    fputs(prompt, stderr);
    fflush(stderr);
    if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    rc = term_read_line(out, cap);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return rc;
}

static struct termios saved_tio; /* the terminal as we found it (one terminal per process) */
static int raw_on;

int term_raw_begin(void)
{
    struct termios raw;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return -1;
    raw = saved_tio;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return -1;
    raw_on = 1;
    return 0;
}

void term_raw_end(void)
{
    if (raw_on)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    raw_on = 0;
}

/* 1 if module (x, y) is dark; the quiet zone around the code is light. */
static int dark(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[y * q->width + x] & 1;
}

int term_qr(const uint8_t *data, size_t len)
{
    QRcode *q = QRcode_encodeData((int)len, data, 0, QR_ECLEVEL_M);
    const int quiet = 2;

    if (q == NULL)
        return -1;
    /* Dark modules as spaces on light blocks reads best on dark terminals too: we print
     * light = full block, dark = space, two rows per line with half blocks. */
    for (int y = -quiet; y < q->width + quiet; y += 2) {
        for (int x = -quiet; x < q->width + quiet; x++) {
            int top = !dark(q, x, y), bottom = !dark(q, x, y + 1);
            fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", stdout);
        }
        fputc('\n', stdout);
    }
    QRcode_free(q);
    return 0;
}

void term_time(uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, cap, "?");
}

void term_print_safety_number(const char *digits)
{
    for (int i = 0; i < 12; i++)
        printf("%.5s%s", digits + i * 5, i % 4 == 3 ? "\n" : " ");
}
