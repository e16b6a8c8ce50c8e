/*
 * html.h - HTML output that escapes by default.
 *
 *   html_escape / html_escape_z  append text with & < > " ' escaped, safe in
 *                                element content and in quoted attributes
 *   html_printf                  a printf for markup: every %s and %.*s
 *                                argument is escaped; the format string
 *                                itself is the only markup that passes raw
 *
 * Text that is to appear on a page goes through one of these; the only raw
 * appends are of string literals written in this source tree. Escaped text
 * is not safe inside <script>, <style>, an unquoted attribute or a URL
 * scheme position: pages never put text there.
 *
 * TRUST: the arguments are untrusted (list titles, descriptions, paths); the
 * format string must be a literal. Errors follow struct buf: an append past
 * b->max sets b->err (sticky) and the caller checks it once at the end.
 */
#ifndef LK_WEB_HTML_H
#define LK_WEB_HTML_H

#include <stddef.h>

#include "core/buf.h"

/* Appends len bytes of p with the five HTML-special characters replaced by
 * character references (&amp; &lt; &gt; &quot; &#39;) and NUL bytes by
 * U+FFFD. Returns 0, or -1 (b->err set) when b->max would be passed. */
int html_escape(struct buf *b, const char *p, size_t len);
/* The same for a NUL-terminated string; NULL appends nothing. */
int html_escape_z(struct buf *b, const char *z);

/* Formats into b. Conversions: %s (escaped; NULL as ""), %.*s (int length,
 * then pointer; escaped), %d, %u, %ld, %lld, %zu, %%. Any other conversion
 * is a bug and aborts. Returns 0 or -1 (b->err set). */
int html_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
