/* attachments.c: attachment upload rows (attachments.h). The quota check and the insert run
 * in one transaction; on PostgreSQL the owner's user row is locked first, so two uploads
 * created at once cannot both pass the quota (SQLite serializes writers anyway). */
#include "store/attachments.h"

#include "store_internal.h"

#include <string.h>

static const char att_lock_sqlite[] = "SELECT 1 FROM users WHERE id = $1";
static const char att_lock_pg[] = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE";
/* SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back, or it does not read as an integer. */
static const char att_used[] =
    "SELECT CAST(COALESCE(SUM(upload_length), 0) AS BIGINT) FROM attachments WHERE owner_id = $1";
static const char att_insert[] =
    "INSERT INTO attachments (id, owner_id, upload_length, upload_offset, created_at, "
    "expires_at) VALUES ($1, $2, $3, 0, $4, $5)";
static const char att_get[] =
    "SELECT id, owner_id, upload_length, upload_offset, created_at, completed_at, expires_at "
    "FROM attachments WHERE id = $1 AND owner_id = $2 AND (expires_at IS NULL OR expires_at > $3)";
/* The casts give PostgreSQL the parameters' types, which a CASE branch does not. */
static const char att_find[] =
    "SELECT id, owner_id, upload_length, upload_offset, created_at, completed_at, expires_at "
    "FROM attachments WHERE id = $1";
static const char att_advance[] =
    "UPDATE attachments SET upload_offset = CAST($4 AS BIGINT), completed_at = CASE WHEN "
    "CAST($4 AS BIGINT) = upload_length THEN CAST($5 AS BIGINT) ELSE NULL END "
    "WHERE id = $1 AND owner_id = $2 AND upload_offset = $3 AND CAST($4 AS BIGINT) <= "
    "upload_length";
static const char att_offset[] =
    "SELECT upload_offset FROM attachments WHERE id = $1 AND owner_id = $2";
static const char att_delete[] = "DELETE FROM attachments WHERE id = $1 AND owner_id = $2";
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
}

enum store_err store_attachment_get(struct store *s, const char *id, const char *owner_id,
                                    int64_t now, struct store_attachment *out)
{
    struct db_param p[] = {db_text(id), db_text(owner_id), DB_INT(now)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, att_get, p, 3, &r);
    enum store_err e = STORE_NOT_FOUND;

    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        att_row(s, r, out);
        e = STORE_OK;
    }
    s->drv->done(r);
    return rc < 0 ? store_map(rc) : e;
}

enum store_err store_attachment_find(struct store *s, const char *id, struct store_attachment *out)
{
    struct db_param p[] = {db_text(id)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, att_find, p, 1, &r);
    enum store_err e = STORE_NOT_FOUND;

    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        att_row(s, r, out);
        e = STORE_OK;
    }
    s->drv->done(r);
    return rc < 0 ? store_map(rc) : e;
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

    return rc != STORE_OK ? rc : changes ? STORE_OK : STORE_NOT_FOUND;
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
