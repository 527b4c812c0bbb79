/* keys_maint.h: keeping this device's published keys healthy. */
#ifndef SOTTO_CLI_KEYS_MAINT_H
#define SOTTO_CLI_KEYS_MAINT_H

#include "client.h"

#define OTK_LOW 20u   /* replenish below this many on the server */
#define OTK_BATCH 80u /* how many to upload then */
#define OTK_INITIAL 100u
#define KEYS_MAINT_INTERVAL_MS (86400u * 1000u)

/* Replenishes one-time pre-keys below OTK_LOW, then sotto_account_maintain: rotates the
 * signed pre-key when due (uploading the new one) and prunes retired keys. Run when sync,
 * watch and chat connect, and about daily (KEYS_MAINT_INTERVAL) while they stay connected. New keys
 * are committed locally before they are uploaded (an upload that fails leaves unused private keys,
 * never missing ones). Returns 0 or an EXIT_* code; failures are reported but not fatal to callers.
 */
int keys_maintain(client *c);
/* Generates n one-time keys, commits the account and returns their JSON list. */
json_t *keys_new_one_time(client *c, uint32_t n);

#endif
