/* term.c: prompts (no echo for secrets), line input, terminal QR codes, and text from others
 * made safe to show. */
#include "term.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <qrencode.h>

int term_interactive(void) { return isatty(STDIN_FILENO); }

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

    /* Echo goes off before the prompt shows: what is typed once it shows is never echoed,
     * and never discarded by the flush. */
    if (!echo && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    fputs(prompt, stderr);
    fflush(stderr);
    rc = term_read_line(out, cap);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return rc;
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

/* ------------------------------------------------------------------ text from others */

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Decodes one UTF-8 character at s (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). Returns its length and stores it in *cp, or returns 1 with *cp = -1 for
 * an invalid byte. */
static size_t utf8_next(const unsigned char *s, long *cp)
{
    static const unsigned char lead_bits[] = {0, 0, 0x1f, 0x0f, 0x07};
    static const long min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    long v;

    *cp = -1;
    if (n == 0)
        return 1;
    if (n == 1) {
        *cp = s[0];
        return 1;
    }
    v = s[0] & lead_bits[n];
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 1;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min_cp[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 1;
    *cp = v;
    return n;
}

long term_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;

    while (*p) {
        long cp;

        p += utf8_next(p, &cp);
        if (cp < 0)
            return -1;
        count++;
    }
    return count;
}

/* What may not reach a terminal as it is. */
static int unsafe(long cp)
{
    return cp < 0 || (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void term_print(FILE *f, const char *s, int multiline)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

    while (*p) {
        long cp;
        size_t n = utf8_next(p, &cp);

        if (cp == '\n' && multiline)
            fputs("\n    ", f);
        else if (cp == '\n' || unsafe(cp))
            fputs(REPLACEMENT, f);
        else
            fwrite(p, 1, n, f);
        p += n;
    }
}

const char *term_safe(char *buf, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t len = 0;

    if (cap == 0)
        return buf;
    while (*p) {
        long cp;
        size_t n = utf8_next(p, &cp);
        const char *out = cp == '\n' || unsafe(cp) ? REPLACEMENT : (const char *)p;
        size_t m = out == REPLACEMENT ? sizeof REPLACEMENT - 1 : n;

        if (len + m >= cap)
            break;
        memcpy(buf + len, out, m);
        len += m;
        p += n;
    }
    buf[len] = '\0';
    return buf;
}
