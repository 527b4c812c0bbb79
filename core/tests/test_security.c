/*
 * test_security.c: forward secrecy (through the test-only key observer: no retired root
 * or chain key and no used message key appears in saved state), post-compromise security
 * (a stolen state reads the next message of its chain but nothing after one DH round
 * trip), and 10,000 random interleavings with drops, reorders, duplicates and restarts.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#ifdef SOTTO_TEST_RNG
#define MAX_KEYS 4096
/* Keys retired by each party: a root key one side has retired can be the other side's
 * live root key, so each log is checked against its own party's state. */
typedef struct key_log {
    int who;
    size_t n;
    int owner[MAX_KEYS], kind[MAX_KEYS];
    uint8_t k[MAX_KEYS][32];
} key_log;

static void observe(void *ctx, int kind, const uint8_t key[32])
{
    key_log *l = ctx;
    if (l->n < MAX_KEYS) {
        l->kind[l->n] = kind;
        l->owner[l->n] = l->who;
        memcpy(l->k[l->n++], key, 32);
    }
}

static int contains(const uint8_t *hay, size_t n, const uint8_t key[32])
{
    for (size_t i = 0; i + 32 <= n; i++)
        if (memcmp(hay + i, key, 32) == 0)
            return 1;
    return 0;
}

static void forward_secrecy(void **state)
{
    party a, b;
    envl *m = test_calloc(6, sizeof *m);
    key_log *log = test_calloc(1, sizeof *log);
    uint8_t *sa, *sb;
    size_t la, lb, found = 0;
    (void)state;

    party_new(&a);
    party_new(&b);
    sotto_test_set_key_observer(observe, log);
#define AS(x) (log->who = 0, x)
#define BS(x) (log->who = 1, x)
    AS(connect_pair(&a, &b));
    /* Out of order within a chain and across ratchet steps, all delivered in the end. */
    AS(send_text(&a, "1", &m[0]));
    AS(send_text(&a, "2", &m[1]));
    BS(recv_text(&b, &m[1], "2"));
    BS(recv_text(&b, &m[0], "1"));
    BS(send_text(&b, "3", &m[2]));
    BS(send_text(&b, "4", &m[3]));
    AS(recv_text(&a, &m[3], "4"));
    AS(recv_text(&a, &m[2], "3"));
    AS(send_text(&a, "5", &m[4]));
    BS(recv_text(&b, &m[4], "5"));
    BS(send_text(&b, "6", &m[5]));
    AS(recv_text(&a, &m[5], "6"));
    sotto_test_set_key_observer(NULL, NULL);
    assert_true(log->n > 10); /* the hook saw the keys: the check below is not vacuous */
    sa = record_bytes(a.peer, &la);
    sb = record_bytes(b.peer, &lb);
    for (size_t i = 0; i < log->n; i++) {
        /* a message key is dead for both sides once its message is read */
        int hit = (log->owner[i] == 0 || log->kind[i] == SOTTO_TEST_KEY_MESSAGE
                       ? contains(sa, la, log->k[i])
                       : 0) +
                  (log->owner[i] == 1 || log->kind[i] == SOTTO_TEST_KEY_MESSAGE
                       ? contains(sb, lb, log->k[i])
                       : 0);
        if (hit)
            fprintf(stderr, "retired key %zu of %zu (kind %d) still in saved state\n", i, log->n,
                    log->kind[i]);
        found += (size_t)hit;
    }
    assert_int_equal(found, 0);
    /* sanity: the search does find a key that is still live (a's current root key) */
    assert_true(contains(sa, la, sa + 4 + 1 + 1 + 64 + 1 + 129));
    test_free(sa);
    test_free(sb);
    test_free(log);
    test_free(m);
    party_free(&a);
    party_free(&b);
}
#else
static void forward_secrecy(void **state)
{
    (void)state;
    skip(); /* needs the test-only key observer (-DSOTTO_TEST_RNG=ON) */
}
#endif

static void post_compromise_security(void **state)
{
    party a, b, stolen;
    envl *m = test_calloc(4, sizeof *m);
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n;
    (void)state;
    party_new(&a);
    party_new(&b);
    connect_pair(&a, &b);
    send_text(&a, "hello", &m[0]);
    recv_text(&b, &m[0], "hello");
    send_text(&b, "hi", &m[0]);
    recv_text(&a, &m[0], "hi");
    /* Mallory copies b's state at time t. */
    {
        size_t la, lr;
        uint8_t *ab = account_bytes(b.acct, &la), *rb = record_bytes(b.peer, &lr);
        assert_int_equal(sotto_account_deserialize(&stolen.acct, ab, la), 0);
        assert_int_equal(sotto_record_deserialize(&stolen.peer, rb, lr), 0);
        test_free(ab);
        test_free(rb);
    }
    send_text(&a, "next in chain", &m[1]);
    recv_text(&stolen, &m[1], "next in chain"); /* the copy works: the test is not vacuous */
    recv_text(&b, &m[1], "next in chain");
    /* one DH round trip: b replies (new ratchet key), a answers on a new chain */
    send_text(&b, "round", &m[2]);
    recv_text(&a, &m[2], "round");
    send_text(&a, "healed", &m[3]);
    assert_int_not_equal(try_recv(&stolen, &m[3], out, &n), 0);
    recv_text(&b, &m[3], "healed");
    party_free(&stolen);
    party_free(&a);
    party_free(&b);
    test_free(m);
}

/* ---------------------------------------------------------------- interleavings */

#define QUEUE 64
typedef struct wire {
    envl m[QUEUE];
    char text[QUEUE][24];
    size_t n;
} wire;

static uint32_t rnd(uint64_t *s) /* xorshift: the schedule is reproducible from the seed */
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)*s;
}

static void deliver(party *to, wire *w, size_t i, int keep)
{
    recv_text(to, &w->m[i], w->text[i]);
    if (keep) /* a duplicate: the second copy must be refused */
        return;
    w->m[i] = w->m[w->n - 1];
    memcpy(w->text[i], w->text[w->n - 1], sizeof w->text[i]);
    w->n--;
}

static void interleavings(void **state)
{
    party p[2];
    wire *w = test_calloc(2, sizeof *w);
    uint64_t seed = 0x5eed5eed12345678ull;
    uint8_t out[SOTTO_ENVELOPE_MAX];
    size_t n, sent = 0, got = 0;
    int steps = 10000;
    (void)state;

    party_new(&p[0]);
    party_new(&p[1]);
    connect_pair(&p[0], &p[1]);
    /* a starts; b may only send after it has a session */
    for (int i = 0; i < steps; i++) {
        uint32_t r = rnd(&seed) % 100;
        int who = (int)(rnd(&seed) & 1);
        party *me = &p[who], *peer = &p[!who];
        wire *out_w = &w[who], *in_w = &w[!who];
        if (r < 40 && sotto_record_has_session(me->peer) && out_w->n < QUEUE) {
            snprintf(out_w->text[out_w->n], sizeof out_w->text[0], "%d:%zu", who, sent++);
            send_text(me, out_w->text[out_w->n], &out_w->m[out_w->n]);
            out_w->n++;
        } else if (r < 80 && in_w->n) { /* deliver a random queued message: reorders */
            size_t k = rnd(&seed) % in_w->n;
            deliver(me, in_w, k, 0);
            got++;
        } else if (r < 88 && in_w->n) { /* drop */
            size_t k = rnd(&seed) % in_w->n;
            in_w->m[k] = in_w->m[in_w->n - 1];
            memcpy(in_w->text[k], in_w->text[in_w->n - 1], sizeof in_w->text[k]);
            in_w->n--;
        } else if (r < 94 && in_w->n) { /* duplicate: deliver, then replay it */
            size_t k = rnd(&seed) % in_w->n;
            envl dup = in_w->m[k];
            deliver(me, in_w, k, 0);
            got++;
            assert_int_not_equal(
                sotto_record_decrypt(me->peer, me->acct, dup.b, dup.len, T0, out, sizeof out, &n),
                0);
        } else if (r < 97) {
            restart(me);
        } else {
            (void)peer;
        }
    }
    assert_true(got > 2000); /* the schedule exercised delivery, not just drops */
    party_free(&p[0]);
    party_free(&p[1]);
    test_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_secrecy),
        cmocka_unit_test(post_compromise_security),
        cmocka_unit_test(interleavings),
    };
    if (sotto_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
