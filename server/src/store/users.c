/* users.c: accounts: registration, look-ups, search, profile, password. */
#include "store/users.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define USER_COLS                                                                         \
    "id, email, username, password_hash, display_name, bio, avatar_url, email_verified, " \
    "mfa_enabled, created_at, updated_at, language, read_receipts, last_seen_hidden"

static const char users_by_id[] = "SELECT " USER_COLS " FROM users WHERE id = $1";
static const char users_by_email[] = "SELECT " USER_COLS " FROM users WHERE email_key = $1";
static const char users_by_username[] = "SELECT " USER_COLS " FROM users WHERE username_key = $1";
static const char users_insert[] =
    "INSERT INTO users (id, email, email_key, username, username_key, password_hash, "
    "display_name, created_at, updated_at, language) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, COALESCE($9, 'en'))";
static const char users_email_taken[] = "SELECT 1 FROM users WHERE email_key = $1";
static const char users_username_taken[] = "SELECT 1 FROM users WHERE username_key = $1";
/* An account whose e-mail is not verified is listed only for its exact username ($2), which
 * GET /api/users/by-username answers anyway (docs/security.md). */
#define USERS_SEARCH_WHERE                                                               \
    "WHERE (username_key LIKE $1 ESCAPE '!' OR lower(display_name) LIKE $1 ESCAPE '!') " \
    "AND (email_verified = 1 OR username_key = $2)"
static const char users_search[] =
    "SELECT " USER_COLS " FROM users " USERS_SEARCH_WHERE " ORDER BY username_key LIMIT $3 "
    "OFFSET $4";
static const char users_search_count[] = "SELECT COUNT(*) FROM users " USERS_SEARCH_WHERE;
static const char users_update_profile[] =
    "UPDATE users SET display_name = CASE WHEN $2 = 1 THEN $3 ELSE display_name END, "
    "bio = CASE WHEN $4 = 1 THEN $5 ELSE bio END, "
    "avatar_url = CASE WHEN $6 = 1 THEN $7 ELSE avatar_url END, updated_at = $8, "
    "language = COALESCE($9, language), "
    "read_receipts = CASE WHEN $10 = 1 THEN $11 ELSE read_receipts END, "
    "last_seen_hidden = CASE WHEN $12 = 1 THEN $13 ELSE last_seen_hidden END WHERE id = $1";
static const char users_avatar_drop[] = "DELETE FROM avatars WHERE user_id = $1";
static const char users_set_password[] =
    "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1";
static const char users_set_verified[] =
    "UPDATE users SET email_verified = 1, updated_at = $2 WHERE id = $1";

/* Deleting an account: what others queued to its devices is given back to their senders'
 * counts first; its audit entries go (they hold its addresses and user agents), and its direct
 * conversations stop naming it in their pair key (the other side keeps them); then the user
 * row, whose deletion cascades to everything else of the account (0001_init.sql). */
#define USERS_DEVICES_QUEUE "q.device_id IN (SELECT id FROM devices WHERE user_id = $1)"
static const char users_queue_bytes_sqlite[] = QUEUED_BYTES_SUM(USERS_DEVICES_QUEUE, "");
static const char users_queue_bytes_pg[] = QUEUED_BYTES_SUM(USERS_DEVICES_QUEUE, QUEUED_BYTES_LOCK);
static const char users_audit_delete[] = "DELETE FROM audit_log WHERE user_id = $1";
static const char users_unpair[] =
    "UPDATE conversations SET direct_key = NULL WHERE id IN "
    "(SELECT conversation_id FROM conversation_participants WHERE user_id = $1)";
static const char users_delete[] = "DELETE FROM users WHERE id = $1";

void store_user_free(struct store_user *u)
{
    if (!u)
        return;
    free(u->email);
    free(u->username);
    free(u->password_hash);
    free(u->display_name);
    free(u->bio);
    free(u->avatar_url);
    free(u->language);
    memset(u, 0, sizeof *u);
}

void store_users_free(struct store_user *users, size_t n)
{
    for (size_t i = 0; users && i < n; i++)
        store_user_free(&users[i]);
    free(users);
}

static void user_read(struct store *s, struct db_rows *r, struct store_user *u)
{
    store_col_id(s, r, 0, u->id);
    u->email = store_col_strdup(s, r, 1);
    u->username = store_col_strdup(s, r, 2);
    u->password_hash = store_col_strdup(s, r, 3);
    u->display_name = store_col_strdup(s, r, 4);
    u->bio = store_col_strdup(s, r, 5);
    u->avatar_url = store_col_strdup(s, r, 6);
    u->email_verified = s->drv->get_int(r, 7) != 0;
    u->mfa_enabled = s->drv->get_int(r, 8) != 0;
    u->created_at = s->drv->get_int(r, 9);
    u->updated_at = s->drv->get_int(r, 10);
    u->language = store_col_strdup(s, r, 11);
    u->read_receipts = s->drv->get_int(r, 12) != 0;
    u->last_seen_hidden = s->drv->get_int(r, 13) != 0;
}

static enum store_err user_get_one(struct store *s, const char *sql, const char *key,
                                   struct store_user *out)
{
    struct db_param p = db_text(key);
    struct db_rows *r;
    memset(out, 0, sizeof *out);
    int rc = s->drv->query(s->db, sql, &p, 1, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        user_read(s, r, out);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : rc == 0 ? STORE_NOT_FOUND : store_map(rc);
}

enum store_err store_user_get(struct store *s, const char *id, struct store_user *out)
{
    return user_get_one(s, users_by_id, id, out);
}

enum store_err store_user_get_by_email(struct store *s, const char *email, struct store_user *out)
{
    char *key = store_ascii_lower(email);
    enum store_err rc = user_get_one(s, users_by_email, key, out);
    free(key);
    return rc;
}

enum store_err store_user_get_by_username(struct store *s, const char *username,
                                          struct store_user *out)
{
    char *key = store_ascii_lower(username);
    enum store_err rc = user_get_one(s, users_by_username, key, out);
    free(key);
    return rc;
}

/* 1 when a row matches the single text parameter, 0 when not, or a negative db_err. */
static int user_taken(struct store *s, const char *sql, const char *key)
{
    struct db_param p = db_text(key);
    return db_exists(s->drv, s->db, sql, &p, 1);
}

static enum store_err user_insert(struct store *s, const struct store_new_user *u, int64_t now,
                                  char id[STORE_ID_SIZE])
{
    char *email_key = store_ascii_lower(u->email);
    char *username_key = store_ascii_lower(u->username);
    int rc = user_taken(s, users_email_taken, email_key);
    enum store_err err = rc == 1 ? STORE_CONFLICT_EMAIL : store_map(rc);
    if (err == STORE_OK) {
        rc = user_taken(s, users_username_taken, username_key);
        err = rc == 1 ? STORE_CONFLICT_USERNAME : store_map(rc);
    }
    if (err == STORE_OK) {
        store_uuid_v4(id);
        struct db_param p[] = {db_text(id),
                               db_text(u->email),
                               db_text(email_key),
                               db_text(u->username),
                               db_text(username_key),
                               db_text(u->password_hash),
                               db_text(u->display_name),
                               DB_INT(now),
                               db_text(u->language)};
        err = store_exec(s, users_insert, p, 9, NULL);
    }
    free(email_key);
    free(username_key);
    return err;
}

enum store_err store_user_register(struct store *s, const struct store_new_user *u,
                                   const struct store_new_device *d,
                                   const struct store_prekey *prekeys, size_t n_prekeys,
                                   size_t max_prekeys, int64_t now, char user_id[STORE_ID_SIZE],
                                   char device_id[STORE_ID_SIZE])
{
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = user_insert(s, u, now, user_id);
    if (rc == STORE_OK)
        rc = store_device_create(s, user_id, d, now, device_id);
    if (rc == STORE_OK && n_prekeys)
        rc = store_prekeys_add(s, device_id, prekeys, n_prekeys, max_prekeys, now);
    return store_finish(s, rc);
}

/* '%' + query with LIKE's wildcards escaped by '!' + '%', lowercased like the keys. */
static char *user_like_pattern(const char *query)
{
    char *lower = store_ascii_lower(query);
    size_t n = strlen(lower);
    char *pat = store_xmalloc(2 * n + 3), *o = pat;
    *o++ = '%';
    for (const char *c = lower; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '!')
            *o++ = '!';
        *o++ = *c;
    }
    *o++ = '%';
    *o = '\0';
    free(lower);
    return pat;
}

static enum store_err user_search_count(struct store *s, const char *pat, const char *key,
                                        int64_t *total)
{
    struct db_param p[] = {db_text(pat), db_text(key)};
    struct db_rows *r;
    int rc = s->drv->query(s->db, users_search_count, p, 2, &r);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *total = s->drv->get_int(r, 0);
    s->drv->done(r);
    return rc == 1 ? STORE_OK : store_map(rc < 0 ? rc : DB_ERR);
}

static enum store_err user_search_rows(struct store *s, const char *pat, const char *key,
                                       int64_t limit, int64_t offset, struct store_user **out,
                                       size_t *n)
{
    struct db_param p[] = {db_text(pat), db_text(key), DB_INT(limit), DB_INT(offset)};
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, users_search, p, 4, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct store_user *grown = realloc(*out, cap * sizeof **out);
            if (!grown)
                abort();
            *out = grown;
        }
        memset(&(*out)[*n], 0, sizeof **out);
        user_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

enum store_err store_user_search(struct store *s, const char *query, int64_t limit, int64_t offset,
                                 struct store_user **out, size_t *n, int64_t *total)
{
    char *pat = user_like_pattern(query), *key = store_ascii_lower(query);
    *out = NULL;
    *n = 0;
    *total = 0;
    enum store_err rc = user_search_count(s, pat, key, total);
    if (rc == STORE_OK && *total > offset)
        rc = user_search_rows(s, pat, key, limit, offset, out, n);
    if (rc != STORE_OK) {
        store_users_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    free(pat);
    free(key);
    return rc;
}

/* UPDATE ... WHERE id = $1: STORE_NOT_FOUND when no row matched. */
static enum store_err user_update(struct store *s, const char *sql, const struct db_param *p, int n)
{
    int64_t changes = 0;
    enum store_err rc = store_exec(s, sql, p, n, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_NOT_FOUND : rc;
}

enum store_err store_user_update_profile(struct store *s, const char *id,
                                         const struct store_profile *pr, int64_t now)
{
    struct db_param p[] = {db_text(id),
                           DB_INT(pr->set_display_name),
                           db_text(pr->display_name),
                           DB_INT(pr->set_bio),
                           db_text(pr->bio),
                           DB_INT(pr->set_avatar_url),
                           db_text(pr->avatar_url),
                           DB_INT(now),
                           db_text(pr->language),
                           DB_INT(pr->set_read_receipts),
                           DB_INT(pr->read_receipts),
                           DB_INT(pr->set_last_seen_hidden),
                           DB_INT(pr->last_seen_hidden)};
    enum store_err rc;

    if (!pr->set_avatar_url)
        return user_update(s, users_update_profile, p, 13);
    /* A URL of the user's choosing replaces an uploaded picture, which nothing names then. */
    rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = user_update(s, users_update_profile, p, 13);
    if (rc == STORE_OK)
        rc = store_exec(s, users_avatar_drop, p, 1, NULL);
    return store_finish(s, rc);
}

enum store_err store_user_set_password(struct store *s, const char *id, const char *password_hash,
                                       int64_t now)
{
    struct db_param p[] = {db_text(id), db_text(password_hash), DB_INT(now)};
    return user_update(s, users_set_password, p, 3);
}

enum store_err store_user_set_email_verified(struct store *s, const char *id, int64_t now)
{
    struct db_param p[] = {db_text(id), DB_INT(now)};
    return user_update(s, users_set_verified, p, 2);
}

enum store_err store_user_delete(struct store *s, const char *id)
{
    struct db_param p = db_text(id);
    int64_t changes = 0;
    enum store_err rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = queued_bytes_release(s, store_sql(s, users_queue_bytes_sqlite, users_queue_bytes_pg), &p,
                              1);
    if (rc == STORE_OK)
        rc = store_exec(s, users_audit_delete, &p, 1, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, users_unpair, &p, 1, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, users_delete, &p, 1, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    return store_finish(s, rc);
}
