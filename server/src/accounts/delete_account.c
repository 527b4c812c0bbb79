/* DELETE /api/users/me: the account and everything of it go, for good. Like a password change
 * it needs the password (and with two-factor on, a code), so an access token alone cannot do
 * it. The store deletes it all in one transaction (store_user_delete), attachment rows with it;
 * after the commit their blobs go, every device's socket closes (4401), every user who shared
 * a conversation with it hears user:deleted, and the refresh cookie is cleared. */
#include <stdlib.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "attachments/attachments.h"
#include "base/server.h"
#include "messaging/realtime.h"
#include "store/conversations.h"
#include "store/attachments.h"

enum { D_PASSWORD, D_MFA, D_N };
static const struct field_spec delete_fields[] = {
    [D_PASSWORD] = {"password", FIELD_OPAQUE, FIELD_REQUIRED, .max = PASSWORD_MAX_BYTES,
                    .as_wrong_type = "missing"},
    [D_MFA] = {"mfaCode", FIELD_STRING, 0, .max = 32},
};

/* The users told, read with the rows they come from (the participants go with the user). */
struct delete_told {
    char (*ids)[STORE_ID_SIZE];
    size_t n;
};

static void delete_told_free(void *arg)
{
    struct delete_told *t = arg;

    if (t)
        free(t->ids);
    free(t);
}

/* After the commit: the sockets of the account's devices close, and everyone who shared a
 * conversation with it hears user:deleted. */
static void delete_after(struct job *j)
{
    const struct delete_told *t = j->extra;

    accounts_after_tokens_ended(j);
    for (size_t i = 0; t && i < t->n; i++)
        realtime_user_deleted(j->a->srv, j->who.user_id, t->ids[i]);
}

static enum store_err delete_collect(struct store *s, struct job *j)
{
    struct delete_told *t = calloc(1, sizeof(*t));
    enum store_err rc;

    if (!t)
        abort();
    rc = store_conversation_partners(s, j->who.user_id, &t->ids, &t->n);
    j->extra = t;
    j->extra_free = delete_told_free;
    return rc;
}

/* The devices whose sockets close, the attachments whose blobs go, and the users told are
 * read in the transaction that deletes them. */
static enum store_err delete_apply(struct store *s, struct job *j)
{
    char(*blobs)[STORE_ID_SIZE] = NULL;
    size_t n = 0;
    enum store_err rc = store_begin(s);

    if (rc != STORE_OK)
        return rc;
    rc = accounts_tokens_ended_user(s, j, j->who.user_id);
    if (rc == STORE_OK)
        rc = delete_collect(s, j);
    if (rc == STORE_OK)
        rc = store_attachments_of_owner(s, j->who.user_id, &blobs, &n);
    if (rc == STORE_OK)
        rc = store_user_delete(s, j->who.user_id);
    if (rc != STORE_OK)
        store_rollback(s);
    else if ((rc = store_commit(s)) == STORE_OK) /* the rows are gone: now their blobs */
        attachments_blobs_remove(j->a->srv, (const char(*)[STORE_ID_SIZE])blobs, n);
    free(blobs);
    return rc;
}

static void delete_work(struct store *s, struct job *j)
{
    struct store_user u = {0};
    struct field_value v[D_N];
    enum store_err rc;

    if (job_fields(j, j->body, delete_fields, D_N, v, D_N))
        return;
    if ((rc = store_user_get(s, j->who.user_id, &u)) != STORE_OK) {
        job_store_error(j, rc, "user_get");
        return;
    }
    if (accounts_prove_owner(s, j, &u, v[D_PASSWORD].str, "password", v[D_MFA].str,
                             "account_delete"))
        goto done;
    if ((rc = delete_apply(s, j)) != STORE_OK) {
        job_store_error(j, rc, "account_delete");
        goto done;
    }
    /* Its own entries went with it: this one names no one (the user row is gone). */
    api_audit(s, j, NULL, NULL, "account_delete", true, NULL);
    j->cookie = COOKIE_CLEAR;
    j->after_success = delete_after;
    job_success(j, 200);
done:
    store_user_free(&u);
}

static void delete_me(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct auth_identity *who = http_auth(req);
    struct field_value v[D_N];
    struct job *j;

    /* The password is guessable through a stolen access token: limited like MFA's checks. */
    if (auth_limit(a, req, RULE_MFA_IP, http_client_ip(req)) ||
        auth_limit(a, req, RULE_MFA_ACCOUNT, who->user_id))
        return;
    j = job_new(req, a);
    if (job_fields(j, j->body, delete_fields, D_N, v, D_N)) {
        job_finish(j);
        return;
    }
    job_heavy_account(j, who->user_id);
    job_submit_heavy(j, delete_work);
}

int delete_account_routes(struct server *srv, struct auth_state *a)
{
    struct route r = {HTTP_DELETE, "/api/users/me", delete_me, a, 8192, ROUTE_JSON | ROUTE_AUTH};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
