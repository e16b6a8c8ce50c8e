/*
 * csv.c - a streaming RFC 4180 CSV reader with bounded memory.
 *
 * API (csv.h): csv_open / csv_open_mem, csv_next one record at a time,
 * csv_error, csv_offset, csv_free.
 *
 * How it works. The reader owns a window of input: for a FILE, a fixed
 * buffer filled by fread in CSV_CHUNK pieces; for memory, the caller's
 * bytes. A record is scanned from its first byte; when the window ends
 * before the record does, the unread tail is moved to the front, one more
 * chunk is read, and the record is scanned again from its start (this
 * costs one re-scan of at most one record per chunk and keeps the scanner
 * free of saved state). The scanner never looks further than
 * LK_MAX_CSV_RECORD + 2 bytes past the start of a record, so the buffer is
 * CSV_CHUNK + LK_MAX_CSV_RECORD plus a little, whatever the file holds.
 * Field bytes are copied (quotes removed, "" made ") into a record buffer
 * of LK_MAX_CSV_RECORD bytes that the row's views point into.
 *
 * The inner loops step over ordinary bytes with one table look-up each;
 * UTF-8 is validated afterwards per field with an eight-bytes-at-a-time
 * ASCII fast path.
 *
 * Resynchronisation after a bad record (csv.h): quoting errors (a quote in
 * an unquoted field, text after a closing quote, a quoted field open at end
 * of input or past LK_MAX_CSV_RECORD) resume at the line after the one
 * where the record began, because the quotes cannot be trusted to say where
 * it ends. Other errors (NUL, bad UTF-8, a CR without LF, too long a field,
 * too many fields) leave the quoting intact, so reading resumes after the
 * end of the record. A record longer than LK_MAX_CSV_RECORD outside quotes
 * is skipped to the next LF, reading and dropping chunks as it goes.
 * Line numbers count LF bytes, so CRLF and LF files number alike and a
 * line break inside quotes counts.
 *
 * TRUST: the file is untrusted. Memory is fixed at csv_open: nothing the
 * input says makes the reader allocate. Fields handed out contain no NUL
 * and are valid UTF-8; they may contain CR and LF (inside quotes).
 */
#include "core/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/xmalloc.h"

#ifndef CSV_CHUNK
#define CSV_CHUNK 65536 /* bytes per fread */
#endif
/* The scanner sees at most this much of one record: the record and a CRLF. */
#define CSV_WINDOW (LK_MAX_CSV_RECORD + 2)
#define CSV_BUFSZ (CSV_CHUNK + CSV_WINDOW)

struct csv {
	FILE *fp;	 /* NULL when reading from memory */
	char *buf;	 /* CSV_BUFSZ bytes when reading from fp */
	const char *win; /* buf, or the caller's bytes */
	size_t pos;	 /* next unread byte in win */
	size_t len;	 /* bytes valid in win */
	size_t chunk;	 /* bytes per fread (tests make it small) */
	uint64_t base;	 /* input offset of win[0] */
	uint64_t line;	 /* line number of win[pos] */
	int eof;	 /* nothing follows win[len] */
	int started;	 /* the BOM check is done */
	char err[128];
	char rec[CSV_WINDOW]; /* field bytes never outnumber the bytes scanned */
};

/* Byte classes: bytes that end a run of ordinary field bytes. */
#define U_STOP 1 /* in an unquoted field: , " CR LF NUL */
#define Q_STOP 2 /* in a quoted field: " LF NUL */
static const unsigned char cls[256] = {
    ['\0'] = U_STOP | Q_STOP, ['\n'] = U_STOP | Q_STOP, ['\r'] = U_STOP,
    [','] = U_STOP,	      ['"'] = U_STOP | Q_STOP,
};

enum scan {
	SCAN_EOF,   /* no more input */
	SCAN_MORE,  /* the window ends inside the record: read more, scan again */
	SCAN_EMPTY, /* an empty line: used bytes */
	SCAN_ROW,   /* a good record: used bytes, nl line breaks in it */
	SCAN_BAD,   /* a bad record with a sound end: skip used bytes and nl lines */
	SCAN_QUOTE, /* a quoting error: resume at the line after the start */
	SCAN_LONG,  /* over-long outside quotes at used: skip to the next LF */
};

struct scan_res {
	size_t used;
	uint64_t nl;
};

static struct csv *csv_new(void)
{
	struct csv *c = xcalloc(1, sizeof(*c));
	c->line = 1;
	c->chunk = CSV_CHUNK;
	return c;
}

struct csv *csv_open(FILE *fp)
{
	struct csv *c = csv_new();
	c->fp = fp;
	c->buf = xmalloc(CSV_BUFSZ);
	c->win = c->buf;
	return c;
}

struct csv *csv_open_mem(const char *p, size_t len)
{
	struct csv *c = csv_new();
	c->win = p;
	c->len = len;
	c->eof = 1;
	return c;
}

void csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	if (c->buf != NULL)
		xfree_wipe(c->buf, CSV_BUFSZ);
	explicit_bzero(c->rec, sizeof(c->rec));
	free(c);
}

const char *csv_error(const struct csv *c)
{
	return c->err;
}

uint64_t csv_offset(const struct csv *c)
{
	return c->base + c->pos;
}

/* Moves the unread bytes to the front and reads one more chunk. Returns 0
 * (eof set when the file has ended) or -1 on a read error. */
static int refill(struct csv *c)
{
	if (c->fp == NULL || c->eof) {
		c->eof = 1;
		return 0;
	}
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->base += c->pos;
		c->len -= c->pos;
		c->pos = 0;
	}
	size_t want = CSV_BUFSZ - c->len;
	if (want > c->chunk)
		want = c->chunk;
	size_t got = fread(c->buf + c->len, 1, want, c->fp);
	c->len += got;
	if (got < want) {
		if (ferror(c->fp)) {
			if (errno == 0)
				errno = EIO;
			return -1;
		}
		c->eof = 1;
	}
	return 0;
}

/* Drops input up to and including the next LF at or after win[from]; the
 * line count goes up by one. Returns 0, or -1 on a read error. */
static int skip_line(struct csv *c, size_t from)
{
	c->pos = from;
	for (;;) {
		const char *lf = memchr(c->win + c->pos, '\n', c->len - c->pos);
		if (lf != NULL) {
			c->pos = (size_t)(lf - c->win) + 1;
			c->line++;
			return 0;
		}
		c->pos = c->len;
		if (c->eof)
			return 0;
		if (refill(c) < 0)
			return -1;
	}
}

/* Appends n bytes to the field that began at rec[fstart]; -1 if that would
 * make it longer than LK_MAX_CSV_FIELD. */
static inline int put(struct csv *c, size_t *out, size_t fstart, const void *src, size_t n)
{
	if (*out - fstart + n > LK_MAX_CSV_FIELD)
		return -1;
	memcpy(c->rec + *out, src, n);
	*out += n;
	return 0;
}

#define SET_BAD(...)                                                                               \
	do {                                                                                       \
		if (!bad) {                                                                        \
			bad = 1;                                                                   \
			bsnprintf(c->err, sizeof(c->err), __VA_ARGS__);                            \
		}                                                                                  \
	} while (0)

#define QUOTE_BAD(msg)                                                                             \
	do {                                                                                       \
		bsnprintf(c->err, sizeof(c->err), "%s", msg);                                      \
		return SCAN_QUOTE;                                                                 \
	} while (0)

/* Scans the record that starts at win[pos]; see enum scan. Field views go
 * into row->fields, their bytes into c->rec. */
static enum scan scan_record(struct csv *c, struct csv_row *row, struct scan_res *r)
{
	const unsigned char *p = (const unsigned char *)c->win + c->pos;
	size_t avail = c->len - c->pos;
	size_t lim = avail < CSV_WINDOW ? avail : CSV_WINDOW;
	/* At p[lim]: the record is over-long (capped), or more may come. */
	int capped = avail > CSV_WINDOW, more = !c->eof;
	size_t i = 0, out = 0, nf = 0, fstart;
	uint64_t nl = 0;
	int bad = 0;

	r->used = 0;
	r->nl = 0;
	if (lim == 0)
		return more ? SCAN_MORE : SCAN_EOF;
	if (p[0] == '\n') {
		r->used = 1;
		return SCAN_EMPTY;
	}
	if (p[0] == '\r') {
		if (lim == 1 && more)
			return SCAN_MORE;
		if (lim >= 2 && p[1] == '\n') {
			r->used = 2;
			return SCAN_EMPTY;
		}
	}
	for (;;) {
		/* One field. */
		size_t j;
		fstart = out;
		if (i < lim && p[i] == '"') {
			i++;
			for (;;) {
				j = i;
				while (j < lim && !(cls[p[j]] & Q_STOP))
					j++;
				if (!bad && put(c, &out, fstart, p + i, j - i) < 0)
					SET_BAD("field %zu is longer than %d bytes", nf + 1,
						LK_MAX_CSV_FIELD);
				i = j;
				if (i == lim) {
					if (capped)
						QUOTE_BAD(
						    "quoted field not closed within the record "
						    "limit (a stray quote?)");
					if (more)
						return SCAN_MORE;
					QUOTE_BAD("unterminated quoted field");
				}
				unsigned char ch = p[i];
				if (ch == '"') {
					if (i + 1 == lim && (more || capped)) {
						if (capped)
							QUOTE_BAD(
							    "quoted field not closed within the "
							    "record limit (a stray quote?)");
						return SCAN_MORE;
					}
					if (i + 1 < lim && p[i + 1] == '"') {
						ch = '"';
						i += 2;
					} else {
						i++;
						break; /* the closing quote */
					}
				} else if (ch == '\n') {
					nl++;
					i++;
				} else { /* NUL */
					SET_BAD("NUL byte in field %zu", nf + 1);
					i++;
					continue;
				}
				if (!bad && put(c, &out, fstart, &ch, 1) < 0)
					SET_BAD("field %zu is longer than %d bytes", nf + 1,
						LK_MAX_CSV_FIELD);
			}
			/* After the closing quote: a separator or the end. */
			if (i < lim && p[i] != ',' && p[i] != '\n' &&
			    (p[i] != '\r' || (i + 1 < lim && p[i + 1] != '\n')))
				QUOTE_BAD("text after a closing quote");
		} else {
			for (;;) {
				j = i;
				while (j < lim && !(cls[p[j]] & U_STOP))
					j++;
				if (!bad && put(c, &out, fstart, p + i, j - i) < 0)
					SET_BAD("field %zu is longer than %d bytes", nf + 1,
						LK_MAX_CSV_FIELD);
				i = j;
				if (i == lim || p[i] == ',' || p[i] == '\n')
					break;
				if (p[i] == '"')
					QUOTE_BAD("quote inside an unquoted field");
				if (p[i] == '\r') {
					if (i + 1 == lim && (more || capped))
						break; /* decided below */
					if (i + 1 < lim && p[i + 1] == '\n')
						break;
					SET_BAD("carriage return without line feed in field %zu",
						nf + 1);
				} else {
					SET_BAD("NUL byte in field %zu", nf + 1);
				}
				i++;
			}
		}
		/* The field ends at p[i]: ',' / LF / CR LF / the window's end. */
		if (nf < LK_MAX_CSV_FIELDS) {
			row->fields[nf].ptr = c->rec + fstart;
			row->fields[nf].len = out - fstart;
		} else {
			SET_BAD("more than %d fields", LK_MAX_CSV_FIELDS);
		}
		nf++;
		if (i == lim || (p[i] == '\r' && i + 1 == lim)) {
			if (capped) {
				r->used = i;
				r->nl = nl;
				bsnprintf(c->err, sizeof(c->err), "record longer than %d bytes",
					  LK_MAX_CSV_RECORD);
				return SCAN_LONG;
			}
			if (more)
				return SCAN_MORE;
			if (i < lim) /* a lone CR at the very end of the input */
				SET_BAD("carriage return without line feed in field %zu", nf);
			r->used = lim;
			break;
		}
		if (p[i] == ',') {
			i++;
			continue;
		}
		r->used = i + (p[i] == '\r' ? 2 : 1);
		nl++;
		break;
	}
	r->nl = nl;
	if (!bad && i > LK_MAX_CSV_RECORD)
		SET_BAD("record longer than %d bytes", LK_MAX_CSV_RECORD);
	for (size_t k = 0; !bad && k < nf; k++)
		if (!utf8_valid(row->fields[k].ptr, row->fields[k].len, NULL))
			SET_BAD("field %zu is not valid UTF-8", k + 1);
	if (bad)
		return SCAN_BAD;
	row->nfields = nf;
	return SCAN_ROW;
}

enum csv_result csv_next(struct csv *c, struct csv_row *row)
{
	struct scan_res r;
	row->nfields = 0;
	c->err[0] = '\0';
	if (!c->started) {
		while (c->len - c->pos < 3 && !c->eof)
			if (refill(c) < 0)
				return CSV_IOERR;
		if (c->len - c->pos >= 3 && memcmp(c->win + c->pos, "\xef\xbb\xbf", 3) == 0)
			c->pos += 3;
		c->started = 1;
	}
	for (;;) {
		row->line = c->line;
		switch (scan_record(c, row, &r)) {
		case SCAN_EOF:
			return CSV_EOF;
		case SCAN_MORE:
			if (refill(c) < 0)
				return CSV_IOERR;
			continue;
		case SCAN_EMPTY:
			c->pos += r.used;
			c->line++;
			continue;
		case SCAN_ROW:
			c->pos += r.used;
			c->line += r.nl;
			return CSV_ROW;
		case SCAN_BAD:
			row->nfields = 0;
			c->pos += r.used;
			c->line += r.nl;
			return CSV_BAD;
		case SCAN_QUOTE:
			row->nfields = 0;
			if (skip_line(c, c->pos) < 0)
				return CSV_IOERR;
			return CSV_BAD;
		case SCAN_LONG:
			row->nfields = 0;
			c->line += r.nl;
			if (skip_line(c, c->pos + r.used) < 0)
				return CSV_IOERR;
			return CSV_BAD;
		}
	}
}
