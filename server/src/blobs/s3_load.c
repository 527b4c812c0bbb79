/* The host side of the S3-compatible blob store: loads lib/sotto_blobs_s3.so (base/module.h)
 * when S3_ENDPOINT is set and opens the store through it, so sottod itself never links
 * libcurl. The module logs through blobs_s3_warn, into sottod's log. */
#include <pthread.h>

#include "base/log.h"
#include "base/module.h"
#include "blobs/s3.h"

static pthread_mutex_t s3_load_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct blobs_s3_module *s3_module; /* under the lock; set once, never reset */

static void blobs_s3_warn(const char *event, const char *line) { log_warn(event, "%s", line); }

struct blobs *blobs_s3_open(const char *module_dir, const struct blobs_s3_config *cfg, char *err,
                            size_t errlen)
{
    const struct blobs_s3_module *m;

    pthread_mutex_lock(&s3_load_lock);
    if (!s3_module) {
        m = module_load(module_dir, BLOBS_S3_MODULE_FILE, BLOBS_S3_MODULE_SYMBOL,
                        BLOBS_S3_MODULE_ABI, (uint32_t)sizeof(struct blobs_s3_config),
                        "S3_ENDPOINT", err, errlen);
        if (m && m->init()) {
            module_seterr(err, errlen, "S3_ENDPOINT: libcurl failed to initialise");
            m = NULL;
        }
        s3_module = m;
    }
    m = s3_module;
    pthread_mutex_unlock(&s3_load_lock);
    return m ? m->open(cfg, blobs_s3_warn, err, errlen) : NULL;
}
