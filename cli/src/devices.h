/* devices.h: one's own devices in the account's signed list (issue 23): approving a device
 * that signed in with the password, taking a revoked one out, and what whoami says of this
 * device. Approving and unlisting need the account key (devlist.h) on this device. */
#ifndef SOTTO_CLI_DEVICES_H
#define SOTTO_CLI_DEVICES_H

#include "client.h"

/* devices approve ID: shows the device's name, platform and key fingerprint, asks (or --yes),
 * then signs the next version of the list with it added and PUTs it. 0 or EXIT_*. */
int devices_approve(client *c, const cli_opts *o, const char *device_id);
/* After a revoke: signs the next version without the device, when this device holds the
 * account key and the list names it (else nothing to do). 0 or EXIT_*. */
int devices_unlist(client *c, const char *device_id);
/* whoami's lines about this device: its key fingerprint and whether the list names it. */
void devices_whoami(client *c);
/* The same into whoami --json: keyFingerprint, and deviceList {version, listed,
 * holdsAccountKey} (null when no list was seen for the account). */
void devices_whoami_json(client *c, json_t *me);

#endif
