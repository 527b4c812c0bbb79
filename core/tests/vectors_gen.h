/* vectors_gen.h: the deterministic conversation shared by the native and WASM tests. */
#ifndef SOTTO_VECTORS_GEN_H
#define SOTTO_VECTORS_GEN_H
#include <stddef.h>
/* Writes the conversation JSON to buf (NUL-terminated); 0 on success. */
int sotto_vectors_json(char *buf, size_t cap, size_t *len);
#endif
