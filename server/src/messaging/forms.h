/* JSON forms of the messaging objects (api.md): conversation, participant, message. The
 * shared forms (user, time) are the plumbing's (api/forms.h). */
#ifndef SOTTO_MESSAGING_FORMS_H
#define SOTTO_MESSAGING_FORMS_H

#include <jansson.h>

struct store_participant;
struct store_conversation;
struct store_message;

json_t *forms_participant(const struct store_participant *p);
json_t *forms_conversation(const struct store_conversation *c);
/* The contract's `message` (envelope only when the store has one for the caller). */
json_t *forms_message(const struct store_message *m);

#endif
