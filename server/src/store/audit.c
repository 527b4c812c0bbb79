/* audit.c: the security audit log. */
#include "store/audit.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

static const char audit_insert[] =
    "INSERT INTO audit_log (id, at, user_id, device_id, action, success, ip, user_agent, "
    "detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
#define AUDIT_COLS "id, at, user_id, device_id, action, success, ip, user_agent, detail"
static const char audit_list_user[] = "SELECT " AUDIT_COLS " FROM audit_log "
                                      "WHERE user_id = $1 ORDER BY at DESC, id LIMIT $2";
static const char audit_list_all[] =
    "SELECT " AUDIT_COLS " FROM audit_log ORDER BY at DESC, id LIMIT $1";

enum store_err store_audit_add(struct store *s, const struct store_audit *a, int64_t now)
{
    char id[STORE_ID_SIZE];
    store_uuid_v4(id);
    struct db_param p[] = {
        db_text(id),        DB_INT(now),        db_text(a->user_id), db_text(a->device_id),
        db_text(a->action), DB_INT(a->success), db_text(a->ip),      db_text(a->user_agent),
        db_text(a->detail)};
    return store_exec(s, audit_insert, p, 9, NULL);
}

void store_audit_rows_free(struct store_audit_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].user_id);
        free(rows[i].device_id);
        free(rows[i].action);
        free(rows[i].ip);
        free(rows[i].user_agent);
        free(rows[i].detail);
    }
    free(rows);
}

static void audit_read(struct store *s, struct db_rows *r, struct store_audit_row *a)
{
    store_col_id(s, r, 0, a->id);
    a->at = s->drv->get_int(r, 1);
    a->user_id = store_col_strdup(s, r, 2);
    a->device_id = store_col_strdup(s, r, 3);
    a->action = store_col_strdup(s, r, 4);
    a->success = s->drv->get_int(r, 5) != 0;
    a->ip = store_col_strdup(s, r, 6);
    a->user_agent = store_col_strdup(s, r, 7);
    a->detail = store_col_strdup(s, r, 8);
}

enum store_err store_audit_list(struct store *s, const char *user_id, int64_t limit,
                                struct store_audit_row **out, size_t *n)
{
    struct db_param p[] = {db_text(user_id), DB_INT(limit)};
    struct db_rows *r;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = user_id ? s->drv->query(s->db, audit_list_user, p, 2, &r)
                     : s->drv->query(s->db, audit_list_all, &p[1], 1, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct store_audit_row *grown = realloc(*out, cap * sizeof **out);
            if (!grown)
                abort();
            *out = grown;
        }
        memset(&(*out)[*n], 0, sizeof **out);
        audit_read(s, r, &(*out)[(*n)++]);
        rc = DB_OK;
    }
    s->drv->done(r);
    if (rc != DB_OK) {
        store_audit_rows_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return store_map(rc);
}
