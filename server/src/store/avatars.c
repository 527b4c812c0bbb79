/* avatars.c: profile pictures (avatars.h). A put bumps the account's version, upserts the
 * picture and points avatarUrl at it, in one transaction. */
#include "store/avatars.h"

#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char avatar_bump[] =
    "UPDATE users SET avatar_version = avatar_version + 1, updated_at = $2 WHERE id = $1";
static const char avatar_version_get[] = "SELECT avatar_version FROM users WHERE id = $1";
static const char avatar_upsert[] =
    "INSERT INTO avatars (user_id, version, content_type, image, updated_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, "
    "content_type = excluded.content_type, image = excluded.image, "
    "updated_at = excluded.updated_at";
static const char avatar_url_set[] = "UPDATE users SET avatar_url = $2 WHERE id = $1";
static const char avatar_get[] =
    "SELECT version, content_type, image, updated_at FROM avatars WHERE user_id = $1";
static const char avatar_remove[] = "DELETE FROM avatars WHERE user_id = $1";
static const char avatar_url_clear[] =
    "UPDATE users SET avatar_url = NULL, updated_at = $2 WHERE id = $1";

void store_avatar_free(struct store_avatar *a)
{
    if (!a)
        return;
    free(a->image);
    memset(a, 0, sizeof *a);
}

static enum store_err avatar_version(struct store *s, const char *user_id, int64_t *version)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    int rc = s->drv->query(s->db, avatar_version_get, &p, 1, &r);

    if (rc == DB_OK && (rc = s->drv->next(r)) == 1)
        *version = s->drv->get_int(r, 0);
    s->drv->done(r);
    if (rc < 0)
        return store_map(rc);
    return rc == 1 ? STORE_OK : STORE_NOT_FOUND;
}

static enum store_err avatar_write(struct store *s, const char *user_id, const char *type,
                                   const uint8_t *image, size_t len, int64_t now, int64_t *version)
{
    struct db_param bump[] = {db_text(user_id), DB_INT(now)};
    char url[128];
    int64_t changes = 0;
    enum store_err rc = store_exec(s, avatar_bump, bump, 2, &changes);

    if (rc == STORE_OK && changes == 0)
        return STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = avatar_version(s, user_id, version);
    if (rc != STORE_OK)
        return rc;
    struct db_param row[] = {db_text(user_id), DB_INT(*version), db_text(type), DB_BLOB(image, len),
                             DB_INT(now)};
    rc = store_exec(s, avatar_upsert, row, 5, NULL);
    if (rc != STORE_OK)
        return rc;
    snprintf(url, sizeof url, STORE_AVATAR_PATH, user_id, (long long)*version);
    struct db_param link[] = {db_text(user_id), db_text(url)};
    return store_exec(s, avatar_url_set, link, 2, NULL);
}

enum store_err store_avatar_put(struct store *s, const char *user_id, const char *content_type,
                                const uint8_t *image, size_t len, int64_t now, int64_t *version)
{
    enum store_err rc;

    *version = 0;
    if (!content_type || !*content_type || strlen(content_type) >= STORE_AVATAR_TYPE_MAX ||
        len == 0 || len > STORE_AVATAR_MAX)
        return STORE_INVALID;
    rc = store_begin(s);
    if (rc != STORE_OK)
        return rc;
    rc = avatar_write(s, user_id, content_type, image, len, now, version);
    rc = store_finish(s, rc);
    if (rc != STORE_OK)
        *version = 0;
    return rc;
}

enum store_err store_avatar_get(struct store *s, const char *user_id, struct store_avatar *out)
{
    struct db_param p = db_text(user_id);
    struct db_rows *r;
    int rc = s->drv->query(s->db, avatar_get, &p, 1, &r);
    bool found = false;

    memset(out, 0, sizeof *out);
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        size_t tlen = 0;
        const char *t = s->drv->get_text(r, 1, &tlen);
        const void *b = s->drv->get_blob(r, 2, &out->len);

        found = true;
        out->version = s->drv->get_int(r, 0);
        out->updated_at = s->drv->get_int(r, 3);
        rc = t && tlen < sizeof out->content_type && out->len <= STORE_AVATAR_MAX ? DB_OK : DB_ERR;
        if (rc == DB_OK) {
            memcpy(out->content_type, t, tlen);
            out->image = store_xmalloc(out->len ? out->len : 1);
            memcpy(out->image, b, out->len);
        }
    }
    s->drv->done(r);
    if (rc < 0) {
        store_avatar_free(out);
        return store_map(rc);
    }
    return found ? STORE_OK : STORE_NOT_FOUND;
}

enum store_err store_avatar_delete(struct store *s, const char *user_id, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(now)};
    int64_t changes = 0;
    enum store_err rc = store_begin(s);

    if (rc != STORE_OK)
        return rc;
    rc = store_exec(s, avatar_remove, p, 1, NULL);
    if (rc == STORE_OK)
        rc = store_exec(s, avatar_url_clear, p, 2, &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    return store_finish(s, rc);
}
