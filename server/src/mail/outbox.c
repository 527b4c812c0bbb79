/* The outbox mail implementation: each mail becomes DATA_DIR/outbox/<ms>-<seq>-<random>.eml
 * (names sort in sending order within a process), mode 0600, written under a temporary name,
 * fsynced and renamed into place, so a reader never sees half a file. The default when no SMTP_URL
 * is set; tests read the links from here. */
#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct mail_outbox {
    mail base; /* first member */
    int dir_fd;
    atomic_ulong seq; /* orders names sent within the same millisecond */
    char from[MAIL_ADDR_MAX + 1];
} mail_outbox;

static int outbox_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes data to tmp_name, then renames it to name, both in the outbox directory. */
static int outbox_store(mail_outbox *o, const char *tmp_name, const char *name, const char *data,
                        size_t len)
{
    int fd =
        openat(o->dir_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd < 0)
        return -1;
    if (outbox_write_all(fd, data, len) == 0 && fsync(fd) == 0)
        rc = 0;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && renameat(o->dir_fd, tmp_name, o->dir_fd, name) == 0) {
        fsync(o->dir_fd); /* make the rename durable; a failure here loses nothing yet */
        return 0;
    }
    unlinkat(o->dir_fd, tmp_name, 0);
    return -1;
}

static int outbox_send(mail *m, const char *to, const char *subject, const char *text,
                       const char *html)
{
    mail_outbox *o = (mail_outbox *)m;
    struct timespec ts;
    uint8_t rnd[8];
    char hex[17], name[64], tmp_name[72];
    char *msg = NULL;
    size_t len = 0;
    int rc = -1;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (mail_message_render(o->from, to, subject, text, html, (long long)ts.tv_sec, &msg, &len) !=
        0)
        return -1;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(name, sizeof name, "%lld%03ld-%08lu-%s.eml", (long long)ts.tv_sec,
             ts.tv_nsec / 1000000, atomic_fetch_add(&o->seq, 1) % 100000000UL, hex);
    snprintf(tmp_name, sizeof tmp_name, ".tmp-%s", name);
    rc = outbox_store(o, tmp_name, name, msg, len);
    sodium_memzero(msg, len);
    free(msg);
    return rc;
}

static void outbox_destroy(mail *m)
{
    mail_outbox *o = (mail_outbox *)m;

    close(o->dir_fd);
    free(o);
}

static const mail_iface outbox_iface = {"outbox", outbox_send, outbox_destroy};

mail *mail_outbox_create(const char *dir, const char *from)
{
    mail_outbox *o;

    if (dir == NULL || *dir == '\0' || mail_addr_check(from) != 0)
        return NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return NULL;
    if ((o = calloc(1, sizeof *o)) == NULL)
        return NULL;
    o->base.iface = &outbox_iface;
    memcpy(o->from, from, strlen(from) + 1);
    o->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->dir_fd < 0) {
        free(o);
        return NULL;
    }
    return &o->base;
}
