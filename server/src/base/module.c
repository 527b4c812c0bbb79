/* module.c: finding, vetting and dlopening sottod's optional driver modules (module.h).
 * The store (PostgreSQL) and mail (SMTP) both load theirs through here, so the directory
 * rule, the permission checks and the ABI check live in one place. */
#include "base/module.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void module_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* Where modules live: dir if given, else <dir of /proc/self/exe>/../lib. */
static int module_dir(const char *dir, char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len;
    char *slash;

    if (dir && *dir)
        return snprintf(out, n, "%s", dir) < (int)n ? 0 : -1;
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0 || (size_t)len >= sizeof(exe) - 1)
        return -1;
    exe[len] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return snprintf(out, n, "%s/../lib", exe) < (int)n ? 0 : -1;
}

/* Why we won't load code from this directory or file, or NULL: it must be writable by nobody
 * but root or our own user. The file is lstat'ed, so a symlink is refused. */
static const char *module_unsafe(const char *path, bool dir)
{
    struct stat st;

    if ((dir ? stat(path, &st) : lstat(path, &st)) != 0)
        return strerror(errno);
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        return dir ? "not a directory" : "not a regular file";
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return "group- or world-writable, refusing to load code from it";
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return "owned by another user, refusing to load code from it";
    return NULL;
}

const void *module_load(const char *dir, const char *file, const char *symbol, uint32_t abi,
                        uint32_t size, const char *what, char *err, size_t errlen)
{
    char where[PATH_MAX], real[PATH_MAX], path[PATH_MAX];
    const char *why;
    const void *sym;
    uint32_t head[2];
    void *h;

    if (module_dir(dir, where, sizeof(where))) {
        module_seterr(err, errlen,
                      "%s: cannot find the module directory (set " MODULE_DIR_ENV
                      " to the directory holding %s)",
                      what, file);
        return NULL;
    }
    if (!realpath(where, real)) {
        module_seterr(err, errlen,
                      "%s: module directory %s: %s (set " MODULE_DIR_ENV
                      " to the directory holding %s)",
                      what, where, strerror(errno), file);
        return NULL;
    }
    if ((why = module_unsafe(real, true))) {
        module_seterr(err, errlen, "%s: module directory %s: %s", what, real, why);
        return NULL;
    }
    if (snprintf(path, sizeof(path), "%s/%s", real, file) >= (int)sizeof(path)) {
        module_seterr(err, errlen, "%s: module path too long", what);
        return NULL;
    }
    if ((why = module_unsafe(path, false))) {
        module_seterr(err, errlen,
                      "%s: module %s: %s (set " MODULE_DIR_ENV " to the directory holding %s)",
                      what, path, why, file);
        return NULL;
    }
    /* RTLD_LOCAL: the library's symbols (libpq, libcurl) stay out of the global namespace;
     * RTLD_NOW: a module that cannot resolve fails here, at start, not at its first use. */
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        module_seterr(err, errlen, "%s: cannot load module: %s", what, dlerror());
        return NULL;
    }
    sym = dlsym(h, symbol);
    if (sym)
        memcpy(head, sym, sizeof(head)); /* the two leading uint32_t of every module */
    if (!sym || head[0] != abi || head[1] != size) {
        module_seterr(err, errlen, "%s: module %s is not from this build of sottod", what, path);
        dlclose(h);
        return NULL;
    }
    return sym; /* h is never closed: the module's code must outlive what it created */
}
