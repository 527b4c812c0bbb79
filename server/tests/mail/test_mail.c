/* mail.outbox / mail.smtp: one contract suite for every mail implementation. argv[1] picks the
 * implementation; for smtp, argv[2] is a python3 with aiosmtpd and argv[3] smtp_server.py,
 * started here on a free loopback port. Each test sends through the interface and reads what
 * was delivered (the outbox directory, or the files the SMTP server wrote).
 *
 * SMTP takes sottod's path: mail_smtp_load dlopens lib/sotto_mail_smtp.so, found from bin/ as
 * ../lib like sottod does (no SOTTO_MODULE_DIR), and initialises libcurl inside it; this
 * program does not link libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/module.h"
#include "mail.h"

#define FROM "sotto@example.org"

typedef struct env {
    const char *kind;
    char tmp[64];    /* scratch directory, removed at the end */
    char inbox[128]; /* where delivered mail shows up */
    mail *m;
    pid_t server;     /* the SMTP server we started, or 0 */
    int server_stdin; /* closing it stops the server */
    int port;
    const char *python, *script;
} env;

static env E;

/* ---- reading what was delivered ---------------------------------------------------------- */

static int is_eml(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".eml") == 0;
}

static int count_delivered(void)
{
    DIR *d = opendir(E.inbox);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += is_eml(e->d_name);
    closedir(d);
    return n;
}

/* The most recent delivered message (names sort by time), CRs stripped; caller frees. */
static char *latest(char *path_out, size_t path_size)
{
    DIR *d = opendir(E.inbox);
    struct dirent *e;
    char best[256] = "", path[512];
    FILE *f;
    char *buf;
    long n;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (is_eml(e->d_name) && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    assert_true(best[0] != '\0');
    snprintf(path, sizeof path, "%s/%s", E.inbox, best);
    if (path_out)
        snprintf(path_out, path_size, "%s", path);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    for (char *r = buf, *w = buf;; r++) { /* strip CR in place */
        if (*r != '\r')
            *w++ = *r;
        if (*r == '\0')
            break;
    }
    return buf;
}

static const char *body_of(const char *msg)
{
    const char *p = strstr(msg, "\n\n");
    assert_non_null(p);
    return p + 2;
}

static void assert_header(const char *msg, const char *line)
{
    char want[512];
    size_t hl = (size_t)(body_of(msg) - msg);
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!(strncmp(msg, want + 1, strlen(want) - 1) == 0 ||
          (memmem(msg, hl, want, strlen(want)) != NULL)))
        fail_msg("header \"%s\" missing in:\n%.*s", line, (int)hl, msg);
}

/* Decodes the body (7bit or base64) with LF line ends; caller frees. */
static char *decoded_body(const char *msg)
{
    const char *b = body_of(msg);
    size_t hl = (size_t)(b - msg), n = 0;
    char *out;
    if (memmem(msg, hl, "Content-Transfer-Encoding: 7bit", 31) != NULL)
        return strdup(b);
    assert_non_null(memmem(msg, hl, "Content-Transfer-Encoding: base64", 33));
    out = calloc(1, strlen(b) + 1);
    assert_int_equal(sodium_base642bin((unsigned char *)out, strlen(b), b, strlen(b), "\n", &n,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    out[n] = '\0';
    for (char *r = out, *w = out;; r++) { /* CRLF -> LF */
        if (*r != '\r')
            *w++ = *r;
        if (*r == '\0')
            break;
    }
    return out;
}

/* ---- the contract -------------------------------------------------------------------------- */

static void test_send_plain(void **state)
{
    const char *body = "Hello,\n\nopen https://sotto.example/verify?token=abc_DEF-123\n"
                       ".\n..two dots\n.leading dot\nend";
    int before = count_delivered();
    char *msg, *dec;
    (void)state;
    assert_int_equal(mail_send(E.m, "alice@example.com", "Verify your Sotto email", body), 0);
    assert_int_equal(count_delivered(), before + 1);
    msg = latest(NULL, 0);
    assert_header(msg, "To: <alice@example.com>");
    assert_header(msg, "From: <" FROM ">");
    assert_header(msg, "Subject: Verify your Sotto email");
    assert_header(msg, "MIME-Version: 1.0");
    assert_header(msg, "Content-Type: text/plain; charset=utf-8");
    assert_int_equal(strncmp(msg, "Date: ", 6), 0);
    assert_non_null(strstr(msg, "\nMessage-ID: <"));
    dec = decoded_body(msg);
    /* Dot lines survive SMTP's dot-stuffing; a final newline is added. */
    assert_string_equal(dec, "Hello,\n\nopen https://sotto.example/verify?token=abc_DEF-123\n"
                             ".\n..two dots\n.leading dot\nend\n");
    free(dec);
    free(msg);
}

/* Text and HTML as multipart/alternative: both parts, the plain one first, each with its own
 * encoding (the non-ASCII HTML in base64), and the closing delimiter. */
static void test_send_alternative(void **state)
{
    const char *text = "Hello,\n\nhttps://sotto.example/verify-email?token=abc\n";
    const char *html = "<p>Xin ch\xc3\xa0o,</p><p><a href=\"https://sotto.example/x\">x</a></p>";
    const char *plain_at, *html_at;
    char *msg, boundary[64], close[80];
    const char *b;
    int before = count_delivered();
    (void)state;
    assert_int_equal(mail_send_alt(E.m, "alice@example.com", "Hi", text, html), 0);
    assert_int_equal(count_delivered(), before + 1);
    msg = latest(NULL, 0);
    assert_non_null(b = strstr(msg, "Content-Type: multipart/alternative; boundary=\""));
    assert_int_equal(
        sscanf(b, "Content-Type: multipart/alternative; boundary=\"%63[^\"]", boundary), 1);
    assert_non_null(plain_at = strstr(msg, "Content-Type: text/plain; charset=utf-8\n"
                                           "Content-Transfer-Encoding: 7bit\n\nHello,"));
    assert_non_null(html_at = strstr(msg, "Content-Type: text/html; charset=utf-8\n"
                                          "Content-Transfer-Encoding: base64\n"));
    assert_true(plain_at < html_at);
    assert_non_null(strstr(plain_at, "verify-email?token=abc\n--"));
    snprintf(close, sizeof close, "\n--%s--\n", boundary);
    assert_non_null(strstr(html_at, close));
    assert_int_equal(mail_send_alt(E.m, "alice@example.com", "Hi", text, "bad \xff"), -1);
    free(msg);
}

static void test_header_injection_refused(void **state)
{
    static const char *bad_to[] = {"alice@example.com\r\nBcc: eve@evil.example",
                                   "alice@example.com\nBcc: eve@evil.example",
                                   "alice@example.com\r",
                                   "alice@example.com>\r\nX: y",
                                   "Alice <alice@example.com>",
                                   "alice@example.com, eve@evil",
                                   "",
                                   "no-at-sign",
                                   "a@b@c",
                                   "@example.com",
                                   "alice@",
                                   "al ice@example.com",
                                   "al\tice@example.com",
                                   "al\x7f"
                                   "ice@example.com",
                                   "\xc3\xa9@example.com"};
    static const char *bad_subject[] = {"Hi\r\nBcc: eve@evil.example",
                                        "Hi\nBcc: x",
                                        "Hi\rthere",
                                        "tab\there",
                                        "bell\a",
                                        "c1 \xc2\x85 nel",
                                        "bad utf8 \xff",
                                        "overlong \xc0\xaf"};
    char long_to[300], long_subject[MAIL_SUBJECT_MAX + 2];
    int before = count_delivered();
    (void)state;
    for (size_t i = 0; i < sizeof bad_to / sizeof *bad_to; i++)
        assert_int_equal(mail_send(E.m, bad_to[i], "Hi", "body"), -1);
    for (size_t i = 0; i < sizeof bad_subject / sizeof *bad_subject; i++)
        assert_int_equal(mail_send(E.m, "alice@example.com", bad_subject[i], "body"), -1);
    memset(long_to, 'a', sizeof long_to);
    memcpy(long_to + sizeof long_to - 13, "@example.com", 13);
    assert_int_equal(mail_send(E.m, long_to, "Hi", "body"), -1);
    memset(long_subject, 's', sizeof long_subject - 1);
    long_subject[sizeof long_subject - 1] = '\0';
    assert_int_equal(mail_send(E.m, "alice@example.com", long_subject, "body"), -1);
    long_subject[MAIL_SUBJECT_MAX] = '\0';
    assert_int_equal(count_delivered(), before); /* nothing went out */
    assert_int_equal(mail_send(E.m, "alice@example.com", long_subject, "body"), 0);
    assert_int_equal(count_delivered(), before + 1);
}

static void test_bad_bodies_refused(void **state)
{
    char *big = malloc(MAIL_BODY_MAX + 2);
    int before = count_delivered();
    (void)state;
    assert_int_equal(mail_send(E.m, "alice@example.com", "Hi", "bad \xff utf8"), -1);
    assert_int_equal(mail_send(E.m, "alice@example.com", "Hi", "lone\rcr"), -1);
    assert_int_equal(mail_send(E.m, "alice@example.com", "Hi", NULL), -1);
    assert_int_equal(mail_send(E.m, "alice@example.com", NULL, "x"), -1);
    assert_int_equal(mail_send(E.m, NULL, "Hi", "x"), -1);
    memset(big, 'x', MAIL_BODY_MAX + 1);
    big[MAIL_BODY_MAX + 1] = '\0';
    assert_int_equal(mail_send(E.m, "alice@example.com", "Hi", big), -1);
    assert_int_equal(count_delivered(), before);
    free(big);
}

/* Decodes the Subject header: one or more =?UTF-8?B?...?= words folded with "\n ". */
static void decode_subject(const char *msg, char *out, size_t size)
{
    const char *p = strstr(msg, "\nSubject: ");
    size_t o = 0;
    assert_non_null(p);
    p += 10;
    while (strncmp(p, "=?UTF-8?B?", 10) == 0) {
        const char *end = strstr(p + 10, "?=");
        size_t n = 0;
        assert_non_null(end);
        assert_true(end + 2 - p <= 75); /* RFC 2047 word limit */
        assert_int_equal(sodium_base642bin((unsigned char *)out + o, size - o - 1, p + 10,
                                           (size_t)(end - p - 10), NULL, &n, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        o += n;
        p = end + 2;
        if (strncmp(p, "\n ", 2) == 0)
            p += 2;
    }
    assert_int_equal(*p, '\n');
    out[o] = '\0';
}

static void test_utf8_subject_and_long_lines(void **state)
{
    const char *subject =
        "X\xc3\xa1"
        "c minh email c\xe1\xbb\xa7"
        "a b\xe1\xba\xa1n \xe2\x9c\x93 "
        "\xe2\x80\x94 \xf0\x9f\x94\x90 Sotto, m\xe1\xbb\x99t l\xe1\xba\xa7n n\xe1\xbb\xaf"
        "a";
    char *body = malloc(4000), got[512], *msg, *dec;
    (void)state;
    memset(body, 'y', 3000);
    static const char tail[] = "\nch\xc3\xa0o \xe2\x82\xac\n";
    memcpy(body + 3000, tail, sizeof tail);
    assert_int_equal(mail_send(E.m, "b@example.com", subject, body), 0);
    msg = latest(NULL, 0);
    decode_subject(msg, got, sizeof got);
    assert_string_equal(got, subject);
    dec = decoded_body(msg);
    assert_string_equal(dec, body);
    free(dec);
    free(msg);
    free(body);
}

static void test_many(void **state)
{
    int before = count_delivered();
    char to[64];
    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(to, sizeof to, "user%d@example.com", i);
        assert_int_equal(mail_send(E.m, to, "Reset your password", "token"), 0);
    }
    assert_int_equal(count_delivered(), before + 5);
}

/* ---- implementation-specific checks ------------------------------------------------------- */

static void test_outbox_files(void **state)
{
    char path[600], *msg;
    struct stat st;
    DIR *d;
    struct dirent *e;
    (void)state;
    assert_int_equal(mail_send(E.m, "alice@example.com", "Mode", "x"), 0);
    msg = latest(path, sizeof path);
    free(msg);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(E.inbox, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    d = opendir(E.inbox); /* no temporary files left behind */
    while ((e = readdir(d)) != NULL)
        assert_true(strncmp(e->d_name, ".tmp-", 5) != 0);
    closedir(d);
    /* On disk the lines end in CRLF. */
    {
        FILE *f = fopen(path, "rb");
        char head[256] = {0};
        assert_non_null(f);
        assert_true(fread(head, 1, sizeof head - 1, f) > 0);
        fclose(f);
        assert_non_null(strstr(head, "\r\nFrom: <" FROM ">\r\n"));
    }
    assert_null(mail_outbox_create("/nonexistent-dir/outbox", FROM));
    assert_null(mail_outbox_create(E.inbox, "not an address"));
}

static void test_smtp_envelope(void **state)
{
    char path[600], envpath[600], line[256];
    FILE *f;
    (void)state;
    assert_int_equal(mail_send(E.m, "carol@example.net", "Envelope", "x"), 0);
    free(latest(path, sizeof path));
    snprintf(envpath, sizeof envpath, "%.*s.env", (int)(strlen(path) - 4), path);
    f = fopen(envpath, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, FROM "\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "carol@example.net\n");
    fclose(f);
}

static void test_smtp_failures(void **state)
{
    char url[128];
    mail_smtp_config cfg = {url, FROM, MAIL_TLS_NONE, 5, NULL};
    mail *m;
    int before = count_delivered();
    (void)state;
    snprintf(url, sizeof url, "smtp://sotto:wrong@127.0.0.1:%d", E.port); /* bad password */
    m = mail_smtp_create(&cfg);
    assert_non_null(m);
    assert_int_equal(mail_send(m, "alice@example.com", "Hi", "x"), -1);
    mail_destroy(m);
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", E.port); /* no AUTH: server requires it */
    m = mail_smtp_create(&cfg);
    assert_non_null(m);
    assert_int_equal(mail_send(m, "alice@example.com", "Hi", "x"), -1);
    mail_destroy(m);
    snprintf(url, sizeof url, "smtp://sotto:s3cret@127.0.0.1:1"); /* nobody listens */
    m = mail_smtp_create(&cfg);
    assert_non_null(m);
    assert_int_equal(mail_send(m, "alice@example.com", "Hi", "x"), -1);
    mail_destroy(m);
    assert_int_equal(count_delivered(), before);
}

static void test_smtp_config_refused(void **state)
{
    static const struct {
        const char *url;
        mail_tls tls;
    } bad[] = {{"http://127.0.0.1:25", MAIL_TLS_NONE},
               {"smtp://user:pw@mail.example.com:25", MAIL_TLS_NONE}, /* password in the clear */
               {"smtps://mail.example.com", MAIL_TLS_NONE},           /* contradictory */
               {"smtp://", MAIL_TLS_AUTO},
               {"smtp://mail.example.com/ehlo-name", MAIL_TLS_AUTO},
               {"not a url", MAIL_TLS_AUTO}};
    mail_smtp_config cfg = {NULL, FROM, MAIL_TLS_AUTO, 5, NULL};
    mail *m;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg.url = bad[i].url;
        cfg.tls = bad[i].tls;
        assert_null(mail_smtp_create(&cfg));
    }
    cfg.url = "smtp://user:pw@mail.example.com:587"; /* AUTO: STARTTLS required, accepted */
    cfg.tls = MAIL_TLS_AUTO;
    m = mail_smtp_create(&cfg);
    assert_non_null(m);
    mail_destroy(m);
    cfg.from = "bad from";
    assert_null(mail_smtp_create(&cfg));
    cfg.from = FROM;
    cfg.timeout_s = 0;
    assert_null(mail_smtp_create(&cfg));
    assert_null(mail_smtp_create(NULL));
}

/* The shared loader (module.h) refuses code it should not trust, with one line of error, and
 * a module from another build; loading again is a no-op. */
static void test_smtp_module_checks(void **state)
{
    char exe[PATH_MAX], real[PATH_MAX + 64], dir[128], link[192], err[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const void *sym;
    (void)state;
    assert_true(n > 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(real, sizeof real, "%s/../lib/" MAIL_SMTP_MODULE_FILE, exe);
    snprintf(dir, sizeof dir, "%s/mods", E.tmp);
    snprintf(link, sizeof link, "%s/" MAIL_SMTP_MODULE_FILE, dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(symlink(real, link), 0);
    /* A symlink in a private directory: not a regular file. */
    sym = module_load(dir, MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL, MAIL_SMTP_MODULE_ABI,
                      (uint32_t)sizeof(mail_smtp_config), "SMTP_URL", err, sizeof err);
    assert_null(sym);
    assert_non_null(strstr(err, "not a regular file"));
    /* A world-writable directory. */
    assert_int_equal(chmod(dir, 0777), 0);
    sym = module_load(dir, MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL, MAIL_SMTP_MODULE_ABI,
                      (uint32_t)sizeof(mail_smtp_config), "SMTP_URL", err, sizeof err);
    assert_null(sym);
    assert_non_null(strstr(err, "world-writable"));
    assert_int_equal(strncmp(err, "SMTP_URL: ", 10), 0);
    assert_null(strchr(err, '\n'));
    /* No such directory: the hint names the variable to set. */
    sym = module_load("/nonexistent-sotto-mods", MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL,
                      MAIL_SMTP_MODULE_ABI, (uint32_t)sizeof(mail_smtp_config), "SMTP_URL", err,
                      sizeof err);
    assert_null(sym);
    assert_non_null(strstr(err, MODULE_DIR_ENV));
    /* The real module, but another ABI or struct size: refused. */
    sym =
        module_load(NULL, MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL, MAIL_SMTP_MODULE_ABI + 1,
                    (uint32_t)sizeof(mail_smtp_config), "SMTP_URL", err, sizeof err);
    assert_null(sym);
    assert_non_null(strstr(err, "not from this build"));
    sym = module_load(NULL, MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL, MAIL_SMTP_MODULE_ABI,
                      (uint32_t)sizeof(mail_smtp_config) + 1, "SMTP_URL", err, sizeof err);
    assert_null(sym);
    /* Already loaded by setup: again is a no-op. */
    assert_int_equal(mail_smtp_load(NULL, err, sizeof err), 0);
}

/* ---- setup: a scratch directory, and for smtp a real server --------------------------------- */

static int start_server(void)
{
    int out[2], in[2];
    char buf[32] = {0}, *end;
    ssize_t n = 0, r;
    long port;
    if (pipe(out) || pipe(in))
        return -1;
    E.server = fork();
    if (E.server < 0)
        return -1;
    if (E.server == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(E.python, E.python, E.script, E.inbox, "sotto", "s3cret", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    E.server_stdin = in[1];
    while (n < (ssize_t)sizeof buf - 1 && (r = read(out[0], buf + n, 1)) == 1 && buf[n] != '\n')
        n++;
    close(out[0]);
    /* Our own helper's output: the port, then a newline. */
    port = strtol(buf, &end, 10);
    if (end == buf || (*end != '\0' && *end != '\n') || port <= 0 || port > 65535)
        return -1;
    E.port = (int)port;
    return 0;
}

static void stop_server(void)
{
    int status;
    if (E.server <= 0)
        return;
    close(E.server_stdin);
    kill(E.server, SIGTERM);
    waitpid(E.server, &status, 0);
    E.server = 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(E.tmp, sizeof E.tmp, "/tmp/sotto-mail-XXXXXX");
    if (mkdtemp(E.tmp) == NULL)
        return -1;
    snprintf(E.inbox, sizeof E.inbox, "%s/outbox", E.tmp);
    if (strcmp(E.kind, "outbox") == 0) {
        E.m = mail_outbox_create(E.inbox, FROM);
    } else {
        char url[128], err[512];
        mail_smtp_config cfg = {url, FROM, MAIL_TLS_NONE, 10, NULL};
        if (mkdir(E.inbox, 0700) != 0 || start_server() != 0)
            return -1;
        snprintf(url, sizeof url, "smtp://sotto:s3cret@127.0.0.1:%d", E.port);
        if (mail_smtp_create(&cfg) != NULL) /* the module is not loaded yet */
            return -1;
        if (mail_smtp_load(NULL, err, sizeof err) != 0) {
            fprintf(stderr, "mail_smtp_load: %s\n", err);
            return -1;
        }
        E.m = mail_smtp_create(&cfg);
    }
    return E.m != NULL ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    mail_destroy(E.m);
    stop_server();
    /* `rm -rf E.tmp` without a shell: children first, symlinks never followed. */
    return nftw(E.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT ? 0 : -1;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest contract[] = {
        cmocka_unit_test(test_send_plain),
        cmocka_unit_test(test_send_alternative),
        cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_bad_bodies_refused),
        cmocka_unit_test(test_utf8_subject_and_long_lines),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_outbox_files),
    };
    const struct CMUnitTest smtp[] = {
        cmocka_unit_test(test_send_plain),
        cmocka_unit_test(test_send_alternative),
        cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_bad_bodies_refused),
        cmocka_unit_test(test_utf8_subject_and_long_lines),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_smtp_envelope),
        cmocka_unit_test(test_smtp_failures),
        cmocka_unit_test(test_smtp_config_refused),
        cmocka_unit_test(test_smtp_module_checks),
    };
    int rc;
    if (sodium_init() < 0 || argc < 2)
        return 2;
    E.kind = argv[1];
    if (strcmp(E.kind, "outbox") == 0) {
        rc = cmocka_run_group_tests_name("mail.outbox", contract, setup, teardown);
    } else if (strcmp(E.kind, "smtp") == 0 && argc == 4) {
        E.python = argv[2];
        E.script = argv[3];
        rc = cmocka_run_group_tests_name("mail.smtp", smtp, setup, teardown);
    } else {
        return 2;
    }
    return rc;
}
