/* prekeys.h: one-time pre-keys of a device: upload, count, and the atomic claim.
 *
 * A claim hands out each key at most once, even to concurrent claimers on several nodes:
 * PostgreSQL skips rows another transaction has locked (FOR UPDATE SKIP LOCKED); SQLite
 * has one writer at a time.
 */
#ifndef SOTTO_STORE_PREKEYS_H
#define SOTTO_STORE_PREKEYS_H

#include "store/devices.h"
#include "store/store.h"

struct store_prekey {
    uint32_t key_id;
    uint8_t public_key[STORE_KEY_SIZE];
};

/* Add keys to a device. A key_id already stored with the same public key is accepted again
 * (a retried upload); with a different key it is STORE_CONFLICT. STORE_LIMIT (nothing
 * added) when the device would then hold more than max_stored keys. STORE_NOT_FOUND for an
 * unknown device. All or nothing. */
enum store_err store_prekeys_add(struct store *s, const char *device_id,
                                 const struct store_prekey *keys, size_t n, size_t max_stored,
                                 int64_t now);

enum store_err store_prekeys_count(struct store *s, const char *device_id, int64_t *count);

/* Take and delete the device's lowest-numbered key. *found is false (and STORE_OK) when it
 * has none left. Runs in its own transaction, or joins the caller's. */
enum store_err store_prekeys_claim(struct store *s, const char *device_id, struct store_prekey *out,
                                   bool *found);

#endif
