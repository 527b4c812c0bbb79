/* client.h: what every command shares: the options, the opened profile, the protocol
 * context, the server URL and this device's tokens, and REST calls that refresh an expired
 * access token once. */
#ifndef SOTTO_CLI_CLIENT_H
#define SOTTO_CLI_CLIENT_H

#include "args.h"
#include "localstore.h"
#include "net_http.h"
#include "protocol.h"

typedef struct client {
    const cli_opts *o;
    char profile[4096];
    ls_store *st;
    pr_ctx pr;
    int have_account;
    char *server; /* malloc()ed */
    char *access; /* malloc()ed, wiped on close; NULL when logged out */
    char *refresh;
    char *username; /* our own, NULL until known */
} client;

/* Opens the profile (create: make it if missing). Returns 0 or an EXIT_* code. */
int client_open(client *c, const cli_opts *o, int create);
void client_close(client *c);
/* EXIT_AUTH with a message unless the profile has an account and tokens. */
int client_require_login(client *c);
/* Calls the API with the access token (refreshing it once if it expired). Returns 0 when a
 * response arrived, else EXIT_NET after a message. */
int client_api(client *c, const char *method, const char *path, json_t *body, http_resp *r);
/* client_api with a raw body of content_type (non-NULL: body is ignored), e.g. a picture. */
int client_api_body(client *c, const char *method, const char *path, json_t *body,
                    const char *content_type, const void *data, size_t len, http_resp *r);
/* Exchanges the refresh token for new tokens (saved). 0 or -1. */
int client_refresh(client *c);
/* Whether the server refused because this device is revoked (403, reason device_revoked). */
int client_revoked(const http_resp *r);
/* Prints the server's error for `what` and returns the matching EXIT_* code (EXIT_AUTH for a
 * revoked device). */
int client_fail(const http_resp *r, const char *what);
/* The same for a request that checks our own session: 403 there means this device was
 * revoked, an authentication problem (EXIT_AUTH), not a refused action. */
int client_fail_session(const http_resp *r, const char *what);
/* Saves {accessToken, refreshToken} from a tokens object (sealed). */
int client_save_tokens(client *c, const json_t *tokens);
/* Deletes the saved tokens. */
int client_forget_tokens(client *c);

/* GET /api/users/by-username/:name; *user is owned by the caller. EXIT_* on failure. */
int client_user_by_name(client *c, const char *username, json_t **user);
/* GET /api/keys/users/:id -> the "devices" array (owned by the caller): once the user has a
 * signed device list, only the devices it names (devlist_check; EXIT_TRUST when the list is
 * refused). */
int client_device_keys(client *c, const char *user_id, json_t **devices);
/* The same response unchecked ({devices, deviceList}, owned by the caller). */
int client_device_keys_raw(client *c, const char *user_id, json_t **body);
/* The username for a user id: contacts first, then the API; "?" when unknown. */
void client_username(client *c, const char *user_id, char *out, size_t cap);

#endif
