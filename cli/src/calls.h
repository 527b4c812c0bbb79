/* calls.h: 1-1 calls as the CLI sees them. It carries no media, so it never answers: an
 * incoming call is checked (docs/protocol.md, "Calls": the receiver rule) and announced, or
 * refused and ended; its outcome is shown when it ends; missed calls that rang while no
 * session was open are caught up from the server's call records; and `sotto calls USER`
 * lists the history (cmd_calls.c).
 *
 * A missed call is shown once per profile: kv "call-seen:<callId>" marks it (set when the
 * live call:ended or the catch-up printed it). */
#ifndef SOTTO_CLI_CALLS_H
#define SOTTO_CLI_CALLS_H

#include <jansson.h>

#include "client.h"
#include "net_ws.h"

/* The calls that rang in this session: call:ended names only the call, so who called and how
 * come from here. The oldest is forgotten first. */
#define CALLS_RINGS 8
typedef struct calls_ring {
    char id[40], conv[40], caller[40];
    int video, refused, elsewhere;
} calls_ring;
typedef struct calls_live {
    calls_ring ring[CALLS_RINGS];
    size_t next;
} calls_live;

/* call:incoming. expected_key: the signing key the accepted device set gives for the caller
 * device (NULL when it is not accepted or could not be had). Decrypts the offer with that
 * device's session (the ratchet stays in step) and announces the call when the receiver rule
 * holds; otherwise says why it was refused and ends it (call:end, a request whose ack the
 * caller waits for). 1 when a call:end was sent, 0 when not, -1 on a local error (the session
 * should stop). */
int calls_incoming(client *c, ws_conn *ws, calls_live *l, json_t *d, const uint8_t *expected_key);
/* call:accepted-elsewhere: another device of ours answered. */
void calls_accepted_elsewhere(client *c, calls_live *l, json_t *d);
/* call:ended: its outcome in the conversation's words. */
void calls_ended(client *c, calls_live *l, json_t *d);
/* After the queue drained: the missed calls (to us, reason missed) among the newest records of
 * each conversation (only `conv` when given) not shown yet, oldest first. 0, or -1 when the
 * server could not be asked (said on stderr). */
int calls_catch_up(client *c, const char *conv);

/* One page of GET /api/conversations/:id/calls (before: a call id or NULL). 0 with *calls
 * (owned by the caller) and *more, else an EXIT_* code after a message. */
int calls_page(client *c, const char *conv, const char *before, int limit, json_t **calls,
               int *more);
/* The conversation with a user: the local mapping, else the server's list. 0, 1 when there is
 * none, else an EXIT_* code. Never creates one. */
int calls_conversation_with(client *c, const char *peer_id, char conv[40]);
/* One record as `sotto calls` prints it (peer_name: the other participant), or as JSON. */
void calls_print_record(client *c, const json_t *call, const char *peer_name);
json_t *calls_record_json(client *c, const json_t *call);

#endif
