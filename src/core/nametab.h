/*
 * nametab.h - the one name table of an enum (STYLE.md section 10).
 *
 * A kind or a state is an enum whose names live in one array, in the enum's
 * order; every FOO_name / FOO_parse pair in the project is a two-line wrapper
 * around a table of this kind (Postfix rec_type.h), so that no name is spelled
 * twice and nothing compares a kind or a state with strcmp but this file.
 *
 *   static const char *const NAMES[] = {"a", "b"};
 *   const struct nametab foo_names = NAMETAB(NAMES);
 *   const char *foo_name(enum foo v) { return nametab_name(&foo_names, (int)v); }
 *   int foo_parse(const char *z, enum foo *out) { ... nametab_parse ... }
 *
 * TRUST: nametab_parse and nametab_parse_len see untrusted text (a column, a
 * command-line argument); they read exactly the length given.
 */
#ifndef LK_CORE_NAMETAB_H
#define LK_CORE_NAMETAB_H

#include <stddef.h>

#include "core/buf.h"

struct nametab {
	const char *const *names;
	int n;
};

#define NAMETAB(arr)                                                                               \
	{                                                                                          \
		(arr), (int)(sizeof(arr) / sizeof((arr)[0]))                                       \
	}

/* The name of value v; "?" when v is not in the table (a bug or a value read
 * from a newer database). Never NULL. */
const char *nametab_name(const struct nametab *t, int v);
/* The value whose name is exactly z (case matters): 0 and *out set, or -1
 * and *out untouched. */
int nametab_parse(const struct nametab *t, const char *z, int *out);
int nametab_parse_len(const struct nametab *t, const char *p, size_t len, int *out);
/* Appends every name, in order, separated by sep ("announce|discussion"). */
void nametab_join(const struct nametab *t, const char *sep, struct buf *out);

#endif
