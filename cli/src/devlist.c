/* devlist.c: the account key, signing our list, and checking everyone's (see devlist.h). */
#include "devlist.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "term.h"
#include "trust.h"
#include "util.h"

#define SEED_SLOT "account_seed"

static void seen_slot(const char *user_id, char out[64])
{
    snprintf(out, 64, "devlist:%s", user_id);
}

int devlist_seed(client *c, uint8_t **seed)
{
    size_t len = 0;
    int rc = ls_kv_get(c->st, SEED_SLOT, seed, &len);

    if (rc == 0 && len != SOTTO_ACCOUNT_SEEDBYTES) {
        ls_secret_free(*seed);
        *seed = NULL;
        return -1;
    }
    return rc;
}

int devlist_seen(client *c, const char *user_id, sotto_device_list *l)
{
    char slot[64];
    uint8_t *v = NULL;
    size_t len = 0;
    int rc;

    seen_slot(user_id, slot);
    if ((rc = ls_kv_get(c->st, slot, &v, &len)) != 0)
        return rc;
    /* Checked when it was kept; opened again only to read it (the store is sealed). */
    rc = sotto_device_list_open(l, v, len, NULL) == 0 ? 0 : -1;
    ls_secret_free(v);
    return rc;
}

int devlist_forget(client *c, const char *user_id)
{
    char slot[64];

    seen_slot(user_id, slot);
    return ls_kv_del(c->st, slot);
}

static int keep_seen(client *c, const char *user_id, const uint8_t *v, size_t len)
{
    char slot[64];

    seen_slot(user_id, slot);
    return ls_kv_put(c->st, slot, v, len) == 0 ? 0 : EXIT_LOCAL;
}

int devlist_enabled(void) { return !test_legacy_client(); }

void devlist_fingerprint(const uint8_t signing_key[32], char out[DEVLIST_FP_SIZE])
{
    /* Five groups of four digits, each from its own 40 bits of the hash (as safety numbers
     * take theirs): about 66 bits, so a server that wants its own key to pass the comparison
     * must find a second key with the same 20 digits while the person waits. */
    uint8_t h[DEVLIST_FP_GROUPS * 5];
    size_t o = 0;

    crypto_generichash(h, sizeof h, signing_key, 32, NULL, 0);
    for (int g = 0; g < DEVLIST_FP_GROUPS; g++) {
        uint64_t v = 0;

        for (int i = 0; i < 5; i++)
            v = v << 8 | h[g * 5 + i];
        o += (size_t)snprintf(out + o, DEVLIST_FP_SIZE - o, g ? " %04u" : "%04u",
                              (unsigned)(v % 10000u));
    }
}

/* ------------------------------------------------------------------ signing our list */

static int put_list(client *c, const uint8_t *v, size_t len)
{
    char *b64 = b64_encode(v, len);
    json_t *body = b64 ? json_pack("{s:s}", "deviceList", b64) : NULL;
    http_resp r = {0};
    int rc = body ? client_api(c, "PUT", "/api/keys/device-list", body, &r) : EXIT_LOCAL;

    if (rc == 0 && r.status / 100 != 2)
        rc = client_fail(&r, "publishing the device list");
    http_resp_clear(&r);
    json_decref(body);
    free(b64);
    return rc;
}

int devlist_publish(client *c, sotto_device_list *l)
{
    size_t cap = sotto_device_list_signed_size(l->n), len = 0;
    uint8_t *seed = NULL, *out = cap ? malloc(cap) : NULL;
    int rc = EXIT_LOCAL;

    l->issued_at_ms = now_ms();
    if (out == NULL || devlist_seed(c, &seed) != 0 ||
        sotto_device_list_sign(l, seed, out, cap, &len) != 0)
        goto done;
    if ((rc = put_list(c, out, len)) == 0)
        rc = keep_seen(c, c->pr.user_id, out, len);
done:
    ls_secret_free(seed);
    free(out);
    return rc;
}

/* A list of the listing's devices (version 1) under the account key of seed. */
static int list_from_listing(client *c, const json_t *devices, const uint8_t *seed,
                             sotto_device_list *l)
{
    json_t *d;
    size_t i;

    memset(l, 0, sizeof *l);
    if (uuid_parse(c->pr.user_id, l->user_id) != 0 ||
        sotto_account_key_public(seed, l->account_key) != 0)
        return -1;
    l->version = 1;
    json_array_foreach(devices, i, d) {
        sotto_listed_device *e = &l->devices[l->n];
        if (l->n == SOTTO_DEVICE_LIST_MAX ||
            uuid_parse(json_string_value(json_object_get(d, "deviceId")), e->device_id) != 0 ||
            b64_decode_fixed(json_string_value(json_object_get(d, "signingKey")), e->signing_key,
                             32) != 0)
            return -1;
        l->n++;
    }
    return l->n > 0 ? 0 : -1;
}

int devlist_create(client *c, const json_t *devices)
{
    uint8_t *seed = NULL, pk[32];
    sotto_device_list l;
    int rc = devlist_seed(c, &seed);

    /* A seed made by an earlier attempt whose PUT failed signs again: the key is saved before
     * anything leaves this device, so a list never goes out under a key nobody holds. */
    if (rc == 1) {
        if ((seed = sodium_malloc(SOTTO_ACCOUNT_SEEDBYTES)) == NULL ||
            sotto_account_key_create(seed, pk) != 0 ||
            ls_kv_put(c->st, SEED_SLOT, seed, SOTTO_ACCOUNT_SEEDBYTES) != 0)
            rc = -1;
        else
            rc = 0;
    }
    if (rc != 0 || list_from_listing(c, devices, seed, &l) != 0) {
        ls_secret_free(seed);
        return EXIT_LOCAL;
    }
    ls_secret_free(seed);
    return devlist_publish(c, &l);
}

/* ------------------------------------------------------------------ checking a served list */

static const char *who_of(client *c, const char *user_id, char *safe, size_t cap)
{
    char name[128];

    client_username(c, user_id, name, sizeof name);
    return term_safe(safe, cap, name);
}

/* A device of the listing that the list does not name (or names under another key). */
static void unlisted(client *c, const char *user_id, const char *device_id)
{
    char dev[64], fp[DEVLIST_FP_SIZE];
    sotto_bundle b;

    term_safe(dev, sizeof dev, device_id ? device_id : "?");
    if (strcmp(user_id, c->pr.user_id) != 0) {
        trust_security_event(c, "unlisted-device", user_id, device_id, NULL);
        fprintf(stderr,
                "sotto: device %s is NOT in the signed device list of its account: nothing is"
                " sent to it (the server may have added it)\n",
                dev);
    } else if (device_id != NULL && strcmp(device_id, c->pr.device_id) == 0) {
        sotto_account_bundle(c->pr.acct, &b);
        devlist_fingerprint(b.signing_key, fp);
        fprintf(stderr,
                "sotto: this device is NOT YET TRUSTED by your contacts: your account's signed"
                " device list does not name it, so they send it nothing. On a device of yours"
                " that holds the account key run 'sotto devices approve %s' and check that it"
                " shows the fingerprint %s\n",
                dev, fp);
    } else {
        fprintf(stderr,
                "sotto: !!! device %s of YOUR account is not in your signed device list: nothing"
                " is sent to it. If it is yours: 'sotto devices approve %s'; if not: 'sotto"
                " devices revoke %s' and change your password\n",
                dev, dev, dev);
    }
}

/* The listing's devices that l names with exactly their keys. */
static json_t *listed_only(client *c, const char *user_id, const json_t *listing,
                           const sotto_device_list *l)
{
    json_t *out = json_array(), *d;
    size_t i;

    json_array_foreach(listing, i, d) {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        uint8_t raw[16], sk[32];
        if (uuid_parse(id, raw) == 0 &&
            b64_decode_fixed(json_string_value(json_object_get(d, "signingKey")), sk, 32) == 0 &&
            sotto_device_list_has(l, raw, sk))
            json_array_append(out, d);
        else
            unlisted(c, user_id, id);
    }
    return out;
}

/* The list is signed by another account key than the one pinned for the user (opened
 * without the pin in *l): announced like an identity change. A verified contact is held, our
 * own account is refused; otherwise the new key is pinned (0: the caller keeps *l). */
static int key_changed(client *c, const char *user_id, const char *who)
{
    ls_contact ct;
    int verified = 0;

    if (strcmp(user_id, c->pr.user_id) == 0) {
        fprintf(stderr, "sotto: !!! SECURITY: the server serves a device list for YOUR account"
                        " signed by another account key than the one this device knows: nothing"
                        " is sent\n");
        return EXIT_TRUST;
    }
    fprintf(stderr,
            "sotto: !!! %s's ACCOUNT KEY CHANGED: the SAFETY NUMBER with %s HAS CHANGED: compare"
            " it again with 'sotto verify %s'\n",
            who, who, who);
    if (ls_contact_get(c->st, user_id, &ct) == 0) {
        verified = ct.verified;
        ct.hold = verified ? 1 : ct.hold;
        if (verified && ls_contact_put(c->st, &ct) != 0)
            verified = -1;
        ls_contact_clear(&ct);
    }
    if (verified < 0)
        return EXIT_LOCAL;
    if (verified)
        fprintf(stderr,
                "sotto: !!! %s is VERIFIED: sending to them is held until you compare the safety"
                " number and run 'sotto verify %s --accept'\n",
                who, who);
    return verified ? EXIT_TRUST : 0;
}

/* Opens the served list (base64) into *l and decides whether it may replace *seen (have:
 * whether one was seen). 0 (keep *l), or EXIT_* after saying why. */
static int served_ok(client *c, const char *user_id, const char *b64, int have,
                     const sotto_device_list *seen, sotto_device_list *l, uint8_t **raw,
                     size_t *len)
{
    char who[128];
    uint8_t uid[16];
    int rc;

    who_of(c, user_id, who, sizeof who);
    if (b64_decode(b64, raw, len) != 0)
        goto invalid;
    rc = sotto_device_list_open(l, *raw, *len, have ? seen->account_key : NULL);
    if (rc == SOTTO_E_UNTRUSTED) {
        if (sotto_device_list_open(l, *raw, *len, NULL) != 0)
            goto invalid;
        if ((rc = key_changed(c, user_id, who)) != 0)
            return rc;
    } else if (rc != 0) {
        goto invalid;
    }
    if (uuid_parse(user_id, uid) != 0 || sodium_memcmp(uid, l->user_id, 16) != 0)
        goto invalid;
    if (have && sodium_memcmp(seen->account_key, l->account_key, 32) == 0 &&
        sotto_device_list_update_ok(seen, l) != 0) {
        fprintf(stderr,
                "sotto: !!! SECURITY: the server served an older device list for %s (version"
                " %" PRIu64 ", or another list of it; this device has seen version %" PRIu64
                "): a rollback. Nothing is sent\n",
                who, l->version, seen->version);
        return EXIT_TRUST;
    }
    return 0;
invalid:
    fprintf(stderr,
            "sotto: !!! SECURITY: the server served a device list for %s that does not open"
            " (bad signature or not theirs): nothing is sent\n",
            who);
    return EXIT_TRUST;
}

/* Our own account has no list anywhere: the first device to know account keys signs one. A
 * failure (the network, or another device that published first) leaves the account as it
 * was: this look goes on as for a legacy account, and the next one tries again. */
static void migrate(client *c, const json_t *listing)
{
    if (devlist_create(c, listing) == 0)
        fprintf(stderr,
                "sotto: made your account key and signed the list of your %zu active"
                " devices (your contacts' safety numbers with you change once)\n",
                json_array_size(listing));
    else
        fprintf(stderr, "sotto: your account's first signed device list was not published;"
                        " this device tries again next time\n");
}

int devlist_check(client *c, const char *user_id, const json_t *body, json_t **devices)
{
    const json_t *listing = json_object_get(body, "devices");
    const char *served = json_string_value(json_object_get(body, "deviceList"));
    sotto_device_list seen, l;
    uint8_t *raw = NULL;
    size_t len = 0;
    char who[128];
    int got = devlist_seen(c, user_id, &seen), known = got == 0, rc;

    *devices = NULL;
    if (got < 0)
        return EXIT_LOCAL;
    if (served == NULL && known) {
        fprintf(stderr,
                "sotto: !!! SECURITY: the server no longer serves the signed device list of %s,"
                " which this device has seen: an attack, not an old account. Nothing is sent\n",
                who_of(c, user_id, who, sizeof who));
        return EXIT_TRUST;
    }
    if (served == NULL) { /* a legacy account: the listing as it is */
        if (strcmp(user_id, c->pr.user_id) == 0 && devlist_enabled())
            migrate(c, listing);
        *devices = json_deep_copy(listing);
        return *devices ? 0 : EXIT_LOCAL;
    }
    if ((rc = served_ok(c, user_id, served, known, &seen, &l, &raw, &len)) == 0 &&
        (!known || l.version > seen.version ||
         sodium_memcmp(l.account_key, seen.account_key, 32) != 0))
        rc = keep_seen(c, user_id, raw, len);
    free(raw);
    if (rc != 0)
        return rc;
    *devices = listed_only(c, user_id, listing, &l);
    return 0;
}
