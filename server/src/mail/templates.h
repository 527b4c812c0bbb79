/* The account mails' words, in each language an account can choose: subject, a plain-text
 * body and the same as HTML, around one link (verification, reset, or where to reset after a
 * change). Pure: no I/O, thread-safe. */
#ifndef SOTTO_MAIL_TEMPLATES_H
#define SOTTO_MAIL_TEMPLATES_H

#include <stddef.h>

#include "mail.h"

enum mail_template { MAIL_T_VERIFY, MAIL_T_RESET, MAIL_T_PASSWORD_CHANGED, MAIL_T_COUNT };

/* The languages, as accounts store them; the first is the default. NULL-terminated. */
extern const char *const mail_languages[];

struct mail_rendered {
    char subject[MAIL_SUBJECT_MAX + 1];
    char *text, *html; /* malloc'd; they hold the link (a token): mail_rendered_free wipes */
};

/* Renders t in lang ("en", "vi"; anything else is the default) for name (the greeting) and
 * link (a URL; escaped for HTML here). 0, or -1 (too long, out of memory). */
int mail_template_render(enum mail_template t, const char *lang, const char *name, const char *link,
                         struct mail_rendered *out);
void mail_rendered_free(struct mail_rendered *r);

#endif
