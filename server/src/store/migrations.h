/* migrations.h: the schema migrations embedded into the binary at build time.
 *
 * embed_migrations.cmake turns migrations/<dialect>/NNNN_name.sql into a generated C
 * source defining these arrays, sorted by version. Adding a migration = adding a file.
 */
#ifndef SOTTO_STORE_MIGRATIONS_H
#define SOTTO_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    long version;     /* NNNN from the file name */
    const char *name; /* the file name, for schema_migrations and logs */
    const char *sql;  /* the whole script, NUL-terminated */
};

extern const struct store_migration store_migrations_sqlite[];
extern const size_t store_migrations_sqlite_count;
extern const struct store_migration store_migrations_pg[];
extern const size_t store_migrations_pg_count;

#endif
