/*
 * fuzz_address.c - libFuzzer driver for address_parse and mailbox_parse.
 *
 * Both parsers see the input. Whatever is accepted must be normalised for
 * good: re-parsing out.addr gives out.addr and out.key again (with both
 * functions), the parts obey the limits of limits.h, and no CR, LF or NUL
 * gets through. Whatever is refused leaves out empty and says why in one
 * line. Seeds: corpus/fuzz_address/ (plain, IDN, quoted, name-addr forms,
 * injection attempts, over-long parts).
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "core/address.h"

static int clean(const char *z, size_t max)
{
	size_t n = strlen(z);
	return n > 0 && n <= max && !str_has_ctl_line((struct str){z, n}) && utf8_valid(z, n, NULL);
}

static void check_ok(const struct address *a)
{
	if (!clean(a->addr, LK_MAX_ADDRESS) || !clean(a->key, LK_MAX_ADDRESS) ||
	    !clean(a->local, LK_MAX_LOCAL_PART) || !clean(a->domain, LK_MAX_DOMAIN))
		abort();
	if (a->display != NULL && !clean(a->display, LK_MAX_NAME))
		abort();
	size_t ll = strlen(a->local);
	if (strncmp(a->addr, a->local, ll) != 0 || a->addr[ll] != '@' ||
	    strcmp(a->addr + ll + 1, a->domain) != 0 || strlen(a->key) != strlen(a->addr) ||
	    strcmp(a->key + ll + 1, a->domain) != 0)
		abort();
	for (const char *d = a->domain; *d; d++)
		if (*d >= 'A' && *d <= 'Z')
			abort();
	/* idempotent, through both entry points */
	for (int fn = 0; fn < 2; fn++) {
		struct address b;
		struct buf err;
		buf_init(&err, 1024);
		int r = fn ? mailbox_parse(a->addr, strlen(a->addr), &b, &err)
			   : address_parse(a->addr, strlen(a->addr), &b, &err);
		if (r != 0 || strcmp(b.addr, a->addr) != 0 || strcmp(b.key, a->key) != 0 ||
		    b.display != NULL)
			abort();
		address_free(&b);
		buf_free(&err);
	}
}

static void check_bad(const struct address *a, const struct buf *err)
{
	if (a->addr != NULL || a->key != NULL || a->local != NULL || a->domain != NULL ||
	    a->display != NULL)
		abort();
	if (err->len == 0 || str_has_ctl_line(buf_str(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	if (size)
		memcpy(text, data, size);
	for (int fn = 0; fn < 2; fn++) {
		struct address a;
		struct buf err;
		buf_init(&err, 4096);
		int r =
		    fn ? mailbox_parse(text, size, &a, &err) : address_parse(text, size, &a, &err);
		if (r == 0)
			check_ok(&a);
		else if (r == -1)
			check_bad(&a, &err);
		else
			abort();
		address_free(&a);
		buf_free(&err);
	}
	free(text);
	return 0;
}
