/* The one mapping from a condition to the wire (errors.h). */
#include "api/errors.h"

#include <stdlib.h>

#include "net/http.h"

const char api_revoked_message[] = "This device has been revoked.";

struct api_error api_store_error(enum store_err rc)
{
    switch (rc) {
    case STORE_NOT_FOUND: return (struct api_error){404, "not_found", "Not found."};
    case STORE_FORBIDDEN: return (struct api_error){403, "forbidden", "Not allowed."};
    case STORE_MISMATCH:
        return (struct api_error){409, "device_list_mismatch",
                                  "The envelopes must name exactly the active target devices."};
    case STORE_CONFLICT:
    case STORE_CONFLICT_EMAIL:
    case STORE_CONFLICT_USERNAME:
    case STORE_CONFLICT_KEY:
        return (struct api_error){409, "conflict", "Conflicts with an existing entry."};
    case STORE_IDENTITY_IMMUTABLE:
        return (struct api_error){409, "identity_immutable", "Keys cannot change."};
    case STORE_INVALID:
    case STORE_LIMIT: return (struct api_error){400, "validation_failed", "Invalid request."};
    case STORE_BUSY:
        return (struct api_error){503, "unavailable", "The server is busy; try again."};
    case STORE_QUOTA:
        return (struct api_error){413, "quota_exceeded",
                                  "Too much of your ciphertext awaits delivery; send again once "
                                  "recipients have caught up."};
    default: return (struct api_error){500, API_INTERNAL_ERROR, "Something went wrong."};
    }
}

void api_respond_error(struct http_req *req, struct api_error e, json_t *details)
{
    if (e.status == 503)
        http_add_header(req, "retry-after", "1");
    http_respond_error(req, e.status, e.code, e.message, details);
}

json_t *api_details(const char *field, const char *reason)
{
    json_t *d = json_pack("{s:s, s:s}", "field", field, "reason", reason);

    if (!d)
        abort(); /* jansson out of memory */
    return d;
}

void api_invalid(struct http_req *req, const char *field, const char *reason)
{
    http_respond_error(req, 400, "validation_failed", API_VALIDATION_MESSAGE,
                       api_details(field, reason));
}

json_t *api_revoked_details(void) { return json_pack("{s:s}", "reason", "device_revoked"); }

void api_respond_device_revoked(struct http_req *req)
{
    http_respond_error(req, 403, "forbidden", api_revoked_message, api_revoked_details());
}
