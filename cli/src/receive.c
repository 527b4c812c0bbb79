/* receive.c: the /ws session loop, message handling and the chat prompt (see receive.h). */
#include "receive.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acct_events.h"
#include "attlist.h"
#include "calls.h"
#include "chat_marks.h"
#include "commands.h"
#include "controls.h"
#include "keys_maint.h"
#include "lineedit.h"
#include "net_ws.h"
#include "outbox.h"
#include "receipts.h"
#include "term.h"
#include "trust.h"
#include "util.h"

typedef struct rx {
    client *c;
    ws_conn *ws;
    enum rx_mode mode;
    char auth_id[16];
    int authenticated, drained, outstanding, exit_code, stop;
    uint64_t deadline_ms, auth_at_ms, maint_at_ms;
    /* chat */
    char peer_id[40], peer_name[128], conv[40];
    char line[4096];
    size_t line_len;
    int line_over; /* the line outgrew `line`: it is refused whole, never cut */
    int typing;
    lineedit *le;     /* a terminal: the line is edited there (NULL: plain lines, as from a pipe) */
    chat_marks marks; /* our messages on the screen, for their receipts */
    calls_live calls;
} rx;

/* Ctrl-C in chat/watch: leave the loop cleanly (the terminal is restored, acks flushed). */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void print_message(rx *x, const ls_message *m, const char *sender_id, int resent)
{
    char who[128], when[32];
    att_list files;
    int has_files = att_load(x->c->st, m->id, &files) == 0;

    client_username(x->c, sender_id, who, sizeof who);
    if (x->c->o->json) {
        char peer[128];
        client_username(x->c, m->peer_id, peer, sizeof peer);
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:s}", "id", m->server_id,
                              "conversationId", m->conversation_id, "from", who, "fromId",
                              sender_id, "deviceId", m->sender_device, "peer", peer, "outgoing",
                              m->outgoing, "sentAt", (json_int_t)m->sent_at_ms, "text", m->body);
        if (resent)
            json_object_set_new(j, "resent", json_true());
        if (has_files)
            json_object_set_new(j, "files", att_summary_json(&files));
        print_json(j);
    } else {
        char safe[128];
        term_time(m->sent_at_ms, when, sizeof when);
        if (m->outgoing) {
            char peer[128];
            client_username(x->c, m->peer_id, peer, sizeof peer);
            printf("[%s] you (other device) -> %s: ", when, term_safe(safe, sizeof safe, peer));
        } else {
            printf("[%s] %s: ", when, term_safe(safe, sizeof safe, who));
        }
        term_print(stdout, m->body, 1);
        puts(resent ? "  (resent: it could not be read the first time)" : "");
        if (has_files)
            att_print_lines(&files, m->id);
    }
    if (has_files)
        att_list_clear(&files);
    fflush(stdout);
}

/* A notice about a message (json: one event line; else a line on stdout). */
static void print_notice(rx *x, const char *event, const char *id, const char *conv,
                         const char *from_id, const char *device, const char *text)
{
    if (x->c->o->json) {
        char who[128];
        client_username(x->c, from_id, who, sizeof who);
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "event", event, "id", id,
                             "conversationId", conv, "fromId", from_id, "from", who, "deviceId",
                             device));
    } else {
        fputs("  ", stdout);
        term_print(stdout, text, 1);
        putchar('\n');
    }
    fflush(stdout);
}

/* A message from (sender, device) did not decrypt: say so, and ask that device to resend. */
static void on_undecryptable(rx *x, const char *id, const char *conv, const char *peer,
                             const char *sender, const char *device)
{
    char who[128], s1[128], s2[64], text[400];
    int rc = retry_request(x->c, conv, peer, sender, device, id);
    const char *what = rc == 0   ? "asked that device to resend it"
                       : rc == 1 ? "not asking again so soon (too many requests to that device)"
                       : rc == 2
                           ? "no connection: that device is asked to resend it with the next sync"
                           : "could not ask that device to resend it";

    client_username(x->c, sender, who, sizeof who);
    fprintf(stderr,
            "sotto: !!! REFUSED a message from %s (device %s): it could not be decrypted; %s\n",
            term_safe(s1, sizeof s1, who), term_safe(s2, sizeof s2, device), what);
    if (x->c->o->json) {
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "event", "undecryptable", "id",
                             id, "conversationId", conv, "fromId", sender, "from", who, "deviceId",
                             device, "retryRequested", rc == 0, "retryQueued", rc == 2));
    } else if (rc == 0 || rc == 2) {
        snprintf(text, sizeof text, "a message from %s could not be read; %s. " CONTROLS_WAITING,
                 who, what, who);
        print_notice(x, "undecryptable", id, conv, sender, device, text);
    } else {
        snprintf(text, sizeof text, "a message from %s could not be read; %s", who, what);
        print_notice(x, "undecryptable", id, conv, sender, device, text);
    }
    fflush(stdout);
}

/* A RETRY from (sender, device): the device that sent the message resends it, once. */
static void on_retry(rx *x, const char *conv, const char *sender, const char *device,
                     const char *target)
{
    char who[128], text[400];
    int rc = resend_answer(x->c, conv, sender, device, target);

    if (rc == 1)
        return; /* another device's message: that device answers */
    client_username(x->c, sender, who, sizeof who);
    if (rc == 0)
        snprintf(text, sizeof text, "resent a message to %s's device %s (it could not read it)",
                 who, device);
    else
        snprintf(text, sizeof text, "%s's device %s could not read a message; not resent: %s", who,
                 device,
                 rc == 2   ? "it was deleted"
                 : rc == 3 ? "it was resent once already"
                 : rc == 4 ? "too many requests from that device"
                 : rc == 5 ? "it is older than 30 days"
                           : "sending failed");
    if (x->c->o->json)
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "event",
                             rc == 0 ? "resent" : "resend-refused", "id", target, "conversationId",
                             conv, "toId", sender, "to", who, "deviceId", device, "resent",
                             rc == 0));
    else
        print_notice(x, "resent", target, conv, sender, device, text);
}

/* An authenticated control payload (pr_receive_ex said PR_CONTROL). */
static void on_control(rx *x, const pr_info *in, const char *conv, const char *sender,
                       const char *device)
{
    char who[128], s1[128], s2[64], text[400];

    client_username(x->c, sender, who, sizeof who);
    if (in->content_type == SOTTO_CONTENT_RETRY) {
        on_retry(x, conv, sender, device, in->target);
    } else if (in->content_type == SOTTO_CONTENT_DELETE && in->outcome == PR_CTL_APPLIED) {
        if (x->c->o->json)
            print_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", "deleted", "id", in->target,
                                 "conversationId", conv, "fromId", sender, "from", who));
        else
            printf("  message %s was deleted by %s\n", term_safe(s2, sizeof s2, in->target),
                   term_safe(s1, sizeof s1, who));
        fflush(stdout);
    } else if (in->content_type == SOTTO_CONTENT_DELETE && in->outcome == PR_CTL_REFUSED) {
        fprintf(stderr,
                "sotto: !!! REFUSED a deletion of message %s by %s: it is not their message\n",
                term_safe(s2, sizeof s2, in->target), term_safe(s1, sizeof s1, who));
        snprintf(text, sizeof text, "refused a deletion of message %s by %s: not their message",
                 in->target, who);
        print_notice(x, "delete-refused", in->target, conv, sender, device, text);
    } else if (in->outcome == PR_CTL_UNKNOWN) {
        fprintf(stderr, "sotto: skipped a message of a kind this client does not know (type %d)\n",
                in->content_type);
    }
}

/* The other participant of a conversation (for copies of our own messages). */
static int peer_of(rx *x, const char *conv, const char *sender, char peer[40])
{
    char path[128];
    http_resp r;
    json_t *p;
    size_t i;
    int rc = -1;

    if (strcmp(sender, x->c->pr.user_id) != 0)
        return str_copy(peer, 40, sender);
    if (ls_conversation_peer(x->c->st, conv, peer) == 0)
        return 0;
    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    if (client_api(x->c, "GET", path, NULL, &r) != 0)
        return -1;
    json_array_foreach(json_object_get(r.body, "participants"), i, p) {
        const char *id = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
        if (id != NULL && strcmp(id, x->c->pr.user_id) != 0)
            rc = str_copy(peer, 40, id);
    }
    http_resp_clear(&r);
    return rc;
}

/* The signing key to expect from (sender, device): the one in the user's accepted set.
 * A device not in it makes us fetch the user's listing afresh and trust-check it (a new
 * device is announced, and accepted unless the user is held: verified and changed, or our
 * own account with a device added); then the accepted set is asked again. 0: *key is set;
 * 1: not accepted, *reason says why ("unlisted-device": not in the listing either,
 * "unaccepted-device": listed but held); -1: the listing could not be fetched. */
static int expected_key(rx *x, const char *sender, const char *device, uint8_t key[32],
                        const char **reason)
{
    char name[128];
    json_t *devices = NULL, *d;
    size_t i;
    int listed = 0;

    if (trust_device_key(x->c, sender, device, key) == 0)
        return 0;
    if (!strcmp(sender, x->c->pr.user_id))
        str_copy(name, sizeof name, x->c->username ? x->c->username : "you");
    else
        client_username(x->c, sender, name, sizeof name);
    if (client_device_keys(x->c, sender, &devices) != 0)
        return -1;
    json_array_foreach(devices, i, d) {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        if (id != NULL && !strcmp(id, device))
            listed = 1;
    }
    trust_check(x->c, sender, name, devices);
    json_decref(devices);
    if (trust_device_key(x->c, sender, device, key) == 0)
        return 0;
    *reason = listed ? "unaccepted-device" : "unlisted-device";
    return 1;
}

/* Looks up the expected key for an incoming item; NULL when the sender device is not
 * accepted (*reason set). Stops the session (not acked) when the listing cannot be had. */
static const uint8_t *sender_key(rx *x, const char *sender, const char *device, uint8_t key[32],
                                 const char **reason, int *stop)
{
    int rc = expected_key(x, sender, device, key, reason);

    *stop = 0;
    if (rc < 0) {
        fprintf(stderr, "sotto: cannot check the sender's device list; will retry later\n");
        x->exit_code = EXIT_NET;
        x->stop = 1;
        *stop = 1;
    }
    return rc == 0 ? key : NULL;
}

static void send_ack(rx *x, json_int_t seq)
{
    char id[16];

    if (ws_send(x->ws, "queue:ack", json_pack("{s:I}", "seq", seq), 1, id) == 0)
        x->outstanding++;
}

static void on_message_new(rx *x, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *conv = json_string_value(json_object_get(d, "conversationId"));
    const char *sender = json_string_value(json_object_get(d, "senderId"));
    const char *device = json_string_value(json_object_get(d, "senderDeviceId"));
    const char *ct =
        json_string_value(json_object_get(json_object_get(d, "envelope"), "ciphertext"));
    json_int_t seq = json_integer_value(json_object_get(d, "seq"));
    char peer[40];
    ls_message m;
    int rc;

    if (id == NULL || conv == NULL || sender == NULL || device == NULL) {
        send_ack(x, seq); /* malformed: nothing we can ever read */
        return;
    }
    if (peer_of(x, conv, sender, peer) != 0) {
        char s1[64];
        fprintf(stderr, "sotto: cannot tell whom conversation %s is with; will retry later\n",
                term_safe(s1, sizeof s1, conv));
        x->exit_code = EXIT_NET;
        x->stop = 1;
        return;
    }
    uint8_t key[32];
    const char *reason = "key-mismatch";
    int stop;
    const uint8_t *expected = sender_key(x, sender, device, key, &reason, &stop);
    if (stop)
        return;
    pr_incoming in = {id, conv, sender, device, ct, expected};
    pr_info info;
    rc = pr_receive_ex(&x->c->pr, &in, peer, &m, &info);
    if (rc < 0) { /* nothing committed: do not ack, stop */
        fprintf(stderr, "sotto: could not store a message; it stays queued on the server\n");
        x->exit_code = EXIT_LOCAL;
        x->stop = 1;
        return;
    }
    if (rc == PR_STORED) {
        print_message(x, &m, sender, info.content_type == SOTTO_CONTENT_RESEND);
        if (x->mode == RX_CHAT && !m.outgoing && strcmp(peer, x->peer_id) == 0)
            ws_send(x->ws, "message:read", json_pack("{s:s}", "messageId", id), 0, NULL);
        ls_message_clear(&m);
    } else if (rc == PR_CONTROL) {
        on_control(x, &info, conv, sender, device);
    } else if (rc == PR_REFUSED && info.retry) {
        on_undecryptable(x, id, conv, peer, sender, device);
    } else if (rc == PR_REFUSED) {
        char who[128], s1[128], s2[64];
        client_username(x->c, sender, who, sizeof who);
        fprintf(stderr,
                "sotto: !!! REFUSED a message from %s (device %s): it failed to decrypt"
                " or authenticate, so it is not shown\n",
                term_safe(s1, sizeof s1, who), term_safe(s2, sizeof s2, device));
    } else if (rc == PR_SECURITY) {
        trust_security_event(x->c, reason, sender, device, id);
    }
    send_ack(x, seq);
}

/* message:edited: the new text replaces the stored one if the original sender edited it. */
static void on_message_edited(rx *x, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *conv = json_string_value(json_object_get(d, "conversationId"));
    const char *sender = json_string_value(json_object_get(d, "senderId"));
    const char *device = json_string_value(json_object_get(d, "senderDeviceId"));
    const char *ct =
        json_string_value(json_object_get(json_object_get(d, "envelope"), "ciphertext"));
    json_int_t seq = json_integer_value(json_object_get(d, "seq"));
    ls_message m;
    int rc;

    memset(&m, 0, sizeof m);
    if (id == NULL || conv == NULL || sender == NULL || device == NULL || ct == NULL) {
        send_ack(x, seq);
        return;
    }
    uint8_t key[32];
    const char *reason = "key-mismatch";
    int stop;
    const uint8_t *expected = sender_key(x, sender, device, key, &reason, &stop);
    if (stop)
        return;
    pr_incoming in = {id, conv, sender, device, ct, expected};
    rc = pr_receive_edit(&x->c->pr, &in, &m);
    if (rc < 0) {
        fprintf(stderr, "sotto: could not store an edit; it stays queued on the server\n");
        x->exit_code = EXIT_LOCAL;
        x->stop = 1;
        return;
    }
    if (rc == PR_STORED && m.body != NULL) {
        char who[128];
        client_username(x->c, sender, who, sizeof who);
        if (x->c->o->json) {
            json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "event", "edited", "id", id,
                                  "conversationId", conv, "from", who, "editedAt",
                                  (json_int_t)m.edited_at_ms, "text", m.body);
            print_json(j);
        } else {
            char s1[128], s2[64];
            printf("  %s edited %s: ", term_safe(s1, sizeof s1, who), term_safe(s2, sizeof s2, id));
            term_print(stdout, m.body, 1);
            puts(" (edited)");
        }
        fflush(stdout);
    } else if (rc == PR_REFUSED) {
        char s1[64];
        fprintf(stderr,
                "sotto: !!! REFUSED an edit of message %s: it failed to decrypt, was not"
                " an edit of that message, or did not come from its sender\n",
                term_safe(s1, sizeof s1, id));
    } else if (rc == PR_SECURITY) {
        trust_security_event(x->c, reason, sender, device, id);
    }
    ls_message_clear(&m);
    send_ack(x, seq);
}

/* message:deleted is the server's word, not the sender's: it dropped its ciphertext, and it
 * is said so, but nothing local changes (an authenticated DELETE payload is what deletes). */
static void on_message_deleted(rx *x, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *conv = json_string_value(json_object_get(d, "conversationId"));
    json_int_t seq = json_integer_value(json_object_get(d, "seq"));
    int rc = id != NULL ? pr_receive_delete(&x->c->pr, id, conv, now_ms()) : PR_DUPLICATE;

    if (rc < 0) {
        fprintf(stderr, "sotto: could not apply a deletion; it stays queued on the server\n");
        x->exit_code = EXIT_LOCAL;
        x->stop = 1;
        return;
    }
    if (rc == PR_STORED) {
        char s1[64];
        if (x->c->o->json)
            print_json(json_pack("{s:s,s:s,s:s}", "event", "server-removed", "id", id,
                                 "conversationId", conv));
        else
            printf("  the server removed message %s from its store (your copy is kept)\n",
                   term_safe(s1, sizeof s1, id));
        fflush(stdout);
    }
    send_ack(x, seq);
}

/* message:delivered marks one message; message:read is the reader's cursor and covers every
 * earlier message too. A read by one of our own devices (our cursor over the peer's
 * messages) says nothing about what we sent. */
static void on_receipt(rx *x, json_t *d, int status)
{
    const char *id = json_string_value(json_object_get(d, "messageId"));
    const char *conv = json_string_value(json_object_get(d, "conversationId"));
    const char *user = json_string_value(json_object_get(d, "userId"));

    if (id == NULL || conv == NULL || user == NULL || !strcmp(user, x->c->pr.user_id))
        return;
    if (status == LS_MSG_READ ? ls_message_read_upto(x->c->st, conv, id) != 0
                              : ls_message_status(x->c->st, id, status) != 0)
        return;
    /* Chat on a terminal shows the change against the message itself (chat_marks_refresh). */
    if (x->mode == RX_CHAT && x->c->o->json)
        print_json(json_pack("{s:s,s:s}", "event", status == LS_MSG_READ ? "read" : "delivered",
                             "messageId", id));
    fflush(stdout);
}

/* Chat, once connected: the peer's newest stored message (and so every earlier one) is read,
 * since the chat has shown the recent ones (chat_setup). */
static void chat_mark_read(rx *x)
{
    char id[40];

    if (ls_last_incoming(x->c->st, x->peer_id, id) == 0)
        ws_send(x->ws, "message:read", json_pack("{s:s}", "messageId", id), 0, NULL);
}

/* call:incoming: the offer is checked with the key the caller device is accepted with (a
 * device we cannot check is refused, never trusted; the session goes on). The call:end of a
 * refused call is a request sync waits for, like an ack. */
static void on_call_incoming(rx *x, json_t *d)
{
    const char *caller = json_string_value(json_object_get(d, "callerId"));
    const char *device = json_string_value(json_object_get(d, "callerDeviceId"));
    const char *reason = "key-mismatch";
    uint8_t key[32];
    int rc = caller != NULL && device != NULL ? expected_key(x, caller, device, key, &reason) : 1;

    rc = calls_incoming(x->c, x->ws, &x->calls, d, rc == 0 ? key : NULL);
    if (rc == 1)
        x->outstanding++;
    if (rc < 0) {
        fprintf(stderr, "sotto: could not store the session state of a call; stopping\n");
        x->exit_code = EXIT_LOCAL;
        x->stop = 1;
    }
}

/* After the queue drained: missed calls that rang while we were away (chat: its own). */
static void calls_after_drain(rx *x)
{
    if (calls_catch_up(x->c, x->mode == RX_CHAT ? x->conv : NULL) != 0)
        fprintf(stderr, "sotto: could not check for missed calls\n");
}

static void on_authenticated(rx *x)
{
    json_t *mine = NULL;

    x->authenticated = 1;
    /* Our own device list: announce a device added to the account. */
    if (client_device_keys(x->c, x->c->pr.user_id, &mine) == 0)
        trust_check(x->c, x->c->pr.user_id, x->c->username ? x->c->username : "you", mine);
    json_decref(mine);
    /* Sign-ins made while we were away (live ones come as device:added). */
    if (acct_devices_catch_up(x->c) != 0)
        fprintf(stderr, "sotto: could not compare the account's devices\n");
    keys_maintain(x->c);
    x->maint_at_ms = now_ms();
    outbox_flush(x->c);
    if (x->mode == RX_CHAT)
        fprintf(stderr, "  (connected)\n");
}

static void on_chat_event(rx *x, const char *ev, json_t *d)
{
    const char *user = json_string_value(json_object_get(d, "userId"));

    if (x->mode != RX_CHAT || user == NULL || strcmp(user, x->peer_id) != 0)
        return;
    if (!strcmp(ev, "typing:start"))
        fprintf(stderr, "  %s is typing...\n", x->peer_name);
    else if (!strcmp(ev, "user:online"))
        fprintf(stderr, "  %s is online\n", x->peer_name);
    else if (!strcmp(ev, "user:offline"))
        fprintf(stderr, "  %s went offline\n", x->peer_name);
}

static void dispatch_event(rx *x, const char *ev, json_t *frame)
{
    json_t *d = json_object_get(frame, "data");
    const char *id = json_string_value(json_object_get(frame, "id"));

    if (!strcmp(ev, "ack") || !strcmp(ev, "error")) {
        if (id != NULL && !strcmp(id, x->auth_id) && !strcmp(ev, "error")) {
            fprintf(stderr, "sotto: the server refused our session: run 'sotto login'\n");
            x->exit_code = EXIT_AUTH;
            x->stop = 1;
        } else if (id != NULL && strcmp(id, x->auth_id) != 0 && x->outstanding > 0) {
            x->outstanding--;
        }
    } else if (!strcmp(ev, "authenticated")) {
        on_authenticated(x);
    } else if (!strcmp(ev, "message:new")) {
        on_message_new(x, d);
    } else if (!strcmp(ev, "message:edited")) {
        on_message_edited(x, d);
    } else if (!strcmp(ev, "message:deleted")) {
        on_message_deleted(x, d);
    } else if (!strcmp(ev, "queue:drained")) {
        x->drained = 1;
        receipts_catch_up(x->c); /* what was acknowledged or read while we were away */
        calls_after_drain(x);
        if (x->mode == RX_CHAT && !x->c->o->json)
            chat_mark_read(x);
    } else if (!strcmp(ev, "call:incoming")) {
        on_call_incoming(x, d);
    } else if (!strcmp(ev, "call:accepted-elsewhere")) {
        calls_accepted_elsewhere(x->c, &x->calls, d);
    } else if (!strcmp(ev, "call:ended")) {
        calls_ended(x->c, &x->calls, d);
    } else if (!strcmp(ev, "device:added")) {
        acct_sign_in(x->c, d);
    } else if (!strcmp(ev, "user:deleted")) {
        acct_user_deleted(x->c, d);
    } else if (!strcmp(ev, "message:delivered")) {
        on_receipt(x, d, LS_MSG_DELIVERED);
    } else if (!strcmp(ev, "message:read")) {
        on_receipt(x, d, LS_MSG_READ);
    } else {
        on_chat_event(x, ev, d);
    }
}

/* Around anything that may print while a line is being typed: the output goes above the
 * line, which is then drawn again. */
static void line_away(rx *x)
{
    if (x->le != NULL)
        le_hide(x->le);
}

static void line_back(rx *x)
{
    if (x->le != NULL)
        le_show(x->le);
}

static void on_event(void *ctx, const char *ev, json_t *frame)
{
    rx *x = ctx;

    line_away(x);
    dispatch_event(x, ev, frame);
    if (x->mode == RX_CHAT && !x->c->o->json)
        chat_marks_refresh(&x->marks, x->c->st); /* a receipt, a flushed outbox, a catch-up */
    line_back(x);
}

static void print_safety(rx *x)
{
    json_t *mine = NULL, *theirs = NULL;
    char number[SOTTO_SAFETY_DIGITS + 1];
    uint8_t qr[SOTTO_SAFETY_QRBYTES];
    int v;

    if (client_device_keys(x->c, x->c->pr.user_id, &mine) == 0 &&
        client_device_keys(x->c, x->peer_id, &theirs) == 0 &&
        (v = trust_safety_number(x->c, x->peer_id, mine, theirs, number, qr)) > 0) {
        printf("safety number with %s, version %d (compare it with theirs; 'sotto verify %s'"
               " shows more):\n",
               x->peer_name, v, x->peer_name);
        term_print_safety_number(number);
    }
    json_decref(mine);
    json_decref(theirs);
}

#define CHAT_HELP                            \
    "  /verify  the safety number with %s\n" \
    "  /quit    leave (Ctrl-D too)\n"        \
    "  //text   send a line that begins with '/'\n"

typedef struct just_sent {
    rx *x;
    const char *text;
    int sent, shown;
} just_sent;

/* The newest message with the peer, when it is the one just sent: shown as history shows it,
 * with its mark ("…" when it was committed but the server could not be reached: it waits in
 * the outbox, and its "✓ sent" line comes when it goes). */
static int show_sent(void *ctx, const ls_message *m)
{
    just_sent *j = ctx;

    if (!m->outgoing || m->body == NULL || strcmp(m->body, j->text) != 0 ||
        (!j->sent && m->status != LS_MSG_PENDING && m->status != LS_MSG_FAILED))
        return 0;
    history_print_line(m, j->x->peer_name, HISTORY_PLAIN);
    chat_marks_add(&j->x->marks, m);
    j->shown = 1;
    return 0;
}

/* With --json the line says only the server's id (its receipts follow as JSON events). */
static void chat_send(rx *x, const char *text)
{
    char sid[40] = "", safe[64];
    just_sent j = {x, text, send_text(x->c, x->peer_name, text, sid) == 0, 0};

    if (x->c->o->json) {
        if (j.sent)
            printf("  (sent: %s)\n", term_safe(safe, sizeof safe, sid));
        else
            fprintf(stderr, "  (not sent)\n");
        return;
    }
    chat_marks_refresh(&x->marks, x->c->st); /* a queued one the send flushed first */
    if (ls_messages_recent(x->c->st, x->peer_id, 1, show_sent, &j) != 0 || !j.shown)
        fprintf(stderr, "  (not sent)\n");
}

/* A line typed in chat: a command, or text to send. A mistyped command is never sent. */
static void chat_line(rx *x)
{
    int over = x->line_over;

    x->line[x->line_len] = '\0';
    x->line_len = 0;
    x->line_over = 0;
    if (x->typing) {
        ws_send(x->ws, "typing:stop", json_pack("{s:s}", "conversationId", x->conv), 0, NULL);
        x->typing = 0;
    }
    if (over)
        fprintf(stderr,
                "  (not sent: a chat line holds at most %zu bytes; 'sotto send' takes"
                " longer text)\n",
                sizeof x->line - 1);
    else if (!strcmp(x->line, "/quit"))
        x->stop = 1;
    else if (!strcmp(x->line, "/verify"))
        print_safety(x);
    else if (!strcmp(x->line, "/help"))
        printf(CHAT_HELP, x->peer_name);
    else if (x->line[0] == '/' && x->line[1] == '/')
        chat_send(x, x->line + 1);
    else if (x->line[0] == '/')
        fprintf(stderr, "  (not sent: no command %.*s; /help lists them)\n",
                (int)strcspn(x->line, " \t"), x->line); /* our own input: printed as typed */
    else if (x->line[0] != '\0')
        chat_send(x, x->line);
    fflush(stdout);
}

static void typing_started(rx *x)
{
    if (!x->typing) {
        ws_send(x->ws, "typing:start", json_pack("{s:s}", "conversationId", x->conv), 0, NULL);
        x->typing = 1;
    }
}

/* A line finished in the editor (NULL: Ctrl-D). */
static void chat_edited_line(void *ctx, const char *line)
{
    rx *x = ctx;
    size_t n;

    if (line == NULL) {
        x->stop = 1;
        return;
    }
    n = strlen(line);
    x->line_over = n >= sizeof x->line;
    x->line_len = x->line_over ? 0 : n;
    memcpy(x->line, line, x->line_len);
    chat_line(x);
}

/* Keys typed at a terminal go to the editor; typing:start goes out once the line holds
 * something (a cursor key alone is not typing). */
static void chat_edit(rx *x)
{
    le_read(x->le, chat_edited_line, x);
    if (!x->stop && le_pending(x->le) > 0)
        typing_started(x);
}

/* Reads what a pipe has (non-blocking); a full line is sent, a partial one means typing. */
static void chat_input(rx *x)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    char ch;

    while (poll(&p, 1, 0) == 1) {
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n <= 0) {
            x->stop = 1; /* end of input */
            return;
        }
        if (ch == '\n' || ch == '\r') {
            chat_line(x);
            continue;
        }
        if (x->line_len + 1 < sizeof x->line)
            x->line[x->line_len++] = ch;
        else
            x->line_over = 1;
        typing_started(x);
    }
}

/* Access tokens live 15 minutes and the server closes a socket whose token expired:
 * authenticate again on the same socket with a fresh one well before that. */
#define REAUTH_MS (10u * 60u * 1000u)

static void reauthenticate(rx *x)
{
    x->auth_at_ms = now_ms();
    if (client_refresh(x->c) != 0) {
        fprintf(stderr, "sotto: could not renew the session; run 'sotto login'\n");
        return;
    }
    ws_send(x->ws, "authenticate", json_pack("{s:s}", "token", x->c->access), 1, x->auth_id);
}

static int on_tick(void *ctx)
{
    rx *x = ctx;

    if (interrupted)
        return 1;
    if (x->authenticated && now_ms() - x->auth_at_ms > REAUTH_MS) {
        line_away(x);
        reauthenticate(x);
        line_back(x);
    }
    if (x->authenticated && now_ms() - x->maint_at_ms > KEYS_MAINT_INTERVAL_MS) {
        x->maint_at_ms = now_ms(); /* a long chat or watch: the daily key upkeep */
        line_away(x);
        keys_maintain(x->c);
        line_back(x);
    }

    if (x->mode == RX_CHAT && x->authenticated && x->le != NULL)
        chat_edit(x);
    else if (x->mode == RX_CHAT && x->authenticated)
        chat_input(x);
    if (x->mode == RX_SYNC && x->drained && x->outstanding == 0)
        return 1;
    if (x->deadline_ms && now_ms() > x->deadline_ms) {
        if (x->mode == RX_SYNC) {
            fprintf(stderr, "sotto: sync timed out\n");
            x->exit_code = EXIT_NET;
        }
        return 1;
    }
    return x->stop;
}

/* A chat on a terminal opens on the last CHAT_CONTEXT messages (chat_mark_read then marks
 * them read). */
#define CHAT_CONTEXT 10

static int chat_context_line(void *ctx, const ls_message *m)
{
    rx *x = ctx;

    history_print_line(m, x->peer_name, history_retry_state(x->c, m));
    att_print_for(x->c->st, m->id, m->deleted_at_ms);
    chat_marks_add(&x->marks, m);
    return 0;
}

static int chat_setup(rx *x, const char *username)
{
    json_t *user = NULL;
    int rc;

    if ((rc = client_user_by_name(x->c, username, &user)) != 0)
        return rc;
    str_copy(x->peer_id, sizeof x->peer_id, json_string_value(json_object_get(user, "id")));
    str_copy(x->peer_name, sizeof x->peer_name, username);
    json_decref(user);
    if ((rc = conversation_with(x->c, x->peer_id, x->conv)) != 0 ||
        (rc = conversation_accept(x->c, x->conv)) != 0)
        return rc;
    if (!x->c->o->json &&
        ls_messages_recent(x->c->st, x->peer_id, CHAT_CONTEXT, chat_context_line, x) != 0)
        return EXIT_LOCAL;
    fflush(stdout);
    fprintf(stderr, "chat with %s: type a line and press Enter; /help, /verify, /quit\n", username);
    return 0;
}

int rx_run(client *c, enum rx_mode mode, const char *peer_username, int timeout_s)
{
    rx x;
    int rc, failed;

    memset(&x, 0, sizeof x);
    x.c = c;
    x.mode = mode;
    if (mode == RX_SYNC && timeout_s == 0)
        timeout_s = 30;
    if (timeout_s > 0)
        x.deadline_ms = now_ms() + (uint64_t)timeout_s * 1000u;
    if (mode == RX_CHAT && (rc = chat_setup(&x, peer_username)) != 0)
        return rc;
    /* A fresh access token: the socket is authenticated once, with what we have now. */
    http_resp r;
    if ((rc = client_api(c, "GET", "/api/users/me", NULL, &r)) != 0)
        return rc;
    if (r.status != 200) {
        rc = client_fail_session(&r, "checking the session");
        http_resp_clear(&r);
        return rc;
    }
    http_resp_clear(&r);
    signal(SIGINT, on_sigint);
    /* On a terminal the line is edited (lineedit.c) and typing:start goes out with the first
     * character; a pipe delivers what it has, which works the same. */
    if (mode == RX_CHAT && !c->o->json)
        x.le = le_open("> ");
    if (ws_open(&x.ws, c->server, on_event, on_tick, &x) != 0) {
        le_close(x.le);
        return EXIT_NET;
    }
    x.auth_at_ms = now_ms();
    ws_send(x.ws, "authenticate", json_pack("{s:s}", "token", c->access), 1, x.auth_id);
    failed = ws_run(x.ws) != 0;
    le_close(x.le); /* the terminal as it was, before anything more is said */
    x.le = NULL;
    if (failed && x.exit_code == 0) {
        int code = ws_close_code(x.ws);
        fprintf(stderr, "sotto: the connection closed%s\n",
                code == 4403   ? ": this device was revoked"
                : code == 4409 ? ": this device connected elsewhere"
                : code == 4401 ? ": the session expired"
                               : "");
        x.exit_code = code == 4403 || code == 4401 ? EXIT_AUTH : EXIT_NET;
    }
    ws_close(x.ws, 2000);
    return x.exit_code;
}
