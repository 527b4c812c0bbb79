/* signed_lists.h: each account's device list as signed by its account key (issue 23), kept as
 * the bytes the client sent. The store checks nothing inside it; keys/device_list.c checks its
 * shape and devices before it gets here, and clients check its signature.
 *
 * Conventions as in store.h. */
#ifndef SOTTO_STORE_SIGNED_LISTS_H
#define SOTTO_STORE_SIGNED_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_SIGNED_LIST_MAX 4096 /* bytes: 64 devices fit in 3,211 */

/* Makes list (of version `version`, >= 1) user_id's latest, when its version is greater than
 * the stored one's. The same version with the same bytes again is STORE_OK (a retry); an
 * older version, or the same version with other bytes, is STORE_CONFLICT and changes nothing.
 * STORE_INVALID for a version below 1 or an empty or oversized list. */
enum store_err store_signed_list_put(struct store *s, const char *user_id, int64_t version,
                                     const uint8_t *list, size_t len, int64_t now);

/* user_id's latest list into out (cap >= STORE_SIGNED_LIST_MAX), its size and version;
 * STORE_NOT_FOUND when the account has none yet. */
enum store_err store_signed_list_get(struct store *s, const char *user_id, uint8_t *out, size_t cap,
                                     size_t *len, int64_t *version);

/* Whether a stored list (as store_signed_list_get gave it) names device_id (a canonical
 * lower-case UUID). It reads only the device ids, at their fixed places in the encoding
 * (docs/protocol.md): the list's shape was checked when it was stored. */
bool store_signed_list_names(const uint8_t *list, size_t len, const char *device_id);

#endif
