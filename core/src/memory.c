/*
 * memory.c: where per-peer state lives. Records, sessions and skipped-key arrays are
 * ordinary heap memory, zeroed when allocated and wiped with sodium_memzero before it is
 * released. Only sotto_account (the device's long-term private keys) is in guarded,
 * locked sodium_malloc memory: guard pages cost an mmap, three mprotects and an mlock
 * per object, which was a tenth of an X3DH set-up. docs/protocol.md, "Memory", says
 * what this gives up and what an application can do about it.
 */
#include <stdlib.h>

#include "internal.h"

void *secret_alloc(size_t n, size_t size) { return calloc(n, size); }

void secret_free(void *p, size_t n, size_t size)
{
    if (p == NULL)
        return;
    sodium_memzero(p, n * size);
    free(p);
}
