/* blocks.c: blocking between users. */
#include "store/blocks.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char blocks_insert[] =
    "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (blocker_id, blocked_id) DO NOTHING";
static const char blocks_delete[] = "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2";
static const char blocks_between[] =
    "SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) "
    "OR (blocker_id = $2 AND blocked_id = $1)";
static const char blocks_list[] = "SELECT u.id FROM blocks b JOIN users u ON u.id = b.blocked_id "
                                  "WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.id";

enum store_err store_block_add(struct store *s, const char *blocker_id, const char *blocked_id,
                               int64_t now)
{
    struct db_param p[] = {db_text(blocker_id), db_text(blocked_id), DB_INT(now)};
    if (!strcmp(blocker_id, blocked_id))
        return STORE_INVALID;
    return store_exec(s, blocks_insert, p, 3, NULL);
}

enum store_err store_block_remove(struct store *s, const char *blocker_id, const char *blocked_id)
{
    struct db_param p[] = {db_text(blocker_id), db_text(blocked_id)};
    return store_exec(s, blocks_delete, p, 2, NULL);
}

enum store_err store_block_between(struct store *s, const char *a, const char *b, bool *blocked)
{
    struct db_param p[] = {db_text(a), db_text(b)};
    int rc = db_exists(s->drv, s->db, blocks_between, p, 2);
    *blocked = rc == 1;
    return rc < 0 ? store_map(rc) : STORE_OK;
}

/* Ids first (one open query per connection), then each user. Block lists are short. */
static enum store_err block_ids(struct store *s, const char *blocker_id,
                                char (**ids)[STORE_ID_SIZE], size_t *n)
{
    struct db_param p = db_text(blocker_id);
    struct db_rows *r;
    size_t cap = 0;
    int rc = s->drv->query(s->db, blocks_list, &p, 1, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char(*grown)[STORE_ID_SIZE] = realloc(*ids, cap * sizeof **ids);
            if (!grown)
                abort();
            *ids = grown;
        }
        store_col_id(s, r, 0, (*ids)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    return store_map(rc);
}

enum store_err store_block_list(struct store *s, const char *blocker_id, struct store_user **out,
                                size_t *n)
{
    char(*ids)[STORE_ID_SIZE] = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    enum store_err rc = block_ids(s, blocker_id, &ids, &count);
    if (rc == STORE_OK && count)
        *out = store_xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count && rc == STORE_OK; i++) {
        rc = store_user_get(s, ids[i], &(*out)[*n]);
        if (rc == STORE_OK)
            (*n)++;
        else if (rc == STORE_NOT_FOUND) /* deleted meanwhile: skip */
            rc = STORE_OK;
    }
    free(ids);
    if (rc != STORE_OK) {
        store_users_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
