/* contract_attachments.c: the store's attachment contract (attachments.h, and the links that
 * sending and deleting messages make, messages.h), run unchanged against every backend.
 *
 *   store_attachments sqlite   a fresh SQLite file in a temp directory
 *   store_attachments pg       PostgreSQL at $SOTTO_TEST_PG_URL, in a fresh schema dropped at
 *                              the end; fails (never skips) when the variable is unset
 *
 * Every test makes its own users and conversation. */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fixture.h"
#include "store/attachments.h"
#include "store/blocks.h"
#include "store/conversations.h"
#include "store/devices.h"
#include "store/messages.h"
#include "store/store.h"
#include "store/users.h"
#include "store_internal.h" /* raw SQL for checks the API does not expose */

#define NOW 1764000000000LL
#define DAY (24LL * 3600 * 1000)
#define LEN 1000

static struct store_fixture fx;
static int64_t clock_ms;

static int64_t tick(void) { return NOW + (clock_ms += 1000); }

struct account {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
};

static void make_account(struct account *a)
{
    char name[32], email[64], id[STORE_ID_SIZE];
    struct store_bundle b;

    store_uuid_v4(id);
    snprintf(name, sizeof name, "a%.8s%.4s", id, id + 9);
    snprintf(email, sizeof email, "%s@example.com", name);
    assert_int_equal(getrandom(&b, sizeof b, 0), (ssize_t)sizeof b);
    struct store_new_user u = {email, name, "$argon2id$hash", "Someone", NULL};
    struct store_new_device d = {"laptop", "web", NULL, NULL, &b};
    assert_int_equal(store_user_register(fx.s, &u, &d, NULL, 0, 200, NOW, a->user_id, a->device_id),
                     STORE_OK);
}

/* a and b with their conversation in conv. */
static void make_pair(struct account *a, struct account *b, char conv[STORE_ID_SIZE])
{
    struct store_conversation c;
    bool created;

    make_account(a);
    make_account(b);
    assert_int_equal(store_conversation_direct(fx.s, a->user_id, b->user_id, NOW, &c, &created),
                     STORE_OK);
    snprintf(conv, STORE_ID_SIZE, "%s", c.id);
    store_conversation_free(&c);
}

/* An upload of owner's, LEN bytes, complete when asked; its id into id. */
static void upload(const struct account *owner, bool complete, char id[STORE_ID_SIZE])
{
    struct store_attachment a = {.length = LEN, .created_at = tick()};

    store_uuid_v4(a.id);
    memcpy(a.owner_id, owner->user_id, STORE_ID_SIZE);
    a.expires_at = a.created_at + DAY;
    assert_int_equal(store_attachment_create(fx.s, &a, 0), STORE_OK);
    assert_int_equal(
        store_attachment_advance(fx.s, a.id, a.owner_id, 0, complete ? LEN : LEN / 2, tick()),
        STORE_OK);
    memcpy(id, a.id, STORE_ID_SIZE);
}

/* from sends to `to` in conv (one device each) with the attachments ids[0..n), expiring at
 * expires_at; the result in res (the caller frees it). */
static enum store_err send_with(const struct account *from, const struct account *to,
                                const char *conv, const char (*ids)[STORE_ID_SIZE], size_t n,
                                int64_t expires_at, struct store_message_result *res)
{
    char cmid[STORE_ID_SIZE];
    static const uint8_t ct[] = "ciphertext";
    struct store_envelope e = {to->device_id, STORE_ENVELOPE_MESSAGE, ct, sizeof ct};

    store_uuid_v4(cmid);
    struct store_send req = {conv, from->user_id, from->device_id, cmid, &e, 1, 0, ids,
                             n,    expires_at};
    return store_message_send(fx.s, &req, tick(), res);
}

static int64_t messages_in(const char *conv)
{
    struct db_param p[] = {db_text(conv)};
    struct db_rows *r;
    int64_t n = -1;

    assert_int_equal(fx.s->drv->query(fx.s->db,
                                      "SELECT COUNT(*) FROM messages "
                                      "WHERE conversation_id = $1",
                                      p, 1, &r),
                     DB_OK);
    if (fx.s->drv->next(r) == 1)
        n = fx.s->drv->get_int(r, 0);
    fx.s->drv->done(r);
    return n;
}

static bool readable(const char *id, const struct account *who, int64_t now)
{
    struct store_attachment row;
    enum store_err rc = store_attachment_readable(fx.s, id, who->user_id, now, &row);

    assert_true(rc == STORE_OK || rc == STORE_NOT_FOUND);
    return rc == STORE_OK;
}

static int group_setup(void **state)
{
    (void)state;
    return fixture_open(&fx, "store attachments", "att");
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_close(&fx);
    return 0;
}

/* get is the owner's view and ends at expiry; find is anyone's (the reconciliation's). */
static void test_get_find(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], id[STORE_ID_SIZE];
    struct store_attachment row;
    int64_t used = 0;

    (void)state;
    make_pair(&a, &b, conv);
    upload(&a, false, id);
    assert_int_equal(store_attachment_get(fx.s, id, a.user_id, tick(), &row), STORE_OK);
    assert_string_equal(row.id, id);
    assert_string_equal(row.owner_id, a.user_id);
    assert_int_equal(row.length, LEN);
    assert_int_equal(row.offset, LEN / 2);
    assert_int_equal(row.completed_at, 0);
    assert_string_equal(row.message_id, "");
    assert_int_equal(store_attachment_get(fx.s, id, b.user_id, tick(), &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_get(fx.s, id, a.user_id, NOW + 2 * DAY, &row),
                     STORE_NOT_FOUND);
    assert_int_equal(store_attachment_find(fx.s, id, &row), STORE_OK);
    assert_string_equal(row.owner_id, a.user_id);
    store_uuid_v4(id);
    assert_int_equal(store_attachment_find(fx.s, id, &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_used(fx.s, a.user_id, &used), STORE_OK);
    assert_int_equal(used, LEN);
}

/* Sending links: the participants may read it, an outsider may not, nor anyone across a block
 * (either way), while the uploader always may. */
static void test_send_links(void **state)
{
    struct account a, b, c;
    char conv[STORE_ID_SIZE], ids[2][STORE_ID_SIZE];
    struct store_message_result res;
    struct store_attachment row;
    int64_t until = NOW + 30 * DAY;

    (void)state;
    make_pair(&a, &b, conv);
    make_account(&c);
    upload(&a, true, ids[0]);
    upload(&a, true, ids[1]);
    assert_false(readable(ids[0], &b, tick()));
    assert_true(readable(ids[0], &a, tick()));
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])ids, 2, until, &res),
                     STORE_OK);
    assert_int_equal(store_attachment_find(fx.s, ids[1], &row), STORE_OK);
    assert_string_equal(row.message_id, res.message.id);
    assert_int_equal(row.expires_at, until); /* the queue's retention from now on */
    store_message_result_free(&res);
    assert_true(readable(ids[0], &a, tick()));
    assert_true(readable(ids[0], &b, tick()));
    assert_true(readable(ids[1], &b, tick()));
    assert_false(readable(ids[0], &c, tick()));
    assert_false(readable(ids[0], &b, until));

    assert_int_equal(store_block_add(fx.s, b.user_id, a.user_id, tick()), STORE_OK);
    assert_false(readable(ids[0], &b, tick()));
    assert_true(readable(ids[0], &a, tick()));
    assert_int_equal(store_block_remove(fx.s, b.user_id, a.user_id), STORE_OK);
    assert_int_equal(store_block_add(fx.s, a.user_id, b.user_id, tick()), STORE_OK);
    assert_false(readable(ids[0], &b, tick()));
    assert_int_equal(store_block_remove(fx.s, a.user_id, b.user_id), STORE_OK);
    assert_true(readable(ids[0], &b, tick()));

    /* Sent: it goes with its message, not by itself. */
    assert_int_equal(store_attachment_delete(fx.s, ids[0], a.user_id), STORE_CONFLICT);
    assert_int_equal(store_attachment_delete(fx.s, ids[0], b.user_id), STORE_NOT_FOUND);
}

/* Each id must be the sender's finished, unsent, live upload, named once; otherwise the
 * send is refused whole: no message, nothing linked. */
static void test_send_refused(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], mine[STORE_ID_SIZE], half[STORE_ID_SIZE], theirs[STORE_ID_SIZE];
    char unknown[STORE_ID_SIZE], sent[STORE_ID_SIZE],
        many[STORE_ATTACHMENTS_PER_MESSAGE + 1][STORE_ID_SIZE];
    char pair[2][STORE_ID_SIZE];
    struct store_message_result res;
    struct store_attachment row;
    int64_t before;

    (void)state;
    make_pair(&a, &b, conv);
    upload(&a, true, mine);
    upload(&a, false, half);
    upload(&b, true, theirs);
    upload(&a, true, sent);
    store_uuid_v4(unknown);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])sent, 1, 0, &res),
                     STORE_OK);
    store_message_result_free(&res);
    before = messages_in(conv);

    const char *bad[] = {half, theirs, unknown, sent};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(pair[0], mine, STORE_ID_SIZE);
        memcpy(pair[1], bad[i], STORE_ID_SIZE);
        assert_int_equal(
            send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])pair, 2, NOW + DAY, &res),
            STORE_INVALID);
        assert_true(res.attachments_refused);
        store_message_result_free(&res);
    }
    memcpy(pair[1], mine, STORE_ID_SIZE); /* named twice */
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])pair, 2, 0, &res),
                     STORE_INVALID);
    assert_true(res.attachments_refused);
    store_message_result_free(&res);
    for (size_t i = 0; i <= STORE_ATTACHMENTS_PER_MESSAGE; i++)
        memcpy(many[i], mine, STORE_ID_SIZE);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])many,
                               STORE_ATTACHMENTS_PER_MESSAGE + 1, 0, &res),
                     STORE_INVALID);
    store_message_result_free(&res);
    /* An expired upload (past its day) cannot be sent either. */
    clock_ms += 2 * DAY;
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])mine, 1, 0, &res),
                     STORE_INVALID);
    store_message_result_free(&res);
    clock_ms -= 2 * DAY;

    assert_int_equal(messages_in(conv), before);
    assert_int_equal(store_attachment_find(fx.s, mine, &row), STORE_OK);
    assert_string_equal(row.message_id, "");
    assert_false(readable(mine, &b, tick()));
    /* And a send refused for another reason links nothing either. */
    assert_int_equal(store_block_add(fx.s, b.user_id, a.user_id, tick()), STORE_OK);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])mine, 1, 0, &res),
                     STORE_FORBIDDEN);
    assert_false(res.attachments_refused);
    store_message_result_free(&res);
    assert_int_equal(store_attachment_find(fx.s, mine, &row), STORE_OK);
    assert_string_equal(row.message_id, "");
    assert_int_equal(store_block_remove(fx.s, b.user_id, a.user_id), STORE_OK);
}

/* Deleting the message deletes its attachments' rows and names them for their blobs. */
static void test_delete_with_message(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], ids[2][STORE_ID_SIZE], other[STORE_ID_SIZE], msg[STORE_ID_SIZE];
    struct store_message_result res;
    struct store_attachment row;

    (void)state;
    make_pair(&a, &b, conv);
    upload(&a, true, ids[0]);
    upload(&a, true, ids[1]);
    upload(&a, true, other);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])ids, 2, 0, &res),
                     STORE_OK);
    memcpy(msg, res.message.id, STORE_ID_SIZE);
    store_message_result_free(&res);
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, msg, tick(), &res),
                     STORE_OK);
    assert_int_equal(res.n_attachments, 2);
    assert_true((!strcmp(res.attachments[0], ids[0]) && !strcmp(res.attachments[1], ids[1])) ||
                (!strcmp(res.attachments[0], ids[1]) && !strcmp(res.attachments[1], ids[0])));
    store_message_result_free(&res);
    assert_int_equal(store_attachment_find(fx.s, ids[0], &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_find(fx.s, ids[1], &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_find(fx.s, other, &row), STORE_OK);
    /* Deleted twice: nothing more to remove. */
    assert_int_equal(store_message_delete(fx.s, a.user_id, a.device_id, msg, tick(), &res),
                     STORE_OK);
    assert_int_equal(res.n_attachments, 0);
    store_message_result_free(&res);
}

/* Sent attachments expire with the retention their send gave them, through the sweep. */
static void test_expire_after_retention(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], id[STORE_ID_SIZE], ids[256][STORE_ID_SIZE];
    struct store_message_result res;
    struct store_attachment row;
    int64_t until = NOW + 40 * DAY;
    size_t n = 0;
    bool listed = false;

    (void)state;
    make_pair(&a, &b, conv);
    upload(&a, true, id);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])id, 1, until, &res),
                     STORE_OK);
    store_message_result_free(&res);
    assert_int_equal(store_attachments_expired(fx.s, until - 1, 256, ids, &n), STORE_OK);
    for (size_t i = 0; i < n; i++)
        listed |= !strcmp(ids[i], id);
    assert_false(listed);
    assert_int_equal(store_attachment_expire(fx.s, id, until - 1), STORE_NOT_FOUND);
    assert_int_equal(store_attachments_expired(fx.s, until, 256, ids, &n), STORE_OK);
    for (size_t i = 0; i < n; i++)
        listed |= !strcmp(ids[i], id);
    assert_true(listed);
    assert_int_equal(store_attachment_expire(fx.s, id, until), STORE_OK);
    assert_int_equal(store_attachment_find(fx.s, id, &row), STORE_NOT_FOUND);
}

/* An account's uploads, sent or not, are named before the account goes, and go with it. */
static void test_of_owner_and_account(void **state)
{
    struct account a, b;
    char conv[STORE_ID_SIZE], ids[2][STORE_ID_SIZE], theirs[STORE_ID_SIZE];
    char(*got)[STORE_ID_SIZE] = NULL;
    struct store_message_result res;
    struct store_attachment row;
    size_t n = 0;

    (void)state;
    make_pair(&a, &b, conv);
    upload(&a, true, ids[0]);
    upload(&a, false, ids[1]);
    upload(&b, true, theirs);
    assert_int_equal(send_with(&a, &b, conv, (const char(*)[STORE_ID_SIZE])ids, 1, 0, &res),
                     STORE_OK);
    store_message_result_free(&res);
    assert_int_equal(store_attachments_of_owner(fx.s, a.user_id, &got, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_true(!strcmp(got[0], ids[0]) || !strcmp(got[1], ids[0]));
    assert_true(!strcmp(got[0], ids[1]) || !strcmp(got[1], ids[1]));
    free(got);
    assert_int_equal(store_user_delete(fx.s, a.user_id), STORE_OK);
    assert_int_equal(store_attachment_find(fx.s, ids[0], &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_find(fx.s, ids[1], &row), STORE_NOT_FOUND);
    assert_int_equal(store_attachment_find(fx.s, theirs, &row), STORE_OK);
    assert_int_equal(store_attachments_of_owner(fx.s, a.user_id, &got, &n), STORE_OK);
    assert_int_equal(n, 0);
    free(got);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_find),
        cmocka_unit_test(test_send_links),
        cmocka_unit_test(test_send_refused),
        cmocka_unit_test(test_delete_with_message),
        cmocka_unit_test(test_expire_after_retention),
        cmocka_unit_test(test_of_owner_and_account),
    };

    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pg"))) {
        fprintf(stderr, "usage: %s sqlite|pg\n", argv[0]);
        return 2;
    }
    fx.pg = !strcmp(argv[1], "pg");
    return cmocka_run_group_tests_name(fx.pg ? "store.attachments.pg" : "store.attachments.sqlite",
                                       tests, group_setup, group_teardown);
}
