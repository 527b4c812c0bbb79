/* netaddr.c: CIDR matching and the client address behind trusted proxies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/netaddr.h"

static void test_cidr(void **state)
{
    struct netaddr_list l;
    char why[128];

    (void)state;
    assert_int_equal(netaddr_list_parse("10.0.0.0/8, 192.168.1.7 fd00::/8", &l, why, sizeof(why)),
                     0);
    assert_int_equal(l.n, 3);
    assert_true(netaddr_list_contains(&l, "10.200.3.4"));
    assert_false(netaddr_list_contains(&l, "11.0.0.1"));
    assert_true(netaddr_list_contains(&l, "192.168.1.7"));
    assert_false(netaddr_list_contains(&l, "192.168.1.8"));
    assert_true(netaddr_list_contains(&l, "fd12::1"));
    assert_true(netaddr_list_contains(&l, "::ffff:10.1.1.1")); /* mapped IPv4 */
    assert_false(netaddr_list_contains(&l, "garbage"));
    assert_int_equal(netaddr_list_parse("10.0.0.0/33", &l, why, sizeof(why)), -1);
    assert_int_equal(netaddr_list_parse("1.2.3", &l, why, sizeof(why)), -1);
    assert_int_equal(netaddr_list_parse("", &l, why, sizeof(why)), 0);
    assert_int_equal(l.n, 0);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(netaddr_is_loopback("127.0.0.1"));
    assert_true(netaddr_is_loopback("127.9.9.9"));
    assert_true(netaddr_is_loopback("::1"));
    assert_true(netaddr_is_loopback("::ffff:127.0.0.1"));
    assert_false(netaddr_is_loopback("10.0.0.1"));
    assert_false(netaddr_is_loopback("::2"));
}

static void test_client_ip(void **state)
{
    struct netaddr_list l;
    char why[128], ip[NETADDR_STRLEN];

    (void)state;
    netaddr_list_parse("10.0.0.0/8", &l, why, sizeof(why));
    /* Untrusted peer: XFF ignored. */
    assert_false(netaddr_client_ip(&l, "203.0.113.9", "1.1.1.1", ip, sizeof(ip)));
    assert_string_equal(ip, "203.0.113.9");
    /* Trusted proxy: the rightmost untrusted hop is the client. */
    assert_true(
        netaddr_client_ip(&l, "10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.9", ip, sizeof(ip)));
    assert_string_equal(ip, "198.51.100.4");
    /* All hops trusted: the leftmost. */
    assert_true(netaddr_client_ip(&l, "10.0.0.2", "10.1.1.1,10.2.2.2", ip, sizeof(ip)));
    assert_string_equal(ip, "10.1.1.1");
    /* Garbage stops the walk at the last address we believed. */
    assert_true(netaddr_client_ip(&l, "10.0.0.2", "1.2.3.4, junk, 10.0.0.5", ip, sizeof(ip)));
    assert_string_equal(ip, "10.0.0.5");
    assert_false(netaddr_client_ip(&l, "10.0.0.2", "junk", ip, sizeof(ip)));
    assert_string_equal(ip, "10.0.0.2");
    /* Mapped peer address is normalised. */
    assert_false(netaddr_client_ip(&l, "::ffff:192.0.2.1", NULL, ip, sizeof(ip)));
    assert_string_equal(ip, "192.0.2.1");
    /* No trusted list at all. */
    netaddr_list_parse(NULL, &l, why, sizeof(why));
    assert_false(netaddr_client_ip(&l, "127.0.0.1", "8.8.8.8", ip, sizeof(ip)));
    assert_string_equal(ip, "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_client_ip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
