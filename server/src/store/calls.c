/* calls.c: call records (calls.h). One upsert that merges, and the history of a
 * conversation. */
#include "store/calls.h"

#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* A value known once stays: the first end wins, so a late "answered" write cannot undo it and
 * a late second end cannot rename it. Both dialects take ON CONFLICT ... excluded. */
static const char calls_record[] =
    "INSERT INTO calls (id, conversation_id, caller_id, caller_device_id, callee_device_id, "
    "call_type, started_at, answered_at, ended_at, ended_by, reason, duration) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
    "ON CONFLICT (id) DO UPDATE SET "
    "callee_device_id = COALESCE(calls.callee_device_id, excluded.callee_device_id), "
    "answered_at = COALESCE(calls.answered_at, excluded.answered_at), "
    "ended_by = CASE WHEN calls.ended_at IS NULL THEN excluded.ended_by ELSE calls.ended_by END, "
    "reason = COALESCE(calls.reason, excluded.reason), "
    "duration = CASE WHEN calls.ended_at IS NULL THEN excluded.duration ELSE calls.duration END, "
    "ended_at = COALESCE(calls.ended_at, excluded.ended_at)";
static const char calls_participant[] =
    "SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2";
#define CALLS_COLUMNS                                                                        \
    "SELECT id, conversation_id, caller_id, caller_device_id, callee_device_id, call_type, " \
    "started_at, answered_at, ended_at, ended_by, reason, duration FROM calls "
static const char calls_page[] =
    CALLS_COLUMNS "WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2";
static const char calls_page_before[] =
    CALLS_COLUMNS "WHERE conversation_id = $1 AND id < $3 ORDER BY id DESC LIMIT $2";

static const char *const reason_names[] = {NULL, "hangup", "rejected", "missed", "busy", "failed"};
#define REASONS (sizeof(reason_names) / sizeof(reason_names[0]))

const char *store_call_reason_name(enum store_call_reason r)
{
    return (unsigned)r < REASONS ? reason_names[r] : NULL;
}

static enum store_call_reason reason_parse(const char *s)
{
    for (size_t i = 1; s && i < REASONS; i++)
        if (!strcmp(s, reason_names[i]))
            return (enum store_call_reason)i;
    return STORE_CALL_ONGOING;
}

static struct db_param text_or_null(const char *s) { return s && *s ? db_text(s) : DB_NULL; }

static struct db_param int_or_null(int64_t v) { return v ? DB_INT(v) : DB_NULL; }

enum store_err store_call_record(struct store *s, const struct store_call *c)
{
    if (!c->id[0] || !c->conversation_id[0] || (unsigned)c->reason >= REASONS)
        return STORE_INVALID;
    struct db_param p[] = {
        db_text(c->id),
        db_text(c->conversation_id),
        db_text(c->caller_id),
        db_text(c->caller_device_id),
        text_or_null(c->callee_device_id),
        db_text(c->video ? "video" : "audio"),
        DB_INT(c->started_at),
        int_or_null(c->answered_at),
        int_or_null(c->ended_at),
        text_or_null(c->ended_by),
        text_or_null(store_call_reason_name(c->reason)),
        DB_INT(c->duration),
    };
    return store_exec(s, calls_record, p, 12, NULL);
}

static void call_row(struct store *s, struct db_rows *r, struct store_call *c)
{
    memset(c, 0, sizeof(*c));
    store_col_id(s, r, 0, c->id);
    store_col_id(s, r, 1, c->conversation_id);
    store_col_id(s, r, 2, c->caller_id);
    store_col_id(s, r, 3, c->caller_device_id);
    store_col_id(s, r, 4, c->callee_device_id);
    c->video = !strcmp(s->drv->get_text(r, 5, NULL), "video");
    c->started_at = s->drv->get_int(r, 6);
    c->answered_at = s->drv->get_int(r, 7);
    c->ended_at = s->drv->get_int(r, 8);
    store_col_id(s, r, 9, c->ended_by);
    c->reason = reason_parse(s->drv->is_null(r, 10) ? NULL : s->drv->get_text(r, 10, NULL));
    c->duration = s->drv->get_int(r, 11);
}

enum store_err store_call_history(struct store *s, const char *user_id, const char *conversation_id,
                                  const char *before, int64_t limit, struct store_call **out,
                                  size_t *n, bool *has_more)
{
    struct db_param pp[] = {db_text(conversation_id), db_text(user_id)};
    struct db_param p[] = {db_text(conversation_id), DB_INT(limit + 1), text_or_null(before)};
    struct db_rows *r;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    *has_more = false;
    if (limit < 1 || limit > STORE_CALLS_PAGE_MAX)
        return STORE_INVALID;
    rc = db_exists(s->drv, s->db, calls_participant, pp, 2);
    if (rc != 1)
        return rc < 0 ? store_map(rc) : STORE_NOT_FOUND;
    rc = s->drv->query(s->db, before ? calls_page_before : calls_page, p, before ? 3 : 2, &r);
    while (rc == DB_OK && (rc = s->drv->next(r)) == 1) {
        rc = DB_OK;
        if ((int64_t)*n == limit) {
            *has_more = true;
            continue;
        }
        *out = store_xgrow(*out, &cap, *n, sizeof(**out));
        call_row(s, r, &(*out)[(*n)++]);
    }
    s->drv->done(r);
    if (rc != DB_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
        *has_more = false;
    }
    return store_map(rc);
}
