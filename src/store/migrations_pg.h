/*
 * migrations_pg.h - the PostgreSQL schema as numbered migrations embedded
 * in the binary (a series of its own, apart from migrations_sqlite.c).
 */
#ifndef LK_STORE_MIGRATIONS_PG_H
#define LK_STORE_MIGRATIONS_PG_H

int migrations_pg_count(void);
/* The SQL of migration n (1-based), or NULL. */
const char *migrations_pg_get(int n);

#endif
