/* Shared plumbing of the REST handlers for accounts, users and keys (auth_*.c, users.c,
 * keys.c): a job that carries a copy of what the work needs to a worker and the answer back,
 * input checks that answer validation_failed with {field, reason}, the JSON forms of users
 * and devices, the caller's identity, and the audit log.
 *
 * A handler reads everything it needs from the request on the loop thread (headers, params,
 * a deep copy of the body), then job_submit runs work(store, job) on a worker with that
 * worker's connection; the work fills either job->out (and job->status) or an error, and
 * job_done answers on the loop thread. */
#ifndef SOTTO_API_H
#define SOTTO_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "accounts/accounts.h"
#include "base/netaddr.h"
#include "net/http.h"
#include "store/devices.h"
#include "store/store.h"
#include "store/users.h"

/* The caller of a ROUTE_AUTH route, set by the auth hook (auth_hook.c). */
struct auth_identity {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
    char jti[64];
};

#define API_UA_MAX 256
#define API_ARG_MAX 512

enum api_cookie { COOKIE_NONE, COOKIE_SET, COOKIE_CLEAR };

struct job;
typedef void (*job_work_fn)(struct store *s, struct job *j);

struct job {
    struct http_req *req; /* loop thread only */
    struct auth_state *a;
    job_work_fn work;
    bool authed;
    struct auth_identity who; /* valid when authed */
    json_t *body;             /* deep copy of the request body, or NULL */
    char ip[NETADDR_STRLEN];
    char ua[API_UA_MAX]; /* User-Agent, cut; for devices and the audit log */
    char rid[17];
    char arg[API_ARG_MAX]; /* a path or query parameter the handler copied */
    bool secure;           /* https (native or trusted proxy): cookies get Secure */
    int64_t now;           /* ms, set when the work starts */
    /* results */
    int status;
    json_t *out;                /* the answer body on success */
    const char *code, *message; /* static strings, on error */
    json_t *details;
    uint32_t retry_after; /* for 429 */
    enum api_cookie cookie;
    char cookie_token[64];                   /* refresh token for COOKIE_SET (wiped) */
    bool heavy;                              /* counted in auth_state's Argon2 admission */
    uint8_t heavy_ip[16], heavy_account[16]; /* keycount keys of the client's share */
    bool heavy_has_account;
    void *extra; /* per-endpoint state, freed with extra_free */
    void (*extra_free)(void *);
    /* The after-success step: what must follow a committed change on the loop thread
     * (closing sockets). The work sets it; job_done runs it right after sending a success
     * answer (status < 400) and never after an error, so setting it before a commit that
     * then fails is harmless. j->req is gone by then. */
    void (*after_success)(struct job *j);
    /* An error answer that follows a committed change (a reused refresh token ends the
     * device's tokens, then answers 401) sets this, and the step runs after it too. */
    bool after_error;
    char (*devices)[STORE_ID_SIZE]; /* for api_after_tokens_ended; freed with the job */
    size_t n_devices;
};

/* A job for req with the request's IP, user agent, id, caller and a copy of its body.
 * Loop thread. */
struct job *job_new(struct http_req *req, struct auth_state *a);
/* Runs work on a worker and answers from job_done. On a full queue http_submit has already
 * answered 503 and the job is freed. */
void job_submit(struct job *j, job_work_fn work);
/* The same for work that runs Argon2: admitted in order, at most heavy_max at once (auth.h);
 * 503 when the wait list is full. */
void job_submit_heavy(struct job *j, job_work_fn work);

/* The account a heavy job's password is for (login, register): besides the client address,
 * its share of Argon2 is also bounded per account. Call before job_submit_heavy. */
void job_heavy_account(struct job *j, const char *account);
void job_free(struct job *j);
/* Answers with the job's result now (loop thread; for checks made before submitting). */
void job_finish(struct job *j);

/* Work side: these devices' tokens were ended (logout, logout-all, password reset), so
 * after a success answer their WebSockets close with 4401 (api_after_tokens_ended becomes
 * the after-success step). api_tokens_ended_user notes every not revoked device of user_id;
 * call it in the transaction that ends the tokens, or after its commit. */
void api_tokens_ended(struct job *j, const char *device_id);
enum store_err api_tokens_ended_user(struct store *s, struct job *j, const char *user_id);
void api_after_tokens_ended(struct job *j);

/* Error results (work side or loop side before submit). */
void job_error(struct job *j, int status, const char *code, const char *message);
/* 403 forbidden with details {"reason": "device_revoked"}: the caller's device is revoked, so
 * a client knows to stop and sign in again as a new device (not "blocked", say). */
void job_device_revoked(struct job *j);
/* The same answer straight from the loop (the auth hook, before any job exists). */
void api_respond_device_revoked(struct http_req *req);
void job_invalid(struct job *j, const char *field, const char *reason);
/* Maps a store error that the endpoint did not expect: 503 for busy, 500 otherwise. */
void job_store_error(struct job *j, enum store_err rc, const char *what);
void job_ok(struct job *j, int status, json_t *out);
void job_success(struct job *j, int status); /* {"success": true} */

/* Answers 400 validation_failed with {field, reason} at once (loop thread). */
void api_invalid(struct http_req *req, const char *field, const char *reason);

/* Input checks on a JSON object. Each returns the string (owned by obj) or NULL after
 * setting the job's validation error. required=false: a missing field gives "" (or NULL
 * with *present=false when present is given). Lengths are in code points; the string must
 * be valid UTF-8 without control characters (except where noted). */
const char *api_string(struct job *j, const json_t *obj, const char *field, bool required,
                       size_t min_chars, size_t max_chars);
bool api_is_uuid(const char *s);
bool api_username_ok(const char *s);
/* Lower-cases ASCII for rate-limit keys (an email is one account whatever its case). */
void api_lower(char *dst, size_t dstlen, const char *src);

/* JSON forms (api.md): user (public), user + email/emailVerified/mfaEnabled, device. */
json_t *api_user_json(const struct store_user *u, bool me);
json_t *api_device_json(const struct store_device *d, const char *current_device_id);
/* RFC 3339 UTC with milliseconds. */
void api_time(int64_t ms, char out[32]);

/* Appends an audit row (errors are logged, never fatal). action is a short constant;
 * detail is free text that must never hold a secret. */
void api_audit(struct store *s, struct job *j, const char *user_id, const char *device_id,
               const char *action, bool success, const char *detail);

/* Issues a session for (user, device) with a fresh refresh-token family: access token,
 * refresh token (in the body, or for web devices only in the cookie). Returns the tokens
 * object, or NULL after setting the job's error. */
json_t *session_issue(struct store *s, struct job *j, const char *user_id,
                      const struct store_device *d);
/* The tokens object for an access token and a refresh token (already stored). */
json_t *session_tokens(struct job *j, const char *user_id, const char *device_id,
                       const char *refresh, bool web);

/* Per-file route tables. */
int auth_hook_install(struct server *srv, struct auth_state *a);
int register_routes(struct server *srv, struct auth_state *a);
int login_routes(struct server *srv, struct auth_state *a);
int session_routes(struct server *srv, struct auth_state *a);
int email_routes(struct server *srv, struct auth_state *a);
int mfa_routes(struct server *srv, struct auth_state *a);
int users_routes(struct server *srv, struct auth_state *a);
int keys_routes(struct server *srv, struct auth_state *a);

/* Checks device {name, platform} of a register or login body. NULL after job_invalid. */
const json_t *api_device_input(struct job *j, const json_t *body, const char **name,
                               const char **platform);
/* Checks an MFA code (6 digits: TOTP, each step once; else a backup code, once) for user_id.
 * 0 accepted, 1 wrong, -1 store failure (job error set). */
int mfa_check_code(struct store *s, struct job *j, const char *user_id, const char *code);
/* Argon2 verify on the worker (bounded by the gate); 0 on a match. hash NULL = unknown
 * account (a dummy hash of equal cost is checked). */
int api_password_verify(struct job *j, const char *hash, const char *pw);

/* Shared by register and the keys route: the store's form of a parsed bundle. */
struct bundle;
struct store_prekey;
void api_bundle_to_store(const struct bundle *b, struct store_bundle *out,
                         struct store_prekey *prekeys);
/* Parses and verifies body[field] (or the body itself when field is NULL) as a bundle;
 * on failure sets the job's 400 (validation_failed or invalid_signature). *b is heap. */
struct bundle *api_bundle_parse(struct job *j, const json_t *v, const char *field);

/* Sends the e-mail for a verify (STORE_EMAIL_VERIFY) or reset token to the user; the token
 * row is inserted first. Errors are logged; the caller's answer does not depend on it. */
void email_send_token(struct store *s, struct job *j, const struct store_user *u, int kind);

#endif
