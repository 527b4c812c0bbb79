/* devices.h: a user's devices and their public key bundles.
 *
 * A device is active when it is not revoked and has a bundle. Its identity and signing keys
 * are unique across all devices (revoked ones included, so a key is never reused) and never
 * change once set; the signed pre-key may be replaced. Signatures are verified by the caller
 * before anything reaches the store; the store keeps bytes.
 */
#ifndef SOTTO_STORE_DEVICES_H
#define SOTTO_STORE_DEVICES_H

#include "store/store.h"

#define STORE_KEY_SIZE 32 /* X25519 and Ed25519 public keys */
#define STORE_SIG_SIZE 64 /* Ed25519 signatures */
#define STORE_PLATFORM_SIZE 16

struct store_bundle {
    uint8_t identity_key[STORE_KEY_SIZE];       /* X25519 */
    uint8_t signing_key[STORE_KEY_SIZE];        /* Ed25519 */
    uint8_t identity_signature[STORE_SIG_SIZE]; /* by signing_key over the identity key */
    uint32_t spk_id;
    uint8_t spk_public[STORE_KEY_SIZE];
    uint8_t spk_signature[STORE_SIG_SIZE];
};

struct store_device {
    char id[STORE_ID_SIZE];
    char user_id[STORE_ID_SIZE];
    char *name;                         /* never NULL once read */
    char platform[STORE_PLATFORM_SIZE]; /* web, ios, android, cli */
    bool has_bundle;
    struct store_bundle bundle; /* valid when has_bundle */
    int64_t revoked_at;         /* 0 when not revoked */
    char *last_ip, *user_agent; /* NULL when unknown */
    int64_t last_active_at, created_at;
    /* Unix ms; every token of this device (access and refresh) issued at or before it is void
     * (logout, logout-all, password reset). 0 when never set. */
    int64_t tokens_not_before;
};

/* Free the strings of one device (not the struct) and zero it. NULL is allowed. */
void store_device_free(struct store_device *d);
/* Free an array from store_device_list with its strings. */
void store_devices_free(struct store_device *devices, size_t n);

/* True when not revoked and with a bundle: the devices that receive messages. */
bool store_device_active(const struct store_device *d);

struct store_new_device {
    const char *name, *platform;       /* required; platform one of web, ios, android, cli */
    const char *ip, *user_agent;       /* may be NULL */
    const struct store_bundle *bundle; /* may be NULL: the device gets keys later */
};

/* Create a device for user_id; its id goes to id. STORE_CONFLICT_KEY when another device
 * holds the identity or signing key; STORE_NOT_FOUND for an unknown user; STORE_INVALID
 * for an unknown platform. */
enum store_err store_device_create(struct store *s, const char *user_id,
                                   const struct store_new_device *d, int64_t now,
                                   char id[STORE_ID_SIZE]);

/* Fill *out (free with store_device_free) or STORE_NOT_FOUND. Revoked devices are found
 * too: check revoked_at. */
enum store_err store_device_get(struct store *s, const char *device_id, struct store_device *out);

enum store_device_filter {
    STORE_DEVICES_ALL = 0,         /* revoked ones too */
    STORE_DEVICES_NOT_REVOKED = 1, /* what the owner sees in GET /me/devices */
    STORE_DEVICES_ACTIVE = 2,      /* not revoked and with a bundle: the key directory */
};

/* A user's devices, oldest first. *out: array of *n (store_devices_free; NULL when 0). */
enum store_err store_device_list(struct store *s, const char *user_id,
                                 enum store_device_filter filter, struct store_device **out,
                                 size_t *n);

/* Rename user_id's device (not revoked). STORE_NOT_FOUND when it is not theirs or revoked. */
enum store_err store_device_rename(struct store *s, const char *user_id, const char *device_id,
                                   const char *name);

/* Revoke user_id's device: its refresh tokens end, its one-time pre-keys and its queue are
 * dropped, in one transaction. STORE_NOT_FOUND when it is not theirs or already revoked. */
enum store_err store_device_revoke(struct store *s, const char *user_id, const char *device_id,
                                   int64_t now);

/* Logout of one device: its refresh tokens are revoked and its tokens_not_before rises to
 * now (or to the creation time of its newest refresh token when that is later, see
 * devices.c), in one transaction (nested in the caller's, if any). Never lowers it.
 * STORE_NOT_FOUND for an unknown device. */
enum store_err store_device_end_tokens(struct store *s, const char *device_id, int64_t now);

/* The same for every device of user_id (logout-all, password reset). STORE_OK also when the
 * user has no device. */
enum store_err store_user_end_tokens(struct store *s, const char *user_id, int64_t now);

/* Record activity (last IP, user agent, time). ip and user_agent may be NULL (kept). */
enum store_err store_device_touch(struct store *s, const char *device_id, const char *ip,
                                  const char *user_agent, int64_t now);

/* Give user_id's (not revoked) device its bundle. The same identity and signing keys again
 * update the signed pre-key only. STORE_IDENTITY_IMMUTABLE when the device already has
 * other keys; STORE_CONFLICT_KEY when another device holds them; STORE_NOT_FOUND when the
 * device is not theirs or revoked. */
enum store_err store_device_set_bundle(struct store *s, const char *user_id, const char *device_id,
                                       const struct store_bundle *b, int64_t now);

/* Replace the signed pre-key of user_id's active device (STORE_NOT_FOUND otherwise). */
enum store_err store_device_set_signed_prekey(struct store *s, const char *user_id,
                                              const char *device_id, uint32_t spk_id,
                                              const uint8_t spk_public[STORE_KEY_SIZE],
                                              const uint8_t spk_signature[STORE_SIG_SIZE],
                                              int64_t now);

#endif
