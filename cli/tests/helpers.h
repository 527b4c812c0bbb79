/* helpers.h: temporary profiles and file scans shared by the CLI unit tests. */
#ifndef SOTTO_CLI_TEST_HELPERS_H
#define SOTTO_CLI_TEST_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* A fresh directory under /tmp (the caller removes it with rm_tree). */
static inline char *tmp_dir(void)
{
    char *d = strdup("/tmp/sotto-cli-test.XXXXXX");
    return d && mkdtemp(d) ? d : NULL;
}

static inline int rm_tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/* `rm -rf dir` without a shell: children first, symlinks removed, never followed. */
static inline void rm_tree(const char *dir)
{
    if (nftw(dir, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* 1 when `needle` occurs in the file (missing files do not count). */
static inline int file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 22];
    size_t len;
    int found = 0;

    if (f == NULL)
        return 0;
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; n && i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    return found;
}

/* 1 when the marker appears as text, base64 or hex in any file directly in dir. */
static inline int dir_leaks(const char *dir, const char *marker)
{
    char b64[256], hex[256], path[1024];
    size_t n = strlen(marker);
    struct dirent *e;
    DIR *d = opendir(dir);
    int found = 0;

    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)marker, n,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2hex(hex, sizeof hex, (const unsigned char *)marker, n);
    b64[strlen(b64) - 4] = '\0'; /* the stable prefix, whatever the alignment */
    while (d != NULL && (e = readdir(d)) != NULL && !found) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        found = file_contains(path, marker, n) || file_contains(path, b64, strlen(b64)) ||
                file_contains(path, hex, strlen(hex));
    }
    if (d != NULL)
        closedir(d);
    return found;
}

#endif
