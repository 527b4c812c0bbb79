/* crash.c: the "crash here" hook (see crash.h). */
#include "crash.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static crash_hook_fn hook;

void crash_set_hook(crash_hook_fn fn) { hook = fn; }

int crash_point(const char *point)
{
#ifdef SOTTO_TEST_HOOKS
    /* Test builds only (-DSOTTO_TEST_HOOKS=ON): a release build never reads this variable. */
    const char *env = getenv("SOTTO_CRASH_AT");

    if (env != NULL && strcmp(env, point) == 0)
        _exit(70); /* like a kill -9: no atexit handlers, no flushing of our state */
#endif
    return hook != NULL ? hook(point) : 0;
}
