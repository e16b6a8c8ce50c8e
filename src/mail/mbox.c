/*
 * mbox.c - the mbox format, read and written in one place (mbox.h).
 *
 * API: mbox_reader_init, mbox_next, mbox_write.
 *
 * TRUST: the bytes read are untrusted: bounded by len and out->max.
 */
#include "mail/mbox.h"

#include <string.h>
#include <time.h>

static int is_from(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* 1 if the line p[0..n) (its line end included) is '>'* "From ". */
static int quoted_from(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] == '>')
		i++;
	return is_from(p + i, n - i);
}

static int blank(const char *p, size_t n)
{
	return n == 0 || (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

/* The end of the line that starts at off (after its LF), or len. */
static size_t line_end(const struct mbox_reader *r, size_t off)
{
	const char *nl = memchr(r->p + off, '\n', r->len - off);
	return nl != NULL ? (size_t)(nl - r->p) + 1 : r->len;
}

void mbox_reader_init(struct mbox_reader *r, const char *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->line = 1;
}

enum mbox_result mbox_next(struct mbox_reader *r, struct buf *out, size_t *line)
{
	buf_reset(out);
	*line = r->line;
	if (r->off >= r->len)
		return MBOX_END;
	int junk = !is_from(r->p + r->off, r->len - r->off);
	size_t off = r->off, ln = r->line;
	if (!junk) { /* the "From " line */
		off = line_end(r, off);
		ln++;
	}
	int prev_blank = 0, seen = 0;
	size_t pending = 0; /* a blank line held back: the separator, if a From follows */
	const char *pend_p = NULL;
	while (off < r->len) {
		size_t e = line_end(r, off);
		const char *lp = r->p + off;
		size_t n = e - off;
		if (is_from(lp, n) && (prev_blank || (junk && !seen)))
			break;
		if (pending) {
			buf_append(out, pend_p, pending);
			pending = 0;
		}
		if (blank(lp, n)) {
			pend_p = lp;
			pending = n;
		} else if (!junk && lp[0] == '>' && quoted_from(lp, n)) {
			buf_append(out, lp + 1, n - 1);
		} else {
			buf_append(out, lp, n);
		}
		prev_blank = blank(lp, n);
		seen = 1;
		off = e;
		ln++;
	}
	/* a blank line held at the end of the file is the last separator */
	r->off = off;
	r->line = ln;
	if (junk) {
		/* only white space before the first From: nothing to say */
		for (size_t i = 0; i < out->len; i++)
			if (out->data[i] != ' ' && out->data[i] != '\t' && out->data[i] != '\r' &&
			    out->data[i] != '\n')
				return MBOX_JUNK;
		return mbox_next(r, out, line);
	}
	return out->err ? MBOX_TOO_BIG : MBOX_MESSAGE;
}

int mbox_write(struct buf *out, int64_t date, const char *msg, size_t len)
{
	char when[40] = "Thu Jan  1 00:00:00 1970";
	time_t t = (time_t)date;
	struct tm tm;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From - %s\n", when);
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(msg + off, '\n', len - off);
		size_t e = nl != NULL ? (size_t)(nl - msg) + 1 : len;
		if (quoted_from(msg + off, e - off))
			buf_putc(out, '>');
		buf_append(out, msg + off, e - off);
		off = e;
	}
	if (len == 0 || msg[len - 1] != '\n')
		buf_putc(out, '\n');
	buf_putc(out, '\n');
	return out->err ? -1 : 0;
}
