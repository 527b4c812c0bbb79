/* Sending, editing, deleting and reading messages (messaging.c), shared by the REST routes
 * (messages_routes.c) and the WebSocket events. Loop thread. */
#ifndef SOTTO_MESSAGING_H
#define SOTTO_MESSAGING_H

#include <jansson.h>

struct http_req;
struct realtime;
struct msg_op;

enum msg_kind { MSG_SEND, MSG_EDIT, MSG_DELETE, MSG_READ };

/* An operation by (user_id, device_id) — always the authenticated caller — on target: the
 * conversation id for MSG_SEND, the message id otherwise. Free with msg_op_free unless
 * submitted. */
struct msg_op *msg_op_new(struct realtime *rt, enum msg_kind kind, const char *user_id,
                          const char *device_id, const char *target);
void msg_op_free(struct msg_op *op);

/* Checks {clientMessageId (send), envelopes} and keeps a reference to body. On -1: *status
 * (400 or 413) and the validation_failed details' field and reason. */
int msg_op_body(struct msg_op *op, json_t *body, int *status, const char **field,
                const char **reason);

/* Runs the operation and answers req (201/200 message, 200 {success}, or the error). Takes
 * op. */
void msg_op_submit_http(struct msg_op *op, struct http_req *req);

#endif
