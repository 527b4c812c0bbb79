/* test_args.c: the command line parses into the right fields, wherever options stand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "args.h"

static int parse(cli_opts *o, char **argv)
{
    char err[128];
    int argc = 0;

    while (argv[argc])
        argc++;
    return args_parse(o, argc, argv, err, sizeof err);
}

static void test_send(void **state)
{
    (void)state;
    cli_opts o;
    char *argv[] = {"sotto", "--profile", "/p", "send", "bob", "hello there", "--json", NULL};
    assert_int_equal(parse(&o, argv), 0);
    assert_string_equal(o.cmd, "send");
    assert_string_equal(o.profile, "/p");
    assert_int_equal(o.npos, 2);
    assert_string_equal(o.pos[0], "bob");
    assert_string_equal(o.pos[1], "hello there");
    assert_int_equal(o.json, 1);
}

static void test_files(void **state)
{
    (void)state;
    cli_opts o;
    char *send[] = {"sotto", "send-file", "bob", "a.pdf", "--caption", "the report", NULL};
    assert_int_equal(parse(&o, send), 0);
    assert_string_equal(o.cmd, "send-file");
    assert_int_equal(o.npos, 2);
    assert_string_equal(o.caption, "the report");
    char *get[] = {"sotto", "get-file", "bob", "ID", "2", "-o", "/tmp/x", "--force", NULL};
    assert_int_equal(parse(&o, get), 0);
    assert_int_equal(o.npos, 3);
    assert_string_equal(o.output, "/tmp/x");
    assert_int_equal(o.force, 1);
    char *get_long[] = {"sotto", "--output", "out", "get-file", "bob", "ID", NULL};
    assert_int_equal(parse(&o, get_long), 0);
    assert_string_equal(o.output, "out");
    assert_int_equal(o.force, 0);
    char *missing[] = {"sotto", "send-file", "bob", NULL};
    assert_int_equal(parse(&o, missing), -1);
    char *too_many[] = {"sotto", "get-file", "bob", "ID", "1", "2", NULL};
    assert_int_equal(parse(&o, too_many), -1);
    char *no_value[] = {"sotto", "get-file", "bob", "ID", "-o", NULL};
    assert_int_equal(parse(&o, no_value), -1);
}

static void test_profile(void **state)
{
    (void)state;
    cli_opts o;
    char *set[] = {"sotto", "profile", "avatar", "me.png", NULL};
    assert_int_equal(parse(&o, set), 0);
    assert_string_equal(o.cmd, "profile");
    assert_int_equal(o.npos, 2);
    assert_string_equal(o.pos[1], "me.png");
    assert_int_equal(o.remove, 0);
    char *rm[] = {"sotto", "--remove", "profile", "avatar", NULL};
    assert_int_equal(parse(&o, rm), 0);
    assert_int_equal(o.npos, 1);
    assert_int_equal(o.remove, 1);
    char *other[] = {"sotto", "profile", "banner", "x.png", NULL};
    assert_int_equal(parse(&o, other), -1);
    char *bare[] = {"sotto", "profile", NULL};
    assert_int_equal(parse(&o, bare), -1);
}

static void test_dash_text(void **state)
{
    (void)state;
    cli_opts o;
    char *argv[] = {"sotto", "send", "bob", "--", "--not-an-option", NULL};
    assert_int_equal(parse(&o, argv), 0);
    assert_string_equal(o.pos[1], "--not-an-option");
}

static void test_register_options(void **state)
{
    (void)state;
    cli_opts o;
    char *argv[] = {"sotto", "register",         "--email",  "a@b.c",      "--username",
                    "al",    "--password-stdin", "--server", "http://x:1", NULL};
    assert_int_equal(parse(&o, argv), 0);
    assert_string_equal(o.email, "a@b.c");
    assert_string_equal(o.username, "al");
    assert_int_equal(o.password_stdin, 1);
    assert_string_equal(o.server, "http://x:1");
}

/* The account actions: one word after the command (two more for devices rename), --yes. */
static void test_account_actions(void **state)
{
    (void)state;
    cli_opts o;
    char *del[] = {"sotto", "account", "delete", "--yes", "--mfa-code", "abcd-efgh", NULL};
    char *rename[] = {"sotto", "devices", "rename", "ID", "Kitchen laptop", NULL};
    char *bare[] = {"sotto", "mfa", NULL};
    char *extra[] = {"sotto", "password", "change", "now", NULL};

    assert_int_equal(parse(&o, del), 0);
    assert_string_equal(o.cmd, "account");
    assert_string_equal(o.pos[0], "delete");
    assert_int_equal(o.yes, 1);
    assert_string_equal(o.mfa_code, "abcd-efgh");
    assert_int_equal(parse(&o, rename), 0);
    assert_int_equal(o.npos, 3);
    assert_string_equal(o.pos[2], "Kitchen laptop");
    assert_int_equal(o.yes, 0);
    assert_int_equal(parse(&o, bare), -1);
    assert_int_equal(parse(&o, extra), -1);
}

static void test_errors(void **state)
{
    (void)state;
    cli_opts o;
    char *a1[] = {"sotto", NULL};
    char *a2[] = {"sotto", "fly", NULL};
    char *a3[] = {"sotto", "send", "bob", NULL};
    char *a4[] = {"sotto", "--bogus", "whoami", NULL};
    char *a5[] = {"sotto", "users", "list", "x", NULL};
    char *a6[] = {"sotto", "watch", "--timeout", "-3", NULL};
    char *a7[] = {"sotto", "login", "--email", NULL};
    assert_int_equal(parse(&o, a1), -1);
    assert_int_equal(parse(&o, a2), -1);
    assert_int_equal(parse(&o, a3), -1);
    assert_int_equal(parse(&o, a4), -1);
    assert_int_equal(parse(&o, a5), -1);
    assert_int_equal(parse(&o, a6), -1);
    assert_int_equal(parse(&o, a7), -1);
}

static void expect_error(char **argv, const char *want)
{
    cli_opts o;
    char err[128];
    int argc = 0;

    while (argv[argc])
        argc++;
    assert_int_equal(args_parse(&o, argc, argv, err, sizeof err), -1);
    assert_string_equal(err, want);
}

/* The message names the option and what was wrong with it, not the value as an option. */
static void test_error_words(void **state)
{
    (void)state;
    expect_error((char *[]){"sotto", "conversations", "--limit", "0", NULL},
                 "bad value '0' for --limit");
    expect_error((char *[]){"sotto", "watch", "--timeout", "x", NULL},
                 "bad value 'x' for --timeout");
    expect_error((char *[]){"sotto", "login", "--email", NULL}, "option '--email' needs a value");
    expect_error((char *[]){"sotto", "--bogus", "whoami", NULL}, "bad option '--bogus'");
}

static void test_verify_flags(void **state)
{
    (void)state;
    cli_opts o;
    char *argv[] = {"sotto", "verify", "--mark-verified", "bob", "--accept", NULL};
    assert_int_equal(parse(&o, argv), 0);
    assert_int_equal(o.mark_verified, 1);
    assert_int_equal(o.accept, 1);
    assert_string_equal(o.pos[0], "bob");
    char *h[] = {"sotto", "history", "bob", "--search", "lunch", "--limit", "5", NULL};
    assert_int_equal(parse(&o, h), 0);
    assert_string_equal(o.search, "lunch");
    assert_int_equal(o.limit, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send),
        cmocka_unit_test(test_dash_text),
        cmocka_unit_test(test_register_options),
        cmocka_unit_test(test_account_actions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_words),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_verify_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
