/* /api/users: the caller's profile (GET, PATCH), other users' public profiles by id and by
 * username, search, the caller's devices with their names and revocation, and blocks. */
#include <stdlib.h>
#include <string.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "base/config.h"
#include "base/server.h"
#include "messaging/realtime.h"
#include "store/attachments.h"
#include "store/blocks.h"
#include "store/conversations.h"
#include "store/mfa.h"

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 50
#define SEARCH_OFFSET_MAX 1000000

/* ---- me ---- */

/* The caller's own form; with two-factor on, how many backup codes are left; the
 * attachment bytes stored against the quota (api.md "Attachments"). */
static void me_answer(struct store *s, struct job *j)
{
    struct store_user u = {0};
    enum store_err rc = store_user_get(s, j->who.user_id, &u);
    int64_t left = 0, used = 0;
    json_t *o;

    if (rc == STORE_OK && u.mfa_enabled)
        rc = store_mfa_backup_left(s, u.id, &left);
    if (rc == STORE_OK)
        rc = store_attachment_used(s, u.id, &used);
    if (rc != STORE_OK) {
        job_store_error(j, rc, "user_get");
    } else {
        o = accounts_me_json(&u);
        if (u.mfa_enabled)
            json_object_set_new(o, "backupCodesLeft", json_integer(left));
        json_object_set_new(o, "storage",
                            json_pack("{s:I, s:I}", "used", (json_int_t)used, "quota",
                                      (json_int_t)j->a->srv->cfg->attachment_quota_bytes));
        job_ok(j, 200, o);
    }
    store_user_free(&u);
}

static void me_get(struct http_req *req, void *arg) { job_submit(job_new(req, arg), me_answer); }

/* Every field is optional; null or "" clears it, absent leaves it as it is. */
static const char *const last_seen_values[] = {"contacts", "nobody", NULL};
/* privacy: {readReceipts?, lastSeen?}, each left as it is when absent or null. */
static const struct field_spec privacy_fields[] = {
    {"readReceipts", FIELD_BOOLEAN, 0, .max = 0},
    {"lastSeen", FIELD_ENUM, 0, .one_of = last_seen_values},
};
enum {
    P_DISPLAY_NAME,
    P_BIO,
    P_AVATAR_URL,
    P_LANGUAGE,
    P_PRIVACY,
    P_READ_RECEIPTS,
    P_LAST_SEEN,
    P_N
};
static const struct field_spec patch_fields[] = {
    [P_DISPLAY_NAME] = ACCOUNT_DISPLAY_NAME_ROW(0),
    [P_BIO] = ACCOUNT_BIO_ROW,
    [P_AVATAR_URL] = {"avatarUrl", FIELD_STRING, 0, .max = 2048},
    [P_LANGUAGE] = ACCOUNT_LANGUAGE_ROW, /* null or absent: left as it is */
    [P_PRIVACY] = {"privacy", FIELD_OBJECT, 0, .sub = privacy_fields, .n_sub = 2},
};

static bool patch_avatar_ok(struct job *j, const char *url)
{
    if (!url)
        return true;
    if (strncmp(url, "https://", 8) || strlen(url) <= 8 || strpbrk(url, " \"<>\\^`{|}")) {
        job_invalid(j, "avatarUrl", "not_https_url");
        return false;
    }
    return true;
}

static void me_patch_work(struct store *s, struct job *j)
{
    struct store_profile p = {0};
    struct field_value v[P_N];
    enum store_err rc;

    if (!json_is_object(j->body)) {
        job_error(j, 400, "invalid_json", "The body must be a JSON object.");
        return;
    }
    if (job_fields(j, j->body, patch_fields, P_PRIVACY + 1, v, P_N))
        return;
    p.set_display_name = v[P_DISPLAY_NAME].json != NULL;
    p.display_name = v[P_DISPLAY_NAME].str;
    p.set_bio = v[P_BIO].json != NULL;
    p.bio = v[P_BIO].str;
    p.set_avatar_url = v[P_AVATAR_URL].json != NULL;
    p.avatar_url = v[P_AVATAR_URL].str;
    p.language = v[P_LANGUAGE].str;
    p.set_read_receipts = v[P_READ_RECEIPTS].json && json_is_boolean(v[P_READ_RECEIPTS].json);
    p.read_receipts = v[P_READ_RECEIPTS].flag;
    p.set_last_seen_hidden = v[P_LAST_SEEN].str != NULL;
    p.last_seen_hidden = p.set_last_seen_hidden && !strcmp(v[P_LAST_SEEN].str, "nobody");
    if (!patch_avatar_ok(j, p.avatar_url))
        return;
    /* An empty string clears a field, like null. */
    if (p.display_name && !*p.display_name)
        p.display_name = NULL;
    if (p.bio && !*p.bio)
        p.bio = NULL;
    rc = store_user_update_profile(s, j->who.user_id, &p, j->now);
    if (rc != STORE_OK) {
        job_store_error(j, rc, "update_profile");
        return;
    }
    if (p.set_last_seen_hidden) {
        j->n1 = 1;
        j->n2 = p.last_seen_hidden;
    }
    me_answer(s, j);
}

/* Presence from now on follows the new last-seen setting. */
static void me_patch_after(struct job *j)
{
    if (j->n1)
        realtime_last_seen_hidden(j->a->srv, j->who.user_id, j->n2 != 0);
}

static void me_patch(struct http_req *req, void *arg)
{
    struct job *j = job_new(req, arg);

    if (!j)
        return;
    j->after_success = me_patch_after;
    job_submit(j, me_patch_work);
}

/* ---- others ---- */

static void user_answer(struct job *j, enum store_err rc, struct store_user *u)
{
    if (rc == STORE_NOT_FOUND)
        job_error(j, 404, "not_found", "No such user.");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "user_get");
    else
        job_ok(j, 200, api_user_row_json(u, false));
    store_user_free(u);
}

static void by_id_work(struct store *s, struct job *j)
{
    struct store_user u = {0};

    user_answer(j, store_user_get(s, j->arg, &u), &u);
}

static void by_username_work(struct store *s, struct job *j)
{
    struct store_user u = {0};

    user_answer(j, store_user_get_by_username(s, j->arg, &u), &u);
}

/* Handlers keyed by one UUID path parameter: a malformed id is simply not found (404, the
 * same answer as an unknown one); otherwise the id goes to the job and work runs on a worker. */
static void submit_by_id(struct http_req *req, void *arg, const char *param, const char *missing,
                         job_work_fn work)
{
    const char *id = http_param(req, param);
    struct job *j;

    if (!api_is_uuid(id)) {
        http_respond_error(req, 404, "not_found", missing, NULL);
        return;
    }
    j = job_new(req, arg);
    snprintf(j->arg, sizeof(j->arg), "%s", id);
    job_submit(j, work);
}

static void by_id_get(struct http_req *req, void *arg)
{
    submit_by_id(req, arg, "id", "No such user.", by_id_work);
}

static void by_username_get(struct http_req *req, void *arg)
{
    const char *name = http_param(req, "username");
    struct job *j;

    if (!name || !api_username_ok(name)) {
        http_respond_error(req, 404, "not_found", "No such user.", NULL);
        return;
    }
    j = job_new(req, arg);
    snprintf(j->arg, sizeof(j->arg), "%s", name);
    job_submit(j, by_username_work);
}

/* ---- search ---- */

struct search_args {
    int64_t limit, offset;
};

static void search_work(struct store *s, struct job *j)
{
    struct search_args *sa = j->extra;
    struct store_user *users = NULL;
    size_t n = 0;
    int64_t total = 0;
    enum store_err rc = store_user_search(s, j->arg, sa->limit, sa->offset, &users, &n, &total);
    json_t *arr;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "user_search");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_user_row_json(&users[i], false));
    store_users_free(users, n);
    job_ok(j, 200, json_pack("{s:o, s:I}", "users", arr, "total", (json_int_t)total));
}

/* An optional integer query parameter in [min, max]; -1 if malformed. */
static int search_int(struct http_req *req, const char *name, long min, long max, long def,
                      int64_t *out)
{
    char buf[32], *end;
    long v;

    *out = def;
    if (http_query(req, name, buf, sizeof(buf)) < 0)
        return 0;
    v = strtol(buf, &end, 10);
    if (!*buf || *end || v < min || v > max) {
        api_invalid(req, name, "out_of_range");
        return -1;
    }
    *out = v;
    return 0;
}

static const struct field_spec search_q_field[] = {
    {"q", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 100},
};

/* The query text, checked like a body's string field; -1 after job_invalid. */
static int search_q_check(struct job *j, const char *q)
{
    struct field_value v;
    json_t *tmp = json_pack("{s:s}", "q", q);
    int rc;

    if (!tmp) {
        job_invalid(j, "q", "invalid_characters"); /* not UTF-8: jansson refuses it */
        return -1;
    }
    rc = job_fields(j, tmp, search_q_field, 1, &v, 1);
    json_decref(tmp);
    return rc;
}

static void search_get(struct http_req *req, void *arg)
{
    struct search_args *sa = calloc(1, sizeof(*sa));
    char q[API_ARG_MAX];
    struct job *j;
    int n = http_query(req, "q", q, sizeof(q));

    if (!sa)
        abort();
    if (search_int(req, "limit", 1, SEARCH_LIMIT_MAX, SEARCH_LIMIT_DEFAULT, &sa->limit) ||
        search_int(req, "offset", 0, SEARCH_OFFSET_MAX, 0, &sa->offset))
        goto fail;
    j = job_new(req, arg);
    j->extra = sa;
    j->extra_free = free;
    if (n < 1) {
        job_invalid(j, "q", n == 0 ? "too_short" : "missing");
        job_finish(j);
        return;
    }
    if (search_q_check(j, q)) {
        job_finish(j);
        return;
    }
    snprintf(j->arg, sizeof(j->arg), "%s", q);
    job_submit(j, search_work);
    return;
fail:
    free(sa);
}

/* ---- devices ---- */

static void devices_work(struct store *s, struct job *j)
{
    struct store_device *d = NULL;
    size_t n = 0;
    enum store_err rc = store_device_list(s, j->who.user_id, STORE_DEVICES_NOT_REVOKED, &d, &n);
    json_t *arr;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "device_list");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_device_json(&d[i], j->who.device_id));
    store_devices_free(d, n);
    job_ok(j, 200, arr);
}

static void devices_get(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), devices_work);
}

/* A device's name, as registration and sign-in take it (text without control characters). */
static const struct field_spec rename_field[] = {ACCOUNT_DEVICE_NAME_ROW};

static void rename_work(struct store *s, struct job *j)
{
    struct store_device d = {0};
    struct field_value v;
    enum store_err rc;

    if (job_fields(j, j->body, rename_field, 1, &v, 1))
        return;
    rc = store_device_rename(s, j->who.user_id, j->arg, v.str);
    if (rc == STORE_OK)
        rc = store_device_get(s, j->arg, &d);
    if (rc == STORE_NOT_FOUND)
        job_error(j, 404, "not_found", "No such device.");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "device_rename");
    else
        job_ok(j, 200, api_device_json(&d, j->who.device_id));
    store_device_free(&d);
}

static void rename_patch(struct http_req *req, void *arg)
{
    submit_by_id(req, arg, "deviceId", "No such device.", rename_work);
}

/* The after-success step of a revocation: the revoked device's WebSocket closes with 4403
 * (realtime.h), on whichever node holds it. */
static void revoke_kick(struct job *j) { realtime_revoke_device(j->a->srv, j->arg); }

static void revoke_work(struct store *s, struct job *j)
{
    enum store_err rc = store_device_revoke(s, j->who.user_id, j->arg, j->now);

    if (rc == STORE_NOT_FOUND) {
        job_error(j, 404, "not_found", "No such device.");
        return;
    }
    if (rc != STORE_OK) {
        job_store_error(j, rc, "device_revoke");
        return;
    }
    api_audit(s, j, j->who.user_id, j->arg, "device_revoke", true,
              strcmp(j->arg, j->who.device_id) ? NULL : "own device");
    j->after_success = revoke_kick;
    job_success(j, 200);
}

static void revoke_delete(struct http_req *req, void *arg)
{
    submit_by_id(req, arg, "deviceId", "No such device.", revoke_work);
}

/* ---- blocks ---- */

/* The after-success steps of a block that ended a contact and of an unblock that restored
 * one: presence and typing follow at once, without a reconnect (realtime.h). */
static void block_contacts_ended(struct job *j)
{
    realtime_contacts_changed(j->a->srv, j->who.user_id, j->arg, false);
}

static void block_contacts_restored(struct job *j)
{
    realtime_contacts_changed(j->a->srv, j->who.user_id, j->arg, true);
}

/* Whether the two are contacts (conversations.h); a failed read says no, which only costs
 * the live presence update (the next connection's snapshot is right). */
static bool block_contacts(struct store *s, struct job *j)
{
    bool yes = false;

    return store_contacts_check(s, j->who.user_id, j->arg, &yes) == STORE_OK && yes;
}

static void block_work(struct store *s, struct job *j)
{
    bool were = block_contacts(s, j);
    enum store_err rc = store_block_add(s, j->who.user_id, j->arg, j->now);

    if (rc == STORE_NOT_FOUND)
        job_error(j, 404, "not_found", "No such user.");
    else if (rc == STORE_INVALID)
        job_invalid(j, "userId", "self");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "block_add");
    else {
        if (were)
            j->after_success = block_contacts_ended;
        job_success(j, 200);
    }
}

static void unblock_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    enum store_err rc = store_user_get(s, j->arg, &u);
    bool were = false;

    store_user_free(&u);
    if (rc == STORE_OK) {
        were = block_contacts(s, j);
        rc = store_block_remove(s, j->who.user_id, j->arg);
    }
    if (rc == STORE_NOT_FOUND)
        job_error(j, 404, "not_found", "No such user.");
    else if (rc != STORE_OK)
        job_store_error(j, rc, "block_remove");
    else {
        if (!were && block_contacts(s, j))
            j->after_success = block_contacts_restored;
        job_success(j, 200);
    }
}

static void block_route(struct http_req *req, void *arg)
{
    submit_by_id(req, arg, "userId", "No such user.",
                 http_method(req) == HTTP_DELETE ? unblock_work : block_work);
}

static void blocked_work(struct store *s, struct job *j)
{
    struct store_user *users = NULL;
    size_t n = 0;
    enum store_err rc = store_block_list(s, j->who.user_id, &users, &n);
    json_t *arr;

    if (rc != STORE_OK) {
        job_store_error(j, rc, "block_list");
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, api_user_row_json(&users[i], false));
    store_users_free(users, n);
    job_ok(j, 200, arr);
}

static void blocked_get(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), blocked_work);
}

int users_routes(struct server *srv, struct auth_state *a)
{
    /* Literal paths before /api/users/:id (the router tries them in order). */
    const struct route routes[] = {
        {HTTP_GET, "/api/users/me", me_get, a, 0, ROUTE_AUTH},
        {HTTP_PATCH, "/api/users/me", me_patch, a, 16384, ROUTE_AUTH | ROUTE_JSON},
        {HTTP_GET, "/api/users/me/devices", devices_get, a, 0, ROUTE_AUTH},
        {HTTP_GET, "/api/users/search", search_get, a, 0, ROUTE_AUTH},
        {HTTP_GET, "/api/users/blocked", blocked_get, a, 0, ROUTE_AUTH},
        {HTTP_DELETE, "/api/users/devices/:deviceId", revoke_delete, a, 0, ROUTE_AUTH},
        {HTTP_PATCH, "/api/users/devices/:deviceId", rename_patch, a, 4096,
         ROUTE_AUTH | ROUTE_JSON},
        {HTTP_POST | HTTP_DELETE, "/api/users/block/:userId", block_route, a, 0, ROUTE_AUTH},
        {HTTP_GET, "/api/users/by-username/:username", by_username_get, a, 0, ROUTE_AUTH},
        {HTTP_GET, "/api/users/:id", by_id_get, a, 0, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
