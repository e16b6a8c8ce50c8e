/*
 * conf.h - the configuration: one INI file, overridden by the environment.
 *
 * Every key is declared once, with its type, default and documentation, in
 * the table in conf.c; conf/listkeeper.conf.example and listkeeper(1) list the
 * same keys (a unit test holds them in step). An unknown section or key, or a
 * value of the wrong type, is an error at load time that names file and line.
 *
 * LISTKEEPER_<SECTION>_<KEY> (upper case) in the environment overrides the
 * file: LISTKEEPER_STORE_PATH=/tmp/x.db.
 *
 * Relative paths in path-typed keys are taken relative to the directory of
 * the configuration file.
 */
#ifndef LK_CORE_CONF_H
#define LK_CORE_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"

struct conf;

/* Loads path (NULL: defaults and environment only). On error returns NULL and
 * writes a message that says what to fix into err. The caller frees. */
struct conf *conf_load(const char *path, struct buf *err);
void conf_free(struct conf *c);

/* The value of a declared key (never NULL). Asking for an undeclared key is a bug (abort). */
const char *conf_get(const struct conf *c, const char *section, const char *key);
int64_t conf_get_int(const struct conf *c, const char *section, const char *key);
int conf_get_bool(const struct conf *c, const char *section, const char *key);
/* A path-typed key resolved against the configuration file's directory; the caller frees. */
char *conf_get_path(const struct conf *c, const char *section, const char *key);
/* Sets a value as if read from the file; returns -1 (message in err) if invalid. */
int conf_set(struct conf *c, const char *section, const char *key, const char *value,
	     struct buf *err);
/* The file this configuration was read from, or NULL. */
const char *conf_file(const struct conf *c);

/* Writes every declared key with its documentation and default (the example file). */
void conf_write_example(FILE *fp);

#endif
