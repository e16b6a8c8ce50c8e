/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Out of memory is a broken environment, not an input error: these abort
 * with a message (Postfix mymalloc.c). xcalloc and xreallocarray check the
 * multiplication for overflow.
 */
#ifndef LK_CORE_XMALLOC_H
#define LK_CORE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t count, size_t size);
/* Copies at most n bytes of p and NUL-terminates; the caller frees. */
char *xstrndup(const char *p, size_t n);
char *xstrdup(const char *z);
/* Copies n bytes of p into a new NUL-terminated allocation (p may hold NULs). */
char *xmemdup(const void *p, size_t n);
/* Zeroes n bytes of p (not optimised away), then frees p. NULL is a no-op. */
void xfree_wipe(void *p, size_t n);
/* Zeroes the whole usable size of a block from malloc (glibc's
 * malloc_usable_size), then frees it: the free function for libraries that
 * free without saying the size (jansson, see xmalloc_wipe_json). */
void xfree_wipe_usable(void *p);
/* Makes jansson allocate with xmalloc and free with xfree_wipe_usable, so
 * that the addresses and names a JSON value held do not linger in freed
 * memory. Call once at start, before any thread uses jansson. */
void xmalloc_wipe_json(void);

#endif
