/*
 * migrations_sqlite.h - the embedded SQLite schema migrations.
 */
#ifndef LK_STORE_MIGRATIONS_SQLITE_H
#define LK_STORE_MIGRATIONS_SQLITE_H

/* Number of migrations; the newest schema version. */
int migrations_sqlite_count(void);
/* The SQL that takes the schema from n-1 to n (1-based), or NULL. */
const char *migrations_sqlite_get(int n);

#endif
