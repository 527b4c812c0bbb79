/* The REST handlers' shared plumbing (see api.h): jobs between the loop and the workers,
 * input checks, the JSON forms of users and devices, the audit helper and bundle glue. */
#include "api/api.h"

#include "base/keycount.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth/bundle.h"
#include "auth/utf8.h"
#include "base/log.h"
#include "messaging/realtime.h"
#include "store/audit.h"
#include "store/prekeys.h"

#define COOKIE_NAME "sotto_refresh"

struct job *job_new(struct http_req *req, struct auth_state *a)
{
    struct job *j = calloc(1, sizeof(*j));
    struct auth_identity *who = http_auth(req);

    if (!j)
        abort();
    j->req = req;
    j->a = a;
    snprintf(j->ip, sizeof(j->ip), "%s", http_client_ip(req));
    snprintf(j->rid, sizeof(j->rid), "%s", http_request_id(req));
    if (http_header(req, "user-agent", j->ua, sizeof(j->ua)) < 0)
        j->ua[0] = 0;
    j->secure = http_is_secure(req);
    if (who) {
        j->who = *who;
        j->authed = true;
    }
    if (http_json(req)) {
        j->body = json_deep_copy(http_json(req));
        if (!j->body)
            abort();
    }
    return j;
}

void job_free(struct job *j)
{
    if (!j)
        return;
    json_decref(j->body);
    json_decref(j->out);
    json_decref(j->details);
    if (j->extra_free)
        j->extra_free(j->extra);
    free(j->devices);
    sodium_memzero(j->cookie_token, sizeof(j->cookie_token));
    free(j);
}

static void job_cookie(struct job *j)
{
    char v[256];

    if (j->cookie == COOKIE_NONE)
        return;
    if (j->cookie == COOKIE_SET)
        snprintf(v, sizeof(v),
                 COOKIE_NAME "=%s; HttpOnly; SameSite=Strict; "
                             "Path=/api/auth; Max-Age=%lld%s",
                 j->cookie_token, (long long)j->a->refresh_ttl, j->secure ? "; Secure" : "");
    else
        snprintf(v, sizeof(v),
                 COOKIE_NAME "=; HttpOnly; SameSite=Strict; "
                             "Path=/api/auth; Max-Age=0%s",
                 j->secure ? "; Secure" : "");
    http_add_header(j->req, "set-cookie", v);
    sodium_memzero(v, sizeof(v));
}

static void job_heavy_next(struct auth_state *a);
static void job_heavy_release(struct job *j);

static void job_done(void *arg)
{
    struct job *j = arg;
    struct auth_state *a = j->a;
    bool heavy = j->heavy;

    if (j->status == 429) {
        http_respond_rate_limited(j->req, j->code, j->retry_after ? j->retry_after : 1);
    } else if (j->out) {
        job_cookie(j);
        http_add_header(j->req, "cache-control", "no-store");
        http_respond_json(j->req, j->status ? j->status : 200, j->out);
        j->out = NULL;
        j->req = NULL;
        if (j->after_success && j->status < 400)
            j->after_success(j);
    } else {
        if (j->status >= 500)
            log_warn("api.fail", "rid=%s status=%d", j->rid, j->status);
        http_respond_error(j->req, j->status ? j->status : 500, j->code ? j->code : "internal",
                           j->message ? j->message : "Something went wrong.", j->details);
        j->details = NULL;
        j->req = NULL;
        if (j->after_success && j->after_error)
            j->after_success(j);
    }
    if (heavy)
        job_heavy_release(j);
    job_free(j);
    if (heavy) {
        a->heavy_inflight--;
        job_heavy_next(a);
    }
}

void job_finish(struct job *j) { job_done(j); }

void api_tokens_ended(struct job *j, const char *device_id)
{
    char(*grown)[STORE_ID_SIZE] = realloc(j->devices, (j->n_devices + 1) * sizeof(*grown));

    if (!grown)
        abort();
    j->devices = grown;
    snprintf(j->devices[j->n_devices++], STORE_ID_SIZE, "%s", device_id);
    j->after_success = api_after_tokens_ended;
}

enum store_err api_tokens_ended_user(struct store *s, struct job *j, const char *user_id)
{
    struct store_device *d = NULL;
    size_t n = 0;
    enum store_err rc = store_device_list(s, user_id, STORE_DEVICES_NOT_REVOKED, &d, &n);

    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        api_tokens_ended(j, d[i].id);
    store_devices_free(d, n);
    return rc;
}

void api_after_tokens_ended(struct job *j)
{
    for (size_t i = 0; i < j->n_devices; i++)
        realtime_end_device(j->a->srv, j->devices[i]);
}

const json_t *api_device_input(struct job *j, const json_t *body, const char **name,
                               const char **platform)
{
    static const char *const platforms[] = {"web", "ios", "android", "cli"};
    const json_t *d = json_object_get(body, "device");

    if (!d || !json_is_object(d)) {
        job_invalid(j, "device", d ? "wrong_type" : "missing");
        return NULL;
    }
    *name = api_string(j, d, "name", true, 1, 100);
    if (!*name) {
        json_object_set_new(j->details, "field", json_string("device.name"));
        return NULL;
    }
    *platform = json_string_value(json_object_get(d, "platform"));
    for (size_t i = 0; *platform && i < 4; i++)
        if (!strcmp(*platform, platforms[i]))
            return d;
    job_invalid(j, "device.platform", *platform ? "unknown" : "missing");
    return NULL;
}

int api_password_verify(struct job *j, const char *hash, const char *pw)
{
    return password_verify(j->a->pw, hash, pw, strlen(pw));
}

static void job_work(void *ctx, void *arg)
{
    struct job *j = arg;

    j->now = auth_now_ms();
    if (!ctx) {
        job_error(j, 503, "unavailable", "The store is not available.");
        return;
    }
    j->work(ctx, j);
}

void job_submit(struct job *j, job_work_fn work)
{
    j->work = work;
    if (http_submit(j->req, job_work, job_done, j))
        job_free(j);
}

/* Argon2 is first come, first served among the jobs admitted; what keeps one client from
 * taking the queue (95 wrong logins from one address, inside its rate limit, made a real
 * login wait 40 s) is its share: at most ARGON2_PER_ADDRESS (default ARGON2_MAX_CONCURRENT)
 * jobs waiting or running per client address and HEAVY_PER_ACCOUNT per account. Past it, 429 and
 * Retry-After; everybody else's job waits behind a few of the flooder's at most. Loop thread. */
#define HEAVY_PER_ACCOUNT 2

void job_heavy_account(struct job *j, const char *account)
{
    keycount_key(j->a->heavy_keys, "account", account, j->heavy_account);
    j->heavy_has_account = true;
}

static bool job_heavy_admit(struct job *j)
{
    struct keycount *kc = j->a->heavy_keys;

    keycount_key(kc, "ip", j->ip, j->heavy_ip);
    if (keycount_get(kc, j->heavy_ip) >= j->a->heavy_per_address ||
        (j->heavy_has_account && keycount_get(kc, j->heavy_account) >= HEAVY_PER_ACCOUNT))
        return false;
    if (!keycount_add(kc, j->heavy_ip))
        return false;
    if (j->heavy_has_account && !keycount_add(kc, j->heavy_account)) {
        keycount_sub(kc, j->heavy_ip);
        return false;
    }
    return true;
}

static void job_heavy_release(struct job *j)
{
    keycount_sub(j->a->heavy_keys, j->heavy_ip);
    if (j->heavy_has_account)
        keycount_sub(j->a->heavy_keys, j->heavy_account);
}

/* Submits waiting Argon2 jobs while there is room. Loop thread. */
static void job_heavy_next(struct auth_state *a)
{
    while (a->heavy_len && a->heavy_inflight < a->heavy_max) {
        struct job *j = a->heavy_wait[a->heavy_head];

        a->heavy_head = (a->heavy_head + 1) % a->heavy_cap;
        a->heavy_len--;
        a->heavy_inflight++;
        if (http_submit(j->req, job_work, job_done, j)) {
            a->heavy_inflight--;
            job_heavy_release(j);
            job_free(j);
        }
    }
}

void job_submit_heavy(struct job *j, job_work_fn work)
{
    struct auth_state *a = j->a;

    j->work = work;
    if (!job_heavy_admit(j)) {
        log_info("auth.heavy_share", "rid=%s ip=%s", j->rid, j->ip);
        http_respond_rate_limited(j->req, "rate_limited", 1);
        job_free(j);
        return;
    }
    j->heavy = true;
    if (a->heavy_len == a->heavy_cap) {
        http_add_header(j->req, "retry-after", "1");
        http_respond_error(j->req, 503, "unavailable", "The server is busy; try again.", NULL);
        job_heavy_release(j);
        j->heavy = false;
        job_free(j);
        return;
    }
    a->heavy_wait[(a->heavy_head + a->heavy_len) % a->heavy_cap] = j;
    a->heavy_len++;
    job_heavy_next(a);
}

void job_error(struct job *j, int status, const char *code, const char *message)
{
    j->status = status;
    j->code = code;
    j->message = message;
    json_decref(j->out);
    j->out = NULL;
}

static const char api_revoked_message[] = "This device has been revoked.";

static json_t *api_revoked_details(void) { return json_pack("{s:s}", "reason", "device_revoked"); }

void job_device_revoked(struct job *j)
{
    job_error(j, 403, "forbidden", api_revoked_message);
    json_decref(j->details);
    j->details = api_revoked_details();
}

void api_respond_device_revoked(struct http_req *req)
{
    http_respond_error(req, 403, "forbidden", api_revoked_message, api_revoked_details());
}

void job_invalid(struct job *j, const char *field, const char *reason)
{
    job_error(j, 400, "validation_failed", "A field is missing or not valid.");
    json_decref(j->details);
    j->details = json_pack("{s:s, s:s}", "field", field, "reason", reason);
}

void job_store_error(struct job *j, enum store_err rc, const char *what)
{
    log_warn("store.fail", "rid=%s op=%s err=%s", j->rid, what, store_strerror(rc));
    if (rc == STORE_BUSY)
        job_error(j, 503, "unavailable", "The server is busy; try again.");
    else
        job_error(j, 500, "internal", "Something went wrong.");
}

void job_ok(struct job *j, int status, json_t *out)
{
    if (!out)
        abort(); /* jansson out of memory */
    j->status = status;
    json_decref(j->out);
    j->out = out;
}

void job_success(struct job *j, int status) { job_ok(j, status, json_pack("{s:b}", "success", 1)); }

void api_invalid(struct http_req *req, const char *field, const char *reason)
{
    http_respond_error(req, 400, "validation_failed", "A field is missing or not valid.",
                       json_pack("{s:s, s:s}", "field", field, "reason", reason));
}

/* Control characters (C0, DEL, C1) and the bidirectional embedding, override and isolate
 * controls (U+202A-U+202E, U+2066-U+2069): a name or a bio is shown beside other text, and
 * an override in it reorders that text ("Bob\u202Egpj.exe"). Right-to-left scripts need
 * none of them. s is valid UTF-8 (checked first), so a lead byte has its continuations. */
static bool api_has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return true;
        if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return true;
        if (u[i] == 0xe2 && ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
                             (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
            return true;
    }
    return false;
}

const char *api_string(struct job *j, const json_t *obj, const char *field, bool required,
                       size_t min_chars, size_t max_chars)
{
    const json_t *v = json_object_get(obj, field);
    const char *s;
    size_t len, chars;

    if (!v || json_is_null(v)) {
        if (required)
            job_invalid(j, field, "missing");
        return required ? NULL : "";
    }
    if (!json_is_string(v)) {
        job_invalid(j, field, "wrong_type");
        return NULL;
    }
    s = json_string_value(v);
    len = json_string_length(v);
    if (len > max_chars * 4 || utf8_count(s, len, &chars) || api_has_control(s, len)) {
        job_invalid(j, field, len > max_chars * 4 ? "too_long" : "invalid_characters");
        return NULL;
    }
    if (chars < min_chars || chars > max_chars) {
        job_invalid(j, field, chars < min_chars ? "too_short" : "too_long");
        return NULL;
    }
    return s;
}

bool api_is_uuid(const char *s)
{
    static const char hex[] = "0123456789abcdef";

    if (!s || strlen(s) != STORE_ID_LEN)
        return false;
    for (int i = 0; i < STORE_ID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !strchr(hex, s[i]) || !s[i])
            return false;
    }
    return true;
}

bool api_username_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

void api_lower(char *dst, size_t dstlen, const char *src)
{
    size_t i = 0;

    for (; src[i] && i + 1 < dstlen; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
    dst[i] = 0;
}

void api_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    char buf[96]; /* roomy: the compiler cannot bound the year */

    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", buf);
}

static json_t *api_str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *api_user_json(const struct store_user *u, bool me)
{
    char created[32];
    json_t *o;

    api_time(u->created_at, created);
    o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "id", u->id, "username", u->username,
                  "displayName", api_str_or_null(u->display_name), "avatarUrl",
                  api_str_or_null(u->avatar_url), "bio", api_str_or_null(u->bio), "createdAt",
                  created);
    if (o && me)
        json_object_update_new(o, json_pack("{s:s, s:b, s:b}", "email", u->email, "emailVerified",
                                            u->email_verified, "mfaEnabled", u->mfa_enabled));
    if (!o)
        abort();
    return o;
}

json_t *api_device_json(const struct store_device *d, const char *current_device_id)
{
    char created[32], active[32];
    json_t *o;

    api_time(d->created_at, created);
    api_time(d->last_active_at, active);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", d->id, "name", d->name, "platform",
                  d->platform, "createdAt", created, "lastActiveAt", active, "active",
                  store_device_active(d), "current",
                  current_device_id && !strcmp(d->id, current_device_id));
    if (!o)
        abort();
    return o;
}

void api_audit(struct store *s, struct job *j, const char *user_id, const char *device_id,
               const char *action, bool success, const char *detail)
{
    struct store_audit row = {.user_id = user_id,
                              .device_id = device_id,
                              .action = action,
                              .success = success,
                              .ip = j->ip,
                              .user_agent = j->ua[0] ? j->ua : NULL,
                              .detail = detail};
    enum store_err rc = store_audit_add(s, &row, j->now);

    if (rc != STORE_OK)
        log_warn("audit.fail", "rid=%s action=%s err=%s", j->rid, action, store_strerror(rc));
    log_info("audit", "rid=%s action=%s success=%d user=%s device=%s", j->rid, action, success,
             user_id ? user_id : "-", device_id ? device_id : "-");
}

void api_bundle_to_store(const struct bundle *b, struct store_bundle *out,
                         struct store_prekey *prekeys)
{
    memcpy(out->identity_key, b->identity_key, STORE_KEY_SIZE);
    memcpy(out->signing_key, b->signing_key, STORE_KEY_SIZE);
    memcpy(out->identity_signature, b->identity_signature, STORE_SIG_SIZE);
    out->spk_id = b->spk.key_id;
    memcpy(out->spk_public, b->spk.public_key, STORE_KEY_SIZE);
    memcpy(out->spk_signature, b->spk.signature, STORE_SIG_SIZE);
    for (size_t i = 0; prekeys && i < b->otpk_count; i++) {
        prekeys[i].key_id = b->otpk[i].key_id;
        memcpy(prekeys[i].public_key, b->otpk[i].public_key, STORE_KEY_SIZE);
    }
}

struct bundle *api_bundle_parse(struct job *j, const json_t *v, const char *field)
{
    struct bundle *b = malloc(sizeof(*b));
    bundle_error err = {0};
    bundle_status st;
    char path[96];

    if (!b)
        abort();
    if (!v || !json_is_object(v)) {
        job_invalid(j, field ? field : "body", v ? "wrong_type" : "missing");
        free(b);
        return NULL;
    }
    st = bundle_parse(v, b, &err);
    if (st == BUNDLE_OK)
        return b;
    free(b);
    if (field)
        snprintf(path, sizeof(path), "%s.%s", field, err.field);
    else
        snprintf(path, sizeof(path), "%s", err.field);
    if (st == BUNDLE_ERR_SIGNATURE) {
        job_error(j, 400, "invalid_signature", "A key signature does not verify.");
        j->details = json_pack("{s:s}", "field", path);
    } else {
        job_invalid(j, path, err.reason ? err.reason : "invalid");
    }
    return NULL;
}
