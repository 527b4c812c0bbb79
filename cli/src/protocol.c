/* protocol.c: encrypt/decrypt with save-before-acting (see protocol.h). */
#include "protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attlist.h"
#include "crash.h"
#include "util.h"

/* ------------------------------------------------------------------ context */

int pr_ctx_load(pr_ctx *c, ls_store *st)
{
    char *v = NULL;
    int rc;

    memset(c, 0, sizeof *c);
    c->st = st;
    if ((rc = ls_account_load(st, &c->acct)) != 0)
        return rc;
    if (ls_kv_get_str(st, "user_id", &v) == 0) {
        str_copy(c->user_id, sizeof c->user_id, v);
        free(v);
    }
    if (ls_kv_get_str(st, "device_id", &v) == 0) {
        str_copy(c->device_id, sizeof c->device_id, v);
        free(v);
    }
    return 0;
}

void pr_ctx_free(pr_ctx *c)
{
    sotto_account_free(c->acct);
    c->acct = NULL;
}

int pr_account_create(pr_ctx *c, ls_store *st, uint32_t n_otk)
{
    sotto_prekey *tmp = calloc(n_otk ? n_otk : 1, sizeof *tmp);
    int rc = -1;

    memset(c, 0, sizeof *c);
    c->st = st;
    if (tmp == NULL || sotto_account_create(&c->acct, now_s()) != 0 ||
        sotto_account_generate_one_time_keys(c->acct, n_otk, tmp) != 0 ||
        ls_account_save(st, c->acct) != 0)
        goto fail;
    rc = 0;
fail:
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ bundles as JSON */

static json_t *b64_json(const uint8_t *v, size_t len)
{
    char *s = b64_encode(v, len);
    json_t *j = s ? json_string(s) : NULL;

    free(s);
    return j;
}

json_t *pr_bundle_json(const sotto_account *a, const sotto_prekey *otk, size_t n)
{
    sotto_bundle b;
    json_t *keys = json_array();

    sotto_account_bundle(a, &b);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(keys, json_pack("{s:I,s:o}", "keyId", (json_int_t)otk[i].key_id,
                                              "publicKey", b64_json(otk[i].public_key, 32)));
    return json_pack("{s:o,s:o,s:o,s:{s:I,s:o,s:o},s:o}", "identityKey",
                     b64_json(b.identity_key, 32), "signingKey", b64_json(b.signing_key, 32),
                     "identitySignature", b64_json(b.identity_signature, 64), "signedPreKey",
                     "keyId", (json_int_t)b.signed_pre_key_id, "publicKey",
                     b64_json(b.signed_pre_key, 32), "signature",
                     b64_json(b.signed_pre_key_signature, 64), "oneTimePreKeys", keys);
}

static int b64_field(const json_t *o, const char *k, uint8_t *out, size_t len)
{
    return b64_decode_fixed(json_string_value(json_object_get(o, k)), out, len);
}

int pr_bundle_parse(const json_t *dev, sotto_bundle *b)
{
    const json_t *spk = json_object_get(dev, "signedPreKey");
    const json_t *otk = json_object_get(dev, "oneTimePreKey");

    memset(b, 0, sizeof *b);
    if (b64_field(dev, "identityKey", b->identity_key, 32) != 0 ||
        b64_field(dev, "signingKey", b->signing_key, 32) != 0 ||
        b64_field(dev, "identitySignature", b->identity_signature, 64) != 0 ||
        !json_is_object(spk) || !json_is_integer(json_object_get(spk, "keyId")) ||
        b64_field(spk, "publicKey", b->signed_pre_key, 32) != 0 ||
        b64_field(spk, "signature", b->signed_pre_key_signature, 64) != 0)
        return -1;
    b->signed_pre_key_id = (uint32_t)json_integer_value(json_object_get(spk, "keyId"));
    if (json_is_object(otk)) {
        if (!json_is_integer(json_object_get(otk, "keyId")) ||
            b64_field(otk, "publicKey", b->one_time_pre_key.public_key, 32) != 0)
            return -1;
        b->one_time_pre_key.key_id = (uint32_t)json_integer_value(json_object_get(otk, "keyId"));
        b->has_one_time_pre_key = 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ sending */

int pr_has_session(pr_ctx *c, const char *user, const char *device)
{
    sotto_record *r = NULL;
    int rc = ls_record_load(c->st, user, device, &r);

    if (rc < 0)
        return -1;
    rc = sotto_record_has_session_at(r, now_s());
    sotto_record_free(r);
    return rc;
}

/* The payload for one target: TEXT for the peer, SYNC (a copy) for our own devices. */
typedef struct payload_bytes {
    uint8_t *text, *sync; /* sodium_malloc()ed encodings */
    size_t text_len, sync_len;
} payload_bytes;

static void payload_bytes_free(payload_bytes *p)
{
    ls_secret_free(p->text);
    ls_secret_free(p->sync);
    memset(p, 0, sizeof *p);
}

static int encode_one(sotto_payload *p, uint8_t type, uint8_t **out, size_t *len)
{
    size_t cap;

    p->content_type = type;
    cap = sotto_payload_encoded_size(p);
    if (cap == 0 || cap > SOTTO_PLAINTEXT_MAX || (*out = sodium_malloc(cap)) == NULL)
        return -1;
    return sotto_payload_encode(p, *out, cap, len) == 0 ? 0 : -1;
}

/* att[0..n_att): the files the message carries (none: NULL, 0). */
static int payload_build(payload_bytes *pb, const char *client_id, const char *conv,
                         const char *text, uint64_t sent_at_ms, const sotto_attachment_pointer *att,
                         size_t n_att)
{
    sotto_payload p;

    memset(&p, 0, sizeof p);
    memset(pb, 0, sizeof *pb);
    if (uuid_parse(client_id, p.client_message_id) != 0 || uuid_parse(conv, p.conversation_id) != 0)
        return -1;
    p.sent_at_ms = sent_at_ms;
    p.body = (const uint8_t *)text;
    p.body_len = strlen(text);
    if (n_att > SOTTO_ATTACHMENTS_MAX)
        return -1;
    p.n_attachments = n_att;
    if (n_att > 0)
        memcpy(p.attachments, att, n_att * sizeof *att);
    if (encode_one(&p, SOTTO_CONTENT_TEXT, &pb->text, &pb->text_len) != 0 ||
        encode_one(&p, SOTTO_CONTENT_SYNC, &pb->sync, &pb->sync_len) != 0) {
        payload_bytes_free(pb);
        return -1;
    }
    return 0;
}

/* Encrypts for one target, appending {deviceId, type, ciphertext} to arr; *rec is the
 * advanced record, to be saved by the caller in its transaction. */
static int encrypt_one(pr_ctx *c, const pr_target *t, const payload_bytes *pb, json_t *arr,
                       sotto_record **rec)
{
    int own = strcmp(t->user_id, c->user_id) == 0;
    const uint8_t *pt = own ? pb->sync : pb->text;
    size_t pt_len = own ? pb->sync_len : pb->text_len, out_len = 0;
    uint8_t *out = NULL;
    unsigned type = 0;
    char *b64 = NULL;
    int rc = -1;

    uint64_t now = now_s();
    uint8_t pinned_ik[32], pinned_sk[32];

    if (ls_record_load(c->st, t->user_id, t->device_id, rec) < 0)
        return -1;
    rc = SOTTO_E_KEY_MISMATCH;
    if (!t->has_listed)
        goto fail; /* a device we cannot bind to a listed key gets nothing */
    /* A session pinned to another key than the listed one is not talked to either. */
    if (sotto_record_peer_keys(*rec, pinned_ik, pinned_sk) == 0 &&
        sodium_memcmp(pinned_sk, t->listed_signing_key, 32) != 0)
        goto fail;
    if (t->fresh || !sotto_record_has_session_at(*rec, now)) {
        rc = SOTTO_E_NO_SESSION;
        if (!t->has_bundle || (rc = sotto_record_initiate_expected(
                                   *rec, c->acct, &t->bundle, t->listed_signing_key, now)) != 0)
            goto fail;
    }
    rc = -1;
    size_t cap = sotto_envelope_size(pt_len, 1);
    if ((out = malloc(cap)) == NULL)
        goto fail;
    if ((rc = sotto_record_encrypt_at(*rec, pt, pt_len, now, out, cap, &out_len, &type)) != 0)
        goto fail;
    rc = -1;
    if ((b64 = b64_encode(out, out_len)) == NULL)
        goto fail;
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "deviceId", t->device_id, "type",
                                         type == SOTTO_ENVELOPE_PREKEY ? "prekey" : "message",
                                         "ciphertext", b64));
    rc = 0;
fail:
    free(b64);
    free(out);
    return rc;
}

static void records_free(sotto_record **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sotto_record_free(recs[i]);
    free(recs);
}

/* Saves every record of t[0..n) inside the caller's transaction. */
static int records_save(pr_ctx *c, const pr_target *t, sotto_record **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ls_record_save(c->st, t[i].user_id, t[i].device_id, recs[i]) != 0)
            return -1;
    return 0;
}

static int commit_send(pr_ctx *c, const ls_message *m, const pr_target *t, sotto_record **recs,
                       size_t n, const char *json, const sotto_attachment_pointer *att,
                       size_t n_att)
{
    if (ls_begin(c->st) != 0)
        return -1;
    if (records_save(c, t, recs, n) != 0 || ls_message_put(c->st, m) != 0 ||
        (n_att > 0 && att_save(c->st, m->id, att, n_att) != 0) ||
        ls_outbox_put(c->st, m->id, m->conversation_id, json) != 0 ||
        crash_point("send-before-commit") || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return -1;
    }
    return 0;
}

int pr_send_prepare(pr_ctx *c, const char *conv, const char *peer, const char *text,
                    const pr_target *t, size_t n, char client_id[40])
{
    return pr_send_prepare_files(c, conv, peer, text, NULL, 0, t, n, client_id);
}

int pr_send_prepare_files(pr_ctx *c, const char *conv, const char *peer, const char *text,
                          const sotto_attachment_pointer *att, size_t n_att, const pr_target *t,
                          size_t n, char client_id[40])
{
    sotto_record **recs = calloc(n ? n : 1, sizeof *recs);
    json_t *arr = json_array();
    payload_bytes pb = {0};
    ls_message m;
    char *json = NULL;
    int rc = -1;

    memset(&m, 0, sizeof m);
    uuid_v4(client_id);
    m.sent_at_ms = now_ms();
    if (recs == NULL || arr == NULL ||
        payload_build(&pb, client_id, conv, text, m.sent_at_ms, att, n_att) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = encrypt_one(c, &t[i], &pb, arr, &recs[i])) != 0)
            goto fail;
    rc = -1;
    if ((json = json_dumps(arr, JSON_COMPACT)) == NULL)
        goto fail;
    str_copy(m.id, sizeof m.id, client_id);
    str_copy(m.conversation_id, sizeof m.conversation_id, conv);
    str_copy(m.peer_id, sizeof m.peer_id, peer);
    str_copy(m.sender_device, sizeof m.sender_device, c->device_id);
    m.outgoing = 1;
    m.status = LS_MSG_PENDING;
    m.body_len = strlen(text);
    if ((m.body = sodium_malloc(m.body_len + 1)) == NULL)
        goto fail;
    memcpy(m.body, text, m.body_len + 1);
    if (commit_send(c, &m, t, recs, n, json, att, n_att) != 0)
        goto fail;
    rc = crash_point("send-after-commit") ? -1 : 0;
fail:
    ls_message_clear(&m);
    free(json);
    json_decref(arr);
    records_free(recs, n);
    payload_bytes_free(&pb);
    return rc;
}

/* Drops from arr every envelope whose deviceId is in extra[0..n). */
static void drop_devices(json_t *arr, const char *const *extra, size_t n)
{
    for (size_t i = json_array_size(arr); i-- > 0;) {
        const char *d = json_string_value(json_object_get(json_array_get(arr, i), "deviceId"));
        for (size_t k = 0; d != NULL && k < n; k++)
            if (strcmp(d, extra[k]) == 0) {
                json_array_remove(arr, i);
                break;
            }
    }
}

int pr_outbox_amend(pr_ctx *c, const char *client_id, const char *const *extra, size_t n_extra,
                    const pr_target *add, size_t n_add)
{
    sotto_record **recs = calloc(n_add ? n_add : 1, sizeof *recs);
    char *conv = NULL, *json = NULL, *out = NULL;
    json_t *arr = NULL;
    payload_bytes pb = {0};
    att_list files;
    ls_message m;
    int rc = -1, has_files;

    memset(&m, 0, sizeof m);
    /* The new devices get the very message the others got, files included. */
    if ((has_files = att_load(c->st, client_id, &files)) < 0)
        goto fail;
    if (recs == NULL || ls_outbox_get(c->st, client_id, &conv, &json) != 0 ||
        ls_message_get(c->st, client_id, &m) != 0 || m.body == NULL ||
        (arr = json_loads(json, 0, NULL)) == NULL ||
        payload_build(&pb, client_id, conv, m.body, m.sent_at_ms,
                      has_files == 0 ? files.p.attachments : NULL,
                      has_files == 0 ? files.p.n_attachments : 0) != 0)
        goto fail;
    drop_devices(arr, extra, n_extra);
    for (size_t i = 0; i < n_add; i++)
        if ((rc = encrypt_one(c, &add[i], &pb, arr, &recs[i])) != 0)
            goto fail;
    rc = -1;
    if ((out = json_dumps(arr, JSON_COMPACT)) == NULL || ls_begin(c->st) != 0)
        goto fail;
    if (records_save(c, add, recs, n_add) != 0 || ls_outbox_put(c->st, client_id, conv, out) != 0 ||
        ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        goto fail;
    }
    rc = 0;
fail:
    if (has_files == 0)
        att_list_clear(&files);
    ls_message_clear(&m);
    payload_bytes_free(&pb);
    records_free(recs, n_add);
    json_decref(arr);
    free(conv);
    free(json);
    free(out);
    return rc;
}

int pr_send_done(pr_ctx *c, const char *client_id, const char *server_id)
{
    if (ls_begin(c->st) != 0)
        return -1;
    if (ls_message_sent(c->st, client_id, server_id) != 0 || ls_outbox_del(c->st, client_id) != 0 ||
        ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ receiving */

/* Decodes the payload and checks its conversation against what the server says. */
static int payload_decode_in(const pr_incoming *in, const uint8_t *pt, size_t len, sotto_payload *p)
{
    uint8_t conv[16];

    if (sotto_payload_decode(p, pt, len) != 0 || uuid_parse(in->conversation_id, conv) != 0 ||
        sodium_memcmp(conv, p->conversation_id, 16) != 0)
        return -1; /* the server may not move a message into another conversation */
    return 0;
}

/* Copies the payload's text into m (a NUL inside is refused). */
static int body_take(ls_message *m, const sotto_payload *p)
{
    if (memchr(p->body, 0, p->body_len) != NULL ||
        (m->body = sodium_malloc(p->body_len + 1)) == NULL)
        return -1;
    memcpy(m->body, p->body, p->body_len);
    m->body[p->body_len] = '\0';
    m->body_len = p->body_len;
    return 0;
}

/* A TEXT from the peer or a SYNC copy from our own device: fills m. */
static int payload_accept(pr_ctx *c, const pr_incoming *in, const sotto_payload *p, ls_message *m)
{
    int own = strcmp(in->sender_id, c->user_id) == 0;

    if (p->content_type != (own ? SOTTO_CONTENT_SYNC : SOTTO_CONTENT_TEXT))
        return -1;
    if (body_take(m, p) != 0)
        return -1;
    m->sent_at_ms = p->sent_at_ms;
    m->outgoing = own;
    m->status = own ? LS_MSG_SENT : LS_MSG_RECEIVED;
    return 0;
}

/* files: the payload whose files (if any) are kept with the message, or NULL. */
static int commit_receive(pr_ctx *c, const char *sender, const char *device, const sotto_record *r,
                          const ls_message *m, const sotto_payload *files)
{
    if (ls_begin(c->st) != 0)
        return -1;
    if ((r != NULL &&
         (ls_record_save(c->st, sender, device, r) != 0 || ls_account_save(c->st, c->acct) != 0)) ||
        ls_message_put(c->st, m) != 0 ||
        (files != NULL && files->n_attachments > 0 &&
         att_save(c->st, m->id, files->attachments, files->n_attachments) != 0) ||
        /* a refused item says nothing true about whom the conversation is with */
        (m->status != LS_MSG_REFUSED && m->status != LS_MSG_UNREADABLE &&
         ls_conversation_put(c->st, m->conversation_id, m->peer_id) != 0) ||
        crash_point("receive-before-commit") || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return -1;
    }
    return 0;
}

/* Decodes and decrypts in->ciphertext_b64 with the record of the sender device, bound to
 * the listed signing key: SOTTO_E_KEY_MISMATCH when there is none (the device is not
 * listed), when the envelope's key is another, or when the record is pinned to another
 * identity (SOTTO_E_UNTRUSTED counts as the same event). Other failures: their SOTTO_E_*
 * or -1. *ct and *pt are the caller's to free (pt with sodium_free). */
static int decrypt_checked(pr_ctx *c, const pr_incoming *in, sotto_record *r, uint8_t **ct,
                           size_t *ct_len, uint8_t **pt, size_t *pt_len)
{
    int rc;

    if (in->expected_signing_key == NULL)
        return SOTTO_E_KEY_MISMATCH;
    if (in->ciphertext_b64 == NULL || b64_decode(in->ciphertext_b64, ct, ct_len) != 0 ||
        (*pt = sodium_malloc(*ct_len ? *ct_len : 1)) == NULL)
        return -1;
    rc = sotto_record_decrypt_expected(r, c->acct, *ct, *ct_len, now_s(), in->expected_signing_key,
                                       *pt, *ct_len, pt_len);
    return rc == SOTTO_E_UNTRUSTED ? SOTTO_E_KEY_MISMATCH : rc;
}

static int reload_account(pr_ctx *c)
{
    sotto_account_free(c->acct);
    c->acct = NULL;
    return ls_account_load(c->st, &c->acct);
}

/* Control payloads are not history rows: their server ids are remembered in kv. */
static void ctl_name(const char *server_id, char name[64])
{
    snprintf(name, 64, "ctl:%s", server_id);
}

/* 1 when the kv entry `name` exists, 0 when not, -1 on error. */
static int kv_has(pr_ctx *c, const char *name)
{
    uint8_t *v = NULL;
    size_t len;
    int rc = ls_kv_get(c->st, name, &v, &len);

    ls_secret_free(v);
    return rc < 0 ? -1 : rc == 0;
}

/* Whether the user who authenticated `in` may delete the message t: its sender. Our own
 * messages: our own user (any of our devices); a message we read: the peer it came from; one
 * without an authenticated sender here (undecryptable, refused): only the device it was
 * labelled with. */
static int authored_by(pr_ctx *c, const ls_message *t, const pr_incoming *in)
{
    if (t->outgoing)
        return strcmp(in->sender_id, c->user_id) == 0;
    if (t->status == LS_MSG_RECEIVED)
        return strcmp(in->sender_id, t->peer_id) == 0;
    return strcmp(in->sender_device, t->sender_device) == 0;
}

/* The target named by a control payload, in the same conversation; 1 when there is none. */
static int control_target(pr_ctx *c, const pr_incoming *in, const sotto_payload *p, pr_info *info,
                          ls_message *t)
{
    int rc;

    uuid_format(p->edit_of, info->target);
    if ((rc = ls_message_get(c->st, info->target, t)) != 0)
        return rc;
    if (strcmp(t->server_id, info->target) != 0 ||
        strcmp(t->conversation_id, in->conversation_id) != 0) {
        ls_message_clear(t);
        return 1;
    }
    return 0;
}

/* The advanced state, the control mark and what the payload does, in one transaction. */
static int commit_control(pr_ctx *c, const pr_incoming *in, const sotto_record *r,
                          const ls_message *wipe, const ls_message *fill)
{
    char name[64];

    ctl_name(in->server_id, name);
    if (ls_begin(c->st) != 0)
        return -1;
    if (ls_record_save(c->st, in->sender_id, in->sender_device, r) != 0 ||
        ls_account_save(c->st, c->acct) != 0 || ls_kv_put(c->st, name, (const uint8_t *)"1", 1) ||
        (wipe != NULL &&
         (ls_message_wipe(c->st, wipe->id, now_ms()) != 0 || att_forget(c->st, wipe->id) != 0)) ||
        (fill != NULL && (ls_message_fill(c->st, fill) != 0 ||
                          ls_conversation_put(c->st, fill->conversation_id, fill->peer_id) != 0)) ||
        crash_point("receive-before-commit") || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return -1;
    }
    return 0;
}

/* DELETE, RETRY, RESEND and unknown types: decides, commits, says what it did. */
static int receive_control(pr_ctx *c, const pr_incoming *in, const sotto_record *r,
                           const sotto_payload *p, pr_info *info, ls_message *out)
{
    ls_message t, fill;
    char asked[64];
    int rc = -1, have = 1, verdict = PR_CONTROL;
    const ls_message *wipe = NULL, *filled = NULL;

    memset(&t, 0, sizeof t);
    memset(&fill, 0, sizeof fill);
    info->outcome = PR_CTL_IGNORED;
    if (p->content_type == SOTTO_CONTENT_DELETE || p->content_type == SOTTO_CONTENT_RETRY ||
        p->content_type == SOTTO_CONTENT_RESEND) {
        if ((have = control_target(c, in, p, info, &t)) < 0)
            return -1;
    } else {
        info->outcome = PR_CTL_UNKNOWN;
    }
    if (p->content_type == SOTTO_CONTENT_DELETE && have == 0) {
        if (!authored_by(c, &t, in))
            info->outcome = PR_CTL_REFUSED; /* only the message's own sender deletes it */
        else if (t.deleted_at_ms == 0)
            wipe = &t, info->outcome = PR_CTL_APPLIED;
    } else if (p->content_type == SOTTO_CONTENT_RETRY) {
        info->outcome = PR_CTL_APPLIED; /* pr_resend_source decides, with the network */
    } else if (p->content_type == SOTTO_CONTENT_RESEND && have == 0) {
        snprintf(asked, sizeof asked, "retry:%s", info->target);
        int we_asked = kv_has(c, asked);
        if (we_asked < 0)
            goto done;
        if (we_asked && t.status == LS_MSG_UNREADABLE && t.deleted_at_ms == 0 &&
            strcmp(t.sender_device, in->sender_device) == 0 && body_take(&fill, p) == 0) {
            str_copy(fill.id, sizeof fill.id, t.id);
            str_copy(fill.conversation_id, sizeof fill.conversation_id, t.conversation_id);
            str_copy(fill.peer_id, sizeof fill.peer_id, t.peer_id);
            fill.sent_at_ms = p->sent_at_ms;
            fill.outgoing = strcmp(in->sender_id, c->user_id) == 0;
            fill.status = fill.outgoing ? LS_MSG_SENT : LS_MSG_RECEIVED;
            filled = &fill;
            info->outcome = PR_CTL_APPLIED;
            verdict = PR_STORED;
        }
    }
    if (commit_control(c, in, r, wipe, filled) != 0) {
        reload_account(c);
        goto done;
    }
    if (wipe != NULL)
        ls_checkpoint(c->st); /* best effort: the WAL copy of the old page goes too */
    if (crash_point("receive-after-commit"))
        goto done;
    rc = verdict;
    if (verdict == PR_STORED && out != NULL && ls_message_get(c->st, t.id, out) != 0)
        memset(out, 0, sizeof *out);
done:
    ls_message_clear(&t);
    ls_message_clear(&fill);
    return rc;
}

int pr_receive(pr_ctx *c, const pr_incoming *in, const char *peer_id, ls_message *out)
{
    return pr_receive_ex(c, in, peer_id, out, NULL);
}

int pr_receive_ex(pr_ctx *c, const pr_incoming *in, const char *peer_id, ls_message *out,
                  pr_info *info)
{
    sotto_record *r = NULL;
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    ls_message m;
    sotto_payload p;
    pr_info scratch;
    char name[64];
    int rc = -1, seen, drc, verdict = PR_STORED;

    if (info == NULL)
        info = &scratch;
    memset(info, 0, sizeof *info);
    memset(&m, 0, sizeof m);
    ctl_name(in->server_id, name);
    if ((seen = ls_message_seen(c->st, in->server_id)) != 0 || (seen = kv_has(c, name)) != 0)
        return seen < 0 ? -1 : PR_DUPLICATE;
    if (str_copy(m.id, sizeof m.id, in->server_id) != 0 ||
        str_copy(m.server_id, sizeof m.server_id, in->server_id) != 0 ||
        str_copy(m.conversation_id, sizeof m.conversation_id, in->conversation_id) != 0 ||
        str_copy(m.peer_id, sizeof m.peer_id, peer_id) != 0 ||
        str_copy(m.sender_device, sizeof m.sender_device, in->sender_device) != 0)
        goto fail;
    if (ls_record_load(c->st, in->sender_id, in->sender_device, &r) < 0)
        goto fail;
    if ((drc = decrypt_checked(c, in, r, &ct, &ct_len, &pt, &pt_len)) != 0) {
        /* Refused: no state changed; remember the id so the item is acked, never shown. A
         * message that did not decrypt (not a security event, not a replay) is kept as
         * undecryptable, and the caller asks its sender device to resend it. */
        sotto_record_free(r);
        r = NULL;
        verdict = drc == SOTTO_E_KEY_MISMATCH ? PR_SECURITY : PR_REFUSED;
        info->retry = verdict == PR_REFUSED && drc != SOTTO_E_REPLAY;
    } else if (payload_decode_in(in, pt, pt_len, &p) != 0) {
        verdict = PR_REFUSED; /* authentic but unreadable: its key is spent, keep the state */
    } else if ((info->content_type = p.content_type) != SOTTO_CONTENT_TEXT &&
               p.content_type != SOTTO_CONTENT_SYNC && p.content_type != SOTTO_CONTENT_EDIT) {
        rc = receive_control(c, in, r, &p, info, out);
        goto fail;
    } else if (payload_accept(c, in, &p, &m) != 0) {
        /* Authentic but unacceptable (an EDIT belongs in message:edited): keep the state. */
        ls_secret_free(m.body);
        m.body = NULL;
        verdict = PR_REFUSED;
    }
    if (verdict != PR_STORED) {
        m.status = info->retry ? LS_MSG_UNREADABLE : LS_MSG_REFUSED;
        m.outgoing = 0, m.sent_at_ms = now_ms();
    }
    if (commit_receive(c, in->sender_id, in->sender_device, r, &m,
                       verdict == PR_STORED ? &p : NULL) != 0) {
        reload_account(c); /* the in-memory account may be ahead of the disk */
        goto fail;
    }
    if (crash_point("receive-after-commit"))
        goto fail;
    rc = verdict;
    if (out != NULL) {
        *out = m;
        memset(&m, 0, sizeof m);
    }
fail:
    ls_message_clear(&m);
    sotto_record_free(r);
    if (pt != NULL)
        sodium_free(pt);
    free(ct);
    return rc;
}

/* ------------------------------------------------------------------ call signals */

static int commit_record(pr_ctx *c, const pr_incoming *in, const sotto_record *r)
{
    if (ls_begin(c->st) != 0)
        return -1;
    if (ls_record_save(c->st, in->sender_id, in->sender_device, r) != 0 ||
        ls_account_save(c->st, c->acct) != 0 || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        reload_account(c);
        return -1;
    }
    return 0;
}

int pr_receive_call(pr_ctx *c, const pr_incoming *in, sotto_call_binding *binding, const char **why)
{
    sotto_record *r = NULL;
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    sotto_payload p;
    int rc = -1, drc;

    *why = "it could not be decrypted";
    if (ls_record_load(c->st, in->sender_id, in->sender_device, &r) < 0)
        goto done;
    if ((drc = decrypt_checked(c, in, r, &ct, &ct_len, &pt, &pt_len)) != 0) {
        rc = drc == SOTTO_E_KEY_MISMATCH ? PR_SECURITY : PR_REFUSED;
        if (drc == SOTTO_E_KEY_MISMATCH)
            *why = "its device is not the listed one";
        goto done; /* nothing decrypted: no state to keep */
    }
    /* Authentic: its message key is spent either way, so the advanced state is kept. */
    if (commit_record(c, in, r) != 0)
        goto done;
    rc = PR_REFUSED;
    if (payload_decode_in(in, pt, pt_len, &p) != 0)
        *why = "it is not a payload of the call's conversation";
    else if (p.content_type != SOTTO_CONTENT_CALL || !p.has_call)
        *why = "it is not a call signal";
    else
        *binding = p.call, rc = PR_STORED;
done:
    sotto_record_free(r);
    if (pt != NULL)
        sodium_free(pt);
    free(ct);
    return rc;
}

/* ------------------------------------------------------------------ edits and deletes */

/* The queue may hand us an edit again after a crash between commit and ack; its ciphertext
 * cannot be decrypted twice, so applied edits are remembered by a hash of the envelope. */
static int edit_slot(const char *ct_b64, char name[48])
{
    uint8_t h[16];
    char hex[33];

    if (ct_b64 == NULL ||
        crypto_generichash(h, sizeof h, (const uint8_t *)ct_b64, strlen(ct_b64), NULL, 0) != 0)
        return -1;
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(name, 48, "edit:%s", hex);
    return 0;
}

/* Checks an authentic edit payload against its target; fills *body on success. */
static int edit_accept(pr_ctx *c, const pr_incoming *in, const ls_message *target,
                       const sotto_payload *p)
{
    uint8_t conv[16];
    char edit_of[UUID_STRLEN + 1];
    const char *author = target->outgoing ? c->user_id : target->peer_id;

    if (uuid_parse(in->conversation_id, conv) != 0 ||
        sodium_memcmp(conv, p->conversation_id, 16) != 0)
        return -1; /* moved into another conversation */
    if (p->content_type != SOTTO_CONTENT_EDIT || !p->has_edit_of)
        return -1;
    uuid_format(p->edit_of, edit_of);
    if (strcmp(edit_of, target->server_id) != 0 && strcmp(edit_of, target->id) != 0)
        return -1; /* the payload edits another message than the server says */
    if (strcmp(target->server_id, in->server_id) != 0 ||
        strcmp(target->conversation_id, in->conversation_id) != 0)
        return -1;
    if (strcmp(author, in->sender_id) != 0)
        return -1; /* only the original sender's user may edit (authenticated by the session) */
    if (target->deleted_at_ms != 0 || target->body == NULL ||
        memchr(p->body, 0, p->body_len) != NULL)
        return -1;
    return 0;
}

int pr_receive_edit(pr_ctx *c, const pr_incoming *in, ls_message *out)
{
    sotto_record *r = NULL;
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    ls_message target;
    sotto_payload p;
    char slot[48], *body = NULL;
    int rc = -1, have, have_rc, verdict = PR_STORED;
    uint8_t *seen = NULL;
    size_t seen_len;

    memset(&target, 0, sizeof target);
    if (edit_slot(in->ciphertext_b64, slot) != 0)
        return PR_REFUSED;
    if ((have = ls_kv_get(c->st, slot, &seen, &seen_len)) <= 0) {
        ls_secret_free(seen);
        return have < 0 ? -1 : PR_DUPLICATE;
    }
    if ((have = ls_message_get(c->st, in->server_id, &target)) < 0)
        return -1;
    if (ls_record_load(c->st, in->sender_id, in->sender_device, &r) < 0)
        goto fail;
    if ((have_rc = decrypt_checked(c, in, r, &ct, &ct_len, &pt, &pt_len)) != 0) {
        rc = have_rc == SOTTO_E_KEY_MISMATCH ? PR_SECURITY : PR_REFUSED; /* nothing changed */
        goto fail;
    }
    if (have != 0 || sotto_payload_decode(&p, pt, pt_len) != 0 ||
        edit_accept(c, in, &target, &p) != 0) {
        verdict = PR_REFUSED; /* authentic but not acceptable: keep the advanced state only */
    } else if ((body = sodium_malloc(p.body_len + 1)) != NULL) {
        memcpy(body, p.body, p.body_len);
        body[p.body_len] = '\0';
    } else {
        goto fail;
    }
    if (ls_begin(c->st) != 0)
        goto fail;
    if (ls_record_save(c->st, in->sender_id, in->sender_device, r) != 0 ||
        ls_account_save(c->st, c->acct) != 0 ||
        ls_kv_put(c->st, slot, (const uint8_t *)"1", 1) != 0 ||
        (verdict == PR_STORED && ls_message_edit(c->st, target.id, body, p.body_len,
                                                 p.sent_at_ms ? p.sent_at_ms : now_ms()) != 0) ||
        crash_point("receive-before-commit") || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        reload_account(c);
        goto fail;
    }
    if (crash_point("receive-after-commit"))
        goto fail;
    rc = verdict;
    if (out != NULL && verdict == PR_STORED && ls_message_get(c->st, target.id, out) != 0)
        memset(out, 0, sizeof *out);
fail:
    ls_secret_free(body);
    ls_message_clear(&target);
    sotto_record_free(r);
    if (pt != NULL)
        sodium_free(pt);
    free(ct);
    return rc;
}

int pr_receive_delete(pr_ctx *c, const char *server_id, const char *conv, uint64_t deleted_at_ms)
{
    ls_message target;
    int rc;

    (void)deleted_at_ms; /* the server's word alone deletes nothing (issue 17, item 4) */
    memset(&target, 0, sizeof target);
    if ((rc = ls_message_get(c->st, server_id, &target)) != 0)
        return rc < 0 ? -1 : PR_DUPLICATE; /* never had it: nothing to say */
    if (strcmp(target.server_id, server_id) != 0 || conv == NULL ||
        strcmp(target.conversation_id, conv) != 0)
        rc = PR_REFUSED;
    else
        rc = target.deleted_at_ms != 0 ? PR_DUPLICATE : PR_STORED;
    ls_message_clear(&target);
    return rc;
}

int pr_control_prepare(pr_ctx *c, const sotto_payload *p, const pr_target *t, size_t n,
                       const char *mark, json_t **envelopes)
{
    sotto_record **recs = calloc(n ? n : 1, sizeof *recs);
    json_t *arr = json_array();
    payload_bytes pb = {0};
    sotto_payload q = *p;
    char stamp[24]; /* a mark holds when it was made: it is dropped after 30 days */
    int rc = -1;

    *envelopes = NULL;
    snprintf(stamp, sizeof stamp, "%llu", (unsigned long long)now_ms());
    if (recs == NULL || arr == NULL ||
        encode_one(&q, p->content_type, &pb.text, &pb.text_len) != 0 ||
        encode_one(&q, p->content_type, &pb.sync, &pb.sync_len) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = encrypt_one(c, &t[i], &pb, arr, &recs[i])) != 0)
            goto fail;
    rc = -1;
    if (ls_begin(c->st) != 0) /* save before acting */
        goto fail;
    if (records_save(c, t, recs, n) != 0 ||
        (mark != NULL && ls_kv_put_str(c->st, mark, stamp) != 0) || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        goto fail;
    }
    *envelopes = arr;
    arr = NULL;
    rc = 0;
fail:
    json_decref(arr);
    records_free(recs, n);
    payload_bytes_free(&pb);
    return rc;
}

int pr_resend_source(pr_ctx *c, const char *target, const char *conv, const char *requester,
                     ls_message *m)
{
    char mark[64];
    int rc;

    memset(m, 0, sizeof *m);
    if ((rc = ls_message_get(c->st, target, m)) != 0)
        return rc < 0 ? -1 : 1;
    rc = 1;
    if (!m->outgoing || strcmp(m->server_id, target) != 0 ||
        strcmp(m->sender_device, c->device_id) != 0 || conv == NULL ||
        strcmp(m->conversation_id, conv) != 0 ||
        (strcmp(requester, m->peer_id) != 0 && strcmp(requester, c->user_id) != 0))
        goto no; /* not ours to answer */
    rc = 2;
    if (m->body == NULL || m->deleted_at_ms != 0)
        goto no;
    snprintf(mark, sizeof mark, "resent:%s", target);
    if ((rc = kv_has(c, mark)) != 0) {
        rc = rc < 0 ? -1 : 3;
        goto no;
    }
    return 0;
no:
    ls_message_clear(m);
    return rc;
}

int pr_edit_prepare(pr_ctx *c, const char *message_id, const char *text, const pr_target *t,
                    size_t n, json_t **envelopes, char server_id[40])
{
    sotto_record **recs = calloc(n ? n : 1, sizeof *recs);
    json_t *arr = json_array();
    payload_bytes pb = {0};
    sotto_payload p;
    ls_message m;
    char client_id[UUID_STRLEN + 1];
    int rc = -1;

    memset(&m, 0, sizeof m);
    memset(&p, 0, sizeof p);
    *envelopes = NULL;
    if (recs == NULL || arr == NULL || ls_message_get(c->st, message_id, &m) != 0)
        goto fail;
    rc = 1; /* not an editable message of ours */
    if (!m.outgoing || m.server_id[0] == '\0' || m.body == NULL || m.deleted_at_ms != 0)
        goto fail;
    rc = -1;
    uuid_v4(client_id);
    if (uuid_parse(client_id, p.client_message_id) != 0 ||
        uuid_parse(m.conversation_id, p.conversation_id) != 0 ||
        uuid_parse(m.server_id, p.edit_of) != 0)
        goto fail;
    p.has_edit_of = 1;
    p.sent_at_ms = now_ms();
    p.body = (const uint8_t *)text;
    p.body_len = strlen(text);
    /* Every device (the contact's and our own) gets the same EDIT payload. */
    if (encode_one(&p, SOTTO_CONTENT_EDIT, &pb.text, &pb.text_len) != 0 ||
        encode_one(&p, SOTTO_CONTENT_EDIT, &pb.sync, &pb.sync_len) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = encrypt_one(c, &t[i], &pb, arr, &recs[i])) != 0)
            goto fail;
    rc = -1;
    /* Save before acting: the advanced records are committed before anything is sent. */
    if (ls_begin(c->st) != 0)
        goto fail;
    if (records_save(c, t, recs, n) != 0 || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        goto fail;
    }
    str_copy(server_id, 40, m.server_id);
    *envelopes = arr;
    arr = NULL;
    rc = 0;
fail:
    ls_message_clear(&m);
    json_decref(arr);
    records_free(recs, n);
    payload_bytes_free(&pb);
    return rc;
}
