/*
 * geoip.c - country look-ups in a MaxMind DB (see geoip.h).
 *
 * TRUST: the database's contents are checked by libmaxminddb; the value we
 * take must be a UTF-8 string of exactly two ASCII letters.
 */
#include "web/geoip.h"

#include <errno.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct geoip {
	MMDB_s db;
};

struct geoip *geoip_open(const char *path, struct buf *err)
{
	struct geoip *g = xcalloc(1, sizeof(*g));
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
	if (rc != MMDB_SUCCESS) {
		buf_printf(err, "[stats] geoip = %s: cannot read the database: %s%s%s", path,
			   MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			   rc == MMDB_IO_ERROR ? strerror(errno) : "");
		free(g);
		return NULL;
	}
	return g;
}

int geoip_country(const struct geoip *g, const struct sockaddr *sa, char cc[3])
{
	int rc = 0;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db, sa, &rc);
	if (rc != MMDB_SUCCESS || !r.found_entry)
		return -1;
	MMDB_entry_data_s d;
	if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		char c = d.utf8_string[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return -1;
		cc[i] = c;
	}
	cc[2] = '\0';
	return 0;
}

void geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	MMDB_close(&g->db);
	free(g);
}
