/* cmd_verify.c: the safety number with a contact (60 digits and a QR code), marking them
 * verified, and accepting a changed device set. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "devlist.h"
#include "term.h"
#include "trust.h"
#include "util.h"

int cmd_verify(const cli_opts *o)
{
    json_t *user = NULL, *mine = NULL, *theirs = NULL;
    char number[SOTTO_SAFETY_DIGITS + 1];
    uint8_t qr[SOTTO_SAFETY_QRBYTES];
    ls_contact ct = {0};
    const char *uid;
    client c;
    int rc, changed = 0, version;

    if ((rc = client_open(&c, o, 0)) != 0 || (rc = client_require_login(&c)) != 0 ||
        (rc = client_user_by_name(&c, o->pos[0], &user)) != 0)
        goto done;
    uid = json_string_value(json_object_get(user, "id"));
    /* Accepting a changed account key: the pinned one is let go, the served list pinned. */
    if (o->accept && ls_contact_get(c.st, uid, &ct) == 0 && ct.hold &&
        devlist_forget(&c, uid) != 0) {
        rc = EXIT_LOCAL;
        goto done;
    }
    ls_contact_clear(&ct);
    if ((rc = client_device_keys(&c, c.pr.user_id, &mine)) != 0 ||
        (rc = client_device_keys(&c, uid, &theirs)) != 0)
        goto done;
    /* Announces a change (and holds a verified contact) before the number is shown. */
    changed = trust_check(&c, uid, o->pos[0], theirs) == EXIT_TRUST;
    if ((version = trust_safety_number(&c, uid, mine, theirs, number, qr)) < 0) {
        rc = EXIT_LOCAL;
        goto done;
    }
    if (o->accept || o->mark_verified) {
        if ((rc = trust_accept(&c, uid, o->pos[0], theirs, o->mark_verified ? 1 : 0)) != 0)
            goto done;
        changed = 0;
    }
    if (ls_contact_get(c.st, uid, &ct) < 0) {
        rc = EXIT_LOCAL;
        goto done;
    }
    if (o->json) {
        rc =
            print_json(json_pack("{s:s,s:s,s:i,s:b,s:b}", "user", o->pos[0], "safetyNumber", number,
                                 "version", version, "verified", ct.verified, "held", ct.hold));
        goto done;
    }
    printf("Safety number with %s (compare it with theirs, in person or by a call):\n\n",
           o->pos[0]);
    term_print_safety_number(number);
    printf("\n");
    if (version == 1)
        term_qr(qr, sizeof qr);
    printf("(version %d: %s)\n", version,
           version == 2 ? "over both account keys; it stays the same when either adds a device"
                        : "over every device key of both; it changes with any device");
    if (o->mark_verified)
        printf("\n%s is now marked VERIFIED: if their devices change, sending stops until you"
               " accept.\n",
               o->pos[0]);
    else if (o->accept)
        printf("\naccepted the current devices of %s (not verified: use --mark-verified after"
               " comparing)\n",
               o->pos[0]);
    else
        printf("\n%s: %s%s\n", o->pos[0], ct.verified ? "verified" : "not verified",
               changed ? " - CHANGED, sending held: run 'sotto verify USER --accept'" : "");
done:
    ls_contact_clear(&ct);
    json_decref(user);
    json_decref(mine);
    json_decref(theirs);
    client_close(&c);
    return rc;
}
