/* The authentication hook for ROUTE_AUTH routes: the access token (HS256 JWT) is checked on
 * the loop thread (a MAC, microseconds), then one store read on a worker (the device row, by
 * primary key) confirms that its device still exists, belongs to the token's user, is not
 * revoked, and has not been logged out since the token was issued (tokens_not_before, see
 * access_token.h), so a revoked or logged-out device's tokens stop at once on every node.
 * The same job records the device's activity (IP, user agent, time), at most once a minute
 * per device. Before a body over HTTP_UNAUTH_BODY_MAX is read, the MAC check alone runs at
 * the headers (hook_precheck), so nobody without a genuine token makes the server hold one. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/access_token.h"
#include "api/api.h"
#include "auth/jwt.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/server.h"
#include "store/devices.h"

#define TOUCH_INTERVAL_MS 60000

/* The key access tokens are signed with (JWT_SECRET's bytes, owned by the configuration). */
struct hook_key {
    const uint8_t *key;
    size_t len;
};
static struct hook_key hook_key; /* one listener per process */

struct hook_job {
    struct http_req *req;
    struct auth_identity who;
    int64_t issued_ms; /* the token's issue time (access_token.h) */
    char ip[NETADDR_STRLEN];
    char ua[API_UA_MAX];
    int result; /* 0 ok, 401 unknown device or logged out, 403 revoked, 503 store */
};

static void hook_work(void *ctx, void *arg)
{
    struct hook_job *h = arg;
    struct store_device d = {0};
    int64_t now = clock_wall_ms();
    enum store_err rc;

    if (!ctx) {
        h->result = 503;
        return;
    }
    rc = store_device_get(ctx, h->who.device_id, &d);
    if (rc == STORE_NOT_FOUND || (rc == STORE_OK && strcmp(d.user_id, h->who.user_id)))
        h->result = 401;
    else if (rc != STORE_OK)
        h->result = 503;
    else if (d.revoked_at)
        h->result = 403;
    else if (h->issued_ms <= d.tokens_not_before)
        h->result = 401; /* ended by a logout, logout-all or password reset */
    else if (now - d.last_active_at >= TOUCH_INTERVAL_MS)
        store_device_touch(ctx, d.id, h->ip, h->ua[0] ? h->ua : NULL, now);
    store_device_free(&d);
}

static void hook_done(void *arg)
{
    struct hook_job *h = arg;
    struct auth_identity *who;

    switch (h->result) {
    case 0:
        who = malloc(sizeof(*who));
        if (!who)
            abort();
        *who = h->who;
        http_auth_accept(h->req, who, free);
        break;
    case 403: api_respond_device_revoked(h->req); break;
    case 401:
        http_respond_error(h->req, 401, "unauthenticated", "Authentication required.", NULL);
        break;
    default:
        http_add_header(h->req, "retry-after", "1");
        http_respond_error(h->req, 503, "unavailable", "The store is not available.", NULL);
    }
    free(h);
}

/* The token from "Authorization: Bearer <token>", or NULL. */
static const char *hook_bearer(struct http_req *req, char *buf, size_t buflen)
{
    int n = http_header(req, "authorization", buf, buflen);

    if (n <= 7 || strncasecmp(buf, "Bearer ", 7))
        return NULL;
    return buf + 7;
}

static void hook_run(struct http_req *req, void *arg)
{
    const struct hook_key *k = arg;
    char buf[JWT_MAX_TOKEN_LEN + 16];
    const char *tok = hook_bearer(req, buf, sizeof(buf));
    jwt_claims c;
    jwt_status st = JWT_ERR_MALFORMED;
    struct hook_job *h;

    if (tok)
        st = jwt_verify(k->key, k->len, tok, strlen(tok), clock_wall_ms() / 1000, &c);
    if (st == JWT_ERR_EXPIRED) {
        http_respond_error(req, 401, "token_expired", "The access token has expired.", NULL);
        return;
    }
    if (st != JWT_OK || !api_is_uuid(c.sub) || !api_is_uuid(c.dev)) {
        log_debug("auth.reject", "rid=%s reason=%s", http_request_id(req),
                  tok ? jwt_status_name(st) : "no_token");
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        return;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    h->req = req;
    memcpy(h->who.user_id, c.sub, STORE_ID_SIZE);
    memcpy(h->who.device_id, c.dev, STORE_ID_SIZE);
    snprintf(h->who.jti, sizeof(h->who.jti), "%s", c.jti);
    h->issued_ms = access_token_issued_ms(&c);
    snprintf(h->ip, sizeof(h->ip), "%s", http_client_ip(req));
    if (http_header(req, "user-agent", h->ua, sizeof(h->ua)) < 0)
        h->ua[0] = 0;
    if (http_submit(req, hook_work, hook_done, h))
        free(h);
}

/* At the headers of a request with a large body: is the token genuine and current? */
static bool hook_precheck(struct http_req *req, void *arg)
{
    const struct hook_key *k = arg;
    char buf[JWT_MAX_TOKEN_LEN + 16];
    const char *tok = hook_bearer(req, buf, sizeof(buf));
    jwt_claims c;

    return tok &&
           jwt_verify(k->key, k->len, tok, strlen(tok), clock_wall_ms() / 1000, &c) == JWT_OK;
}

int auth_hook_install(struct server *srv, const uint8_t *jwt_key, size_t jwt_key_len)
{
    hook_key = (struct hook_key){jwt_key, jwt_key_len};
    http_set_auth_precheck(srv, hook_precheck, &hook_key);
    http_set_auth_hook(srv, hook_run, &hook_key);
    return 0;
}
