/* rules.h: the server's rules for an account's fields (GET /api/auth/rules), told to a person
 * before they type, and the server's field-level refusals told in words. One source: the
 * numbers shown are the server's, never a copy of them. */
#ifndef SOTTO_CLI_RULES_H
#define SOTTO_CLI_RULES_H

#include <jansson.h>

#include "client.h"

/* The rules (*rules owned by the caller). A server that does not publish them leaves *rules
 * NULL and returns 0: the refusals still say which field and why. EXIT_NET when it cannot be
 * reached. */
int rules_fetch(client *c, json_t **rules);
/* "A password: 10 to 1024 characters, not your email or username." on stderr. */
void rules_explain_password(const json_t *rules);
/* When r is a refusal naming a field (400 validation_failed or 409 conflict with
 * details.field), prints "sotto: <what>: the <field> <why>" on stderr and returns the field's
 * name (owned by r); otherwise NULL and prints nothing. */
const char *rules_refusal(const http_resp *r, const json_t *rules, const char *what);

#endif
