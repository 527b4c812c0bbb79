/* IP address and CIDR helpers for TRUSTED_PROXIES, the loopback test of /metrics, and
 * X-Forwarded-For handling. */
#include "base/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int netaddr_parse_ip(const char *s, struct netaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->addr) == 1) {
        out->family = 4;
        out->prefix = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->addr) != 1)
        return -1;
    if (!memcmp(out->addr, v4mapped_prefix, 12)) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = 4;
        out->prefix = 32;
        return 0;
    }
    out->family = 6;
    out->prefix = 128;
    return 0;
}

int netaddr_parse(const char *s, struct netaddr *out)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    char *end;
    long prefix;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (netaddr_parse_ip(buf, out))
        return -1;
    if (!slash)
        return 0;
    prefix = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || prefix < 0 || prefix > out->prefix)
        return -1;
    out->prefix = (int)prefix;
    return 0;
}

int netaddr_list_parse(const char *csv, struct netaddr_list *out, char *why, size_t whylen)
{
    const char *p = csv;

    out->n = 0;
    while (p && *p) {
        char item[64];
        size_t n;

        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ", ");
        if (!n)
            break;
        if (n >= sizeof(item) || out->n == NETADDR_LIST_MAX) {
            snprintf(why, whylen, "too long an entry or more than %d entries", NETADDR_LIST_MAX);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = 0;
        if (netaddr_parse(item, &out->items[out->n])) {
            snprintf(why, whylen, "not an IP address or CIDR: '%.48s'", item);
            return -1;
        }
        out->n++;
        p += n;
    }
    return 0;
}

static bool netaddr_match(const struct netaddr *net, const struct netaddr *a)
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (net->family != a->family)
        return false;
    if (memcmp(net->addr, a->addr, (size_t)full))
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));

    return (net->addr[full] & mask) == (a->addr[full] & mask);
}

bool netaddr_list_contains(const struct netaddr_list *l, const char *ip)
{
    struct netaddr a;

    if (!l || netaddr_parse_ip(ip, &a))
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (netaddr_match(&l->items[i], &a))
            return true;
    return false;
}

bool netaddr_is_loopback(const char *ip)
{
    struct netaddr a;
    static const uint8_t v6lo[16] = {[15] = 1};

    if (netaddr_parse_ip(ip, &a))
        return false;
    if (a.family == 4)
        return a.addr[0] == 127;
    return !memcmp(a.addr, v6lo, 16);
}

static void netaddr_format(const struct netaddr *a, char *out, size_t outlen)
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, out, (socklen_t)outlen))
        snprintf(out, outlen, "unknown");
}

/* Copies the last comma-separated XFF entry before *end into item; moves *end left. */
static bool xff_pop(const char *xff, size_t *end, char *item, size_t itemlen)
{
    size_t e = *end, b;

    while (e > 0 && (xff[e - 1] == ' ' || xff[e - 1] == ','))
        e--;
    if (!e)
        return false;
    b = e;
    while (b > 0 && xff[b - 1] != ',' && xff[b - 1] != ' ')
        b--;
    if (e - b >= itemlen)
        return false;
    memcpy(item, xff + b, e - b);
    item[e - b] = 0;
    *end = b;
    return true;
}

bool netaddr_client_ip(const struct netaddr_list *trusted, const char *peer, const char *xff,
                       char *out, size_t outlen)
{
    struct netaddr a;
    char item[64];
    size_t end;
    bool used = false;

    if (netaddr_parse_ip(peer, &a)) {
        snprintf(out, outlen, "unknown");
        return false;
    }
    netaddr_format(&a, out, outlen);
    if (!xff || !trusted || !netaddr_list_contains(trusted, out))
        return false;
    end = strlen(xff);
    while (xff_pop(xff, &end, item, sizeof(item))) {
        struct netaddr hop;

        if (netaddr_parse_ip(item, &hop))
            break; /* garbage: keep the last address we could believe */
        netaddr_format(&hop, out, outlen);
        used = true;
        if (!netaddr_list_contains(trusted, out))
            break;
    }
    return used;
}
