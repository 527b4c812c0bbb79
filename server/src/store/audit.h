/* audit.h: the security audit log (logins, token reuse, MFA and password changes, device
 * revocations). Callers must never put a password, token, key or code in any field. */
#ifndef SOTTO_STORE_AUDIT_H
#define SOTTO_STORE_AUDIT_H

#include "store/store.h"

struct store_audit {
    const char *user_id;   /* may be NULL (e.g. a failed login for an unknown email) */
    const char *device_id; /* may be NULL */
    const char *action;    /* required, e.g. "login", "refresh_reuse", "mfa_enable" */
    bool success;
    const char *ip, *user_agent, *detail; /* may be NULL; detail is short free text */
};

/* Append one entry; user_id, when given, must name an existing user (else NOT_FOUND). */
enum store_err store_audit_add(struct store *s, const struct store_audit *a, int64_t now);

struct store_audit_row {
    char id[STORE_ID_SIZE];
    int64_t at;
    char *user_id, *device_id, *action, *ip, *user_agent, *detail; /* NULL when unset */
    bool success;
};

/* The latest `limit` entries for user_id (all users when NULL), newest first. *out is an
 * array of *n; free it with store_audit_rows_free. For tests and admin tools. */
enum store_err store_audit_list(struct store *s, const char *user_id, int64_t limit,
                                struct store_audit_row **out, size_t *n);
void store_audit_rows_free(struct store_audit_row *rows, size_t n);

#endif
