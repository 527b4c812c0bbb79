/* cmd_files.c: `send-file USER PATH [--caption T]` and `get-file USER ID [INDEX] [-o PATH]`. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SOTTO_HAVE_MAGIC
#include <magic.h>
#endif
#include <sodium.h>

#include "attlist.h"
#include "client.h"
#include "commands.h"
#include "files.h"
#include "outbox.h"
#include "term.h"
#include "util.h"

#define OCTET "application/octet-stream"

/* The file's MIME type by its content (libmagic), else application/octet-stream; a type the
 * pointer format would refuse is octet-stream too. */
static void mime_type(int fd, char *out, size_t cap)
{
    str_copy(out, cap, OCTET);
#ifdef SOTTO_HAVE_MAGIC
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    const char *t;
    int dup_fd = dup(fd); /* libmagic closes what it is given */
    if (m != NULL && dup_fd >= 0 && magic_load(m, NULL) == 0 &&
        (t = magic_descriptor(m, dup_fd)) != NULL && strlen(t) < cap &&
        strncmp(t, "inode/", 6) != 0)
        str_copy(out, cap, t);
    if (dup_fd >= 0)
        close(dup_fd);
    if (m != NULL)
        magic_close(m);
    lseek(fd, 0, SEEK_SET);
#else
    (void)fd;
#endif
}

/* Fills the pointer's description and checks it with the core's own rules (name, type, size),
 * before anything is encrypted or uploaded. */
static int describe(sotto_attachment_pointer *a, const char *path, int fd, uint64_t size,
                    char *type, size_t type_cap)
{
    const char *slash = strrchr(path, '/');
    sotto_payload p;

    memset(a, 0, sizeof *a);
    mime_type(fd, type, type_cap);
    a->name = slash ? slash + 1 : path;
    a->name_len = strlen(a->name);
    a->type = type;
    a->type_len = strlen(type);
    a->size = size;
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_TEXT;
    p.n_attachments = 1;
    p.attachments[0] = *a;
    if (sotto_payload_encoded_size(&p) == 0 && strcmp(type, OCTET) != 0) {
        a->type = OCTET; /* perhaps only the type was refused */
        a->type_len = strlen(OCTET);
        p.attachments[0] = *a;
    }
    if (sotto_payload_encoded_size(&p) != 0)
        return 0;
    fprintf(stderr, "sotto: the file's name cannot be sent (at most 255 bytes of UTF-8, no"
                    " control characters, no / or \\)\n");
    return EXIT_USAGE;
}

/* Opens PATH and checks it: a regular file of at most 100 MiB. */
static int open_checked(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        fprintf(stderr, "sotto: %s is not a readable file\n", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((uint64_t)st->st_size > SOTTO_ATTACHMENT_FILE_MAX) {
        fprintf(stderr,
                "sotto: the file has %lld bytes; a file may have at most 100 MiB"
                " (104,857,600 bytes)\n",
                (long long)st->st_size);
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct queued {
    client *c;
    const uint8_t *id;
    int found;
} queued;

static int names_upload(void *ctx, const char *kv_name)
{
    queued *q = ctx;
    att_list files;

    if (att_load(q->c->st, kv_name + strlen("att:"), &files) != 0)
        return 0;
    for (size_t i = 0; i < files.p.n_attachments; i++)
        q->found |= sodium_memcmp(files.p.attachments[i].id, q->id, 16) == 0;
    att_list_clear(&files);
    return q->found;
}

/* Whether a stored message carries this upload already: the command stopped (a crash, a
 * network failure) after the message was committed, so it is sent or in the outbox, and
 * running send-file again must not send the file a second time. */
static int in_a_message(client *c, const uint8_t id[16])
{
    queued q = {c, id, 0};

    return ls_kv_each_prefix(c->st, "att:", names_upload, &q) == 0 && q.found;
}

static int send_uploaded(client *c, const cli_opts *o, sotto_attachment_pointer *a, file_upload *u)
{
    char sid[40], safe[64];
    int rc;

    uuid_parse(u->id, a->id);
    memcpy(a->key, u->key, sizeof a->key);
    memcpy(a->digest, u->digest, sizeof a->digest);
    if (in_a_message(c, a->id)) {
        upload_forget(c, u);
        fprintf(stderr, "sotto: this file was sent in a message already (an earlier run)\n");
        if ((rc = outbox_flush(c)) == 0 && o->json)
            rc = print_json(json_pack("{s:s,s:b}", "attachmentId", u->id, "alreadySent", 1));
        return rc;
    }
    if ((rc = send_files(c, o->pos[0], o->caption ? o->caption : "", a, 1, sid)) != 0) {
        if (in_a_message(c, a->id)) {
            upload_forget(c, u);
            fprintf(stderr, "sotto: the file is uploaded and its message queued; it is sent"
                            " with the next sync\n");
        }
        return rc;
    }
    upload_forget(c, u);
    if (o->json)
        return print_json(json_pack("{s:s,s:s,s:I,s:I}", "id", sid, "attachmentId", u->id, "size",
                                    (json_int_t)u->size, "resumedFrom",
                                    (json_int_t)u->resumed_from));
    printf("sent %s\n", term_safe(safe, sizeof safe, sid));
    return 0;
}

int cmd_send_file(const cli_opts *o)
{
    sotto_attachment_pointer a;
    file_upload u;
    progress pg;
    struct stat st;
    char type[SOTTO_ATTACHMENT_TYPE_MAX + 1];
    client c;
    int fd, rc;

    if ((fd = open_checked(o->pos[1], &st)) < 0)
        return EXIT_USAGE;
    memset(&u, 0, sizeof u);
    if ((rc = describe(&a, o->pos[1], fd, (uint64_t)st.st_size, type, sizeof type)) != 0) {
        close(fd);
        return rc;
    }
    progress_begin(&pg, !o->json && isatty(STDERR_FILENO), "", 0);
    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0 &&
        (rc = upload_prepare(&c, o->pos[1], fd, &st, &u, &pg)) == 0 &&
        (rc = upload_run(&c, &u, &pg)) == 0) {
        if (u.resumed_from > 0 && !o->json)
            fprintf(stderr, "sotto: resumed the upload at byte %llu\n",
                    (unsigned long long)u.resumed_from);
        rc = send_uploaded(&c, o, &a, &u);
    }
    close(fd);
    upload_clear(&u);
    sodium_memzero(&a, sizeof a);
    client_close(&c);
    return rc;
}

/* ------------------------------------------------------------------ get-file */

/* The pointer's name as a file name here: it has no '/' or control character (the core
 * refused those); a leading '.' or '-' becomes '_' so it is neither hidden nor an option. */
static void safe_name(const sotto_attachment_pointer *a, char *out, size_t cap)
{
    size_t n = a->name_len < cap - 1 ? a->name_len : cap - 1;

    memcpy(out, a->name, n);
    out[n] = '\0';
    if (out[0] == '.' || out[0] == '-')
        out[0] = '_';
}

static int destination(const cli_opts *o, const sotto_attachment_pointer *a, char *out, size_t cap)
{
    char name[SOTTO_ATTACHMENT_NAME_MAX + 1];
    struct stat st;

    safe_name(a, name, sizeof name);
    if (o->output == NULL)
        return str_copy(out, cap, name);
    if (stat(o->output, &st) == 0 && S_ISDIR(st.st_mode))
        return snprintf(out, cap, "%s/%s", o->output, name) < (int)cap ? 0 : -1;
    return str_copy(out, cap, o->output);
}

/* The message `id` with the user named, and its files; msg_id gets its stored id. */
static int find_files(client *c, const char *username, const char *id, att_list *files,
                      char msg_id[40])
{
    ls_contact ct;
    ls_message m;
    int rc = EXIT_USAGE, found;

    memset(&m, 0, sizeof m);
    if (ls_contact_find(c->st, username, &ct) != 0) {
        fprintf(stderr, "sotto: no conversation with %s here\n", username);
        return EXIT_NOTFOUND;
    }
    if ((found = ls_message_get(c->st, id, &m)) == 0 && strcmp(m.peer_id, ct.user_id) == 0 &&
        m.deleted_at_ms == 0 && (found = att_load(c->st, m.id, files)) == 0)
        rc = str_copy(msg_id, 40, m.id) == 0 ? 0 : EXIT_LOCAL;
    else if (found < 0)
        rc = EXIT_LOCAL;
    else
        fprintf(stderr, "sotto: %s is not a message with files from the conversation with %s\n", id,
                username);
    ls_message_clear(&m);
    ls_contact_clear(&ct);
    return rc;
}

int cmd_get_file(const cli_opts *o)
{
    att_list files;
    progress pg;
    char dest[4096], safe[4200], msg_id[40];
    long index = 1;
    client c;
    int rc;

    if (o->npos == 3 && ((index = strtol(o->pos[2], NULL, 10)) < 1 || index > 10)) {
        fprintf(stderr, "sotto: INDEX is a file's number in its message (1 to 10)\n");
        return EXIT_USAGE;
    }
    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = find_files(&c, o->pos[0], o->pos[1], &files, msg_id)) != 0) {
        client_close(&c);
        return rc;
    }
    const sotto_attachment_pointer *a = &files.p.attachments[0];
    if ((size_t)index > files.p.n_attachments) {
        fprintf(stderr, "sotto: that message has %zu file(s)\n", files.p.n_attachments);
        rc = EXIT_USAGE;
    } else if ((a = &files.p.attachments[index - 1]) == NULL ||
               destination(o, a, dest, sizeof dest) != 0) {
        rc = EXIT_USAGE;
    } else if (!o->force && access(dest, F_OK) == 0) {
        fprintf(stderr, "sotto: %s exists; --force replaces it\n",
                term_safe(safe, sizeof safe, dest));
        rc = EXIT_USAGE;
    } else {
        progress_begin(&pg, !o->json && isatty(STDERR_FILENO), "downloading", 0);
        if ((rc = download_file(&c, msg_id, (size_t)index, a, dest, o->force, &pg)) == 0)
            rc = o->json
                     ? print_json(json_pack("{s:s,s:I}", "path", dest, "size", (json_int_t)a->size))
                     : (printf("saved %s\n", term_safe(safe, sizeof safe, dest)), 0);
    }
    att_list_clear(&files);
    client_close(&c);
    return rc;
}
