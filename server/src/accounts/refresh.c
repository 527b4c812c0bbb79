/* Sessions: issuing access and refresh tokens, POST /api/auth/refresh (rotation, reuse
 * detection, the web cookie with its Origin check), /logout and /logout-all.
 *
 * Refresh tokens are 256-bit random strings stored only as a peppered hash; every use
 * rotates them, and a rotated token that comes back revokes its whole family (it was copied).
 * For web devices the refresh token never appears in a body: it lives in an HttpOnly,
 * SameSite=Strict cookie scoped to /api/auth, accepted only with an allowed Origin. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "accounts/internal.h"
#include "api/api.h"
#include "api/fields.h"
#include "auth/jwt.h"
#include "auth/tokens.h"
#include "base/cors.h"
#include "base/log.h"
#include "base/server.h"
#include "store/tokens.h"

#define COOKIE_PREFIX "sotto_refresh="

json_t *session_tokens(struct job *j, const char *user_id, const char *device_id,
                       const char *refresh, bool web)
{
    jwt_claims c = {0};
    char *access = NULL;
    char jti[STORE_ID_SIZE];
    json_t *t;

    /* A UUIDv7 of the issue time: the token's millisecond iat (access_token.h). */
    store_uuid_v7(jti, j->now);
    snprintf(c.sub, sizeof(c.sub), "%s", user_id);
    snprintf(c.dev, sizeof(c.dev), "%s", device_id);
    snprintf(c.jti, sizeof(c.jti), "%s", jti);
    c.iat = j->now / 1000;
    c.exp = c.iat + j->a->access_ttl;
    if (jwt_sign(j->a->jwt_key, j->a->jwt_key_len, &c, &access) != JWT_OK) {
        job_error(j, 500, API_INTERNAL_ERROR, "Something went wrong.");
        return NULL;
    }
    t = json_pack("{s:s, s:I}", "accessToken", access, "expiresIn", (json_int_t)j->a->access_ttl);
    sodium_memzero(access, strlen(access));
    free(access);
    if (!t)
        abort();
    if (web) {
        j->cookie = COOKIE_SET;
        j->cookie_max_age = j->a->refresh_ttl;
        snprintf(j->cookie_token, sizeof(j->cookie_token), "%s", refresh);
    } else {
        json_object_set_new(t, "refreshToken", json_string(refresh));
    }
    return t;
}

json_t *session_issue(struct store *s, struct job *j, const char *user_id,
                      const struct store_device *d)
{
    char tok[TOKEN_STR_SIZE];
    uint8_t hash[TOKEN_HASH_BYTES];
    enum store_err rc;
    json_t *t = NULL;

    token_generate(tok);
    token_hash(TOKEN_REFRESH, j->a->token_pepper, tok, TOKEN_CHARS, hash);
    rc = store_refresh_insert(s, hash, user_id, d->id, j->now + j->a->refresh_ttl * 1000, j->now,
                              NULL);
    if (rc != STORE_OK)
        job_store_error(j, rc, "refresh_insert");
    else
        t = session_tokens(j, user_id, d->id, tok, !strcmp(d->platform, "web"));
    sodium_memzero(tok, sizeof(tok));
    return t;
}

/* ---- POST /api/auth/refresh ---- */

struct refresh_extra {
    uint8_t hash[TOKEN_HASH_BYTES];
    bool from_cookie;
};

static void refresh_work(struct store *s, struct job *j)
{
    struct refresh_extra *x = j->extra;
    struct store_refresh owner = {0};
    struct store_device d = {0};
    char tok[TOKEN_STR_SIZE];
    uint8_t next[TOKEN_HASH_BYTES];
    enum store_err rc;
    json_t *t;

    token_generate(tok);
    token_hash(TOKEN_REFRESH, j->a->token_pepper, tok, TOKEN_CHARS, next);
    rc = store_refresh_rotate(s, x->hash, next, j->now + j->a->refresh_ttl * 1000, j->now, &owner);
    if (rc == STORE_TOKEN_REUSED) {
        /* A copied token: besides its family, the access tokens minted from it stop now
         * (the device's not-before), and the device's sockets close, as at a logout. */
        if (store_device_end_tokens(s, owner.device_id, j->now) == STORE_OK) {
            accounts_tokens_ended(j, owner.device_id);
            j->after_error = true;
        }
        api_audit(s, j, owner.user_id, owner.device_id, "refresh_reuse", false,
                  "family revoked, access tokens ended");
        job_error(j, 401, "unauthenticated",
                  "This refresh token was already used; the session has ended.");
    } else if (rc == STORE_NOT_FOUND) {
        job_error(j, 401, "unauthenticated", "The refresh token is not valid.");
    } else if (rc != STORE_OK) {
        job_store_error(j, rc, "refresh_rotate");
    } else if ((rc = store_device_get(s, owner.device_id, &d)) != STORE_OK) {
        job_store_error(j, rc, "device_get");
    } else if ((t = session_tokens(j, owner.user_id, owner.device_id, tok,
                                   x->from_cookie || !strcmp(d.platform, "web")))) {
        job_ok(j, 200, json_pack("{s:o}", "tokens", t));
    }
    store_device_free(&d);
    sodium_memzero(tok, sizeof(tok));
}

/* The sotto_refresh value from a Cookie header, copied into out; -1 if absent. */
static int refresh_cookie(const char *cookies, char *out, size_t outlen)
{
    const char *p = cookies;

    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!strncmp(p, COOKIE_PREFIX, strlen(COOKIE_PREFIX))) {
            const char *v = p + strlen(COOKIE_PREFIX);
            size_t n = strcspn(v, ";");

            if (n >= outlen)
                return -1;
            memcpy(out, v, n);
            out[n] = 0;
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* Finds the presented token: the body's refreshToken, else the cookie (with an allowed
 * Origin). Answers and returns -1 on a problem. */
static const struct field_spec refresh_field[] = {
    {"refreshToken", FIELD_OPAQUE, 0, .max = FIELD_UNBOUNDED},
};

static int refresh_token_of(struct http_req *req, struct auth_state *a, json_t *body, char *tok,
                            size_t toklen, bool *from_cookie)
{
    struct field_value v;
    struct field_fail fail;
    char cookies[4096], origin[CORS_ORIGIN_MAX] = "";
    size_t n;

    *from_cookie = false;
    if (fields_check(body, NULL, refresh_field, 1, &v, 1, &fail)) {
        api_invalid(req, fail.field, fail.reason);
        return -1;
    }
    if (v.str) {
        /* A longer one is no token of ours; cut, it fails the lookup like any other. */
        n = v.len < toklen ? v.len : toklen - 1;
        memcpy(tok, v.str, n);
        tok[n] = 0;
        return 0;
    }
    if (http_header(req, "cookie", cookies, sizeof(cookies)) < 0 ||
        refresh_cookie(cookies, tok, toklen)) {
        api_invalid(req, "refreshToken", "missing");
        return -1;
    }
    if (http_header(req, "origin", origin, sizeof(origin)) < 0 ||
        !auth_origin_allowed(a, req, origin)) {
        log_emit_limited(LOG_WARN, "auth.refresh_origin_refused",
                         "rid=%s origin=%s public_origin=%s hint=\"behind a proxy, set PUBLIC_URL "
                         "to the address people open (or list it in CORS_ORIGINS)\"",
                         http_request_id(req), origin, a->public_origin);
        http_respond_error(req, 403, "forbidden", "The refresh cookie needs an allowed Origin.",
                           NULL);
        return -1;
    }
    *from_cookie = true;
    return 0;
}

/* The body is optional (the cookie path needs none), so this route parses it itself. */
static int refresh_body(struct http_req *req, json_t **out)
{
    size_t len;
    const char *raw = http_body(req, &len);
    json_error_t e;

    *out = NULL;
    if (!len)
        return 0;
    *out = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &e);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        http_respond_error(req, 400, "invalid_json", "The body is not a JSON object.", NULL);
        return -1;
    }
    return 0;
}

static void refresh_post(struct http_req *req, void *arg)
{
    struct auth_state *a = arg;
    struct refresh_extra *x;
    char tok[256];
    json_t *body;
    bool from_cookie;
    struct job *j;

    if (auth_limit(a, req, RULE_REFRESH_IP, http_client_ip(req)) || refresh_body(req, &body))
        return;
    if (refresh_token_of(req, a, body, tok, sizeof(tok), &from_cookie))
        goto done;
    x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    x->from_cookie = from_cookie;
    if (token_hash(TOKEN_REFRESH, a->token_pepper, tok, strlen(tok), x->hash)) {
        free(x);
        http_respond_error(req, 401, "unauthenticated", "The refresh token is not valid.", NULL);
        goto done;
    }
    j = job_new(req, a);
    j->extra = x;
    j->extra_free = free;
    job_submit(j, refresh_work);
done:
    sodium_memzero(tok, sizeof(tok));
    json_decref(body);
}

/* ---- POST /api/auth/logout, /logout-all ----
 *
 * Both end tokens, not devices: the refresh tokens are revoked and the device's (every
 * device's) tokens_not_before set in one transaction, so access tokens already issued stop
 * at the next request (auth_hook.c), and once that committed the after-success step closes
 * the devices' WebSockets with 4401. */

static void logout_work(struct store *s, struct job *j)
{
    enum store_err rc = store_device_end_tokens(s, j->who.device_id, j->now);

    if (rc != STORE_OK) {
        job_store_error(j, rc, "end_device_tokens");
        return;
    }
    api_audit(s, j, j->who.user_id, j->who.device_id, "logout", true, NULL);
    accounts_tokens_ended(j, j->who.device_id);
    j->cookie = COOKIE_CLEAR;
    job_success(j, 200);
}

static void logout_all_work(struct store *s, struct job *j)
{
    enum store_err rc = store_begin(s);

    /* The devices whose sockets close are read in the same transaction. */
    if (rc == STORE_OK) {
        rc = store_user_end_tokens(s, j->who.user_id, j->now);
        if (rc == STORE_OK)
            rc = accounts_tokens_ended_user(s, j, j->who.user_id);
        if (rc == STORE_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc != STORE_OK) {
        job_store_error(j, rc, "end_user_tokens");
        return;
    }
    api_audit(s, j, j->who.user_id, j->who.device_id, "logout_all", true, NULL);
    j->cookie = COOKIE_CLEAR;
    job_success(j, 200);
}

static void logout_post(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), logout_work);
}

static void logout_all_post(struct http_req *req, void *arg)
{
    job_submit(job_new(req, arg), logout_all_work);
}

int session_routes(struct server *srv, struct auth_state *a)
{
    const struct route routes[] = {
        {HTTP_POST, "/api/auth/refresh", refresh_post, a, 4096, 0},
        {HTTP_POST, "/api/auth/logout", logout_post, a, 1024, ROUTE_AUTH},
        {HTTP_POST, "/api/auth/logout-all", logout_all_post, a, 1024, ROUTE_AUTH},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (router_add(srv->router, &routes[i]) < 0)
            return -1;
    return 0;
}
