/* Route table and matcher. Patterns are compared segment by segment; a ":name" segment takes
 * any non-empty segment. A linear scan is plenty for the few dozen routes of the API and keeps
 * the order explicit. */
#include "net/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct router {
    size_t n;
    struct route routes[ROUTES_MAX];
};

struct router *router_create(void)
{
    struct router *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    return r;
}

void router_destroy(struct router *r) { free(r); }

static int pattern_params(const char *p)
{
    int n = 0;

    for (; *p; p++)
        if (*p == ':' && p[-1] == '/')
            n++;
    return n;
}

int router_add(struct router *r, const struct route *route)
{
    if (r->n == ROUTES_MAX || !route->pattern || route->pattern[0] != '/' || !route->handler ||
        pattern_params(route->pattern) > ROUTE_PARAMS_MAX)
        return -1;
    r->routes[r->n] = *route;
    return (int)r->n++;
}

/* Matches one pattern against path; fills params (values copied into scratch). */
static bool route_matches(const char *pat, const char *path, char *scratch, size_t scratchlen,
                          struct route_params *params)
{
    size_t used = 0;

    params->n = 0;
    while (*pat && *path) {
        size_t pl, sl;

        if (*pat != '/' || *path != '/')
            return false;
        pat++, path++;
        pl = strcspn(pat, "/");
        sl = strcspn(path, "/");
        if (*pat == ':') {
            if (!sl || used + sl + 1 > scratchlen)
                return false;
            memcpy(scratch + used, path, sl);
            scratch[used + sl] = 0;
            params->names[params->n] = pat + 1;
            params->name_lens[params->n] = pl - 1;
            params->values[params->n++] = scratch + used;
            used += sl + 1;
        } else if (pl != sl || memcmp(pat, path, pl)) {
            return false;
        }
        pat += pl, path += sl;
    }
    return !*pat && !*path;
}

enum router_result router_match(const struct router *r, unsigned method, const char *path,
                                char *scratch, size_t scratchlen, struct route_params *params,
                                const struct route **out, unsigned *allow)
{
    unsigned want = method == HTTP_HEAD ? (HTTP_HEAD | HTTP_GET) : method;

    *allow = 0;
    *out = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];

        if (!route_matches(rt->pattern, path, scratch, scratchlen, params))
            continue;
        if (rt->methods & want) {
            *out = rt;
            return ROUTER_FOUND;
        }
        *allow |= rt->methods | (rt->methods & HTTP_GET ? HTTP_HEAD : 0);
    }
    params->n = 0;
    return *allow ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

size_t router_count(const struct router *r) { return r->n; }

const struct route *router_get(const struct router *r, size_t index)
{
    return index < r->n ? &r->routes[index] : NULL;
}

size_t router_index(const struct router *r, const struct route *route)
{
    return (size_t)(route - r->routes);
}

const char *route_param(const struct route_params *params, const char *name)
{
    size_t n = strlen(name);

    for (int i = 0; i < params->n; i++)
        if (params->name_lens[i] == n && !memcmp(params->names[i], name, n))
            return params->values[i];
    return NULL;
}

const char *router_allow_string(unsigned methods, char *buf, size_t buflen)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    size_t o = 0;

    buf[0] = 0;
    for (int i = 0; i < 7; i++) {
        if (!(methods & (1u << i)))
            continue;
        int n = snprintf(buf + o, buflen - o, "%s%s", o ? ", " : "", names[i]);

        if (n < 0 || (size_t)n >= buflen - o)
            break;
        o += (size_t)n;
    }
    return buf;
}
