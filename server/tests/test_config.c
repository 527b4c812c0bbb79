/* config.c: defaults, integer bounds, validators, and the one-line error naming the variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/config.h"

static const char *const *test_env;

static const char *fake_getenv(const char *name)
{
    for (const char *const *e = test_env; e && *e; e += 2)
        if (!strcmp(e[0], name))
            return e[1];
    return NULL;
}

static int load(const char *const *env, struct config *cfg, char *err)
{
    test_env = env;
    return config_load(cfg, fake_getenv, err, 256);
}

static void test_defaults(void **state)
{
    struct config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(NULL, &cfg, err), 0);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.bind, "127.0.0.1");
    assert_string_equal(cfg.data_dir, "./data");
    assert_null(cfg.database_url);
    assert_null(cfg.jwt_secret);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.argon2_memory_cost, 65536);
    /* The per-connection WebSocket limits and the key-claim limit keep their old values. */
    assert_int_equal(cfg.ws_rate_burst, 200);
    assert_int_equal(cfg.ws_rate_per_sec, 100);
    assert_int_equal(cfg.ws_rate_strikes, 50);
    assert_int_equal(cfg.ws_max_inflight, 32);
    assert_string_equal(cfg.rl_key_claim, "30/60");
    config_free(&cfg);
}

static void expect_error(const char *const *env, const char *prefix)
{
    struct config cfg;
    char err[256];

    assert_int_equal(load(env, &cfg, err), -1);
    assert_non_null(strstr(err, prefix));
    assert_null(strchr(err, '\n'));
}

static void test_port_bounds(void **state)
{
    struct config cfg;
    char err[256];

    (void)state;
    expect_error((const char *[]){"PORT", "abc", NULL}, "PORT:");
    expect_error((const char *[]){"PORT", "70000", NULL}, "PORT:");
    /* 0 asks the kernel for a free port (the server.start line names it). */
    assert_int_equal(load((const char *[]){"PORT", "0", NULL}, &cfg, err), 0);
    assert_int_equal(cfg.port, 0);
    config_free(&cfg);
    expect_error((const char *[]){"PORT", "80x", NULL}, "PORT:");
    expect_error((const char *[]){"PORT", "-1", NULL}, "PORT:");
}

static void test_validators(void **state)
{
    (void)state;
    expect_error((const char *[]){"DATABASE_URL", "mysql://x", NULL}, "DATABASE_URL:");
    expect_error((const char *[]){"JWT_SECRET", "short", NULL}, "JWT_SECRET:");
    expect_error((const char *[]){"MFA_ENCRYPTION_KEY", "zz", NULL}, "MFA_ENCRYPTION_KEY:");
    expect_error((const char *[]){"LOG_LEVEL", "loud", NULL}, "LOG_LEVEL:");
    expect_error((const char *[]){"CORS_ORIGINS", "*", NULL}, "CORS_ORIGINS:");
    expect_error((const char *[]){"TRUSTED_PROXIES", "10.0.0.0/33", NULL}, "TRUSTED_PROXIES:");
    expect_error((const char *[]){"BIND", "localhost", NULL}, "BIND:");
    expect_error((const char *[]){"TLS_CERT_FILE", "/x.pem", NULL}, "TLS_KEY_FILE:");
    expect_error((const char *[]){"WORKERS", "0", NULL}, "WORKERS:");
    expect_error((const char *[]){"ARGON2_MEMORY_COST", "10", NULL}, "ARGON2_MEMORY_COST:");
    expect_error((const char *[]){"WS_RATE_BURST", "0", NULL}, "WS_RATE_BURST:");
    expect_error((const char *[]){"WS_RATE_PER_SEC", "1000001", NULL}, "WS_RATE_PER_SEC:");
    expect_error((const char *[]){"WS_RATE_STRIKES", "256", NULL}, "WS_RATE_STRIKES:");
    expect_error((const char *[]){"WS_MAX_INFLIGHT", "0", NULL}, "WS_MAX_INFLIGHT:");
    expect_error((const char *[]){"WS_PING_INTERVAL", "0", NULL}, "WS_PING_INTERVAL:");
    expect_error((const char *[]){"WS_IDLE_TIMEOUT", "30", NULL}, "WS_IDLE_TIMEOUT:");
    expect_error((const char *[]){"WS_PING_INTERVAL", "70", NULL}, "WS_IDLE_TIMEOUT:");
    expect_error((const char *[]){"RATE_LIMIT_KEY_CLAIM", "30", NULL}, "RATE_LIMIT_KEY_CLAIM:");
}

static void test_values(void **state)
{
    struct config cfg;
    char err[256];
    const char *env[] = {"PORT",
                         "9000",
                         "LOG_LEVEL",
                         "warn",
                         "JWT_SECRET",
                         "0123456789abcdef0123456789abcdef",
                         "CORS_ORIGINS",
                         "https://a.example, http://localhost:5173",
                         "PORT_UNUSED",
                         "x",
                         "DATA_DIR",
                         "",
                         NULL};

    (void)state;
    assert_int_equal(load(env, &cfg, err), 0);
    assert_int_equal(cfg.port, 9000);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_string_equal(cfg.jwt_secret, "0123456789abcdef0123456789abcdef");
    assert_string_equal(cfg.data_dir, "./data"); /* empty counts as unset */
    config_free(&cfg);
    config_free(&cfg); /* idempotent */
}

/* The S3 blob store's settings go together (blobs/s3.c); the secret is kept as a secret. */
static void test_s3(void **state)
{
    struct config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(NULL, &cfg, err), 0);
    assert_null(cfg.s3_endpoint);
    assert_string_equal(cfg.s3_region, "us-east-1");
    config_free(&cfg);
    expect_error((const char *[]){"S3_ENDPOINT", "ftp://store", NULL}, "S3_ENDPOINT:");
    expect_error((const char *[]){"S3_ENDPOINT", "https://store", NULL}, "S3_BUCKET:");
    expect_error((const char *[]){"S3_ENDPOINT", "https://store", "S3_BUCKET", "b",
                                  "S3_ACCESS_KEY_ID", "k", NULL},
                 "S3_SECRET_ACCESS_KEY:");
    expect_error((const char *[]){"S3_BUCKET", "b", NULL}, "S3_ENDPOINT:");
    assert_int_equal(
        load((const char *[]){"S3_ENDPOINT", "https://store", "S3_BUCKET", "b", "S3_ACCESS_KEY_ID",
                              "k", "S3_SECRET_ACCESS_KEY", "s", "S3_REGION", "auto", NULL},
             &cfg, err),
        0);
    assert_string_equal(cfg.s3_endpoint, "https://store");
    assert_string_equal(cfg.s3_secret_access_key, "s");
    assert_string_equal(cfg.s3_region, "auto");
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_port_bounds),
        cmocka_unit_test(test_validators), cmocka_unit_test(test_values),
        cmocka_unit_test(test_s3),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
