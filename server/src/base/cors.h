/* CORS: the allow-list from CORS_ORIGINS and the decision for one request. Pure functions;
 * http.c asks for the decision and copies the header lines into the response. */
#ifndef SOTTO_CORS_H
#define SOTTO_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_LIST_MAX 32
#define CORS_ORIGIN_MAX 256

struct cors_list {
    size_t n;
    char origins[CORS_LIST_MAX][CORS_ORIGIN_MAX];
};

enum cors_decision {
    CORS_NONE,             /* no Origin, or not allowed: add nothing, browser blocks reads */
    CORS_ALLOW,            /* allowed simple/actual request: add allow-origin and credentials */
    CORS_PREFLIGHT_OK,     /* OPTIONS preflight from an allowed origin: 204 with the grants */
    CORS_PREFLIGHT_DENIED, /* OPTIONS preflight from another origin: 403 forbidden */
};

/* "https://a.example,http://localhost:5173". Each entry is scheme://host[:port] with no path.
 * NULL or "" gives an empty list (same-origin only). 0, or -1 with why. */
int cors_list_parse(const char *csv, struct cors_list *out, char *why, size_t whylen);

bool cors_origin_allowed(const struct cors_list *l, const char *origin);

/* origin: the Origin header or NULL; preflight: method is OPTIONS and
 * Access-Control-Request-Method is present. */
enum cors_decision cors_decide(const struct cors_list *l, const char *origin, bool preflight);

/* Writes the raw header lines ("name: value\r\n"...) for a decision into buf; returns the
 * length, 0 for CORS_NONE/DENIED, or -1 if buf is too small. */
int cors_headers(enum cors_decision d, const char *origin, char *buf, size_t buflen);

#endif
