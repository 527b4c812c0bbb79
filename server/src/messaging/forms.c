/* JSON forms of the messaging objects (api.md: conversation, participant, message). */
#include "messaging/forms.h"

#include <stdlib.h>

#include <sodium.h>

#include "api/forms.h"
#include "store/conversations.h"
#include "store/messages.h"

json_t *forms_participant(const struct store_participant *p)
{
    json_t *o = json_object();

    json_object_set_new(o, "user", api_user_json(&p->user));
    json_object_set_new(o, "joinedAt", api_time_json(p->joined_at));
    json_object_set_new(o, "accepted", json_boolean(p->accepted));
    return o;
}

json_t *forms_conversation(const struct store_conversation *c)
{
    json_t *o = json_object(), *parts = json_array();

    for (size_t i = 0; i < c->n_participants; i++)
        json_array_append_new(parts, forms_participant(&c->participants[i]));
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "type", json_string("direct"));
    json_object_set_new(o, "participants", parts);
    json_object_set_new(o, "createdAt", api_time_json(c->created_at));
    json_object_set_new(o, "updatedAt", api_time_json(c->updated_at));
    if (c->has_last_message)
        json_object_set_new(o, "lastMessage",
                            json_pack("{s:s, s:s, s:o}", "id", c->last_message_id, "senderId",
                                      c->last_sender_id, "sentAt", api_time_json(c->last_sent_at)));
    json_object_set_new(o, "unreadCount", json_integer(c->unread_count));
    json_object_set_new(o, "accepted", json_boolean(c->accepted));
    json_object_set_new(o, "request", json_boolean(c->request));
    return o;
}

static const char *const forms_status[] = {"sent", "delivered", "read"};

json_t *forms_message(const struct store_message *m)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "conversationId", json_string(m->conversation_id));
    json_object_set_new(o, "senderId", json_string(m->sender_id));
    json_object_set_new(o, "senderDeviceId", json_string(m->sender_device_id));
    json_object_set_new(o, "sentAt", api_time_json(m->sent_at));
    if (m->edited_at)
        json_object_set_new(o, "editedAt", api_time_json(m->edited_at));
    if (m->deleted_at)
        json_object_set_new(o, "deletedAt", api_time_json(m->deleted_at));
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
                        json_string(forms_status[m->status <= STORE_STATUS_READ ? m->status : 0]));
    return o;
}
