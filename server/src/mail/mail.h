/* The mail interface: how sottod sends verification and reset mail. Two implementations,
 * chosen once at start from configuration: the outbox (an .eml file per mail in
 * DATA_DIR/outbox, the default) and SMTP through libcurl (when SMTP_URL is set).
 * Both pass the contract suite in server/tests/mail. */
#ifndef SOTTO_MAIL_H
#define SOTTO_MAIL_H

#include <stddef.h>

#define MAIL_ADDR_MAX 254U      /* RFC 5321 path limit */
#define MAIL_SUBJECT_MAX 200U   /* bytes of UTF-8 */
#define MAIL_BODY_MAX (64U * 1024U)

typedef struct mail mail;

/* Implementations embed `struct mail` as their first member. */
typedef struct mail_iface {
    /* "outbox" or "smtp", for logs. */
    const char *const name;
    /* Sends one plain-text UTF-8 mail. to: one addr-spec (local@domain, no display name);
     * subject: one line; body: text with \n or \r\n line ends. Every argument is borrowed
     * (copied as needed before returning) and may be freed afterwards. No CR, LF or other
     * control characters in to or subject (header injection): refused with -1 and nothing
     * sent. Returns 0 once the mail is durably handed over (file renamed into place, or
     * accepted by the SMTP server), else -1. Blocking (disk or network, up to the configured
     * timeout): call it from a worker thread, never the loop. Thread-safe: several workers
     * may send at once. Never logs the body (it holds single-use tokens). */
    int (*const send)(mail *m, const char *to, const char *subject, const char *body);
    /* Frees m and everything it owns. Called once, at shutdown, when no send is running. */
    void (*const destroy)(mail *m);
} mail_iface;

struct mail {
    const mail_iface *iface;
};

static inline int mail_send(mail *m, const char *to, const char *subject, const char *body)
{
    return m->iface->send(m, to, subject, body);
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
    const char *url;      /* SMTP_URL: smtp[s]://[user[:password]@]host[:port] (userinfo
                             percent-encoded); never logged */
    const char *from;     /* MAIL_FROM: the envelope and header From address */
    mail_tls tls;         /* SMTP_TLS: auto | starttls | none */
    long timeout_s;       /* SMTP_TIMEOUT_SECONDS: whole transfer, 1..300 (connect: 1/3) */
    const char *ca_file;  /* SMTP_CA_FILE: optional PEM bundle to trust instead of the system's */
} mail_smtp_config;

/* SMTP through libcurl. Validates the configuration (scheme, host, from address, TLS rules)
 * without connecting. Call curl_global_init() once at start-up before any thread exists
 * (sottod's main does it). Strings are copied. NULL on a bad configuration or error. */
mail *mail_smtp_create(const mail_smtp_config *cfg);

/* Shared by both implementations (message.c). Checks the arguments of send (see above) and
 * renders an RFC 5322 message with CRLF line ends: Date, From, To, Subject (RFC 2047
 * encoded-words when not ASCII), Message-ID, MIME-Version, Content-Type text/plain UTF-8,
 * and a 7bit body when it is short-lined ASCII, base64 otherwise. Leading dots are left alone
 * (SMTP dot-stuffing is the transport's job). now: unix seconds. On 0, *out is a
 * NUL-terminated buffer of *out_len bytes that the caller frees (and, holding tokens, wipes). */
int mail_message_render(const char *from, const char *to, const char *subject, const char *body,
                        long long now, char **out, size_t *out_len);

/* 0 if addr is an acceptable addr-spec (1..254 bytes, one '@', printable ASCII, none of
 * <>()[],;:\" space or controls), else -1. */
int mail_addr_check(const char *addr);

#endif
