/* progress.h: a one-line progress bar on stderr for file transfers, drawn only on a terminal
 * (and never with --json), at most ten times a second; silent otherwise. */
#ifndef SOTTO_CLI_PROGRESS_H
#define SOTTO_CLI_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int on;
    const char *label;
    uint64_t total, base; /* base: bytes done before the current request */
    uint64_t last_ms;
} progress;

void progress_begin(progress *p, int on, const char *label, uint64_t total);
/* `now` bytes of the current request, on top of p->base. */
void progress_update(void *p, uint64_t now);
void progress_end(progress *p);

#endif
