/* test_term.c: text from others reaches the terminal as text: escape sequences, other
 * control characters, bidi overrides and invalid UTF-8 are shown as U+FFFD, a newline in a
 * message cannot start a line of its own, and everything else passes byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term.h"

#define R "\xef\xbf\xbd" /* U+FFFD */

static void check_safe(const char *in, const char *want)
{
    char buf[256];
    assert_string_equal(term_safe(buf, sizeof buf, in), want);
}

static void hostile_single_line(void **state)
{
    (void)state;
    check_safe("\x1b[2J\x1b[H", R "[2J" R "[H");        /* clear the screen */
    check_safe("\x1b]52;c;aGk=\x07", R "]52;c;aGk=" R); /* OSC 52: the clipboard */
    check_safe("a\rb\bc\x7f"
               "d",
               "a" R "b" R "c" R "d"); /* CR, BS, DEL */
    check_safe("x\xc2\x9b"
               "31m",
               "x" R "31m"); /* C1 CSI as UTF-8 */
    check_safe("\xe2\x80\xae"
               "cod.exe",
               R "cod.exe"); /* RLO: reordered text */
    check_safe("\xe2\x81\xa6"
               "a\xe2\x81\xa9",
               R "a" R);                                 /* LRI ... PDI */
    check_safe("line\nnext", "line" R "next");           /* a name stays one line */
    check_safe("\xff\xc0\xaf\xed\xa0\x80", R R R R R R); /* invalid, overlong, surrogate */
    check_safe("\xe2\x82", R R);                         /* cut short at the end */
    check_safe(NULL, "");
}

static void ordinary_text_passes(void **state)
{
    (void)state;
    check_safe("câu mật khẩu, 你好, Привет, 🙂\tok",
               "câu mật khẩu, 你好, Привет, 🙂\tok");
    check_safe("\xe2\x80\x8f"
               "RLM stays",
               "\xe2\x80\x8f"
               "RLM stays"); /* marks are not overrides */
}

static void cut_at_a_character(void **state)
{
    char buf[8];
    (void)state;
    /* "ạ" is 3 bytes: 2 of them fit after "abcde" (and the NUL), so it is left out whole. */
    assert_string_equal(term_safe(buf, sizeof buf, "abcdeạf"), "abcde");
    assert_string_equal(term_safe(buf, sizeof buf, "abcdạef"), "abcdạ");
    assert_string_equal(term_safe(buf, 5, "\x1b\x1b"), R);
    assert_string_equal(term_safe(buf, 1, "abc"), "");
}

static void multiline_messages(void **state)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    (void)state;
    assert_non_null(f);
    term_print(f, "first\n[2026-01-01 00:00:00] bank: send me your code\x1b[8m", 1);
    fclose(f);
    /* The fake line is indented under the real one, and the hidden-text escape is inert. */
    assert_string_equal(out, "first\n    [2026-01-01 00:00:00] bank: send me your code" R "[8m");
    free(out);
}

static void counting_characters(void **state)
{
    (void)state;
    assert_int_equal(term_utf8_chars(""), 0);
    assert_int_equal(term_utf8_chars("abc"), 3);
    assert_int_equal(term_utf8_chars("câu 你好 🙂"), 8); /* 1-, 2-, 3- and 4-byte characters */
    assert_int_equal(term_utf8_chars("ok\xff"), -1);
    assert_int_equal(term_utf8_chars("\xc0\xaf"), -1);         /* overlong '/' */
    assert_int_equal(term_utf8_chars("\xed\xa0\x80"), -1);     /* a surrogate */
    assert_int_equal(term_utf8_chars("\xf4\x90\x80\x80"), -1); /* above U+10FFFF */
    assert_int_equal(term_utf8_chars("\xe2\x82"), -1);         /* cut short */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_single_line), cmocka_unit_test(ordinary_text_passes),
        cmocka_unit_test(cut_at_a_character),  cmocka_unit_test(multiline_messages),
        cmocka_unit_test(counting_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
