/* The SMTP mail implementation over libcurl: smtp:// with STARTTLS, or smtps://, optional
 * AUTH from the URL's userinfo, a fresh easy handle per mail (so workers never share one),
 * bounded by a timeout. The URL holds the password: it is never logged or put in errors.
 *
 * Built as the module lib/sotto_mail_smtp.so (with message.c and utf8.c, symbols hidden but
 * for `sotto_mail_smtp_module`), so only a node with SMTP_URL set maps libcurl; smtp_load.c
 * loads it. */
#include "mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t smtp_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int smtp_init_rc = 1; /* under smtp_init_lock: 1 until init has run, then 0 or -1 */

typedef struct mail_smtp {
    mail base; /* first member */
    char *url; /* wiped and freed on destroy */
    char from[MAIL_ADDR_MAX + 1];
    int use_ssl; /* CURLUSESSL_* */
    long timeout_s;
    char *ca_file;
} mail_smtp;

typedef struct smtp_reader {
    const char *p;
    size_t left;
} smtp_reader;

static size_t smtp_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    smtp_reader *r = userdata;
    size_t n = size * nitems < r->left ? size * nitems : r->left;

    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

static int smtp_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

static int smtp_configure(CURL *c, mail_smtp *s, struct curl_slist *rcpt, smtp_reader *r)
{
    char from_path[MAIL_ADDR_MAX + 3];

    memcpy(from_path, "<", 1);
    memcpy(from_path + 1, s->from, strlen(s->from));
    memcpy(from_path + 1 + strlen(s->from), ">", 2);
    return curl_easy_setopt(c, CURLOPT_URL, s->url) ||
           curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") ||
           curl_easy_setopt(c, CURLOPT_USE_SSL, (long)s->use_ssl) ||
           curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_path) ||
           curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) ||
           curl_easy_setopt(c, CURLOPT_READFUNCTION, smtp_read) ||
           curl_easy_setopt(c, CURLOPT_READDATA, r) || curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) ||
           curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
           curl_easy_setopt(c, CURLOPT_TIMEOUT, s->timeout_s) ||
           curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->timeout_s / 3 + 1) ||
           (s->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file));
}

static int smtp_send(mail *m, const char *to, const char *subject, const char *text,
                     const char *html)
{
    mail_smtp *s = (mail_smtp *)m;
    char *msg = NULL, rcpt_path[MAIL_ADDR_MAX + 3];
    size_t len = 0;
    struct curl_slist *rcpt = NULL;
    CURL *c = NULL;
    smtp_reader r;
    int rc = -1;

    if (mail_message_render(s->from, to, subject, text, html, (long long)time(NULL), &msg, &len))
        return -1;
    memcpy(rcpt_path, "<", 1);
    memcpy(rcpt_path + 1, to, strlen(to));
    memcpy(rcpt_path + 1 + strlen(to), ">", 2);
    r.p = msg;
    r.left = len;
    if ((rcpt = curl_slist_append(NULL, rcpt_path)) == NULL || (c = curl_easy_init()) == NULL ||
        smtp_configure(c, s, rcpt, &r) != 0)
        goto fail;
    if (curl_easy_perform(c) == CURLE_OK)
        rc = 0;
fail:
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
    sodium_memzero(msg, len);
    free(msg);
    return rc;
}

static void smtp_destroy(mail *m)
{
    mail_smtp *s = (mail_smtp *)m;

    if (s->url != NULL) {
        sodium_memzero(s->url, strlen(s->url));
        free(s->url);
    }
    free(s->ca_file);
    free(s);
}

static const mail_iface smtp_iface = {"smtp", smtp_send, smtp_destroy};

/* Picks CURLOPT_USE_SSL from the scheme, the TLS mode, the host and whether a password is
 * sent; -1 for a combination that would send credentials in the clear or is contradictory. */
static int smtp_tls_mode(const char *scheme, const char *host, int has_user, mail_tls tls)
{
    int smtps = strcmp(scheme, "smtps") == 0;

    if (smtps)
        return tls == MAIL_TLS_NONE ? -1 : CURLUSESSL_ALL;
    if (tls == MAIL_TLS_STARTTLS)
        return CURLUSESSL_ALL;
    if (tls == MAIL_TLS_AUTO)
        return smtp_is_loopback(host) ? CURLUSESSL_NONE : CURLUSESSL_ALL;
    return (has_user && !smtp_is_loopback(host)) ? -1 : CURLUSESSL_NONE;
}

/* Parses and checks the URL with libcurl's own parser; sets *use_ssl. */
static int smtp_check_url(const char *url, mail_tls tls, int *use_ssl)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *path = NULL;
    int rc = -1;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto fail;
    if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)
        goto fail;
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (path != NULL && strcmp(path, "/") != 0 && strcmp(path, "") != 0)
        goto fail; /* a path would become the EHLO name: refuse surprises */
    *use_ssl = smtp_tls_mode(scheme, host, user != NULL, tls);
    rc = *use_ssl < 0 ? -1 : 0;
fail:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* curl_global_init is not thread-safe before libcurl 7.84, so it runs here, once, when sottod
 * loads the module on its main thread at start because SMTP_URL is set; a node without SMTP
 * never maps libcurl nor pays for its initialisation (and OpenSSL's fuller one). */
static int smtp_init(void)
{
    int rc;

    pthread_mutex_lock(&smtp_init_lock);
    if (smtp_init_rc == 1)
        smtp_init_rc =
            sodium_init() >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
    rc = smtp_init_rc;
    pthread_mutex_unlock(&smtp_init_lock);
    return rc;
}

static int smtp_ready(void)
{
    int rc;

    pthread_mutex_lock(&smtp_init_lock);
    rc = smtp_init_rc;
    pthread_mutex_unlock(&smtp_init_lock);
    return rc == 0;
}

static mail *smtp_create(const mail_smtp_config *cfg)
{
    mail_smtp *s = NULL;
    int use_ssl = 0;

    if (!smtp_ready() || cfg == NULL || cfg->url == NULL || mail_addr_check(cfg->from) != 0 ||
        cfg->timeout_s < 1 || cfg->timeout_s > 300 || strlen(cfg->url) > 2048 ||
        smtp_check_url(cfg->url, cfg->tls, &use_ssl) != 0)
        return NULL;
    if ((s = calloc(1, sizeof *s)) == NULL || (s->url = strdup(cfg->url)) == NULL ||
        (cfg->ca_file && (s->ca_file = strdup(cfg->ca_file)) == NULL)) {
        if (s != NULL) {
            s->base.iface = &smtp_iface;
            smtp_destroy(&s->base);
        }
        return NULL;
    }
    s->base.iface = &smtp_iface;
    memcpy(s->from, cfg->from, strlen(cfg->from) + 1);
    s->use_ssl = use_ssl;
    s->timeout_s = cfg->timeout_s;
    return &s->base;
}

/* The module's one exported symbol (the module is built with hidden visibility). */
extern const struct mail_smtp_module sotto_mail_smtp_module;
__attribute__((visibility("default"))) const struct mail_smtp_module sotto_mail_smtp_module = {
    .abi = MAIL_SMTP_MODULE_ABI,
    .config_size = (uint32_t)sizeof(mail_smtp_config),
    .init = smtp_init,
    .create = smtp_create,
};
