/* The JSON forms every domain shares (api.md): times, users and devices. The messaging
 * objects (conversation, message) are the messaging domain's (messaging/forms.h). */
#ifndef SOTTO_FORMS_H
#define SOTTO_FORMS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct store_public_user;
struct store_user;
struct store_device;

/* RFC 3339 UTC with milliseconds ("2026-11-24T08:45:26.123Z"). */
void api_time(int64_t ms, char out[32]);
/* The same as a JSON string, or JSON null for 0 (a time that is not set). */
json_t *api_time_json(int64_t ms);
/* `user`: what anyone who may see the user sees. */
json_t *api_user_json(const struct store_public_user *u);
/* The same `user` from an account row; me: with email, emailVerified and mfaEnabled (the
 * caller's own account). */
json_t *api_user_row_json(const struct store_user *u, bool me);
/* `device`; current: whether it is the caller's own (current_device_id may be NULL). */
json_t *api_device_json(const struct store_device *d, const char *current_device_id);

#endif
