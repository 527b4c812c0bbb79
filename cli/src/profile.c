/* profile.c: profile directory, key file or passphrase key, and opening the store. */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto.h"

#include "util.h"

#define SALT_BYTES crypto_pwhash_SALTBYTES

int profile_dir(char *out, size_t cap, const char *explicit_dir)
{
    const char *env = getenv("SOTTO_PROFILE"), *home = getenv("HOME");
    int n;

    if (explicit_dir != NULL && explicit_dir[0])
        return str_copy(out, cap, explicit_dir);
    if (env != NULL && env[0])
        return str_copy(out, cap, env);
    if (home == NULL)
        return -1;
    n = snprintf(out, cap, "%s/.local/share/sotto", home);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* mkdir -p with 0700 for the last component; an existing profile dir is tightened. */
static int make_dir(const char *dir)
{
    char tmp[4096];

    if (str_copy(tmp, sizeof tmp, dir) != 0)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return chmod(tmp, 0700);
}

static int read_exact(const char *path, uint8_t *out, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    n = read(fd, out, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* Writes a new file with mode 0600 (fails if it exists), fsynced. */
static int write_new(const char *path, const uint8_t *v, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc;

    if (fd < 0)
        return -1;
    rc = write(fd, v, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

static int derive(uint8_t key[32], const char *pass, const uint8_t salt[SALT_BYTES])
{
    /* libsotto's defaults, the same as the web client's lock: libsodium's interactive limits
     * (a CLI start must stay well under a second). */
    return sotto_passphrase_key(key, pass, strlen(pass), salt, SOTTO_PASSPHRASE_OPSLIMIT,
                                SOTTO_PASSPHRASE_MEMLIMIT_KIB) == 0
               ? 0
               : -1;
}
/* Profiles made when this called crypto_pwhash with the interactive limits must still open. */
_Static_assert(SOTTO_PASSPHRASE_OPSLIMIT == crypto_pwhash_OPSLIMIT_INTERACTIVE &&
                   SOTTO_PASSPHRASE_MEMLIMIT_KIB * 1024ull == crypto_pwhash_MEMLIMIT_INTERACTIVE &&
                   SOTTO_PASSPHRASE_SALTBYTES == SALT_BYTES,
               "the passphrase key changed: old CLI profiles would not open");

/* The profile key from key file or passphrase; creates one when create is set. */
static int load_key(const char *dir, int create, uint8_t key[32])
{
    char kpath[4200], spath[4200];
    const char *pass = getenv("SOTTO_PASSPHRASE");
    uint8_t salt[SALT_BYTES];
    int rc;

    if (path_in(kpath, sizeof kpath, dir, "profile.key") != 0 ||
        path_in(spath, sizeof spath, dir, "profile.salt") != 0)
        return -1;
    if ((rc = read_exact(kpath, key, 32)) <= 0)
        return rc;
    if ((rc = read_exact(spath, salt, sizeof salt)) == 0) {
        if (pass == NULL || !pass[0]) {
            fprintf(stderr,
                    "sotto: this profile is protected by a passphrase: set SOTTO_PASSPHRASE\n");
            return -1;
        }
        return derive(key, pass, salt);
    }
    if (rc < 0 || !create)
        return rc;
    if (pass != NULL && pass[0]) {
        randombytes_buf(salt, sizeof salt);
        return write_new(spath, salt, sizeof salt) == 0 ? derive(key, pass, salt) : -1;
    }
    sotto_seal_keygen(key);
    return write_new(kpath, key, 32);
}

/* A sealed known value: opening it proves the key is right. */
static int check_key(ls_store *st)
{
    static const char magic[] = "sotto-profile-v1";
    uint8_t *v = NULL;
    size_t len = 0;
    int rc = ls_kv_get(st, "check", &v, &len);

    if (rc == 1)
        return ls_kv_put(st, "check", (const uint8_t *)magic, sizeof magic - 1);
    rc = rc == 0 && len == sizeof magic - 1 && memcmp(v, magic, len) == 0 ? 0 : -1;
    ls_secret_free(v);
    return rc;
}

int profile_open(const char *dir, int create, ls_store **out)
{
    uint8_t *key = sodium_malloc(32);
    char db[4200];
    struct stat sb;
    int rc = -1;

    if (key == NULL || path_in(db, sizeof db, dir, "sotto.db") != 0)
        goto done;
    if (!create && stat(db, &sb) != 0) {
        rc = 1;
        goto done;
    }
    if (create && make_dir(dir) != 0) {
        fprintf(stderr, "sotto: cannot create profile directory %s: %s\n", dir, strerror(errno));
        goto done;
    }
    if ((rc = load_key(dir, create, key)) != 0) {
        if (rc > 0)
            fprintf(stderr, "sotto: the profile key is missing in %s\n", dir);
        rc = -1;
        goto done;
    }
    rc = -1;
    if (ls_open(out, db, key) != 0) {
        fprintf(stderr, "sotto: cannot open %s\n", db);
        goto done;
    }
    if (check_key(*out) != 0) {
        fprintf(stderr, "sotto: wrong passphrase or key for profile %s\n", dir);
        ls_close(*out);
        *out = NULL;
        goto done;
    }
    chmod(db, 0600);
    rc = 0;
done:
    if (key != NULL)
        sodium_free(key);
    return rc;
}
