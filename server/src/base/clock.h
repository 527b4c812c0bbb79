/* The server's one clock. Wall time for what is stored or sent (tokens, rows, "sentAt");
 * monotonic time for everything that measures an interval (rate limits, deadlines,
 * timeouts), so a step of the system clock neither stalls nor releases them. */
#ifndef SOTTO_CLOCK_H
#define SOTTO_CLOCK_H

#include <stdint.h>

/* Unix time in milliseconds. */
int64_t clock_wall_ms(void);
/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC); only differences mean anything. */
int64_t clock_mono_ms(void);
/* The same in microseconds (request timing, the loop's deadlines). */
int64_t clock_mono_us(void);

#endif
