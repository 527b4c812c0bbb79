/*
 * test_release_rng.c: the seeded test RNG and the key observer must not exist in a
 * release build. argv[1] is libsotto built without SOTTO_TEST_RNG; argv[2] is the
 * library under test, which must have them when SOTTO_EXPECT_TEST_RNG=1 (so this test
 * is known to be able to see the symbols it looks for).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const char *release_lib, *test_lib;
static const char *const hooks[] = {"sotto_test_rng_seed", "sotto_test_set_key_observer"};

static void release_has_no_test_hooks(void **state)
{
    void *h = dlopen(release_lib, RTLD_NOW | RTLD_LOCAL);
    (void)state;
    assert_non_null(h);
    assert_non_null(dlsym(h, "sotto_record_decrypt")); /* the library itself is there */
    for (size_t i = 0; i < 2; i++)
        assert_null(dlsym(h, hooks[i]));
    dlclose(h);
}

static void test_build_has_them(void **state)
{
    void *h;
    (void)state;
    if (!getenv("SOTTO_EXPECT_TEST_RNG"))
        skip();
    h = dlopen(test_lib, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    for (size_t i = 0; i < 2; i++)
        assert_non_null(dlsym(h, hooks[i]));
    dlclose(h);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(release_has_no_test_hooks),
        cmocka_unit_test(test_build_has_them),
    };
    if (argc != 3)
        return 2;
    release_lib = argv[1];
    test_lib = argv[2];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
