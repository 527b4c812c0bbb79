/* A gate for expensive jobs (Argon2): at most max_running of them at the pool at once, so
 * they never hold every worker and store work keeps flowing; the rest wait in order, in a
 * bounded list. What keeps one client from taking the list (95 wrong logins from one
 * address, inside its rate limit, made a real login wait 40 s) is its share: at most
 * per_address jobs waiting or running per client address and per_account per account. Past
 * a share, 429 with Retry-After; past the list, 503. Loop thread only. */
#ifndef SOTTO_GATE_H
#define SOTTO_GATE_H

#include <stddef.h>

#include "api/job.h"

struct job_gate *job_gate_create(unsigned max_running, size_t max_waiting, unsigned per_address,
                                 unsigned per_account);
void job_gate_destroy(struct job_gate *g);

/* Counts the job against account's share too (login, register: the account a password is
 * for). Call before job_gate_submit. */
void job_gate_account(struct job_gate *g, struct job *j, const char *account);
/* Admits j (or answers 429/503 and frees it) and runs work when its turn comes. */
void job_gate_submit(struct job_gate *g, struct job *j, job_work_fn work);

/* For job.c's completion: the job leaves its shares (before it is freed), then the next
 * waiting job may start. */
void job_gate_release(struct job_gate *g, struct job *j);
void job_gate_next(struct job_gate *g);

#endif
