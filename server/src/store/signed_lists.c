/* signed_lists.c: the latest signed device list per account (signed_lists.h). One upsert that
 * only moves forward; a refused write is told apart from a retry by reading the row back. */
#include "store/signed_lists.h"

#include "store_internal.h"

#include <stdbool.h>
#include <string.h>

/* Both dialects take ON CONFLICT ... DO UPDATE ... WHERE: no row changes unless newer. */
static const char lists_put[] =
    "INSERT INTO device_lists (user_id, version, list, updated_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, list = excluded.list, "
    "updated_at = excluded.updated_at WHERE device_lists.version < excluded.version";
static const char lists_get[] = "SELECT version, list FROM device_lists WHERE user_id = $1";

enum store_err store_signed_list_get(struct store *s, const char *user_id, uint8_t *out, size_t cap,
                                     size_t *len, int64_t *version)
{
    struct db_param p[] = {db_text(user_id)};
    struct db_rows *r;
    bool found = false;
    int rc = s->drv->query(s->db, lists_get, p, 1, &r);

    *len = 0;
    *version = 0;
    if (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        const void *b = s->drv->get_blob(r, 1, len);

        found = true;
        *version = s->drv->get_int(r, 0);
        rc = *len <= cap ? DB_OK : DB_ERR;
        if (rc == DB_OK)
            memcpy(out, b, *len);
    }
    s->drv->done(r);
    if (rc < 0)
        return store_map(rc);
    return found ? STORE_OK : STORE_NOT_FOUND;
}

enum store_err store_signed_list_put(struct store *s, const char *user_id, int64_t version,
                                     const uint8_t *list, size_t len, int64_t now)
{
    struct db_param p[] = {db_text(user_id), DB_INT(version), DB_BLOB(list, len), DB_INT(now)};
    uint8_t held[STORE_SIGNED_LIST_MAX];
    size_t held_len;
    int64_t changes = 0, held_version;
    enum store_err rc;

    if (version < 1 || len == 0 || len > STORE_SIGNED_LIST_MAX)
        return STORE_INVALID;
    rc = store_exec(s, lists_put, p, 4, &changes);
    if (rc != STORE_OK || changes == 1)
        return rc;
    rc = store_signed_list_get(s, user_id, held, sizeof(held), &held_len, &held_version);
    if (rc != STORE_OK)
        return rc;
    return held_version == version && held_len == len && !memcmp(held, list, len) ? STORE_OK
                                                                                  : STORE_CONFLICT;
}

#define LIST_HEAD 66u /* format, userId, accountKey, version, issuedAt, n */
#define LIST_ENTRY 48u

/* 16 bytes as a canonical lower-case UUID. */
static void id_text(const uint8_t *b, char out[STORE_ID_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

bool store_signed_list_names(const uint8_t *list, size_t len, const char *device_id)
{
    size_t n = len >= LIST_HEAD ? list[LIST_HEAD - 1] : 0;
    char id[STORE_ID_SIZE];

    for (size_t i = 0; i < n && LIST_HEAD + (i + 1) * LIST_ENTRY <= len; i++) {
        id_text(list + LIST_HEAD + i * LIST_ENTRY, id);
        if (!strcmp(id, device_id))
            return true;
    }
    return false;
}
