/* cmd_profile.c: `profile avatar PATH` and `profile avatar --remove`: the account's public
 * profile picture. The server decides by the bytes whether it is a picture and re-encodes it;
 * the client only names a type the server takes and keeps to its size bound. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SOTTO_HAVE_MAGIC
#include <magic.h>
#endif

#include "client.h"
#include "commands.h"
#include "term.h"
#include "util.h"

#define AVATAR_FILE_MAX (2u * 1024 * 1024) /* the server's bound on an upload */

/* A type the server takes, by the bytes (libmagic) or else by the name; the server checks the
 * content either way, so a wrong guess is only its 415. */
static const char *picture_type(const unsigned char *data, size_t len, const char *path)
{
    static const char *const types[] = {"image/png", "image/jpeg", "image/webp"};
    const char *dot = strrchr(path, '.');
    const char *t = NULL;

#ifdef SOTTO_HAVE_MAGIC
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    if (m != NULL && magic_load(m, NULL) == 0)
        t = magic_buffer(m, data, len);
    for (size_t i = 0; t != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(t, types[i]) == 0) {
            magic_close(m);
            return types[i];
        }
    if (m != NULL)
        magic_close(m);
#else
    (void)data;
    (void)len;
#endif
    (void)t;
    if (dot != NULL && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
        return types[1];
    if (dot != NULL && strcasecmp(dot, ".webp") == 0)
        return types[2];
    return types[0];
}

/* The whole file, if it is a regular one of at most AVATAR_FILE_MAX bytes: EXIT_USAGE
 * otherwise, after saying why. */
static int read_picture(const char *path, unsigned char **out, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = -1;

    *out = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        fprintf(stderr, "sotto: %s is not a readable picture file\n", path);
        if (fd >= 0)
            close(fd);
        return EXIT_USAGE;
    }
    if ((size_t)st.st_size > AVATAR_FILE_MAX) {
        fprintf(stderr, "sotto: %s is larger than 2 MiB; make it smaller first\n", path);
        close(fd);
        return EXIT_USAGE;
    }
    *len = (size_t)st.st_size;
    if ((*out = malloc(*len)) != NULL) {
        do
            n = read(fd, *out, *len);
        while (n < 0 && errno == EINTR);
    }
    close(fd);
    if (n < 0 || (size_t)n != *len) {
        fprintf(stderr, "sotto: cannot read %s\n", path);
        free(*out);
        *out = NULL;
        return EXIT_USAGE;
    }
    return 0;
}

static int avatar_answer(const cli_opts *o, client *c, http_resp *r, const char *what)
{
    const char *url = json_string_value(json_object_get(r->body, "avatarUrl"));
    char s[300];

    if (r->status != 200)
        return client_fail(r, what);
    if (o->json)
        return print_json(json_incref(r->body));
    if (url != NULL)
        printf("profile picture set: %s%s\n", c->server, term_safe(s, sizeof s, url));
    else
        printf("profile picture removed\n");
    return 0;
}

int cmd_profile(const cli_opts *o)
{
    http_resp r = {0};
    unsigned char *data = NULL;
    size_t len = 0;
    client c;
    int rc;

    if ((o->remove && o->npos != 1) || (!o->remove && o->npos != 2)) {
        fprintf(stderr, "sotto: profile avatar PATH, or profile avatar --remove\n");
        return EXIT_USAGE;
    }
    if (!o->remove && (rc = read_picture(o->pos[1], &data, &len)) != 0)
        return rc;
    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0)
        goto done;
    if (o->remove)
        rc = client_api(&c, "DELETE", "/api/users/me/avatar", NULL, &r);
    else
        rc = client_api_body(&c, "PUT", "/api/users/me/avatar", NULL,
                             picture_type(data, len, o->pos[1]), data, len, &r);
    if (rc == 0)
        rc = avatar_answer(
            o, &c, &r, o->remove ? "removing the profile picture" : "setting the profile picture");
    client_close(&c);
done:
    free(data);
    http_resp_clear(&r);
    return rc;
}
