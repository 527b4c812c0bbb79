/* calls.c: incoming calls checked and announced, their outcomes, missed calls caught up, and
 * the call records as `sotto calls` shows them (see calls.h). */
#include "calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "term.h"
#include "util.h"

/* ------------------------------------------------------------------ words */

static const char *kind(int video) { return video ? "video" : "audio"; }

/* "M:SS", or "H:MM:SS" from an hour on. */
static void duration_text(json_int_t s, char *out, size_t cap)
{
    if (s < 0)
        s = 0;
    if (s >= 3600)
        snprintf(out, cap, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, cap, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* An RFC 3339 UTC time ("2026-12-07T18:10:13.123Z") in ms since the epoch; 0 when unreadable. */
static uint64_t time_ms(const char *s)
{
    struct tm tm;
    int ms = 0, n = 0;

    memset(&tm, 0, sizeof tm);
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return 0;
    if (s[n] == '.')
        sscanf(s + n + 1, "%3d", &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t < 0 ? 0 : (uint64_t)t * 1000u + (uint64_t)ms;
}

/* What became of a call, from its record: missed, declined, ended (answered, then hung up),
 * unanswered (hung up by either side before an answer), busy, failed; ringing or in progress
 * while it has no reason yet. */
static const char *outcome(const json_t *call)
{
    const char *reason = json_string_value(json_object_get(call, "reason"));
    int answered = json_object_get(call, "answeredAt") != NULL;

    if (reason == NULL)
        return answered ? "in progress" : "ringing";
    if (!strcmp(reason, "rejected"))
        return "declined";
    if (!strcmp(reason, "hangup"))
        return answered ? "ended" : "unanswered";
    return reason; /* missed, busy, failed */
}

/* ------------------------------------------------------------------ the live session */

static calls_ring *ring_find(calls_live *l, const char *id)
{
    for (size_t i = 0; i < CALLS_RINGS; i++)
        if (l->ring[i].id[0] && !strcmp(l->ring[i].id, id))
            return &l->ring[i];
    return NULL;
}

static calls_ring *ring_add(calls_live *l, const char *id, const char *conv, const char *caller,
                            int video)
{
    calls_ring *r = &l->ring[l->next++ % CALLS_RINGS];

    memset(r, 0, sizeof *r);
    str_copy(r->id, sizeof r->id, id);
    str_copy(r->conv, sizeof r->conv, conv ? conv : "");
    str_copy(r->caller, sizeof r->caller, caller ? caller : "");
    r->video = video;
    return r;
}

static void mark_seen(client *c, const char *call_id)
{
    char name[64];

    snprintf(name, sizeof name, "call-seen:%s", call_id);
    (void)ls_kv_put_str(c->st, name, "1");
}

static int seen(client *c, const char *call_id)
{
    char name[64], *v = NULL;
    int rc;

    snprintf(name, sizeof name, "call-seen:%s", call_id);
    rc = ls_kv_get_str(c->st, name, &v);
    free(v);
    return rc == 0;
}

typedef struct incoming {
    const char *id, *conv, *caller, *device, *type, *ct;
    int video;
} incoming;

static int incoming_parse(json_t *d, incoming *in)
{
    in->id = json_string_value(json_object_get(d, "callId"));
    in->conv = json_string_value(json_object_get(d, "conversationId"));
    in->caller = json_string_value(json_object_get(d, "callerId"));
    in->device = json_string_value(json_object_get(d, "callerDeviceId"));
    in->type = json_string_value(json_object_get(d, "callType"));
    in->ct = json_string_value(json_object_get(json_object_get(d, "envelope"), "ciphertext"));
    in->video = in->type != NULL && !strcmp(in->type, "video");
    return in->id && in->conv && in->caller && in->device && in->type && in->ct &&
                   (in->video || !strcmp(in->type, "audio"))
               ? 0
               : -1;
}

/* The binding the event names, with this device as the callee. */
static int expected_binding(client *c, const incoming *in, sotto_call_binding *b)
{
    memset(b, 0, sizeof *b);
    b->call_type = in->video ? SOTTO_CALL_VIDEO : SOTTO_CALL_AUDIO;
    b->signal = SOTTO_SIGNAL_OFFER;
    return uuid_parse(in->id, b->call_id) != 0 ||
                   uuid_parse(in->device, b->caller_device_id) != 0 ||
                   uuid_parse(c->pr.device_id, b->callee_device_id) != 0
               ? -1
               : 0;
}

/* The receiver rule (docs/protocol.md, "Calls"). NULL when the offer may be used, else why not.
 * -1 in *local on a local error. */
static const char *check_offer(client *c, const incoming *in, const uint8_t *key, int *local)
{
    sotto_call_binding want, got;
    char peer[40];
    const char *why = "the caller's device is not one you accept";

    *local = 0;
    if (ls_conversation_peer(c->st, in->conv, peer) == 0 && strcmp(peer, in->caller) != 0)
        return "the server put it in a conversation with someone else";
    if (expected_binding(c, in, &want) != 0)
        return "the server's call event is malformed";
    pr_incoming pi = {"", in->conv, in->caller, in->device, in->ct, key};
    int rc = pr_receive_call(&c->pr, &pi, &got, &why);
    if (rc < 0)
        *local = 1;
    if (rc != PR_STORED)
        return rc == PR_SECURITY ? "its device key is not the listed one" : why;
    if (!sotto_call_binding_same_call(&got, &want))
        return "its offer is bound to another call, device or call type";
    if (got.signal != SOTTO_SIGNAL_OFFER)
        return "it is not an offer";
    return NULL;
}

static void say_incoming(client *c, const incoming *in)
{
    char who[128], safe[128];

    client_username(c, in->caller, who, sizeof who);
    if (c->o->json)
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "event", "call-incoming", "callId",
                             in->id, "conversationId", in->conv, "fromId", in->caller, "from", who,
                             "deviceId", in->device, "callType", kind(in->video)));
    else
        printf("  Incoming %s call from %s (answer it in the web app)\n", kind(in->video),
               term_safe(safe, sizeof safe, who));
    fflush(stdout);
}

static void say_refused(client *c, const incoming *in, const char *why)
{
    char who[128], s1[128], s2[64];

    if (in->caller != NULL)
        client_username(c, in->caller, who, sizeof who);
    else
        str_copy(who, sizeof who, "?");
    fprintf(stderr, "sotto: !!! REFUSED an incoming call from %s (device %s): %s; it was ended\n",
            term_safe(s1, sizeof s1, who), term_safe(s2, sizeof s2, in->device ? in->device : "?"),
            why);
    if (c->o->json)
        print_json(json_pack("{s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:s}", "event", "call-refused", "callId",
                             in->id, "conversationId", in->conv, "fromId", in->caller, "from", who,
                             "deviceId", in->device, "reason", why));
    else
        printf("  Refused a %s call from %s: %s\n", kind(in->video), term_safe(s1, sizeof s1, who),
               why);
    fflush(stdout);
}

int calls_incoming(client *c, ws_conn *ws, calls_live *l, json_t *d, const uint8_t *expected_key)
{
    char req[16];
    incoming in;
    int local = 0;
    const char *why = "the server's call event is malformed";

    if (incoming_parse(d, &in) == 0)
        why = check_offer(c, &in, expected_key, &local);
    if (why == NULL) {
        ring_add(l, in.id, in.conv, in.caller, in.video);
        say_incoming(c, &in);
        return 0;
    }
    say_refused(c, &in, why);
    if (local)
        return -1;
    if (in.id == NULL)
        return 0;
    ring_add(l, in.id, in.conv, in.caller, in.video)->refused = 1;
    return ws_send(ws, "call:end", json_pack("{s:s}", "callId", in.id), 1, req) == 0 ? 1 : 0;
}

void calls_accepted_elsewhere(client *c, calls_live *l, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "callId"));
    calls_ring *r = id ? ring_find(l, id) : NULL;
    char who[128], safe[128];

    if (r == NULL)
        return;
    r->elsewhere = 1;
    client_username(c, r->caller, who, sizeof who);
    if (c->o->json)
        print_json(json_pack("{s:s,s:s,s:s}", "event", "call-answered-elsewhere", "callId", id,
                             "conversationId", r->conv));
    else
        printf("  The %s call from %s was answered on another of your devices\n", kind(r->video),
               term_safe(safe, sizeof safe, who));
    fflush(stdout);
}

/* The outcome line of a call that rang here. */
static void ended_text(const calls_ring *r, const char *reason, json_int_t secs, const char *who)
{
    char dur[32], safe[128];

    duration_text(secs, dur, sizeof dur);
    term_safe(safe, sizeof safe, who);
    if (!strcmp(reason, "missed"))
        printf("  Missed %s call from %s\n", kind(r->video), safe);
    else if (!strcmp(reason, "rejected"))
        printf("  The %s call from %s was declined\n", kind(r->video), safe);
    else if (!strcmp(reason, "hangup") && secs > 0)
        printf("  The %s call with %s ended after %s\n", kind(r->video), safe, dur);
    else if (!strcmp(reason, "hangup"))
        printf("  The %s call from %s ended before it was answered\n", kind(r->video), safe);
    else if (!strcmp(reason, "busy"))
        printf("  The %s call from %s ended: busy\n", kind(r->video), safe);
    else
        printf("  The %s call with %s failed (a connection was lost)\n", kind(r->video), safe);
}

void calls_ended(client *c, calls_live *l, json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "callId"));
    const char *reason = json_string_value(json_object_get(d, "reason"));
    json_int_t secs = json_integer_value(json_object_get(d, "duration"));
    calls_ring *r = id ? ring_find(l, id) : NULL;
    char who[128];

    if (r == NULL || reason == NULL)
        return; /* not a call that rang here in this session */
    client_username(c, r->caller, who, sizeof who);
    if (!strcmp(reason, "missed"))
        mark_seen(c, id);
    if (c->o->json)
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "event", "call-ended",
                             "callId", id, "conversationId", r->conv, "fromId", r->caller, "from",
                             who, "callType", kind(r->video), "reason", reason, "duration", secs,
                             "refusedHere", r->refused));
    else if (!r->refused) /* a refused one was said already */
        ended_text(r, reason, secs, who);
    fflush(stdout);
    r->id[0] = '\0';
}

/* ------------------------------------------------------------------ records */

int calls_page(client *c, const char *conv, const char *before, int limit, json_t **calls,
               int *more)
{
    char path[192];
    http_resp r;
    int rc;

    snprintf(path, sizeof path, "/api/conversations/%s/calls?limit=%d%s%s", conv, limit,
             before ? "&before=" : "", before ? before : "");
    if ((rc = client_api(c, "GET", path, NULL, &r)) != 0)
        return rc;
    if (r.status != 200 || !json_is_array(json_object_get(r.body, "calls"))) {
        rc = client_fail(&r, "listing calls");
        http_resp_clear(&r);
        return rc;
    }
    *calls = json_incref(json_object_get(r.body, "calls"));
    *more = json_is_true(json_object_get(r.body, "hasMore"));
    http_resp_clear(&r);
    return 0;
}

/* GET /api/conversations: the first 100, most recently active first. */
static int conversations(client *c, json_t **list)
{
    http_resp r;
    int rc;

    if ((rc = client_api(c, "GET", "/api/conversations?limit=100&offset=0", NULL, &r)) != 0)
        return rc;
    if (r.status != 200 || !json_is_array(json_object_get(r.body, "conversations"))) {
        rc = client_fail(&r, "listing conversations");
        http_resp_clear(&r);
        return rc;
    }
    *list = json_incref(json_object_get(r.body, "conversations"));
    http_resp_clear(&r);
    return 0;
}

/* The other participant's id in a conversation object, or NULL. */
static const char *other_of(client *c, const json_t *conv)
{
    size_t i;
    json_t *p;

    json_array_foreach(json_object_get(conv, "participants"), i, p) {
        const char *id = json_string_value(json_object_get(json_object_get(p, "user"), "id"));
        if (id != NULL && strcmp(id, c->pr.user_id) != 0)
            return id;
    }
    return NULL;
}

int calls_conversation_with(client *c, const char *peer_id, char conv[40])
{
    json_t *list = NULL, *o;
    size_t i;
    int rc = 1;

    if (ls_conversation_for(c->st, peer_id, conv) == 0)
        return 0;
    if ((rc = conversations(c, &list)) != 0)
        return rc;
    rc = 1;
    json_array_foreach(list, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *other = other_of(c, o);
        if (id != NULL && other != NULL && !strcmp(other, peer_id) && str_copy(conv, 40, id) == 0) {
            (void)ls_conversation_put(c->st, conv, peer_id);
            rc = 0;
        }
    }
    json_decref(list);
    return rc;
}

json_t *calls_record_json(client *c, const json_t *call)
{
    const char *caller = json_string_value(json_object_get(call, "callerId"));
    json_t *j = json_pack(
        "{s:O,s:s,s:O,s:s,s:O,s:O}", "id", json_object_get(call, "id"), "direction",
        caller && !strcmp(caller, c->pr.user_id) ? "outgoing" : "incoming", "callType",
        json_object_get(call, "callType"), "outcome", outcome(call), "startedAt",
        json_object_get(call, "startedAt"), "duration", json_object_get(call, "duration"));

    if (j == NULL)
        return NULL;
    json_t *reason = json_object_get(call, "reason");
    json_object_set_new(j, "reason", reason ? json_incref(reason) : json_null());
    if (json_object_get(call, "answeredAt"))
        json_object_set(j, "answeredAt", json_object_get(call, "answeredAt"));
    if (json_object_get(call, "endedAt"))
        json_object_set(j, "endedAt", json_object_get(call, "endedAt"));
    return j;
}

void calls_print_record(client *c, const json_t *call, const char *peer_name)
{
    const char *caller = json_string_value(json_object_get(call, "callerId"));
    const char *type = json_string_value(json_object_get(call, "callType"));
    int out = caller != NULL && !strcmp(caller, c->pr.user_id);
    char when[32], dur[32] = "", safe[128];

    term_time(time_ms(json_string_value(json_object_get(call, "startedAt"))), when, sizeof when);
    if (json_object_get(call, "answeredAt"))
        duration_text(json_integer_value(json_object_get(call, "duration")), dur, sizeof dur);
    printf("[%s] %s %s call %s %s  %s%s%s\n", when, out ? "outgoing" : "incoming",
           type && !strcmp(type, "video") ? "video" : "audio", out ? "to" : "from",
           term_safe(safe, sizeof safe, peer_name), outcome(call), dur[0] ? "  " : "", dur);
}

/* ------------------------------------------------------------------ catching up */

static void say_missed(client *c, const char *conv, const json_t *call)
{
    const char *caller = json_string_value(json_object_get(call, "callerId"));
    const char *id = json_string_value(json_object_get(call, "id"));
    const char *type = json_string_value(json_object_get(call, "callType"));
    const char *at = json_string_value(json_object_get(call, "startedAt"));
    char who[128], when[32], safe[128];

    client_username(c, caller, who, sizeof who);
    if (c->o->json) {
        print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?}", "event", "call-missed", "callId", id,
                             "conversationId", conv, "fromId", caller, "from", who, "callType",
                             type && !strcmp(type, "video") ? "video" : "audio", "startedAt", at));
    } else {
        term_time(time_ms(at), when, sizeof when);
        printf("[%s] Missed %s call from %s\n", when,
               type && !strcmp(type, "video") ? "video" : "audio",
               term_safe(safe, sizeof safe, who));
    }
    fflush(stdout);
    mark_seen(c, id);
}

/* The newest page of one conversation's calls; what was missed and not shown yet, oldest
 * first. A profile new to a conversation sees at most that page's missed calls. */
static int catch_up_one(client *c, const char *conv)
{
    json_t *calls = NULL, *call;
    int more, rc;

    if ((rc = calls_page(c, conv, NULL, 50, &calls, &more)) != 0)
        return rc;
    for (size_t i = json_array_size(calls); i-- > 0;) {
        call = json_array_get(calls, i);
        const char *id = json_string_value(json_object_get(call, "id"));
        const char *caller = json_string_value(json_object_get(call, "callerId"));
        const char *reason = json_string_value(json_object_get(call, "reason"));
        if (id != NULL && caller != NULL && reason != NULL && !strcmp(reason, "missed") &&
            strcmp(caller, c->pr.user_id) != 0 && !seen(c, id))
            say_missed(c, conv, call);
    }
    json_decref(calls);
    return 0;
}

int calls_catch_up(client *c, const char *conv)
{
    json_t *list = NULL, *o;
    size_t i;
    int rc = 0;

    if (conv != NULL)
        return catch_up_one(c, conv) == 0 ? 0 : -1;
    if (conversations(c, &list) != 0)
        return -1;
    json_array_foreach(list, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id != NULL && catch_up_one(c, id) != 0)
            rc = -1;
    }
    json_decref(list);
    return rc;
}
