/* The REST plumbing, as a route handler of any domain sees it: the job (job.h), the one error
 * mapping (errors.h), the shared JSON forms (forms.h), input checks (fields.h, check.h), the access
 * token hook and the audit log. Domains include this and net/http.h's request interface,
 * never the network layer's internals. */
#ifndef SOTTO_API_H
#define SOTTO_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/check.h"
#include "api/errors.h"
#include "api/fields.h"
#include "api/forms.h"
#include "api/job.h"
#include "base/clock.h"
#include "net/http.h"

struct server;

/* Installs the access-token check of ROUTE_AUTH routes (auth_hook.c) with the JWT key
 * (NULL for `sottod --routes`, which starts nothing). */
int auth_hook_install(struct server *srv, const uint8_t *jwt_key, size_t jwt_key_len);

/* Appends an audit row (errors are logged, never fatal). action is a short constant;
 * detail is free text that must never hold a secret. */
void api_audit(struct store *s, struct job *j, const char *user_id, const char *device_id,
               const char *action, bool success, const char *detail);

#endif
