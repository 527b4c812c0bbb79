/* Counts per 16-byte key, for "how many does this client hold right now" limits: the open
 * connections of an address (conncap.c), the Argon2 jobs of an address or an account
 * (api.c). An open-addressing table with linear probing and backward-shift deletion (no
 * tombstones), hashed with a random key so that nobody can aim keys at one probe run.
 * Memory is fixed at creation. One thread at a time. */
#ifndef SOTTO_KEYCOUNT_H
#define SOTTO_KEYCOUNT_H

#include <stddef.h>
#include <stdint.h>

#define KEYCOUNT_KEY 16

struct keycount;

/* Room for at least max_keys distinct keys at once (the table is kept at most half full).
 * Aborts on out-of-memory. */
struct keycount *keycount_create(size_t max_keys);
void keycount_destroy(struct keycount *kc);

/* The count of key (0 if absent). */
unsigned keycount_get(const struct keycount *kc, const uint8_t key[KEYCOUNT_KEY]);

/* Adds one to key's count and returns the new count; 0 if the table already holds max_keys
 * distinct keys and key is not one of them (nothing added). */
unsigned keycount_add(struct keycount *kc, const uint8_t key[KEYCOUNT_KEY]);

/* Takes one from key's count (a key at 0 is forgotten); no-op for an absent key. */
void keycount_sub(struct keycount *kc, const uint8_t key[KEYCOUNT_KEY]);

/* A key from text (an address, an account), keyed-hashed: 16 bytes of BLAKE2b. */
void keycount_key(const struct keycount *kc, const char *label, const char *text,
                  uint8_t out[KEYCOUNT_KEY]);

#endif
