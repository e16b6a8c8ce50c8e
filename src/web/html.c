/*
 * html.c - HTML escaping and an escaping printf (see html.h).
 *
 * TRUST: sees untrusted text and escapes all of it; output size is bounded
 * by the caller's struct buf.
 */
#include "web/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmpl.h"

int html_escape(struct buf *b, const char *p, size_t len)
{
	return tmpl_escape_html(b, p, len);
}

int html_escape_z(struct buf *b, const char *z)
{
	if (z == NULL)
		return b->err ? -1 : 0;
	return html_escape(b, z, strlen(z));
}

int html_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *p = fmt;
	while (*p) {
		const char *pct = strchr(p, '%');
		if (pct == NULL) {
			buf_puts(b, p);
			break;
		}
		buf_append(b, p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == '%') {
			buf_putc(b, '%');
			p++;
		} else if (*p == 's') {
			html_escape_z(b, va_arg(ap, const char *));
			p++;
		} else if (strncmp(p, ".*s", 3) == 0) {
			int n = va_arg(ap, int);
			const char *s = va_arg(ap, const char *);
			if (n > 0 && s != NULL)
				html_escape(b, s, (size_t)n);
			p += 3;
		} else if (*p == 'd') {
			buf_printf(b, "%d", va_arg(ap, int));
			p++;
		} else if (*p == 'u') {
			buf_printf(b, "%u", va_arg(ap, unsigned));
			p++;
		} else if (strncmp(p, "ld", 2) == 0) {
			buf_printf(b, "%ld", va_arg(ap, long));
			p += 2;
		} else if (strncmp(p, "lld", 3) == 0) {
			buf_printf(b, "%lld", va_arg(ap, long long));
			p += 3;
		} else if (strncmp(p, "zu", 2) == 0) {
			buf_printf(b, "%zu", va_arg(ap, size_t));
			p += 2;
		} else {
			fprintf(stderr, "bug: html_printf: unsupported conversion in \"%s\"\n",
				fmt);
			abort();
		}
	}
	va_end(ap);
	return b->err ? -1 : 0;
}
