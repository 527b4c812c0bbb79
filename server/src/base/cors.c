/* CORS allow-list and decisions. Only exact origins from CORS_ORIGINS get CORS grants, with
 * credentials (the web refresh cookie needs them), so "*" is refused at configuration. */
#include "base/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool cors_origin_valid(const char *o)
{
    const char *host;

    if (!strncmp(o, "https://", 8))
        host = o + 8;
    else if (!strncmp(o, "http://", 7))
        host = o + 7;
    else
        return false;
    if (!*host)
        return false;
    for (const char *p = host; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *p))
            return false;
    return true;
}

int cors_list_parse(const char *csv, struct cors_list *out, char *why, size_t whylen)
{
    const char *p = csv;

    out->n = 0;
    while (p && *p) {
        size_t n;
        char *item;

        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ", ");
        if (!n)
            break;
        if (n >= CORS_ORIGIN_MAX || out->n == CORS_LIST_MAX) {
            snprintf(why, whylen, "too long an origin or more than %d origins", CORS_LIST_MAX);
            return -1;
        }
        item = out->origins[out->n];
        memcpy(item, p, n);
        item[n] = 0;
        if (!cors_origin_valid(item)) {
            snprintf(why, whylen, "not an origin (scheme://host[:port]): '%.64s'", item);
            return -1;
        }
        out->n++;
        p += n;
    }
    return 0;
}

bool cors_origin_allowed(const struct cors_list *l, const char *origin)
{
    if (!origin)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->origins[i], origin))
            return true;
    return false;
}

enum cors_decision cors_decide(const struct cors_list *l, const char *origin, bool preflight)
{
    bool ok = cors_origin_allowed(l, origin);

    if (preflight)
        return ok ? CORS_PREFLIGHT_OK : CORS_PREFLIGHT_DENIED;
    return ok ? CORS_ALLOW : CORS_NONE;
}

int cors_headers(enum cors_decision d, const char *origin, char *buf, size_t buflen)
{
    int n;

    if (d == CORS_NONE || d == CORS_PREFLIGHT_DENIED || !origin)
        return 0;
    n = snprintf(buf, buflen,
                 "access-control-allow-origin: %s\r\n"
                 "access-control-allow-credentials: true\r\n"
                 "vary: Origin\r\n%s",
                 origin,
                 d == CORS_PREFLIGHT_OK
                     ? "access-control-allow-methods: GET, POST, PUT, PATCH, DELETE\r\n"
                       "access-control-allow-headers: Authorization, Content-Type\r\n"
                       "access-control-max-age: 600\r\n"
                     : "access-control-expose-headers: Retry-After\r\n");
    return n < 0 || (size_t)n >= buflen ? -1 : n;
}
