/* progress.c: the transfer progress bar (see progress.h). */
#include "progress.h"

#include <stdio.h>

#include "util.h"

#define BAR 30

void progress_begin(progress *p, int on, const char *label, uint64_t total)
{
    p->on = on;
    p->label = label;
    p->total = total;
    p->base = 0;
    p->last_ms = 0;
}

static void draw(const progress *p, uint64_t done)
{
    int filled = p->total ? (int)(done * BAR / p->total) : BAR;
    char bar[BAR + 1];

    for (int i = 0; i < BAR; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR] = '\0';
    fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MiB", p->label, bar,
            p->total ? (int)(done * 100 / p->total) : 100, (double)done / 1048576.0,
            (double)p->total / 1048576.0);
}

void progress_update(void *ctx, uint64_t now)
{
    progress *p = ctx;
    uint64_t t = now_ms(), done = p->base + now;

    if (!p->on || t - p->last_ms < 100)
        return;
    p->last_ms = t;
    draw(p, done > p->total ? p->total : done);
}

void progress_end(progress *p)
{
    if (!p->on)
        return;
    draw(p, p->total);
    fputc('\n', stderr);
}
