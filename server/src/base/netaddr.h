/* IP addresses and CIDR lists: parsing, matching, loopback tests, and the client address a
 * request came from when some of its hops are trusted reverse proxies. Pure functions, no I/O. */
#ifndef SOTTO_NETADDR_H
#define SOTTO_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETADDR_LIST_MAX 32
#define NETADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

struct netaddr {
    int family;       /* 4 or 6 */
    uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
    int prefix;       /* 0..32 or 0..128 */
};

struct netaddr_list {
    size_t n;
    struct netaddr items[NETADDR_LIST_MAX];
};

/* "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8". IPv4-mapped IPv6 becomes IPv4. 0 or -1. */
int netaddr_parse(const char *s, struct netaddr *out);

/* Comma-separated list, spaces allowed; NULL or "" gives an empty list. 0, or -1 with why. */
int netaddr_list_parse(const char *csv, struct netaddr_list *out, char *why, size_t whylen);

/* Whether ip (text) falls in any entry. False for unparsable text. */
bool netaddr_list_contains(const struct netaddr_list *l, const char *ip);

/* 127.0.0.0/8 or ::1 (also as IPv4-mapped). */
bool netaddr_is_loopback(const char *ip);

/* The client's address: the peer itself unless the peer is a trusted proxy; then the
 * X-Forwarded-For entries are walked from the right (the hop nearest us) and the first one
 * that is not a trusted proxy is the client. Garbage in XFF stops the walk at the last good
 * address, so a client can never choose its own address by prepending entries. Writes a
 * normalised text address to out (NETADDR_STRLEN bytes). Returns true when XFF was used. */
bool netaddr_client_ip(const struct netaddr_list *trusted, const char *peer, const char *xff,
                       char *out, size_t outlen);

#endif
