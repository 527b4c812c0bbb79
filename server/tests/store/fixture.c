/* The store contract suites' shared set-up (fixture.h). */
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

int fixture_pg_script(const char *url, const char *sql)
{
    struct db *db;
    char err[256];
    if (db_pg_driver.open(url, &db, err, sizeof err) != DB_OK) {
        fprintf(stderr, "store fixture: %s\n", err);
        return -1;
    }
    int rc = db_pg_driver.script(db, sql);
    if (rc != DB_OK)
        fprintf(stderr, "store fixture: %s\n", db_pg_driver.errmsg(db));
    db_pg_driver.close(db);
    return rc == DB_OK ? 0 : -1;
}

void fixture_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int setup_pg(struct store_fixture *fx, const char *who, const char *tag)
{
    const char *url = getenv("SOTTO_TEST_PG_URL");
    char sql[128], id[STORE_ID_SIZE];
    if (!url || !*url) {
        fprintf(stderr,
                "%s: SOTTO_TEST_PG_URL is not set; start PostgreSQL with "
                "`eval \"$(scripts/pg-test.sh start)\"` (this test never skips)\n",
                who);
        return -1;
    }
    store_uuid_v4(id);
    /* Schema names cannot be parameters; this one is the tag and hex digits only. */
    snprintf(fx->schema, sizeof fx->schema, "sotto_%s_%.8s%.4s", tag, id, id + 9);
    snprintf(fx->base_url, sizeof fx->base_url, "%s", url);
    snprintf(fx->url, sizeof fx->url, "%s%soptions=-csearch_path%%3D%s", url,
             strchr(url, '?') ? "&" : "?", fx->schema);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", fx->schema);
    if (fixture_pg_script(url, sql))
        return -1;
    fx->schema_made = true;
    fx->cfg = (struct store_config){.database_url = fx->url};
    return 0;
}

static int setup_sqlite(struct store_fixture *fx, const char *tag)
{
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sotto-%s-XXXXXX", tag);
    if (!mkdtemp(fx->dir))
        return -1;
    fx->cfg = (struct store_config){.data_dir = fx->dir};
    return 0;
}

int fixture_open(struct store_fixture *fx, const char *who, const char *tag)
{
    char err[256];
    if ((fx->pg ? setup_pg(fx, who, tag) : setup_sqlite(fx, tag)) != 0)
        return -1;
    if (store_open(&fx->cfg, &fx->s, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "%s: %s\n", who, err);
        return -1;
    }
    if (store_migrate(fx->s) != STORE_OK) {
        fprintf(stderr, "%s: migrate: %s\n", who, store_errmsg(fx->s));
        return -1;
    }
    return 0;
}

void fixture_close(struct store_fixture *fx)
{
    char sql[128];
    store_close(fx->s);
    fx->s = NULL;
    if (!fx->pg && fx->dir[0])
        fixture_remove_dir(fx->dir);
    else if (fx->schema_made) {
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", fx->schema);
        fixture_pg_script(fx->base_url, sql);
    }
}
