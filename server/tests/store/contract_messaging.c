/* contract_messaging.c: the store's messaging contract (conversations, messages, device
 * queues, receipts), run unchanged against every backend.
 *
 *   store_messaging sqlite   a fresh SQLite file in a temp directory
 *   store_messaging pg       PostgreSQL at $SOTTO_TEST_PG_URL, in a fresh schema dropped at
 *                            the end; fails (never skips) when the variable is unset
 *
 * The fixture mirrors contract.c. Every test makes its own users, so tests are independent
 * of each other's rows and of their order.
 */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fixture.h"
#include "store/blocks.h"
#include "store/conversations.h"
#include "store/devices.h"
#include "store/messages.h"
#include "store/queue.h"
#include "store/queued_bytes.h"
#include "store/store.h"
#include "store/users.h"
#include "store_internal.h" /* raw SQL for checks the API does not expose */

#define NOW 1764000000000LL /* a fixed clock: 2025-11-24 */
#define DAY_MS (24LL * 3600 * 1000)
#define MAX_DEVICES 8

static struct store_fixture fx;
static int64_t clock_ms; /* tick(): strictly increasing ms, so UUIDv7 ids sort in send order */

/* ---------- helpers ---------- */

static int64_t tick(void) { return NOW + ++clock_ms; }

static void rand_bytes(void *buf, size_t n) { assert_int_equal(getrandom(buf, n, 0), (ssize_t)n); }

struct account {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
};

static void make_account(struct account *a)
{
    char name[32], email[64], id[STORE_ID_SIZE];
    struct store_bundle b;
    store_uuid_v4(id);
    snprintf(name, sizeof name, "m%.8s%.4s", id, id + 9);
    snprintf(email, sizeof email, "%s@example.com", name);
    rand_bytes(&b, sizeof b);
    struct store_new_user u = {email, name, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "web", NULL, NULL, &b};
    assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 200, NOW, a->user_id, a->device_id),
                     STORE_OK);
}

/* Another device of the user; without a bundle it is not active. */
static void add_device(const struct account *a, bool with_bundle, char id[STORE_ID_SIZE])
{
    struct store_bundle b;
    rand_bytes(&b, sizeof b);
    struct store_new_device d = {"phone", "android", NULL, NULL, with_bundle ? &b : NULL};
    assert_int_equal(store_device_create(fx.s, a->user_id, &d, NOW, id), STORE_OK);
}

static int64_t count2(const char *sql, const char *a, const char *b)
{
    struct db_param p[] = {db_text(a), db_text(b)};
    struct db_rows *r;
    int64_t n = -1;
    assert_int_equal(fx.s->drv->query(fx.s->db, sql, p, b ? 2 : a ? 1 : 0, &r), DB_OK);
    if (fx.s->drv->next(r) == 1)
        n = fx.s->drv->get_int(r, 0);
    fx.s->drv->done(r);
    return n;
}

static const char q_rows_of_device[] = "SELECT COUNT(*) FROM device_queue WHERE device_id = $1";
static const char q_rows_of_message[] = "SELECT COUNT(*) FROM device_queue WHERE message_id = $1";
static const char q_ct_of_message[] =
    "SELECT COUNT(*) FROM device_queue WHERE message_id = $1 AND ciphertext IS NOT NULL";
static const char q_msgs_of_conv[] = "SELECT COUNT(*) FROM messages WHERE conversation_id = $1";
static const char q_next_seq[] = "SELECT next_seq FROM devices WHERE id = $1";
static const char q_undelivered[] =
    "SELECT COUNT(*) FROM device_queue WHERE device_id = $1 AND delivered_at IS NULL "
    "AND ciphertext IS NOT NULL";

/* Envelopes for exactly the targets of (from, from_device) towards `to`: every active
 * device of `to` and of `from` except from_device. Ciphertext = "ct:<device id>", so a test
 * can see which envelope reached which device. */
struct envs {
    struct store_envelope e[2 * MAX_DEVICES];
    char ids[2 * MAX_DEVICES][STORE_ID_SIZE];
    char ct[2 * MAX_DEVICES][48];
    size_t n;
};

static void envs_add(struct envs *v, const char *device_id)
{
    assert_true(v->n < 2 * MAX_DEVICES);
    snprintf(v->ids[v->n], STORE_ID_SIZE, "%s", device_id);
    snprintf(v->ct[v->n], sizeof v->ct[v->n], "ct:%s", device_id);
    v->e[v->n] = (struct store_envelope){v->ids[v->n], STORE_ENVELOPE_MESSAGE,
                                         (const uint8_t *)v->ct[v->n], strlen(v->ct[v->n])};
    v->n++;
}

static void envs_for(struct envs *v, const char *from, const char *from_device, const char *to)
{
    struct store_device *d;
    size_t n;
    memset(v, 0, sizeof *v);
    const char *users[] = {to, from};
    for (int u = 0; u < 2; u++) {
        assert_int_equal(store_device_list(fx.s, users[u], STORE_DEVICES_ACTIVE, &d, &n), STORE_OK);
        for (size_t i = 0; i < n; i++)
            if (strcmp(d[i].id, from_device))
                envs_add(v, d[i].id);
        store_devices_free(d, n);
    }
}

static void open_conv(const struct account *a, const struct account *b, char id[STORE_ID_SIZE])
{
    struct store_conversation c;
    bool created;
    assert_int_equal(store_conversation_direct(fx.s, a->user_id, b->user_id, NOW, &c, &created),
                     STORE_OK);
    memcpy(id, c.id, STORE_ID_SIZE);
    store_conversation_free(&c);
}

/* Send from (from, device) to `to` with exact envelopes; the new message id goes to id. */
static void send_ok(const char *conv, const char *from, const char *device, const char *to,
                    char id[STORE_ID_SIZE], struct store_message_result *keep)
{
    struct envs v;
    struct store_message_result res;
    char cmid[STORE_ID_SIZE];
    store_uuid_v4(cmid);
    envs_for(&v, from, device, to);
    struct store_send req = {conv, from, device, cmid, v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_OK);
    assert_true(res.created);
    assert_int_equal(res.n_fanout, v.n);
    if (id)
        memcpy(id, res.message.id, STORE_ID_SIZE);
    if (keep)
        *keep = res;
    else
        store_message_result_free(&res);
}

static int64_t unread_of(const struct account *a, const char *conv)
{
    struct store_conversation c;
    assert_int_equal(store_conversation_get(fx.s, a->user_id, conv, &c), STORE_OK);
    int64_t n = c.unread_count;
    store_conversation_free(&c);
    return n;
}

static const struct store_participant *participant(const struct store_conversation *c,
                                                   const char *user_id)
{
    for (size_t i = 0; i < c->n_participants; i++)
        if (!strcmp(c->participants[i].user.id, user_id))
            return &c->participants[i];
    fail_msg("participant %s missing", user_id);
    abort(); /* not reached: fail_msg ends the test; says so to the compiler */
}

/* ---------- set-up ---------- */

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store messaging", "msg");
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_close(&fx);
    return 0;
}

/* ---------- conversations ---------- */

static void test_direct_create(void **state)
{
    struct account a, b, c;
    struct store_conversation conv, again;
    struct store_participant *parts;
    size_t n;
    bool created, yes;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    assert_int_equal(store_conversation_direct(fx.s, a.user_id, b.user_id, NOW, &conv, &created),
                     STORE_OK);
    assert_true(created);
    assert_int_equal(conv.n_participants, 2);
    assert_false(participant(&conv, a.user_id)->accepted);
    assert_non_null(participant(&conv, b.user_id)->user.username);
    assert_false(conv.has_last_message);
    assert_int_equal(conv.unread_count, 0);
    assert_int_equal(conv.created_at, NOW);
    /* Idempotent, in either order. */
    assert_int_equal(
        store_conversation_direct(fx.s, b.user_id, a.user_id, NOW + 5, &again, &created), STORE_OK);
    assert_false(created);
    assert_string_equal(again.id, conv.id);
    store_conversation_free(&again);
    /* Refusals. */
    assert_int_equal(store_conversation_direct(fx.s, a.user_id, a.user_id, NOW, &again, &created),
                     STORE_INVALID);
    assert_int_equal(store_conversation_direct(fx.s, a.user_id,
                                               "00000000-0000-4000-8000-000000000000", NOW, &again,
                                               &created),
                     STORE_NOT_FOUND);
    /* Participants, membership. */
    assert_int_equal(store_conversation_participants(fx.s, b.user_id, conv.id, &parts, &n),
                     STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(parts[0].joined_at, NOW);
    store_participants_free(parts, n);
    assert_int_equal(store_conversation_is_participant(fx.s, conv.id, a.user_id, &yes), STORE_OK);
    assert_true(yes);
    assert_int_equal(store_conversation_is_participant(fx.s, conv.id, c.user_id, &yes), STORE_OK);
    assert_false(yes);
    char other[STORE_ID_SIZE];
    assert_int_equal(store_conversation_other(fx.s, a.user_id, conv.id, other), STORE_OK);
    assert_string_equal(other, b.user_id);
    store_conversation_free(&conv);
}

struct creator {
    const char *a, *b;
    pthread_barrier_t *start;
    char id[STORE_ID_SIZE];
    bool created;
    enum store_err rc;
};

static void *creator_run(void *arg)
{
    struct creator *c = arg;
    struct store *s = NULL;
    struct store_conversation conv;
    char err[256];
    c->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(c->start);
    for (int tries = 0; c->rc == STORE_OK && tries < 50; tries++) {
        c->rc = store_conversation_direct(s, c->a, c->b, NOW, &conv, &c->created);
        if (c->rc != STORE_BUSY)
            break;
    }
    if (c->rc == STORE_OK) {
        memcpy(c->id, conv.id, STORE_ID_SIZE);
        store_conversation_free(&conv);
    }
    store_close(s);
    return NULL;
}

/* Four connections create one pair at once (both orders): one conversation, one creator. */
static void test_direct_concurrent(void **state)
{
    struct account a, b;
    struct creator cr[4];
    pthread_t th[4];
    pthread_barrier_t start;
    int made = 0;
    (void)state;
    make_account(&a);
    make_account(&b);
    pthread_barrier_init(&start, NULL, 4);
    for (int i = 0; i < 4; i++) {
        cr[i] = (struct creator){.a = i % 2 ? a.user_id : b.user_id,
                                 .b = i % 2 ? b.user_id : a.user_id,
                                 .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, creator_run, &cr[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cr[i].rc, STORE_OK);
        assert_string_equal(cr[i].id, cr[0].id);
        made += cr[i].created;
    }
    assert_int_equal(made, 1);
    assert_int_equal(count2("SELECT COUNT(*) FROM conversation_participants "
                            "WHERE conversation_id = $1",
                            cr[0].id, NULL),
                     2);
}

/* ---------- sending ---------- */

static void test_send_fanout(void **state)
{
    struct account a, b;
    char a2[STORE_ID_SIZE], b2[STORE_ID_SIZE], b_revoked[STORE_ID_SIZE], b_nokeys[STORE_ID_SIZE];
    char conv[STORE_ID_SIZE], v7[STORE_ID_SIZE];
    struct store_message_result res;
    struct store_conversation c;
    struct store_queue_item *items;
    size_t n;
    int64_t last;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&a, true, a2);
    add_device(&b, true, b2);
    add_device(&b, true, b_revoked);
    add_device(&b, false, b_nokeys);
    assert_int_equal(store_device_revoke(fx.s, b.user_id, b_revoked, NOW), STORE_OK);
    open_conv(&a, &b, conv);
    int64_t at = clock_ms + NOW + 1;
    send_ok(conv, a.user_id, a.device_id, b.user_id, NULL, &res);
    /* Exactly b's two active devices and a's other device, each at seq 1, sorted by id. */
    assert_int_equal(res.n_fanout, 3);
    for (size_t i = 0; i < res.n_fanout; i++) {
        assert_int_equal(res.fanout[i].seq, 1);
        assert_string_not_equal(res.fanout[i].device_id, b_revoked);
        assert_string_not_equal(res.fanout[i].device_id, b_nokeys);
        assert_string_equal(res.fanout[i].user_id,
                            strcmp(res.fanout[i].device_id, a2) ? b.user_id : a.user_id);
        if (i)
            assert_true(strcmp(res.fanout[i - 1].device_id, res.fanout[i].device_id) < 0);
    }
    assert_string_equal(res.message.conversation_id, conv);
    assert_string_equal(res.message.sender_id, a.user_id);
    assert_string_equal(res.message.sender_device_id, a.device_id);
    assert_int_equal(res.message.sent_at, at);
    assert_int_equal(res.message.status, STORE_STATUS_SENT);
    assert_int_equal(res.message.id[14], '7'); /* a UUIDv7 ... */
    store_uuid_v7(v7, at);
    assert_memory_equal(res.message.id, v7, 13); /* ... carrying sentAt */
    assert_int_equal(count2(q_rows_of_device, b_nokeys, NULL), 0);
    assert_int_equal(count2(q_rows_of_device, a.device_id, NULL), 0); /* not to itself */
    /* Each device got its own envelope. */
    assert_int_equal(store_queue_fetch(fx.s, b2, 0, 10, &items, &n, &last), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(last, 1);
    assert_int_equal(items[0].seq, 1);
    assert_int_equal(items[0].event, STORE_EVENT_NEW);
    assert_string_equal(items[0].message.id, res.message.id);
    assert_string_equal(items[0].message.conversation_id, conv);
    assert_string_equal(items[0].message.sender_device_id, a.device_id);
    assert_true(items[0].message.has_envelope);
    assert_int_equal(items[0].message.envelope_type, STORE_ENVELOPE_MESSAGE);
    assert_int_equal(items[0].message.ciphertext_len, 3 + STORE_ID_LEN);
    assert_memory_equal(items[0].message.ciphertext + 3, b2, STORE_ID_LEN);
    store_queue_items_free(items, n);
    /* The sender is accepted, the recipient not yet; activity moved; b has one unread. */
    assert_int_equal(store_conversation_get(fx.s, b.user_id, conv, &c), STORE_OK);
    assert_true(participant(&c, a.user_id)->accepted);
    assert_false(participant(&c, b.user_id)->accepted);
    assert_int_equal(c.updated_at, at);
    assert_true(c.has_last_message);
    assert_string_equal(c.last_message_id, res.message.id);
    assert_string_equal(c.last_sender_id, a.user_id);
    assert_int_equal(c.last_sent_at, at);
    assert_int_equal(c.unread_count, 1);
    store_conversation_free(&c);
    assert_int_equal(unread_of(&a, conv), 0); /* one's own messages are never unread */
    store_message_result_free(&res);
}

static void test_send_mismatch(void **state)
{
    struct account a, b;
    char b2[STORE_ID_SIZE], b3[STORE_ID_SIZE], conv[STORE_ID_SIZE];
    struct store_message_result res;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&b, true, b2);
    add_device(&b, true, b3);
    assert_int_equal(store_device_revoke(fx.s, b.user_id, b3, NOW), STORE_OK);
    open_conv(&a, &b, conv);
    int64_t seq_before = count2(q_next_seq, b.device_id, NULL);
    /* Missing b2, extra: the revoked b3, an unknown device, and the sender's own device. */
    memset(&v, 0, sizeof v);
    envs_add(&v, b.device_id);
    envs_add(&v, b3);
    envs_add(&v, "ffffffff-0000-4000-8000-000000000000");
    envs_add(&v, a.device_id);
    struct store_send req = {conv, a.user_id, a.device_id, "cm-mismatch", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_MISMATCH);
    assert_int_equal(res.n_missing, 1);
    assert_string_equal(res.missing[0], b2);
    assert_int_equal(res.n_extra, 3);
    for (size_t i = 1; i < res.n_extra; i++)
        assert_true(strcmp(res.extra[i - 1], res.extra[i]) < 0); /* sorted */
    int found = 0;
    for (size_t i = 0; i < res.n_extra; i++)
        found += !strcmp(res.extra[i], a.device_id) + !strcmp(res.extra[i], b3) +
                 !strcmp(res.extra[i], "ffffffff-0000-4000-8000-000000000000");
    assert_int_equal(found, 3);
    assert_int_equal(res.n_fanout, 0);
    store_message_result_free(&res);
    /* Nothing stored: no message, no queue row, no seq taken, nobody accepted. */
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 0);
    assert_int_equal(count2(q_rows_of_device, b.device_id, NULL), 0);
    assert_int_equal(count2(q_next_seq, b.device_id, NULL), seq_before);
    assert_int_equal(count2("SELECT COUNT(*) FROM conversation_participants WHERE "
                            "conversation_id = $1 AND accepted = 1",
                            conv, NULL),
                     0);
    /* Only missing; then an empty list. */
    memset(&v, 0, sizeof v);
    envs_add(&v, b2);
    req.envelopes = v.e;
    req.n_envelopes = v.n;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_MISMATCH);
    assert_int_equal(res.n_missing, 1);
    assert_string_equal(res.missing[0], b.device_id);
    assert_int_equal(res.n_extra, 0);
    store_message_result_free(&res);
    req.envelopes = NULL;
    req.n_envelopes = 0;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_MISMATCH);
    assert_int_equal(res.n_missing, 2);
    store_message_result_free(&res);
    /* A device named twice, an empty or oversized envelope, a bad clientMessageId. */
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    envs_add(&v, b2);
    req.envelopes = v.e;
    req.n_envelopes = v.n;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_INVALID);
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    req.n_envelopes = v.n;
    v.e[0].len = 0;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_INVALID);
    v.e[0].len = STORE_ENVELOPE_MAX + 1;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_INVALID);
    v.e[0].len = 3;
    v.e[0].type = (enum store_envelope_type)7;
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_INVALID);
    v.e[0].type = STORE_ENVELOPE_PREKEY;
    req.client_message_id = "";
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_INVALID);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 0);
    /* Right list: stored, and an envelope of exactly the maximum size is fine. */
    static uint8_t big[STORE_ENVELOPE_MAX];
    v.e[0].ciphertext = big;
    v.e[0].len = sizeof big;
    req.client_message_id = "cm-ok";
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_OK);
    assert_true(res.created);
    assert_int_equal(res.n_missing + res.n_extra, 0);
    store_message_result_free(&res);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 1);
}

static void test_send_idempotent(void **state)
{
    struct account a, b, c;
    char conv[STORE_ID_SIZE], conv2[STORE_ID_SIZE], b2[STORE_ID_SIZE];
    struct store_message_result res, again;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    open_conv(&a, &b, conv);
    open_conv(&a, &c, conv2);
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    struct store_send req = {conv, a.user_id, a.device_id, "retry-1", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_OK);
    assert_true(res.created);
    int64_t rows = count2(q_rows_of_device, b.device_id, NULL);
    int64_t next = count2(q_next_seq, b.device_id, NULL);
    /* The retry returns the same message, queues nothing, takes no seq. */
    assert_int_equal(store_message_send(fx.s, &req, tick(), &again), STORE_OK);
    assert_false(again.created);
    assert_string_equal(again.message.id, res.message.id);
    assert_int_equal(again.message.sent_at, res.message.sent_at);
    assert_string_equal(again.message.client_message_id, "retry-1");
    assert_int_equal(again.n_fanout, 0);
    store_message_result_free(&again);
    assert_int_equal(count2(q_rows_of_device, b.device_id, NULL), rows);
    assert_int_equal(count2(q_next_seq, b.device_id, NULL), next);
    /* Even when b added a device since: the first attempt was committed. */
    add_device(&b, true, b2);
    assert_int_equal(store_message_send(fx.s, &req, tick(), &again), STORE_OK);
    assert_false(again.created);
    assert_string_equal(again.message.id, res.message.id);
    store_message_result_free(&again);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 1);
    /* The same clientMessageId in another conversation is a conflict ... */
    envs_for(&v, a.user_id, a.device_id, c.user_id);
    struct store_send other = {conv2, a.user_id, a.device_id, "retry-1", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &other, tick(), &again), STORE_CONFLICT);
    store_message_result_free(&again);
    /* ... but another sender may use it. */
    envs_for(&v, b.user_id, b.device_id, a.user_id);
    struct store_send fromb = {conv, b.user_id, b.device_id, "retry-1", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &fromb, tick(), &again), STORE_OK);
    assert_true(again.created);
    assert_string_not_equal(again.message.id, res.message.id);
    store_message_result_free(&again);
    store_message_result_free(&res);
}

struct retrier {
    const struct store_send *req;
    pthread_barrier_t *start;
    char id[STORE_ID_SIZE];
    bool created;
    size_t n_fanout;
    enum store_err rc;
};

static void *retrier_run(void *arg)
{
    struct retrier *t = arg;
    struct store *s = NULL;
    struct store_message_result res;
    char err[256];
    t->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(t->start);
    for (int tries = 0; t->rc == STORE_OK && tries < 50; tries++)
        if ((t->rc = store_message_send(s, t->req, NOW, &res)) != STORE_BUSY)
            break;
    if (t->rc == STORE_OK) {
        memcpy(t->id, res.message.id, STORE_ID_SIZE);
        t->created = res.created;
        t->n_fanout = res.n_fanout;
    }
    store_message_result_free(&res);
    store_close(s);
    return NULL;
}

/* The same send on four connections at once (a client retrying through several nodes):
 * one message, one set of queue rows, every caller gets that message. */
static void test_send_idempotent_concurrent(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE];
    struct retrier t[4];
    pthread_t th[4];
    pthread_barrier_t start;
    struct envs v;
    int made = 0;
    (void)state;
    make_account(&a);
    make_account(&b);
    open_conv(&a, &b, conv);
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    struct store_send req = {conv, a.user_id, a.device_id, "same-send", v.e, v.n, 0, NULL, 0, 0};
    pthread_barrier_init(&start, NULL, 4);
    for (int i = 0; i < 4; i++) {
        t[i] = (struct retrier){.req = &req, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, retrier_run, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(t[i].rc, STORE_OK);
        assert_string_equal(t[i].id, t[0].id);
        assert_int_equal(t[i].n_fanout, t[i].created ? 1 : 0);
        made += t[i].created;
    }
    assert_int_equal(made, 1);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 1);
    assert_int_equal(count2(q_rows_of_device, b.device_id, NULL), 1);
    assert_int_equal(count2(q_next_seq, b.device_id, NULL), 2);
}

/* A third user gets NOT_FOUND from every function that names the conversation or a message
 * in it; a wrong or revoked sending device is FORBIDDEN. */
static void test_third_user(void **state)
{
    struct account a, b, c;
    char conv[STORE_ID_SIZE], msg[STORE_ID_SIZE], a2[STORE_ID_SIZE];
    struct store_message_result res;
    struct store_conversation cv;
    struct store_participant *parts;
    struct store_message m, *list;
    struct store_read_result rd;
    size_t n;
    bool more;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    open_conv(&a, &b, conv);
    send_ok(conv, a.user_id, a.device_id, b.user_id, msg, NULL);
    assert_int_equal(store_conversation_get(fx.s, c.user_id, conv, &cv), STORE_NOT_FOUND);
    assert_int_equal(store_conversation_participants(fx.s, c.user_id, conv, &parts, &n),
                     STORE_NOT_FOUND);
    assert_int_equal(store_conversation_leave(fx.s, c.user_id, conv, NOW), STORE_NOT_FOUND);
    char other[STORE_ID_SIZE];
    assert_int_equal(store_conversation_other(fx.s, c.user_id, conv, other), STORE_NOT_FOUND);
    assert_int_equal(
        store_message_history(fx.s, c.user_id, c.device_id, conv, NULL, 10, &list, &n, &more),
        STORE_NOT_FOUND);
    assert_int_equal(store_message_get(fx.s, c.user_id, c.device_id, msg, &m), STORE_NOT_FOUND);
    assert_int_equal(store_message_read(fx.s, c.user_id, msg, NOW, &rd), STORE_NOT_FOUND);
    assert_int_equal(store_message_delete(fx.s, c.user_id, c.device_id, msg, NOW, &res),
                     STORE_NOT_FOUND);
    envs_for(&v, c.user_id, c.device_id, a.user_id);
    assert_int_equal(store_message_edit(fx.s, c.user_id, c.device_id, msg, v.e, v.n, 0, NOW, &res),
                     STORE_NOT_FOUND);
    struct store_send req = {conv, c.user_id, c.device_id, "intruder", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_NOT_FOUND);
    store_message_result_free(&res);
    /* Unknown ids read the same as foreign ones. */
    assert_int_equal(store_conversation_get(fx.s, c.user_id, "nope", &cv), STORE_NOT_FOUND);
    assert_int_equal(store_message_read(fx.s, c.user_id, "nope", NOW, &rd), STORE_NOT_FOUND);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 1);
    /* A participant's message from a device that is not theirs, or revoked. */
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    struct store_send wrongdev = {conv, a.user_id, b.device_id, "wrong-dev", v.e,
                                  v.n,  0,         NULL,        0,           0};
    assert_int_equal(store_message_send(fx.s, &wrongdev, tick(), &res), STORE_FORBIDDEN);
    add_device(&a, true, a2);
    assert_int_equal(store_device_revoke(fx.s, a.user_id, a2, NOW), STORE_OK);
    envs_for(&v, a.user_id, a2, b.user_id);
    struct store_send revoked = {conv, a.user_id, a2, "revoked-dev", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &revoked, tick(), &res), STORE_FORBIDDEN);
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 1);
}

static void test_blocked(void **state)
{
    struct account a, b, d;
    char conv[STORE_ID_SIZE], msg[STORE_ID_SIZE];
    struct store_message_result res;
    struct store_conversation cv;
    struct store_read_result rd;
    bool created, yes;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&d);
    open_conv(&a, &b, conv);
    send_ok(conv, a.user_id, a.device_id, b.user_id, msg, NULL);
    send_ok(conv, b.user_id, b.device_id, a.user_id, NULL, NULL);
    assert_int_equal(store_contacts_check(fx.s, a.user_id, b.user_id, &yes), STORE_OK);
    assert_true(yes);
    assert_int_equal(store_block_add(fx.s, b.user_id, a.user_id, NOW), STORE_OK);
    /* Neither direction can send, edit, or open the conversation. */
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    struct store_send from_a = {conv, a.user_id, a.device_id, "blocked-a", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &from_a, tick(), &res), STORE_FORBIDDEN);
    assert_int_equal(store_message_edit(fx.s, a.user_id, a.device_id, msg, v.e, v.n, 0, NOW, &res),
                     STORE_FORBIDDEN);
    envs_for(&v, b.user_id, b.device_id, a.user_id);
    struct store_send from_b = {conv, b.user_id, b.device_id, "blocked-b", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &from_b, tick(), &res), STORE_FORBIDDEN);
    assert_int_equal(store_conversation_direct(fx.s, a.user_id, b.user_id, NOW, &cv, &created),
                     STORE_FORBIDDEN);
    assert_int_equal(store_conversation_direct(fx.s, b.user_id, a.user_id, NOW, &cv, &created),
                     STORE_FORBIDDEN);
    assert_int_equal(store_block_add(fx.s, d.user_id, a.user_id, NOW), STORE_OK);
    assert_int_equal(store_conversation_direct(fx.s, a.user_id, d.user_id, NOW, &cv, &created),
                     STORE_FORBIDDEN); /* no new conversation across a block either */
    assert_int_equal(count2(q_msgs_of_conv, conv, NULL), 2);
    /* Not contacts; a read receipt is stored but flagged. */
    assert_int_equal(store_contacts_check(fx.s, a.user_id, b.user_id, &yes), STORE_OK);
    assert_false(yes);
    assert_int_equal(store_message_read(fx.s, b.user_id, msg, NOW, &rd), STORE_OK);
    assert_true(rd.moved);
    assert_true(rd.blocked);
    /* Deleting one's own message is still allowed. */
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, msg, tick(), &res),
                     STORE_OK);
    assert_true(res.created);
    store_message_result_free(&res);
    /* Unblocked: everything flows again. */
    assert_int_equal(store_block_remove(fx.s, b.user_id, a.user_id), STORE_OK);
    assert_int_equal(store_message_send(fx.s, &from_b, tick(), &res), STORE_OK);
    store_message_result_free(&res);
    assert_int_equal(store_contacts_check(fx.s, b.user_id, a.user_id, &yes), STORE_OK);
    assert_true(yes);
}

#define SENDERS 4
#define PER_SENDER 25

struct sender {
    struct account from;
    const char *to_user, *conv;
    struct envs v;
    pthread_barrier_t *start;
    int64_t seqs[PER_SENDER]; /* the seq the recipient device got for each message */
    int failures, busy;
};

static void *sender_run(void *arg)
{
    struct sender *t = arg;
    struct store *s = NULL;
    struct store_message_result res;
    char err[256], cmid[64];
    if (store_open(&fx.cfg, &s, err, sizeof err) != STORE_OK)
        t->failures++;
    pthread_barrier_wait(t->start);
    for (int i = 0; s && i < PER_SENDER; i++) {
        snprintf(cmid, sizeof cmid, "%s-%d", t->from.user_id, i);
        struct store_send req = {
            t->conv, t->from.user_id, t->from.device_id, cmid, t->v.e, t->v.n, 0, NULL, 0, 0};
        enum store_err rc;
        while ((rc = store_message_send(s, &req, NOW + i, &res)) == STORE_BUSY)
            t->busy++; /* contention: the same clientMessageId makes the retry safe */
        if (rc != STORE_OK || !res.created || res.n_fanout != 1) {
            t->failures++;
            store_message_result_free(&res);
            break;
        }
        t->seqs[i] = res.fanout[0].seq;
        store_message_result_free(&res);
    }
    store_close(s);
    return NULL;
}

/* Four connections send to one device at once: its seqs are 1..100, each exactly once. */
static void test_concurrent_seq(void **state)
{
    struct account r;
    static struct sender snd[SENDERS];
    static char convs[SENDERS][STORE_ID_SIZE];
    pthread_t th[SENDERS];
    pthread_barrier_t start;
    bool seen[SENDERS * PER_SENDER + 1] = {false};
    struct store_queue_item *items;
    size_t n;
    int64_t last;
    (void)state;
    make_account(&r);
    pthread_barrier_init(&start, NULL, SENDERS);
    for (int i = 0; i < SENDERS; i++) {
        memset(&snd[i], 0, sizeof snd[i]);
        make_account(&snd[i].from);
        open_conv(&snd[i].from, &r, convs[i]);
        envs_for(&snd[i].v, snd[i].from.user_id, snd[i].from.device_id, r.user_id);
        snd[i].to_user = r.user_id;
        snd[i].conv = convs[i];
        snd[i].start = &start;
    }
    for (int i = 0; i < SENDERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sender_run, &snd[i]), 0);
    for (int i = 0; i < SENDERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < SENDERS; i++) {
        assert_int_equal(snd[i].failures, 0);
        int64_t prev = 0;
        for (int j = 0; j < PER_SENDER; j++) {
            int64_t q = snd[i].seqs[j];
            assert_true(q >= 1 && q <= SENDERS * PER_SENDER);
            assert_false(seen[q]); /* no duplicate */
            assert_true(q > prev); /* one sender's messages keep their order */
            seen[q] = true;
            prev = q;
        }
    }
    /* The queue itself: seq 1..100 in order, no gap, each a distinct message. */
    assert_int_equal(
        store_queue_fetch(fx.s, r.device_id, 0, STORE_QUEUE_BATCH_MAX, &items, &n, &last),
        STORE_OK);
    assert_int_equal(n, SENDERS * PER_SENDER);
    assert_int_equal(last, SENDERS * PER_SENDER);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].seq, (int64_t)i + 1);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(items[j].message.id, items[i].message.id);
    }
    store_queue_items_free(items, n);
    assert_int_equal(count2(q_next_seq, r.device_id, NULL), SENDERS * PER_SENDER + 1);
}

/* ---------- the queue ---------- */

static void test_queue_ack(void **state)
{
    struct account a, b;
    char a2[STORE_ID_SIZE], b2[STORE_ID_SIZE], conv[STORE_ID_SIZE], m[3][STORE_ID_SIZE];
    struct store_queue_item *items;
    struct store_delivered *del;
    size_t n;
    int64_t last;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&a, true, a2);
    add_device(&b, true, b2);
    open_conv(&a, &b, conv);
    for (int i = 0; i < 3; i++)
        send_ok(conv, a.user_id, a.device_id, b.user_id, m[i], NULL);
    /* Fetch after a seq, bounded. */
    assert_int_equal(store_queue_fetch(fx.s, b.device_id, 1, 1, &items, &n, &last), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].seq, 2);
    assert_string_equal(items[0].message.id, m[1]);
    assert_int_equal(last, 3);
    store_queue_items_free(items, n);
    assert_int_equal(store_queue_fetch(fx.s, b.device_id, 0, 0, &items, &n, &last), STORE_INVALID);
    /* b's first device acks 2: messages 0 and 1 are delivered, reported once. */
    assert_int_equal(store_queue_ack(fx.s, b.device_id, 2, NOW + 100, &del, &n), STORE_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(!strcmp(del[i].message_id, m[0]) || !strcmp(del[i].message_id, m[1]));
        assert_string_equal(del[i].conversation_id, conv);
        assert_string_equal(del[i].sender_id, a.user_id);
        assert_string_equal(del[i].user_id, b.user_id);
        assert_int_equal(del[i].delivered_at, NOW + 100);
    }
    assert_string_not_equal(del[0].message_id, del[1].message_id);
    free(del);
    /* Only that device's rows ≤ 2: ciphertext gone there, still there for b2 and for 3. */
    assert_int_equal(count2(q_undelivered, b.device_id, NULL), 1);
    assert_int_equal(count2(q_undelivered, b2, NULL), 3);
    assert_int_equal(count2(q_undelivered, a2, NULL), 3);
    assert_int_equal(count2("SELECT acked_seq FROM devices WHERE id = $1", b.device_id, NULL), 2);
    assert_int_equal(count2("SELECT acked_seq FROM devices WHERE id = $1", b2, NULL), 0);
    assert_int_equal(store_queue_fetch(fx.s, b.device_id, 0, 10, &items, &n, &last), STORE_OK);
    assert_int_equal(n, 1); /* acknowledged rows are not fetched again */
    assert_int_equal(items[0].seq, 3);
    store_queue_items_free(items, n);
    /* b2 acks everything: only message 2 is new as a delivery. */
    assert_int_equal(store_queue_ack(fx.s, b2, 3, NOW + 200, &del, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(del[0].message_id, m[2]);
    free(del);
    /* Acking again, or lower, changes nothing and reports nothing. */
    assert_int_equal(store_queue_ack(fx.s, b.device_id, 2, NOW + 300, &del, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(del);
    assert_int_equal(store_queue_ack(fx.s, b.device_id, 1, NOW + 300, &del, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(count2("SELECT acked_seq FROM devices WHERE id = $1", b.device_id, NULL), 2);
    /* The sender's other device acking its copies is no delivery. */
    assert_int_equal(store_queue_ack(fx.s, a2, 3, NOW + 400, &del, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(count2(q_undelivered, a2, NULL), 0);
    /* Beyond the newest seq, or negative: invalid, and nothing moves. */
    assert_int_equal(store_queue_ack(fx.s, b.device_id, 4, NOW, &del, &n), STORE_INVALID);
    assert_int_equal(store_queue_ack(fx.s, b.device_id, -1, NOW, &del, &n), STORE_INVALID);
    assert_int_equal(count2(q_undelivered, b.device_id, NULL), 1);
    assert_int_equal(store_queue_ack(fx.s, "no-such-device", 0, NOW, &del, &n), STORE_NOT_FOUND);
    /* Delivered status with the time of the first delivery. */
    struct store_message msg;
    assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m[0], &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_DELIVERED);
    assert_int_equal(msg.delivered_at, NOW + 100);
    store_message_free(&msg);
    /* Delivery of a message whose recipient device's row was never acked stays "sent". */
    char m4[STORE_ID_SIZE];
    send_ok(conv, a.user_id, a.device_id, b.user_id, m4, NULL);
    assert_int_equal(store_queue_ack(fx.s, a2, 4, NOW + 500, &del, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_message_get(fx.s, b.user_id, b.device_id, m4, &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_SENT);
    assert_true(msg.has_envelope); /* b's envelope is still waiting */
    store_message_free(&msg);
}

struct acker {
    const char *device_id;
    int64_t seq;
    pthread_barrier_t *start;
    size_t reported;
    enum store_err rc;
};

static void *acker_run(void *arg)
{
    struct acker *k = arg;
    struct store *s = NULL;
    struct store_delivered *del = NULL;
    char err[256];
    k->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(k->start);
    for (int tries = 0; k->rc == STORE_OK && tries < 50; tries++)
        if ((k->rc = store_queue_ack(s, k->device_id, k->seq, NOW, &del, &k->reported)) !=
            STORE_BUSY)
            break;
    free(del);
    store_close(s);
    return NULL;
}

/* Two devices of the recipient ack the same messages at once: each delivery reported once. */
static void test_delivered_once_concurrent(void **state)
{
    struct account a, b;
    char b2[STORE_ID_SIZE], conv[STORE_ID_SIZE];
    struct acker k[2];
    pthread_t th[2];
    pthread_barrier_t start;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&b, true, b2);
    open_conv(&a, &b, conv);
    for (int i = 0; i < 20; i++)
        send_ok(conv, a.user_id, a.device_id, b.user_id, NULL, NULL);
    pthread_barrier_init(&start, NULL, 2);
    k[0] = (struct acker){.device_id = b.device_id, .seq = 20, .start = &start};
    k[1] = (struct acker){.device_id = b2, .seq = 20, .start = &start};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, acker_run, &k[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(k[0].rc, STORE_OK);
    assert_int_equal(k[1].rc, STORE_OK);
    assert_int_equal(k[0].reported + k[1].reported, 20);
}

static void test_edit_delete(void **state)
{
    struct account a, b;
    char a2[STORE_ID_SIZE], conv[STORE_ID_SIZE], m1[STORE_ID_SIZE], m2[STORE_ID_SIZE];
    struct store_message_result res;
    struct store_queue_item *items;
    struct store_conversation cv;
    size_t n;
    int64_t last;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&a, true, a2);
    open_conv(&a, &b, conv);
    send_ok(conv, a.user_id, a.device_id, b.user_id, m1, NULL);
    send_ok(conv, a.user_id, a.device_id, b.user_id, m2, NULL);
    /* The recipient cannot edit or delete it: a participant, so FORBIDDEN, not NOT_FOUND. */
    envs_for(&v, b.user_id, b.device_id, a.user_id);
    assert_int_equal(store_message_edit(fx.s, b.user_id, b.device_id, m1, v.e, v.n, 0, NOW, &res),
                     STORE_FORBIDDEN);
    assert_int_equal(store_message_delete(fx.s, b.user_id, b.device_id, m1, NOW, &res),
                     STORE_FORBIDDEN);
    /* Edit from the sender's other device: targets are b's device and a's first device. */
    envs_for(&v, a.user_id, a2, b.user_id);
    assert_int_equal(v.n, 2);
    int64_t at = tick();
    assert_int_equal(store_message_edit(fx.s, a.user_id, a2, m1, v.e, v.n, 0, at, &res), STORE_OK);
    assert_true(res.created);
    assert_int_equal(res.n_fanout, 2);
    assert_int_equal(res.message.edited_at, at);
    for (size_t i = 0; i < res.n_fanout; i++) /* b had 1, 2 from the sends; a's first: none */
        assert_int_equal(res.fanout[i].seq, strcmp(res.fanout[i].device_id, b.device_id) ? 1 : 3);
    store_message_result_free(&res);
    assert_int_equal(store_queue_fetch(fx.s, b.device_id, 2, 10, &items, &n, &last), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].event, STORE_EVENT_EDITED);
    assert_int_equal(items[0].message.edited_at, at);
    assert_true(items[0].message.has_envelope);
    store_queue_items_free(items, n);
    /* An edit with the wrong device list stores nothing. */
    int64_t rows = count2(q_rows_of_message, m1, NULL);
    envs_for(&v, a.user_id, a.device_id, b.user_id); /* a2's list from a.device_id: wrong */
    assert_int_equal(store_message_edit(fx.s, a.user_id, a2, m1, v.e, v.n, 0, tick(), &res),
                     STORE_MISMATCH);
    assert_int_equal(res.n_missing, 1);
    assert_string_equal(res.missing[0], a.device_id);
    assert_int_equal(res.n_extra, 1);
    assert_string_equal(res.extra[0], a2);
    store_message_result_free(&res);
    assert_int_equal(count2(q_rows_of_message, m1, NULL), rows);
    /* Delete: every stored ciphertext of the message goes, a `deleted` row per target. */
    assert_true(count2(q_ct_of_message, m1, NULL) > 0);
    at = tick();
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, m1, at, &res), STORE_OK);
    assert_true(res.created);
    assert_int_equal(res.n_fanout, 2); /* b.device_id and a2 */
    assert_int_equal(res.message.deleted_at, at);
    assert_false(res.message.has_envelope);
    store_message_result_free(&res);
    assert_int_equal(count2(q_ct_of_message, m1, NULL), 0);
    assert_int_equal(store_queue_fetch(fx.s, b.device_id, 0, 10, &items, &n, &last), STORE_OK);
    assert_int_equal(n, 4); /* new m1 (now without envelope), new m2, edited m1, deleted m1 */
    assert_false(items[0].message.has_envelope);
    assert_int_equal(items[0].message.deleted_at, at);
    assert_true(items[1].message.has_envelope);
    assert_int_equal(items[3].event, STORE_EVENT_DELETED);
    assert_string_equal(items[3].message.id, m1);
    assert_false(items[3].message.has_envelope);
    store_queue_items_free(items, n);
    /* Deleting again is a no-op; editing a deleted message is NOT_FOUND. */
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, m1, tick(), &res),
                     STORE_OK);
    assert_false(res.created);
    assert_int_equal(res.n_fanout, 0);
    assert_int_equal(res.message.deleted_at, at);
    store_message_result_free(&res);
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    assert_int_equal(store_message_edit(fx.s, a.user_id, a.device_id, m1, v.e, v.n, 0, NOW, &res),
                     STORE_NOT_FOUND);
    assert_int_equal(
        store_message_edit(fx.s, a.user_id, a.device_id, "nope", v.e, v.n, 0, NOW, &res),
        STORE_NOT_FOUND);
    /* The list skips deleted messages in lastMessage and unread counts. */
    assert_int_equal(store_conversation_get(fx.s, b.user_id, conv, &cv), STORE_OK);
    assert_string_equal(cv.last_message_id, m2);
    assert_int_equal(cv.unread_count, 1);
    store_conversation_free(&cv);
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, m2, tick(), &res),
                     STORE_OK);
    store_message_result_free(&res);
    assert_int_equal(store_conversation_get(fx.s, b.user_id, conv, &cv), STORE_OK);
    assert_false(cv.has_last_message);
    assert_int_equal(cv.unread_count, 0);
    store_conversation_free(&cv);
}

/* ---------- history, read cursors, lists ---------- */

#define HISTORY 130

static void test_history_paging(void **state)
{
    struct account a, b;
    char a2[STORE_ID_SIZE], conv[STORE_ID_SIZE];
    static char ids[HISTORY][STORE_ID_SIZE];
    struct store_message *page;
    size_t n;
    bool more;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&a, true, a2);
    open_conv(&a, &b, conv);
    for (int i = 0; i < HISTORY; i++)
        send_ok(conv, i % 3 ? a.user_id : b.user_id, i % 3 ? a.device_id : b.device_id,
                i % 3 ? b.user_id : a.user_id, ids[i], NULL);
    assert_int_equal(
        store_message_history(fx.s, b.user_id, b.device_id, conv, NULL, 0, &page, &n, &more),
        STORE_INVALID);
    assert_int_equal(store_message_history(fx.s, b.user_id, b.device_id, conv, NULL,
                                           STORE_HISTORY_MAX + 1, &page, &n, &more),
                     STORE_INVALID);
    /* Page 1: the newest 100. */
    assert_int_equal(store_message_history(fx.s, b.user_id, b.device_id, conv, NULL,
                                           STORE_HISTORY_MAX, &page, &n, &more),
                     STORE_OK);
    assert_int_equal(n, 100);
    assert_true(more);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(page[i].id, ids[HISTORY - 1 - i]);
        bool mine = !strcmp(page[i].sender_id, b.user_id);
        assert_int_equal(page[i].has_envelope, !mine); /* b's own sends have no envelope for it */
        assert_int_equal(page[i].status, STORE_STATUS_SENT);
    }
    store_messages_free(page, n);
    /* Page 2 from the last id: the remaining 30, no more. */
    assert_int_equal(store_message_history(fx.s, b.user_id, b.device_id, conv, ids[HISTORY - 100],
                                           100, &page, &n, &more),
                     STORE_OK);
    assert_int_equal(n, HISTORY - 100);
    assert_false(more);
    assert_string_equal(page[0].id, ids[HISTORY - 101]);
    assert_string_equal(page[n - 1].id, ids[0]);
    store_messages_free(page, n);
    /* Exactly limit left: hasMore is false. */
    assert_int_equal(
        store_message_history(fx.s, a.user_id, a2, conv, ids[10], 10, &page, &n, &more), STORE_OK);
    assert_int_equal(n, 10);
    assert_false(more);
    /* a2, the sender's other device, has envelopes for a's sends and b's. */
    for (size_t i = 0; i < n; i++)
        assert_true(page[i].has_envelope);
    store_messages_free(page, n);
    /* Small pages walk the whole history without gap or repeat. */
    char before[STORE_ID_SIZE] = "";
    size_t seen = 0;
    do {
        assert_int_equal(store_message_history(fx.s, a.user_id, a.device_id, conv,
                                               before[0] ? before : NULL, 17, &page, &n, &more),
                         STORE_OK);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(page[i].id, ids[HISTORY - 1 - seen - i]);
        seen += n;
        if (n)
            memcpy(before, page[n - 1].id, STORE_ID_SIZE);
        store_messages_free(page, n);
    } while (more);
    assert_int_equal(seen, HISTORY);
}

static void test_read_cursor(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], m[4][STORE_ID_SIZE];
    struct store_read_result rd;
    struct store_message msg;
    (void)state;
    make_account(&a);
    make_account(&b);
    open_conv(&a, &b, conv);
    send_ok(conv, a.user_id, a.device_id, b.user_id, m[0], NULL);
    send_ok(conv, a.user_id, a.device_id, b.user_id, m[1], NULL);
    send_ok(conv, b.user_id, b.device_id, a.user_id, m[2], NULL);
    send_ok(conv, a.user_id, a.device_id, b.user_id, m[3], NULL);
    assert_int_equal(unread_of(&b, conv), 3);
    assert_int_equal(unread_of(&a, conv), 1);
    /* b reads m[1]: m[0] and m[1] are read. */
    assert_int_equal(store_message_read(fx.s, b.user_id, m[1], NOW + 50, &rd), STORE_OK);
    assert_true(rd.moved);
    assert_false(rd.blocked);
    assert_string_equal(rd.conversation_id, conv);
    assert_string_equal(rd.reader_id, b.user_id);
    assert_string_equal(rd.other_id, a.user_id);
    assert_string_equal(rd.message_id, m[1]);
    assert_int_equal(rd.read_at, NOW + 50);
    assert_int_equal(unread_of(&b, conv), 1);
    assert_int_equal(unread_of(&a, conv), 1); /* a's count is about b's messages */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m[i], &msg), STORE_OK);
        assert_int_equal(msg.status, i < 2 ? STORE_STATUS_READ : STORE_STATUS_SENT);
        store_message_free(&msg);
    }
    /* Never backwards. */
    assert_int_equal(store_message_read(fx.s, b.user_id, m[0], NOW + 60, &rd), STORE_OK);
    assert_false(rd.moved);
    assert_int_equal(store_message_read(fx.s, b.user_id, m[1], NOW + 60, &rd), STORE_OK);
    assert_false(rd.moved);
    assert_int_equal(unread_of(&b, conv), 1);
    assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m[1], &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
    /* Reading one's own newer message moves the cursor past the other's earlier ones. */
    assert_int_equal(store_message_read(fx.s, a.user_id, m[3], NOW + 70, &rd), STORE_OK);
    assert_true(rd.moved);
    assert_int_equal(unread_of(&a, conv), 0);
    assert_int_equal(store_message_get(fx.s, b.user_id, b.device_id, m[2], &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
    /* A read message is read even if it was never acknowledged by a device. */
    assert_int_equal(store_message_read(fx.s, b.user_id, m[3], NOW + 80, &rd), STORE_OK);
    assert_true(rd.moved);
    assert_int_equal(unread_of(&b, conv), 0);
    assert_int_equal(store_message_get(fx.s, b.user_id, b.device_id, m[3], &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
}

static void test_list_and_leave(void **state)
{
    struct account me, p[3];
    char conv[3][STORE_ID_SIZE];
    struct store_conversation *list, cv;
    size_t n;
    int64_t total;
    bool created;
    (void)state;
    make_account(&me);
    for (int i = 0; i < 3; i++) {
        make_account(&p[i]);
        open_conv(&me, &p[i], conv[i]);
    }
    /* Activity: conv[1] then conv[0], so the order is 0, 1, 2 (2 only created). */
    send_ok(conv[1], p[1].user_id, p[1].device_id, me.user_id, NULL, NULL);
    send_ok(conv[0], p[0].user_id, p[0].device_id, me.user_id, NULL, NULL);
    send_ok(conv[0], p[0].user_id, p[0].device_id, me.user_id, NULL, NULL);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 10, 0, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].id, conv[0]);
    assert_string_equal(list[1].id, conv[1]);
    assert_string_equal(list[2].id, conv[2]);
    assert_int_equal(list[0].unread_count, 2);
    assert_int_equal(list[1].unread_count, 1);
    assert_int_equal(list[2].unread_count, 0);
    assert_int_equal(list[0].n_participants, 2);
    assert_non_null(participant(&list[0], p[0].user_id)->user.username);
    store_conversations_free(list, n);
    /* Paging. */
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 1, 1, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, conv[1]);
    store_conversations_free(list, n);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 5, 3, &list, &n, &total), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(total, 3);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, -1, 0, &list, &n, &total),
                     STORE_INVALID);
    /* Leaving hides it from the list only; twice is fine. */
    assert_int_equal(store_conversation_leave(fx.s, me.user_id, conv[0], NOW + 1), STORE_OK);
    assert_int_equal(store_conversation_leave(fx.s, me.user_id, conv[0], NOW + 2), STORE_OK);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 10, 0, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 2);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, conv[1]);
    store_conversations_free(list, n);
    assert_int_equal(store_conversation_get(fx.s, me.user_id, conv[0], &cv), STORE_OK);
    assert_int_equal(participant(&cv, me.user_id)->left_at, NOW + 1);
    store_conversation_free(&cv);
    /* The other side's new message brings it back, on top. */
    send_ok(conv[0], p[0].user_id, p[0].device_id, me.user_id, NULL, NULL);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 10, 0, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_string_equal(list[0].id, conv[0]);
    assert_int_equal(participant(&list[0], me.user_id)->left_at, 0);
    store_conversations_free(list, n);
    /* So does opening it again. */
    assert_int_equal(store_conversation_leave(fx.s, me.user_id, conv[2], NOW + 3), STORE_OK);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 10, 0, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 2);
    store_conversations_free(list, n);
    assert_int_equal(store_conversation_direct(fx.s, me.user_id, p[2].user_id, NOW, &cv, &created),
                     STORE_OK);
    assert_false(created);
    assert_string_equal(cv.id, conv[2]);
    store_conversation_free(&cv);
    assert_int_equal(store_conversation_list(fx.s, me.user_id, 10, 0, &list, &n, &total), STORE_OK);
    assert_int_equal(total, 3);
    store_conversations_free(list, n);
    /* Leaving is the leaver's alone: the other side still lists it. */
    assert_int_equal(store_conversation_leave(fx.s, me.user_id, conv[1], NOW + 4), STORE_OK);
    assert_int_equal(store_conversation_list(fx.s, p[1].user_id, 10, 0, &list, &n, &total),
                     STORE_OK);
    assert_int_equal(total, 1);
    assert_string_equal(list[0].id, conv[1]);
    store_conversations_free(list, n);
}

static int cmp_str_ptr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void test_contacts(void **state)
{
    struct account a, b, c, d;
    char ab[STORE_ID_SIZE], ac[STORE_ID_SIZE], ad[STORE_ID_SIZE];
    char(*ids)[STORE_ID_SIZE];
    size_t n;
    bool yes;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    make_account(&d);
    open_conv(&a, &b, ab);
    open_conv(&a, &c, ac);
    open_conv(&a, &d, ad);
    struct store_message_result res;
    /* Only one side has sent: not yet contacts, and no send says it made them. */
    send_ok(ab, a.user_id, a.device_id, b.user_id, NULL, &res);
    assert_false(res.contact_made);
    assert_string_equal(res.other_id, b.user_id);
    store_message_result_free(&res);
    send_ok(ab, a.user_id, a.device_id, b.user_id, NULL, &res);
    assert_false(res.contact_made);
    store_message_result_free(&res);
    send_ok(ac, c.user_id, c.device_id, a.user_id, NULL, NULL);
    assert_int_equal(store_contacts_list(fx.s, a.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(ids);
    assert_int_equal(store_contacts_check(fx.s, a.user_id, b.user_id, &yes), STORE_OK);
    assert_false(yes);
    /* Both sides have sent in ab, ac and ad: the first reply says so, later sends do not. */
    send_ok(ab, b.user_id, b.device_id, a.user_id, NULL, &res);
    assert_true(res.contact_made);
    assert_string_equal(res.other_id, a.user_id);
    store_message_result_free(&res);
    send_ok(ab, b.user_id, b.device_id, a.user_id, NULL, &res);
    assert_false(res.contact_made);
    store_message_result_free(&res);
    send_ok(ab, a.user_id, a.device_id, b.user_id, NULL, &res);
    assert_false(res.contact_made);
    store_message_result_free(&res);
    send_ok(ac, a.user_id, a.device_id, c.user_id, NULL, NULL);
    send_ok(ad, a.user_id, a.device_id, d.user_id, NULL, NULL);
    send_ok(ad, d.user_id, d.device_id, a.user_id, NULL, NULL);
    assert_int_equal(store_contacts_list(fx.s, a.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 3);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    free(ids);
    assert_int_equal(store_contacts_list(fx.s, b.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], a.user_id);
    free(ids);
    assert_int_equal(store_contacts_check(fx.s, b.user_id, c.user_id, &yes), STORE_OK);
    assert_false(yes); /* no shared conversation */
    assert_int_equal(store_contacts_check(fx.s, a.user_id, a.user_id, &yes), STORE_OK);
    assert_false(yes);
    /* A block ends it either way; leaving does not. */
    assert_int_equal(store_block_add(fx.s, c.user_id, a.user_id, NOW), STORE_OK);
    assert_int_equal(store_conversation_leave(fx.s, a.user_id, ad, NOW), STORE_OK);
    assert_int_equal(store_contacts_list(fx.s, a.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(ids[i], c.user_id);
    free(ids);
    assert_int_equal(store_contacts_check(fx.s, a.user_id, c.user_id, &yes), STORE_OK);
    assert_false(yes);
    assert_int_equal(store_contacts_check(fx.s, d.user_id, a.user_id, &yes), STORE_OK);
    assert_true(yes);
}

/* A message request: the recipient of a first message has not accepted and sees a request;
 * the sender has accepted and does not. Accepting (or replying) makes contacts once; a
 * stranger cannot accept; a request is read without a receipt. */
static void request_state(const struct account *u, const char *conv, bool accepted, bool request)
{
    struct store_conversation c;
    assert_int_equal(store_conversation_get(fx.s, u->user_id, conv, &c), STORE_OK);
    assert_int_equal(c.accepted, accepted);
    assert_int_equal(c.request, request);
    store_conversation_free(&c);
}

static void test_requests(void **state)
{
    struct account a, b, z;
    char conv[STORE_ID_SIZE], m[STORE_ID_SIZE];
    struct store_conversation c;
    struct store_read_result rd;
    struct store_accept_result acc;
    bool made;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&z);
    open_conv(&a, &b, conv);
    request_state(&a, conv, false, false); /* a started it: never a request to a */
    request_state(&b, conv, false, true);  /* started by the other: a request to b */
    send_ok(conv, a.user_id, a.device_id, b.user_id, m, NULL);
    request_state(&a, conv, true, false);
    request_state(&b, conv, false, true);
    /* b reads it: the cursor moves, the receipt is withheld, the status stays unread. */
    assert_int_equal(store_message_read(fx.s, b.user_id, m, NOW + 10, &rd), STORE_OK);
    assert_true(rd.moved);
    assert_true(rd.withheld);
    struct store_message msg;
    assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m, &msg), STORE_OK);
    assert_int_not_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
    assert_int_equal(store_conversation_accept(fx.s, z.user_id, conv, &c, &acc), STORE_NOT_FOUND);
    /* b accepts: contacts now, said once; the earlier read now counts and is due to a. */
    assert_int_equal(store_conversation_leave(fx.s, b.user_id, conv, NOW), STORE_OK);
    assert_int_equal(store_conversation_accept(fx.s, b.user_id, conv, &c, &acc), STORE_OK);
    assert_true(acc.contact_made);
    assert_true(acc.receipt);
    assert_string_equal(acc.other_id, a.user_id);
    assert_string_equal(acc.read_message_id, m);
    assert_int_equal(acc.read_at, NOW + 10);
    assert_true(c.accepted);
    assert_false(c.request);
    assert_true(participant(&c, b.user_id)->accepted);
    assert_int_equal(participant(&c, b.user_id)->left_at, 0); /* back in the list */
    store_conversation_free(&c);
    assert_int_equal(store_conversation_accept(fx.s, b.user_id, conv, &c, &acc), STORE_OK);
    assert_false(acc.contact_made);
    assert_false(acc.receipt);
    store_conversation_free(&c);
    assert_int_equal(store_contacts_check(fx.s, a.user_id, b.user_id, &made), STORE_OK);
    assert_true(made);
    assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m, &msg), STORE_OK);
    assert_int_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
    /* Read receipts off on either side withhold them again, both ways. */
    struct store_profile off = {.set_read_receipts = true, .read_receipts = false};
    assert_int_equal(store_user_update_profile(fx.s, a.user_id, &off, NOW), STORE_OK);
    assert_int_equal(store_message_read(fx.s, b.user_id, m, NOW + 20, &rd), STORE_OK);
    assert_true(rd.withheld);
    assert_int_equal(store_message_get(fx.s, a.user_id, a.device_id, m, &msg), STORE_OK);
    assert_int_not_equal(msg.status, STORE_STATUS_READ);
    store_message_free(&msg);
}

/* The users an account deletion is told to: everyone who shares a conversation, whatever its
 * state (not accepted, blocked, left), each once, sorted; nobody else. */
static void test_partners(void **state)
{
    struct account a, b, c, d, e;
    char ab[STORE_ID_SIZE], ac[STORE_ID_SIZE], ad[STORE_ID_SIZE], ad2[STORE_ID_SIZE];
    char(*ids)[STORE_ID_SIZE];
    const char *want[3];
    size_t n;
    (void)state;
    make_account(&a);
    make_account(&b);
    make_account(&c);
    make_account(&d);
    make_account(&e);
    open_conv(&a, &b, ab); /* never answered */
    open_conv(&a, &c, ac);
    open_conv(&d, &a, ad);
    open_conv(&a, &d, ad2); /* the same pair's one conversation: d counts once */
    assert_string_equal(ad, ad2);
    send_ok(ac, c.user_id, c.device_id, a.user_id, NULL, NULL);
    assert_int_equal(store_block_add(fx.s, c.user_id, a.user_id, NOW), STORE_OK);
    assert_int_equal(store_conversation_leave(fx.s, a.user_id, ad, NOW), STORE_OK);
    assert_int_equal(store_conversation_partners(fx.s, a.user_id, &ids, &n), STORE_OK);
    want[0] = b.user_id;
    want[1] = c.user_id;
    want[2] = d.user_id;
    qsort(want, 3, sizeof(want[0]), cmp_str_ptr);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i], want[i]);
    free(ids);
    assert_int_equal(store_conversation_partners(fx.s, b.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], a.user_id);
    free(ids);
    assert_int_equal(store_conversation_partners(fx.s, e.user_id, &ids, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_null(ids);
}

/* ---------- revocation and retention ---------- */

static void test_revoke_drops_queue(void **state)
{
    struct account a, b;
    char b2[STORE_ID_SIZE], conv[STORE_ID_SIZE];
    struct store_queue_item *items;
    struct store_delivered *del;
    struct store_message_result res;
    size_t n;
    int64_t last;
    struct envs v;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&b, true, b2);
    open_conv(&a, &b, conv);
    envs_for(&v, a.user_id, a.device_id, b.user_id); /* the list before the revocation */
    send_ok(conv, a.user_id, a.device_id, b.user_id, NULL, NULL);
    send_ok(conv, a.user_id, a.device_id, b.user_id, NULL, NULL);
    assert_int_equal(count2(q_rows_of_device, b2, NULL), 2);
    assert_int_equal(store_device_revoke(fx.s, b.user_id, b2, NOW), STORE_OK);
    assert_int_equal(count2(q_rows_of_device, b2, NULL), 0);
    assert_int_equal(count2(q_rows_of_device, b.device_id, NULL), 2); /* the others' stay */
    assert_int_equal(store_queue_fetch(fx.s, b2, 0, 10, &items, &n, &last), STORE_NOT_FOUND);
    assert_int_equal(store_queue_ack(fx.s, b2, 0, NOW, &del, &n), STORE_NOT_FOUND);
    /* The revoked device is no longer a target: naming it is "extra". */
    struct store_send req = {conv, a.user_id, a.device_id, "after-revoke", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, tick(), &res), STORE_MISMATCH);
    assert_int_equal(res.n_missing, 0);
    assert_int_equal(res.n_extra, 1);
    assert_string_equal(res.extra[0], b2);
    store_message_result_free(&res);
}

static void test_retention(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], old[STORE_ID_SIZE], fresh[STORE_ID_SIZE];
    struct store_message_result res;
    struct envs v;
    int64_t deleted = -1;
    (void)state;
    make_account(&a);
    make_account(&b);
    open_conv(&a, &b, conv);
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    struct store_send req = {conv, a.user_id, a.device_id, "old-one", v.e, v.n, 0, NULL, 0, 0};
    assert_int_equal(store_message_send(fx.s, &req, NOW - 31 * DAY_MS, &res), STORE_OK);
    memcpy(old, res.message.id, STORE_ID_SIZE);
    store_message_result_free(&res);
    req.client_message_id = "fresh-one";
    assert_int_equal(store_message_send(fx.s, &req, NOW - 29 * DAY_MS, &res), STORE_OK);
    memcpy(fresh, res.message.id, STORE_ID_SIZE);
    store_message_result_free(&res);
    assert_int_equal(store_queue_purge(fx.s, NOW, STORE_QUEUE_RETENTION_MS, &deleted), STORE_OK);
    assert_true(deleted >= 1); /* other tests' rows are all at NOW or later */
    assert_int_equal(count2(q_rows_of_message, old, NULL), 0);
    assert_int_equal(count2(q_rows_of_message, fresh, NULL), 1);
    assert_int_equal(store_queue_purge(fx.s, NOW, STORE_QUEUE_RETENTION_MS, &deleted), STORE_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(store_queue_purge(fx.s, NOW, -1, &deleted), STORE_INVALID);
}

/* ---------- the bound on queued ciphertext ---------- */

/* The kept count equals the SUM over the queue it stands for. */
static int64_t queued_exact(const struct account *a)
{
    int64_t kept = -1, truth = -2;
    assert_int_equal(store_queued_bytes(fx.s, a->user_id, &kept), STORE_OK);
    assert_int_equal(store_queued_bytes_recount(fx.s, a->user_id, &truth), STORE_OK);
    assert_int_equal(kept, truth);
    return kept;
}

static enum store_err send_capped(const char *conv, const struct account *from, const char *to,
                                  const char *cmid, int64_t max, int64_t now)
{
    struct envs v;
    struct store_message_result res;
    envs_for(&v, from->user_id, from->device_id, to);
    struct store_send req = {conv, from->user_id, from->device_id, cmid, v.e, v.n, max, NULL, 0, 0};
    enum store_err rc = store_message_send(fx.s, &req, now, &res);
    store_message_result_free(&res);
    return rc;
}

/* A mixed run: sends both ways, a refusal, edits, acks, a delete, a revocation and retention;
 * after each the kept count matches the queue. */
static void test_queued_bytes(void **state)
{
    struct account a, b;
    char a2[STORE_ID_SIZE], b2[STORE_ID_SIZE], conv[STORE_ID_SIZE], m[4][STORE_ID_SIZE];
    struct store_delivered *del;
    struct store_message_result res;
    struct envs v;
    size_t n;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&a, true, a2);
    add_device(&b, true, b2);
    open_conv(&a, &b, conv);
    assert_int_equal(queued_exact(&a), 0);
    for (int i = 0; i < 4; i++)
        send_ok(conv, a.user_id, a.device_id, b.user_id, m[i], NULL);
    send_ok(conv, b.user_id, b.device_id, a.user_id, NULL, NULL);
    int64_t per_send = 3 * (int64_t)strlen("ct:") + 3 * STORE_ID_LEN; /* b, b2 and a2 */
    assert_int_equal(queued_exact(&a), 4 * per_send);
    assert_int_equal(queued_exact(&b), per_send);
    /* One byte short of room: refused, nothing stored; with the room: accepted. */
    int64_t full = 5 * per_send;
    assert_int_equal(send_capped(conv, &a, b.user_id, "capped", full - 1, tick()), STORE_QUOTA);
    assert_int_equal(queued_exact(&a), 4 * per_send);
    assert_int_equal(
        count2("SELECT COUNT(*) FROM messages WHERE client_message_id = $1", "capped", NULL), 0);
    assert_int_equal(send_capped(conv, &a, b.user_id, "capped", full, tick()), STORE_OK);
    assert_int_equal(queued_exact(&a), full);
    /* Edits count and are bounded the same way. */
    envs_for(&v, a.user_id, a.device_id, b.user_id);
    assert_int_equal(
        store_message_edit(fx.s, a.user_id, a.device_id, m[0], v.e, v.n, full, tick(), &res),
        STORE_QUOTA);
    store_message_result_free(&res);
    assert_int_equal(
        store_message_edit(fx.s, a.user_id, a.device_id, m[0], v.e, v.n, 0, tick(), &res),
        STORE_OK);
    store_message_result_free(&res);
    assert_int_equal(queued_exact(&a), full + per_send);
    /* b's first device catches up on three messages: a gets room for one more send. */
    assert_int_equal(send_capped(conv, &a, b.user_id, "again", full + per_send, tick()),
                     STORE_QUOTA);
    assert_int_equal(store_queue_ack(fx.s, b.device_id, 3, tick(), &del, &n), STORE_OK);
    free(del);
    assert_int_equal(queued_exact(&a), full + per_send - 3 * (3 + STORE_ID_LEN));
    assert_int_equal(send_capped(conv, &a, b.user_id, "again", full + per_send, tick()), STORE_OK);
    /* a's own other device acks a's first four and b's message (seq 5): both counts drop. */
    assert_int_equal(store_queue_ack(fx.s, a2, 5, tick(), &del, &n), STORE_OK);
    free(del);
    assert_int_equal(queued_exact(&b), per_send - (3 + STORE_ID_LEN));
    /* Deleting a message drops its ciphertext everywhere (an ack already took one row's). */
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, m[1], tick(), &res),
                     STORE_OK);
    store_message_result_free(&res);
    queued_exact(&a);
    assert_int_equal(store_device_revoke(fx.s, b.user_id, b2, tick()), STORE_OK);
    queued_exact(&a);
    queued_exact(&b);
    /* Retention takes an old row's ciphertext with it. */
    assert_int_equal(send_capped(conv, &a, b.user_id, "ancient", 0, NOW - 40 * DAY_MS), STORE_OK);
    int64_t before = queued_exact(&a);
    assert_int_equal(store_queue_purge(fx.s, NOW, STORE_QUEUE_RETENTION_MS, NULL), STORE_OK);
    assert_int_equal(queued_exact(&a), before - 2 * (3 + STORE_ID_LEN)); /* b and a2 */
    queued_exact(&b);
}

/* In a group commit a refused send wrote nothing: the batch still commits the others. */
static void test_queued_bytes_batch(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE];
    (void)state;
    make_account(&a);
    make_account(&b);
    open_conv(&a, &b, conv);
    int64_t one = 3 + STORE_ID_LEN;
    assert_int_equal(store_begin_batch(fx.s), STORE_OK);
    assert_int_equal(send_capped(conv, &a, b.user_id, "b1", one, tick()), STORE_OK);
    assert_int_equal(send_capped(conv, &a, b.user_id, "b2", one, tick()), STORE_QUOTA);
    assert_int_equal(send_capped(conv, &b, a.user_id, "b3", one, tick()), STORE_OK);
    assert_int_equal(store_commit(fx.s), STORE_OK);
    assert_int_equal(queued_exact(&a), one);
    assert_int_equal(queued_exact(&b), one);
    assert_int_equal(count2("SELECT COUNT(*) FROM messages WHERE conversation_id = $1", conv, NULL),
                     2);
}

struct deleter {
    const struct account *a;
    char (*ids)[STORE_ID_SIZE];
    int n;
    pthread_barrier_t *start;
    enum store_err rc;
};

static void *deleter_run(void *arg)
{
    struct deleter *d = arg;
    struct store *s = NULL;
    struct store_message_result res;
    char err[256];
    d->rc = store_open(&fx.cfg, &s, err, sizeof err);
    pthread_barrier_wait(d->start);
    for (int i = 0; d->rc == STORE_OK && i < d->n; i++) {
        for (int tries = 0; tries < 50; tries++) {
            d->rc = store_message_delete(s, d->a->user_id, d->a->device_id, d->ids[i], NOW, &res);
            store_message_result_free(&res);
            if (d->rc != STORE_BUSY)
                break;
        }
    }
    store_close(s);
    return NULL;
}

/* Acks of one device racing each other, another device's ack and deletes of the same rows:
 * every byte is released once (PostgreSQL locks the rows it counts). */
static void test_queued_bytes_concurrent(void **state)
{
    struct account a, b;
    char b2[STORE_ID_SIZE], conv[STORE_ID_SIZE], ids[20][STORE_ID_SIZE];
    struct acker k[3];
    struct deleter d;
    pthread_t th[4];
    pthread_barrier_t start;
    (void)state;
    make_account(&a);
    make_account(&b);
    add_device(&b, true, b2);
    open_conv(&a, &b, conv);
    for (int i = 0; i < 20; i++)
        send_ok(conv, a.user_id, a.device_id, b.user_id, ids[i], NULL);
    assert_int_equal(queued_exact(&a), 20 * 2 * (3 + STORE_ID_LEN));
    pthread_barrier_init(&start, NULL, 4);
    k[0] = (struct acker){.device_id = b.device_id, .seq = 20, .start = &start};
    k[1] = (struct acker){.device_id = b.device_id, .seq = 15, .start = &start};
    k[2] = (struct acker){.device_id = b2, .seq = 12, .start = &start};
    d = (struct deleter){.a = &a, .ids = ids + 5, .n = 10, .start = &start};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, acker_run, &k[i]), 0);
    assert_int_equal(pthread_create(&th[3], NULL, deleter_run, &d), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 3; i++)
        assert_int_equal(k[i].rc, STORE_OK);
    assert_int_equal(d.rc, STORE_OK);
    /* Left: b2's rows 13..20 not deleted (16..20), b's none. */
    assert_int_equal(queued_exact(&a), 5 * (3 + STORE_ID_LEN));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_create),
        cmocka_unit_test(test_direct_concurrent),
        cmocka_unit_test(test_send_fanout),
        cmocka_unit_test(test_send_mismatch),
        cmocka_unit_test(test_send_idempotent),
        cmocka_unit_test(test_send_idempotent_concurrent),
        cmocka_unit_test(test_third_user),
        cmocka_unit_test(test_blocked),
        cmocka_unit_test(test_concurrent_seq),
        cmocka_unit_test(test_queue_ack),
        cmocka_unit_test(test_delivered_once_concurrent),
        cmocka_unit_test(test_edit_delete),
        cmocka_unit_test(test_history_paging),
        cmocka_unit_test(test_read_cursor),
        cmocka_unit_test(test_list_and_leave),
        cmocka_unit_test(test_contacts),
        cmocka_unit_test(test_partners),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_revoke_drops_queue),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_queued_bytes),
        cmocka_unit_test(test_queued_bytes_batch),
        cmocka_unit_test(test_queued_bytes_concurrent),
    };
    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.messaging.pg" : "store.messaging.sqlite",
                                       tests, group_setup, group_teardown);
}
