/* The store contract suites' shared set-up: a fresh SQLite directory, or a fresh PostgreSQL
 * schema (reached through search_path) at SOTTO_TEST_PG_URL, opened and migrated; removed at
 * the end. The pg run fails, never skips, when SOTTO_TEST_PG_URL is unset. */
#ifndef SOTTO_TEST_STORE_FIXTURE_H
#define SOTTO_TEST_STORE_FIXTURE_H

#include <stdbool.h>

#include "store/store.h"

struct store_fixture {
    bool pg;
    char dir[64];       /* SQLite data dir */
    char base_url[512]; /* PG URL as given */
    char url[768];      /* PG URL with search_path set to our schema */
    char schema[40];
    bool schema_made; /* drop it at the end only if we made it */
    struct store_config cfg;
    struct store *s;
};

/* Opens and migrates fx->s on the backend fx->pg names. who prefixes messages ("store
 * contract"); tag names the schema or directory ("test", "msg"). 0, or -1 with a message. */
int fixture_open(struct store_fixture *fx, const char *who, const char *tag);
void fixture_close(struct store_fixture *fx);

/* Runs sql on its own PostgreSQL connection to url (schema DDL the store API does not do). */
int fixture_pg_script(const char *url, const char *sql);
/* Removes a flat directory and the files in it. */
void fixture_remove_dir(const char *dir);

#endif
