/*
 * xmalloc.c - allocation wrappers that abort on exhaustion.
 *
 * TRUST: sees no outside input; sizes come from callers that checked their
 * limits (core/limits.h) before allocating.
 */
#include "core/xmalloc.h"

#include <jansson.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "listkeeper: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, count * size);
}

char *xstrndup(const char *p, size_t n)
{
	size_t len = strnlen(p, n);
	char *q = xmalloc(len + 1);
	memcpy(q, p, len);
	q[len] = '\0';
	return q;
}

char *xstrdup(const char *z)
{
	return xmemdup(z, strlen(z));
}

char *xmemdup(const void *p, size_t n)
{
	if (n == SIZE_MAX)
		oom(n);
	char *q = xmalloc(n + 1);
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

void xfree_wipe(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

void xfree_wipe_usable(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *json_xmalloc(size_t n)
{
	return xmalloc(n);
}

void xmalloc_wipe_json(void)
{
	json_set_alloc_funcs(json_xmalloc, xfree_wipe_usable);
}
