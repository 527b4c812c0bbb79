/* Argument checks and RFC 5322 rendering shared by the mail implementations. */
#include "mail.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

#define MSG_LINE_MAX 998U
#define MSG_B64_LINE 76U
#define MSG_WORD_BYTES 45U /* raw bytes per encoded-word: 60 base64 chars, under 75 */

typedef struct msg_buf {
    char *p;
    size_t len, cap;
} msg_buf;

static int msg_put(msg_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int msg_printf(msg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int msg_printf(msg_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        return -1;
    b->len += (size_t)n;
    return 0;
}

int mail_addr_check(const char *addr)
{
    size_t n, at = 0, ats = 0;

    if (addr == NULL || (n = strnlen(addr, MAIL_ADDR_MAX + 1)) == 0 || n > MAIL_ADDR_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c) != NULL)
            return -1;
        if (c == '@') {
            ats++;
            at = i;
        }
    }
    return (ats == 1 && at > 0 && at + 1 < n) ? 0 : -1;
}

/* One line of UTF-8 without control characters (CR, LF, TAB, DEL, C1 included). */
static int msg_subject_check(const char *s, int *ascii)
{
    size_t n, count;

    if (s == NULL || (n = strnlen(s, MAIL_SUBJECT_MAX + 1)) > MAIL_SUBJECT_MAX ||
        utf8_count(s, n, &count) != 0)
        return -1;
    *ascii = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0))
            return -1;
        if (c >= 0x80)
            *ascii = 0;
    }
    return 0;
}

/* Subject as encoded-words, split at character boundaries, folded with CRLF SP. */
static int msg_subject_encoded(msg_buf *b, const char *s)
{
    size_t n = strlen(s), i = 0;
    char word[100];

    while (i < n) {
        size_t k = n - i < MSG_WORD_BYTES ? n - i : MSG_WORD_BYTES;
        while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k--; /* do not cut a character */
        sodium_bin2base64(word, sizeof word, (const unsigned char *)s + i, k,
                          sodium_base64_VARIANT_ORIGINAL);
        if (msg_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", word))
            return -1;
        i += k;
    }
    return 0;
}

/* Normalises line ends to CRLF into out; lone CR is refused. Sets *plain when the result is
 * ASCII with lines of at most 998 bytes (7bit-safe). */
static int msg_body_crlf(const char *body, size_t n, msg_buf *out, int *plain)
{
    size_t line = 0;

    *plain = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '\r' && (i + 1 >= n || body[i + 1] != '\n'))
            return -1;
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (msg_put(out, "\r\n", 2))
                return -1;
            line = 0;
            continue;
        }
        if (c >= 0x80 || ++line > MSG_LINE_MAX)
            *plain = 0;
        if (msg_put(out, (const char *)&c, 1))
            return -1;
    }
    return 0;
}

static int msg_body_base64(msg_buf *b, const char *crlf, size_t n)
{
    char line[MSG_B64_LINE + 1];

    for (size_t i = 0; i < n; i += MSG_B64_LINE / 4 * 3) {
        size_t k = n - i < MSG_B64_LINE / 4 * 3 ? n - i : MSG_B64_LINE / 4 * 3;
        sodium_bin2base64(line, sizeof line, (const unsigned char *)crlf + i, k,
                          sodium_base64_VARIANT_ORIGINAL);
        if (msg_printf(b, "%s\r\n", line))
            return -1;
    }
    return 0;
}

static int msg_headers(msg_buf *b, const char *from, const char *to, const char *subject, int ascii,
                       long long now)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)now;
    struct tm tm;
    uint8_t rnd[16];
    char id[33];

    if (gmtime_r(&t, &tm) == NULL)
        return -1;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(id, sizeof id, rnd, sizeof rnd);
    if (msg_printf(b,
                   "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\nFrom: <%s>\r\nTo: <%s>\r\n"
                   "Message-ID: <%s%s>\r\nSubject: ",
                   days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, from, to, id, strchr(from, '@')))
        return -1;
    if (ascii ? msg_printf(b, "%s", subject) : msg_subject_encoded(b, subject))
        return -1;
    return msg_printf(b, "\r\nMIME-Version: 1.0\r\n");
}

/* A body's encoding header, a blank line and the body (CRLF line ends, 7bit when it can be,
 * base64 otherwise), ending with CRLF when not empty. */
static int msg_part(msg_buf *b, const char *body, size_t n)
{
    msg_buf crlf = {NULL, 0, 2 * n + 1};
    int plain = 1, rc = -1;

    if ((crlf.p = malloc(crlf.cap)) == NULL)
        return -1;
    crlf.p[0] = '\0';
    if (msg_body_crlf(body, n, &crlf, &plain) ||
        msg_printf(b, "Content-Transfer-Encoding: %s\r\n\r\n", plain ? "7bit" : "base64"))
        goto done;
    if (plain ? msg_put(b, crlf.p, crlf.len) : msg_body_base64(b, crlf.p, crlf.len))
        goto done;
    if (crlf.len > 0 && plain && (crlf.len < 2 || memcmp(crlf.p + crlf.len - 2, "\r\n", 2)) &&
        msg_put(b, "\r\n", 2))
        goto done;
    rc = 0;
done:
    sodium_memzero(crlf.p, crlf.cap);
    free(crlf.p);
    return rc;
}

/* The text alone, or the text and its HTML form as multipart/alternative (RFC 2046: the
 * plainest first). The boundary is random: no body holds it by chance. */
static int msg_bodies(msg_buf *b, const char *text, size_t n, const char *html, size_t hn)
{
    uint8_t rnd[16];
    char boundary[40];

    if (html == NULL)
        return msg_printf(b, "Content-Type: text/plain; charset=utf-8\r\n") || msg_part(b, text, n);
    randombytes_buf(rnd, sizeof rnd);
    memcpy(boundary, "sotto-", 6);
    sodium_bin2hex(boundary + 6, sizeof boundary - 6, rnd, sizeof rnd);
    return msg_printf(b,
                      "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n",
                      boundary, boundary) ||
           msg_part(b, text, n) ||
           msg_printf(b, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n", boundary) ||
           msg_part(b, html, hn) || msg_printf(b, "--%s--\r\n", boundary);
}

/* A body for send: valid UTF-8 of at most MAIL_BODY_MAX bytes. Its length, or -1. */
static long msg_body_check(const char *body)
{
    size_t n, count;

    if (body == NULL || (n = strnlen(body, MAIL_BODY_MAX + 1)) > MAIL_BODY_MAX ||
        utf8_count(body, n, &count) != 0)
        return -1;
    return (long)n;
}

int mail_message_render(const char *from, const char *to, const char *subject, const char *text,
                        const char *html, long long now, char **out, size_t *out_len)
{
    msg_buf b = {NULL, 0, 0};
    long n, hn = 0;
    int ascii = 1;

    *out = NULL;
    *out_len = 0;
    if (mail_addr_check(from) || mail_addr_check(to) || msg_subject_check(subject, &ascii) ||
        (n = msg_body_check(text)) < 0 || (html != NULL && (hn = msg_body_check(html)) < 0))
        return -1;
    /* Base64 of CRLF text: at most 2 * 4/3 of the body, plus its line ends. */
    b.cap = 8192 + 2 * MAIL_SUBJECT_MAX + (size_t)(n + hn) * 3 + 8;
    if ((b.p = malloc(b.cap)) == NULL)
        return -1;
    if (msg_headers(&b, from, to, subject, ascii, now) ||
        msg_bodies(&b, text, (size_t)n, html, (size_t)hn)) {
        sodium_memzero(b.p, b.cap);
        free(b.p);
        return -1;
    }
    *out = b.p;
    *out_len = b.len;
    return 0;
}
