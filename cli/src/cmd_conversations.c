/* cmd_conversations.c: the conversation list, most recently active first, with the server's
 * unread counts and the last message as this device decrypted it (the server has only its id). */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "localstore.h"
#include "term.h"
#include "util.h"

#define PREVIEW_BYTES 72

/* The other participant of a conversation object, or NULL. */
static const json_t *peer_of_conversation(const client *c, const json_t *conv)
{
    size_t i;
    json_t *p;

    json_array_foreach(json_object_get(conv, "participants"), i, p) {
        const json_t *u = json_object_get(p, "user");
        const char *id = json_string_value(json_object_get(u, "id"));
        if (id != NULL && strcmp(id, c->pr.user_id) != 0)
            return u;
    }
    return NULL;
}

/* The last message as stored here: 0 with *m filled, 1 when this device does not have it. */
static int last_local(client *c, const json_t *conv, ls_message *m)
{
    const char *id = json_string_value(json_object_get(json_object_get(conv, "lastMessage"), "id"));
    uint8_t raw[16];

    memset(m, 0, sizeof *m);
    if (id == NULL || uuid_parse(id, raw) != 0)
        return 1;
    return ls_message_get(c->st, id, m) == 0 ? 0 : 1;
}

static json_t *entry_json(client *c, const json_t *conv, const json_t *peer)
{
    const json_t *last = json_object_get(conv, "lastMessage");
    json_t *out = json_pack(
        "{s:O,s:{s:O,s:O,s:O},s:O}", "conversationId", json_object_get(conv, "id"), "peer", "id",
        json_object_get(peer, "id"), "username", json_object_get(peer, "username"), "displayName",
        json_object_get(peer, "displayName") ? json_object_get(peer, "displayName") : json_null(),
        "unread", json_object_get(conv, "unreadCount"));
    ls_message m;

    if (out == NULL || !json_is_object(last))
        return out;
    json_t *lm =
        json_pack("{s:O,s:O,s:O}", "id", json_object_get(last, "id"), "senderId",
                  json_object_get(last, "senderId"), "sentAt", json_object_get(last, "sentAt"));
    if (last_local(c, conv, &m) == 0) {
        json_object_set_new(lm, "text",
                            m.body != NULL && !m.deleted_at_ms ? json_string(m.body) : json_null());
        ls_message_clear(&m);
    } else {
        json_object_set_new(lm, "text", json_null());
    }
    json_object_set_new(out, "lastMessage", lm);
    return out;
}

/* One line of at most PREVIEW_BYTES bytes: the body made safe, its line breaks as spaces, cut
 * at a character boundary with "..." when longer. */
static void preview(char out[PREVIEW_BYTES + 1], const char *body)
{
    char line[PREVIEW_BYTES * 4 + 1], safe[PREVIEW_BYTES + 8];
    size_t n;

    str_copy(line, sizeof line, body); /* a cut character becomes U+FFFD, beyond the cut below */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    n = strlen(term_safe(safe, sizeof safe, line));
    if (n > PREVIEW_BYTES) {
        n = PREVIEW_BYTES - 3;
        while (n > 0 && ((unsigned char)safe[n] & 0xc0) == 0x80)
            n--;
        memcpy(safe + n, "...", 4);
    }
    memcpy(out, safe, strlen(safe) + 1);
}

static void print_entry(client *c, const json_t *conv, const json_t *peer)
{
    const json_t *last = json_object_get(conv, "lastMessage");
    json_int_t unread = json_integer_value(json_object_get(conv, "unreadCount"));
    char name[128], badge[32] = "", when[64], text[PREVIEW_BYTES + 1];
    ls_message m;

    term_safe(name, sizeof name, json_string_value(json_object_get(peer, "username")));
    if (unread > 0)
        snprintf(badge, sizeof badge, "%lld unread", (long long)unread);
    if (!json_is_object(last)) {
        printf("%-20s %-10s (no messages)\n", name, badge);
    } else if (last_local(c, conv, &m) != 0) {
        printf("%-20s %-10s %s  (not fetched yet: sotto sync)\n", name, badge,
               term_safe(when, sizeof when, json_string_value(json_object_get(last, "sentAt"))));
    } else {
        term_time(m.sent_at_ms, when, sizeof when);
        if (m.deleted_at_ms != 0)
            str_copy(text, sizeof text, "(deleted)");
        else if (m.body == NULL)
            str_copy(text, sizeof text, "(refused: it failed to decrypt)");
        else
            preview(text, m.body);
        printf("%-20s %-10s [%s] %s: %s\n", name, badge, when, m.outgoing ? "you" : name, text);
        ls_message_clear(&m);
    }
}

int cmd_conversations(const cli_opts *o)
{
    http_resp r = {0};
    json_t *conv, *out = NULL;
    char path[96];
    size_t i;
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0)
        goto done;
    snprintf(path, sizeof path, "/api/conversations?limit=%d&offset=0",
             o->limit > 0 && o->limit <= 100 ? o->limit : 20);
    if ((rc = client_api(&c, "GET", path, NULL, &r)) != 0)
        goto done;
    if (r.status != 200 || !json_is_array(json_object_get(r.body, "conversations"))) {
        rc = client_fail(&r, "listing conversations");
        goto done;
    }
    if (o->json)
        out = json_array();
    json_array_foreach(json_object_get(r.body, "conversations"), i, conv) {
        const json_t *peer = peer_of_conversation(&c, conv);
        const char *cid = json_string_value(json_object_get(conv, "id"));
        if (peer == NULL || cid == NULL)
            continue;
        /* Remember whom it is with: sync can then name the sender of what arrives in it. */
        (void)ls_conversation_put(c.st, cid, json_string_value(json_object_get(peer, "id")));
        if (out != NULL)
            json_array_append_new(out, entry_json(&c, conv, peer));
        else
            print_entry(&c, conv, peer);
    }
    if (out != NULL)
        rc = print_json(json_incref(out));
done:
    json_decref(out);
    http_resp_clear(&r);
    client_close(&c);
    return rc;
}
