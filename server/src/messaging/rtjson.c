/* JSON forms of the messaging objects (api.md: user, conversation, message), the mapping of
 * store errors to the contract's statuses and codes, and the REST caller's identity. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "messaging/rt_internal.h"
#include "net/http.h"
#include "store/conversations.h"
#include "store/messages.h"

json_t *rtj_time(int64_t ms)
{
    char buf[32];

    if (ms <= 0)
        return json_null();
    api_time(ms, buf);
    return json_string(buf);
}

static json_t *rtj_str(const char *s) { return s ? json_string(s) : json_null(); }

json_t *rtj_user(const struct store_public_user *u)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(u->id));
    json_object_set_new(o, "username", rtj_str(u->username));
    json_object_set_new(o, "displayName", rtj_str(u->display_name));
    json_object_set_new(o, "avatarUrl", rtj_str(u->avatar_url));
    json_object_set_new(o, "bio", rtj_str(u->bio));
    json_object_set_new(o, "createdAt", rtj_time(u->created_at));
    return o;
}

json_t *rtj_participant(const struct store_participant *p)
{
    json_t *o = json_object();

    json_object_set_new(o, "user", rtj_user(&p->user));
    json_object_set_new(o, "joinedAt", rtj_time(p->joined_at));
    json_object_set_new(o, "accepted", json_boolean(p->accepted));
    return o;
}

json_t *rtj_conversation(const struct store_conversation *c)
{
    json_t *o = json_object(), *parts = json_array();

    for (size_t i = 0; i < c->n_participants; i++)
        json_array_append_new(parts, rtj_participant(&c->participants[i]));
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "type", json_string("direct"));
    json_object_set_new(o, "participants", parts);
    json_object_set_new(o, "createdAt", rtj_time(c->created_at));
    json_object_set_new(o, "updatedAt", rtj_time(c->updated_at));
    if (c->has_last_message)
        json_object_set_new(o, "lastMessage",
                            json_pack("{s:s, s:s, s:o}", "id", c->last_message_id, "senderId",
                                      c->last_sender_id, "sentAt", rtj_time(c->last_sent_at)));
    json_object_set_new(o, "unreadCount", json_integer(c->unread_count));
    return o;
}

static const char *const rtj_status[] = {"sent", "delivered", "read"};

json_t *rtj_message(const struct store_message *m)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "conversationId", json_string(m->conversation_id));
    json_object_set_new(o, "senderId", json_string(m->sender_id));
    json_object_set_new(o, "senderDeviceId", json_string(m->sender_device_id));
    json_object_set_new(o, "sentAt", rtj_time(m->sent_at));
    if (m->edited_at)
        json_object_set_new(o, "editedAt", rtj_time(m->edited_at));
    if (m->deleted_at)
        json_object_set_new(o, "deletedAt", rtj_time(m->deleted_at));
    if (m->has_envelope && m->ciphertext) {
        size_t n = sodium_base64_ENCODED_LEN(m->ciphertext_len, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(n);

        if (!b)
            abort();
        sodium_bin2base64(b, n, m->ciphertext, m->ciphertext_len, sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(
            o, "envelope",
            json_pack("{s:s, s:s}", "type",
                      m->envelope_type == STORE_ENVELOPE_PREKEY ? "prekey" : "message",
                      "ciphertext", b));
        free(b);
    }
    json_object_set_new(o, "status",
                        json_string(rtj_status[m->status <= STORE_STATUS_READ ? m->status : 0]));
    return o;
}

bool rtj_uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

void rtj_store_error(enum store_err rc, int *status, const char **code, const char **message)
{
    switch (rc) {
    case STORE_NOT_FOUND: *status = 404, *code = "not_found", *message = "Not found."; break;
    case STORE_FORBIDDEN: *status = 403, *code = "forbidden", *message = "Not allowed."; break;
    case STORE_MISMATCH:
        *status = 409, *code = "device_list_mismatch",
        *message = "The envelopes must name exactly the active target devices.";
        break;
    case STORE_CONFLICT:
    case STORE_CONFLICT_EMAIL:
    case STORE_CONFLICT_USERNAME:
    case STORE_CONFLICT_KEY:
        *status = 409, *code = "conflict", *message = "Conflicts with an existing entry.";
        break;
    case STORE_IDENTITY_IMMUTABLE:
        *status = 409, *code = "identity_immutable", *message = "Keys cannot change.";
        break;
    case STORE_INVALID:
    case STORE_LIMIT:
        *status = 400, *code = "validation_failed", *message = "Invalid request.";
        break;
    case STORE_BUSY: *status = 503, *code = "unavailable", *message = "Busy; try again."; break;
    case STORE_QUOTA:
        *status = 413, *code = "quota_exceeded",
        *message = "Too much of your ciphertext awaits delivery; send again once recipients "
                   "have caught up.";
        break;
    default: *status = 500, *code = "internal_error", *message = "Something went wrong.";
    }
}

void rtj_respond_store_error(struct http_req *req, enum store_err rc, json_t *details)
{
    int status;
    const char *code, *msg;

    rtj_store_error(rc, &status, &code, &msg);
    if (status == 503)
        http_add_header(req, "retry-after", "1");
    http_respond_error(req, status, code, msg, details);
}

json_t *rtj_details(const char *field, const char *reason)
{
    return json_pack("{s:s, s:s}", "field", field, "reason", reason);
}

bool rtj_caller(struct http_req *req, char user_id[RT_ID_SIZE], char device_id[RT_ID_SIZE])
{
    const struct auth_identity *who = http_auth(req);

    if (!who)
        return false;
    snprintf(user_id, RT_ID_SIZE, "%s", who->user_id);
    snprintf(device_id, RT_ID_SIZE, "%s", who->device_id);
    return true;
}

/* --- REST jobs ---------------------------------------------------------------------------- */

struct rtjob *rtjob_new(struct http_req *req, struct realtime *rt, const char *param)
{
    struct rtjob *j = calloc(1, sizeof(*j));

    if (!j)
        abort();
    j->req = req;
    j->rt = rt;
    if (!rtj_caller(req, j->user_id, j->device_id)) {
        http_respond_error(req, 401, "unauthenticated", "Authentication required.", NULL);
        free(j);
        return NULL;
    }
    if (param) {
        const char *v = http_param(req, param);

        snprintf(j->arg, sizeof(j->arg), "%s", v ? v : "");
    }
    if (http_json(req))
        j->body = json_incref(http_json(req));
    return j;
}

void rtjob_free(struct rtjob *j)
{
    if (!j)
        return;
    json_decref(j->body);
    json_decref(j->out);
    json_decref(j->details);
    if (j->extra_free)
        j->extra_free(j->extra);
    free(j);
}

static void rtjob_work(void *ctx, void *arg)
{
    struct rtjob *j = arg;

    j->now = rt_now_ms();
    j->work(ctx, j);
}

static void rtjob_done(void *arg)
{
    struct rtjob *j = arg;

    if (j->code) {
        http_respond_error(j->req, j->status, j->code, j->message, j->details);
        j->details = NULL;
    } else if (j->rc != STORE_OK) {
        rtj_respond_store_error(j->req, j->rc, j->details);
        j->details = NULL;
    } else {
        http_respond_json(j->req, j->status ? j->status : 200, j->out ? j->out : json_object());
        j->out = NULL;
        if (j->after)
            j->after(j);
    }
    rtjob_free(j);
}

void rtjob_submit(struct rtjob *j, rtjob_work_fn work)
{
    j->work = work;
    if (http_submit(j->req, rtjob_work, rtjob_done, j))
        rtjob_free(j);
}

void rtjob_fail(struct rtjob *j, int status, const char *code, const char *message, json_t *details)
{
    j->status = status;
    j->code = code;
    j->message = message;
    json_decref(j->details);
    j->details = details;
}

int64_t rtj_query_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max,
                      bool *bad)
{
    char buf[24], *end;
    long long v;
    int n = http_query(req, name, buf, sizeof(buf));

    if (n < 0)
        return def;
    v = strtoll(buf, &end, 10);
    if (!n || *end || v < min || v > max) {
        *bad = true;
        return def;
    }
    return v;
}
