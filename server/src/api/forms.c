/* The JSON forms every domain shares (forms.h). */
#include "api/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/conversations.h"
#include "store/devices.h"
#include "store/users.h"

static json_t *forms_checked(json_t *o)
{
    if (!o)
        abort(); /* jansson out of memory */
    return o;
}

void api_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[96]; /* roomy: the compiler cannot bound the year */

    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", buf);
}

json_t *api_time_json(int64_t ms)
{
    char buf[32];

    if (ms <= 0)
        return json_null();
    api_time(ms, buf);
    return forms_checked(json_string(buf));
}

static json_t *forms_str(const char *s) { return s ? json_string(s) : json_null(); }

json_t *api_user_json(const struct store_public_user *u)
{
    return forms_checked(
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "id", u->id, "username", forms_str(u->username),
                  "displayName", forms_str(u->display_name), "avatarUrl", forms_str(u->avatar_url),
                  "bio", forms_str(u->bio), "createdAt", api_time_json(u->created_at)));
}

json_t *api_user_row_json(const struct store_user *u, bool me)
{
    struct store_public_user pub = {.username = u->username,
                                    .display_name = u->display_name,
                                    .avatar_url = u->avatar_url,
                                    .bio = u->bio,
                                    .created_at = u->created_at};
    json_t *o;

    memcpy(pub.id, u->id, sizeof(pub.id));
    o = api_user_json(&pub);
    if (me &&
        json_object_update_new(o, json_pack("{s:s, s:b, s:b}", "email", u->email, "emailVerified",
                                            u->email_verified, "mfaEnabled", u->mfa_enabled)))
        abort();
    return o;
}

/* A device's times are always set; an unset one would still be a time here, as the contract
 * types them. */
static json_t *forms_time_string(int64_t ms)
{
    char buf[32];

    api_time(ms, buf);
    return forms_checked(json_string(buf));
}

json_t *api_device_json(const struct store_device *d, const char *current_device_id)
{
    return forms_checked(
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "id", d->id, "name", d->name, "platform",
                  d->platform, "createdAt", forms_time_string(d->created_at), "lastActiveAt",
                  forms_time_string(d->last_active_at), "active", store_device_active(d), "current",
                  current_device_id && !strcmp(d->id, current_device_id)));
}
