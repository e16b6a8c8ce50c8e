/*
 * fuzz_tmpl.c - libFuzzer driver for the template renderer (core/tmpl.c).
 *
 * The input is cut at NUL bytes into up to three templates: page.html,
 * part.html and mail.txt, which may include each other. Each one that
 * parses is rendered with fixed values (a flag, a list of items, nested
 * lists, and text like \x01<'\x02: \x01 starts a value) into a 64 KiB buffer. The renderer
 * must keep its promises: a failure always says why; and in HTML mode,
 * escaping holds: when the templates hold neither a \x01 byte nor a raw tag
 * "{{{", no "\x01<" can reach the output (the value's '<' is escaped).
 * Seeds: corpus/fuzz_tmpl/ (the built-in pages, sections, includes that
 * loop, errors).
 *
 * TRUST: the whole input is untrusted; every template is copied to an
 * exact-size heap block so that ASan catches any read past its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tmpl_vars *values(void)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "name", "\x01<'\x02");
	tmpl_put(v, "title", "\x01<b>\"&\x02");
	tmpl_put_bool(v, "flag", 1);
	tmpl_put_bool(v, "off", 0);
	for (int i = 0; i < 3; i++) {
		struct tmpl_vars *it = tmpl_add_item(v, "items");
		tmpl_put(it, "name", "\x01<i>\x02");
		tmpl_put_int(it, "n", i);
		tmpl_put(tmpl_add_item(it, "inner"), "x", "\x01<x\x02");
	}
	tmpl_put_list(v, "none");
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"page.html", "part.html", "mail.txt"};
	struct tmpl_set *s = tmpl_set_new();
	struct buf err;
	buf_init(&err, 4096);
	const char *p = (const char *)data;
	size_t left = size;
	int plain = memchr(data, 1, size) == NULL && memmem(data, size, "{{{", 3) == NULL;
	for (int i = 0; i < 3; i++) {
		const char *nul = memchr(p, '\0', left);
		size_t n = nul != NULL ? (size_t)(nul - p) : left;
		char *copy = malloc(n ? n : 1);
		memcpy(copy, p, n);
		buf_reset(&err);
		if (tmpl_set_add(s, names[i], copy, n, names[i], &err) < 0 && err.len == 0)
			abort(); /* a failure must say why */
		free(copy);
		if (nul == NULL)
			break;
		p = nul + 1;
		left -= n + 1;
	}
	buf_reset(&err);
	(void)tmpl_set_check(s, &err);
	struct tmpl_vars *v = values();
	for (int i = 0; i < 3; i++) {
		if (!tmpl_set_has(s, names[i]))
			continue;
		struct buf out;
		buf_init(&out, 64 << 10);
		buf_reset(&err);
		if (tmpl_render(s, names[i], v, &out, &err) < 0) {
			if (err.len == 0)
				abort();
		} else if (i < 2 && plain && out.len > 0 && memmem(out.data, out.len, "\x01<", 2)) {
			abort(); /* a value's '<' escaped HTML mode */
		}
		buf_free(&out);
	}
	tmpl_vars_free(v);
	buf_free(&err);
	tmpl_set_free(s);
	return 0;
}
