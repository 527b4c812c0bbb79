/* attachments.c: attachment upload rows (attachments.h). The quota check and the insert run
 * in one transaction; on PostgreSQL the owner's user row is locked first, so two uploads
 * created at once cannot both pass the quota (SQLite serializes writers anyway). Sending
 * links rows to their message, and who may download follows from that link. */
#include "store/attachments.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char att_lock_sqlite[] = "SELECT 1 FROM users WHERE id = $1";
static const char att_lock_pg[] = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE";
/* SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back, or it does not read as an integer. */
static const char att_used[] =
    "SELECT CAST(COALESCE(SUM(upload_length), 0) AS BIGINT) FROM attachments WHERE owner_id = $1";
static const char att_insert[] =
    "INSERT INTO attachments (id, owner_id, upload_length, upload_offset, created_at, "
    "expires_at) VALUES ($1, $2, $3, 0, $4, $5)";
#define ATT_COLS                                                                         \
    "a.id, a.owner_id, a.upload_length, a.upload_offset, a.created_at, a.completed_at, " \
    "a.expires_at, a.message_id"
#define ATT_LIVE "(a.expires_at IS NULL OR a.expires_at > $3)"
static const char att_get[] = "SELECT " ATT_COLS " FROM attachments a WHERE a.id = $1 AND "
                              "a.owner_id = $2 AND " ATT_LIVE;
static const char att_find[] = "SELECT " ATT_COLS " FROM attachments a WHERE a.id = $1";
/* The uploader, or a participant of the conversation of the message it was sent with, with
 * no block between the two either way (api.md: everyone else, a blocked user too, gets 404). */
static const char att_readable[] =
    "SELECT " ATT_COLS " FROM attachments a WHERE a.id = $1 AND " ATT_LIVE " AND "
    "(a.owner_id = $2 OR (EXISTS (SELECT 1 FROM messages m JOIN conversation_participants p "
    "ON p.conversation_id = m.conversation_id WHERE m.id = a.message_id AND p.user_id = $2) "
    "AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = a.owner_id AND "
    "b.blocked_id = $2) OR (b.blocker_id = $2 AND b.blocked_id = a.owner_id))))";
/* The casts give PostgreSQL the parameters' types, which a CASE branch does not. */
static const char att_advance[] =
    "UPDATE attachments SET upload_offset = CAST($4 AS BIGINT), completed_at = CASE WHEN "
    "CAST($4 AS BIGINT) = upload_length THEN CAST($5 AS BIGINT) ELSE NULL END "
    "WHERE id = $1 AND owner_id = $2 AND upload_offset = $3 AND CAST($4 AS BIGINT) <= "
    "upload_length";
static const char att_offset[] =
    "SELECT upload_offset FROM attachments WHERE id = $1 AND owner_id = $2";
static const char att_delete[] =
    "DELETE FROM attachments WHERE id = $1 AND owner_id = $2 AND message_id IS NULL";
static const char att_owned[] = "SELECT 1 FROM attachments WHERE id = $1 AND owner_id = $2";
/* Complete, unsent and alive: what sending may link. */
static const char att_link[] =
    "UPDATE attachments SET message_id = $3, expires_at = $5 WHERE id = $1 AND owner_id = $2 "
    "AND message_id IS NULL AND completed_at IS NOT NULL AND upload_offset = upload_length "
    "AND expires_at > $4";
#define ATT_LINKABLE                                                                        \
    "SELECT 1 FROM attachments WHERE id = $1 AND owner_id = $2 AND message_id IS NULL AND " \
    "completed_at IS NOT NULL AND upload_offset = upload_length AND expires_at > $3"
static const char att_linkable_sqlite[] = ATT_LINKABLE;
static const char att_linkable_pg[] = ATT_LINKABLE " FOR UPDATE";
static const char att_of_message[] = "SELECT id FROM attachments WHERE message_id = $1";
static const char att_delete_message[] = "DELETE FROM attachments WHERE message_id = $1";
static const char att_of_owner[] = "SELECT id FROM attachments WHERE owner_id = $1";
static const char att_expired[] = "SELECT id FROM attachments WHERE expires_at <= $1 "
                                  "ORDER BY expires_at LIMIT $2";
static const char att_expire[] = "DELETE FROM attachments WHERE id = $1 AND expires_at <= $2";

enum store_err store_attachment_used(struct store *s, const char *owner_id, int64_t *used)
{
    struct db_param p[] = {db_text(owner_id)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, att_used, p, 1, &r);

    *used = 0;
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        *used = s->drv->get_int(r, 0);
        rc = DB_OK;
    }
    s->drv->done(r);
    return rc == DB_OK ? STORE_OK : store_map(rc);
}

static enum store_err att_create_run(struct store *s, const struct store_attachment *a,
                                     int64_t quota)
{
    struct db_param pl[] = {db_text(a->owner_id)};
    struct db_param p[] = {db_text(a->id), db_text(a->owner_id), DB_INT(a->length),
                           DB_INT(a->created_at), a->expires_at ? DB_INT(a->expires_at) : DB_NULL};
    int64_t used;
    int rc = db_exists(s->drv, s->db, store_sql(s, att_lock_sqlite, att_lock_pg), pl, 1);
    enum store_err e;

    if (rc != 1)
        return rc < 0 ? store_map(rc) : STORE_NOT_FOUND;
    e = store_attachment_used(s, a->owner_id, &used);
    if (e != STORE_OK)
        return e;
    if (quota > 0 && (a->length > quota || used > quota - a->length))
        return STORE_QUOTA;
    return store_exec(s, att_insert, p, 5, NULL);
}

enum store_err store_attachment_create(struct store *s, const struct store_attachment *a,
                                       int64_t quota)
{
    enum store_err rc;

    if (!a->id[0] || !a->owner_id[0] || a->length < 0)
        return STORE_INVALID;
    rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    return store_finish(s, att_create_run(s, a, quota));
}

static void att_row(struct store *s, struct db_rows *r, struct store_attachment *a)
{
    memset(a, 0, sizeof(*a));
    store_col_id(s, r, 0, a->id);
    store_col_id(s, r, 1, a->owner_id);
    a->length = s->drv->get_int(r, 2);
    a->offset = s->drv->get_int(r, 3);
    a->created_at = s->drv->get_int(r, 4);
    a->completed_at = s->drv->is_null(r, 5) ? 0 : s->drv->get_int(r, 5);
    a->expires_at = s->drv->is_null(r, 6) ? 0 : s->drv->get_int(r, 6);
    store_col_id(s, r, 7, a->message_id);
}

/* The one row sql selects (ATT_COLS), or STORE_NOT_FOUND. */
static enum store_err att_select(struct store *s, const char *sql, const struct db_param *p, int n,
                                 struct store_attachment *out)
{
    struct db_rows *r;
    int rc = s->drv->query(s->db, sql, p, n, &r);
    enum store_err e = STORE_NOT_FOUND;

    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        att_row(s, r, out);
        e = STORE_OK;
    }
    s->drv->done(r);
    return rc < 0 ? store_map(rc) : e;
}

enum store_err store_attachment_get(struct store *s, const char *id, const char *owner_id,
                                    int64_t now, struct store_attachment *out)
{
    struct db_param p[] = {db_text(id), db_text(owner_id), DB_INT(now)};

    return att_select(s, att_get, p, 3, out);
}

enum store_err store_attachment_find(struct store *s, const char *id, struct store_attachment *out)
{
    struct db_param p[] = {db_text(id)};

    return att_select(s, att_find, p, 1, out);
}

enum store_err store_attachment_readable(struct store *s, const char *id, const char *user_id,
                                         int64_t now, struct store_attachment *out)
{
    struct db_param p[] = {db_text(id), db_text(user_id), DB_INT(now)};

    return att_select(s, att_readable, p, 3, out);
}

enum store_err store_attachment_advance(struct store *s, const char *id, const char *owner_id,
                                        int64_t from, int64_t to, int64_t now)
{
    struct db_param p[] = {db_text(id), db_text(owner_id), DB_INT(from), DB_INT(to), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, att_advance, p, 5, &changes);
    struct db_rows *r;
    int drc;

    if (rc != STORE_OK || changes)
        return rc;
    /* The row did not match: not the owner's, its offset moved, or `to` is past its end. */
    drc = s->drv->query(s->db, att_offset, p, 2, &r);
    rc = STORE_NOT_FOUND;
    if (drc == DB_OK && (drc = s->drv->next(r)) == 1)
        rc = s->drv->get_int(r, 0) != from ? STORE_CONFLICT : STORE_INVALID;
    s->drv->done(r);
    return drc < 0 ? store_map(drc) : rc;
}

enum store_err store_attachment_delete(struct store *s, const char *id, const char *owner_id)
{
    struct db_param p[] = {db_text(id), db_text(owner_id)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, att_delete, p, 2, &changes);
    int sent;

    if (rc != STORE_OK || changes)
        return rc;
    sent = db_exists(s->drv, s->db, att_owned, p, 2); /* theirs, so sent */
    return sent < 0 ? store_map(sent) : sent ? STORE_CONFLICT : STORE_NOT_FOUND;
}

enum store_err store_attachments_check(struct store *s, const char *owner_id,
                                       const char (*ids)[STORE_ID_SIZE], size_t n, int64_t now)
{
    const char *sql = store_sql(s, att_linkable_sqlite, att_linkable_pg);

    if (n > STORE_ATTACHMENTS_PER_MESSAGE)
        return STORE_INVALID;
    for (size_t i = 0; i < n; i++) {
        struct db_param p[] = {db_text(ids[i]), db_text(owner_id), DB_INT(now)};
        int rc;

        for (size_t k = 0; k < i; k++)
            if (!strcmp(ids[k], ids[i]))
                return STORE_INVALID;
        rc = db_exists(s->drv, s->db, sql, p, 3);
        if (rc != 1)
            return rc < 0 ? store_map(rc) : STORE_INVALID;
    }
    return STORE_OK;
}

enum store_err store_attachments_link(struct store *s, const char *owner_id, const char *message_id,
                                      const char (*ids)[STORE_ID_SIZE], size_t n, int64_t now,
                                      int64_t expires_at)
{
    enum store_err rc = STORE_OK;

    if (n > STORE_ATTACHMENTS_PER_MESSAGE)
        return STORE_INVALID;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        struct db_param p[] = {db_text(ids[i]), db_text(owner_id), db_text(message_id), DB_INT(now),
                               expires_at ? DB_INT(expires_at) : DB_NULL};
        int64_t changes = 0;

        rc = store_exec(s, att_link, p, 5, &changes);
        if (rc == STORE_OK && changes != 1)
            rc = STORE_INVALID; /* not theirs, unfinished, expired, or sent already */
    }
    return rc;
}

/* The ids sql (one text parameter) selects, into a growing array. */
static enum store_err att_ids(struct store *s, const char *sql, const char *arg,
                              char (**ids)[STORE_ID_SIZE], size_t *n)
{
    struct db_param p[] = {db_text(arg)};
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, sql, p, 1, &r);

    *ids = NULL;
    *n = 0;
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        rc = DB_OK;
        *ids = store_xgrow(*ids, &cap, *n, sizeof(**ids));
        store_col_id(s, r, 0, (*ids)[(*n)++]);
    }
    s->drv->done(r);
    if (rc >= 0)
        return STORE_OK;
    free(*ids);
    *ids = NULL;
    *n = 0;
    return store_map(rc);
}

enum store_err store_attachments_unlink_message(struct store *s, const char *message_id,
                                                char (**ids)[STORE_ID_SIZE], size_t *n)
{
    struct db_param p[] = {db_text(message_id)};
    enum store_err rc = att_ids(s, att_of_message, message_id, ids, n);

    if (rc == STORE_OK && *n)
        rc = store_exec(s, att_delete_message, p, 1, NULL);
    if (rc != STORE_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

enum store_err store_attachments_of_owner(struct store *s, const char *owner_id,
                                          char (**ids)[STORE_ID_SIZE], size_t *n)
{
    return att_ids(s, att_of_owner, owner_id, ids, n);
}

enum store_err store_attachments_expired(struct store *s, int64_t now, size_t max,
                                         char (*ids)[STORE_ID_SIZE], size_t *n)
{
    struct db_param p[] = {DB_INT(now), DB_INT(max)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, att_expired, p, 2, &r);

    *n = 0;
    while (rc == DB_OK && *n < max && (rc = s->drv->next(r)) == 1) {
        rc = DB_OK;
        store_col_id(s, r, 0, ids[(*n)++]);
    }
    s->drv->done(r);
    return rc < 0 ? store_map(rc) : STORE_OK;
}

enum store_err store_attachment_expire(struct store *s, const char *id, int64_t now)
{
    struct db_param p[] = {db_text(id), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_exec(s, att_expire, p, 2, &changes);

    return rc != STORE_OK ? rc : changes ? STORE_OK : STORE_NOT_FOUND;
}
