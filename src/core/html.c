/*
 * html.c - the HTML escaper (see html.h).
 *
 * TRUST: the bytes are untrusted and read by length only.
 */
#include "core/html.h"

void html_escape(html_sink *put, void *ctx, const char *p, size_t len, unsigned flags)
{
	int br = (flags & HTML_BR) != 0;
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep;
		size_t rl;
		switch (p[i]) {
		case '&':
			rep = "&amp;", rl = 5;
			break;
		case '<':
			rep = "&lt;", rl = 4;
			break;
		case '>':
			rep = "&gt;", rl = 4;
			break;
		case '"':
			rep = "&quot;", rl = 6;
			break;
		case '\'':
			rep = "&#39;", rl = 5;
			break;
		case '\0':
			rep = "&#xFFFD;", rl = 8;
			break;
		case '\r':
			if (!br || i + 1 >= len || p[i + 1] != '\n')
				continue;
			rep = "", rl = 0; /* CR LF: the LF makes the <br> */
			break;
		case '\n':
			if (!br)
				continue;
			rep = "<br>\r\n", rl = 6;
			break;
		default:
			continue;
		}
		if (i > run)
			put(ctx, p + run, i - run);
		if (rl > 0)
			put(ctx, rep, rl);
		run = i + 1;
	}
	if (len > run)
		put(ctx, p + run, len - run);
}

/* Once an append is refused nothing more goes in: no later run may follow
 * a gap. The refusal stays in the buffer's sticky err. */
static void to_buf(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;
	if (!b->err)
		buf_append(b, p, n);
}

int html_escape_buf(struct buf *out, const char *p, size_t len, unsigned flags)
{
	html_escape(to_buf, out, p, len, flags);
	return out->err ? -1 : 0;
}
