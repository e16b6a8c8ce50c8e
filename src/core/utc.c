/*
 * utc.c - see utc.h.
 * TRUST: no outside input (times come from the store or the clock).
 */
#include "core/utc.h"

#include <time.h>

#include "core/buf.h"

int utc_format(int64_t t, const char *fmt, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	/* fmt is checked at each call (the format attribute in utc.h). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	size_t n = gmtime_r(&tt, &tm) != NULL ? strftime(out, cap, fmt, &tm) : 0;
#pragma GCC diagnostic pop
	if (n != 0)
		return 0;
	bsnprintf(out, cap, "%lld", (long long)t);
	return -1;
}
