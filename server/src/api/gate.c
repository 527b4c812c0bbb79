/* A gate for expensive jobs (gate.h). */
#include "api/gate.h"

#include <stdlib.h>

#include "base/keycount.h"
#include "base/log.h"
#include "net/http.h"

/* Two keys (address, account) per job waiting or running, but a table sized for the whole
 * work queue (65,536 jobs by default) would be megabytes that hashing touches at random:
 * past GATE_KEYS_MAX distinct clients waiting at once (each Argon2 hash takes about half a
 * second, so the server is saturated long before), a new client gets 429 too. */
#define GATE_KEYS_MAX 8192

struct job_gate {
    unsigned max_running, running;
    unsigned per_address, per_account;
    struct keycount *keys; /* jobs waiting or running per address and per account */
    struct job **wait;     /* a ring of cap entries */
    size_t cap, head, len;
};

struct job_gate *job_gate_create(unsigned max_running, size_t max_waiting, unsigned per_address,
                                 unsigned per_account)
{
    struct job_gate *g = calloc(1, sizeof(*g));
    size_t keys = 2 * (max_waiting + max_running);

    if (!g || !(g->wait = calloc(max_waiting ? max_waiting : 1, sizeof(*g->wait))))
        abort();
    g->max_running = max_running;
    g->cap = max_waiting ? max_waiting : 1;
    g->per_address = per_address;
    g->per_account = per_account;
    g->keys = keycount_create(keys < GATE_KEYS_MAX ? keys : GATE_KEYS_MAX);
    return g;
}

void job_gate_destroy(struct job_gate *g)
{
    if (!g)
        return;
    keycount_destroy(g->keys);
    free(g->wait);
    free(g);
}

void job_gate_account(struct job_gate *g, struct job *j, const char *account)
{
    keycount_key(g->keys, "account", account, j->gate_account);
    j->gate_has_account = true;
}

static bool gate_admit(struct job_gate *g, struct job *j)
{
    keycount_key(g->keys, "ip", j->ip, j->gate_ip);
    if (keycount_get(g->keys, j->gate_ip) >= g->per_address ||
        (j->gate_has_account && keycount_get(g->keys, j->gate_account) >= g->per_account))
        return false;
    if (!keycount_add(g->keys, j->gate_ip))
        return false;
    if (j->gate_has_account && !keycount_add(g->keys, j->gate_account)) {
        keycount_sub(g->keys, j->gate_ip);
        return false;
    }
    return true;
}

void job_gate_release(struct job_gate *g, struct job *j)
{
    keycount_sub(g->keys, j->gate_ip);
    if (j->gate_has_account)
        keycount_sub(g->keys, j->gate_account);
    j->gate = NULL;
}

/* Starts waiting jobs while there is room. */
static void gate_run(struct job_gate *g)
{
    while (g->len && g->running < g->max_running) {
        struct job *j = g->wait[g->head];

        g->head = (g->head + 1) % g->cap;
        g->len--;
        g->running++;
        if (job_start(j)) { /* refused: http_submit answered 503 */
            g->running--;
            job_gate_release(g, j);
            job_free(j);
        }
    }
}

void job_gate_next(struct job_gate *g)
{
    g->running--;
    gate_run(g);
}

void job_gate_submit(struct job_gate *g, struct job *j, job_work_fn work)
{
    j->work = work;
    if (!gate_admit(g, j)) {
        log_info("auth.heavy_share", "rid=%s ip=%s", j->rid, j->ip);
        http_respond_rate_limited(j->req, "rate_limited", 1);
        job_free(j);
        return;
    }
    if (g->len == g->cap) {
        http_add_header(j->req, "retry-after", "1");
        http_respond_error(j->req, 503, "unavailable", "The server is busy; try again.", NULL);
        job_gate_release(g, j);
        job_free(j);
        return;
    }
    j->gate = g;
    g->wait[(g->head + g->len) % g->cap] = j;
    g->len++;
    gate_run(g);
}
