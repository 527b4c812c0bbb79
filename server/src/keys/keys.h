/* The keys domain (api.md, Keys): the public bundles of devices, the one-time pre-keys and
 * their claims, and signed pre-key rotation; every /api/keys route. Its state is the claim
 * rate limit (RATE_LIMIT_KEY_CLAIM, per caller and target). */
#ifndef SOTTO_KEYS_H
#define SOTTO_KEYS_H

#include <jansson.h>

struct config;
struct server;
struct job;
struct bundle;
struct store_bundle;
struct store_prekey;

struct keys;

/* NULL when the rate-limit table cannot be made. Before the loop runs. */
struct keys *keys_create(const struct config *cfg);
void keys_destroy(struct keys *k);

/* Registers every /api/keys route (k NULL for `sottod --routes`). */
int keys_routes(struct server *srv, struct keys *k);

/* PUT /api/keys/device-list (device_list.c). */
int keys_device_list_routes(struct server *srv);
/* user_id's signed device list as base64 (a JSON null when none); NULL with *rc on a store
 * error. Worker thread. */
struct store;
enum store_err;
json_t *keys_device_list_json(struct store *st, const char *user_id, enum store_err *rc);

/* Parses and verifies v (body[field], or the body itself when field is NULL) as a bundle;
 * on failure sets the job's 400 (validation_failed or invalid_signature). *b is heap. Worker
 * or loop thread. Register uses it too. */
struct bundle *keys_bundle_parse(struct job *j, const json_t *v, const char *field);
/* The store's form of a parsed bundle (prekeys: room for its one-time keys, or NULL). */
void keys_bundle_to_store(const struct bundle *b, struct store_bundle *out,
                          struct store_prekey *prekeys);

#endif
