/*
 * geoip.h - the country of a client address, from a MaxMind DB file
 * ([stats] geoip), for the daily counts by country (P6).
 *
 *   geoip_open     map the database (libmaxminddb, read-only)
 *   geoip_country  the ISO 3166-1 alpha-2 code of an address, if known
 *   geoip_close
 *
 * Only country.iso_code is read (GeoLite2-Country, GeoIP2-City and
 * compatible databases have it). The address is looked up and forgotten;
 * only the code is counted.
 *
 * Thread-safe after open: lookups only read the mapped file.
 *
 * TRUST: the database is the operator's file, but libmaxminddb checks its
 * structure (a corrupt file fails at open or gives lookup errors); the code
 * found is accepted only as two ASCII letters.
 */
#ifndef LK_WEB_GEOIP_H
#define LK_WEB_GEOIP_H

#include <sys/socket.h>

#include "core/buf.h"

struct geoip;

/* NULL with what to fix in err if the file cannot be opened or read. */
struct geoip *geoip_open(const char *path, struct buf *err);
/* 0 with cc set to an upper-case two-letter code, or -1 if the address is
 * not in the database (or the entry has no usable country). */
int geoip_country(const struct geoip *g, const struct sockaddr *sa, char cc[3]);
/* NULL does nothing. */
void geoip_close(struct geoip *g);

#endif
