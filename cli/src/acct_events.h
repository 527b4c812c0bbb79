/* acct_events.h: what the account tells its devices (docs/api/events.md, Account events): a
 * new sign-in on the account, and a contact who deleted theirs.
 *
 * A sign-in is shown once per device: the ids shown or already known are kept in the sealed
 * profile store (kv "acct.devices"). A live device:added is shown and remembered; on connect
 * the account's device list is compared with that set, so a sign-in made while this device
 * was away is shown too (without the address, which only the live event carries). The first
 * comparison of a profile only remembers the list: every device on it is older than us. */
#ifndef SOTTO_CLI_ACCT_EVENTS_H
#define SOTTO_CLI_ACCT_EVENTS_H

#include <jansson.h>

#include "client.h"

/* device:added {deviceId, name, platform, createdAt, address}: the sign-in line (or --json
 * object) on stdout, once. */
void acct_sign_in(client *c, const json_t *d);
/* user:deleted {userId}: "USER deleted their account" (or --json). */
void acct_user_deleted(client *c, const json_t *d);
/* Compares the account's device list with the devices known here and shows each new one
 * (not this device). 0, or an EXIT_* code (nothing shown, the set kept). */
int acct_devices_catch_up(client *c);

#endif
