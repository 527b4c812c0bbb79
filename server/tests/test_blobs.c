/* The blob store contract (blobs/blobs.h), one suite run unchanged against every
 * implementation in the table at the bottom (today: files under a temporary DATA_DIR; the
 * S3-compatible store joins it as a second row): writes in pieces, a resumed write that drops
 * unrecorded bytes, nothing visible before finish, ranges, removal, listing, bad ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blobs/blobs.h"

/* One implementation under test: opens a fresh, empty store and removes it again. */
struct blob_impl {
    const char *name;
    struct blobs *(*open)(void **ctx);
    void (*cleanup)(void *ctx);
};

static const struct blob_impl *impl;

static struct blobs *files_open(void **ctx)
{
    char tmpl[] = "/tmp/sotto-blobs-XXXXXX", err[256];
    char *dir = mkdtemp(tmpl);
    struct blobs *b;

    assert_non_null(dir);
    *ctx = strdup(dir);
    b = blobs_files_open(dir, err, sizeof(err));
    assert_non_null(b);
    return b;
}

static void files_cleanup(void *ctx)
{
    char p[512];

    /* Only what the suite made: the two directories, emptied by the tests' removals. */
    snprintf(p, sizeof(p), "%s/blobs/partial", (char *)ctx);
    assert_int_equal(rmdir(p), 0);
    snprintf(p, sizeof(p), "%s/blobs/done", (char *)ctx);
    assert_int_equal(rmdir(p), 0);
    snprintf(p, sizeof(p), "%s/blobs", (char *)ctx);
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(rmdir(ctx), 0);
    free(ctx);
}

static int setup(void **state)
{
    void *ctx = NULL;
    struct blobs *b = impl->open(&ctx);
    void **pair = calloc(2, sizeof(void *));

    pair[0] = b;
    pair[1] = ctx;
    *state = pair;
    return 0;
}

static int teardown(void **state)
{
    void **pair = *state;

    blobs_close(pair[0]);
    impl->cleanup(pair[1]);
    free(pair);
    return 0;
}

static struct blobs *store_of(void **state) { return ((void **)*state)[0]; }

#define ID1 "0190a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b"
#define ID2 "0190a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2c"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static void test_pieces_then_finish(void **state)
{
    struct blobs *b = store_of(state);
    unsigned char data[70000], back[70000];
    uint64_t size;
    size_t got;

    fill(data, sizeof(data), 7);
    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, 0, data, 30000), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, 30000, data + 30000, 40000), BLOB_OK);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    /* Not visible before it is finished. */
    assert_int_equal(blob_size(b, ID1, &size), BLOB_NOT_FOUND);
    assert_int_equal(blob_read(b, ID1, 0, back, 10, &got), BLOB_NOT_FOUND);
    /* Finishing checks the size. */
    assert_int_equal(blob_finish(b, ID1, 69999), BLOB_INVALID);
    assert_int_equal(blob_finish(b, ID1, sizeof(data)), BLOB_OK);
    assert_int_equal(blob_size(b, ID1, &size), BLOB_OK);
    assert_int_equal(size, sizeof(data));
    assert_int_equal(blob_read(b, ID1, 0, back, sizeof(back), &got), BLOB_OK);
    assert_int_equal(got, sizeof(back));
    assert_memory_equal(back, data, sizeof(data));
    /* A range, and reads at and past the end. */
    assert_int_equal(blob_read(b, ID1, 65000, back, 10000, &got), BLOB_OK);
    assert_int_equal(got, 5000);
    assert_memory_equal(back, data + 65000, 5000);
    assert_int_equal(blob_read(b, ID1, sizeof(data), back, 10, &got), BLOB_OK);
    assert_int_equal(got, 0);
    assert_int_equal(blob_remove(b, ID1), BLOB_OK);
    assert_int_equal(blob_size(b, ID1, &size), BLOB_NOT_FOUND);
    assert_int_equal(blob_remove(b, ID1), BLOB_NOT_FOUND);
}

static void test_resume_drops_unrecorded(void **state)
{
    struct blobs *b = store_of(state);
    unsigned char a[1000], c[1000], back[1500];
    size_t got;

    fill(a, sizeof(a), 1);
    fill(c, sizeof(c), 2);
    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, 0, a, sizeof(a)), BLOB_OK);
    /* begin again (a resumed upload) keeps what is there. */
    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    /* The caller recorded only 500 bytes: writing there drops the other 500. */
    assert_int_equal(blob_write(b, ID1, 500, c, sizeof(c)), BLOB_OK);
    /* Past the end: refused. */
    assert_int_equal(blob_write(b, ID1, 1501, c, 1), BLOB_INVALID);
    assert_int_equal(blob_finish(b, ID1, 1500), BLOB_OK);
    assert_int_equal(blob_read(b, ID1, 0, back, sizeof(back), &got), BLOB_OK);
    assert_int_equal(got, 1500);
    assert_memory_equal(back, a, 500);
    assert_memory_equal(back + 500, c, 1000);
    assert_int_equal(blob_remove(b, ID1), BLOB_OK);
}

static void test_empty_blob_and_missing(void **state)
{
    struct blobs *b = store_of(state);
    unsigned char x = 1;
    uint64_t size = 9;

    assert_int_equal(blob_write(b, ID2, 0, &x, 1), BLOB_NOT_FOUND);
    assert_int_equal(blob_sync(b, ID2), BLOB_NOT_FOUND);
    assert_int_equal(blob_finish(b, ID2, 0), BLOB_NOT_FOUND);
    assert_int_equal(blob_begin(b, ID2), BLOB_OK);
    assert_int_equal(blob_finish(b, ID2, 0), BLOB_OK);
    assert_int_equal(blob_size(b, ID2, &size), BLOB_OK);
    assert_int_equal(size, 0);
    assert_int_equal(blob_remove(b, ID2), BLOB_OK);
}

struct seen {
    int finished, partial;
};

static int on_blob(void *arg, const char *id, bool partial)
{
    struct seen *s = arg;

    if (!strcmp(id, ID1) && !partial)
        s->finished++;
    else if (!strcmp(id, ID2) && partial)
        s->partial++;
    else
        fail_msg("unexpected blob %s (partial %d)", id, partial);
    return 0;
}

static void test_list_and_remove_partial(void **state)
{
    struct blobs *b = store_of(state);
    struct seen s = {0, 0};

    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, 0, "abc", 3), BLOB_OK);
    assert_int_equal(blob_finish(b, ID1, 3), BLOB_OK);
    assert_int_equal(blob_begin(b, ID2), BLOB_OK);
    assert_int_equal(blob_list(b, on_blob, &s), BLOB_OK);
    assert_int_equal(s.finished, 1);
    assert_int_equal(s.partial, 1);
    /* A partial blob is removed like a finished one. */
    assert_int_equal(blob_remove(b, ID2), BLOB_OK);
    assert_int_equal(blob_remove(b, ID1), BLOB_OK);
    s.finished = s.partial = 0;
    assert_int_equal(blob_list(b, on_blob, &s), BLOB_OK);
    assert_int_equal(s.finished + s.partial, 0);
}

static void test_bad_ids(void **state)
{
    struct blobs *b = store_of(state);
    uint64_t size;
    char longid[BLOB_ID_MAX + 2];

    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    assert_int_equal(blob_begin(b, "../escape"), BLOB_INVALID);
    assert_int_equal(blob_begin(b, "a/b"), BLOB_INVALID);
    assert_int_equal(blob_begin(b, ""), BLOB_INVALID);
    assert_int_equal(blob_begin(b, "ABC"), BLOB_INVALID);
    assert_int_equal(blob_begin(b, longid), BLOB_INVALID);
    assert_int_equal(blob_size(b, "done", &size), BLOB_NOT_FOUND);
    assert_int_equal(blob_remove(b, ".."), BLOB_INVALID);
}

static const struct blob_impl impls[] = {
    {"files", files_open, files_cleanup},
};

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pieces_then_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_drops_unrecorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_blob_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_remove_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
    };
    int failed = 0;

    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        impl = &impls[i];
        failed += cmocka_run_group_tests_name(impls[i].name, tests, NULL, NULL);
    }
    return failed ? 1 : 0;
}
