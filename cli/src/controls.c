/* controls.c: the queue of retry requests and deletes for everyone, and the marks' upkeep
 * (see controls.h). */
#include "controls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "term.h"
#include "util.h"

void controls_entry(ctl_entry *e, const char *kind, const char *conv, const char *peer,
                    const char *target, const char *local)
{
    memset(e, 0, sizeof *e);
    uuid_v4(e->id);
    str_copy(e->kind, sizeof e->kind, kind);
    str_copy(e->conv, sizeof e->conv, conv);
    str_copy(e->peer, sizeof e->peer, peer);
    str_copy(e->target, sizeof e->target, target);
    str_copy(e->local, sizeof e->local, local ? local : "");
    e->first_ms = now_ms();
}

static int entry_put(client *c, const ctl_entry *e)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:i}", "kind", e->kind, "conv", e->conv, "peer",
                          e->peer, "target", e->target, "local", e->local, "first",
                          (json_int_t)e->first_ms, "fails", e->fails);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int rc = s != NULL ? ls_control_put(c->st, e->id, s) : -1;

    free(s);
    json_decref(j);
    return rc;
}

static int copy_field(char *dst, size_t cap, const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));

    return str_copy(dst, cap, v != NULL ? v : "");
}

/* 0 and e filled, 1 absent, -1 unreadable (a damaged row: dropped by the caller). */
static int entry_get(client *c, const char *id, ctl_entry *e)
{
    char *s = NULL;
    json_t *j;
    int rc = ls_control_get(c->st, id, &s);

    memset(e, 0, sizeof *e);
    if (rc != 0)
        return rc;
    j = json_loads(s, 0, NULL);
    free(s);
    rc = j != NULL && str_copy(e->id, sizeof e->id, id) == 0 &&
                 copy_field(e->kind, sizeof e->kind, j, "kind") == 0 &&
                 copy_field(e->conv, sizeof e->conv, j, "conv") == 0 &&
                 copy_field(e->peer, sizeof e->peer, j, "peer") == 0 &&
                 copy_field(e->target, sizeof e->target, j, "target") == 0 &&
                 copy_field(e->local, sizeof e->local, j, "local") == 0
             ? 0
             : -1;
    e->first_ms = (uint64_t)json_integer_value(json_object_get(j, "first"));
    e->fails = (int)json_integer_value(json_object_get(j, "fails"));
    json_decref(j);
    return rc;
}

int controls_mark(client *c, const char *prefix, const char *id)
{
    char name[80], val[24];

    snprintf(name, sizeof name, "%s:%s", prefix, id);
    snprintf(val, sizeof val, "%llu", (unsigned long long)now_ms());
    return ls_kv_put_str(c->st, name, val);
}

int controls_add(client *c, const ctl_entry *e)
{
    int n = ls_control_count(c->st);

    if (n < 0)
        return -1;
    if (n >= CONTROLS_MAX)
        return 1;
    if (ls_begin(c->st) != 0)
        return -1;
    if ((strcmp(e->kind, "retry") == 0 && controls_mark(c, "retry", e->target) != 0) ||
        entry_put(c, e) != 0 || ls_commit(c->st) != 0) {
        ls_rollback(c->st);
        return -1;
    }
    return 0;
}

/* Removes an entry for good; a retry's mark goes with it (the message stays undecryptable). */
static void give_up(client *c, const ctl_entry *e, const char *why)
{
    char name[80], s1[64];

    if (strcmp(e->kind, "retry") == 0) {
        snprintf(name, sizeof name, "retry:%s", e->target);
        ls_kv_del(c->st, name);
        fprintf(stderr, "sotto: gave up asking for message %s (%s). " CONTROLS_UNDECRYPTABLE "\n",
                term_safe(s1, sizeof s1, e->target), why);
    } else {
        fprintf(stderr, "sotto: Not deleted for everyone: it could not be sent. (message %s, %s)\n",
                term_safe(s1, sizeof s1, e->local[0] ? e->local : e->target), why);
    }
    ls_control_del(c->st, e->id);
}

int controls_try(client *c, const char *id)
{
    ctl_entry e;
    int rc = entry_get(c, id, &e);

    if (rc == 1)
        return 0;
    if (rc != 0) {
        ls_control_del(c->st, id); /* cannot be read: nothing we could ever send */
        return 2;
    }
    if (now_ms() - e.first_ms >= CONTROLS_AGE_MAX_MS) {
        give_up(c, &e, "not sent within 7 days");
        return 2;
    }
    rc = control_send_queued(c, &e);
    if (rc == 0) {
        ls_control_del(c->st, e.id);
        return 0;
    }
    if (rc == EXIT_AUTH)
        return EXIT_AUTH;
    if (rc != EXIT_NET) {
        give_up(c, &e, "refused");
        return 2;
    }
    if (++e.fails >= CONTROLS_FAILS_MAX) {
        give_up(c, &e, "5 sends failed");
        return 2;
    }
    entry_put(c, &e);
    return 1;
}

static int flush_one(void *ctx, const char *id)
{
    client *c = ctx;
    ctl_entry e;
    char s1[64];
    int rc;

    if (entry_get(c, id, &e) != 0)
        memset(&e, 0, sizeof e);
    rc = controls_try(c, id);
    if (rc == 0 && strcmp(e.kind, "retry") == 0)
        fprintf(stderr, "sotto: asked for message %s (a retry request queued earlier)\n",
                term_safe(s1, sizeof s1, e.target));
    else if (rc == 0 && strcmp(e.kind, "delete") == 0)
        fprintf(stderr, "sotto: deleted message %s for everyone (queued earlier)\n",
                term_safe(s1, sizeof s1, e.local));
    return rc == 1 || rc == EXIT_AUTH; /* stop on what will not get better now */
}

int controls_flush(client *c)
{
    int rc = ls_control_each(c->st, flush_one, c) == 0 ? 0 : EXIT_LOCAL;

    controls_prune(c);
    return rc;
}

/* The number at the start of kv `name`'s value (a time in ms); 0 when absent. */
static uint64_t kv_time(client *c, const char *name)
{
    char *v = NULL;
    uint64_t t = 0;

    if (ls_kv_get_str(c->st, name, &v) == 0)
        t = strtoull(v, NULL, 10);
    free(v);
    return t;
}

/* Marks made before they held a time ("1"): kept, from now, for the full 30 days. */
#define MARK_UNTIMED_BEFORE 1000000000000ull

static int prune_mark(void *ctx, const char *name)
{
    client *c = ctx;
    uint64_t t = kv_time(c, name), now = now_ms();

    if (t < MARK_UNTIMED_BEFORE) {
        char val[24];
        snprintf(val, sizeof val, "%llu", (unsigned long long)now);
        ls_kv_put_str(c->st, name, val);
    } else if (now > t && now - t > CONTROLS_MARK_KEEP_MS) {
        ls_kv_del(c->st, name);
    }
    return 0;
}

static int prune_rate(void *ctx, const char *name)
{
    client *c = ctx;
    uint64_t start = kv_time(c, name), now = now_ms();

    if (start > now || now - start >= RETRY_RATE_WINDOW_MS)
        ls_kv_del(c->st, name);
    return 0;
}

void controls_prune(client *c)
{
    ls_kv_each_prefix(c->st, "retry:", prune_mark, c);
    ls_kv_each_prefix(c->st, "resent:", prune_mark, c);
    ls_kv_each_prefix(c->st, "retry-rate:", prune_rate, c);
    ls_kv_each_prefix(c->st, "resend-rate:", prune_rate, c);
}

int controls_waiting(client *c, const char *id)
{
    char name[80];
    uint64_t t, now = now_ms();

    snprintf(name, sizeof name, "retry:%s", id);
    t = kv_time(c, name);
    return t >= MARK_UNTIMED_BEFORE && now >= t && now - t < CONTROLS_WAIT_MS;
}

int controls_asked(client *c, const char *id)
{
    char name[80];

    snprintf(name, sizeof name, "retry:%s", id);
    return kv_time(c, name) != 0;
}
