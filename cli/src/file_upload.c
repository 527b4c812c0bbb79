/* file_upload.c: pad, encrypt to the spool, and upload with tus, resumably (see files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crash.h"
#include "net_xfer.h"
#include "util.h"

#define PATCH_BYTES (4u << 20) /* one PATCH: a break loses at most this much */
#define ATTEMPTS 6             /* broken connections tolerated in one run */

/* kv name and spool name from a hash of what identifies this file's contents and who sends
 * it: the same file sent again resumes, an edited file (size or time changed) starts over.
 * The path itself is never stored in clear (a file name is private). */
static int upload_slot(client *c, const char *path, const struct stat *st, file_upload *u)
{
    char real[PATH_MAX], hex[33];
    uint8_t h[16];
    crypto_generichash_state gs;
    uint64_t meta[3] = {(uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
                        (uint64_t)st->st_mtim.tv_nsec};

    if (realpath(path, real) == NULL)
        return -1;
    crypto_generichash_init(&gs, NULL, 0, sizeof h);
    crypto_generichash_update(&gs, (const uint8_t *)real, strlen(real) + 1);
    crypto_generichash_update(&gs, (const uint8_t *)meta, sizeof meta);
    crypto_generichash_update(&gs, (const uint8_t *)c->pr.device_id, strlen(c->pr.device_id));
    crypto_generichash_final(&gs, h, sizeof h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(u->slot, sizeof u->slot, "upload:%s", hex);
    if (snprintf(u->spool, sizeof u->spool, "%s/uploads", c->profile) >= (int)sizeof u->spool ||
        (mkdir(u->spool, 0700) != 0 && errno != EEXIST))
        return -1;
    snprintf(u->spool, sizeof u->spool, "%s/uploads/%s.ct", c->profile, hex);
    return 0;
}

static int state_save(client *c, const file_upload *u)
{
    char *key = b64_encode(u->key, sizeof u->key), *dig = b64_encode(u->digest, sizeof u->digest);
    json_t *j = key && dig
                    ? json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", u->id, "key", key, "digest", dig,
                                "size", (json_int_t)u->size, "clen", (json_int_t)u->clen)
                    : NULL;
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int rc = txt ? ls_kv_put_str(c->st, u->slot, txt) : -1;

    if (txt != NULL) {
        sodium_memzero(txt, strlen(txt));
        free(txt);
    }
    json_decref(j);
    if (key != NULL)
        sodium_memzero(key, strlen(key));
    free(key);
    free(dig);
    return rc;
}

/* 0 loaded, 1 none (or unusable: start over). */
static int state_load(client *c, file_upload *u)
{
    uint8_t *v = NULL;
    size_t len;
    json_t *j;
    const char *id;
    int rc = 1;

    if (ls_kv_get(c->st, u->slot, &v, &len) != 0)
        return 1;
    if ((j = json_loadb((const char *)v, len, 0, NULL)) != NULL &&
        (id = json_string_value(json_object_get(j, "id"))) != NULL &&
        str_copy(u->id, sizeof u->id, id) == 0 &&
        b64_decode_fixed(json_string_value(json_object_get(j, "key")), u->key, sizeof u->key) ==
            0 &&
        b64_decode_fixed(json_string_value(json_object_get(j, "digest")), u->digest,
                         sizeof u->digest) == 0 &&
        (uint64_t)json_integer_value(json_object_get(j, "size")) == u->size) {
        u->clen = (uint64_t)json_integer_value(json_object_get(j, "clen"));
        rc = 0;
    }
    json_decref(j);
    ls_secret_free(v);
    return rc;
}

/* Reads exactly n bytes of the file (zeros past its size: the padding). */
static int read_padded(int fd, uint64_t size, uint64_t pos, uint8_t *buf, size_t n)
{
    size_t have = pos >= size ? 0 : (size - pos < n ? (size_t)(size - pos) : n);

    for (size_t done = 0; done < have;) {
        ssize_t r = pread(fd, buf + done, have - done, (off_t)(pos + done));
        if (r <= 0)
            return -1; /* the file shrank while we read it */
        done += (size_t)r;
    }
    memset(buf + have, 0, n - have);
    return 0;
}

/* The padded file, encrypted chunk by chunk into out (one chunk in memory at a time). */
static int encrypt_into(int in, int out, file_upload *u, progress *pg)
{
    uint64_t L = sotto_attachment_padded_size(u->size), pos = 0;
    uint8_t header[SOTTO_ATTACHMENT_HEADERBYTES];
    uint8_t *pt = sodium_malloc(SOTTO_ATTACHMENT_CHUNK);
    uint8_t *ct = malloc(SOTTO_ATTACHMENT_CHUNK + SOTTO_ATTACHMENT_CHUNK_OVERHEAD);
    sotto_attachment *st = NULL;
    int rc = -1;

    if (pt == NULL || ct == NULL || sotto_attachment_encrypt_create(&st, u->key, header) != 0 ||
        write_all(out, header, sizeof header) != 0)
        goto done;
    for (;;) {
        size_t n = L - pos >= SOTTO_ATTACHMENT_CHUNK ? SOTTO_ATTACHMENT_CHUNK : (size_t)(L - pos);
        int last = n < SOTTO_ATTACHMENT_CHUNK;
        if (read_padded(in, u->size, pos, pt, n) != 0 ||
            sotto_attachment_encrypt_chunk(st, pt, n, last, ct) != 0 ||
            write_all(out, ct, n + SOTTO_ATTACHMENT_CHUNK_OVERHEAD) != 0)
            goto done;
        pos += n;
        progress_update(pg, pos);
        if (last)
            break;
    }
    rc = sotto_attachment_encrypt_final(st, u->digest) == 0 ? 0 : -1;
done:
    sotto_attachment_free(st);
    if (pt != NULL)
        sodium_free(pt);
    free(ct);
    return rc;
}

static int spool_write(int fd, file_upload *u, progress *pg)
{
    char tmp[4300];
    int out, rc;

    snprintf(tmp, sizeof tmp, "%s.tmp", u->spool);
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return -1;
    rc = encrypt_into(fd, out, u, pg);
    if (fsync(out) != 0)
        rc = -1;
    close(out);
    if (rc == 0 && rename(tmp, u->spool) != 0)
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static int spool_ok(const file_upload *u)
{
    struct stat st;

    return stat(u->spool, &st) == 0 && (uint64_t)st.st_size == u->clen;
}

int upload_prepare(client *c, const char *path, int fd, const struct stat *st, file_upload *u,
                   progress *pg)
{
    memset(u, 0, sizeof *u);
    u->size = (uint64_t)st->st_size;
    if (upload_slot(c, path, st, u) != 0) {
        fprintf(stderr, "sotto: cannot make the upload folder under the profile\n");
        return EXIT_LOCAL;
    }
    if (state_load(c, u) == 0 && spool_ok(u))
        return 0;
    u->id[0] = '\0';
    u->clen = sotto_attachment_ciphertext_size(sotto_attachment_padded_size(u->size));
    pg->total = sotto_attachment_padded_size(u->size);
    pg->label = "encrypting";
    if (spool_write(fd, u, pg) != 0 || state_save(c, u) != 0) {
        fprintf(stderr, "sotto: could not encrypt the file into the profile's spool\n");
        return EXIT_LOCAL;
    }
    progress_end(pg);
    return 0;
}

/* ------------------------------------------------------------------ tus */

static void url_of(client *c, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/api/attachments%s%s", c->server, id[0] ? "/" : "", id);
}

/* A 401 once: refresh the token and ask again. 1: ask again, 0: go on. */
static int refreshed(client *c, const xfer *x, int *did)
{
    if (x->status != 401 || *did)
        return 0;
    *did = 1;
    return client_refresh(c) == 0;
}

static int refused(const xfer *x, const char *what)
{
    fprintf(stderr, "sotto: %s failed (HTTP %ld)%s\n", what, x->status,
            x->status == 413 ? ": the file is too large, or your storage quota is full" : "");
    if (x->status == 401)
        return EXIT_AUTH;
    return x->status >= 500 ? EXIT_NET : EXIT_REFUSED;
}

/* POST: a new upload; its id is saved before any byte goes. */
static int create(client *c, file_upload *u)
{
    char url[4200];
    xfer x;
    int did = 0;
    const char *slash;

    url_of(c, "", url, sizeof url);
    do {
        xfer_init(&x, "POST", url, c->access);
        x.upload_len = u->clen;
        if (xfer_run(&x) != 0)
            return -1;
    } while (refreshed(c, &x, &did));
    if (x.status != 201)
        return refused(&x, "starting the upload");
    slash = strrchr(x.location, '/');
    if (slash == NULL || str_copy(u->id, sizeof u->id, slash + 1) != 0 ||
        strlen(u->id) != UUID_STRLEN) {
        fprintf(stderr, "sotto: the server's answer to the upload named no upload\n");
        return EXIT_NET;
    }
    return state_save(c, u) == 0 ? 0 : EXIT_LOCAL;
}

/* HEAD: where the server's copy stands. 1: the upload is gone (expired): start again. */
static int offset_of(client *c, file_upload *u, uint64_t *off)
{
    char url[4200];
    xfer x;
    int did = 0;

    url_of(c, u->id, url, sizeof url);
    do {
        xfer_init(&x, "HEAD", url, c->access);
        if (xfer_run(&x) != 0)
            return -1;
    } while (refreshed(c, &x, &did));
    if (x.status == 404)
        return 1;
    if (x.status != 200 || !x.has_offset || x.offset > u->clen)
        return refused(&x, "checking the upload");
    *off = x.offset;
    return 0;
}

/* PATCHes from *off to the end, a few MiB at a time. -1: the connection broke. */
static int send_from(client *c, file_upload *u, int fd, uint64_t *off, progress *pg)
{
    char url[4200];

    url_of(c, u->id, url, sizeof url);
    while (*off < u->clen) {
        xfer x;
        int did = 0;
        do {
            xfer_init(&x, "PATCH", url, c->access);
            x.in_fd = fd;
            x.in_off = *off;
            x.in_len = u->clen - *off < PATCH_BYTES ? u->clen - *off : PATCH_BYTES;
            x.progress = progress_update;
            x.progress_ctx = pg;
            pg->base = *off;
            if (xfer_run(&x) != 0)
                return -1;
        } while (refreshed(c, &x, &did));
        if (x.status == 409 || x.status == 503)
            return -1; /* not where we thought, or busy (Retry-After: 1): ask again */
        if (x.status != 204 || !x.has_offset || x.offset <= *off || x.offset > u->clen)
            return refused(&x, "uploading");
        *off = x.offset;
        if (crash_point("upload-after-patch"))
            return EXIT_LOCAL;
    }
    return 0;
}

int upload_run(client *c, file_upload *u, progress *pg)
{
    int fd = open(u->spool, O_RDONLY | O_CLOEXEC), rc = -1, first = 1;
    uint64_t off = 0;

    if (fd < 0)
        return EXIT_LOCAL;
    pg->total = u->clen;
    pg->label = "uploading";
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt > 0)
            sleep(1);
        if (u->id[0] == '\0' && (rc = create(c, u)) != 0) {
            if (rc == -1)
                continue;
            break;
        }
        if ((rc = offset_of(c, u, &off)) == 1) {
            u->id[0] = '\0'; /* expired on the server: upload again */
            continue;
        }
        if (rc == -1)
            continue;
        if (rc != 0)
            break;
        if (first && off > 0)
            u->resumed_from = off;
        first = 0;
        if ((rc = send_from(c, u, fd, &off, pg)) != -1)
            break;
    }
    close(fd);
    if (rc == -1) {
        fprintf(stderr, "sotto: the upload broke off; run the same command again to resume\n");
        rc = EXIT_NET;
    }
    if (rc == 0)
        progress_end(pg);
    return rc;
}

void upload_forget(client *c, file_upload *u)
{
    ls_kv_del(c->st, u->slot);
    unlink(u->spool);
}

void upload_clear(file_upload *u) { sodium_memzero(u, sizeof *u); }
