/* The one job of the plumbing: what a handler needs from its request travels to a worker as
 * a copy, the work fills either a result or an error there, and the job answers on the loop
 * thread. Every REST route and every WebSocket request of every domain runs as one; how it
 * reaches a worker and how its answer reaches the requester is its transport (struct
 * job_transport): HTTP here, a WebSocket request in messaging/wsproto.c.
 *
 * A handler reads what it needs on the loop thread (the caller, headers, a path parameter,
 * a reference to the JSON body), then job_submit runs work(store, job) on a worker with that
 * worker's store connection. The work ends with exactly one of job_ok / job_success (an
 * answer body), job_error / job_fail / job_invalid (an error) or job_store_error (a store
 * result, through the one mapper, errors.h); job_done answers, then runs the job's
 * after-success step (events to other devices, closing sockets) on the loop thread. */
#ifndef SOTTO_JOB_H
#define SOTTO_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/netaddr.h"
#include "store/store.h"

struct http_req;
struct auth_state; /* accounts/accounts.h */
struct realtime;   /* messaging/realtime.h */
struct job_gate;   /* api/gate.h */

/* The caller of a ROUTE_AUTH route, set by the auth hook (auth_hook.c). */
struct auth_identity {
    char user_id[STORE_ID_SIZE];
    char device_id[STORE_ID_SIZE];
    char jti[64];
};

#define API_UA_MAX 256
#define API_ARG_MAX 512
#define API_TEXT_MAX 64

enum api_cookie { COOKIE_NONE, COOKIE_SET, COOKIE_CLEAR };

struct job;
typedef void (*job_work_fn)(struct store *s, struct job *j);

/* How a job reaches a worker and how its answer goes back. Loop thread. */
struct job_transport {
    /* Runs work on a worker, then done on the loop thread: 0, or -1 when refused, after
     * answering the requester (busy) itself. */
    int (*submit)(struct job *j, void (*work)(void *ctx, void *arg), void (*done)(void *arg));
    /* Sends the job's result or error (or drops it when the requester is gone: the
     * after-success step still runs, since what it follows was committed). */
    void (*answer)(struct job *j);
    /* Frees what the transport keeps in j->via_data (may be NULL). */
    void (*release)(struct job *j);
};

struct job {
    const struct job_transport *via;
    void *via_data;       /* the transport's (a WebSocket request's identity) */
    struct http_req *req; /* REST: loop thread only; NULL once answered */
    /* The state of the domain the route belongs to (its route arg): one of them is set. */
    struct auth_state *a;
    struct realtime *rt;
    job_work_fn work;
    bool authed;
    struct auth_identity who; /* valid when authed */
    json_t *body;             /* a reference to the request body, or NULL (never changed) */
    char ip[NETADDR_STRLEN];
    char ua[API_UA_MAX]; /* User-Agent, cut; for devices and the audit log */
    char rid[17];
    char arg[API_ARG_MAX]; /* a path or query parameter the handler copied */
    char text[API_TEXT_MAX];
    int64_t n1, n2; /* numeric inputs (limit, offset, ...) */
    bool secure;    /* https (native or trusted proxy): cookies get Secure */
    int64_t now;    /* wall ms (clock.h), set when the work starts */
    /* results */
    int status;
    json_t *out;                /* the answer body on success */
    const char *code, *message; /* static strings, on error */
    json_t *details;
    uint32_t retry_after; /* for 429 */
    enum api_cookie cookie;
    char cookie_token[64]; /* refresh token for COOKIE_SET (wiped) */
    int64_t cookie_max_age;
    /* Admission to a gate (gate.h), while the job waits or runs there. */
    struct job_gate *gate;
    uint8_t gate_ip[16], gate_account[16];
    bool gate_has_account;
    void *extra; /* per-endpoint state, freed with extra_free */
    void (*extra_free)(void *);
    /* The after-success step: what must follow a committed change on the loop thread
     * (closing sockets, events to other devices). The work sets it; job_done runs it right
     * after sending a success answer (status < 400) and never after an error, so setting it
     * before a commit that then fails is harmless. j->req is gone by then. */
    void (*after_success)(struct job *j);
    /* An error answer that follows a committed change (a reused refresh token ends the
     * device's tokens, then answers 401) sets this, and the step runs after it too. */
    bool after_error;
    char (*devices)[STORE_ID_SIZE]; /* for the accounts' after-step; freed with the job */
    size_t n_devices;
    /* A REST success that is not a JSON body (tus headers, a file, a streamed upload): set by
     * job_respond, called on the loop thread instead of the JSON answer, with j->req, which
     * it must answer, now or later. */
    void (*respond)(struct job *j, struct http_req *req);
};

/* A job for req with the request's IP, user agent, id, caller and body. Loop thread. */
struct job *job_new(struct http_req *req, struct auth_state *a);
/* An empty job answered through via (a WebSocket request: messaging/wsproto.c fills who). */
struct job *job_new_via(const struct job_transport *via, void *via_data);
/* The same for a route that needs its caller (ROUTE_AUTH) and one path parameter copied to
 * j->arg (param may be NULL): NULL after answering 401 when the request has no caller. */
struct job *job_new_caller(struct http_req *req, struct realtime *rt, const char *param);
/* Runs work on a worker and answers from job_done. On a full queue http_submit has already
 * answered 503 and the job is freed. */
void job_submit(struct job *j, job_work_fn work);
void job_free(struct job *j);
/* Answers with the job's result now, runs its after-success step and frees it (loop
 * thread): for checks made before submitting, and for a job whose work ran elsewhere (a
 * group commit, messaging/batch.c). */
void job_finish(struct job *j);
/* The pool side of job_submit, for a gate (gate.c) that submits later. */
int job_start(struct job *j);

/* Results (work side, or loop side before submit). */
void job_ok(struct job *j, int status, json_t *out); /* takes out */
void job_success(struct job *j, int status);         /* {"success": true} */
void job_error(struct job *j, int status, const char *code, const char *message);
/* job_error with details (taken). */
void job_fail(struct job *j, int status, const char *code, const char *message, json_t *details);
/* Success answered by respond (j->respond above) with status in j->status. */
void job_respond(struct job *j, int status, void (*respond)(struct job *j, struct http_req *req));
/* 400 validation_failed with {field, reason}. */
void job_invalid(struct job *j, const char *field, const char *reason);
/* The answer for a store result (errors.h's mapper); 5xx are logged with what. */
void job_store_error(struct job *j, enum store_err rc, const char *what);
/* The end of most work: 200 with out when rc is STORE_OK, else the store error (out is
 * dropped). Takes out. */
void job_result(struct job *j, enum store_err rc, json_t *out, const char *what);
/* 403 forbidden with details {"reason": "device_revoked"}: the caller's device is revoked, so
 * a client knows to stop and sign in again as a new device (not "blocked", say). */
void job_device_revoked(struct job *j);

#endif
