/* The account mails in English and Vietnamese (templates.h). Each is a table row of words;
 * one function lays them out as text and as HTML, so the two parts say the same. */
#include "templates.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_PART_MAX 8192U

const char *const mail_languages[] = {"en", "vi", NULL};

struct template_words {
    const char *subject, *hello, *before, *button, *after;
};

/* [template][language], in the order of mail_languages. The greeting is hello, the name and a
 * comma in both languages. */
static const struct template_words template_table[MAIL_T_COUNT][2] = {
    [MAIL_T_VERIFY] =
        {
            {"Confirm your e-mail address for Sotto", "Hello",
             "please confirm your e-mail address for Sotto by opening this link:",
             "Confirm my address",
             "The link works once and expires in 24 hours. If you did not create this account, "
             "ignore this mail."},
            {"Xác nhận địa chỉ e-mail của bạn cho Sotto", "Xin chào",
             "vui lòng xác nhận địa chỉ e-mail của bạn cho Sotto bằng cách mở liên kết này:",
             "Xác nhận địa chỉ",
             "Liên kết chỉ dùng được một lần và hết hạn sau 24 giờ. Nếu bạn không tạo tài khoản "
             "này, hãy bỏ qua thư này."},
        },
    [MAIL_T_RESET] =
        {
            {"Reset your Sotto password", "Hello",
             "someone asked to reset the password of your Sotto account. To choose a new "
             "password, open this link:",
             "Choose a new password",
             "The link works once and expires in 1 hour. Resetting signs out every device. If it "
             "was not you, ignore this mail: your password stays as it is."},
            {"Đặt lại mật khẩu Sotto của bạn", "Xin chào",
             "có người đã yêu cầu đặt lại mật khẩu tài khoản Sotto của bạn. Để chọn mật khẩu "
             "mới, hãy mở liên kết này:",
             "Chọn mật khẩu mới",
             "Liên kết chỉ dùng được một lần và hết hạn sau 1 giờ. Đặt lại mật khẩu sẽ đăng xuất "
             "mọi thiết bị. Nếu không phải bạn, hãy bỏ qua thư này: mật khẩu của bạn vẫn giữ "
             "nguyên."},
        },
    [MAIL_T_PASSWORD_CHANGED] =
        {
            {"Your Sotto password was changed", "Hello",
             "the password of your Sotto account was changed, and every other device was "
             "signed out. If you did this, there is nothing to do. If not, someone knows your "
             "password: choose a new one at once here, which signs out every device:",
             "Reset my password", "This mail was sent because the password changed."},
            {"Mật khẩu Sotto của bạn đã được thay đổi", "Xin chào",
             "mật khẩu tài khoản Sotto của bạn vừa được thay đổi, và mọi thiết bị khác đã bị "
             "đăng xuất. Nếu đó là bạn, bạn không cần làm gì. Nếu không, ai đó đã biết mật khẩu "
             "của bạn: hãy chọn mật khẩu mới ngay tại đây, việc này sẽ đăng xuất mọi thiết bị:",
             "Đặt lại mật khẩu", "Thư này được gửi vì mật khẩu đã thay đổi."},
        },
};

static size_t template_language(const char *lang)
{
    for (size_t i = 0; lang && mail_languages[i]; i++)
        if (!strcmp(lang, mail_languages[i]))
            return i;
    return 0;
}

/* s with &, <, >, " and ' as HTML entities, into out; -1 if it does not fit. */
static int template_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        size_t k = e ? strlen(e) : 1;

        if (n + k >= cap)
            return -1;
        memcpy(out + n, e ? e : s, k);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

static char *template_alloc(void)
{
    char *p = malloc(TEMPLATE_PART_MAX);

    if (p)
        p[0] = '\0';
    return p;
}

static int template_text(const struct template_words *w, const char *name, const char *link,
                         char *out)
{
    int n = snprintf(out, TEMPLATE_PART_MAX, "%s %s,\n\n%s\n\n%s\n\n%s\n", w->hello, name,
                     w->before, link, w->after);

    return n < 0 || (size_t)n >= TEMPLATE_PART_MAX ? -1 : 0;
}

static int template_html(const struct template_words *w, const char *lang, const char *name,
                         const char *link, char *out)
{
    char esc_name[320], esc_link[4096];
    int n;

    if (template_escape(name, esc_name, sizeof(esc_name)) ||
        template_escape(link, esc_link, sizeof(esc_link)))
        return -1;
    n = snprintf(out, TEMPLATE_PART_MAX,
                 "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                 "<title>%s</title></head>\n<body style=\"font-family:sans-serif;"
                 "line-height:1.5;max-width:36em\">\n<p>%s %s,</p>\n<p>%s</p>\n"
                 "<p><a href=\"%s\" style=\"display:inline-block;padding:.6em 1.2em;"
                 "background:#2b5fd9;color:#fff;border-radius:6px;text-decoration:none\">%s</a>"
                 "</p>\n<p style=\"word-break:break-all;font-size:.9em\">%s</p>\n<p>%s</p>\n"
                 "</body></html>\n",
                 lang, w->subject, w->hello, esc_name, w->before, esc_link, w->button, esc_link,
                 w->after);
    sodium_memzero(esc_link, sizeof(esc_link));
    return n < 0 || (size_t)n >= TEMPLATE_PART_MAX ? -1 : 0;
}

int mail_template_render(enum mail_template t, const char *lang, const char *name, const char *link,
                         struct mail_rendered *out)
{
    size_t l = template_language(lang);
    const struct template_words *w;

    memset(out, 0, sizeof(*out));
    if ((unsigned)t >= MAIL_T_COUNT || !name || !link)
        return -1;
    w = &template_table[t][l];
    snprintf(out->subject, sizeof(out->subject), "%s", w->subject);
    out->text = template_alloc();
    out->html = template_alloc();
    if (!out->text || !out->html || template_text(w, name, link, out->text) ||
        template_html(w, mail_languages[l], name, link, out->html)) {
        mail_rendered_free(out);
        return -1;
    }
    return 0;
}

void mail_rendered_free(struct mail_rendered *r)
{
    if (r->text) {
        sodium_memzero(r->text, TEMPLATE_PART_MAX);
        free(r->text);
    }
    if (r->html) {
        sodium_memzero(r->html, TEMPLATE_PART_MAX);
        free(r->html);
    }
    memset(r, 0, sizeof(*r));
}
