/*
 * test_vectors.c: the seeded conversation (vectors_gen.c) must reproduce the committed
 * core/tests/vectors/conversation.json byte for byte. SOTTO_WRITE_VECTORS=1 rewrites it
 * (only when the protocol changes on purpose; say so in the commit).
 */
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "vectors_gen.h"

#define CAP (1u << 20)

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    if (f == NULL)
        return NULL;
    b = malloc(CAP);
    *len = b ? fread(b, 1, CAP, f) : 0;
    fclose(f);
    return b;
}

static void reproduces_committed_vectors(void **state)
{
    const char *dir = getenv("SOTTO_VECTORS");
    char path[4096], *mine = malloc(CAP), *theirs;
    size_t n, m;
    (void)state;
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/conversation.json", dir);
    assert_int_equal(sotto_vectors_json(mine, CAP, &n), 0);
    if (getenv("SOTTO_WRITE_VECTORS")) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(mine, 1, n, f), n);
        fclose(f);
    }
    theirs = read_file(path, &m);
    assert_non_null(theirs);
    assert_int_equal(n, m);
    assert_memory_equal(mine, theirs, n);
    /* and a second run in the same process gives the same bytes (no hidden state) */
    assert_int_equal(sotto_vectors_json(mine, CAP, &n), 0);
    assert_memory_equal(mine, theirs, n);
    free(mine);
    free(theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(reproduces_committed_vectors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
