/* cmd_email.c: `verify-email resend`: a new verification link to the account's address (its
 * state is in `whoami`). */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "util.h"

static const char *detail_reason(const http_resp *r)
{
    const json_t *d = json_object_get(json_object_get(r->body, "error"), "details");
    const char *s = json_string_value(json_object_get(d, "reason"));

    return s ? s : "";
}

static int resend(client *c, const cli_opts *o)
{
    json_t *empty = json_object();
    http_resp r = {0};
    int rc;

    if ((rc = client_api(c, "POST", "/api/auth/verify-email/resend", empty, &r)) != 0)
        goto done;
    if (r.status == 409 && !strcmp(detail_reason(&r), "already_verified")) {
        fprintf(stderr, "sotto: your address is already verified; no mail was sent\n");
        rc = EXIT_REFUSED;
    } else if (r.status == 429) {
        fprintf(stderr, "sotto: a link was sent a short while ago; try again later\n");
        rc = EXIT_REFUSED;
    } else if (r.status != 202) {
        rc = client_fail(&r, "resending the verification mail");
    } else if (o->json) {
        rc = print_json(json_pack("{s:b}", "sent", 1));
    } else {
        printf("A new verification link is on its way to your address.\n");
    }
done:
    http_resp_clear(&r);
    json_decref(empty);
    return rc;
}

int cmd_verify_email(const cli_opts *o)
{
    client c;
    int rc;

    if (o->npos != 1 || strcmp(o->pos[0], "resend") != 0) {
        fprintf(stderr, "sotto: usage: verify-email resend\n");
        return EXIT_USAGE;
    }
    if ((rc = client_open(&c, o, 0)) == 0 && (rc = client_require_login(&c)) == 0)
        rc = resend(&c, o);
    client_close(&c);
    return rc;
}
