/* The one mapping from a condition to the wire: every REST route and WebSocket request
 * answers a store result with the status, code and message given here, and every error body
 * has one shape (http.h's http_error_body). A 500 is `internal_error` everywhere. */
#ifndef SOTTO_ERRORS_H
#define SOTTO_ERRORS_H

#include <jansson.h>

#include "store/store.h"

struct http_req;

struct api_error {
    int status;
    const char *code, *message; /* static strings */
};

/* The answer for a store result other than STORE_OK. */
struct api_error api_store_error(enum store_err rc);

/* Answers req with e (takes details); a 503 gets Retry-After: 1. Loop thread. */
void api_respond_error(struct http_req *req, struct api_error e, json_t *details);
/* Answers 400 validation_failed with {field, reason} at once (loop thread). */
void api_invalid(struct http_req *req, const char *field, const char *reason);
/* {field, reason}, the details of validation_failed. */
json_t *api_details(const char *field, const char *reason);
/* 403 device_revoked straight from the loop (the auth hook, before any job exists). */
void api_respond_device_revoked(struct http_req *req);
/* The same error's details and message, for job_device_revoked. */
json_t *api_revoked_details(void);
extern const char api_revoked_message[];

#define API_INTERNAL_ERROR "internal_error"
#define API_VALIDATION_MESSAGE "A field is missing or not valid."

#endif
