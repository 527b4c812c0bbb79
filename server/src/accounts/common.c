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

json_t *accounts_me_json(const struct store_user *u)
{
    json_t *o = api_user_row_json(u, true);

    if (json_object_set_new(o, "language", json_string(u->language ? u->language : "en")))
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
