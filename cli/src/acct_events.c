/* acct_events.c: sign-in alerts and deleted contacts (see acct_events.h). */
#include "acct_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "term.h"
#include "util.h"

#define KNOWN_KEY "acct.devices"

static json_t *known_load(client *c)
{
    char *txt = NULL;
    json_t *set = NULL;

    if (ls_kv_get_str(c->st, KNOWN_KEY, &txt) == 0)
        set = json_loads(txt, 0, NULL);
    free(txt);
    return json_is_object(set) ? set : (json_decref(set), NULL);
}

static int known_save(client *c, json_t *set)
{
    char *txt = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = txt != NULL ? ls_kv_put_str(c->st, KNOWN_KEY, txt) : -1;

    free(txt);
    return rc;
}

static const char *str_of(const json_t *d, const char *k)
{
    return json_string_value(json_object_get(d, k));
}

static void sign_in_print(client *c, const json_t *d)
{
    const char *id = str_of(d, "deviceId"), *addr = str_of(d, "address");
    char s1[404], s2[32], s3[64], s4[64], s5[64];

    if (c->o->json) {
        print_json(json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "event", "device:added",
                             "deviceId", id, "name", str_of(d, "name"), "platform",
                             str_of(d, "platform"), "createdAt", str_of(d, "createdAt"), "address",
                             addr));
        return;
    }
    printf("New sign-in on your account: %s (%s)", term_safe(s1, sizeof s1, str_of(d, "name")),
           term_safe(s2, sizeof s2, str_of(d, "platform")));
    if (addr != NULL && *addr)
        printf(" from %s", term_safe(s3, sizeof s3, addr));
    printf(" at %s. Not you? Run: sotto devices revoke %s, then sotto password change\n",
           term_safe(s4, sizeof s4, str_of(d, "createdAt")), term_safe(s5, sizeof s5, id));
    fflush(stdout);
}

void acct_sign_in(client *c, const json_t *d)
{
    const char *id = str_of(d, "deviceId");
    json_t *set = known_load(c);

    if (id == NULL)
        goto done;
    if (set == NULL)
        set = json_object();
    if (json_object_get(set, id) == NULL) {
        sign_in_print(c, d);
        json_object_set_new(set, id, json_true());
        if (known_save(c, set) != 0)
            fprintf(stderr, "sotto: could not remember the new device\n");
    }
done:
    json_decref(set);
}

void acct_user_deleted(client *c, const json_t *d)
{
    const char *id = str_of(d, "userId");
    char who[128], safe[128];

    if (id == NULL)
        return;
    client_username(c, id, who, sizeof who);
    if (!strcmp(who, "?"))
        str_copy(who, sizeof who, id);
    if (c->o->json)
        print_json(
            json_pack("{s:s, s:s, s:s}", "event", "user:deleted", "userId", id, "user", who));
    else
        printf("%s deleted their account\n", term_safe(safe, sizeof safe, who));
    fflush(stdout);
}

/* The list as the device:added form (no address: only the live event saw it). */
static void catch_up_one(client *c, json_t *set, const json_t *dev)
{
    const char *id = str_of(dev, "id");
    json_t *d;

    if (id == NULL || json_object_get(set, id) != NULL)
        return;
    json_object_set_new(set, id, json_true());
    if (json_is_true(json_object_get(dev, "current")))
        return;
    d = json_pack("{s:s, s:s?, s:s?, s:s?}", "deviceId", id, "name", str_of(dev, "name"),
                  "platform", str_of(dev, "platform"), "createdAt", str_of(dev, "createdAt"));
    if (d != NULL)
        sign_in_print(c, d);
    json_decref(d);
}

int acct_devices_catch_up(client *c)
{
    http_resp r = {0};
    json_t *set, *dev;
    size_t i;
    int rc, first;

    if ((rc = client_api(c, "GET", "/api/users/me/devices", NULL, &r)) != 0)
        return rc;
    if (r.status != 200 || !json_is_array(r.body)) {
        http_resp_clear(&r);
        return EXIT_NET;
    }
    set = known_load(c);
    first = set == NULL;
    if (first)
        set = json_object();
    json_array_foreach(r.body, i, dev) {
        if (first)
            json_object_set_new(set, str_of(dev, "id") ? str_of(dev, "id") : "", json_true());
        else
            catch_up_one(c, set, dev);
    }
    json_object_del(set, "");
    rc = known_save(c, set) == 0 ? 0 : EXIT_LOCAL;
    json_decref(set);
    http_resp_clear(&r);
    return rc;
}
