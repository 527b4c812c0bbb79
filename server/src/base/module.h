/* module.h: loading sottod's optional drivers, each a shared object in lib/ (the PostgreSQL
 * store, lib/sotto_store_pg.so; SMTP mail, lib/sotto_mail_smtp.so), with dlopen, so an
 * embedded node never maps libpq or libcurl and what they pull in.
 *
 * Each module exports one symbol, a const struct whose first two members are a uint32_t ABI
 * number and a uint32_t size (of the interface it implements, in the build that made it);
 * module_load checks both, so a module left over from another build is refused, not called.
 * A loaded module stays loaded until exit (its code must outlive everything it created).
 * Caching (load once) and locking are the caller's: module_load itself has no state. */
#ifndef SOTTO_MODULE_H
#define SOTTO_MODULE_H

#include <stddef.h>
#include <stdint.h>

/* The variable that names the module directory, for hints in errors. */
#define MODULE_DIR_ENV "SOTTO_MODULE_DIR"

/* Loads <dir>/<file> and returns the address of its exported `symbol`.
 * dir: SOTTO_MODULE_DIR from the configuration; NULL or "" means ../lib beside the running
 * binary (/proc/self/exe), which is where the build and an install put modules. Code is loaded
 * only from a directory and a regular file (not a symlink) that nobody but root or our
 * effective user owns and that are not group- or world-writable. abi, size: what the first
 * two uint32_t members of the symbol must hold. what: a prefix for errors ("postgresql").
 * On failure: NULL, and err holds one line (no newline) starting with what. Thread-safe
 * (dlopen is), but load each module once (the caller's lock) to keep errors stable. */
const void *module_load(const char *dir, const char *file, const char *symbol, uint32_t abi,
                        uint32_t size, const char *what, char *err, size_t errlen);

/* One line of error text from a printf format: CR and LF become spaces. */
void module_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
