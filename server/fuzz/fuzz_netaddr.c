/*
 * fuzz_netaddr: the address helpers of server/src/netaddr.c, as TRUSTED_PROXIES, the peer
 * address and X-Forwarded-For reach them. Input: three NUL-separated strings: a CIDR list
 * (TRUSTED_PROXIES), a peer address, and an X-Forwarded-For value.
 *
 * Findings: a crash or overread; a parsed address or prefix out of range; a list entry that
 * does not contain its own address; a client address that is not a normalised address (or
 * "unknown"), that came from X-Forwarded-For although the peer is not trusted, or that is
 * not the peer when X-Forwarded-For was not used.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "base/netaddr.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const struct netaddr *a)
{
    FUZZ_CHECK(a->family == 4 || a->family == 6);
    FUZZ_CHECK(a->prefix >= 0 && a->prefix <= (a->family == 4 ? 32 : 128));
    if (a->family == 4)
        for (int i = 4; i < 16; i++)
            FUZZ_CHECK(a->addr[i] == 0);
}

/* What netaddr_client_ip writes: "unknown" or an address that reads back as itself. */
static void check_normal(const char *s)
{
    struct netaddr a;
    char again[NETADDR_STRLEN];

    if (!strcmp(s, "unknown"))
        return;
    FUZZ_CHECK(strlen(s) < NETADDR_STRLEN);
    FUZZ_CHECK(netaddr_parse(s, &a) == 0);
    check_addr(&a);
    FUZZ_CHECK(inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.addr, again, sizeof again));
    FUZZ_CHECK(!strcmp(again, s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    char *csv = fuzz_cstr(&in, 9000), *peer = fuzz_cstr(&in, 128), *xff = fuzz_cstr(&in, 9000);
    struct netaddr a;
    struct netaddr_list l;
    char why[128], out[NETADDR_STRLEN];

    if (netaddr_parse(csv, &a) == 0)
        check_addr(&a);
    if (netaddr_parse(peer, &a) == 0) {
        check_addr(&a);
        struct netaddr_list self = {.n = 1, .items = {a}};
        char txt[NETADDR_STRLEN];
        FUZZ_CHECK(inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.addr, txt, sizeof txt));
        FUZZ_CHECK(netaddr_list_contains(&self, txt)); /* a network contains its address */
    }
    (void)netaddr_is_loopback(peer);
    (void)netaddr_is_loopback(xff);

    memset(why, 0, sizeof why);
    if (netaddr_list_parse(csv, &l, why, sizeof why) == 0) {
        FUZZ_CHECK(l.n <= NETADDR_LIST_MAX);
        for (size_t i = 0; i < l.n; i++)
            check_addr(&l.items[i]);
    } else {
        FUZZ_CHECK(why[0] != 0 && memchr(why, 0, sizeof why));
        l.n = 0;
    }

    bool used = netaddr_client_ip(&l, peer, xff, out, sizeof out);
    FUZZ_CHECK(memchr(out, 0, sizeof out) != NULL);
    check_normal(out);
    struct netaddr p;
    if (netaddr_parse(peer, &p) != 0 || strchr(peer, '/')) {
        FUZZ_CHECK(!used);
    } else {
        char ptxt[NETADDR_STRLEN];
        bool trusted;
        FUZZ_CHECK(inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, ptxt, sizeof ptxt));
        trusted = netaddr_list_contains(&l, ptxt);
        if (!used)
            FUZZ_CHECK(!strcmp(out, ptxt));
        if (!trusted)
            FUZZ_CHECK(!used);
        if (used)
            FUZZ_CHECK(xff[0] != 0);
    }
    /* No list, no XFF: always the peer. */
    FUZZ_CHECK(!netaddr_client_ip(NULL, peer, xff, out, sizeof out));
    FUZZ_CHECK(!netaddr_client_ip(&l, peer, NULL, out, sizeof out));
    free(csv);
    free(peer);
    free(xff);
    return 0;
}
