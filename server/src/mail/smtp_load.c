/* The host side of the SMTP mail implementation: loads lib/sotto_mail_smtp.so (module.h) the
 * first time SMTP is configured and forwards mail_smtp_create to it, so sottod itself never
 * links libcurl. */
#include "mail.h"

#include <pthread.h>

#include "base/module.h"

static pthread_mutex_t smtp_load_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct mail_smtp_module *smtp_module; /* under the lock; set once, never reset */

int mail_smtp_load(const char *module_dir, char *err, size_t errlen)
{
    const struct mail_smtp_module *m;

    pthread_mutex_lock(&smtp_load_lock);
    if (smtp_module == NULL) {
        m = module_load(module_dir, MAIL_SMTP_MODULE_FILE, MAIL_SMTP_MODULE_SYMBOL,
                        MAIL_SMTP_MODULE_ABI, (uint32_t)sizeof(mail_smtp_config), "SMTP_URL", err,
                        errlen);
        if (m != NULL && m->init() != 0) {
            module_seterr(err, errlen, "SMTP_URL: libcurl failed to initialise");
            m = NULL;
        }
        smtp_module = m;
    }
    m = smtp_module;
    pthread_mutex_unlock(&smtp_load_lock);
    return m != NULL ? 0 : -1;
}

mail *mail_smtp_create(const mail_smtp_config *cfg)
{
    const struct mail_smtp_module *m;

    pthread_mutex_lock(&smtp_load_lock);
    m = smtp_module;
    pthread_mutex_unlock(&smtp_load_lock);
    return m != NULL ? m->create(cfg) : NULL;
}
