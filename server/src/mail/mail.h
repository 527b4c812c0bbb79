/* The mail interface: how sottod sends verification and reset mail. Two implementations,
 * chosen once at start from configuration: the outbox (an .eml file per mail in
 * DATA_DIR/outbox, the default) and SMTP through libcurl (when SMTP_URL is set). SMTP is a
 * module, lib/sotto_mail_smtp.so, loaded by mail_smtp_load only when it is configured, so
 * sottod never links libcurl (and the Kerberos, LDAP, ... it pulls in).
 * Both pass the contract suite in server/tests/mail. */
#ifndef SOTTO_MAIL_H
#define SOTTO_MAIL_H

#include <stddef.h>
#include <stdint.h>

#define MAIL_ADDR_MAX 254U    /* RFC 5321 path limit */
#define MAIL_SUBJECT_MAX 200U /* bytes of UTF-8 */
#define MAIL_BODY_MAX (64U * 1024U)

typedef struct mail mail;

/* Implementations embed `struct mail` as their first member. */
typedef struct mail_iface {
    /* "outbox" or "smtp", for logs. */
    const char *const name;
    /* Sends one UTF-8 mail: plain text, or with html (NULL: none) its HTML form too, as
     * multipart/alternative. to: one addr-spec (local@domain, no display name); subject: one
     * line; text and html: with \n or \r\n line ends. Every argument is borrowed
     * (copied as needed before returning) and may be freed afterwards. No CR, LF or other
     * control characters in to or subject (header injection): refused with -1 and nothing
     * sent. Returns 0 once the mail is durably handed over (file renamed into place, or
     * accepted by the SMTP server), else -1. Blocking (disk or network, up to the configured
     * timeout): call it from a worker thread, never the loop. Thread-safe: several workers
     * may send at once. Never logs the body (it holds single-use tokens). */
    int (*const send)(mail *m, const char *to, const char *subject, const char *text,
                      const char *html);
    /* Frees m and everything it owns. Called once, at shutdown, when no send is running. */
    void (*const destroy)(mail *m);
} mail_iface;

struct mail {
    const mail_iface *iface;
};

/* A plain-text mail. */
static inline int mail_send(mail *m, const char *to, const char *subject, const char *body)
{
    return m->iface->send(m, to, subject, body, NULL);
}

/* A mail with a plain-text and an HTML part (the reader picks). */
static inline int mail_send_alt(mail *m, const char *to, const char *subject, const char *text,
                                const char *html)
{
    return m->iface->send(m, to, subject, text, html);
}

static inline void mail_destroy(mail *m)
{
    if (m != NULL)
        m->iface->destroy(m);
}

/* The outbox: creates dir (mode 0700) if missing; its parent must exist. from: the From
 * address (MAIL_FROM). Both strings are copied. NULL on a bad argument or error. */
mail *mail_outbox_create(const char *dir, const char *from);

typedef enum mail_tls {
    MAIL_TLS_AUTO = 0,     /* smtps:// is TLS; smtp:// uses STARTTLS and fails without it,
                              except to a loopback host (a local relay) */
    MAIL_TLS_STARTTLS = 1, /* smtp:// with STARTTLS required */
    MAIL_TLS_NONE = 2      /* plain smtp://: refused with credentials unless loopback */
} mail_tls;

typedef struct mail_smtp_config {
    const char *url;     /* SMTP_URL: smtp[s]://[user[:password]@]host[:port] (userinfo
                            percent-encoded); never logged */
    const char *from;    /* MAIL_FROM: the envelope and header From address */
    mail_tls tls;        /* SMTP_TLS: auto | starttls | none */
    long timeout_s;      /* SMTP_TIMEOUT_SECONDS: whole transfer, 1..300 (connect: 1/3) */
    const char *ca_file; /* SMTP_CA_FILE: optional PEM bundle to trust instead of the system's */
} mail_smtp_config;

/* Loads the SMTP module (MAIL_SMTP_MODULE_FILE, from module_dir: SOTTO_MODULE_DIR, NULL for
 * ../lib beside the binary; see module.h for the checks) and runs its init, which calls
 * curl_global_init once. Call it on the main thread at start-up, before any thread that may
 * send mail exists: curl_global_init is not thread-safe before libcurl 7.84. Once it has
 * succeeded, later calls return 0 at once; a failure is not remembered. 0, or -1 with one line
 * naming SMTP_URL in err. */
int mail_smtp_load(const char *module_dir, char *err, size_t errlen);

/* SMTP through libcurl (the module). Validates the configuration (scheme, host, from address,
 * TLS rules) without connecting. Strings are copied. NULL on a bad configuration or error, or
 * when mail_smtp_load has not succeeded. */
mail *mail_smtp_create(const mail_smtp_config *cfg);

/* What the SMTP module exports (one symbol, MAIL_SMTP_MODULE_SYMBOL; the rest is hidden). The
 * first two members are module.h's ABI check: bump MAIL_SMTP_MODULE_ABI whenever this struct,
 * mail_smtp_config or mail_iface changes. The module and every mail it creates live until exit
 * (it is never unloaded). */
#define MAIL_SMTP_MODULE_ABI 2
#define MAIL_SMTP_MODULE_SYMBOL "sotto_mail_smtp_module"
#define MAIL_SMTP_MODULE_FILE "sotto_mail_smtp.so"
struct mail_smtp_module {
    uint32_t abi;         /* MAIL_SMTP_MODULE_ABI of the build that made the module */
    uint32_t config_size; /* sizeof(mail_smtp_config) in that build */
    /* curl_global_init(CURL_GLOBAL_DEFAULT), once, under the module's mutex; later calls
     * return the first result. Main thread, before any sender exists. 0 or -1. */
    int (*const init)(void);
    /* As mail_smtp_create; NULL if init has not succeeded. */
    mail *(*const create)(const mail_smtp_config *cfg);
};

/* Shared by both implementations (message.c). Checks the arguments of send (see above) and
 * renders an RFC 5322 message with CRLF line ends: Date, From, To, Subject (RFC 2047
 * encoded-words when not ASCII), Message-ID, MIME-Version, Content-Type text/plain UTF-8 (or
 * multipart/alternative of it and text/html when html is not NULL), each body 7bit when it is
 * short-lined ASCII, base64 otherwise. Leading dots are left alone
 * (SMTP dot-stuffing is the transport's job). now: unix seconds. On 0, *out is a
 * NUL-terminated buffer of *out_len bytes that the caller frees (and, holding tokens, wipes). */
int mail_message_render(const char *from, const char *to, const char *subject, const char *text,
                        const char *html, long long now, char **out, size_t *out_len);

/* 0 if addr is an acceptable addr-spec (1..254 bytes, one '@', printable ASCII, none of
 * <>()[],;:\" space or controls), else -1. */
int mail_addr_check(const char *addr);

#endif
