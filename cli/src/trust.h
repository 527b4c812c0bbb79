/* trust.h: who we believe a contact's devices are, and what happens when that changes.
 *
 * For each user we keep the device set we last accepted (deviceId -> signing key). A new,
 * removed or changed device changes the safety number: it is announced loudly on stderr.
 * For an unverified contact the new set is then accepted (trust on first use, with the
 * warning). For a contact marked verified the old set stays and sending is held until the
 * user runs `sotto verify USER --accept`. A change on one's own account is announced the
 * same way; a device added to it (or re-keyed) holds sending until `sotto devices accept`
 * (a removal alone does not). Only devices of the accepted set are talked to, both ways.
 */
#ifndef SOTTO_CLI_TRUST_H
#define SOTTO_CLI_TRUST_H

#include "client.h"

/* devices: the array of GET /api/keys/users/:id. Returns 0 (go on), EXIT_TRUST (sending to
 * this user is held) or EXIT_LOCAL. */
int trust_check(client *c, const char *user_id, const char *username, const json_t *devices);
/* Accepts the current set (clears the hold); verified: 1 mark verified, 0 clear, -1 keep. */
int trust_accept(client *c, const char *user_id, const char *username, const json_t *devices,
                 int verified);
/* 1 when the device is in the accepted set of the user. */
int trust_knows_device(client *c, const char *user_id, const char *device_id);
/* The signing key of the device in the user's accepted set: 0, or 1 when it is not there. */
int trust_device_key(client *c, const char *user_id, const char *device_id, uint8_t sk[32]);
/* Announces a refused key (reason: "unlisted-device", "unaccepted-device", "key-mismatch",
 * "claimed-key-mismatch") on stderr, and with --json as {"event":"security",...} on stdout.
 * message_id: the refused message's id, NULL on the sending side. */
void trust_security_event(client *c, const char *reason, const char *user_id, const char *device_id,
                          const char *message_id);
/* The 60-digit safety number of us and the user: version 2 (the account keys) when both have
 * a signed device list, else version 1 from both device sets (with the QR payload; for
 * version 2 qr is all zero: no QR yet). Returns the version, or -1. */
int trust_safety_number(client *c, const char *user_id, const json_t *my_devices,
                        const json_t *their_devices, char out[SOTTO_SAFETY_DIGITS + 1],
                        uint8_t qr[SOTTO_SAFETY_QRBYTES]);

#endif
