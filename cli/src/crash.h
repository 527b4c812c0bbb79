/* crash.h: named "crash here" points for testing save-before-acting.
 *
 * Code that must survive a crash calls crash_point("name") between its steps. In a test the
 * hook decides: a unit test installs one that returns 1 (the caller then abandons the
 * operation exactly as a dead process would: no further writes, the open transaction rolled
 * back); an end-to-end test sets SOTTO_CRASH_AT=name and the process _exit()s there. The
 * environment variable is honoured only in builds with SOTTO_TEST_HOOKS (a CMake option, on
 * in test builds, off in release builds); the in-process hook exists in every build.
 */
#ifndef SOTTO_CLI_CRASH_H
#define SOTTO_CLI_CRASH_H

typedef int (*crash_hook_fn)(const char *point);

/* Installs the hook for this process (NULL: environment only). */
void crash_set_hook(crash_hook_fn fn);
/* 1 when the caller must stop as if the process died here; may not return at all. */
int crash_point(const char *point);

#endif
