/* devices.c: approving and unlisting own devices in the signed list (see devices.h). */
#include "devices.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "devlist.h"
#include "term.h"
#include "util.h"

static int str_is(const json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* The newest list of our account, checked against the server's, for a change signed here. */
static int own_list(client *c, sotto_device_list *l)
{
    uint8_t *seed = NULL;
    json_t *mine = NULL;
    int rc = devlist_seed(c, &seed);

    ls_secret_free(seed);
    if (rc < 0)
        return EXIT_LOCAL;
    if (rc == 1) {
        fprintf(stderr, "sotto: this device does not hold your account key: run this on the"
                        " device that does (the account's first device)\n");
        return EXIT_USAGE;
    }
    if ((rc = client_device_keys(c, c->pr.user_id, &mine)) != 0)
        return rc;
    json_decref(mine);
    if ((rc = devlist_seen(c, c->pr.user_id, l)) != 0) {
        fprintf(stderr, "sotto: your account has no signed device list yet\n");
        return rc < 0 ? EXIT_LOCAL : EXIT_REFUSED;
    }
    return 0;
}

/* The signing key the server lists for our device id: 0, or EXIT_NOTFOUND. */
static int listed_key(client *c, const char *device_id, uint8_t sk[32])
{
    json_t *body = NULL, *d;
    size_t i;
    int rc = client_device_keys_raw(c, c->pr.user_id, &body);

    if (rc != 0)
        return rc;
    rc = EXIT_NOTFOUND;
    json_array_foreach(json_object_get(body, "devices"), i, d)
        if (str_is(json_object_get(d, "deviceId"), device_id) &&
            b64_decode_fixed(json_string_value(json_object_get(d, "signingKey")), sk, 32) == 0)
            rc = 0;
    json_decref(body);
    if (rc != 0)
        fprintf(stderr,
                "sotto: no active device %s with keys on your account (sotto devices"
                " lists them)\n",
                device_id);
    return rc;
}

/* Name and platform of our device, from the account's device list; "?" when unknown. */
static void describe(client *c, const char *device_id, char *name, size_t ncap, char *platform,
                     size_t pcap)
{
    http_resp r = {0};
    json_t *d;
    size_t i;

    str_copy(name, ncap, "?");
    str_copy(platform, pcap, "?");
    if (client_api(c, "GET", "/api/users/me/devices", NULL, &r) == 0 && r.status == 200)
        json_array_foreach(r.body, i, d)
            if (str_is(json_object_get(d, "id"), device_id)) {
                term_safe(name, ncap, json_string_value(json_object_get(d, "name")));
                term_safe(platform, pcap, json_string_value(json_object_get(d, "platform")));
            }
    http_resp_clear(&r);
}

static int confirm(const cli_opts *o)
{
    char typed[16];

    if (o->yes)
        return 0;
    if (!term_interactive() || o->password_stdin) {
        fprintf(stderr, "sotto: nothing approved: confirm with --yes (no terminal to ask on)\n");
        return EXIT_USAGE;
    }
    if (term_prompt("Approve it? [y/N] ", typed, sizeof typed, 1) != 0 ||
        (strcmp(typed, "y") != 0 && strcmp(typed, "yes") != 0)) {
        fprintf(stderr, "sotto: nothing approved\n");
        return EXIT_USAGE;
    }
    return 0;
}

/* Index of the device in the list, or l->n. */
static size_t find(const sotto_device_list *l, const uint8_t id[16])
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (!memcmp(l->devices[i].device_id, id, 16))
            break;
    return i;
}

int devices_approve(client *c, const cli_opts *o, const char *device_id)
{
    sotto_device_list l;
    uint8_t id[16], sk[32];
    char fp[DEVLIST_FP_SIZE], name[404], platform[32];
    size_t k;
    int rc;

    if (uuid_parse(device_id, id) != 0) {
        fprintf(stderr, "sotto: not a device id (sotto devices lists them)\n");
        return EXIT_USAGE;
    }
    if ((rc = own_list(c, &l)) != 0 || (rc = listed_key(c, device_id, sk)) != 0)
        return rc;
    if (sotto_device_list_has(&l, id, sk)) {
        printf("device %s is already in your account's signed device list\n", device_id);
        return 0;
    }
    describe(c, device_id, name, sizeof name, platform, sizeof platform);
    devlist_fingerprint(sk, fp);
    printf("device %s: \"%s\" (%s), key fingerprint %s\n"
           "Approve it only if that device shows the same fingerprint ('sotto whoami' on it).\n",
           device_id, name, platform, fp);
    if ((rc = confirm(o)) != 0)
        return rc;
    if ((k = find(&l, id)) == l.n) {
        if (l.n == SOTTO_DEVICE_LIST_MAX) {
            fprintf(stderr, "sotto: the list holds at most %u devices\n", SOTTO_DEVICE_LIST_MAX);
            return EXIT_REFUSED;
        }
        memcpy(l.devices[l.n++].device_id, id, 16);
    }
    memcpy(l.devices[k].signing_key, sk, 32);
    l.version++;
    if ((rc = devlist_publish(c, &l)) == 0)
        printf("approved device %s: your signed device list is now version %" PRIu64
               "; your contacts send to it from now on\n",
               device_id, l.version);
    return rc;
}

int devices_unlist(client *c, const char *device_id)
{
    sotto_device_list l;
    uint8_t id[16], *seed = NULL;
    size_t k;
    int rc = devlist_seed(c, &seed);

    ls_secret_free(seed);
    if (rc != 0 || uuid_parse(device_id, id) != 0 || devlist_seen(c, c->pr.user_id, &l) != 0 ||
        find(&l, id) == l.n)
        return rc < 0 ? EXIT_LOCAL : 0; /* no key here, or nothing listed to take out */
    if ((rc = own_list(c, &l)) != 0)
        return rc;
    if ((k = find(&l, id)) == l.n || l.n == 1)
        return 0;
    memmove(&l.devices[k], &l.devices[k + 1], (l.n - k - 1) * sizeof l.devices[0]);
    l.n--;
    l.version++;
    if ((rc = devlist_publish(c, &l)) == 0)
        printf("took device %s out of your signed device list (now version %" PRIu64 ")\n",
               device_id, l.version);
    return rc;
}

/* What whoami says of this device: its fingerprint, the list's version (0: none seen), whether
 * the list names it and whether it holds the account key. */
typedef struct self_state {
    char fp[DEVLIST_FP_SIZE];
    uint64_t version;
    int listed, held;
} self_state;

static void self_state_get(client *c, self_state *st)
{
    sotto_device_list l;
    sotto_bundle b;
    uint8_t id[16], *seed = NULL;
    json_t *mine = NULL;

    memset(st, 0, sizeof *st);
    /* The server's newest list first (checked and kept like any other): it may name us now. */
    (void)client_device_keys(c, c->pr.user_id, &mine);
    json_decref(mine);
    sotto_account_bundle(c->pr.acct, &b);
    devlist_fingerprint(b.signing_key, st->fp);
    if (devlist_seen(c, c->pr.user_id, &l) == 0) {
        st->version = l.version;
        st->listed =
            uuid_parse(c->pr.device_id, id) == 0 && sotto_device_list_has(&l, id, b.signing_key);
    }
    st->held = devlist_seed(c, &seed) == 0;
    ls_secret_free(seed);
}

void devices_whoami(client *c)
{
    self_state st;

    self_state_get(c, &st);
    printf("this device's key fingerprint: %s\n", st.fp);
    if (st.version == 0)
        printf("device list: none seen for your account yet\n");
    else if (st.listed)
        printf("device list: this device is in your account's signed list (version %" PRIu64
               ")%s\n",
               st.version, st.held ? "; it holds the account key" : "");
    else
        printf("device list: this device is NOT YET APPROVED: run 'sotto devices approve %s' on"
               " the device that holds the account key\n",
               c->pr.device_id);
}

void devices_whoami_json(client *c, json_t *me)
{
    self_state st;

    self_state_get(c, &st);
    json_object_set_new(me, "keyFingerprint", json_string(st.fp));
    json_object_set_new(me, "deviceList",
                        st.version == 0
                            ? json_null()
                            : json_pack("{s:I,s:b,s:b}", "version", (json_int_t)st.version,
                                        "listed", st.listed, "holdsAccountKey", st.held));
}
