/* The blob store contract (blobs/blobs.h), one suite run unchanged against every
 * implementation in the table at the bottom: files under a temporary DATA_DIR (`test_blobs`,
 * ctest server.blobs) and the S3-compatible store (`test_blobs s3`, ctest blobs.s3, against
 * the Swift that scripts/swift-test.sh starts: SOTTO_TEST_S3_* name it, and the run fails
 * without them): writes in pieces, a resumed write that drops unrecorded bytes, nothing
 * visible before finish, ranges, removal, listing, bad ids, blobs of several S3 parts. The S3
 * run adds what only it has: credentials checked (a wrong secret is refused, so requests are
 * really signed) and presigned URLs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* The S3 store the environment names (scripts/swift-test.sh prints it). */
static struct blobs_s3_config s3_env(void)
{
    struct blobs_s3_config c = {
        .endpoint = getenv("SOTTO_TEST_S3_ENDPOINT"),
        .bucket = getenv("SOTTO_TEST_S3_BUCKET"),
        .region = getenv("SOTTO_TEST_S3_REGION"),
        .access_key_id = getenv("SOTTO_TEST_S3_ACCESS_KEY_ID"),
        .secret_access_key = getenv("SOTTO_TEST_S3_SECRET_ACCESS_KEY"),
        .timeout_s = 30,
    };

    if (!c.endpoint || !c.bucket || !c.region || !c.access_key_id || !c.secret_access_key)
        fail_msg("SOTTO_TEST_S3_* unset: eval \"$(scripts/swift-test.sh start DIR)\" first");
    return c;
}

static int count_blob(void *arg, const char *id, bool partial)
{
    (void)id, (void)partial;
    ++*(int *)arg;
    return 0;
}

static int remove_blob(void *arg, const char *id, bool partial)
{
    (void)partial;
    assert_int_equal(blob_remove(arg, id), BLOB_OK);
    return 0;
}

static struct blobs *s3_open(void **ctx)
{
    struct blobs_s3_config c = s3_env();
    char err[256] = "";
    struct blobs *b = blobs_s3_open(NULL, &c, err, sizeof(err));
    int n = 0;

    if (!b)
        fail_msg("blobs_s3_open: %s", err);
    /* The bucket is the suite's alone: emptied of what a failed test left, so each test
     * starts from an empty store as with files. */
    assert_int_equal(blob_list(b, remove_blob, b), BLOB_OK);
    assert_int_equal(blob_list(b, count_blob, &n), BLOB_OK);
    assert_int_equal(n, 0);
    *ctx = NULL;
    return b;
}

static void s3_cleanup(void *ctx) { (void)ctx; }

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

#define BIG (2 * BLOB_S3_PART + 123457) /* three S3 parts, the last one short */
#define PIECE (256 * 1024)              /* what attachments/ writes at once */

static void write_pieces(struct blobs *b, const char *id, const unsigned char *data, uint64_t from,
                         uint64_t to)
{
    for (uint64_t o = from; o < to; o += PIECE) {
        size_t n = to - o < PIECE ? (size_t)(to - o) : PIECE;

        assert_int_equal(blob_write(b, id, o, data + o, n), BLOB_OK);
    }
}

/* A blob of several parts, written in several PATCHes (each synced) with a resume that drops
 * unrecorded bytes back into an earlier part, then read across the parts' seams. */
static void test_big_blob_in_parts(void **state)
{
    struct blobs *b = store_of(state);
    unsigned char *data = malloc(BIG), *back = malloc(BIG), *other = malloc(BIG);
    uint64_t size, seam = BLOB_S3_PART;
    size_t got;

    assert_non_null(data), assert_non_null(back), assert_non_null(other);
    fill(data, BIG, 3);
    fill(other, BIG, 4);
    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    write_pieces(b, ID1, data, 0, 1000000);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    /* A PATCH the caller never recorded (its record failed after the sync): other bytes, up
     * to past the first seam. */
    write_pieces(b, ID1, other, 1000000, seam + 500000);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, seam + 500001, data, 1), BLOB_INVALID);
    /* The client resumes from what was recorded: back into the first part. */
    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    write_pieces(b, ID1, data, 1000000, seam + 3 * PIECE);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    assert_int_equal(blob_finish(b, ID1, BIG), BLOB_INVALID); /* not all there yet */
    write_pieces(b, ID1, data, seam + 3 * PIECE, BIG);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    assert_int_equal(blob_finish(b, ID1, BIG), BLOB_OK);
    assert_int_equal(blob_size(b, ID1, &size), BLOB_OK);
    assert_int_equal(size, BIG);
    assert_int_equal(blob_read(b, ID1, 0, back, BIG, &got), BLOB_OK);
    assert_int_equal(got, BIG);
    assert_memory_equal(back, data, BIG);
    assert_int_equal(blob_read(b, ID1, seam - 10, back, 20, &got), BLOB_OK);
    assert_int_equal(got, 20);
    assert_memory_equal(back, data + seam - 10, 20);
    assert_int_equal(blob_remove(b, ID1), BLOB_OK);
    assert_int_equal(blob_remove(b, ID1), BLOB_NOT_FOUND);
    free(data), free(back), free(other);
}

static void test_presign_files_has_none(void **state)
{
    char url[64];

    assert_int_equal(blob_presign(store_of(state), ID1, 60, url, sizeof(url)), BLOB_INVALID);
    assert_string_equal(url, "");
}

/* --- what only the S3 store has ---------------------------------------------------------- */

static void test_s3_wrong_secret_refused(void **state)
{
    struct blobs_s3_config c = s3_env();
    char err[256] = "";

    (void)state;
    c.secret_access_key = "not-the-secret";
    assert_null(blobs_s3_open(NULL, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "refused"));
    assert_non_null(strstr(err, "SignatureDoesNotMatch"));
    assert_null(strstr(err, "not-the-secret"));
    c = s3_env();
    c.access_key_id = "test:nobody";
    assert_null(blobs_s3_open(NULL, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "refused"));
}

/* GETs url (http://127.0.0.1:port/...) with no credentials: the status, and the body in body. */
static int http_get(const char *url, char *body, size_t cap, size_t *len)
{
    const char *hp = url + strlen("http://127.0.0.1:"), *path = strchr(hp, '/');
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)strtol(hp, NULL, 10))};
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
    char *req = malloc(strlen(url) + 128), *resp = malloc(cap + 4096), *p;
    size_t n = 0;
    ssize_t r;

    assert_true(!strncmp(url, "http://127.0.0.1:", 17) && path && fd >= 0 && req && resp);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(req, strlen(url) + 128, "GET %s HTTP/1.0\r\nHost: %.*s\r\n\r\n", path,
             (int)(path - url - 7), url + 7);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (n < cap + 4095 && (r = read(fd, resp + n, cap + 4095 - n)) > 0)
        n += (size_t)r;
    close(fd);
    resp[n] = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    p = strstr(resp, "\r\n\r\n");
    *len = p ? n - (size_t)(p + 4 - resp) : 0;
    if (p && *len <= cap)
        memcpy(body, p + 4, *len);
    free(req);
    free(resp);
    return status;
}

static void test_s3_presigned_get(void **state)
{
    struct blobs *b = store_of(state);
    char url[2048], body[100];
    size_t len;

    assert_int_equal(blob_begin(b, ID1), BLOB_OK);
    assert_int_equal(blob_write(b, ID1, 0, "presigned bytes", 15), BLOB_OK);
    assert_int_equal(blob_sync(b, ID1), BLOB_OK);
    assert_int_equal(blob_finish(b, ID1, 15), BLOB_OK);
    assert_int_equal(blob_presign(b, ID1, BLOB_PRESIGN_TTL_MAX + 1, url, sizeof(url)),
                     BLOB_INVALID);
    assert_int_equal(blob_presign(b, ID1, 0, url, sizeof(url)), BLOB_INVALID);
    assert_int_equal(blob_presign(b, ID1, 60, url, sizeof(url)), BLOB_OK);
    assert_null(strstr(url, s3_env().secret_access_key));
    assert_non_null(strstr(url, "X-Amz-Expires=60&"));
    assert_int_equal(http_get(url, body, sizeof(body), &len), 200);
    assert_int_equal(len, 15);
    assert_memory_equal(body, "presigned bytes", 15);
    /* The signature covers the object: the same URL for another key is refused. */
    *strstr(url, ID1 + 30) = 'f';
    assert_int_equal(http_get(url, body, sizeof(body), &len), 403);
    /* And it ends: a URL for one second is refused two seconds later. */
    assert_int_equal(blob_presign(b, ID1, 1, url, sizeof(url)), BLOB_OK);
    sleep(2);
    assert_int_equal(http_get(url, body, sizeof(body), &len), 403);
    assert_int_equal(blob_remove(b, ID1), BLOB_OK);
}

/* Writes in progress hold one piece each, held_max at most (BLOB_S3_HELD_MAX unless set):
 * one more is refused as busy (not as a failure) until one of them is synced, so the memory
 * they take stays bounded. */
static void test_s3_held_pieces_bounded(void **state)
{
    struct blobs_s3_config c = s3_env();
    char err[256] = "", id[16];
    struct blobs *b;

    (void)state;
    c.held_max = 3;
    b = blobs_s3_open(NULL, &c, err, sizeof(err));
    assert_non_null(b);
    for (int i = 0; i <= 3; i++) {
        snprintf(id, sizeof(id), "held-%d", i);
        assert_int_equal(blob_begin(b, id), BLOB_OK);
        assert_int_equal(blob_write(b, id, 0, "x", 1), i < 3 ? BLOB_OK : BLOB_BUSY);
    }
    assert_int_equal(blob_sync(b, "held-0"), BLOB_OK);
    assert_int_equal(blob_write(b, "held-3", 0, "y", 1), BLOB_OK);
    for (int i = 0; i <= 3; i++) {
        snprintf(id, sizeof(id), "held-%d", i);
        assert_int_equal(blob_remove(b, id), BLOB_OK);
    }
    blobs_close(b);
}

static const struct blob_impl impls[] = {
    {"files", files_open, files_cleanup},
    {"s3", s3_open, s3_cleanup},
};

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pieces_then_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_drops_unrecorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_blob_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_remove_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_blob_in_parts, setup, teardown),
    };
    const struct CMUnitTest files_only[] = {
        cmocka_unit_test_setup_teardown(test_presign_files_has_none, setup, teardown),
    };
    const struct CMUnitTest s3_only[] = {
        cmocka_unit_test(test_s3_wrong_secret_refused),
        cmocka_unit_test_setup_teardown(test_s3_presigned_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s3_held_pieces_bounded, setup, teardown),
    };
    const char *want = argc > 1 ? argv[1] : "files";
    int failed = 0, ran = 0;

    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        if (strcmp(impls[i].name, want))
            continue;
        impl = &impls[i];
        ran++;
        failed += cmocka_run_group_tests_name(impls[i].name, tests, NULL, NULL);
        if (!strcmp(want, "files"))
            failed += cmocka_run_group_tests_name("files only", files_only, NULL, NULL);
        else
            failed += cmocka_run_group_tests_name("s3 only", s3_only, NULL, NULL);
    }
    if (!ran)
        fprintf(stderr, "usage: test_blobs [files|s3]\n");
    return failed || !ran ? 1 : 0;
}
