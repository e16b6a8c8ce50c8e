/*
 * utf8.h - UTF-8 validation (RFC 3629).
 *
 * Valid means: no stray continuation byte, no truncated sequence, no
 * overlong form, no UTF-16 surrogate (U+D800..U+DFFF), nothing past
 * U+10FFFF. NUL is valid UTF-8; callers that refuse it check separately.
 *
 * TRUST: sees untrusted bytes; reads exactly len bytes.
 */
#ifndef LK_CORE_UTF8_H
#define LK_CORE_UTF8_H

#include <stddef.h>

/* Returns 1 if the len bytes at p are valid UTF-8. Otherwise returns 0 and,
 * if bad is not NULL, stores the offset of the first byte that is wrong. */
int utf8_valid(const char *p, size_t len, size_t *bad);

#endif
