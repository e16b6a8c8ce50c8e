/*
 * nametab.c - the one name table of an enum (see nametab.h).
 *
 * TRUST: names to parse may come from outside; they are compared with their
 * length, never past it.
 */
#include "core/nametab.h"

#include <string.h>

const char *nametab_name(const struct nametab *t, int v)
{
	return v >= 0 && v < t->n ? t->names[v] : "?";
}

int nametab_parse_len(const struct nametab *t, const char *p, size_t len, int *out)
{
	for (int i = 0; i < t->n; i++)
		if (strlen(t->names[i]) == len && memcmp(t->names[i], p, len) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

int nametab_parse(const struct nametab *t, const char *z, int *out)
{
	return z != NULL ? nametab_parse_len(t, z, strlen(z), out) : -1;
}

void nametab_join(const struct nametab *t, const char *sep, struct buf *out)
{
	for (int i = 0; i < t->n; i++)
		buf_printf(out, "%s%s", i ? sep : "", t->names[i]);
}
