/* conncap.c: per-address connection counts, the cap, and the hash table's deletions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "net/conncap.h"

static struct sockaddr_storage v4(uint32_t host)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;

    memset(&ss, 0, sizeof(ss));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(host);
    return ss;
}

static void test_cap_per_address(void **state)
{
    struct conncap *cc = conncap_create(64, 3, 64);
    struct sockaddr_storage a = v4(0x7f000001), b = v4(0x7f000002);

    (void)state;
    assert_true(conncap_admit(cc, 10, (struct sockaddr *)&a, false));
    assert_true(conncap_admit(cc, 11, (struct sockaddr *)&a, false));
    assert_true(conncap_admit(cc, 12, (struct sockaddr *)&a, false));
    assert_false(conncap_admit(cc, 13, (struct sockaddr *)&a, false)); /* the fourth from a */
    assert_true(conncap_admit(cc, 13, (struct sockaddr *)&b, false));  /* another address */
    assert_int_equal(conncap_count(cc, 10), 3);
    conncap_release(cc, 11);
    conncap_release(cc, 11); /* twice: no-op */
    assert_int_equal(conncap_count(cc, 10), 2);
    assert_true(conncap_admit(cc, 14, (struct sockaddr *)&a, false));
    assert_false(conncap_admit(cc, 70, (struct sockaddr *)&b, false)); /* fd out of range */
    conncap_destroy(cc);
}

static void test_v6_and_mapped(void **state)
{
    struct conncap *cc = conncap_create(16, 1, 16);
    struct sockaddr_storage s6, m6, a = v4(0x0a000001);
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s6;

    (void)state;
    memset(&s6, 0, sizeof(s6));
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &in6->sin6_addr);
    m6 = s6;
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &((struct sockaddr_in6 *)&m6)->sin6_addr);
    assert_true(conncap_admit(cc, 1, (struct sockaddr *)&s6, false));
    assert_false(conncap_admit(cc, 2, (struct sockaddr *)&s6, false));
    assert_true(conncap_admit(cc, 3, (struct sockaddr *)&a, false));
    /* The same IPv4 client arriving as IPv4-mapped IPv6 is the same address. */
    assert_false(conncap_admit(cc, 4, (struct sockaddr *)&m6, false));
    conncap_destroy(cc);
}

static void test_total_and_exempt(void **state)
{
    struct conncap *cc = conncap_create(64, 1, 4);
    struct sockaddr_storage a = v4(1), b = v4(2), c = v4(3), d = v4(4), e = v4(5);

    (void)state;
    assert_true(conncap_admit(cc, 1, (struct sockaddr *)&a, false));
    assert_true(conncap_admit(cc, 2, (struct sockaddr *)&a, true)); /* a trusted proxy */
    assert_true(conncap_admit(cc, 3, (struct sockaddr *)&b, false));
    assert_true(conncap_admit(cc, 4, (struct sockaddr *)&c, false));
    assert_false(conncap_admit(cc, 5, (struct sockaddr *)&d, false)); /* four in all */
    assert_int_equal(conncap_total(cc), 4);
    conncap_release(cc, 2);
    assert_true(conncap_admit(cc, 5, (struct sockaddr *)&d, false));
    assert_false(conncap_admit(cc, 6, (struct sockaddr *)&e, true));
    conncap_destroy(cc);
}

static void test_no_cap(void **state)
{
    struct conncap *cc = conncap_create(100, 0, 1000);
    struct sockaddr_storage a = v4(1);

    (void)state;
    for (int i = 0; i < 100; i++)
        assert_true(conncap_admit(cc, i, (struct sockaddr *)&a, false));
    conncap_destroy(cc);
}

/* Many addresses in a small table, admitted and released in a shuffled order: every count
 * stays exact, which fails if a deletion breaks a probe run. */
static void test_churn(void **state)
{
    enum { FDS = 512, ADDRS = 300 };
    struct conncap *cc = conncap_create(FDS, 2, FDS);
    unsigned owner[FDS], held[ADDRS] = {0};

    (void)state;
    for (int round = 0; round < 20000; round++) {
        int fd = (int)randombytes_uniform(FDS);

        if (conncap_count(cc, fd)) {
            conncap_release(cc, fd);
            held[owner[fd]]--;
        } else {
            unsigned a = randombytes_uniform(ADDRS);
            struct sockaddr_storage ss = v4(0x0a000000u + a);
            bool ok = conncap_admit(cc, fd, (struct sockaddr *)&ss, false);

            assert_int_equal(ok, held[a] < 2);
            if (ok) {
                owner[fd] = a;
                held[a]++;
            }
        }
        if (conncap_count(cc, fd))
            assert_int_equal(conncap_count(cc, fd), held[owner[fd]]);
    }
    conncap_destroy(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_per_address), cmocka_unit_test(test_v6_and_mapped),
        cmocka_unit_test(test_no_cap),          cmocka_unit_test(test_total_and_exempt),
        cmocka_unit_test(test_churn),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
