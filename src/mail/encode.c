/*
 * encode.c - the encodings of outgoing mail: quoted-printable bodies and
 * header text (encode.h).
 *
 * API: encode_qp_init / encode_qp_write / encode_qp_end, encode_qp_bol;
 * encode_header_text, encode_header_phrase.
 *
 * Speed: compose.c calls this once per recipient, a million times for a
 * large list. The quoted-printable encoder writes into a 4 KiB chunk that
 * goes to the output buffer a few lines at a time; its inner loop tests
 * eight bytes at once for anything that needs more than a copy, then
 * copies with memcpy: no function call per byte.
 *
 * TRUST: sees untrusted bytes (bodies from list owners, names from
 * subscribers); reads exactly len bytes. Header text: CR, LF and NUL become
 * spaces before anything else, and what is not printable ASCII goes as
 * encoded words, so no input can start a header line of its own.
 */
#include "mail/encode.h"

#include <stdint.h>
#include <string.h>

#include "core/utf8.h"

#define EW_LINE 76 /* RFC 2047 section 2: a line holding encoded words */
#define EW_MAX 75  /* RFC 2047 section 2: one encoded word */
#define EW_WRAP 12 /* "=?UTF-8?Q?" and "?=" */
#define QP_LINE 76 /* RFC 2045 section 6.7 (5), without the CRLF */

static const char hexd[] = "0123456789ABCDEF";

/* ------------------------------------------------------------------ */
/* Quoted-printable (RFC 2045 section 6.7).                            */

#define QP_ROOM 256 /* at a line start, flush when less than this is left */

enum { QL = 0, QE = 1, QR = 2, QF = 3 };
#define L QL
#define E QE
#define R QR
#define F QF
/* L: stands for itself; E: =XX; R: CR (a line break with a LF after it);
 * F: LF (a line break). Space and tab are L: the hard break fixes a
 * trailing one (rule 3). */
static const unsigned char qp_class[256] = {
    E, E, E, E, E, E, E, E, E, L, F, E, E, R, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
    L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, E, L, L,
    L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, E,
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
    E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
};
#undef L
#undef E
#undef R
#undef F

void encode_qp_init(struct encode_qp *q, struct buf *out)
{
	q->out = out;
	q->pos = q->col = 0;
	q->cr = 0;
	q->bol = 1;
}

static void qp_flush(struct encode_qp *q)
{
	buf_append(q->out, q->c, q->pos);
	q->pos = 0;
}

static void qp_soft(struct encode_qp *q)
{
	memcpy(q->c + q->pos, "=\r\n", 3);
	q->pos += 3;
	q->col = 0;
	if (q->pos > ENCODE_QP_CHUNK - QP_ROOM)
		qp_flush(q);
}

static void qp_put3(struct encode_qp *q, unsigned char b)
{
	char *d = q->c + q->pos;
	d[0] = '=';
	d[1] = hexd[b >> 4];
	d[2] = hexd[b & 15];
	q->pos += 3;
	q->col += 3;
}

static void qp_hex(struct encode_qp *q, unsigned char b)
{
	if (q->col + 3 > QP_LINE - 1) /* room for the '=' of a soft break */
		qp_soft(q);
	qp_put3(q, b);
	q->bol = 0;
}

/* Rule 3: white space at the end of an encoded line is encoded. A literal
 * space or tab is the only thing that can end a line in a space or tab
 * (=XX ends in a hex digit, a soft break in LF). */
static void qp_trailing_ws(struct encode_qp *q)
{
	if (q->col == 0)
		return;
	unsigned char last = (unsigned char)q->c[q->pos - 1];
	if (last != ' ' && last != '\t')
		return;
	q->pos--;
	q->col--;
	if (q->col + 3 > QP_LINE) /* a hard break follows: 76 is allowed */
		qp_soft(q);
	qp_put3(q, last);
}

static void qp_hard(struct encode_qp *q)
{
	qp_trailing_ws(q);
	q->c[q->pos++] = '\r';
	q->c[q->pos++] = '\n';
	q->col = 0;
	q->bol = 1;
	if (q->pos > ENCODE_QP_CHUNK - QP_ROOM)
		qp_flush(q);
}

/* 1 if none of the 8 bytes in w needs more than a copy: no control
 * character, nothing past '~', no '=' (tab, which is fine, takes the slow
 * path). Presence tests on all bytes at once (the "haszero" family). */
static int qp_plain8(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t ctl = (w - ones * 0x20) & ~w & high;
	uint64_t hi = ((w + ones) | w) & high;
	uint64_t x = w ^ (ones * '=');
	uint64_t eq = (x - ones) & ~x & high;
	return (ctl | hi | eq) == 0;
}

/* LF and CRLF in the input are line breaks (CRLF out); a lone CR is =0D. */
void encode_qp_write(struct encode_qp *q, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p, *e = s + n;
	if (n == 0)
		return;
	if (q->cr) {
		q->cr = 0;
		if (*s == '\n') {
			qp_hard(q);
			s++;
		} else {
			qp_hex(q, '\r');
		}
	}
	while (s < e) {
		switch (qp_class[*s]) {
		case QL: {
			const unsigned char *r = s + 1;
			uint64_t w;
			while (e - r >= 8 && (memcpy(&w, r, 8), qp_plain8(w)))
				r += 8;
			while (r < e && qp_class[*r] == QL)
				r++;
			while (s < r) {
				size_t room = QP_LINE - 1 - q->col;
				if (room == 0) {
					qp_soft(q);
					continue;
				}
				size_t k = (size_t)(r - s) < room ? (size_t)(r - s) : room;
				memcpy(q->c + q->pos, s, k);
				q->pos += k;
				q->col += k;
				s += k;
			}
			q->bol = 0;
			break;
		}
		case QE:
			qp_hex(q, *s++);
			break;
		case QF:
			qp_hard(q);
			s++;
			break;
		default: /* QR */
			if (s + 1 == e) {
				q->cr = 1;
				s++;
			} else if (s[1] == '\n') {
				qp_hard(q);
				s += 2;
			} else {
				qp_hex(q, '\r');
				s++;
			}
			break;
		}
	}
}

/* Ends the part: what follows is the CRLF of a boundary or the end. */
void encode_qp_end(struct encode_qp *q)
{
	if (q->cr) {
		q->cr = 0;
		qp_hex(q, '\r');
	}
	qp_trailing_ws(q);
	qp_flush(q);
}

int encode_qp_bol(const struct encode_qp *q)
{
	return q->bol;
}

/* ------------------------------------------------------------------ */
/* Header text: as it is, quoted, or RFC 2047 encoded words.           */

/* CR, LF and NUL never reach a header: they become spaces. */
static unsigned char hdr_byte(unsigned char c)
{
	return (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

/* Characters that stand for themselves in a "Q" word in any context,
 * including a phrase (RFC 2047 section 5 (3)). */
static int q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t q_cost(unsigned char c)
{
	c = hdr_byte(c);
	return (q_plain(c) || c == ' ') ? 1 : 3;
}

static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static void put_mapped(struct buf *out, const char *p, size_t n)
{
	size_t at = out->len;
	if (buf_append(out, p, n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		out->data[at + i] = (char)hdr_byte((unsigned char)out->data[at + i]);
}

/* Printable ASCII with no encoded-word look-alike: may go as it is. */
static int plain_ok(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = hdr_byte((unsigned char)t[i]);
		if (c >= 0x7f || (c < 0x20 && c != '\t'))
			return 0;
		if (c == '=' && i + 1 < len && t[i + 1] == '?')
			return 0;
	}
	return 1;
}

/* Unstructured text folded before white space (RFC 5322 section 3.2.2: at
 * the last white space of a run, so that no folded line is all white
 * space). Returns -1, writing nothing, if some word would not fit in
 * ENCODE_LINE: the caller encodes instead. */
static int put_folded(struct buf *out, const char *t, size_t len, size_t used)
{
	for (int pass = 0; pass < 2; pass++) {
		size_t col = used, seg = 0;
		for (size_t i = 1; i <= len; i++) {
			if (i < len && !(is_wsp((unsigned char)t[i]) && i + 1 < len &&
					 !is_wsp((unsigned char)t[i + 1])))
				continue;
			size_t n = i - seg;
			if (seg > 0 && col + n > ENCODE_LINE) {
				if (pass)
					buf_append(out, "\r\n", 2);
				col = 0;
			}
			if (col + n > ENCODE_LINE)
				return -1; /* only in pass 0: nothing written */
			if (pass)
				put_mapped(out, t + seg, n);
			col += n;
			seg = i;
		}
	}
	return 0;
}

/* A quoted-string (RFC 5322 section 3.2.4) if it fits on the line. */
static int put_quoted(struct buf *out, const char *t, size_t len, size_t used)
{
	size_t q = 2 + len;
	for (size_t i = 0; i < len; i++)
		q += t[i] == '"' || t[i] == '\\';
	if (used + q > ENCODE_LINE)
		return -1;
	buf_putc(out, '"');
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (t[i] != '"' && t[i] != '\\')
			continue;
		put_mapped(out, t + run, i - run);
		buf_putc(out, '\\');
		run = i;
	}
	put_mapped(out, t + run, len - run);
	buf_putc(out, '"');
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_b64(struct buf *out, const char *p, size_t n)
{
	char d[EW_MAX];
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned a = hdr_byte((unsigned char)p[i]);
		unsigned b = i + 1 < n ? hdr_byte((unsigned char)p[i + 1]) : 0;
		unsigned c = i + 2 < n ? hdr_byte((unsigned char)p[i + 2]) : 0;
		unsigned w = a << 16 | b << 8 | c;
		d[o++] = b64[w >> 18];
		d[o++] = b64[(w >> 12) & 63];
		d[o++] = i + 1 < n ? b64[(w >> 6) & 63] : '=';
		d[o++] = i + 2 < n ? b64[w & 63] : '=';
	}
	buf_append(out, d, o);
}

static void put_q(struct buf *out, const char *p, size_t n)
{
	char d[EW_MAX];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = hdr_byte((unsigned char)p[i]);
		if (q_plain(c)) {
			d[o++] = (char)c;
		} else if (c == ' ') {
			d[o++] = '_';
		} else {
			d[o++] = '=';
			d[o++] = hexd[c >> 4];
			d[o++] = hexd[c & 15];
		}
	}
	buf_append(out, d, o);
}

/* How far from i whole characters fit in pay octets of a "Q" or "B" word;
 * *end3 is the farthest end at a multiple of three octets (B: no padding). */
static size_t ew_fit(const char *t, size_t len, size_t i, size_t pay, int q, size_t *end3)
{
	size_t plen = 0, j = i;
	*end3 = i;
	while (j < len) {
		size_t cl = utf8_len((unsigned char)t[j]);
		if (cl > len - j)
			cl = len - j;
		if (q) {
			size_t el = 0;
			for (size_t k = 0; k < cl; k++)
				el += q_cost((unsigned char)t[j + k]);
			if (plen + el > pay)
				break;
			plen += el;
		} else if ((j + cl - i + 2) / 3 * 4 > pay) {
			break;
		}
		j += cl;
		if ((j - i) % 3 == 0)
			*end3 = j;
	}
	return j;
}

/* UTF-8 encoded words, each of whole characters (RFC 2047 section 5), the
 * first after `used` octets, then one per folded line of at most 76. "Q"
 * unless it is much longer than "B" (mostly ASCII text stays readable).
 * A "B" word followed by another "B" word ends without padding: some
 * readers (GMime 3.2) decode adjacent "B" words as one base64 stream and
 * stop at a '=' in the middle; when the characters give no such end, that
 * word goes as "Q". */
static void put_encoded(struct buf *out, const char *t, size_t len, size_t used)
{
	size_t qlen = 0;
	for (size_t i = 0; i < len; i++)
		qlen += q_cost((unsigned char)t[i]);
	int q = qlen * 2 <= (len + 2) / 3 * 4 * 3;
	size_t col = used, i = 0;
	int fresh = 1; /* nothing on this line after the header name or fold */
	while (i < len) {
		size_t room = fresh && col < EW_LINE ? EW_LINE - col : 0;
		if (room > EW_MAX)
			room = EW_MAX;
		size_t pay = room > EW_WRAP ? room - EW_WRAP : 0, j3;
		int wq = q;
		size_t j = ew_fit(t, len, i, pay, wq, &j3);
		if (!wq && j < len) {
			if (j3 > i)
				j = j3;
			else
				wq = 1, j = ew_fit(t, len, i, pay, wq, &j3);
		}
		if (j == i) {
			buf_append(out, "\r\n ", 3);
			col = 1;
			fresh = 1;
			continue;
		}
		buf_append(out, wq ? "=?UTF-8?Q?" : "=?UTF-8?B?", 10);
		if (wq)
			put_q(out, t + i, j - i);
		else
			put_b64(out, t + i, j - i);
		buf_append(out, "?=", 2);
		fresh = 0;
		i = j;
	}
}

/* phrase: a display name (quoted-string or encoded words); else
 * unstructured text (as it is, folded, or encoded words). */
static int header_value(struct buf *out, const char *t, size_t len, size_t used, int phrase)
{
	if (!utf8_valid(t, len, NULL))
		return -1;
	if (plain_ok(t, len)) {
		if (phrase ? put_quoted(out, t, len, used) == 0
			   : put_folded(out, t, len, used) == 0)
			return out->err ? -1 : 0;
	}
	put_encoded(out, t, len, used);
	return out->err ? -1 : 0;
}

int encode_header_text(struct buf *out, const char *t, size_t len, size_t used)
{
	return header_value(out, t, len, used, 0);
}

int encode_header_phrase(struct buf *out, const char *t, size_t len, size_t used)
{
	return header_value(out, t, len, used, 1);
}
