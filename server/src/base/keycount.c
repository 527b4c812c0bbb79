/* See keycount.h. */
#include "base/keycount.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct kc_entry {
    uint8_t key[KEYCOUNT_KEY];
    unsigned count; /* 0: empty slot */
};

struct keycount {
    size_t mask, max_keys, keys;
    struct kc_entry *table;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    uint8_t tkey[crypto_generichash_KEYBYTES];
};

struct keycount *keycount_create(size_t max_keys)
{
    struct keycount *kc = calloc(1, sizeof(*kc));
    size_t size = 16;

    if (!kc)
        abort();
    while (size < 2 * max_keys)
        size <<= 1;
    kc->mask = size - 1;
    kc->max_keys = max_keys;
    kc->table = calloc(size, sizeof(*kc->table));
    if (!kc->table)
        abort();
    randombytes_buf(kc->hkey, sizeof(kc->hkey));
    randombytes_buf(kc->tkey, sizeof(kc->tkey));
    return kc;
}

void keycount_destroy(struct keycount *kc)
{
    if (!kc)
        return;
    free(kc->table);
    free(kc);
}

void keycount_key(const struct keycount *kc, const char *label, const char *text,
                  uint8_t out[KEYCOUNT_KEY])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, kc->tkey, sizeof(kc->tkey), KEYCOUNT_KEY);
    crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
    crypto_generichash_update(&st, (const unsigned char *)text, strlen(text));
    crypto_generichash_final(&st, out, KEYCOUNT_KEY);
}

static size_t kc_home(const struct keycount *kc, const uint8_t key[KEYCOUNT_KEY])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key, KEYCOUNT_KEY, kc->hkey);
    memcpy(&v, h, sizeof(v));
    return (size_t)v & kc->mask;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t kc_find(const struct keycount *kc, const uint8_t key[KEYCOUNT_KEY])
{
    size_t i = kc_home(kc, key);

    while (kc->table[i].count && memcmp(kc->table[i].key, key, KEYCOUNT_KEY))
        i = (i + 1) & kc->mask;
    return i;
}

unsigned keycount_get(const struct keycount *kc, const uint8_t key[KEYCOUNT_KEY])
{
    return kc->table[kc_find(kc, key)].count;
}

unsigned keycount_add(struct keycount *kc, const uint8_t key[KEYCOUNT_KEY])
{
    size_t i = kc_find(kc, key);

    if (!kc->table[i].count) {
        if (kc->keys >= kc->max_keys)
            return 0;
        memcpy(kc->table[i].key, key, KEYCOUNT_KEY);
        kc->keys++;
    }
    return ++kc->table[i].count;
}

/* Empties slot i and moves later entries of its run back, so lookups never stop early. */
static void kc_remove_slot(struct keycount *kc, size_t i)
{
    size_t j = i;

    kc->table[i].count = 0;
    kc->keys--;
    for (;;) {
        size_t home;
        bool movable;

        j = (j + 1) & kc->mask;
        if (!kc->table[j].count)
            return;
        home = kc_home(kc, kc->table[j].key);
        /* Entry j may move to i unless its home lies in the cyclic range (i, j]. */
        movable = j > i ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            kc->table[i] = kc->table[j];
            kc->table[j].count = 0;
            i = j;
        }
    }
}

void keycount_sub(struct keycount *kc, const uint8_t key[KEYCOUNT_KEY])
{
    size_t i = kc_find(kc, key);

    if (kc->table[i].count && --kc->table[i].count == 0)
        kc_remove_slot(kc, i);
}
