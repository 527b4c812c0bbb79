/* test_protocol.c: two (and three) in-process clients talk through the protocol glue with
 * no server: the test plays the server by handing over bundles and envelopes. Covers every
 * save-before-acting crash point, duplicates, a tampered envelope and device-list amends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attlist.h"
#include "crash.h"
#include "helpers.h"
#include "profile.h"
#include "protocol.h"
#include "util.h"

#define CONV "0190a000-0000-7000-8000-00000000c0de"

typedef struct client {
    char dir[600];
    ls_store *st;
    pr_ctx pr;
} client;

typedef struct world {
    char *root;
    client alice, alice2, bob;
} world;

static const char *crash_at;
static int crash_hook(const char *point)
{
    return crash_at != NULL && strcmp(point, crash_at) == 0;
}

static void client_make(world *w, client *c, const char *name, const char *user, const char *dev)
{
    snprintf(c->dir, sizeof c->dir, "%s/%s", w->root, name);
    assert_int_equal(profile_open(c->dir, 1, &c->st), 0);
    assert_int_equal(pr_account_create(&c->pr, c->st, 5), 0);
    assert_int_equal(ls_kv_put_str(c->st, "user_id", user), 0);
    assert_int_equal(ls_kv_put_str(c->st, "device_id", dev), 0);
    pr_ctx_free(&c->pr);
    assert_int_equal(pr_ctx_load(&c->pr, c->st), 0);
}

/* Closes and reopens a client, as a restarted process would. */
static void client_restart(client *c)
{
    pr_ctx_free(&c->pr);
    ls_close(c->st);
    assert_int_equal(profile_open(c->dir, 0, &c->st), 0);
    assert_int_equal(pr_ctx_load(&c->pr, c->st), 0);
}

static void client_free(client *c)
{
    pr_ctx_free(&c->pr);
    ls_close(c->st);
}

/* The signing key the server's listing gives for c's device (rotating static buffers, so a
 * few can sit in one initializer). */
static const uint8_t *sk_of(client *c)
{
    static uint8_t keys[4][32];
    static unsigned next;
    sotto_bundle b;
    uint8_t *k = keys[next++ % 4];

    sotto_account_bundle(c->pr.acct, &b);
    memcpy(k, b.signing_key, 32);
    return k;
}

/* What POST /keys/claim would hand out for c: its bundle with a fresh one-time key. */
static void claim(client *c, pr_target *t)
{
    sotto_prekey otk;

    memset(t, 0, sizeof *t);
    str_copy(t->user_id, sizeof t->user_id, c->pr.user_id);
    str_copy(t->device_id, sizeof t->device_id, c->pr.device_id);
    assert_int_equal(sotto_account_generate_one_time_keys(c->pr.acct, 1, &otk), 0);
    assert_int_equal(ls_account_save(c->st, c->pr.acct), 0);
    sotto_account_bundle(c->pr.acct, &t->bundle);
    t->bundle.has_one_time_pre_key = 1;
    t->bundle.one_time_pre_key = otk;
    t->has_bundle = 1;
    t->has_listed = 1;
    memcpy(t->listed_signing_key, t->bundle.signing_key, 32);
}

static void target_known(client *c, pr_target *t)
{
    memset(t, 0, sizeof *t);
    str_copy(t->user_id, sizeof t->user_id, c->pr.user_id);
    str_copy(t->device_id, sizeof t->device_id, c->pr.device_id);
    t->has_listed = 1;
    memcpy(t->listed_signing_key, sk_of(c), 32);
}

/* The envelope for device `dev` in an outbox row, as a pr_incoming. */
static char *outbox_envelope(client *from, const char *client_id, const char *dev)
{
    char *conv, *json, *ct = NULL;
    json_t *arr;
    size_t i;
    json_t *e;

    assert_int_equal(ls_outbox_get(from->st, client_id, &conv, &json), 0);
    arr = json_loads(json, 0, NULL);
    json_array_foreach(arr, i, e)
        if (strcmp(json_string_value(json_object_get(e, "deviceId")), dev) == 0)
            ct = strdup(json_string_value(json_object_get(e, "ciphertext")));
    json_decref(arr);
    free(conv);
    free(json);
    return ct;
}

static int deliver(client *from, client *to, const char *client_id, const char *server_id,
                   const char *peer, ls_message *out)
{
    char *ct = outbox_envelope(from, client_id, to->pr.device_id);
    pr_incoming in = {server_id, CONV, from->pr.user_id, from->pr.device_id, ct, sk_of(from)};
    int rc;

    assert_non_null(ct);
    rc = pr_receive(&to->pr, &in, peer, out);
    free(ct);
    return rc;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);

    assert_int_equal(sotto_init(), 0);
    w->root = tmp_dir();
    client_make(w, &w->alice, "alice", "aaaaaaaa-0000-4000-8000-000000000001",
                "aaaaaaaa-0000-4000-8000-0000000000d1");
    client_make(w, &w->alice2, "alice2", "aaaaaaaa-0000-4000-8000-000000000001",
                "aaaaaaaa-0000-4000-8000-0000000000d2");
    client_make(w, &w->bob, "bob", "bbbbbbbb-0000-4000-8000-000000000002",
                "bbbbbbbb-0000-4000-8000-0000000000d1");
    crash_set_hook(crash_hook);
    crash_at = NULL;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    client_free(&w->alice);
    client_free(&w->alice2);
    client_free(&w->bob);
    rm_tree(w->root);
    free(w->root);
    free(w);
    crash_set_hook(NULL);
    return 0;
}

static const char *BOB = "bbbbbbbb-0000-4000-8000-000000000002";
static const char *ALICE = "aaaaaaaa-0000-4000-8000-000000000001";

/* Alice sends to Bob and her other device; both read it; Bob answers; duplicates are acked
 * without being shown twice. */
static void test_conversation(void **state)
{
    world *w = *state;
    pr_target t[2];
    char id[40];
    ls_message m;

    claim(&w->bob, &t[0]);
    claim(&w->alice2, &t[1]);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "hello bob", t, 2, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "hello bob");
    assert_int_equal(m.outgoing, 0);
    ls_message_clear(&m);
    assert_int_equal(deliver(&w->alice, &w->alice2, id, "s1", BOB, &m), PR_STORED);
    assert_string_equal(m.body, "hello bob");
    assert_int_equal(m.outgoing, 1); /* a copy of her own message */
    ls_message_clear(&m);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), PR_DUPLICATE);
    assert_int_equal(pr_send_done(&w->alice.pr, id, "s1"), 0);

    /* Bob answers over the session Alice started (no claim needed). */
    target_known(&w->alice, &t[0]);
    assert_int_equal(pr_has_session(&w->bob.pr, ALICE, w->alice.pr.device_id), 1);
    assert_int_equal(pr_send_prepare(&w->bob.pr, CONV, ALICE, "hi alice", t, 1, id), 0);
    assert_int_equal(deliver(&w->bob, &w->alice, id, "s2", BOB, &m), PR_STORED);
    assert_string_equal(m.body, "hi alice");
    ls_message_clear(&m);

    /* Restarted clients continue their sessions. */
    client_restart(&w->alice);
    client_restart(&w->bob);
    target_known(&w->bob, &t[0]);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "after restart", t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s3", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "after restart");
    ls_message_clear(&m);
}

/* Crash after encrypt+commit, before send: the stored envelope is what gets sent later. */
static void test_crash_after_encrypt(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40], *conv, *json;
    ls_message m;

    claim(&w->bob, &t);
    crash_at = "send-after-commit";
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "survives", &t, 1, id), -1);
    crash_at = NULL;
    client_restart(&w->alice);
    assert_int_equal(ls_outbox_get(w->alice.st, id, &conv, &json), 0);
    free(conv);
    free(json);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "survives");
    ls_message_clear(&m);
    /* The next message uses the next key: Bob decrypts it too. */
    target_known(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "next", &t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s2", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "next");
    ls_message_clear(&m);
}

/* Crash before the commit: nothing was stored or sent; the state on disk is the old one. */
static void test_crash_before_encrypt_commit(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40], *conv, *json;
    ls_message m;

    claim(&w->bob, &t);
    crash_at = "send-before-commit";
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "lost", &t, 1, id), -1);
    crash_at = NULL;
    client_restart(&w->alice);
    assert_int_equal(ls_outbox_get(w->alice.st, id, &conv, &json), 1);
    assert_int_equal(ls_message_get(w->alice.st, id, &m), 1);
    assert_int_equal(pr_has_session(&w->alice.pr, BOB, w->bob.pr.device_id), 0);
}

/* Crash between decrypt and commit: redelivery decrypts; after commit, before ack: shown once. */
static void test_crash_receive(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40];
    ls_message m;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "once", &t, 1, id), 0);
    crash_at = "receive-before-commit";
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), -1);
    crash_at = NULL;
    client_restart(&w->bob);
    assert_int_equal(ls_message_get(w->bob.st, "s1", &m), 1);
    crash_at = "receive-after-commit";
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), -1);
    crash_at = NULL;
    client_restart(&w->bob);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), PR_DUPLICATE);
    assert_int_equal(ls_message_get(w->bob.st, "s1", &m), 0);
    assert_string_equal(m.body, "once");
    ls_message_clear(&m);
}

/* A flipped byte is refused and stored only as "refused"; the session goes on. */
static void test_tampered(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40], *ct;
    uint8_t *raw;
    size_t len;
    ls_message m;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "first", &t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), PR_STORED);
    target_known(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "secret", &t, 1, id), 0);
    ct = outbox_envelope(&w->alice, id, w->bob.pr.device_id);
    assert_int_equal(b64_decode(ct, &raw, &len), 0);
    raw[len - 20] ^= 1;
    free(ct);
    ct = b64_encode(raw, len);
    free(raw);
    pr_incoming in = {"s2", CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    pr_info info;
    assert_int_equal(pr_receive_ex(&w->bob.pr, &in, ALICE, NULL, &info), PR_REFUSED);
    assert_true(info.retry); /* it did not decrypt: the caller asks for a resend */
    free(ct);
    assert_int_equal(ls_message_get(w->bob.st, "s2", &m), 0);
    assert_null(m.body);
    assert_int_equal(m.status, LS_MSG_UNREADABLE);
    ls_message_clear(&m);
    /* The genuine envelope is still decryptable later (state unchanged by the refusal). */
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s3", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "secret");
    ls_message_clear(&m);
}

/* device_list_mismatch: drop a removed device's envelope, add one for a new device. */
static void test_amend(void **state)
{
    world *w = *state;
    pr_target t, add;
    char id[40], *ct;
    ls_message m;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "amended", &t, 1, id), 0);
    claim(&w->alice2, &add);
    const char *extra[] = {w->bob.pr.device_id};
    assert_int_equal(pr_outbox_amend(&w->alice.pr, id, extra, 1, &add, 1), 0);
    ct = outbox_envelope(&w->alice, id, w->bob.pr.device_id);
    assert_null(ct);
    assert_int_equal(deliver(&w->alice, &w->alice2, id, "s1", BOB, &m), PR_STORED);
    assert_string_equal(m.body, "amended");
    ls_message_clear(&m);
    assert_int_equal(pr_send_done(&w->alice.pr, id, "s1"), 0);
    assert_int_equal(ls_message_get(w->alice.st, id, &m), 0);
    assert_int_equal(m.status, LS_MSG_SENT);
    assert_string_equal(m.server_id, "s1");
    ls_message_clear(&m);
}

/* A pointer as send-file makes it (tag 17), named after `name`. */
static void pointer_make(sotto_attachment_pointer *a, const char *name)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 16; i++)
        a->id[i] = (uint8_t)(0x40 + i);
    a->id[6] = 0x40; /* a version-4 UUID, as the server's */
    a->id[8] = 0x80;
    memset(a->key, 0x11, sizeof a->key);
    memset(a->digest, 0x22, sizeof a->digest);
    a->size = 123456;
    a->name = name;
    a->name_len = strlen(name);
    a->type = "application/pdf";
    a->type_len = strlen(a->type);
}

static void assert_files(client *c, const char *msg_id, const char *name)
{
    att_list l;

    assert_int_equal(att_load(c->st, msg_id, &l), 0);
    assert_int_equal(l.p.n_attachments, 1);
    assert_int_equal(l.p.attachments[0].size, 123456);
    assert_memory_equal(l.p.attachments[0].name, name, strlen(name));
    assert_int_equal(l.p.attachments[0].name_len, strlen(name));
    assert_int_equal(l.p.attachments[0].key[0], 0x11);
    att_list_clear(&l);
}

/* Files ride with a message (empty caption): the sender keeps the pointer with the message,
 * an amend for a new device carries it, every receiver stores it; a deleted message drops it;
 * a pointer the format refuses is not sent at all. */
static void test_files(void **state)
{
    world *w = *state;
    sotto_attachment_pointer a;
    pr_target t, add;
    char id[40];
    att_list l;
    ls_message m;

    pointer_make(&a, "report.pdf");
    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare_files(&w->alice.pr, CONV, BOB, "", &a, 1, &t, 1, id), 0);
    assert_files(&w->alice, id, "report.pdf");
    claim(&w->alice2, &add);
    assert_int_equal(pr_outbox_amend(&w->alice.pr, id, NULL, 0, &add, 1), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "");
    ls_message_clear(&m);
    assert_files(&w->bob, "s1", "report.pdf");
    assert_int_equal(deliver(&w->alice, &w->alice2, id, "s1", BOB, &m), PR_STORED);
    ls_message_clear(&m);
    assert_files(&w->alice2, "s1", "report.pdf");

    /* A plain message has none. */
    target_known(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "no files", &t, 1, id), 0);
    assert_int_equal(att_load(w->alice.st, id, &l), 1);

    /* Refused by the format: nothing committed, nothing in the outbox. */
    pointer_make(&a, "../etc/passwd");
    assert_int_not_equal(pr_send_prepare_files(&w->alice.pr, CONV, BOB, "", &a, 1, &t, 1, id), 0);
    assert_int_equal(att_forget(w->bob.st, "s1"), 0);
    assert_int_equal(att_load(w->bob.st, "s1", &l), 1);
}

/* No plaintext in any profile file, as text, base64 or hex. */
static void test_no_plaintext(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40];
    const char *marker = "PLAINTEXT-MARKER-4e1d";

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, marker, &t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, "s1", ALICE, NULL), PR_STORED);
    assert_false(dir_leaks(w->alice.dir, marker));
    assert_false(dir_leaks(w->bob.dir, marker));
    client_restart(&w->alice);
    client_restart(&w->bob);
    assert_false(dir_leaks(w->alice.dir, marker));
    assert_false(dir_leaks(w->bob.dir, marker));
}

/* The envelope for device `dev` in a JSON array of envelopes (an edit's PATCH body). */
static char *array_envelope(json_t *arr, const char *dev)
{
    json_t *e;
    size_t i;

    json_array_foreach(arr, i, e)
        if (strcmp(json_string_value(json_object_get(e, "deviceId")), dev) == 0)
            return strdup(json_string_value(json_object_get(e, "ciphertext")));
    return NULL;
}

#define S1 "5e5e5e5e-0000-4000-8000-000000000001"
#define S2 "5e5e5e5e-0000-4000-8000-000000000002"
#define S3 "5e5e5e5e-0000-4000-8000-000000000003"
#define S4 "5e5e5e5e-0000-4000-8000-000000000004"
#define S5 "5e5e5e5e-0000-4000-8000-000000000005"

/* A control payload (DELETE, RETRY; RESEND with the body set by the caller) naming target. */
static void ctl_payload(sotto_payload *p, uint8_t type, const char *target)
{
    memset(p, 0, sizeof *p);
    p->content_type = type;
    p->sent_at_ms = 1234;
    p->has_edit_of = 1;
    memset(p->client_message_id, 7, 16);
    assert_int_equal(uuid_parse(CONV, p->conversation_id), 0);
    assert_int_equal(uuid_parse(target, p->edit_of), 0);
}

/* Edits apply on every device once, only as an edit of the very message the server names;
 * a delete wipes the text. */
static void test_edit_delete(void **state)
{
    world *w = *state;
    pr_target t[2];
    char id[40], bid[40], sid[40], *ct;
    json_t *env = NULL;
    ls_message m;

    claim(&w->bob, &t[0]);
    claim(&w->alice2, &t[1]);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "original text", t, 2, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, S1, ALICE, NULL), PR_STORED);
    assert_int_equal(deliver(&w->alice, &w->alice2, id, S1, BOB, NULL), PR_STORED);
    /* Not editable before the server accepted it (no server id yet). */
    assert_int_equal(pr_edit_prepare(&w->alice.pr, id, "x", t, 2, &env, sid), 1);
    assert_int_equal(pr_send_done(&w->alice.pr, id, S1), 0);

    target_known(&w->bob, &t[0]);
    target_known(&w->alice2, &t[1]);
    assert_int_equal(pr_edit_prepare(&w->alice.pr, id, "edited text", t, 2, &env, sid), 0);
    assert_string_equal(sid, S1);
    assert_int_equal(ls_message_edit(w->alice.st, id, "edited text", 11, 42), 0);

    ct = array_envelope(env, w->bob.pr.device_id);
    pr_incoming in = {S1, CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive_edit(&w->bob.pr, &in, &m), PR_STORED);
    assert_string_equal(m.body, "edited text");
    assert_true(m.edited_at_ms > 0);
    ls_message_clear(&m);
    assert_int_equal(pr_receive_edit(&w->bob.pr, &in, NULL), PR_DUPLICATE); /* redelivered */
    free(ct);
    ct = array_envelope(env, w->alice2.pr.device_id);
    in.ciphertext_b64 = ct;
    assert_int_equal(pr_receive_edit(&w->alice2.pr, &in, NULL), PR_STORED); /* her own copy */
    assert_int_equal(ls_message_get(w->alice2.st, S1, &m), 0);
    assert_string_equal(m.body, "edited text");
    ls_message_clear(&m);
    free(ct);
    json_decref(env);

    /* Bob cannot edit Alice's message; and an edit of his own message that the server
     * presents as an edit of hers is refused, her text unchanged. */
    assert_int_equal(pr_edit_prepare(&w->bob.pr, S1, "hijack", t, 1, &env, sid), 1);
    target_known(&w->alice, &t[0]);
    assert_int_equal(pr_send_prepare(&w->bob.pr, CONV, ALICE, "bob's own", t, 1, bid), 0);
    assert_int_equal(deliver(&w->bob, &w->alice, bid, S2, BOB, NULL), PR_STORED);
    assert_int_equal(pr_send_done(&w->bob.pr, bid, S2), 0);
    assert_int_equal(pr_edit_prepare(&w->bob.pr, bid, "hijack", t, 1, &env, sid), 0);
    ct = array_envelope(env, w->alice.pr.device_id);
    pr_incoming forged = {S1, CONV, BOB, w->bob.pr.device_id, ct, sk_of(&w->bob)};
    assert_int_equal(pr_receive_edit(&w->alice.pr, &forged, NULL), PR_REFUSED);
    assert_int_equal(ls_message_get(w->alice.st, S1, &m), 0);
    assert_string_equal(m.body, "edited text");
    ls_message_clear(&m);
    free(ct);
    json_decref(env);

    /* The server's message:deleted changes nothing here (a notice at most). */
    assert_int_equal(pr_receive_delete(&w->bob.pr, S1, "0190a000-0000-7000-8000-00000000beef", 7),
                     PR_REFUSED);
    assert_int_equal(pr_receive_delete(&w->bob.pr, S1, CONV, 77), PR_STORED);
    assert_int_equal(ls_message_get(w->bob.st, S1, &m), 0);
    assert_string_equal(m.body, "edited text");
    assert_int_equal(m.deleted_at_ms, 0);
    ls_message_clear(&m);

    /* A DELETE payload from Bob naming Alice's message: refused, her text stays. */
    sotto_payload p;
    pr_info info;
    ctl_payload(&p, SOTTO_CONTENT_DELETE, S1);
    target_known(&w->alice, &t[0]);
    assert_int_equal(pr_control_prepare(&w->bob.pr, &p, t, 1, NULL, &env), 0);
    ct = array_envelope(env, w->alice.pr.device_id);
    pr_incoming bad = {S3, CONV, BOB, w->bob.pr.device_id, ct, sk_of(&w->bob)};
    assert_int_equal(pr_receive_ex(&w->alice.pr, &bad, BOB, NULL, &info), PR_CONTROL);
    assert_int_equal(info.content_type, SOTTO_CONTENT_DELETE);
    assert_int_equal(info.outcome, PR_CTL_REFUSED);
    assert_string_equal(info.target, S1);
    assert_int_equal(pr_receive_ex(&w->alice.pr, &bad, BOB, NULL, &info), PR_DUPLICATE);
    assert_int_equal(ls_message_get(w->alice.st, S1, &m), 0);
    assert_string_equal(m.body, "edited text");
    ls_message_clear(&m);
    free(ct);
    json_decref(env);

    /* Alice's own DELETE: the text is wiped (not in any file), the row says when; once. */
    target_known(&w->bob, &t[0]);
    assert_int_equal(pr_control_prepare(&w->alice.pr, &p, t, 1, NULL, &env), 0);
    ct = array_envelope(env, w->bob.pr.device_id);
    pr_incoming del = {S4, CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive_ex(&w->bob.pr, &del, ALICE, NULL, &info), PR_CONTROL);
    assert_int_equal(info.outcome, PR_CTL_APPLIED);
    assert_int_equal(pr_receive_ex(&w->bob.pr, &del, ALICE, NULL, &info), PR_DUPLICATE);
    assert_int_equal(pr_receive_delete(&w->bob.pr, S1, CONV, 78), PR_DUPLICATE);
    free(ct);
    json_decref(env);
    assert_int_equal(ls_message_get(w->bob.st, S1, &m), 0);
    assert_null(m.body);
    assert_true(m.deleted_at_ms != 0);
    ls_message_clear(&m);
    assert_int_equal(ls_message_edit(w->bob.st, S1, "back", 4, 99), 0); /* no effect */
    assert_int_equal(ls_message_get(w->bob.st, S1, &m), 0);
    assert_null(m.body);
    ls_message_clear(&m);
    assert_false(dir_leaks(w->bob.dir, "edited text"));
    assert_false(dir_leaks(w->bob.dir, "original text"));
}

/* A message Bob cannot decrypt: kept as undecryptable; his RETRY reaches Alice, whose device
 * sent it and resends it once on a fresh session; the RESEND fills Bob's row (only because he
 * asked, and only from that device); a second request is refused. */
static void test_retry_resend(void **state)
{
    world *w = *state;
    pr_target t, ta;
    pr_info info;
    sotto_payload p;
    json_t *env = NULL;
    char id[40], *ct;
    uint8_t *raw;
    size_t len;
    ls_message m;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "hello", &t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, S1, ALICE, NULL), PR_STORED);
    assert_int_equal(pr_send_done(&w->alice.pr, id, S1), 0);
    /* The next message's envelope is damaged in transit. */
    target_known(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "lost words", &t, 1, id), 0);
    ct = outbox_envelope(&w->alice, id, w->bob.pr.device_id);
    assert_int_equal(pr_send_done(&w->alice.pr, id, S2), 0);
    assert_int_equal(b64_decode(ct, &raw, &len), 0);
    raw[len - 20] ^= 1;
    free(ct);
    ct = b64_encode(raw, len);
    free(raw);
    pr_incoming in = {S2, CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive_ex(&w->bob.pr, &in, ALICE, NULL, &info), PR_REFUSED);
    assert_true(info.retry);
    free(ct);

    /* A RESEND Bob did not ask for changes nothing. */
    ctl_payload(&p, SOTTO_CONTENT_RESEND, S2);
    p.body = (const uint8_t *)"forged";
    p.body_len = 6;
    assert_int_equal(pr_control_prepare(&w->alice.pr, &p, &t, 1, NULL, &env), 0);
    ct = array_envelope(env, w->bob.pr.device_id);
    pr_incoming early = {S3, CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive_ex(&w->bob.pr, &early, ALICE, NULL, &info), PR_CONTROL);
    assert_int_equal(info.outcome, PR_CTL_IGNORED);
    assert_int_equal(ls_message_get(w->bob.st, S2, &m), 0);
    assert_null(m.body);
    assert_int_equal(m.status, LS_MSG_UNREADABLE);
    ls_message_clear(&m);
    free(ct);
    json_decref(env);

    /* Bob asks (the mark is committed with his records); Alice's device sent it. */
    target_known(&w->alice, &ta);
    ctl_payload(&p, SOTTO_CONTENT_RETRY, S2);
    assert_int_equal(pr_control_prepare(&w->bob.pr, &p, &ta, 1, "retry:" S2, &env), 0);
    ct = array_envelope(env, w->alice.pr.device_id);
    pr_incoming req = {S4, CONV, BOB, w->bob.pr.device_id, ct, sk_of(&w->bob)};
    assert_int_equal(pr_receive_ex(&w->alice.pr, &req, BOB, NULL, &info), PR_CONTROL);
    assert_int_equal(info.content_type, SOTTO_CONTENT_RETRY);
    assert_int_equal(info.outcome, PR_CTL_APPLIED);
    assert_string_equal(info.target, S2);
    free(ct);
    json_decref(env);
    assert_int_equal(pr_resend_source(&w->alice2.pr, S2, CONV, BOB, &m), 1); /* not hers */
    assert_int_equal(
        pr_resend_source(&w->alice.pr, S2, "0190a000-0000-7000-8000-00000000beef", BOB, &m), 1);
    assert_int_equal(pr_resend_source(&w->alice.pr, S2, CONV, BOB, &m), 0);
    assert_string_equal(m.body, "lost words");

    /* The resend, on a new session from a freshly claimed bundle. */
    ctl_payload(&p, SOTTO_CONTENT_RESEND, S2);
    p.body = (const uint8_t *)m.body;
    p.body_len = m.body_len;
    claim(&w->bob, &t);
    t.fresh = 1;
    assert_int_equal(pr_control_prepare(&w->alice.pr, &p, &t, 1, "resent:" S2, &env), 0);
    ls_message_clear(&m);
    assert_string_equal(json_string_value(json_object_get(json_array_get(env, 0), "type")),
                        "prekey");
    ct = array_envelope(env, w->bob.pr.device_id);
    pr_incoming back = {S5, CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive_ex(&w->bob.pr, &back, ALICE, &m, &info), PR_STORED);
    assert_int_equal(info.content_type, SOTTO_CONTENT_RESEND);
    assert_string_equal(m.id, S2);
    assert_string_equal(m.body, "lost words");
    assert_int_equal(m.status, LS_MSG_RECEIVED);
    ls_message_clear(&m);
    assert_int_equal(pr_receive_ex(&w->bob.pr, &back, ALICE, NULL, &info), PR_DUPLICATE);
    free(ct);
    json_decref(env);
    /* Once only. */
    assert_int_equal(pr_resend_source(&w->alice.pr, S2, CONV, BOB, &m), 3);
    assert_false(dir_leaks(w->bob.dir, "lost words"));
}

static int count_one(void *ctx, const ls_message *m)
{
    (void)m;
    ++*(size_t *)ctx;
    return 0;
}

/* A call signal from Alice's device, sealed with p (conversation conv). */
static char *call_envelope(world *w, const sotto_payload *p)
{
    pr_target t;
    json_t *env = NULL;
    char *ct;

    target_known(&w->bob, &t);
    assert_int_equal(pr_control_prepare(&w->alice.pr, p, &t, 1, NULL, &env), 0);
    ct = array_envelope(env, w->bob.pr.device_id);
    json_decref(env);
    return ct;
}

static void call_payload(sotto_payload *p, const char *conv, const char *sdp)
{
    memset(p, 0, sizeof *p);
    p->content_type = SOTTO_CONTENT_CALL;
    p->sent_at_ms = 1234;
    p->body = (const uint8_t *)sdp;
    p->body_len = strlen(sdp);
    p->has_call = 1;
    randombytes_buf(p->client_message_id, 16);
    assert_int_equal(uuid_parse(conv, p->conversation_id), 0);
    memset(p->call.call_id, 0xca, 16);
    p->call.call_type = SOTTO_CALL_VIDEO;
    p->call.signal = SOTTO_SIGNAL_OFFER;
}

/* pr_receive_call: the binding of an authentic call signal of the call's conversation; one of
 * another conversation or another kind is refused with the state kept (its key is spent); a
 * tampered one is refused with nothing changed; the session goes on either way, and no signal
 * is stored as a message. */
static void test_call_signal(void **state)
{
    world *w = *state;
    pr_target t;
    sotto_payload p;
    sotto_call_binding got;
    const char *why;
    char id[40], *ct;
    uint8_t *raw;
    size_t len;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "hello", &t, 1, id), 0);
    assert_int_equal(deliver(&w->alice, &w->bob, id, S1, ALICE, NULL), PR_STORED);
    uint8_t alice_sk[32]; /* sk_of's buffers rotate: keep hers */
    memcpy(alice_sk, sk_of(&w->alice), 32);
    pr_incoming in = {"", CONV, ALICE, w->alice.pr.device_id, NULL, alice_sk};

    call_payload(&p, CONV, "v=0 offer");
    in.ciphertext_b64 = ct = call_envelope(w, &p);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_STORED);
    assert_true(sotto_call_binding_same_call(&got, &p.call));
    assert_int_equal(got.signal, SOTTO_SIGNAL_OFFER);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_REFUSED); /* a replay */
    free(ct);

    call_payload(&p, "0190a000-0000-7000-8000-0000000000ff", "v=0 elsewhere");
    in.ciphertext_b64 = ct = call_envelope(w, &p);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_REFUSED);
    assert_non_null(strstr(why, "conversation"));
    free(ct);

    ctl_payload(&p, SOTTO_CONTENT_DELETE, S1); /* authentic, but no call signal */
    in.ciphertext_b64 = ct = call_envelope(w, &p);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_REFUSED);
    assert_non_null(strstr(why, "not a call signal"));
    free(ct);

    call_payload(&p, CONV, "v=0 tampered");
    ct = call_envelope(w, &p);
    assert_int_equal(b64_decode(ct, &raw, &len), 0);
    raw[len - 20] ^= 1;
    free(ct);
    in.ciphertext_b64 = ct = b64_encode(raw, len);
    free(raw);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_REFUSED);
    assert_non_null(strstr(why, "decrypted"));
    free(ct);

    /* After all that (and a restart), the next signal still opens. */
    client_restart(&w->bob);
    call_payload(&p, CONV, "v=0 again");
    in.ciphertext_b64 = ct = call_envelope(w, &p);
    assert_int_equal(pr_receive_call(&w->bob.pr, &in, &got, &why), PR_STORED);
    free(ct);
    size_t n = 0;
    assert_int_equal(ls_messages_each(w->bob.st, ALICE, count_one, &n), 0);
    assert_int_equal(n, 1); /* "hello" only */
}

static void test_bundle_json_roundtrip(void **state)
{
    world *w = *state;
    sotto_prekey otk;
    sotto_bundle b, mine;
    json_t *j, *dev;

    assert_int_equal(sotto_account_generate_one_time_keys(w->bob.pr.acct, 1, &otk), 0);
    j = pr_bundle_json(w->bob.pr.acct, &otk, 1);
    assert_non_null(j);
    dev = json_deep_copy(j);
    json_object_set(dev, "oneTimePreKey", json_array_get(json_object_get(j, "oneTimePreKeys"), 0));
    assert_int_equal(pr_bundle_parse(dev, &b), 0);
    sotto_account_bundle(w->bob.pr.acct, &mine);
    assert_memory_equal(b.signing_key, mine.signing_key, 32);
    assert_int_equal(b.has_one_time_pre_key, 1);
    assert_int_equal(b.one_time_pre_key.key_id, otk.key_id);
    assert_int_equal(sotto_bundle_verify(&b), 0);
    json_decref(j);
    json_decref(dev);
}

/* Issue 17: what is used is bound to what is listed. A pre-key message whose signing key is
 * not the listed one for its (user, device), or from a device with no listed key, is a
 * security event: nothing stored but the refusal, the one-time key not spent, and the genuine
 * message (same envelope, right key) still opens. A claimed bundle whose key is not the
 * listed one is not used: nothing committed. */
static void test_listed_key_binding(void **state)
{
    world *w = *state;
    pr_target t;
    char id[40], *ct;
    ls_message m;
    uint32_t otks;

    claim(&w->bob, &t);
    assert_int_equal(pr_send_prepare(&w->alice.pr, CONV, BOB, "bound", &t, 1, id), 0);
    ct = outbox_envelope(&w->alice, id, w->bob.pr.device_id);
    otks = sotto_account_one_time_key_count(w->bob.pr.acct);
    /* Relabelled: the server says it came from Alice's other device (a key listed for
     * another device), then from an unlisted device. */
    pr_incoming relabel = {"r1", CONV, ALICE, w->alice2.pr.device_id, ct, sk_of(&w->alice2)};
    assert_int_equal(pr_receive(&w->bob.pr, &relabel, ALICE, NULL), PR_SECURITY);
    pr_incoming unlisted = {"r2", CONV, ALICE, "ghost-device", ct, NULL};
    assert_int_equal(pr_receive(&w->bob.pr, &unlisted, ALICE, NULL), PR_SECURITY);
    assert_int_equal(sotto_account_one_time_key_count(w->bob.pr.acct), otks);
    assert_int_equal(ls_message_get(w->bob.st, "r1", &m), 0);
    assert_null(m.body);
    assert_int_equal(m.status, LS_MSG_REFUSED);
    ls_message_clear(&m);
    assert_int_equal(pr_has_session(&w->bob.pr, ALICE, w->alice2.pr.device_id), 0);
    pr_incoming genuine = {"r3", CONV, ALICE, w->alice.pr.device_id, ct, sk_of(&w->alice)};
    assert_int_equal(pr_receive(&w->bob.pr, &genuine, ALICE, &m), PR_STORED);
    assert_string_equal(m.body, "bound");
    ls_message_clear(&m);
    free(ct);

    /* Mallory's (here: Alice's) bundle served to Alice2 for Bob's device: refused, nothing
     * stored, no session started. */
    claim(&w->alice, &t);
    str_copy(t.user_id, sizeof t.user_id, BOB);
    str_copy(t.device_id, sizeof t.device_id, w->bob.pr.device_id);
    memcpy(t.listed_signing_key, sk_of(&w->bob), 32);
    assert_int_equal(pr_send_prepare(&w->alice2.pr, CONV, BOB, "x", &t, 1, id),
                     SOTTO_E_KEY_MISMATCH);
    assert_int_equal(ls_message_get(w->alice2.st, id, &m), 1);
    assert_int_equal(pr_has_session(&w->alice2.pr, BOB, w->bob.pr.device_id), 0);
    /* A session pinned to a key that is no longer the listed one is not used either. */
    target_known(&w->alice, &t);
    memcpy(t.listed_signing_key, sk_of(&w->alice2), 32);
    assert_int_equal(pr_send_prepare(&w->bob.pr, CONV, ALICE, "y", &t, 1, id),
                     SOTTO_E_KEY_MISMATCH);
    t.has_listed = 0;
    assert_int_equal(pr_send_prepare(&w->bob.pr, CONV, ALICE, "y", &t, 1, id),
                     SOTTO_E_KEY_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conversation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_encrypt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_encrypt_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_json_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listed_key_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_signal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
