/*
 * num.c - strict decimal integer parsing.
 *
 * TRUST: sees untrusted bytes (config values, command arguments, CSV cells);
 * reads exactly len bytes and never relies on a NUL.
 */
#include "core/num.h"

#include <string.h>

int num_parse_i64(const char *p, size_t len, int64_t min, int64_t max, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	if (len == 0 || len > 20)
		return -1;
	if (p[0] == '-' || p[0] == '+') {
		neg = p[0] == '-';
		i = 1;
		if (len == 1)
			return -1;
	}
	uint64_t v = 0;
	const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	int64_t r = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	if (r < min || r > max)
		return -1;
	*out = r;
	return 0;
}

int num_parse_i64_z(const char *z, int64_t min, int64_t max, int64_t *out)
{
	return num_parse_i64(z, strlen(z), min, max, out);
}
