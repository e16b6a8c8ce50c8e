/*
 * utf8.c - UTF-8 validation for parsers of outside input.
 *
 * API: utf8_valid (see utf8.h). The ASCII fast path tests eight bytes at a
 * time, so validating mostly-ASCII text (CSV imports) costs little.
 *
 * TRUST: sees untrusted bytes; reads exactly len bytes, never past them,
 * and allocates nothing.
 */
#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

int utf8_valid(const char *p, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < len) {
		if (len - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* past U+10FFFF */
		} else {
			goto fail; /* continuation byte, C0/C1 overlong lead, F5..FF */
		}
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			goto fail;
		for (size_t k = 2; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
		i += n;
	}
	return 1;
fail:
	if (bad != NULL)
		*bad = i;
	return 0;
}
