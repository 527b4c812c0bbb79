/* messages.c: send, edit and delete (message + queue rows in one transaction), the exact
 * device-list check, history with per-device envelopes and status, and read cursors. */
#include "store/messages.h"

#include "store/attachments.h"
#include "store/blocks.h"
#include "message_row.h"
#include "store/conversations.h"
#include "store/signed_lists.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message as device `dev` sees it: the newest envelope for `dev` whose ciphertext is
 * still stored (not yet delivered to it, not deleted). */
#define MSG_COLS(dev)                                                                       \
    MESSAGE_ROW_COLS                                                                        \
    ", "                                                                                    \
    "(SELECT q.envelope_type FROM device_queue q WHERE q.message_id = m.id "                \
    "AND q.device_id = " dev " AND q.ciphertext IS NOT NULL ORDER BY q.seq DESC LIMIT 1), " \
    "(SELECT q.ciphertext FROM device_queue q WHERE q.message_id = m.id "                   \
    "AND q.device_id = " dev " AND q.ciphertext IS NOT NULL ORDER BY q.seq DESC LIMIT 1)"

static const char msg_get[] = "SELECT " MSG_COLS("$2") " FROM messages m WHERE m.id = $1";
static const char msg_history[] =
    "SELECT " MSG_COLS("$2") " FROM messages m WHERE m.conversation_id = $1 "
                             "ORDER BY m.id DESC LIMIT $3";
static const char msg_history_before[] =
    "SELECT " MSG_COLS("$2") " FROM messages m WHERE m.conversation_id = $1 AND m.id < $4 "
                             "ORDER BY m.id DESC LIMIT $3";
static const char msg_core[] =
    "SELECT conversation_id, sender_user_id, deleted_at FROM messages WHERE id = $1";
static const char msg_by_client[] =
    "SELECT id, conversation_id FROM messages WHERE sender_user_id = $1 "
    "AND client_message_id = $2";
static const char msg_insert[] =
    "INSERT INTO messages (id, conversation_id, sender_user_id, sender_device_id, "
    "client_message_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (sender_user_id, client_message_id) DO NOTHING";
static const char msg_device_ok[] =
    "SELECT 1 FROM devices WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
static const char msg_targets[] =
    "SELECT id, user_id FROM devices WHERE revoked_at IS NULL AND identity_key IS NOT NULL "
    "AND (user_id = $1 OR (user_id = $2 AND id <> $3))";
static const char msg_bump[] =
    "UPDATE conversations SET updated_at = $2, last_message_at = $2 WHERE id = $1";
static const char msg_unhide[] = "UPDATE conversation_participants SET left_at = NULL "
                                 "WHERE conversation_id = $1 AND left_at IS NOT NULL";
static const char msg_accept[] = "UPDATE conversation_participants SET accepted = 1 "
                                 "WHERE conversation_id = $1 AND user_id = $2 AND accepted = 0";
static const char msg_accepted[] = "SELECT 1 FROM conversation_participants "
                                   "WHERE conversation_id = $1 AND user_id = $2 AND accepted = 1";
/* The device row is the per-device seq counter: the row lock orders concurrent senders. */
static const char msg_next_seq_pg[] =
    "UPDATE devices SET next_seq = next_seq + 1 WHERE id = $1 AND revoked_at IS NULL "
    "RETURNING next_seq - 1";
/* SQLite: the one writer holds the whole database, so read, then bump (UPDATE ... RETURNING
 * would buffer its one row in a temporary b-tree, opened and freed for every queue row). */
static const char msg_next_seq_sqlite[] =
    "SELECT next_seq FROM devices WHERE id = $1 AND revoked_at IS NULL";
static const char msg_bump_seq_sqlite[] =
    "UPDATE devices SET next_seq = next_seq + 1 WHERE id = $1";
static const char msg_queue_insert[] =
    "INSERT INTO device_queue (device_id, seq, message_id, event, envelope_type, ciphertext, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char msg_set_edited[] =
    "UPDATE messages SET edited_at = $2 WHERE id = $1 AND deleted_at IS NULL";
static const char msg_set_deleted[] =
    "UPDATE messages SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL";
static const char msg_queued_bytes_sqlite[] = QUEUED_BYTES_SUM("q.message_id = $1", "");
static const char msg_queued_bytes_pg[] = QUEUED_BYTES_SUM("q.message_id = $1", QUEUED_BYTES_LOCK);
static const char msg_drop_ciphertext[] =
    "UPDATE device_queue SET ciphertext = NULL, envelope_type = NULL "
    "WHERE message_id = $1 AND ciphertext IS NOT NULL";
static const char msg_read_cursor[] =
    "UPDATE conversation_participants SET read_cursor = $3, read_at = $4 "
    "WHERE conversation_id = $1 AND user_id = $2 "
    "AND (read_cursor IS NULL OR read_cursor < $3)";
/* Both send read receipts and the reader ($1) has accepted conversation $3. */
static const char msg_receipts_flow[] =
    "SELECT 1 FROM users r JOIN users o ON o.id = $2 JOIN conversation_participants p "
    "ON p.conversation_id = $3 AND p.user_id = r.id WHERE r.id = $1 AND r.read_receipts = 1 "
    "AND o.read_receipts = 1 AND p.accepted = 1";

/* One device a message goes to, and the envelope given for it. */
struct target {
    char device_id[STORE_ID_SIZE];
    char user_id[STORE_ID_SIZE];
    const struct store_envelope *env; /* NULL for `deleted` events */
    bool optional; /* active but not in its account's signed list: allowed, not required */
};

/* What edit and delete need to know about an existing message. */
struct msg_core {
    char conversation_id[STORE_ID_SIZE];
    char sender_id[STORE_ID_SIZE];
    bool deleted;
};

static const char *const envelope_names[] = {
    [STORE_ENVELOPE_PREKEY] = "prekey", [STORE_ENVELOPE_MESSAGE] = "message"};

void store_message_free(struct store_message *m)
{
    if (!m)
        return;
    free(m->ciphertext);
    memset(m, 0, sizeof *m);
}

void store_messages_free(struct store_message *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_message_free(&list[i]);
    free(list);
}

void store_message_result_free(struct store_message_result *r)
{
    if (!r)
        return;
    store_message_free(&r->message);
    free(r->fanout);
    free(r->missing);
    free(r->extra);
    free(r->attachments);
    memset(r, 0, sizeof *r);
}

/* ---------- reading messages ---------- */

static void msg_read_envelope(struct store *s, struct db_rows *r, struct store_message *m)
{
    size_t tlen = 0, clen = 0;
    const char *type = s->drv->get_text(r, 10, &tlen);
    if (!type || s->drv->is_null(r, 11))
        return;
    m->envelope_type =
        tlen == 6 && !memcmp(type, "prekey", 6) ? STORE_ENVELOPE_PREKEY : STORE_ENVELOPE_MESSAGE;
    const void *c = s->drv->get_blob(r, 11, &clen);
    m->ciphertext = store_xmalloc(clen);
    memcpy(m->ciphertext, c, clen);
    m->ciphertext_len = clen;
    m->has_envelope = true;
}

void message_row_read(struct store *s, struct db_rows *r, struct store_message *m)
{
    size_t len = 0;
    const char *cid = s->drv->get_text(r, 4, &len);
    memset(m, 0, sizeof *m);
    store_col_id(s, r, 0, m->id);
    store_col_id(s, r, 1, m->conversation_id);
    store_col_id(s, r, 2, m->sender_id);
    store_col_id(s, r, 3, m->sender_device_id);
    if (cid && len <= STORE_CLIENT_ID_MAX)
        memcpy(m->client_message_id, cid, len);
    m->sent_at = s->drv->get_int(r, 5);
    m->edited_at = s->drv->get_int(r, 6);
    m->deleted_at = s->drv->get_int(r, 7);
    m->delivered_at = s->drv->get_int(r, 8);
    m->status = (enum store_message_status)s->drv->get_int(r, 9);
    msg_read_envelope(s, r, m);
}

/* The message as device_id sees it, without any membership check. */
static enum store_err msg_load(struct store *s, const char *message_id, const char *device_id,
                               struct store_message *out)
{
    struct db_param p[] = {db_text(message_id), db_text(device_id)};
    struct db_rows *r;
    memset(out, 0, sizeof *out);
    int rc = s->drv->query(s->db, msg_get, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        message_row_read(s, r, out);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

static enum store_err msg_core_load(struct store *s, const char *message_id, struct msg_core *out)
{
    struct db_param p = db_text(message_id);
    struct db_rows *r;
    memset(out, 0, sizeof *out);
    int rc = s->drv->query(s->db, msg_core, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        store_col_id(s, r, 0, out->conversation_id);
        store_col_id(s, r, 1, out->sender_id);
        out->deleted = !s->drv->is_null(r, 2);
    }
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

/* STORE_NOT_FOUND unless user_id is in the conversation. */
static enum store_err msg_member(struct store *s, const char *conversation_id, const char *user_id)
{
    bool yes = false;
    enum store_err rc = store_conversation_is_participant(s, conversation_id, user_id, &yes);
    return rc == STORE_OK && !yes ? STORE_NOT_FOUND : rc;
}

enum store_err store_message_get(struct store *s, const char *user_id, const char *device_id,
                                 const char *message_id, struct store_message *out)
{
    enum store_err rc = msg_load(s, message_id, device_id, out);
    if (rc == STORE_OK)
        rc = msg_member(s, out->conversation_id, user_id);
    if (rc != STORE_OK)
        store_message_free(out);
    return rc;
}

/* ---------- who may act, and on which devices ---------- */

/* The acting device is the user's and not revoked, and nobody blocked anybody. */
static enum store_err msg_actor_ok(struct store *s, const char *user_id, const char *device_id,
                                   const char *other_id, bool check_block)
{
    struct db_param p[] = {db_text(device_id), db_text(user_id)};
    bool blocked = false;
    int rc = db_exists(s->drv, s->db, msg_device_ok, p, 2);
    if (rc != 1)
        return rc == 0 ? STORE_FORBIDDEN : store_map(rc);
    if (!check_block)
        return STORE_OK;
    enum store_err err = store_block_between(s, user_id, other_id, &blocked);
    return err == STORE_OK && blocked ? STORE_FORBIDDEN : err;
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const struct target *)a)->device_id, ((const struct target *)b)->device_id);
}

static int envelope_cmp(const void *a, const void *b)
{
    const struct store_envelope *const *x = a, *const *y = b;
    return strcmp((*x)->device_id, (*y)->device_id);
}

/* The targets of (user_id, device_id) towards other_id, sorted by device id with strcmp:
 * every transaction locks device rows in this one order, whatever the database collation. */
static enum store_err targets_load(struct store *s, const char *user_id, const char *device_id,
                                   const char *other_id, struct target **out, size_t *n)
{
    struct db_param p[] = {db_text(other_id), db_text(user_id), db_text(device_id)};
    struct db_rows *r;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = s->drv->query(s->db, msg_targets, p, 3, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        struct target *t = &(*out)[(*n)++];
        store_col_id(s, r, 0, t->device_id);
        store_col_id(s, r, 1, t->user_id);
        t->env = NULL;
        t->optional = false;
        rc = DB_OK;
    }
    s->drv->done(r);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, target_cmp);
    return store_map(rc);
}

static void id_push(char (**list)[STORE_ID_SIZE], size_t *n, const char *id)
{
    *list = realloc(*list, (*n + 1) * sizeof **list);
    if (!*list)
        abort();
    snprintf((*list)[(*n)++], STORE_ID_SIZE, "%s", id);
}

/* Walk both sorted lists: give each target its envelope, collect what is missing or extra.
 * STORE_INVALID when a device is named twice, STORE_MISMATCH when the sets differ. */
static enum store_err targets_match(struct target *t, size_t nt, const struct store_envelope **env,
                                    size_t ne, struct store_message_result *out)
{
    size_t i = 0, j = 0;
    for (size_t k = 1; k < ne; k++)
        if (!strcmp(env[k - 1]->device_id, env[k]->device_id))
            return STORE_INVALID;
    while (i < nt || j < ne) {
        int c = i == nt ? 1 : j == ne ? -1 : strcmp(t[i].device_id, env[j]->device_id);
        if (c == 0)
            t[i++].env = env[j++];
        else if (c < 0 && t[i].optional)
            i++;
        else if (c < 0)
            id_push(&out->missing, &out->n_missing, t[i++].device_id);
        else
            id_push(&out->extra, &out->n_extra, env[j++]->device_id);
    }
    return out->n_missing || out->n_extra ? STORE_MISMATCH : STORE_OK;
}

static bool envelope_sane(const struct store_envelope *e)
{
    return e->device_id && e->ciphertext && e->len > 0 && e->len <= STORE_ENVELOPE_MAX &&
           (e->type == STORE_ENVELOPE_PREKEY || e->type == STORE_ENVELOPE_MESSAGE);
}

/* Once an account has a signed device list (issue 23), its active devices that the list does
 * not name are optional targets: a client that checks the list sends them nothing, one that
 * does not yet may still send them an envelope. */
static enum store_err targets_mark_optional(struct store *s, const char *user_id, struct target *t,
                                            size_t nt)
{
    uint8_t list[STORE_SIGNED_LIST_MAX];
    size_t len = 0;
    int64_t version;
    enum store_err rc = store_signed_list_get(s, user_id, list, sizeof(list), &len, &version);

    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? STORE_OK : rc;
    for (size_t i = 0; i < nt; i++)
        if (!strcmp(t[i].user_id, user_id))
            t[i].optional = !store_signed_list_names(list, len, t[i].device_id);
    return STORE_OK;
}

/* Drops the optional targets that got no envelope: nothing is queued for them. */
static void targets_drop_unsent(struct target *t, size_t *nt)
{
    size_t k = 0;

    for (size_t i = 0; i < *nt; i++)
        if (t[i].env)
            t[k++] = t[i];
    *nt = k;
}

/* Targets for an edit or send, each with its envelope; sizes checked first. */
static enum store_err targets_for(struct store *s, const char *user_id, const char *device_id,
                                  const char *other_id, const struct store_envelope *envelopes,
                                  size_t n, struct target **t, size_t *nt,
                                  struct store_message_result *out)
{
    if (n > STORE_ENVELOPES_MAX)
        return STORE_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!envelope_sane(&envelopes[i]))
            return STORE_INVALID;
    enum store_err rc = targets_load(s, user_id, device_id, other_id, t, nt);
    if (rc == STORE_OK)
        rc = targets_mark_optional(s, user_id, *t, *nt);
    if (rc == STORE_OK && strcmp(other_id, user_id))
        rc = targets_mark_optional(s, other_id, *t, *nt);
    if (rc != STORE_OK)
        return rc;
    const struct store_envelope **sorted = store_xcalloc(n, sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = &envelopes[i];
    qsort(sorted, n, sizeof *sorted, envelope_cmp);
    rc = targets_match(*t, *nt, sorted, n, out);
    free(sorted);
    if (rc == STORE_OK)
        targets_drop_unsent(*t, nt);
    return rc;
}

/* ---------- queue rows ---------- */

/* Take the device's next seq; STORE_BUSY when it was revoked since the targets were read. */
static enum store_err queue_take_seq(struct store *s, const char *device_id, int64_t *seq)
{
    struct db_param p = db_text(device_id);
    struct db_rows *r;
    int rc = s->drv->query(s->db, store_sql(s, msg_next_seq_sqlite, msg_next_seq_pg), &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *seq = s->drv->get_int(r, 0);
        if (s->drv->next(r) < 0) /* run the statement to its end before the next one */
            rc = DB_ERR;
    }
    s->drv->done(r);
    if (rc == 1 && s->drv->dialect == DB_SQLITE &&
        s->drv->exec(s->db, msg_bump_seq_sqlite, &p, 1, NULL) != DB_OK)
        rc = DB_ERR;
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_BUSY : store_map(rc);
}

static enum store_err queue_push(struct store *s, const struct target *t, const char *message_id,
                                 const char *event, int64_t now, struct store_fanout *f)
{
    const struct store_envelope *e = t->env;
    enum store_err rc = queue_take_seq(s, t->device_id, &f->seq);
    if (rc != STORE_OK)
        return rc;
    memcpy(f->device_id, t->device_id, STORE_ID_SIZE);
    memcpy(f->user_id, t->user_id, STORE_ID_SIZE);
    struct db_param p[] = {db_text(t->device_id),
                           DB_INT(f->seq),
                           db_text(message_id),
                           db_text(event),
                           e ? db_text(envelope_names[e->type]) : DB_NULL,
                           e ? DB_BLOB(e->ciphertext, e->len) : DB_NULL,
                           DB_INT(now)};
    return store_exec(s, msg_queue_insert, p, 7, NULL);
}

/* One queue row per target, in target (device id) order. */
static enum store_err queue_fan_out(struct store *s, const struct target *t, size_t nt,
                                    const char *message_id, const char *event, int64_t now,
                                    struct store_message_result *out)
{
    enum store_err rc = STORE_OK;
    out->fanout = nt ? store_xcalloc(nt, sizeof *out->fanout) : NULL;
    for (size_t i = 0; i < nt && rc == STORE_OK; i++)
        rc = queue_push(s, &t[i], message_id, event, now, &out->fanout[out->n_fanout++]);
    return rc;
}

/* The ciphertext bytes a send or edit would queue (envelope sizes are checked already). */
static int64_t envelopes_bytes(const struct store_envelope *envelopes, size_t n)
{
    int64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += (int64_t)envelopes[i].len;
    return bytes;
}

/* ---------- send ---------- */

/* An earlier send by this sender with this clientMessageId (*found, its id), STORE_CONFLICT
 * when it went to another conversation. */
static enum store_err send_existing(struct store *s, const struct store_send *req,
                                    char id[STORE_ID_SIZE], bool *found)
{
    struct db_param p[] = {db_text(req->sender_id), db_text(req->client_message_id)};
    struct db_rows *r;
    char conv[STORE_ID_SIZE] = "";
    int rc = s->drv->query(s->db, msg_by_client, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        store_col_id(s, r, 0, id);
        store_col_id(s, r, 1, conv);
    }
    s->drv->done(r);
    *found = rc == 1;
    if (rc < 0)
        return store_map(rc);
    return *found && strcmp(conv, req->conversation_id) ? STORE_CONFLICT : STORE_OK;
}

/* The retry answer: the stored message, nothing new queued. */
static enum store_err send_replay(struct store *s, const struct store_send *req, const char *id,
                                  struct store_message_result *out)
{
    out->created = false;
    return msg_load(s, id, req->sender_device_id, &out->message);
}

static enum store_err send_insert(struct store *s, const struct store_send *req, int64_t now,
                                  struct store_message *m, bool *inserted)
{
    int64_t changes = 0;
    store_uuid_v7_ordered(m->id, now);
    struct db_param p[] = {db_text(m->id),
                           db_text(req->conversation_id),
                           db_text(req->sender_id),
                           db_text(req->sender_device_id),
                           db_text(req->client_message_id),
                           DB_INT(now)};
    enum store_err rc = store_exec(s, msg_insert, p, 6, &changes);
    *inserted = changes == 1;
    if (rc != STORE_OK || !*inserted)
        return rc;
    memcpy(m->conversation_id, req->conversation_id, STORE_ID_SIZE);
    snprintf(m->sender_id, STORE_ID_SIZE, "%s", req->sender_id);
    snprintf(m->sender_device_id, STORE_ID_SIZE, "%s", req->sender_device_id);
    snprintf(m->client_message_id, sizeof m->client_message_id, "%s", req->client_message_id);
    m->sent_at = now;
    m->status = STORE_STATUS_SENT;
    return STORE_OK;
}

/* Activity, acceptance, and the conversation back in both lists. The conversation row is
 * locked here, before any device row (the one lock order of every send): two first messages
 * of a pair serialize on it, so exactly one of them sees the other's acceptance and reports
 * contact_made (the block check ran earlier in the same transaction). */
static enum store_err send_touch(struct store *s, const struct store_send *req, const char *other,
                                 int64_t now, struct store_message_result *out)
{
    struct db_param bump[] = {db_text(req->conversation_id), DB_INT(now)};
    struct db_param who[] = {db_text(req->conversation_id), db_text(req->sender_id)};
    struct db_param them[] = {db_text(req->conversation_id), db_text(other)};
    int64_t accepted_now = 0;
    enum store_err rc = store_exec(s, msg_bump, bump, 2, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, msg_unhide, who, 1, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, msg_accept, who, 2, &accepted_now);
    if (rc == STORE_OK && accepted_now == 1) {
        int yes = db_exists(s->drv, s->db, msg_accepted, them, 2);
        if (yes < 0)
            return store_map(yes);
        out->contact_made = yes == 1;
    }
    return rc;
}

static bool send_request_sane(const struct store_send *req)
{
    size_t n = req->client_message_id ? strlen(req->client_message_id) : 0;
    return n > 0 && n <= STORE_CLIENT_ID_MAX && strlen(req->conversation_id) <= STORE_ID_LEN &&
           (req->envelopes || !req->n_envelopes) && (req->attachment_ids || !req->n_attachments) &&
           req->n_attachments <= STORE_ATTACHMENTS_PER_MESSAGE;
}

/* The whole send inside its transaction: membership (the other participant is found only
 * for a participant), idempotency, device and block checks, the device list, then writes. */
static enum store_err send_run(struct store *s, const struct store_send *req, int64_t now,
                               struct store_message_result *out)
{
    char other[STORE_ID_SIZE], id[STORE_ID_SIZE];
    struct target *t = NULL;
    size_t nt = 0;
    bool found = false, inserted = false;
    int64_t bytes = envelopes_bytes(req->envelopes, req->n_envelopes);
    enum store_err rc = store_conversation_other(s, req->sender_id, req->conversation_id, other);
    if (rc == STORE_OK)
        rc = send_existing(s, req, id, &found);
    if (rc != STORE_OK || found)
        return rc == STORE_OK ? send_replay(s, req, id, out) : rc;
    rc = msg_actor_ok(s, req->sender_id, req->sender_device_id, other, true);
    if (rc == STORE_OK)
        rc = targets_for(s, req->sender_id, req->sender_device_id, other, req->envelopes,
                         req->n_envelopes, &t, &nt, out);
    if (rc == STORE_OK) {
        rc = store_attachments_check(s, req->sender_id, req->attachment_ids, req->n_attachments,
                                     now);
        out->attachments_refused = rc == STORE_INVALID;
    }
    /* The last check, and the first write only when it passes: a refused send wrote nothing. */
    if (rc == STORE_OK)
        rc = queued_bytes_charge(s, req->sender_id, bytes, req->queued_bytes_max);
    if (rc == STORE_OK)
        rc = send_insert(s, req, now, &out->message, &inserted);
    if (rc == STORE_OK && !inserted) /* a concurrent retry won: give the charge back */
        rc = queued_bytes_charge(s, req->sender_id, -bytes, 0);
    if (rc != STORE_OK || !inserted)
        goto done;
    out->created = true;
    memcpy(out->other_id, other, STORE_ID_SIZE);
    rc = store_attachments_link(s, req->sender_id, out->message.id, req->attachment_ids,
                                req->n_attachments, now, req->attachments_expire_at);
    if (rc == STORE_OK)
        rc = send_touch(s, req, other, now, out);
    if (rc == STORE_OK)
        rc = queue_fan_out(s, t, nt, out->message.id, "new", now, out);
done:
    free(t);
    if (rc == STORE_OK && !inserted) { /* a concurrent retry committed first */
        rc = send_existing(s, req, id, &found);
        if (rc == STORE_OK)
            rc = found ? send_replay(s, req, id, out) : STORE_BUSY;
    }
    return rc;
}

/* After a failure keep only what explains a mismatch (missing and extra). */
static void result_failed(struct store_message_result *out)
{
    store_message_free(&out->message);
    free(out->fanout);
    out->fanout = NULL;
    out->n_fanout = 0;
    out->created = false;
    out->contact_made = false;
}

enum store_err store_message_send(struct store *s, const struct store_send *req, int64_t now,
                                  struct store_message_result *out)
{
    memset(out, 0, sizeof *out);
    if (!send_request_sane(req))
        return STORE_INVALID;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_finish(s, send_run(s, req, now, out));
    if (rc != STORE_OK)
        result_failed(out);
    return rc;
}

/* ---------- edit and delete ---------- */

/* The message exists, user_id is in its conversation, and is its sender; other_id gets
 * the other participant. */
static enum store_err own_message(struct store *s, const char *user_id, const char *message_id,
                                  struct msg_core *core, char other_id[STORE_ID_SIZE])
{
    enum store_err rc = msg_core_load(s, message_id, core);
    if (rc == STORE_OK)
        rc = store_conversation_other(s, user_id, core->conversation_id, other_id);
    if (rc == STORE_OK && strcmp(core->sender_id, user_id))
        rc = STORE_FORBIDDEN;
    return rc;
}

/* Set edited_at or deleted_at; *changed false when the message was deleted meanwhile. */
static enum store_err msg_mark(struct store *s, const char *sql, const char *message_id,
                               int64_t now, bool *changed)
{
    struct db_param p[] = {db_text(message_id), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, sql, p, 2, &changes);
    *changed = changes == 1;
    return rc;
}

static enum store_err edit_run(struct store *s, const char *user_id, const char *device_id,
                               const char *message_id, const struct store_envelope *envelopes,
                               size_t n, int64_t max, int64_t now, struct store_message_result *out)
{
    struct msg_core core;
    char other[STORE_ID_SIZE];
    struct target *t = NULL;
    size_t nt = 0;
    bool changed = false;
    enum store_err rc = own_message(s, user_id, message_id, &core, other);
    if (rc == STORE_OK && core.deleted)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = msg_actor_ok(s, user_id, device_id, other, true);
    if (rc == STORE_OK)
        rc = targets_for(s, user_id, device_id, other, envelopes, n, &t, &nt, out);
    if (rc == STORE_OK) /* the message row first, then device rows: the usual lock order */
        rc = msg_mark(s, msg_set_edited, message_id, now, &changed);
    if (rc == STORE_OK && !changed)
        rc = STORE_NOT_FOUND; /* deleted by a concurrent transaction */
    if (rc == STORE_OK)       /* after the message row, before device rows (delete's order too) */
        rc = queued_bytes_charge(s, user_id, envelopes_bytes(envelopes, n), max);
    if (rc == STORE_OK)
        rc = queue_fan_out(s, t, nt, message_id, "edited", now, out);
    if (rc == STORE_OK) {
        out->created = true;
        rc = msg_load(s, message_id, device_id, &out->message);
    }
    free(t);
    return rc;
}

enum store_err store_message_edit(struct store *s, const char *user_id, const char *device_id,
                                  const char *message_id, const struct store_envelope *envelopes,
                                  size_t n, int64_t queued_bytes_max, int64_t now,
                                  struct store_message_result *out)
{
    memset(out, 0, sizeof *out);
    if (!envelopes && n)
        return STORE_INVALID;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_finish(
        s, edit_run(s, user_id, device_id, message_id, envelopes, n, queued_bytes_max, now, out));
    if (rc != STORE_OK)
        result_failed(out);
    return rc;
}

static enum store_err delete_run(struct store *s, const char *user_id, const char *device_id,
                                 const char *message_id, int64_t now,
                                 struct store_message_result *out)
{
    struct msg_core core;
    char other[STORE_ID_SIZE];
    struct target *t = NULL;
    size_t nt = 0;
    bool changed = false;
    struct db_param p = db_text(message_id);
    enum store_err rc = own_message(s, user_id, message_id, &core, other);
    if (rc == STORE_OK)
        rc = msg_actor_ok(s, user_id, device_id, other, false);
    if (rc == STORE_OK && !core.deleted)
        rc = msg_mark(s, msg_set_deleted, message_id, now, &changed);
    if (rc == STORE_OK && changed)
        rc = queued_bytes_release(s, store_sql(s, msg_queued_bytes_sqlite, msg_queued_bytes_pg), &p,
                                  1);
    if (rc == STORE_OK && changed)
        rc = store_exec(s, msg_drop_ciphertext, &p, 1, NULL);
    if (rc == STORE_OK && changed)
        rc =
            store_attachments_unlink_message(s, message_id, &out->attachments, &out->n_attachments);
    if (rc == STORE_OK && changed)
        rc = targets_load(s, user_id, device_id, other, &t, &nt);
    if (rc == STORE_OK && changed)
        rc = queue_fan_out(s, t, nt, message_id, "deleted", now, out);
    if (rc == STORE_OK) {
        out->created = changed;
        rc = msg_load(s, message_id, device_id, &out->message);
    }
    free(t);
    return rc;
}

enum store_err store_message_delete(struct store *s, const char *user_id, const char *device_id,
                                    const char *message_id, int64_t now,
                                    struct store_message_result *out)
{
    memset(out, 0, sizeof *out);
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_finish(s, delete_run(s, user_id, device_id, message_id, now, out));
    if (rc != STORE_OK)
        store_message_result_free(out);
    return rc;
}

/* ---------- history ---------- */

static enum store_err history_rows(struct store *s, const char *device_id,
                                   const char *conversation_id, const char *before, int64_t limit,
                                   struct store_message **out, size_t *n)
{
    struct db_param p[] = {db_text(conversation_id), db_text(device_id), DB_INT(limit),
                           db_text(before)};
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, before ? msg_history_before : msg_history, p, before ? 4 : 3, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        message_row_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

enum store_err store_message_history(struct store *s, const char *user_id, const char *device_id,
                                     const char *conversation_id, const char *before, int64_t limit,
                                     struct store_message **out, size_t *n, bool *has_more)
{
    *out = NULL;
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > STORE_HISTORY_MAX)
        return STORE_INVALID;
    enum store_err rc = msg_member(s, conversation_id, user_id);
    if (rc == STORE_OK) /* one more than asked tells whether there are more */
        rc = history_rows(s, device_id, conversation_id, before, limit + 1, out, n);
    if (rc == STORE_OK && *n > (size_t)limit) {
        *has_more = true;
        store_message_free(&(*out)[--*n]);
    }
    if (rc != STORE_OK) {
        store_messages_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---------- read cursor ---------- */

static enum store_err read_run(struct store *s, const char *user_id, const char *message_id,
                               int64_t now, struct store_read_result *out)
{
    struct msg_core core;
    int64_t changes = 0;
    enum store_err rc = msg_core_load(s, message_id, &core);
    if (rc == STORE_OK)
        rc = store_conversation_other(s, user_id, core.conversation_id, out->other_id);
    if (rc != STORE_OK)
        return rc;
    struct db_param p[] = {db_text(core.conversation_id), db_text(user_id), db_text(message_id),
                           DB_INT(now)};
    rc = store_exec(s, msg_read_cursor, p, 4, &changes);
    if (rc == STORE_OK)
        rc = store_block_between(s, user_id, out->other_id, &out->blocked);
    if (rc == STORE_OK) {
        struct db_param w[] = {db_text(user_id), db_text(out->other_id),
                               db_text(core.conversation_id)};
        int yes = db_exists(s->drv, s->db, msg_receipts_flow, w, 3);
        out->withheld = yes == 0;
        rc = yes < 0 ? store_map(yes) : STORE_OK;
    }
    out->moved = changes == 1;
    out->read_at = out->moved ? now : 0;
    memcpy(out->conversation_id, core.conversation_id, STORE_ID_SIZE);
    snprintf(out->reader_id, STORE_ID_SIZE, "%s", user_id);
    snprintf(out->message_id, STORE_ID_SIZE, "%s", message_id);
    return rc;
}

enum store_err store_message_read(struct store *s, const char *user_id, const char *message_id,
                                  int64_t now, struct store_read_result *out)
{
    memset(out, 0, sizeof *out);
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_finish(s, read_run(s, user_id, message_id, now, out));
    if (rc != STORE_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
