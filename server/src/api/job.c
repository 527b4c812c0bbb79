/* The one job of the REST plumbing (job.h). */
#include "api/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/errors.h"
#include "api/gate.h"
#include "base/clock.h"
#include "base/log.h"
#include "net/http.h"

#define COOKIE_NAME "sotto_refresh"

static const struct job_transport job_http;

struct job *job_new_via(const struct job_transport *via, void *via_data)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j)
        abort();
    j->via = via;
    j->via_data = via_data;
    return j;
}

struct job *job_new(struct http_req *req, struct auth_state *a)
{
    struct job *j = job_new_via(&job_http, NULL);
    struct auth_identity *who = http_auth(req);

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
    if (http_json(req))
        j->body = json_incref(http_json(req));
    return j;
}

struct job *job_new_caller(struct http_req *req, struct realtime *rt, const char *param)
{
    struct job *j;

    if (!http_auth(req)) {
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        return NULL;
    }
    j = job_new(req, NULL);
    j->rt = rt;
    if (param) {
        const char *v = http_param(req, param);

        snprintf(j->arg, sizeof(j->arg), "%s", v ? v : "");
    }
    return j;
}

void job_free(struct job *j)
{
    if (!j)
        return;
    if (j->via && j->via->release)
        j->via->release(j);
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
                 j->cookie_token, (long long)j->cookie_max_age, j->secure ? "; Secure" : "");
    else
        snprintf(v, sizeof(v),
                 COOKIE_NAME "=; HttpOnly; SameSite=Strict; "
                             "Path=/api/auth; Max-Age=0%s",
                 j->secure ? "; Secure" : "");
    http_add_header(j->req, "set-cookie", v);
    sodium_memzero(v, sizeof(v));
}

static void job_http_answer(struct job *j)
{
    if (j->respond && !j->code && j->status && j->status < 400) {
        j->respond(j, j->req);
    } else if (j->status == 429) {
        http_respond_rate_limited(j->req, j->code ? j->code : "rate_limited",
                                  j->retry_after ? j->retry_after : 1);
    } else if (j->out) {
        job_cookie(j);
        http_add_header(j->req, "cache-control", "no-store");
        http_respond_json(j->req, j->status ? j->status : 200, j->out);
        j->out = NULL;
    } else {
        struct api_error e = {j->status ? j->status : 500, j->code ? j->code : API_INTERNAL_ERROR,
                              j->message ? j->message : "Something went wrong."};

        if (e.status >= 500)
            log_warn("api.fail", "rid=%s status=%d", j->rid, e.status);
        api_respond_error(j->req, e, j->details);
        j->details = NULL;
    }
    j->req = NULL;
}

static int job_http_submit(struct job *j, void (*work)(void *, void *), void (*done)(void *))
{
    return http_submit(j->req, work, done, j);
}

static const struct job_transport job_http = {job_http_submit, job_http_answer, NULL};

static void job_done(void *arg)
{
    struct job *j = arg;
    struct job_gate *g = j->gate;
    bool after =
        j->after_success && (j->out ? j->status < 400 : j->after_error && j->status != 429);

    j->via->answer(j);
    if (after)
        j->after_success(j);
    if (g)
        job_gate_release(g, j);
    job_free(j);
    if (g)
        job_gate_next(g);
}

void job_finish(struct job *j) { job_done(j); }

static void job_work(void *ctx, void *arg)
{
    struct job *j = arg;

    j->now = clock_wall_ms();
    if (!ctx) {
        job_error(j, 503, "unavailable", "The store is not available.");
        return;
    }
    j->work(ctx, j);
}

int job_start(struct job *j) { return j->via->submit(j, job_work, job_done); }

void job_submit(struct job *j, job_work_fn work)
{
    j->work = work;
    if (job_start(j))
        job_free(j);
}

void job_respond(struct job *j, int status, void (*respond)(struct job *j, struct http_req *req))
{
    j->status = status;
    j->code = NULL;
    j->respond = respond;
    json_decref(j->out);
    j->out = NULL;
}

void job_error(struct job *j, int status, const char *code, const char *message)
{
    j->status = status;
    j->code = code;
    j->message = message;
    json_decref(j->out);
    j->out = NULL;
}

void job_fail(struct job *j, int status, const char *code, const char *message, json_t *details)
{
    job_error(j, status, code, message);
    json_decref(j->details);
    j->details = details;
}

void job_device_revoked(struct job *j)
{
    job_fail(j, 403, "forbidden", api_revoked_message, api_revoked_details());
}

void job_invalid(struct job *j, const char *field, const char *reason)
{
    job_fail(j, 400, "validation_failed", API_VALIDATION_MESSAGE, api_details(field, reason));
}

void job_store_error(struct job *j, enum store_err rc, const char *what)
{
    struct api_error e = api_store_error(rc);

    if (e.status >= 500)
        log_warn("store.fail", "rid=%s op=%s err=%s", j->rid, what, store_strerror(rc));
    job_error(j, e.status, e.code, e.message);
}

void job_result(struct job *j, enum store_err rc, json_t *out, const char *what)
{
    if (rc == STORE_OK) {
        job_ok(j, 200, out);
        return;
    }
    json_decref(out);
    job_store_error(j, rc, what);
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
