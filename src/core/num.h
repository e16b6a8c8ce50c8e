/*
 * num.h - number parsing with an explicit length and range (Redis string2ll).
 *
 * Out of range, empty, signs where none are allowed, or trailing bytes: the
 * parse fails (-1) and *out is untouched. Nothing is clamped.
 */
#ifndef LK_CORE_NUM_H
#define LK_CORE_NUM_H

#include <stddef.h>
#include <stdint.h>

int num_parse_i64(const char *p, size_t len, int64_t min, int64_t max, int64_t *out);
/* The same for a NUL-terminated string. */
int num_parse_i64_z(const char *z, int64_t min, int64_t max, int64_t *out);

#endif
