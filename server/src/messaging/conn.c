/* One WebSocket connection's life: open, authenticate (first frame, within 10 s) and
 * re-authenticate with a fresh token, the token's expiry, the keep-alive (ping, idle close),
 * the per-connection rate limit, and closing with the contract's codes (4401 unauthenticated
 * or session ended by a logout, 4403 revoked, 4409 replaced, 1001 idle). A token issued
 * before its device's tokens_not_before (a logout, access_token.h) fails authenticate and
 * re-authenticate alike.
 * This is the connection handler of /ws (conn_ws_handler, net/ws.h): the connection state lives
 * inside ws.c's per-connection data; pool jobs find it again by id. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/access_token.h"
#include "auth/jwt.h"
#include "base/log.h"
#include "base/server.h"
#include "messaging/rt_internal.h"
#include "net/ws.h"
#include "store/conversations.h"
#include "store/devices.h"
#include "store/users.h"

static uint32_t conn_mono_ms(void) { return (uint32_t)clock_mono_ms(); }

/* --- timers: a coarse timer wheel ----------------------------------------------------
 * Every connection has one deadline (the authenticate limit, then its token's expiry) and the
 * keep-alive (below). lws 4.1 keeps a thread's timers in one sorted list (linear insert), which
 * made 19,000 connections' timers quadratic. Instead each connection sits once in CONN_WHEEL
 * buckets of intrusive doubly-linked lists, by the tick (CONN_TICK_MS of the monotonic clock)
 * of the earlier of the two, modulo CONN_WHEEL: insert and remove are O(1), and one lws timer
 * per realtime context runs every tick and walks only the bucket(s) now due (entries further
 * out than the wheel's span just stay there until their own turn). The wheel exists while it
 * holds a connection. */
#define CONN_TICK_MS 250u
#define CONN_WHEEL 256u /* buckets: a power of 2; 64 s at 250 ms */

struct conn_wheel {
    lws_sorted_usec_list_t sul; /* the sweep, scheduled while any connection is timed */
    struct lws_context *lws;
    struct realtime *rt;
    struct rtconn *bucket[CONN_WHEEL];
    struct rtconn *iter; /* the sweep's next entry (a remove moves it on) */
    uint32_t cur;        /* the next tick to sweep; every earlier one is done */
    size_t count;
    bool sweeping;
};

static uint64_t conn_mono_ms64(void) { return (uint64_t)clock_mono_ms(); }

static uint32_t conn_tick_now(void) { return (uint32_t)(conn_mono_ms64() / CONN_TICK_MS); }

static void conn_deadline_fire(struct rtconn *s);
static void conn_sweep_cb(lws_sorted_usec_list_t *sul);

static void conn_wheel_free(struct realtime *rt)
{
    struct conn_wheel *w = rt->wheel;

    lws_sul_cancel(&w->sul);
    free(w);
    rt->wheel = NULL;
}

static void conn_timer_remove(struct rtconn *s)
{
    struct conn_wheel *w = s->rt ? s->rt->wheel : NULL;

    if (!s->timed || !w)
        return;
    if (w->iter == s)
        w->iter = s->tnext;
    if (s->tprev)
        s->tprev->tnext = s->tnext;
    else
        w->bucket[s->due & (CONN_WHEEL - 1)] = s->tnext;
    if (s->tnext)
        s->tnext->tprev = s->tprev;
    s->tprev = s->tnext = NULL;
    s->timed = 0;
    if (--w->count == 0 && !w->sweeping)
        conn_wheel_free(s->rt);
}

static struct conn_wheel *conn_wheel_get(struct realtime *rt)
{
    struct conn_wheel *w = rt->wheel;

    if (w)
        return w;
    w = calloc(1, sizeof(*w));
    if (!w)
        abort();
    w->lws = rt->srv->lws;
    w->rt = rt;
    w->cur = conn_tick_now();
    rt->wheel = w;
    lws_sul_schedule(w->lws, 0, &w->sul, conn_sweep_cb, (lws_usec_t)CONN_TICK_MS * LWS_US_PER_MS);
    return w;
}

/* The tick of the next keep-alive check: a ping is due WS_PING_INTERVAL after the last frame,
 * the close WS_IDLE_TIMEOUT after it once the ping is out. One tick more, so the silence is
 * never shorter than the setting (rx_tick rounds down). */
static uint32_t conn_keepalive_due(const struct rtconn *s)
{
    uint32_t secs = s->pinged ? rt_ws_limits.idle_timeout : rt_ws_limits.ping_interval;

    return s->rx_tick + secs * (1000u / CONN_TICK_MS) + 1;
}

/* (Re)places s in the wheel at the earlier of its deadline and its keep-alive check; both
 * are after every tick already swept. */
static void conn_timer_place(struct rtconn *s)
{
    struct conn_wheel *w;
    struct rtconn **head;
    uint32_t ka = conn_keepalive_due(s);

    conn_timer_remove(s);
    w = conn_wheel_get(s->rt);
    s->due = (int32_t)(ka - s->dl_due) < 0 ? ka : s->dl_due;
    head = &w->bucket[s->due & (CONN_WHEEL - 1)];
    s->tprev = NULL;
    s->tnext = *head;
    if (*head)
        (*head)->tprev = s;
    *head = s;
    s->timed = 1;
    w->count++;
}

/* Sets the deadline ms from now (at least 1 ms, so never in a tick already swept). */
static void conn_deadline_set(struct rtconn *s, int64_t ms)
{
    if (ms < 1)
        ms = 1;
    if (ms > 365LL * 24 * 3600 * 1000)
        ms = 365LL * 24 * 3600 * 1000; /* keeps tick differences far inside int32 */
    s->dl_due = (uint32_t)((conn_mono_ms64() + (uint64_t)ms + CONN_TICK_MS - 1) / CONN_TICK_MS);
}

static void conn_schedule(struct rtconn *s, int64_t ms)
{
    conn_deadline_set(s, ms);
    conn_timer_place(s);
}

/* --- keep-alive ------------------------------------------------------------------------
 * The contract's (docs/api/events.md): a ping after WS_PING_INTERVAL (30) s without a frame
 * from the client, and the close (1001) WS_IDLE_TIMEOUT (70) s after its last frame or pong.
 * lws 4.1's own keep-alive (retry_and_idle_policy) would re-arm a sorted per-connection timer
 * on every ping and pong, a walk of the whole timer list each time; loop.c turns it off. Here a
 * frame only stamps rx_tick (conn_alive, O(1)); the check on the wheel reads the stamp and
 * moves the entry on. Only a pong after our ping moves it at once (O(1)), so that the next
 * ping comes WS_PING_INTERVAL after the pong. */
void conn_alive(void *state)
{
    struct rtconn *s = state;

    if (!s->rt || s->state == CONN_CLOSING)
        return;
    s->rx_tick = conn_tick_now();
    if (!s->pinged)
        return;
    s->pinged = 0;
    if (s->timed)
        conn_timer_place(s);
}

/* The keep-alive check at tick now; true when it closed s. */
static bool conn_keepalive(struct rtconn *s, uint32_t now)
{
    if ((int32_t)(now - conn_keepalive_due(s)) < 0)
        return false;
    if (s->pinged) {
        log_debug("ws.idle", "conn=%llu", (unsigned long long)s->id);
        conn_close(s, 1001, "keep-alive timeout");
        return true;
    }
    s->pinged = 1;
    ws_ping(s->conn);
    return false;
}

/* s is due (the sweep took it off the wheel): its deadline and its keep-alive. */
static void conn_timer_fire(struct rtconn *s, uint32_t now)
{
    if ((int32_t)(now - s->dl_due) >= 0) {
        conn_deadline_fire(s); /* closes s, or sets a later deadline */
        if (s->state == CONN_CLOSING)
            return;
    }
    if (!conn_keepalive(s, now))
        conn_timer_place(s);
}

static void conn_sweep_cb(lws_sorted_usec_list_t *sul)
{
    struct conn_wheel *w = lws_container_of(sul, struct conn_wheel, sul);
    uint32_t now = conn_tick_now(), n = 0;
    struct rtconn *s;

    w->sweeping = true;
    /* Each due tick's bucket once; after a long stall, every bucket once. */
    while ((int32_t)(now - w->cur) >= 0 && n++ < CONN_WHEEL) {
        w->iter = w->bucket[w->cur & (CONN_WHEEL - 1)];
        while ((s = w->iter)) {
            w->iter = s->tnext;
            if ((int32_t)(s->due - now) > 0)
                continue; /* a later round of the wheel */
            conn_timer_remove(s);
            conn_timer_fire(s, now); /* may close s or place it again (later tick) */
        }
        w->cur++;
    }
    if ((int32_t)(now - w->cur) >= 0)
        w->cur = now + 1;
    w->iter = NULL;
    w->sweeping = false;
    if (!w->count) {
        conn_wheel_free(w->rt); /* nothing timed left (cancels this timer) */
        return;
    }
    lws_sul_schedule(w->lws, 0, &w->sul, conn_sweep_cb, (lws_usec_t)CONN_TICK_MS * LWS_US_PER_MS);
}

void conn_open(struct server *srv, struct ws_conn *conn, void *state)
{
    struct rtconn *s = state;
    struct realtime *rt = srv->rt;

    if (!rt)
        return; /* not started: the connection stays inert (every entry checks s->rt) */
    s->rt = rt;
    s->conn = conn;
    s->state = CONN_NEW;
    s->rl_milli = RT_RATE_BURST * 1000u;
    s->rl_stamp = conn_mono_ms();
    s->rx_tick = conn_tick_now(); /* the upgrade is the first sign of life */
    rt_conn_add(rt, s);
    conn_schedule(s, RT_AUTH_TIMEOUT_MS);
}

void conn_closed(void *state)
{
    struct rtconn *s = state;
    struct realtime *rt = s->rt;
    bool online = s->online;

    if (!rt)
        return;
    conn_timer_remove(s);
    typing_closed(s);
    rt_conn_remove(rt, s);
    s->state = CONN_CLOSING;
    s->rt = NULL;
    if (online) {
        presence_offline(rt, s->user_id);
        conn_hook_gone(rt, s); /* a call waits for the device to come back (ws_requests.h) */
    }
}

void conn_close(struct rtconn *s, int code, const char *reason)
{
    if (s->state == CONN_CLOSING)
        return;
    s->state = CONN_CLOSING;
    conn_timer_remove(s);
    rt_unregister(s->rt, s);
    log_debug("ws.close", "code=%d conn=%llu", code, (unsigned long long)s->id);
    ws_close(s->conn, code, reason);
}

void conn_on_room(void *state)
{
    struct rtconn *s = state;

    if (s->rt && s->state == CONN_READY)
        delivery_on_room(s);
}

bool conn_rate_ok(struct rtconn *s)
{
    uint32_t now = conn_mono_ms(), elapsed = now - s->rl_stamp;
    uint64_t milli;

    if (elapsed > 100000u)
        elapsed = 100000u;
    s->rl_stamp = now;
    milli = (uint64_t)s->rl_milli + (uint64_t)elapsed * RT_RATE_PER_SEC;
    if (milli > RT_RATE_BURST * 1000u)
        milli = RT_RATE_BURST * 1000u;
    s->rl_milli = (uint32_t)milli;
    if (s->rl_milli >= 1000u) {
        s->rl_milli -= 1000u;
        s->strikes = 0;
        return true;
    }
    if (s->strikes < 255)
        s->strikes++;
    return false;
}

/* The deadline of s has come (the sweep took it off the wheel): closes s, or sets a later
 * deadline (a re-authenticate extended the token); conn_timer_fire places s again. */
static void conn_deadline_fire(struct rtconn *s)
{
    int64_t now = clock_wall_ms() / 1000;

    if (s->state == CONN_NEW || s->state == CONN_AUTHING) {
        wsp_error(s, NULL, "unauthenticated", "No valid authenticate within 10 seconds.", NULL);
        conn_close(s, RT_CLOSE_UNAUTH, "unauthenticated");
    } else if (s->state == CONN_READY) {
        if (now < s->token_exp) {
            conn_deadline_set(s, (s->token_exp - now) * 1000);
            return;
        }
        wsp_error(s, NULL, "token_expired", "The access token expired; authenticate again.", NULL);
        conn_close(s, RT_CLOSE_UNAUTH, "token expired");
    }
}

/* --- authenticate ------------------------------------------------------------------- */

#define AUTH_RECHECKS 3 /* store re-reads after kicks, then "try again" */

struct auth_job {
    struct wsp_req r;
    bool first;
    int64_t exp;
    jwt_claims claims;
    uint64_t epoch; /* rt->ended_epoch when the store read was submitted */
    int rechecks;
    enum store_err rc;
    bool revoked, wrong_user, ended, seen_hidden;
    char (*contacts)[STORE_ID_SIZE];
    size_t n_contacts;
};

static void auth_work(void *ctx, void *arg)
{
    struct auth_job *j = arg;
    struct store_device d;

    j->rc = store_device_get(ctx, j->r.device_id, &d);
    if (j->rc != STORE_OK)
        return;
    j->wrong_user = strcmp(d.user_id, j->r.user_id) != 0;
    j->revoked = d.revoked_at != 0;
    /* Logged out (logout, logout-all, password reset) since the token was issued. */
    j->ended = !access_token_current(&j->claims, d.tokens_not_before);
    store_device_free(&d);
    if (j->first && !j->wrong_user && !j->revoked && !j->ended)
        j->rc = store_contacts_list(ctx, j->r.user_id, &j->contacts, &j->n_contacts);
    if (j->first && j->rc == STORE_OK && !j->wrong_user && !j->revoked && !j->ended) {
        struct store_user u;

        j->rc = store_user_get(ctx, j->r.user_id, &u);
        j->seen_hidden = j->rc == STORE_OK && u.last_seen_hidden;
        store_user_free(&u);
    }
}

static void auth_done(void *arg);

/* A kick that ends a device's tokens or the device may have run on this node after the store
 * read started, and so before this connection was in the registry to be closed: for a read that
 * said yes, read again (the kick ran after its commit). True when resubmitted; false when
 * auth_done goes on with j's result (STORE_BUSY when it could not read again). */
static bool auth_recheck(struct rtconn *s, struct auth_job *j)
{
    if (j->rc != STORE_OK || j->wrong_user || j->revoked || j->ended ||
        j->epoch == s->rt->ended_epoch)
        return false;
    if (j->rechecks++ >= AUTH_RECHECKS) {
        j->rc = STORE_BUSY;
        return false;
    }
    free(j->contacts);
    j->contacts = NULL;
    j->n_contacts = 0;
    j->epoch = s->rt->ended_epoch;
    s->inflight++; /* wsp_req_done took it */
    if (rt_submit(s->rt, auth_work, auth_done, j)) {
        s->inflight--;
        j->rc = STORE_BUSY;
        return false;
    }
    return true;
}

/* Fails the first authenticate: an error, then the close code. */
static void auth_fail(struct rtconn *s, const char *req_id, const char *code, const char *msg,
                      int close_code)
{
    wsp_error(s, req_id, code, msg, NULL);
    conn_close(s, close_code,
               close_code == RT_CLOSE_REVOKED  ? "device revoked"
               : close_code == RT_CLOSE_UNAUTH ? "unauthenticated"
                                               : "try again");
}

static json_t *auth_ids(const struct rtconn *s)
{
    return json_pack("{s:s, s:s}", "userId", s->user_id, "deviceId", s->device_id);
}

static void auth_done(void *arg)
{
    struct auth_job *j = arg;
    struct rtconn *s = wsp_req_done(&j->r);
    const char *rid = wsp_req_id(&j->r);

    if (!s)
        goto out;
    if (auth_recheck(s, j))
        return;
    s->reauthing = 0;
    if (j->rc == STORE_NOT_FOUND || (j->rc == STORE_OK && j->wrong_user)) {
        auth_fail(s, rid, "unauthenticated", "Invalid token.", RT_CLOSE_UNAUTH);
        goto out;
    }
    if (j->rc == STORE_OK && !j->revoked && j->ended) {
        /* A re-authenticate too: the socket's session has ended with it. */
        auth_fail(s, rid, "unauthenticated", "This session has ended; sign in again.",
                  RT_CLOSE_UNAUTH);
        goto out;
    }
    if (j->rc == STORE_OK && j->revoked) {
        auth_fail(s, rid, "forbidden", "This device was revoked.", RT_CLOSE_REVOKED);
        goto out;
    }
    if (j->rc != STORE_OK) {
        log_warn("ws.auth", "result=%s", store_strerror(j->rc));
        if (j->first)
            auth_fail(s, rid, "unavailable", "Try again shortly.", 1011);
        else
            wsp_error(s, rid, "unavailable", "Try again shortly.", NULL);
        goto out;
    }
    if (j->exp > s->token_exp)
        s->token_exp = j->exp;
    if (!j->first) {
        if (s->state != CONN_READY)
            goto out;
        conn_schedule(s, (s->token_exp - clock_wall_ms() / 1000) * 1000);
        wsp_event(s, "authenticated", auth_ids(s));
        wsp_ack(s, rid, auth_ids(s));
        goto out;
    }
    memcpy(s->user_id, j->r.user_id, RT_ID_SIZE);
    memcpy(s->device_id, j->r.device_id, RT_ID_SIZE);
    s->state = CONN_READY;
    ws_rx_pause(s->conn, false);
    rt_register(s->rt, s);
    conn_schedule(s, (s->token_exp - clock_wall_ms() / 1000) * 1000);
    log_debug("ws.auth", "conn=%llu", (unsigned long long)s->id);
    wsp_event(s, "authenticated", auth_ids(s));
    wsp_ack(s, rid, auth_ids(s));
    presence_hide_seen(s->rt, s->user_id, j->seen_hidden);
    presence_online(s, j->contacts, j->n_contacts);
    delivery_start(s);
    conn_hook_ready(s);
out:
    free(j->contacts);
    free(j);
}

/* The authenticate event: the first frame, or a fresh token later. data is borrowed. */
static const struct field_spec conn_auth_fields[] = {
    {"token", FIELD_OPAQUE, FIELD_REQUIRED | FIELD_NULL_WRONG, .max = FIELD_UNBOUNDED},
};

static void conn_authenticate(struct rtconn *s, json_t *data, const char *req_id)
{
    struct field_value tok;
    bool first = s->state == CONN_NEW;
    struct auth_job *j;
    jwt_claims cl;
    jwt_status st;

    if (s->state == CONN_AUTHING || s->reauthing) {
        wsp_error(s, req_id, "rate_limited", "An authenticate is already in progress.", NULL);
        return;
    }
    if (wsp_fields(s, req_id, data, conn_auth_fields, 1, &tok, 1)) {
        if (first)
            conn_close(s, RT_CLOSE_UNAUTH, "unauthenticated");
        return;
    }
    st = jwt_verify(s->rt->jwt_key, s->rt->jwt_key_len, tok.str, tok.len, clock_wall_ms() / 1000,
                    &cl);
    if (st != JWT_OK) {
        bool expired = st == JWT_ERR_EXPIRED;

        wsp_error(s, req_id, expired ? "token_expired" : "unauthenticated",
                  expired ? "The access token expired." : "Invalid token.", NULL);
        if (first)
            conn_close(s, RT_CLOSE_UNAUTH, "unauthenticated");
        return;
    }
    if (strlen(cl.sub) >= RT_ID_SIZE || strlen(cl.dev) >= RT_ID_SIZE) {
        auth_fail(s, req_id, "unauthenticated", "Invalid token.", RT_CLOSE_UNAUTH);
        return;
    }
    if (!first && (strcmp(cl.sub, s->user_id) || strcmp(cl.dev, s->device_id))) {
        auth_fail(s, req_id, "unauthenticated", "The token is for another device.",
                  RT_CLOSE_UNAUTH);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    wsp_req_init(&j->r, s, req_id);
    memcpy(j->r.user_id, cl.sub, strlen(cl.sub) + 1);
    memcpy(j->r.device_id, cl.dev, strlen(cl.dev) + 1);
    j->first = first;
    j->exp = cl.exp;
    j->claims = cl;
    j->epoch = s->rt->ended_epoch;
    if (rt_submit(s->rt, auth_work, auth_done, j)) {
        wsp_req_done(&j->r);
        free(j);
        if (first)
            auth_fail(s, req_id, "unavailable", "Try again shortly.", 1011);
        else
            wsp_error(s, req_id, "unavailable", "Try again shortly.", NULL);
        return;
    }
    if (first) {
        s->state = CONN_AUTHING;
        ws_rx_pause(s->conn, true); /* later frames wait until we know who this is */
    } else {
        s->reauthing = 1;
    }
}

static const struct wsp_event conn_rows[] = {
    /* Its token (jwt_verify) is the check; the first one is the only frame allowed before
     * authentication. Later ones take an in-flight slot while the store read runs. */
    {"authenticate", conn_authenticate, .needs_id = false, .before_auth = true, .max_len = 0,
     .rate = WSP_RATE_INFLIGHT},
};
const struct wsp_events conn_ws_events = WSP_EVENTS(conn_rows);

_Static_assert(_Alignof(struct rtconn) <= WS_STATE_ALIGN, "ws.c aligns its state to 8 bytes");
const struct ws_handler conn_ws_handler = {
    .state_size = sizeof(struct rtconn),
    .open = conn_open,
    .message = wsp_dispatch,
    .alive = conn_alive,
    .room = conn_on_room,
    .closed = conn_closed,
};
