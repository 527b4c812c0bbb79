/* GET /api/calls/turn-credentials: short-lived TURN credentials the TURN REST way that
 * coturn's use-auth-secret checks (username "<unix expiry>:<userId>", credential
 * base64(HMAC-SHA1(TURN_SECRET, username))), so the TURN server needs no account database
 * and nothing to ask sottod. Without TURN_SECRET and TURN_URLS: {urls: [], ttl: 0}, and
 * clients use host candidates only. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "api/api.h"
#include "base/server.h"
#include "calls/internal.h"

int calls_turn_credential(const char *secret, const char *username, char *out, size_t outlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username,
              strlen(username), mac, &maclen))
        return -1;
    if (outlen < sodium_base64_ENCODED_LEN(maclen, sodium_base64_VARIANT_ORIGINAL))
        return -1;
    sodium_bin2base64(out, outlen, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(mac, sizeof(mac));
    return 0;
}

/* The configured URLs as a JSON array (TURN_URLS is comma-separated, checked at start). */
static json_t *turn_urls(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        while (n && (*p == ' ')) /* "a, b" as well as "a,b" */
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p = end ? end + 1 : NULL;
    }
    return a;
}

static void turn_work(struct store *st, struct job *j)
{
    const struct calls *c = j->extra;
    const struct config *cfg = c->srv->cfg;
    char username[64], credential[64];

    (void)st;
    if (!cfg->turn_secret || !cfg->turn_urls || !*cfg->turn_urls) {
        job_ok(j, 200, json_pack("{s:[], s:i}", "urls", "ttl", 0));
        return;
    }
    snprintf(username, sizeof(username), "%lld:%s", (long long)(j->now / 1000 + cfg->turn_ttl),
             j->who.user_id);
    if (calls_turn_credential(cfg->turn_secret, username, credential, sizeof(credential))) {
        job_error(j, 500, "internal_error", "Something went wrong.");
        return;
    }
    job_ok(j, 200,
           json_pack("{s:o, s:s, s:s, s:I}", "urls", turn_urls(cfg->turn_urls), "username",
                     username, "credential", credential, "ttl", (json_int_t)cfg->turn_ttl));
}

static void turn_credentials(struct http_req *req, void *arg)
{
    struct calls *c = arg;
    struct job *j = job_new_caller(req, NULL, NULL);
    uint32_t retry;

    if (!j)
        return;
    if (ratelimit_take(c->limits, &c->turn_rule, j->who.user_id, strlen(j->who.user_id),
                       clock_mono_ms(), &retry)) {
        http_respond_rate_limited(req, "rate_limited", retry);
        job_free(j);
        return;
    }
    j->extra = c; /* borrowed: the room outlives the pool (realtime_destroy comes after) */
    job_submit(j, turn_work);
}

int calls_turn_routes(struct server *srv, struct calls *c)
{
    const struct route r = {HTTP_GET,  "/api/calls/turn-credentials", turn_credentials, c, 0,
                            ROUTE_AUTH};

    return router_add(srv->router, &r) < 0 ? -1 : 0;
}
