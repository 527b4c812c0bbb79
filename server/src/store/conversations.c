/* conversations.c: direct conversations, participants, leaving, and contacts. */
#include "store/conversations.h"

#include "store/blocks.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* The direct_key column: "<lower id>:<higher id>", the same for both orders of a pair. */
#define DIRECT_KEY_SIZE (2 * STORE_ID_LEN + 2)

/* A conversation as participant p ($1) sees it: last non-deleted message, unread count,
 * whether p accepted it, and whether it is a request to p (not accepted by p, and started or
 * written in by the other). */
#define CONV_SELECT                                                                      \
    "SELECT c.id, c.created_at, c.updated_at, lm.id, lm.sender_user_id, lm.sent_at, "    \
    "(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id "                   \
    "AND m.sender_user_id <> $1 AND m.deleted_at IS NULL "                               \
    "AND (p.read_cursor IS NULL OR m.id > p.read_cursor)), p.accepted, "                 \
    "CASE WHEN p.accepted = 0 AND (c.created_by <> $1 OR EXISTS (SELECT 1 FROM "         \
    "conversation_participants o WHERE o.conversation_id = c.id AND o.user_id <> $1 "    \
    "AND o.accepted = 1)) THEN 1 ELSE 0 END "                                            \
    "FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id " \
    "LEFT JOIN messages lm ON lm.id = (SELECT m.id FROM messages m WHERE "               \
    "m.conversation_id = c.id AND m.deleted_at IS NULL ORDER BY m.id DESC LIMIT 1) "

static const char conv_insert[] =
    "INSERT INTO conversations (id, type, direct_key, created_by, created_at, updated_at) "
    "VALUES ($1, 'direct', $2, $3, $4, $4) ON CONFLICT (direct_key) DO NOTHING";
static const char conv_by_key[] = "SELECT id FROM conversations WHERE direct_key = $1";
static const char conv_user_exists[] = "SELECT 1 FROM users WHERE id = $1";
static const char conv_part_insert[] =
    "INSERT INTO conversation_participants (conversation_id, user_id, joined_at) "
    "VALUES ($1, $2, $3)";
static const char conv_part_rejoin[] =
    "UPDATE conversation_participants SET left_at = NULL "
    "WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NOT NULL";
static const char conv_list[] =
    CONV_SELECT "WHERE p.user_id = $1 AND p.left_at IS NULL "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT $2 OFFSET $3";
static const char conv_count[] =
    "SELECT COUNT(*) FROM conversation_participants WHERE user_id = $1 AND left_at IS NULL";
static const char conv_get[] = CONV_SELECT "WHERE p.user_id = $1 AND c.id = $2";
static const char conv_participants[] =
    "SELECT u.id, u.username, u.display_name, u.avatar_url, u.bio, u.created_at, "
    "p.joined_at, p.accepted, p.left_at FROM conversation_participants p "
    "JOIN users u ON u.id = p.user_id WHERE p.conversation_id = $1 ORDER BY p.joined_at, u.id";
static const char conv_is_participant[] =
    "SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2";
static const char conv_other[] =
    "SELECT o.user_id FROM conversation_participants me JOIN conversation_participants o "
    "ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id "
    "WHERE me.conversation_id = $1 AND me.user_id = $2";
static const char conv_accept[] =
    "UPDATE conversation_participants SET accepted = 1, left_at = NULL "
    "WHERE conversation_id = $1 AND user_id = $2 AND accepted = 0";
/* The accepter's ($2) read cursor, when both send receipts and neither blocked the other ($3). */
static const char conv_withheld_receipt[] =
    "SELECT p.read_cursor, p.read_at FROM conversation_participants p JOIN users me ON me.id = $2 "
    "JOIN users o ON o.id = $3 WHERE p.conversation_id = $1 AND p.user_id = $2 "
    "AND p.read_cursor IS NOT NULL AND me.read_receipts = 1 AND o.read_receipts = 1 "
    "AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $2 AND b.blocked_id = $3) "
    "OR (b.blocker_id = $3 AND b.blocked_id = $2))";
static const char conv_leave[] = "UPDATE conversation_participants SET left_at = $3 "
                                 "WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL";

#define CONTACTS_NOT_BLOCKED                                                                     \
    "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $1 AND b.blocked_id = o.user_id) " \
    "OR (b.blocker_id = o.user_id AND b.blocked_id = $1))"
static const char contacts_list[] =
    "SELECT DISTINCT o.user_id FROM conversation_participants me "
    "JOIN conversation_participants o ON o.conversation_id = me.conversation_id "
    "AND o.user_id <> me.user_id WHERE me.user_id = $1 AND me.accepted = 1 "
    "AND o.accepted = 1 AND " CONTACTS_NOT_BLOCKED " ORDER BY o.user_id";
static const char partners_list[] =
    "SELECT DISTINCT o.user_id FROM conversation_participants me "
    "JOIN conversation_participants o ON o.conversation_id = me.conversation_id "
    "AND o.user_id <> me.user_id WHERE me.user_id = $1 ORDER BY o.user_id";
static const char contacts_check[] =
    "SELECT 1 FROM conversation_participants me "
    "JOIN conversation_participants o ON o.conversation_id = me.conversation_id "
    "WHERE me.user_id = $1 AND o.user_id = $2 AND me.user_id <> o.user_id "
    "AND me.accepted = 1 AND o.accepted = 1 AND " CONTACTS_NOT_BLOCKED;

static void public_user_free(struct store_public_user *u)
{
    free(u->username);
    free(u->display_name);
    free(u->avatar_url);
    free(u->bio);
}

void store_participants_free(struct store_participant *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        public_user_free(&list[i].user);
    free(list);
}

void store_conversation_free(struct store_conversation *c)
{
    if (!c)
        return;
    store_participants_free(c->participants, c->n_participants);
    memset(c, 0, sizeof *c);
}

void store_conversations_free(struct store_conversation *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_conversation_free(&list[i]);
    free(list);
}

/* ---------- reading ---------- */

static void participant_read(struct store *s, struct db_rows *r, struct store_participant *p)
{
    memset(p, 0, sizeof *p);
    store_col_id(s, r, 0, p->user.id);
    p->user.username = store_col_strdup(s, r, 1);
    p->user.display_name = store_col_strdup(s, r, 2);
    p->user.avatar_url = store_col_strdup(s, r, 3);
    p->user.bio = store_col_strdup(s, r, 4);
    p->user.created_at = s->drv->get_int(r, 5);
    p->joined_at = s->drv->get_int(r, 6);
    p->accepted = s->drv->get_int(r, 7) != 0;
    p->left_at = s->drv->get_int(r, 8);
}

/* Every participant of a conversation, whoever asks (callers check membership). */
static enum store_err participants_load(struct store *s, const char *conversation_id,
                                        struct store_participant **out, size_t *n)
{
    struct db_param p = db_text(conversation_id);
    struct db_rows *r;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = s->drv->query(s->db, conv_participants, &p, 1, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        participant_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    if (rc != DB_OK) {
        store_participants_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return store_map(rc);
}

static void conversation_read(struct store *s, struct db_rows *r, struct store_conversation *c)
{
    memset(c, 0, sizeof *c);
    store_col_id(s, r, 0, c->id);
    c->created_at = s->drv->get_int(r, 1);
    c->updated_at = s->drv->get_int(r, 2);
    c->has_last_message = !s->drv->is_null(r, 3);
    store_col_id(s, r, 3, c->last_message_id);
    store_col_id(s, r, 4, c->last_sender_id);
    c->last_sent_at = s->drv->get_int(r, 5);
    c->unread_count = s->drv->get_int(r, 6);
    c->accepted = s->drv->get_int(r, 7) != 0;
    c->request = s->drv->get_int(r, 8) != 0;
}

/* The conversation rows of one query, without participants (one open query at a time). */
static enum store_err conversations_rows(struct store *s, const char *sql, const struct db_param *p,
                                         int np, struct store_conversation **out, size_t *n)
{
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, sql, p, np, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *out = store_xgrow(*out, &cap, *n, sizeof **out);
        conversation_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

static enum store_err conversations_fill(struct store *s, struct store_conversation *list, size_t n)
{
    enum store_err rc = STORE_OK;
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        rc = participants_load(s, list[i].id, &list[i].participants, &list[i].n_participants);
    return rc;
}

static enum store_err conversation_load(struct store *s, const char *user_id,
                                        const char *conversation_id, struct store_conversation *out)
{
    struct db_param p[] = {db_text(user_id), db_text(conversation_id)};
    struct store_conversation *rows = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    enum store_err rc = conversations_rows(s, conv_get, p, 2, &rows, &n);
    if (rc == STORE_OK && n == 0)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = conversations_fill(s, rows, 1);
    if (rc == STORE_OK) {
        *out = rows[0];
        free(rows);
        return STORE_OK;
    }
    store_conversations_free(rows, n);
    return rc;
}

enum store_err store_conversation_get(struct store *s, const char *user_id,
                                      const char *conversation_id, struct store_conversation *out)
{
    return conversation_load(s, user_id, conversation_id, out);
}

static enum store_err conversation_count(struct store *s, const char *user_id, int64_t *total)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    int rc = s->drv->query(s->db, conv_count, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *total = s->drv->get_int(r, 0);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : store_map(rc < 0 ? rc : DB_ERR);
}

enum store_err store_conversation_list(struct store *s, const char *user_id, int64_t limit,
                                       int64_t offset, struct store_conversation **out, size_t *n,
                                       int64_t *total)
{
    struct db_param p[] = {db_text(user_id), DB_INT(limit), DB_INT(offset)};
    *out = NULL;
    *n = 0;
    *total = 0;
    if (limit < 0 || offset < 0)
        return STORE_INVALID;
    enum store_err rc = conversation_count(s, user_id, total);
    if (rc == STORE_OK && limit > 0 && *total > offset)
        rc = conversations_rows(s, conv_list, p, 3, out, n);
    if (rc == STORE_OK)
        rc = conversations_fill(s, *out, *n);
    if (rc != STORE_OK) {
        store_conversations_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---------- membership ---------- */

enum store_err store_conversation_is_participant(struct store *s, const char *conversation_id,
                                                 const char *user_id, bool *yes)
{
    struct db_param p[] = {db_text(conversation_id), db_text(user_id)};
    int rc = db_exists(s->drv, s->db, conv_is_participant, p, 2);
    *yes = rc == 1;
    return rc < 0 ? store_map(rc) : STORE_OK;
}

enum store_err store_conversation_other(struct store *s, const char *user_id,
                                        const char *conversation_id, char other_id[STORE_ID_SIZE])
{
    struct db_param p[] = {db_text(conversation_id), db_text(user_id)};
    struct db_rows *r;
    other_id[0] = '\0';
    int rc = s->drv->query(s->db, conv_other, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        store_col_id(s, r, 0, other_id);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

enum store_err store_conversation_participants(struct store *s, const char *user_id,
                                               const char *conversation_id,
                                               struct store_participant **out, size_t *n)
{
    bool yes = false;
    *out = NULL;
    *n = 0;
    enum store_err rc = store_conversation_is_participant(s, conversation_id, user_id, &yes);
    if (rc == STORE_OK && !yes)
        rc = STORE_NOT_FOUND;
    return rc == STORE_OK ? participants_load(s, conversation_id, out, n) : rc;
}

enum store_err store_conversation_leave(struct store *s, const char *user_id,
                                        const char *conversation_id, int64_t now)
{
    struct db_param p[] = {db_text(conversation_id), db_text(user_id), DB_INT(now)};
    int64_t changes = 0;
    bool yes = false;
    enum store_err rc = store_exec(s, conv_leave, p, 3, &changes);
    if (rc == STORE_OK && changes == 0) /* already left, or not theirs */
        rc = store_conversation_is_participant(s, conversation_id, user_id, &yes);
    return rc == STORE_OK && changes == 0 && !yes ? STORE_NOT_FOUND : rc;
}

static enum store_err withheld_receipt(struct store *s, const char *conversation_id,
                                       const char *user_id, struct store_accept_result *res)
{
    struct db_param p[] = {db_text(conversation_id), db_text(user_id), db_text(res->other_id)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, conv_withheld_receipt, p, 3, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        res->receipt = true;
        store_col_id(s, r, 0, res->read_message_id);
        res->read_at = s->drv->get_int(r, 1);
    }
    s->drv->done(r);
    return rc >= 0 ? STORE_OK : store_map(rc);
}

enum store_err store_conversation_accept(struct store *s, const char *user_id,
                                         const char *conversation_id,
                                         struct store_conversation *out,
                                         struct store_accept_result *res)
{
    struct db_param p[] = {db_text(conversation_id), db_text(user_id)};
    int64_t changes = 0;
    memset(out, 0, sizeof *out);
    memset(res, 0, sizeof *res);
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = store_conversation_other(s, user_id, conversation_id, res->other_id);
    if (rc == STORE_OK)
        rc = store_exec(s, conv_accept, p, 2, &changes);
    if (rc == STORE_OK && changes == 1)
        rc = store_contacts_check(s, user_id, res->other_id, &res->contact_made);
    if (rc == STORE_OK && changes == 1)
        rc = withheld_receipt(s, conversation_id, user_id, res);
    if (rc == STORE_OK)
        rc = conversation_load(s, user_id, conversation_id, out);
    rc = store_finish(s, rc);
    if (rc != STORE_OK) {
        store_conversation_free(out);
        memset(res, 0, sizeof *res);
    }
    return rc;
}

/* ---------- the direct conversation of a pair ---------- */

static void direct_key(const char *a, const char *b, char out[DIRECT_KEY_SIZE])
{
    const char *lo = strcmp(a, b) < 0 ? a : b, *hi = lo == a ? b : a;
    size_t nl = strnlen(lo, STORE_ID_LEN), nh = strnlen(hi, STORE_ID_LEN);
    memcpy(out, lo, nl);
    out[nl] = ':';
    memcpy(out + nl + 1, hi, nh);
    out[nl + 1 + nh] = '\0';
}

/* STORE_OK when other_id is a user nobody in the pair has blocked. */
static enum store_err direct_allowed(struct store *s, const char *user_id, const char *other_id)
{
    struct db_param p = db_text(other_id);
    bool blocked = false;
    int rc = db_exists(s->drv, s->db, conv_user_exists, &p, 1);
    if (rc != 1)
        return rc == 0 ? STORE_NOT_FOUND : store_map(rc);
    enum store_err err = store_block_between(s, user_id, other_id, &blocked);
    return err == STORE_OK && blocked ? STORE_FORBIDDEN : err;
}

static enum store_err direct_find(struct store *s, const char *key, char id[STORE_ID_SIZE])
{
    struct db_param p = db_text(key);
    struct db_rows *r;
    int rc = s->drv->query(s->db, conv_by_key, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        store_col_id(s, r, 0, id);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

/* Insert the conversation and both participants, or find the existing one. On PostgreSQL a
 * concurrent creator of the same pair makes the insert wait for its commit and then do
 * nothing; the following SELECT (a new snapshot under READ COMMITTED) sees its row. */
static enum store_err direct_make(struct store *s, const char *user_id, const char *other_id,
                                  int64_t now, char id[STORE_ID_SIZE], bool *created)
{
    char key[DIRECT_KEY_SIZE];
    int64_t changes = 0;
    direct_key(user_id, other_id, key);
    store_uuid_v4(id);
    struct db_param p[] = {db_text(id), db_text(key), db_text(user_id), DB_INT(now)};
    enum store_err rc = store_exec(s, conv_insert, p, 4, &changes);
    if (rc != STORE_OK)
        return rc;
    *created = changes == 1;
    if (!*created)
        return direct_find(s, key, id);
    struct db_param a[] = {db_text(id), db_text(user_id), DB_INT(now)};
    struct db_param b[] = {db_text(id), db_text(other_id), DB_INT(now)};
    rc = store_exec(s, conv_part_insert, a, 3, NULL);
    return rc == STORE_OK ? store_exec(s, conv_part_insert, b, 3, NULL) : rc;
}

enum store_err store_conversation_direct(struct store *s, const char *user_id, const char *other_id,
                                         int64_t now, struct store_conversation *out, bool *created)
{
    char id[STORE_ID_SIZE];
    memset(out, 0, sizeof *out);
    *created = false;
    if (!strcmp(user_id, other_id))
        return STORE_INVALID;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = direct_allowed(s, user_id, other_id);
    if (rc == STORE_OK)
        rc = direct_make(s, user_id, other_id, now, id, created);
    if (rc == STORE_OK && !*created) { /* opening it again brings it back to the list */
        struct db_param p[] = {db_text(id), db_text(user_id)};
        rc = store_exec(s, conv_part_rejoin, p, 2, NULL);
    }
    if (rc == STORE_OK)
        rc = conversation_load(s, user_id, id, out);
    rc = store_finish(s, rc);
    if (rc != STORE_OK) {
        store_conversation_free(out);
        *created = false;
    }
    return rc;
}

/* ---------- contacts ---------- */

/* The ids of one user's related users by sql (one id column, sorted). */
static enum store_err user_ids_query(struct store *s, const char *sql, const char *user_id,
                                     char (**ids)[STORE_ID_SIZE], size_t *n)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    int rc = s->drv->query(s->db, sql, &p, 1, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *ids = store_xgrow(*ids, &cap, *n, sizeof **ids);
        store_col_id(s, r, 0, (*ids)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    if (rc != DB_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return store_map(rc);
}

enum store_err store_contacts_list(struct store *s, const char *user_id,
                                   char (**ids)[STORE_ID_SIZE], size_t *n)
{
    return user_ids_query(s, contacts_list, user_id, ids, n);
}

enum store_err store_conversation_partners(struct store *s, const char *user_id,
                                           char (**ids)[STORE_ID_SIZE], size_t *n)
{
    return user_ids_query(s, partners_list, user_id, ids, n);
}

enum store_err store_contacts_check(struct store *s, const char *a, const char *b, bool *yes)
{
    struct db_param p[] = {db_text(a), db_text(b)};
    int rc = db_exists(s->drv, s->db, contacts_check, p, 2);
    *yes = rc == 1;
    return rc < 0 ? store_map(rc) : STORE_OK;
}
