/* Per-address connection counts (keycount.c) and a per-descriptor note of the address
 * counted, so a close needs no address. */
#include "net/conncap.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/keycount.h"

struct cc_fd {
    uint8_t addr[KEYCOUNT_KEY];
    bool counted; /* in total */
    bool per_ip;  /* and in its address's count */
};

struct conncap {
    unsigned max_per_ip;
    size_t fd_max, max_total, total;
    struct keycount *by_addr; /* NULL without a per-address cap */
    struct cc_fd *fds;
};

struct conncap *conncap_create(size_t fd_max, unsigned max_per_ip, size_t max_total)
{
    struct conncap *cc = calloc(1, sizeof(*cc));

    if (!cc)
        abort();
    cc->max_per_ip = max_per_ip;
    cc->fd_max = fd_max;
    cc->max_total = max_total;
    cc->fds = calloc(fd_max ? fd_max : 1, sizeof(*cc->fds));
    if (!cc->fds)
        abort();
    if (max_per_ip)
        cc->by_addr = keycount_create(fd_max);
    return cc;
}

void conncap_destroy(struct conncap *cc)
{
    if (!cc)
        return;
    keycount_destroy(cc->by_addr);
    free(cc->fds);
    free(cc);
}

/* IPv4 as IPv4-mapped IPv6, so both families share one key space. */
static bool cc_key(const struct sockaddr *sa, uint8_t out[KEYCOUNT_KEY])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

bool conncap_admit(struct conncap *cc, int fd, const struct sockaddr *sa, bool exempt)
{
    uint8_t addr[KEYCOUNT_KEY];
    bool per_ip = cc->by_addr && !exempt;

    if (fd < 0 || (size_t)fd >= cc->fd_max || !cc_key(sa, addr))
        return false;
    if (cc->fds[fd].counted) /* a descriptor reused before its close was seen */
        conncap_release(cc, fd);
    if (cc->total >= cc->max_total)
        return false;
    if (per_ip) {
        if (keycount_get(cc->by_addr, addr) >= cc->max_per_ip)
            return false;
        if (!keycount_add(cc->by_addr, addr))
            return false;
    }
    memcpy(cc->fds[fd].addr, addr, sizeof(addr));
    cc->fds[fd].counted = true;
    cc->fds[fd].per_ip = per_ip;
    cc->total++;
    return true;
}

void conncap_release(struct conncap *cc, int fd)
{
    if (fd < 0 || (size_t)fd >= cc->fd_max || !cc->fds[fd].counted)
        return;
    cc->fds[fd].counted = false;
    cc->total--;
    if (cc->fds[fd].per_ip)
        keycount_sub(cc->by_addr, cc->fds[fd].addr);
    cc->fds[fd].per_ip = false;
}

unsigned conncap_count(const struct conncap *cc, int fd)
{
    if (fd < 0 || (size_t)fd >= cc->fd_max || !cc->fds[fd].per_ip)
        return 0;
    return keycount_get(cc->by_addr, cc->fds[fd].addr);
}

size_t conncap_total(const struct conncap *cc) { return cc->total; }
