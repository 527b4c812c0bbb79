/* outbox.c: the send pipeline and the outbox (see outbox.h). */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attlist.h"
#include "controls.h"
#include "crash.h"
#include "term.h"
#include "trust.h"
#include "util.h"

#define SEND_ATTEMPTS 4

static int in_list(const json_t *ids, const char *id)
{
    json_t *v;
    size_t i;

    json_array_foreach(ids, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return 1;
    return 0;
}

/* Fills bundles for the targets in t[from..n) that lack a session (POST /keys/claim). The
 * claimed signing key must be the one in the listing we trust-checked. */
static int claim(client *c, const char *user_id, const json_t *listing, pr_target *t, size_t from,
                 size_t n)
{
    json_t *ids = json_array(), *body, *d;
    http_resp r;
    size_t i;
    int rc;

    for (i = from; i < n; i++)
        if (t[i].fresh || (rc = pr_has_session(&c->pr, t[i].user_id, t[i].device_id)) == 0)
            json_array_append_new(ids, json_string(t[i].device_id));
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return 0;
    }
    body = json_pack("{s:s,s:o}", "userId", user_id, "deviceIds", ids);
    rc = client_api(c, "POST", "/api/keys/claim", body, &r);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (r.status != 200) {
        rc = client_fail(&r, "claiming keys");
        http_resp_clear(&r);
        return rc;
    }
    json_array_foreach(json_object_get(r.body, "devices"), i, d) {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        const json_t *listed = NULL, *l;
        size_t k;
        json_array_foreach(listing, k, l) {
            const char *lid = json_string_value(json_object_get(l, "deviceId"));
            if (id != NULL && lid != NULL && strcmp(lid, id) == 0)
                listed = l;
        }
        for (k = from; id != NULL && listed != NULL && k < n; k++) {
            if (strcmp(t[k].device_id, id) != 0)
                continue;
            /* Whatever key it carries: initiate_expected compares it with the listed one
             * and a mismatch is a security event, not a missing session. */
            if (pr_bundle_parse(d, &t[k].bundle) == 0)
                t[k].has_bundle = 1;
        }
    }
    http_resp_clear(&r);
    return 0;
}

/* The device that gets a fresh session (a resend answers a device that could not decrypt). */
typedef struct fresh_dev {
    const char *user_id, *device_id;
} fresh_dev;

/* Appends a target for each device of the user (but this one), limited to `only` if given. */
static int add_targets(client *c, const char *user_id, const json_t *listing, const json_t *only,
                       const fresh_dev *fresh, pr_target **t, size_t *n)
{
    size_t from = *n, i;
    json_t *d;

    json_array_foreach(listing, i, d) {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        if (id == NULL || strcmp(id, c->pr.device_id) == 0 || (only && !in_list(only, id)))
            continue;
        pr_target *p = realloc(*t, (*n + 1) * sizeof **t);
        if (p == NULL)
            return EXIT_LOCAL;
        *t = p;
        memset(&p[*n], 0, sizeof p[*n]);
        str_copy(p[*n].user_id, sizeof p[*n].user_id, user_id);
        str_copy(p[*n].device_id, sizeof p[*n].device_id, id);
        p[*n].has_listed = b64_decode_fixed(json_string_value(json_object_get(d, "signingKey")),
                                            p[*n].listed_signing_key, 32) == 0;
        p[*n].fresh =
            fresh != NULL && !strcmp(fresh->user_id, user_id) && !strcmp(fresh->device_id, id);
        (*n)++;
    }
    return claim(c, user_id, listing, *t, from, *n);
}

/* Both device lists, trust-checked. peer_name may be NULL (looked up). */
static int listings(client *c, const char *peer_id, json_t **peer, json_t **self)
{
    char name[128];
    int rc;

    *peer = *self = NULL;
    client_username(c, peer_id, name, sizeof name);
    if ((rc = client_device_keys(c, peer_id, peer)) != 0 ||
        (rc = client_device_keys(c, c->pr.user_id, self)) != 0)
        return rc;
    if ((rc = trust_check(c, c->pr.user_id, c->username ? c->username : "you", *self)) != 0)
        return rc;
    return trust_check(c, peer_id, name, *peer);
}

static int targets_fresh(client *c, const char *peer_id, const json_t *only, const fresh_dev *fresh,
                         pr_target **t, size_t *n)
{
    json_t *peer, *self;
    int rc;

    *t = NULL;
    *n = 0;
    if ((rc = listings(c, peer_id, &peer, &self)) == 0 &&
        (rc = add_targets(c, peer_id, peer, only, fresh, t, n)) == 0)
        rc = add_targets(c, c->pr.user_id, self, only, fresh, t, n);
    json_decref(peer);
    json_decref(self);
    return rc;
}

static int targets(client *c, const char *peer_id, const json_t *only, pr_target **t, size_t *n)
{
    return targets_fresh(c, peer_id, only, NULL, t, n);
}

/* After a failed encryption (nothing committed): a key that is not the listed one is a
 * security event (EXIT_TRUST), anything else a local failure. */
static int encrypt_failed(client *c, int rc, const pr_target *t, size_t n, const char *what)
{
    if (rc == SOTTO_E_KEY_MISMATCH || rc == SOTTO_E_UNTRUSTED) {
        /* Name the device: the first target whose claimed or pinned key is not the listed one. */
        size_t k;
        for (k = 0; k < n; k++)
            if (!t[k].has_listed ||
                (t[k].has_bundle &&
                 sodium_memcmp(t[k].bundle.signing_key, t[k].listed_signing_key, 32) != 0))
                break;
        trust_security_event(c, "claimed-key-mismatch", k < n ? t[k].user_id : "?",
                             k < n ? t[k].device_id : NULL, NULL);
        return EXIT_TRUST;
    }
    fprintf(stderr, "sotto: could not encrypt %s (%s)\n", what,
            rc < 0 && rc != -1 ? sotto_strerror(rc) : "local error");
    return EXIT_LOCAL;
}

static int amend(client *c, const char *client_id, const char *conv, const json_t *details)
{
    const json_t *extra = json_object_get(details, "extra");
    const json_t *missing = json_object_get(details, "missing");
    const char **ex = calloc(json_array_size(extra) + 1, sizeof *ex);
    json_t *none = json_array();
    char peer[40];
    pr_target *t = NULL;
    size_t n = 0, i;
    json_t *v;
    int rc = EXIT_LOCAL;

    if (ex == NULL || ls_conversation_peer(c->st, conv, peer) != 0)
        goto done;
    json_array_foreach(extra, i, v)
        ex[i] = json_string_value(v) ? json_string_value(v) : "";
    if ((rc = targets(c, peer, missing ? missing : none, &t, &n)) != 0)
        goto done;
    if ((rc = pr_outbox_amend(&c->pr, client_id, ex, json_array_size(extra), t, n)) != 0)
        rc = encrypt_failed(c, rc, t, n, "for the new device list");
done:
    json_decref(none);
    free(t);
    free(ex);
    return rc;
}

/* A message with files names their uploads (attachmentIds): that is what lets the
 * conversation's participants download them. */
static int with_files(client *c, const char *client_id, json_t *body)
{
    att_list files;
    int rc = att_load(c->st, client_id, &files);

    if (rc != 0)
        return rc == 1 ? 0 : -1;
    rc = json_object_set_new(body, "attachmentIds", att_ids_json(&files));
    att_list_clear(&files);
    return rc;
}

/* POSTs one outbox row until accepted; 0 and server_id on success. */
static int post(client *c, const char *client_id, char *server_id)
{
    for (int attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
        char *conv = NULL, *json = NULL, path[128];
        http_resp r;
        int rc;

        if (ls_outbox_get(c->st, client_id, &conv, &json) != 0)
            return EXIT_LOCAL;
        json_t *body = json_pack("{s:s,s:o}", "clientMessageId", client_id, "envelopes",
                                 json_loads(json, 0, NULL));
        if (with_files(c, client_id, body) != 0) {
            json_decref(body);
            free(json);
            free(conv);
            return EXIT_LOCAL;
        }
        snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
        rc = client_api(c, "POST", path, body, &r);
        json_decref(body);
        free(json);
        if (rc == 0 && (r.status == 200 || r.status == 201)) {
            const char *id = json_string_value(json_object_get(r.body, "id"));
            if (crash_point("send-after-post") || id == NULL ||
                pr_send_done(&c->pr, client_id, id) != 0)
                rc = EXIT_LOCAL;
            else if (server_id != NULL)
                str_copy(server_id, 40, id);
        } else if (rc == 0 && r.status == 409 &&
                   strcmp(http_error_code(&r), "device_list_mismatch") == 0) {
            rc = amend(c, client_id, conv,
                       json_object_get(json_object_get(r.body, "error"), "details"));
            rc = rc == 0 ? -1 : rc; /* -1: post again */
        } else if (rc == 0) {
            rc = client_fail(&r, "sending");
            /* Refused for good (a block, a conversation left): never retried, shown failed. */
            if (r.status / 100 == 4 && r.status != 401 && r.status != 429 &&
                (ls_outbox_del(c->st, client_id) != 0 || ls_message_failed(c->st, client_id) != 0))
                rc = EXIT_LOCAL;
        }
        http_resp_clear(&r);
        free(conv);
        if (rc != -1)
            return rc;
    }
    fprintf(stderr, "sotto: the device list kept changing; the message stays queued\n");
    return EXIT_NET;
}

static int flush_one(void *ctx, const char *id)
{
    client *c = ctx;
    int rc = post(c, id, NULL);

    if (rc == 0)
        fprintf(stderr, "sotto: sent a message queued earlier (%s)\n", id);
    return rc == EXIT_NET || rc == EXIT_AUTH; /* stop on what will not get better now */
}

/* The messages first, then the queued controls (a delete may name a message just posted). */
int outbox_flush(client *c)
{
    if (ls_outbox_each(c->st, flush_one, c) != 0)
        return EXIT_LOCAL;
    return controls_flush(c);
}

int conversation_with(client *c, const char *peer_id, char conv[40])
{
    json_t *body;
    http_resp r;
    int rc;

    if (ls_conversation_for(c->st, peer_id, conv) == 0)
        return 0;
    body = json_pack("{s:s}", "participantId", peer_id);
    rc = client_api(c, "POST", "/api/conversations", body, &r);
    json_decref(body);
    if (rc != 0)
        return rc;
    const char *id = json_string_value(json_object_get(r.body, "id"));
    if ((r.status != 200 && r.status != 201) || id == NULL)
        rc = client_fail(&r, "opening the conversation");
    else if (str_copy(conv, 40, id) != 0 || ls_conversation_put(c->st, conv, peer_id) != 0)
        rc = EXIT_LOCAL;
    http_resp_clear(&r);
    return rc;
}

int conversation_accept(client *c, const char *conv)
{
    char path[96];
    http_resp r;
    int rc;

    snprintf(path, sizeof path, "/api/conversations/%s/accept", conv);
    if ((rc = client_api(c, "POST", path, NULL, &r)) != 0)
        return rc;
    if (r.status != 200)
        rc = client_fail(&r, "accepting the conversation");
    http_resp_clear(&r);
    return rc;
}

/* 1 when the user's stored hold still stands: the listing is checked again first, so a hold
 * ends by itself once the listing is back to the accepted set (the new device revoked). */
static int hold_stands(client *c, const char *user_id, const char *name)
{
    ls_contact ct;
    json_t *devices = NULL;
    int h = 0;

    if (ls_contact_get(c->st, user_id, &ct) == 0) {
        h = ct.hold;
        ls_contact_clear(&ct);
    }
    if (h && client_device_keys(c, user_id, &devices) == 0)
        h = trust_check(c, user_id, name, devices) != 0;
    json_decref(devices);
    return h;
}

static int held(client *c, const char *peer_id, const char *username)
{
    if (hold_stands(c, peer_id, username)) {
        fprintf(stderr,
                "sotto: sending to %s is held: their safety number changed since you"
                " verified it. Compare it, then run 'sotto verify %s --accept'\n",
                username, username);
        return 1;
    }
    if (hold_stands(c, c->pr.user_id, c->username ? c->username : "you")) {
        fprintf(stderr, "sotto: sending is held: a device was added to YOUR account. If it was"
                        " you, run 'sotto devices accept'; if not, 'sotto devices revoke ID'"
                        " and change your password\n");
        return 1;
    }
    return 0;
}

/* A message's text: valid UTF-8, not blank, at most TEXT_MAX_CHARS characters (the same rule
 * as the web client's; docs/protocol.md). The server cannot check it: it never sees it. */
#define TEXT_MAX_CHARS 10000

static int text_ok(const char *text)
{
    long n = term_utf8_chars(text);

    if (n < 0)
        fprintf(stderr, "sotto: the text is not valid UTF-8 (is the terminal's locale UTF-8?)\n");
    else if (text[strspn(text, " \t\r\n")] == '\0')
        fprintf(stderr, "sotto: nothing to send: the text is blank\n");
    else if (n > TEXT_MAX_CHARS)
        fprintf(stderr, "sotto: the text has %ld characters; a message holds at most %d\n", n,
                TEXT_MAX_CHARS);
    else
        return 0;
    return EXIT_USAGE;
}

int send_text(client *c, const char *username, const char *text, char *server_id)
{
    return send_files(c, username, text, NULL, 0, server_id);
}

int send_files(client *c, const char *username, const char *text,
               const sotto_attachment_pointer *att, size_t n_att, char *server_id)
{
    json_t *user = NULL;
    pr_target *t = NULL;
    size_t n = 0;
    char conv[40], client_id[40];
    int rc;

    /* A file may go without a caption; a caption, like any text, is checked. */
    if ((n_att == 0 || text[0] != '\0') && (rc = text_ok(text)) != 0)
        return rc;
    if ((rc = client_user_by_name(c, username, &user)) != 0)
        return rc;
    const char *peer = json_string_value(json_object_get(user, "id"));
    if (held(c, peer, username)) {
        rc = EXIT_TRUST;
        goto done;
    }
    if ((rc = conversation_with(c, peer, conv)) != 0 || (rc = outbox_flush(c)) != 0 ||
        (rc = targets(c, peer, NULL, &t, &n)) != 0)
        goto done;
    if ((rc = pr_send_prepare_files(&c->pr, conv, peer, text, att, n_att, t, n, client_id)) != 0) {
        rc = encrypt_failed(c, rc, t, n, "the message");
        goto done;
    }
    rc = post(c, client_id, server_id);
done:
    free(t);
    json_decref(user);
    return rc;
}

/* Our message `id` (local or server id) in the conversation with `username`. */
static int own_message(client *c, const char *username, const char *id, char peer[40],
                       ls_message *m)
{
    json_t *user = NULL;
    int rc;

    memset(m, 0, sizeof *m);
    /* A known contact first: a delete made offline is queued, not refused. */
    ls_contact ct;
    if (ls_contact_find(c->st, username, &ct) == 0) {
        str_copy(peer, 40, ct.user_id);
        ls_contact_clear(&ct);
    } else if ((rc = client_user_by_name(c, username, &user)) != 0) {
        return rc;
    } else {
        str_copy(peer, 40, json_string_value(json_object_get(user, "id")));
        json_decref(user);
    }
    if ((rc = ls_message_get(c->st, id, m)) < 0)
        return EXIT_LOCAL;
    if (rc == 1 || strcmp(m->peer_id, peer) != 0 || !m->outgoing || m->server_id[0] == '\0' ||
        m->deleted_at_ms != 0) {
        fprintf(stderr, "sotto: %s is not a message you sent to %s (and the server accepted)%s\n",
                id, username, m->deleted_at_ms ? "; it was deleted" : "");
        ls_message_clear(m);
        return EXIT_USAGE;
    }
    return 0;
}

int edit_text(client *c, const char *username, const char *id, const char *text)
{
    ls_message m;
    pr_target *t = NULL;
    size_t n = 0;
    char peer[40], sid[40], path[128];
    int rc;

    if ((rc = text_ok(text)) != 0 || (rc = own_message(c, username, id, peer, &m)) != 0)
        return rc;
    if (held(c, peer, username)) {
        ls_message_clear(&m);
        return EXIT_TRUST;
    }
    for (int attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
        json_t *env = NULL, *body;
        http_resp r;

        free(t);
        t = NULL;
        if ((rc = targets(c, peer, NULL, &t, &n)) != 0)
            break;
        /* Encrypted and the advanced records committed before the request (save before
         * acting); envelopes refused by a 409 are dropped, never sent again. */
        if ((rc = pr_edit_prepare(&c->pr, m.id, text, t, n, &env, sid)) != 0) {
            rc = rc == 1 ? EXIT_LOCAL : encrypt_failed(c, rc, t, n, "the edit");
            break;
        }
        body = json_pack("{s:o}", "envelopes", env);
        snprintf(path, sizeof path, "/api/messages/%s", sid);
        rc = client_api(c, "PATCH", path, body, &r);
        json_decref(body);
        if (rc == 0 && r.status == 200) {
            rc = ls_message_edit(c->st, m.id, text, strlen(text), now_ms()) == 0 ? 0 : EXIT_LOCAL;
        } else if (rc == 0 && r.status == 409 &&
                   strcmp(http_error_code(&r), "device_list_mismatch") == 0) {
            rc = -1; /* the device list changed: fetch it again and encrypt afresh */
        } else if (rc == 0) {
            rc = client_fail(&r, "editing");
        }
        http_resp_clear(&r);
        if (rc != -1)
            break;
    }
    if (rc == -1) {
        fprintf(stderr, "sotto: the device list kept changing; the edit was not sent\n");
        rc = EXIT_NET;
    }
    free(t);
    ls_message_clear(&m);
    return rc;
}

/* Sends one control payload (DELETE, RETRY, RESEND) to every device of both users, as a
 * message of the conversation, under clientMessageId `cid` (the server's idempotency key: the
 * same for every attempt, and for every later send of a queued control): the records (and
 * `mark`) are committed before the POST; a 409 device-list mismatch encrypts afresh for the
 * new list (the refused envelopes are never sent). On failure `mark` is removed again. 0 or an
 * EXIT_* code: EXIT_NET when it failed for want of a connection (no network, 5xx, 429). */
static int send_control(client *c, const char *peer_id, const sotto_payload *p,
                        const fresh_dev *fresh, const char *mark, const char *conv, const char *cid)
{
    char path[128];
    pr_target *t = NULL;
    size_t n = 0;
    int rc = -1;

    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    for (int attempt = 0; attempt < SEND_ATTEMPTS && rc == -1; attempt++) {
        json_t *env = NULL, *body;
        http_resp r;

        free(t);
        t = NULL;
        if ((rc = targets_fresh(c, peer_id, NULL, fresh, &t, &n)) != 0)
            break;
        if ((rc = pr_control_prepare(&c->pr, p, t, n, mark, &env)) != 0) {
            rc = encrypt_failed(c, rc, t, n, "a control message");
            break;
        }
        body = json_pack("{s:s,s:o}", "clientMessageId", cid, "envelopes", env);
        rc = client_api(c, "POST", path, body, &r);
        json_decref(body);
        if (rc == 0 && (r.status == 200 || r.status == 201))
            rc = 0;
        else if (rc == 0 && r.status == 409 &&
                 strcmp(http_error_code(&r), "device_list_mismatch") == 0)
            rc = -1; /* fetch the list again and encrypt afresh */
        else if (rc == 0 && (rc = client_fail(&r, "sending")) != 0 && r.status == 429)
            rc = EXIT_NET; /* slowed down, not refused: like a 5xx, it may go out later */
        http_resp_clear(&r);
    }
    if (rc == -1)
        rc = EXIT_NET;
    if (rc != 0 && mark != NULL)
        ls_kv_del(c->st, mark);
    free(t);
    return rc;
}

/* The payload of a queued control: its target and conversation, the entry's clientMessageId
 * (the POST's too) and the time it was first tried, the same bytes for every attempt. */
static int control_payload(sotto_payload *p, uint8_t type, const ctl_entry *e)
{
    memset(p, 0, sizeof *p);
    p->content_type = type;
    p->sent_at_ms = e->first_ms;
    p->has_edit_of = 1;
    return uuid_parse(e->id, p->client_message_id) != 0 ||
                   uuid_parse(e->conv, p->conversation_id) != 0 ||
                   uuid_parse(e->target, p->edit_of) != 0
               ? -1
               : 0;
}

/* After the DELETE payload went out: the server drops the ciphertext it still holds (its own
 * event deletes nothing), then the local text is wiped. */
static int delete_finish(client *c, const char *server_id, const char *local_id)
{
    char path[128];
    http_resp r;
    int rc;

    snprintf(path, sizeof path, "/api/messages/%s", server_id);
    if (client_api(c, "DELETE", path, NULL, &r) == 0) {
        if (r.status != 200 && r.status != 204)
            client_fail(&r, "dropping the server's copy");
        http_resp_clear(&r);
    }
    rc = ls_message_wipe(c->st, local_id, now_ms()) == 0 && att_forget(c->st, local_id) == 0
             ? 0
             : EXIT_LOCAL;
    ls_checkpoint(c->st);
    return rc;
}

int control_send_queued(client *c, const ctl_entry *e)
{
    int retry = strcmp(e->kind, "retry") == 0;
    sotto_payload p;
    int rc;

    if (!retry && strcmp(e->kind, "delete") != 0)
        return EXIT_LOCAL;
    if (control_payload(&p, retry ? SOTTO_CONTENT_RETRY : SOTTO_CONTENT_DELETE, e) != 0)
        return EXIT_LOCAL;
    /* A retry's mark was stored with its entry: it stays while the entry waits. */
    if ((rc = send_control(c, e->peer, &p, NULL, NULL, e->conv, e->id)) != 0 || retry)
        return rc;
    return delete_finish(c, e->target, e->local);
}

int delete_message(client *c, const char *username, const char *id, int *queued)
{
    ls_message m;
    ctl_entry e;
    char peer[40];
    int rc;

    *queued = 0;
    if ((rc = own_message(c, username, id, peer, &m)) != 0)
        return rc;
    if (held(c, peer, username)) {
        ls_message_clear(&m);
        return EXIT_TRUST;
    }
    /* The delete itself: an authenticated DELETE payload to every device of both users. */
    controls_entry(&e, "delete", m.conversation_id, peer, m.server_id, m.id);
    rc = control_send_queued(c, &e);
    if (rc == EXIT_NET) { /* no connection: kept, sent with the next sync, chat or send */
        e.fails = 1;
        if (controls_add(c, &e) == 0) {
            fprintf(stderr, "sotto: Deleting for everyone: waiting for a connection. It is sent"
                            " with the next sync, chat or send\n");
            *queued = 1;
            rc = 0;
        }
    }
    if (rc != 0)
        fprintf(stderr, "sotto: the deletion was not sent; nothing was deleted\n");
    ls_message_clear(&m);
    return rc;
}

/* ------------------------------------------------------------------ retry and resend */

/* The rate windows (controls.h): 1 allowed (counted), 0 not. */
static int rate_take(client *c, const char *kind, const char *user, const char *device)
{
    char name[160], val[48], *end = NULL;
    uint8_t *v = NULL;
    size_t len = 0;
    unsigned long long start = 0, count = 0, now = now_ms();

    snprintf(name, sizeof name, "%s-rate:%s:%s", kind, user, device);
    if (ls_kv_get(c->st, name, &v, &len) == 0 && len < sizeof val) {
        memcpy(val, v, len);
        val[len] = '\0';
        start = strtoull(val, &end, 10);
        count = end != NULL ? strtoull(end, NULL, 10) : 0;
    }
    ls_secret_free(v);
    if (start > now || now - start >= RETRY_RATE_WINDOW_MS)
        start = now, count = 0;
    if (count >= RETRY_RATE_MAX)
        return 0;
    snprintf(val, sizeof val, "%llu %llu", start, count + 1);
    ls_kv_put_str(c->st, name, val);
    return 1;
}

int retry_request(client *c, const char *conv, const char *peer, const char *sender,
                  const char *device, const char *target)
{
    sotto_payload p;
    ctl_entry e;
    char mark[64];
    int rc;

    if (!rate_take(c, "retry", sender, device))
        return 1;
    /* Queued (with its mark) before the first send, so a resend can never come first and a
     * send that fails for want of a connection goes out later under the same id. */
    controls_entry(&e, "retry", conv, peer, target, NULL);
    if ((rc = controls_add(c, &e)) < 0)
        return EXIT_LOCAL;
    if (rc == 0) {
        rc = controls_try(c, e.id);
        return rc == 0 ? 0 : rc == 1 ? 2 : rc == 2 ? EXIT_REFUSED : rc;
    }
    /* The queue is full: one send, as before, not kept. */
    snprintf(mark, sizeof mark, "retry:%s", target);
    if (control_payload(&p, SOTTO_CONTENT_RETRY, &e) != 0)
        return EXIT_LOCAL;
    return send_control(c, peer, &p, NULL, mark, conv, e.id);
}

int resend_answer(client *c, const char *conv, const char *requester, const char *device,
                  const char *target)
{
    ls_message m;
    sotto_payload p;
    char mark[64];
    int rc = pr_resend_source(&c->pr, target, conv, requester, &m);

    if (rc != 0)
        return rc < 0 ? -EXIT_LOCAL : rc;
    /* Its `resent:` mark is dropped after 30 days: an older message is never resent, so a
     * dropped mark cannot allow a second resend. */
    if (now_ms() > m.sent_at_ms && now_ms() - m.sent_at_ms > CONTROLS_MARK_KEEP_MS) {
        ls_message_clear(&m);
        return 5;
    }
    if (!rate_take(c, "resend", requester, device)) {
        ls_message_clear(&m);
        return 4;
    }
    /* The same message (clientMessageId, sent time, text) as a RESEND naming the original;
     * the asking device gets it on a new session from a freshly claimed bundle. */
    memset(&p, 0, sizeof p);
    p.content_type = SOTTO_CONTENT_RESEND;
    p.sent_at_ms = m.sent_at_ms;
    p.has_edit_of = 1;
    p.body = (const uint8_t *)m.body;
    p.body_len = m.body_len;
    snprintf(mark, sizeof mark, "resent:%s", target);
    fresh_dev fresh = {requester, device};
    char cid[UUID_STRLEN + 1]; /* its own POST: the original's id would name the original */
    uuid_v4(cid);
    if (uuid_parse(m.id, p.client_message_id) != 0 ||
        uuid_parse(m.conversation_id, p.conversation_id) != 0 ||
        uuid_parse(m.server_id, p.edit_of) != 0)
        rc = -EXIT_LOCAL;
    else if ((rc = send_control(c, m.peer_id, &p, &fresh, mark, conv, cid)) != 0)
        rc = -rc;
    ls_message_clear(&m);
    return rc;
}
