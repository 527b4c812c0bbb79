/* cmd_history.c: the local history with one user; --search decrypts in memory and matches
 * case-insensitively (the server holds nothing searchable). */
#include <stdio.h>
#include <string.h>

#include "attlist.h"
#include "client.h"
#include "commands.h"
#include "controls.h"
#include "marks.h"
#include "term.h"
#include "util.h"

typedef struct hist {
    const cli_opts *o;
    client *c;
    json_t *out;
    const char *peer_name;
} hist;

/* One's own messages: "queued" (in the outbox), "sent", "delivered", "read" or "failed". */
static const char *status_name(int s)
{
    switch (s) {
    case LS_MSG_REFUSED: return "refused";
    case LS_MSG_UNREADABLE: return "undecryptable";
    case LS_MSG_RECEIVED: return "received";
    default: return marks_status_name(s);
    }
}

int history_retry_state(client *c, const ls_message *m)
{
    if (m->outgoing || m->deleted_at_ms != 0)
        return HISTORY_PLAIN;
    if (m->status == LS_MSG_UNREADABLE && m->body == NULL)
        return controls_waiting(c, m->id) ? HISTORY_WAITING : HISTORY_PLAIN;
    return m->body != NULL && controls_asked(c, m->id) ? HISTORY_RESENT : HISTORY_PLAIN;
}

static int one(void *ctx, const ls_message *m)
{
    hist *h = ctx;
    int state = history_retry_state(h->c, m);

    if (h->o->search != NULL && (m->body == NULL || strcasestr(m->body, h->o->search) == NULL))
        return 0;
    if (h->out != NULL) {
        json_t *j = json_pack("{s:s,s:s?,s:b,s:s,s:I,s:s,s:s?,s:b,s:b}", "id", m->id, "serverId",
                              m->server_id[0] ? m->server_id : NULL, "outgoing", m->outgoing,
                              "status", status_name(m->status), "sentAt", (json_int_t)m->sent_at_ms,
                              "deviceId", m->sender_device, "text", m->body, "edited",
                              m->edited_at_ms != 0, "deleted", m->deleted_at_ms != 0);
        if (m->edited_at_ms != 0)
            json_object_set_new(j, "editedAt", json_integer((json_int_t)m->edited_at_ms));
        if (m->deleted_at_ms != 0)
            json_object_set_new(j, "deletedAt", json_integer((json_int_t)m->deleted_at_ms));
        if (state == HISTORY_WAITING)
            json_object_set_new(j, "waiting", json_true());
        if (state == HISTORY_RESENT)
            json_object_set_new(j, "resent", json_true());
        att_json_for(h->c->st, m->id, m->deleted_at_ms, j);
        json_array_append_new(h->out, j);
        return 0;
    }
    history_print_line(m, h->peer_name, state);
    att_print_for(h->c->st, m->id, m->deleted_at_ms);
    return 0;
}

void history_print_line(const ls_message *m, const char *peer_name, int retry_state)
{
    char when[32], who[128];

    term_time(m->sent_at_ms, when, sizeof when);
    term_safe(who, sizeof who, m->outgoing ? "you" : peer_name);
    if (m->deleted_at_ms != 0) {
        printf("[%s] %s: (deleted)\n", when, who);
    } else if (m->body == NULL && retry_state == HISTORY_WAITING) {
        printf("[%s] %s: (" CONTROLS_WAITING ")\n", when, who, who);
    } else if (m->body == NULL && m->status == LS_MSG_UNREADABLE) {
        printf("[%s] %s: (" CONTROLS_UNDECRYPTABLE ")\n", when, who);
    } else if (m->body == NULL) {
        printf("[%s] %s: (a message that failed to decrypt was refused)\n", when, who);
    } else {
        printf("[%s] %s: ", when, who);
        term_print(stdout, m->body, 1);
        printf("%s%s%s%s\n", m->edited_at_ms != 0 ? "  (edited)" : "",
               retry_state == HISTORY_RESENT ? "  (resent: it could not be read the first time)"
                                             : "",
               m->outgoing ? "  " : "", m->outgoing ? marks_after(m->status) : "");
    }
}

int cmd_history(const cli_opts *o)
{
    json_t *user = NULL;
    hist h = {o, NULL, NULL, o->pos[0]};
    ls_contact ct;
    char peer[40];
    client c;
    int rc;

    if ((rc = client_open(&c, o, 0)) != 0)
        goto done;
    h.c = &c;
    /* Local first, so history works offline. */
    if (ls_contact_find(c.st, o->pos[0], &ct) == 0) {
        str_copy(peer, sizeof peer, ct.user_id);
        ls_contact_clear(&ct);
    } else if ((rc = client_require_login(&c)) != 0 ||
               (rc = client_user_by_name(&c, o->pos[0], &user)) != 0) {
        goto done;
    } else {
        str_copy(peer, sizeof peer, json_string_value(json_object_get(user, "id")));
    }
    if (o->json)
        h.out = json_array();
    if (ls_messages_each(c.st, peer, one, &h) != 0)
        rc = EXIT_LOCAL;
    else if (h.out != NULL)
        rc = print_json(json_incref(h.out));
done:
    json_decref(h.out);
    json_decref(user);
    client_close(&c);
    return rc;
}
