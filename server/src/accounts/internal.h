/* What the accounts handlers (register, login, refresh, email, mfa, users) share among
 * themselves: issuing sessions, the device of a sign-in, the Argon2 gate, MFA codes,
 * e-mailed tokens, and the after-step that closes the sockets of ended devices. Not for
 * other rooms: they use accounts.h. */
#ifndef SOTTO_ACCOUNTS_INTERNAL_H
#define SOTTO_ACCOUNTS_INTERNAL_H

#include <jansson.h>

#include "accounts/accounts.h"
#include "api/api.h"
#include "api/fields.h"
#include "mail/templates.h"
#include "store/devices.h"
#include "store/users.h"

/* The account's own fields, one row each: the routes that take them check with these rows
 * and GET /api/auth/rules (rules.c) publishes them, so a client shows the rules the server
 * applies. The password's are the policy's (auth/password.h). A display name of 0 characters
 * clears it on PATCH /api/users/me, so that row takes its minimum. */
/* clang-format off */
#define ACCOUNT_EMAIL_ROW {"email", FIELD_EMAIL, FIELD_REQUIRED, .min = 3, .max = 254}
#define ACCOUNT_USERNAME_ROW {"username", FIELD_USERNAME, FIELD_REQUIRED, .min = 3, .max = 32}
#define ACCOUNT_DISPLAY_NAME_ROW(min_) {"displayName", FIELD_STRING, 0, .min = (min_), .max = 100}
#define ACCOUNT_BIO_ROW {"bio", FIELD_STRING, 0, .max = 500}
#define ACCOUNT_DEVICE_NAME_ROW {"name", FIELD_STRING, FIELD_REQUIRED, .min = 1, .max = 100}
#define ACCOUNT_LANGUAGE_ROW {"language", FIELD_ENUM, 0, .one_of = mail_languages}
/* clang-format on */

/* Per-file route tables. */
int register_routes(struct server *srv, struct auth_state *a);
int login_routes(struct server *srv, struct auth_state *a);
int session_routes(struct server *srv, struct auth_state *a);
int email_routes(struct server *srv, struct auth_state *a);
int mfa_routes(struct server *srv, struct auth_state *a);
int users_routes(struct server *srv, struct auth_state *a);
int rules_routes(struct server *srv, struct auth_state *a);
int change_password_routes(struct server *srv, struct auth_state *a);
int delete_account_routes(struct server *srv, struct auth_state *a);
int avatar_routes(struct server *srv, struct auth_state *a);

/* Runs work that hashes a password through the Argon2 gate (api/gate.h). */
void job_submit_heavy(struct job *j, job_work_fn work);
/* The account a heavy job's password is for (login, register): besides the client address,
 * its share of Argon2 is also bounded per account. Call before job_submit_heavy. */
void job_heavy_account(struct job *j, const char *account);
/* Argon2 verify on the worker (bounded by the gate); 0 on a match. hash NULL = unknown
 * account (a dummy hash of equal cost is checked). */
int accounts_password_verify(struct job *j, const char *hash, const char *pw);

/* The proof that the signed-in caller u is the owner, for what an access token alone may not
 * do (change the password, delete the account): the password (password_field names it in a
 * refusal), then with two-factor on an MFA code (`mfaCode`). A refusal is 401 with
 * details.field and, but for a missing code, an audit entry for action. 0, or -1 with the
 * job's error. */
int accounts_prove_owner(struct store *s, struct job *j, const struct store_user *u,
                         const char *password, const char *password_field, const char *mfa_code,
                         const char *action);

/* Issues a session for (user, device) with a fresh refresh-token family: access token,
 * refresh token (in the body, or for web devices only in the cookie). Returns the tokens
 * object, or NULL after setting the job's error. */
json_t *session_issue(struct store *s, struct job *j, const char *user_id,
                      const struct store_device *d);
/* The tokens object for an access token and a refresh token (already stored). */
json_t *session_tokens(struct job *j, const char *user_id, const char *device_id,
                       const char *refresh, bool web);

/* Checks an MFA code (6 digits: TOTP, each step once; else a backup code, once) for user_id.
 * 0 accepted, 1 wrong, -1 store failure (job error set). */
int mfa_check_code(struct store *s, struct job *j, const char *user_id, const char *code);

/* Sends the e-mail for a verify (STORE_EMAIL_VERIFY) or reset token to the user; the token
 * row is inserted first. Errors are logged; the caller's answer does not depend on it. */
void email_send_token(struct store *s, struct job *j, const struct store_user *u, int kind);

/* A mail that carries no token, in the user's language: it tells the owner something
 * happened to the account (MAIL_T_PASSWORD_CHANGED). Errors are logged, as for
 * email_send_token. */
void email_send_notice(struct job *j, const struct store_user *u, enum mail_template kind);

/* The caller's own form of u (GET /api/users/me): the public form, email, emailVerified,
 * mfaEnabled, language. */
json_t *accounts_me_json(const struct store_user *u);

/* Work side: these devices' tokens were ended (logout, logout-all, password reset), so
 * after a success answer their WebSockets close with 4401 (accounts_after_tokens_ended becomes
 * the after-success step). accounts_tokens_ended_user notes every not revoked device of user_id;
 * call it in the transaction that ends the tokens, or after its commit. */
void accounts_tokens_ended(struct job *j, const char *device_id);
enum store_err accounts_tokens_ended_user(struct store *s, struct job *j, const char *user_id);
void accounts_after_tokens_ended(struct job *j);

#endif
