/* file_download.c: fetch (ranged, resumable), check, decrypt and save one file (see files.h).
 * Nothing unverified ever carries the destination's name: the plaintext is written to a
 * temporary file beside it and linked into place only after the digest and every chunk
 * checked out (link, not rename, so an existing file is never replaced without --force). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "net_xfer.h"
#include "util.h"

#define ATTEMPTS 6

static void partial_path(client *c, const char *msg_id, size_t index, char *out, size_t cap)
{
    char dir[4200];

    snprintf(dir, sizeof dir, "%s/downloads", c->profile);
    mkdir(dir, 0700);
    snprintf(out, cap, "%s/%s-%zu.ct", dir, msg_id, index);
}

/* GET with Range from what the partial file holds, until it holds `clen` bytes. */
static int fetch(client *c, const sotto_attachment_pointer *a, int fd, uint64_t clen, progress *pg)
{
    char id[UUID_STRLEN + 1], url[4200];
    struct stat st;
    int did = 0;

    uuid_format(a->id, id);
    snprintf(url, sizeof url, "%s/api/attachments/%s", c->server, id);
    pg->total = clen;
    pg->label = "downloading";
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        xfer x;
        if (fstat(fd, &st) != 0)
            return EXIT_LOCAL;
        if ((uint64_t)st.st_size >= clen)
            return (uint64_t)st.st_size == clen ? 0 : EXIT_REFUSED; /* too long: not this file */
        if (attempt > 0)
            sleep(1);
        xfer_init(&x, "GET", url, c->access);
        x.out_fd = fd;
        x.out_from = (uint64_t)st.st_size;
        x.progress = progress_update;
        x.progress_ctx = pg;
        pg->base = x.out_from;
        if (xfer_run(&x) != 0)
            continue; /* broken: resume from what arrived */
        if (x.status == 401 && !did++ && client_refresh(c) == 0)
            continue;
        if (x.status == 416 && ftruncate(fd, 0) == 0)
            continue; /* our partial copy is not a prefix of theirs: start over */
        if (x.status == 404) {
            fprintf(stderr, "sotto: this file could not be downloaded: the server does not"
                            " have it (deleted, expired, or not yours to see)\n");
            return EXIT_NOTFOUND;
        }
        if (x.status != 200 && x.status != 206) {
            fprintf(stderr, "sotto: downloading failed (HTTP %ld)\n", x.status);
            return x.status >= 500 ? EXIT_NET : EXIT_REFUSED;
        }
    }
    fprintf(stderr, "sotto: the download broke off; run the same command again to resume\n");
    return EXIT_NET;
}

/* Decrypts the ciphertext in `in` into `out`, keeping the file's first a->size bytes of the
 * padded plaintext. 0 only when every chunk, the end and the digest checked out. */
static int decrypt_into(int in, int out, const sotto_attachment_pointer *a)
{
    uint64_t L = sotto_attachment_padded_size(a->size), kept = 0;
    size_t cap = SOTTO_ATTACHMENT_CHUNK;
    uint8_t *ct = malloc(cap), *pt = sodium_malloc(2 * cap);
    sotto_attachment *st = NULL;
    ssize_t got;
    int rc = -1;

    if (ct == NULL || pt == NULL || L == 0 ||
        sotto_attachment_decrypt_create(&st, a->key, a->digest, L) != 0)
        goto done;
    while ((got = read(in, ct, cap)) > 0) {
        size_t n = 0;
        if (sotto_attachment_decrypt_update(st, ct, (size_t)got, pt, &n) != 0)
            goto done;
        size_t keep = kept + n <= a->size ? n : (size_t)(a->size - kept);
        if (write_all(out, pt, keep) != 0)
            goto done;
        kept += keep;
    }
    if (got == 0 && sotto_attachment_decrypt_final(st) == 0 && kept == a->size)
        rc = 0;
done:
    sotto_attachment_free(st);
    if (pt != NULL)
        sodium_free(pt);
    free(ct);
    return rc;
}

/* The decrypted file under a temporary name in dest's folder, then linked to dest. */
static int save(int ct_fd, const sotto_attachment_pointer *a, const char *dest, int force)
{
    char *copy = strdup(dest), tmp[4200];
    int out = -1, rc = EXIT_LOCAL;

    if (copy == NULL)
        return EXIT_LOCAL;
    snprintf(tmp, sizeof tmp, "%s/.sotto-part-XXXXXX", dirname(copy));
    free(copy);
    if ((out = mkstemp(tmp)) < 0) {
        fprintf(stderr, "sotto: cannot write into the destination folder\n");
        return EXIT_LOCAL;
    }
    if (lseek(ct_fd, 0, SEEK_SET) != 0)
        goto done;
    if (decrypt_into(ct_fd, out, a) != 0) {
        fprintf(stderr, "sotto: this file could not be downloaded: what the server sent does"
                        " not open with the message's key and digest (damaged or replaced);"
                        " nothing was saved\n");
        rc = EXIT_REFUSED;
        goto done;
    }
    if (fsync(out) != 0)
        goto done;
    if (force ? rename(tmp, dest) != 0 : link(tmp, dest) != 0) {
        fprintf(stderr, "sotto: cannot save %s (%s)\n", dest,
                errno == EEXIST ? "it exists; --force replaces it" : strerror(errno));
        rc = errno == EEXIST ? EXIT_USAGE : EXIT_LOCAL;
        goto done;
    }
    rc = 0;
done:
    close(out);
    unlink(tmp); /* after link: the second name; after rename: nothing; else the partial */
    return rc;
}

int download_file(client *c, const char *msg_id, size_t index, const sotto_attachment_pointer *a,
                  const char *dest, int force, progress *pg)
{
    uint64_t clen = sotto_attachment_ciphertext_size(sotto_attachment_padded_size(a->size));
    char part[4300];
    int fd, rc;

    partial_path(c, msg_id, index, part, sizeof part);
    if ((fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "sotto: cannot write under the profile\n");
        return EXIT_LOCAL;
    }
    if ((rc = fetch(c, a, fd, clen, pg)) == 0) {
        progress_end(pg);
        rc = save(fd, a, dest, force);
    }
    close(fd);
    /* A complete copy is not needed again, and a damaged one must be fetched anew. */
    if (rc == 0 || rc == EXIT_REFUSED)
        unlink(part);
    return rc;
}
