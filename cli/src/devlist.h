/* devlist.h: the account key and the signed device lists (issue 23; docs/protocol.md,
 * "Account key and device list").
 *
 * This device may hold its account's key (kv "account_seed", sealed; sodium_malloc()ed while
 * in use). For every user, ourselves included, the newest list seen is kept as signed bytes
 * (kv "devlist:<user id>"): its account key is the one pinned for that user. Once a list was
 * seen, only the devices it names under exactly their listed keys are talked to; an older or
 * forked list, or none where one was seen, is refused as an attack. A user never seen with a
 * list is a legacy account: its listing is used as it is.
 */
#ifndef SOTTO_CLI_DEVLIST_H
#define SOTTO_CLI_DEVLIST_H

#include "client.h"

/* 0 in a test build told to act as a client from before account keys (it makes none). */
int devlist_enabled(void);

/* The account key's seed when this device holds it: 0 (*seed is sodium_malloc()ed, release
 * with ls_secret_free), 1 when not held, -1 on error. */
int devlist_seed(client *c, uint8_t **seed);

/* The newest list seen for the user: 0, 1 when none was seen, -1 on error. */
int devlist_seen(client *c, const char *user_id, sotto_device_list *l);

/* Makes the account key (its seed sealed in the profile), signs version 1 naming `devices`
 * (a keys listing: [{deviceId, signingKey}]) and PUTs it. A first device at registration,
 * or the migration of a legacy account. 0 or EXIT_*. */
int devlist_create(client *c, const json_t *devices);

/* Signs l (its version already raised) with the held seed, PUTs it and keeps it as seen. */
int devlist_publish(client *c, sotto_device_list *l);

/* body: a GET /api/keys/users/:id response. Checks its deviceList against the list seen
 * (see above), keeps the newer, and gives *devices (owned) the listing's devices that the list
 * names with exactly their keys (all of them for a legacy account). For our own account with
 * no list anywhere and no account key here, migrates first (devlist_create). Unlisted devices
 * are announced. 0, EXIT_TRUST (refused: nothing may be sent), or another EXIT_*. */
int devlist_check(client *c, const char *user_id, const json_t *body, json_t **devices);

/* Forgets the list seen for the user (accepting a changed account key). */
int devlist_forget(client *c, const char *user_id);

/* A fingerprint of a device's signing key, the same on every device, compared by the person
 * approving it: "1234 5678 9012 3456 7890". */
#define DEVLIST_FP_GROUPS 5
#define DEVLIST_FP_SIZE (DEVLIST_FP_GROUPS * 5)
void devlist_fingerprint(const uint8_t signing_key[32], char out[DEVLIST_FP_SIZE]);

#endif
