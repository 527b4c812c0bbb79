/* Shared by the accounts handlers (internal.h): the Argon2 gate, the caller's own JSON form,
 * and the after-step that closes the sockets of devices whose tokens ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/internal.h"
#include "api/gate.h"
#include "messaging/realtime.h"

void job_submit_heavy(struct job *j, job_work_fn work) { job_gate_submit(j->a->heavy, j, work); }

void job_heavy_account(struct job *j, const char *account)
{
    job_gate_account(j->a->heavy, j, account);
}

int accounts_password_verify(struct job *j, const char *hash, const char *pw)
{
    return password_verify(j->a->pw, hash, pw, strlen(pw));
}

static void accounts_refused(struct store *s, struct job *j, const char *action, const char *why,
                             const char *code, const char *message, const char *field)
{
    api_audit(s, j, j->who.user_id, j->who.device_id, action, false, why);
    job_fail(j, 401, code, message, json_pack("{s:s}", "field", field));
}

int accounts_prove_owner(struct store *s, struct job *j, const struct store_user *u,
                         const char *password, const char *password_field, const char *mfa_code,
                         const char *action)
{
    int m;

    if (accounts_password_verify(j, u->password_hash, password)) {
        accounts_refused(s, j, action, "bad_password", "invalid_credentials",
                         "The password is not right.", password_field);
        return -1;
    }
    if (!u->mfa_enabled)
        return 0;
    if (!mfa_code || !*mfa_code) {
        job_fail(j, 401, "mfa_required", "A second-factor code is required.",
                 json_pack("{s:s}", "field", "mfaCode"));
        return -1;
    }
    m = mfa_check_code(s, j, u->id, mfa_code);
    if (m > 0)
        accounts_refused(s, j, action, "bad_mfa_code", "invalid_mfa_code", "The code is not valid.",
                         "mfaCode");
    return m ? -1 : 0;
}

json_t *accounts_me_json(const struct store_user *u)
{
    json_t *o = api_user_row_json(u, true);

    if (json_object_set_new(o, "language", json_string(u->language ? u->language : "en")) ||
        json_object_set_new(o, "privacy",
                            json_pack("{s:b, s:s}", "readReceipts", u->read_receipts, "lastSeen",
                                      u->last_seen_hidden ? "nobody" : "contacts")))
        abort();
    return o;
}

void accounts_tokens_ended(struct job *j, const char *device_id)
{
    char(*grown)[STORE_ID_SIZE] = realloc(j->devices, (j->n_devices + 1) * sizeof(*grown));

    if (!grown)
        abort();
    j->devices = grown;
    snprintf(j->devices[j->n_devices++], STORE_ID_SIZE, "%s", device_id);
    j->after_success = accounts_after_tokens_ended;
}

enum store_err accounts_tokens_ended_user(struct store *s, struct job *j, const char *user_id)
{
    struct store_device *d = NULL;
    size_t n = 0;
    enum store_err rc = store_device_list(s, user_id, STORE_DEVICES_NOT_REVOKED, &d, &n);

    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        accounts_tokens_ended(j, d[i].id);
    store_devices_free(d, n);
    return rc;
}

void accounts_after_tokens_ended(struct job *j)
{
    for (size_t i = 0; i < j->n_devices; i++)
        realtime_end_device(j->a->srv, j->devices[i]);
}
