/* trust.c: device-set pinning, safety-number change notices and the verified hold. */
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "devlist.h"
#include "term.h"
#include "util.h"

/* {deviceId: signingKey} of a keys listing. */
static json_t *device_set(const json_t *devices)
{
    json_t *set = json_object(), *d;
    size_t i;

    json_array_foreach(devices, i, d) {
        const char *id = json_string_value(json_object_get(d, "deviceId"));
        const char *sk = json_string_value(json_object_get(d, "signingKey"));
        if (id != NULL && sk != NULL)
            json_object_set_new(set, id, json_string(sk));
    }
    return set;
}

/* Prints every difference between the old and the new set; returns how many. *grown gets
 * how many of them are added or changed devices (not removals). */
static int announce(const char *name, int self, int signed_list, json_t *old, json_t *now,
                    int *grown)
{
    char who[128], sid[64];
    const char *id;
    json_t *v;
    int n = 0, removed = 0;

    term_safe(who, sizeof who, name); /* a username and device ids from the server */
    json_object_foreach(old, id, v) {
        const json_t *nv = json_object_get(now, id);
        if (nv == NULL)
            fprintf(stderr, "sotto: !!! %s: device %s was REMOVED\n", who,
                    term_safe(sid, sizeof sid, id)),
                n++, removed++;
        else if (!json_equal(v, nv))
            fprintf(stderr, "sotto: !!! %s: device %s CHANGED its keys\n", who,
                    term_safe(sid, sizeof sid, id)),
                n++;
    }
    json_object_foreach(now, id, v)
        if (json_object_get(old, id) == NULL)
            fprintf(stderr, "sotto: !!! %s: a NEW DEVICE %s was added%s\n", who,
                    term_safe(sid, sizeof sid, id),
                    self ? " to YOUR account (if it was not you, change your password and"
                           " revoke it: sotto devices revoke ID)"
                         : ""),
                n++;
    *grown = n - removed;
    if (n > 0 && signed_list)
        fprintf(stderr,
                "sotto: (%s: these devices are in the device list signed by %s account"
                " key: the safety number stays the same)\n",
                who, self ? "your" : "their");
    if (n > 0 && !self && !signed_list)
        fprintf(stderr,
                "sotto: !!! the SAFETY NUMBER with %s HAS CHANGED: compare it again with"
                " 'sotto verify %s'\n",
                who, who);
    return n;
}

static int save(client *c, ls_contact *ct, const json_t *set)
{
    char *json = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;

    if (json == NULL)
        return EXIT_LOCAL;
    free(ct->devices_json);
    ct->devices_json = json;
    rc = ls_contact_put(c->st, ct);
    return rc == 0 ? 0 : EXIT_LOCAL;
}

int trust_check(client *c, const char *user_id, const char *username, const json_t *devices)
{
    int self = strcmp(user_id, c->pr.user_id) == 0;
    json_t *now = device_set(devices), *old = NULL;
    ls_contact ct;
    int rc, found = ls_contact_get(c->st, user_id, &ct);

    if (found < 0) {
        json_decref(now);
        return EXIT_LOCAL;
    }
    if (found == 1) { /* first sight: trust on first use */
        memset(&ct, 0, sizeof ct);
        str_copy(ct.user_id, sizeof ct.user_id, user_id);
        str_copy(ct.username, sizeof ct.username, username);
        rc = save(c, &ct, now);
        goto done;
    }
    str_copy(ct.username, sizeof ct.username, username);
    old = json_loads(ct.devices_json, 0, NULL);
    if (json_equal(old, now)) {
        ct.hold = 0; /* back to the accepted set */
        rc = save(c, &ct, now);
        goto done;
    }
    if (old == NULL)
        old = json_object();
    int grown = 0;
    sotto_device_list l;
    int signed_list = devlist_seen(c, user_id, &l) == 0;
    if (!ct.hold || signed_list)
        announce(username, self, signed_list, old, now, &grown);
    else
        grown = 1; /* still held: the set differs from the accepted one */
    /* A set the account key signed is the user's own doing: no hold (its key change is what
     * devlist.c announces and holds). */
    if (signed_list) {
        ct.hold = 0;
        rc = save(c, &ct, now);
        goto done;
    }
    /* Held: a verified contact whose set changed in any way, or our own account with a device
     * added or re-keyed (a removal alone is accepted: revoking is always safe). The accepted
     * set stays; only what the user accepts is talked to. */
    if ((ct.verified && !self) || (self && grown > 0)) {
        ct.hold = 1;
        char who[128];
        rc = save(c, &ct, old);
        term_safe(who, sizeof who, username);
        if (!self)
            fprintf(stderr,
                    "sotto: !!! %s is VERIFIED and their devices changed: sending to them is"
                    " held until you compare the safety number and run"
                    " 'sotto verify %s --accept'\n",
                    who, who);
        else
            fprintf(stderr, "sotto: !!! sending is HELD until you confirm the new device of YOUR"
                            " account: 'sotto devices accept' if it was you, else 'sotto devices"
                            " revoke ID' and change your password\n");
        rc = rc == 0 ? EXIT_TRUST : rc;
        goto done;
    }
    rc = save(c, &ct, now);
done:
    json_decref(old);
    json_decref(now);
    ls_contact_clear(&ct);
    return rc;
}

int trust_accept(client *c, const char *user_id, const char *username, const json_t *devices,
                 int verified)
{
    json_t *now = device_set(devices);
    ls_contact ct;
    int rc, found = ls_contact_get(c->st, user_id, &ct);

    if (found < 0) {
        json_decref(now);
        return EXIT_LOCAL;
    }
    if (found == 1) {
        memset(&ct, 0, sizeof ct);
        str_copy(ct.user_id, sizeof ct.user_id, user_id);
    }
    str_copy(ct.username, sizeof ct.username, username);
    ct.hold = 0;
    if (verified >= 0)
        ct.verified = verified;
    rc = save(c, &ct, now);
    json_decref(now);
    ls_contact_clear(&ct);
    return rc;
}

int trust_device_key(client *c, const char *user_id, const char *device_id, uint8_t sk[32])
{
    ls_contact ct;
    json_t *set;
    int rc = 1;

    if (ls_contact_get(c->st, user_id, &ct) != 0)
        return 1;
    if ((set = json_loads(ct.devices_json, 0, NULL)) != NULL &&
        b64_decode_fixed(json_string_value(json_object_get(set, device_id)), sk, 32) == 0)
        rc = 0;
    json_decref(set);
    ls_contact_clear(&ct);
    return rc;
}

int trust_knows_device(client *c, const char *user_id, const char *device_id)
{
    uint8_t sk[32];

    return trust_device_key(c, user_id, device_id, sk) == 0;
}

void trust_security_event(client *c, const char *reason, const char *user_id, const char *device_id,
                          const char *message_id)
{
    char name[128], who[128], dev[64];
    const char *what = !strcmp(reason, "unlisted-device")
                           ? "that device is NOT in their device list"
                       : !strcmp(reason, "unaccepted-device")
                           ? "that device is not one you accepted (sending is held)"
                       : !strcmp(reason, "claimed-key-mismatch")
                           ? "the server handed out keys for a device of theirs"
                             " that are NOT the listed ones; nothing was sent"
                           : "its keys are NOT the ones listed for that device";

    client_username(c, user_id, name, sizeof name);
    term_safe(who, sizeof who, name);
    term_safe(dev, sizeof dev, device_id ? device_id : "?");
    fprintf(stderr,
            "sotto: !!! SECURITY: %s %s (device %s) was REFUSED: %s. The server may be"
            " attacking this conversation; compare safety numbers ('sotto verify %s')\n",
            message_id ? "a message claiming to be from" : "encrypting for", who, dev, what, who);
    if (c->o->json) {
        json_t *j =
            json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", "security", "reason", reason, "fromId",
                      user_id, "from", name, "deviceId", device_id ? device_id : "");
        if (j != NULL && message_id != NULL)
            json_object_set_new(j, "id", json_string(message_id));
        print_json(j);
        fflush(stdout);
    }
}

/* The signing keys of a listing, n x 32 bytes (malloc()ed). */
static uint8_t *signing_keys(const json_t *devices, size_t *n)
{
    size_t cap = json_array_size(devices), i;
    uint8_t *keys = malloc(cap ? cap * 32 : 1);
    json_t *d;

    *n = 0;
    if (keys == NULL)
        return NULL;
    json_array_foreach(devices, i, d)
        if (b64_decode_fixed(json_string_value(json_object_get(d, "signingKey")), keys + *n * 32,
                             32) == 0)
            (*n)++;
    return keys;
}

int trust_safety_number(client *c, const char *user_id, const json_t *my_devices,
                        const json_t *their_devices, char out[SOTTO_SAFETY_DIGITS + 1],
                        uint8_t qr[SOTTO_SAFETY_QRBYTES])
{
    sotto_device_list mine, theirs;
    size_t na, nb;
    uint8_t *ka, *kb;
    int rc = -1;

    /* Version 2 once both have a signed list: the account keys, which stay the same when
     * either adds or removes a device. The core has no QR form of it yet: qr stays zero. */
    if (devlist_seen(c, c->pr.user_id, &mine) == 0 && devlist_seen(c, user_id, &theirs) == 0) {
        memset(qr, 0, SOTTO_SAFETY_QRBYTES);
        return sotto_safety_number_accounts(out, c->pr.user_id, mine.account_key, user_id,
                                            theirs.account_key) == 0
                   ? 2
                   : -1;
    }
    ka = signing_keys(my_devices, &na);
    kb = signing_keys(their_devices, &nb);
    if (ka != NULL && kb != NULL &&
        sotto_safety_number(out, c->pr.user_id, ka, na, user_id, kb, nb) == 0 &&
        sotto_safety_qr(qr, c->pr.user_id, ka, na, user_id, kb, nb) == 0)
        rc = 1;
    free(ka);
    free(kb);
    return rc;
}
