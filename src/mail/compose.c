/*
 * compose.c - one outgoing message for one recipient: the header fields,
 * the parts, the footer and the merge fields (compose.h says what the
 * message holds); the encodings themselves are in encode.c.
 *
 * API: compose_message, compose_header_text, compose_merge, compose_reply.
 * The list's addresses in List-Help and List-Post come from listaddr.h.
 *
 * Shape. This runs once per recipient, a million times for a large list, so
 * nothing is built twice: the merge renderer hands each run of template text
 * and each (escaped) value to a sink, and the quoted-printable sink encodes
 * straight into a 4 KiB chunk on the stack that goes to `out` a few lines at
 * a time. A message costs a few dozen buf_append calls and no allocation
 * once `out` has grown to size.
 *
 * The MIME boundary is "=_" and 24 hex digits of a hash of the Message-ID:
 * random-looking, the same for the same message. Both parts are
 * quoted-printable, where "=" is always followed by two hex digits or a line
 * break, so "=_" cannot occur in an encoded body and the boundary cannot
 * collide with it (RFC 2045 section 6.7; RFC 2046 section 5.1.1 allows '='
 * and '_' in a boundary, quoted).
 *
 * TRUST: the subject, bodies, footer and title come from list owners, the
 * name from the subscriber: all untrusted. Addresses, URLs, the Message-ID
 * and the extra header lines are checked, never encoded: any CR, LF, NUL,
 * space or angle bracket in them is refused. Text that goes into a header
 * (subject, names, title) has CR, LF and NUL turned into spaces and is then
 * either written as it is (printable ASCII, folded at white space) or as
 * encoded words, so no input can start a header line. Bounds: LK_MAX_MESSAGE
 * for the whole message, LK_MAX_NAME, LK_MAX_LIST_TITLE, LK_MAX_LIST_TEXT,
 * LK_MAX_ADDRESS and LK_MAX_LINE_OCTETS (also the bound on the subject after
 * its merge fields are filled in), all from core/limits.h.
 */
#include "mail/compose.h"

#include <stdint.h>
#include <string.h>

#include "core/html.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "mail/encode.h"
#include "mail/listaddr.h"

#define HDR_LINE ENCODE_LINE
/* A URL in "List-Unsubscribe: <URL>," must leave the line under 998. */
#define URL_MAX (LK_MAX_LINE_OCTETS - 40)
#define MSGID_MAX 250
#define FIELD_NAME_MAX 32

static const char hexd[] = "0123456789ABCDEF"; /* for the boundary */

/* ------------------------------------------------------------------ */
/* Sinks: where the merge renderer writes.                             */

typedef void sink_fn(void *ctx, const char *p, size_t n);

static void sink_buf(void *ctx, const char *p, size_t n)
{
	buf_append(ctx, p, n);
}

/* A fixed array: the merged subject, bounded by LK_MAX_LINE_OCTETS. */
struct fixed {
	char *p;
	size_t len, cap;
	int over;
};

static void sink_fixed(void *ctx, const char *p, size_t n)
{
	struct fixed *f = ctx;
	if (f->over || n > f->cap - f->len) {
		f->over = 1;
		return;
	}
	memcpy(f->p + f->len, p, n);
	f->len += n;
}

/* ------------------------------------------------------------------ */
/* The quoted-printable encoder as a sink (mail/encode.h).             */

static void qp_puts(struct encode_qp *q, const char *z)
{
	encode_qp_write(q, z, strlen(z));
}

static void sink_qp(void *ctx, const char *p, size_t n)
{
	encode_qp_write(ctx, p, n);
}

/* ------------------------------------------------------------------ */
/* Merge fields.                                                       */

struct fields {
	const char *const *names;
	const char *const *values;
	size_t n;
};

static int field_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Writes t with every known {{field}} (spaces allowed inside the braces)
 * replaced by its value; values are never expanded again. */
static void merge(const char *t, size_t len, const struct fields *f, int html, sink_fn *put,
		  void *ctx)
{
	size_t lit = 0, i = 0;
	while (i + 4 <= len) {
		const char *b = memchr(t + i, '{', len - i);
		if (b == NULL)
			break;
		i = (size_t)(b - t);
		if (i + 4 > len || t[i + 1] != '{') {
			i++;
			continue;
		}
		size_t j = i + 2;
		while (j < len && t[j] == ' ')
			j++;
		size_t ns = j;
		while (j < len && j - ns <= FIELD_NAME_MAX && field_char((unsigned char)t[j]))
			j++;
		size_t ne = j;
		while (j < len && t[j] == ' ')
			j++;
		size_t k = f->n;
		if (ne > ns && ne - ns <= FIELD_NAME_MAX && j + 1 < len && t[j] == '}' &&
		    t[j + 1] == '}') {
			for (k = 0; k < f->n; k++)
				if (f->names[k] != NULL && strlen(f->names[k]) == ne - ns &&
				    memcmp(f->names[k], t + ns, ne - ns) == 0)
					break;
		}
		if (k == f->n) {
			i++; /* not a field we know: the brace stays as text */
			continue;
		}
		if (i > lit)
			put(ctx, t + lit, i - lit);
		const char *v = f->values[k] != NULL ? f->values[k] : "";
		if (html)
			html_escape(put, ctx, v, strlen(v), 0);
		else
			put(ctx, v, strlen(v));
		i = lit = j + 2;
	}
	if (len > lit)
		put(ctx, t + lit, len - lit);
}

int compose_merge(struct buf *out, const char *tmpl, size_t len, const char *const *names,
		  const char *const *values, size_t n, int html)
{
	struct fields f = {names, values, n};
	merge(tmpl, len, &f, html, sink_buf, out);
	return out->err ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Header helpers.                                                     */

/* The current line's length so far. */
static size_t col_of(const struct buf *out)
{
	if (out->len == 0)
		return 0;
	const char *nl = memrchr(out->data, '\n', out->len);
	return nl != NULL ? out->len - (size_t)(nl + 1 - out->data) : out->len;
}

int compose_header_text(struct buf *out, const char *text, size_t used)
{
	return encode_header_text(out, text, strlen(text), used);
}

/* ------------------------------------------------------------------ */
/* Checks of what is written into a header without encoding.           */

static int addr_ok(const char *a)
{
	size_t n = strlen(a);
	const char *at = strrchr(a, '@');
	if (n < 3 || n > LK_MAX_ADDRESS || at == NULL || at == a || at[1] == '\0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return utf8_valid(a, n, NULL);
}

static int url_ok(const char *u)
{
	size_t n = strlen(u);
	if (n > URL_MAX || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"')
			return 0;
	}
	return 1;
}

static int msgid_ok(const char *m)
{
	size_t n = strlen(m);
	if (n < 5 || n > MSGID_MAX || m[0] != '<' || m[n - 1] != '>' || memchr(m, '@', n) == NULL)
		return 0;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)m[i];
		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

static int label_ok(const char *z, size_t max, int domain)
{
	size_t n = strlen(z);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = z[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || (!domain && c == '_')))
			return 0;
	}
	return 1;
}

/* Extra header lines: "Name: value" or a continuation, each CRLF-ended,
 * no empty line (it would end the header), no control characters. */
static int extra_ok(const char *h)
{
	int first = 1;
	while (*h) {
		size_t n = strcspn(h, "\r\n");
		if (n == 0 || n > LK_MAX_LINE_OCTETS || h[n] != '\r' || h[n + 1] != '\n')
			return 0;
		size_t i = 0;
		if (h[0] == ' ' || h[0] == '\t') {
			if (first)
				return 0;
		} else {
			while (i < n && h[i] > ' ' && h[i] < 0x7f && h[i] != ':')
				i++;
			if (i == 0 || i == n || h[i] != ':')
				return 0;
		}
		for (; i < n; i++) {
			unsigned char c = (unsigned char)h[i];
			if ((c < ' ' && c != '\t') || c == 0x7f)
				return 0;
		}
		first = 0;
		h += n + 2;
	}
	return 1;
}

static int text_ok(const char *z, size_t max)
{
	size_t n = strlen(z);
	return n <= max && utf8_valid(z, n, NULL);
}

#define OPT(z) ((z) != NULL ? (z) : "")

/* NULL if in is fine, else what is wrong (never the value itself: it may
 * be an address, and errors end up in logs). */
static const char *check(const struct compose_in *in)
{
	if (in->list_name == NULL || in->list_domain == NULL || in->from_addr == NULL ||
	    in->subject == NULL || in->text == NULL || in->message_id == NULL ||
	    in->rcpt_addr == NULL || in->unsubscribe_url == NULL ||
	    in->unsubscribe_mailto == NULL || in->preferences_url == NULL)
		return "a required field is missing";
	if (!label_ok(in->list_name, LK_MAX_LIST_NAME, 0))
		return "bad list name";
	if (!label_ok(in->list_domain, LK_MAX_DOMAIN, 1))
		return "bad list domain";
	if (!addr_ok(in->from_addr))
		return "bad from address (empty, too long, or a space, angle bracket or control "
		       "character in it)";
	if (!addr_ok(in->rcpt_addr))
		return "bad recipient address (empty, too long, or a space, angle bracket or "
		       "control character in it)";
	if (!addr_ok(in->unsubscribe_mailto))
		return "bad unsubscribe mailto address";
	if (!msgid_ok(in->message_id))
		return "bad Message-ID";
	if (!url_ok(in->unsubscribe_url) || !url_ok(in->preferences_url) ||
	    (in->help_url != NULL && !url_ok(in->help_url)) ||
	    (in->archive_url != NULL && !url_ok(in->archive_url)) ||
	    (in->pixel_url != NULL && !url_ok(in->pixel_url)))
		return "bad URL (http or https, printable ASCII without spaces, quotes or angle "
		       "brackets)";
	if (strlen(OPT(in->rcpt_name)) > LK_MAX_NAME)
		return "recipient name over LK_MAX_NAME";
	if (strlen(OPT(in->list_title)) > LK_MAX_LIST_TITLE)
		return "list title over LK_MAX_LIST_TITLE";
	if (strlen(in->subject) > LK_MAX_LINE_OCTETS)
		return "subject over LK_MAX_LINE_OCTETS";
	if (!text_ok(OPT(in->list_footer), LK_MAX_LIST_TEXT) ||
	    !text_ok(OPT(in->postal_address), LK_MAX_LIST_TEXT))
		return "list footer or postal address too long or not UTF-8";
	if (in->extra_headers != NULL && !extra_ok(in->extra_headers))
		return "bad extra header lines";
	/* year 1970 to 9999 */
	if (in->date < 0 || in->date > INT64_C(253402300799))
		return "date out of range";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Header fields.                                                      */

static void put_date(struct buf *out, int64_t t)
{
	static const char wd[] = "ThuFriSatSunMonTueWed";
	static const char mn[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t days = t / 86400;
	unsigned s = (unsigned)(t % 86400);
	/* civil_from_days (H. Hinnant), days >= 0 */
	int64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	unsigned y = (unsigned)(yoe + era * 400) + (m <= 2);
	char b[40] = "Date: Www, DD Mmm YYYY hh:mm:ss +0000\r\n";
	memcpy(b + 6, wd + (days % 7) * 3, 3);
	b[11] = (char)('0' + d / 10), b[12] = (char)('0' + d % 10);
	memcpy(b + 14, mn + (m - 1) * 3, 3);
	b[18] = (char)('0' + y / 1000), b[19] = (char)('0' + y / 100 % 10);
	b[20] = (char)('0' + y / 10 % 10), b[21] = (char)('0' + y % 10);
	unsigned hh = s / 3600, mm = s / 60 % 60, ss = s % 60;
	b[23] = (char)('0' + hh / 10), b[24] = (char)('0' + hh % 10);
	b[26] = (char)('0' + mm / 10), b[27] = (char)('0' + mm % 10);
	b[29] = (char)('0' + ss / 10), b[30] = (char)('0' + ss % 10);
	buf_append(out, b, 39);
}

/* " <addr>", on a folded line if it would pass HDR_LINE. */
static void put_angle(struct buf *out, const char *a, size_t alen)
{
	if (col_of(out) + 3 + alen > HDR_LINE)
		buf_append(out, "\r\n <", 4);
	else
		buf_append(out, " <", 2);
	buf_append(out, a, alen);
	buf_putc(out, '>');
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A display name or subject without the white space (CR and LF included)
 * around it: mail readers drop it anyway. */
static struct str name_trim(const char *z)
{
	struct str s = {z, strlen(z)};
	while (s.len && is_wsp((unsigned char)s.ptr[0]))
		s.ptr++, s.len--;
	while (s.len && is_wsp((unsigned char)s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/* "Name: "Display" <addr>"; just the address without a display name. */
static int put_mailbox(struct buf *out, const char *hdr, const char *display, const char *addr)
{
	buf_puts(out, hdr);
	struct str name = name_trim(display);
	if (name.len == 0) {
		buf_puts(out, addr);
	} else {
		if (encode_header_phrase(out, name.ptr, name.len, strlen(hdr)) < 0)
			return -1;
		put_angle(out, addr, strlen(addr));
	}
	buf_append(out, "\r\n", 2);
	return 0;
}

/* One element of a List-* header (RFC 2369 section 2): "<pre v post>",
 * after ", " or a fold when the line would pass HDR_LINE. */
static void put_uri(struct buf *out, int first, const char *pre, const char *v, const char *post)
{
	size_t pl = strlen(pre), vl = strlen(v), ql = strlen(post);
	if (!first) {
		buf_putc(out, ',');
		if (col_of(out) + 3 + pl + vl + ql > HDR_LINE)
			buf_append(out, "\r\n <", 4);
		else
			buf_append(out, " <", 2);
	} else {
		buf_putc(out, '<');
	}
	buf_append(out, pre, pl);
	buf_append(out, v, vl);
	buf_append(out, post, ql);
	buf_putc(out, '>');
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* "=_" and 24 hex digits (see the top of the file). */
static void make_boundary(const char *msgid, char b[27])
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (const unsigned char *p = (const unsigned char *)msgid; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	uint64_t x = mix64(h), y = mix64(h ^ UINT64_C(0x9e3779b97f4a7c15));
	b[0] = '=';
	b[1] = '_';
	for (int i = 0; i < 16; i++)
		b[2 + i] = hexd[(x >> (60 - 4 * i)) & 15];
	for (int i = 0; i < 8; i++)
		b[18 + i] = hexd[(y >> (60 - 4 * i)) & 15];
	b[26] = '\0';
}

/* ------------------------------------------------------------------ */
/* Bodies.                                                             */

static const char part_head_text[] = "Content-Type: text/plain; charset=utf-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
static const char part_head_html[] = "Content-Type: text/html; charset=utf-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n";

static void qp_line_end(struct encode_qp *q)
{
	if (!encode_qp_bol(q))
		encode_qp_write(q, "\r\n", 2);
}

static void text_part(const struct compose_in *in, size_t tl, const struct fields *f,
		      struct buf *out)
{
	struct encode_qp q;
	encode_qp_init(&q, out);
	merge(in->text, tl, f, 0, sink_qp, &q);
	qp_line_end(&q);
	/* the footer, after the signature separator "-- " */
	qp_puts(&q, "\r\n");
	struct buf foot;
	buf_init(&foot, 2 * LK_MAX_LIST_TEXT + 8192); /* two URLs of a few hundred octets */
	compose_footer_text(&foot, in->list_footer, in->unsubscribe_url, in->preferences_url,
			    in->postal_address);
	encode_qp_write(&q, foot.data != NULL ? foot.data : "", foot.len);
	if (foot.err)
		out->err = 1;
	buf_free(&foot);
	encode_qp_end(&q);
}

static void line_end(struct buf *out)
{
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_append(out, "\r\n", 2);
}

void compose_footer_text(struct buf *out, const char *footer, const char *unsubscribe_url,
			 const char *preferences_url, const char *postal)
{
	buf_puts(out, "-- \r\n");
	if (*OPT(footer)) {
		buf_puts(out, footer);
		line_end(out);
	}
	buf_printf(out, "Unsubscribe: %s\r\nPreferences: %s\r\n", unsubscribe_url, preferences_url);
	if (*OPT(postal)) {
		buf_puts(out, postal);
		line_end(out);
	}
}

static void html_footer(const struct compose_in *in, struct encode_qp *q, int pixel)
{
	const char *footer = OPT(in->list_footer), *postal = OPT(in->postal_address);
	qp_line_end(q);
	qp_puts(q, "<hr style=\"border:0;border-top:1px solid #ccc\">\r\n"
		   "<div style=\"font-size:12px;color:#666\">\r\n");
	if (*footer) {
		qp_puts(q, "<p>");
		html_escape(sink_qp, q, footer, strlen(footer), HTML_BR);
		qp_puts(q, "</p>\r\n");
	}
	qp_puts(q, "<p><a href=\"");
	html_escape(sink_qp, q, in->unsubscribe_url, strlen(in->unsubscribe_url), 0);
	qp_puts(q, "\">Unsubscribe</a> &middot; <a href=\"");
	html_escape(sink_qp, q, in->preferences_url, strlen(in->preferences_url), 0);
	qp_puts(q, "\">Preferences</a></p>\r\n");
	if (*postal) {
		qp_puts(q, "<p>");
		html_escape(sink_qp, q, postal, strlen(postal), HTML_BR);
		qp_puts(q, "</p>\r\n");
	}
	qp_puts(q, "</div>\r\n");
	if (pixel) {
		qp_puts(q, "<img src=\"");
		html_escape(sink_qp, q, in->pixel_url, strlen(in->pixel_url), 0);
		qp_puts(q, "\" width=\"1\" height=\"1\" alt=\"\">\r\n");
	}
}

/* Where the footer goes: before the last "</body", or at the end. */
static size_t body_end(const char *h, size_t n)
{
	for (size_t i = n; i >= 6; i--) {
		const char *p = h + i - 6;
		if (p[0] == '<' && p[1] == '/' && (p[2] | 32) == 'b' && (p[3] | 32) == 'o' &&
		    (p[4] | 32) == 'd' && (p[5] | 32) == 'y')
			return i - 6;
	}
	return n;
}

static void html_part(const struct compose_in *in, size_t n, const struct fields *f,
		      struct buf *out, int pixel)
{
	struct encode_qp q;
	size_t cut = body_end(in->html, n);
	encode_qp_init(&q, out);
	/* a field never spans the cut: "{{name}}" holds no '<' */
	merge(in->html, cut, f, 1, sink_qp, &q);
	html_footer(in, &q, pixel);
	merge(in->html + cut, n - cut, f, 1, sink_qp, &q);
	encode_qp_end(&q);
}

/* ------------------------------------------------------------------ */

static int fail(struct buf *out, size_t start, int err0, struct buf *err, const char *why)
{
	buf_truncate(out, start);
	out->err = err0;
	buf_printf(err, "compose: %s", why);
	return -1;
}

int compose_message(const struct compose_in *in, struct buf *out, struct buf *err)
{
	size_t start = out->len;
	int err0 = out->err;
	const char *why = check(in);
	if (why != NULL)
		return fail(out, start, err0, err, why);
	size_t tl = strlen(in->text), hl = in->html != NULL ? strlen(in->html) : 0;
	if (tl > LK_MAX_MESSAGE || hl > LK_MAX_MESSAGE - tl)
		return fail(out, start, err0, err, "bodies over LK_MAX_MESSAGE");
	if (!utf8_valid(in->text, tl, NULL) ||
	    (in->html != NULL && !utf8_valid(in->html, hl, NULL)))
		return fail(out, start, err0, err, "a body is not UTF-8");

	const char *rname = OPT(in->rcpt_name), *title = OPT(in->list_title);
	static const char *const names[] = {"name",	  "email",	     "list",
					    "list_title", "unsubscribe_url", "preferences_url"};
	const char *const values[] = {rname, in->rcpt_addr,	  in->list_name,
				      title, in->unsubscribe_url, in->preferences_url};
	struct fields f = {names, values, sizeof(names) / sizeof(names[0])};

	char subj[LK_MAX_LINE_OCTETS + 1];
	struct fixed fx = {subj, 0, LK_MAX_LINE_OCTETS, 0};
	merge(in->subject, strlen(in->subject), &f, 0, sink_fixed, &fx);
	if (fx.over)
		return fail(out, start, err0, err,
			    "subject over LK_MAX_LINE_OCTETS with its fields");

	if (put_mailbox(out, "From: ", title, in->from_addr) < 0)
		return fail(out, start, err0, err, "list title is not UTF-8");
	if (put_mailbox(out, "To: ", rname, in->rcpt_addr) < 0)
		return fail(out, start, err0, err, "recipient name is not UTF-8");
	buf_append(out, "Subject: ", 9);
	subj[fx.len] = '\0';
	struct str st = name_trim(subj); /* readers drop white space around it */
	if (encode_header_text(out, st.ptr, st.len, 9) < 0)
		return fail(out, start, err0, err, "subject is not UTF-8");
	buf_append(out, "\r\n", 2);
	put_date(out, in->date);
	buf_append(out, "Message-ID: ", 12);
	buf_puts(out, in->message_id);
	buf_append(out, "\r\nMIME-Version: 1.0\r\n", 21);

	/* List-Id: RFC 2919; the list-id is name "." domain */
	buf_append(out, "List-Id: ", 9);
	size_t nl = strlen(in->list_name), dl = strlen(in->list_domain);
	struct str tt = name_trim(title);
	if (tt.len != 0) {
		encode_header_phrase(out, tt.ptr, tt.len, 9);
		if (col_of(out) + 3 + nl + 1 + dl > HDR_LINE)
			buf_append(out, "\r\n", 2);
		buf_putc(out, ' ');
	}
	buf_putc(out, '<');
	buf_append(out, in->list_name, nl);
	buf_putc(out, '.');
	buf_append(out, in->list_domain, dl);
	buf_append(out, ">\r\n", 3);

	/* RFC 2369, RFC 8058: https first, the mailto after it */
	buf_puts(out, "List-Unsubscribe: ");
	put_uri(out, 1, "", in->unsubscribe_url, "");
	put_uri(out, 0, "mailto:", in->unsubscribe_mailto, "");
	buf_puts(out, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
		      "List-Help: ");
	if (in->help_url != NULL) {
		put_uri(out, 1, "", in->help_url, "");
	} else {
		/* the list's command address (DESIGN.md section 2) */
		buf_append(out, "<mailto:", 8);
		if (listaddr_build(out, LISTADDR_REQUEST, in->list_name, in->list_domain, NULL) < 0)
			out->err = 1; /* checked above: cannot happen */
		buf_puts(out, "?subject=help>");
	}
	buf_append(out, "\r\n", 2);
	if (!in->announce) {
		buf_puts(out, "List-Post: <mailto:");
		if (listaddr_build(out, LISTADDR_POST, in->list_name, in->list_domain, NULL) < 0)
			out->err = 1;
		buf_append(out, ">\r\n", 3);
	}
	if (in->archive_url != NULL) {
		buf_puts(out, "List-Archive: ");
		put_uri(out, 1, "", in->archive_url, "");
		buf_append(out, "\r\n", 2);
	}
	if (in->announce)
		buf_puts(out, "Precedence: bulk\r\n");
	if (in->extra_headers != NULL)
		buf_puts(out, in->extra_headers);

	int multi = in->rcpt_html && in->html != NULL;
	if (!multi) {
		buf_append(out, part_head_text, sizeof(part_head_text) - 1);
		text_part(in, tl, &f, out);
	} else {
		int pixel = in->rcpt_tracking && in->list_tracking && in->pixel_url != NULL;
		char b[27];
		make_boundary(in->message_id, b);
		buf_puts(out, "Content-Type: multipart/alternative; boundary=\"");
		buf_append(out, b, 26);
		buf_append(out, "\"\r\n\r\n--", 7);
		buf_append(out, b, 26);
		buf_append(out, "\r\n", 2);
		buf_append(out, part_head_text, sizeof(part_head_text) - 1);
		text_part(in, tl, &f, out);
		buf_append(out, "\r\n--", 4);
		buf_append(out, b, 26);
		buf_append(out, "\r\n", 2);
		buf_append(out, part_head_html, sizeof(part_head_html) - 1);
		html_part(in, hl, &f, out, pixel);
		buf_append(out, "\r\n--", 4);
		buf_append(out, b, 26);
		buf_append(out, "--\r\n", 4);
	}
	if (out->err)
		return fail(out, start, err0, err, "message larger than the output buffer allows");
	if (out->len - start > LK_MAX_MESSAGE)
		return fail(out, start, err0, err, "message over LK_MAX_MESSAGE");
	return 0;
}

/* ------------------------------------------------------------------ */
/* A reply: not list mail.                                             */

int compose_reply(const struct compose_reply_in *in, struct buf *out, struct buf *err)
{
	size_t start = out->len;
	int err0 = out->err;
	const char *fname = OPT(in->from_name);
	if (in->from_addr == NULL || !addr_ok(in->from_addr) || in->to_addr == NULL ||
	    !addr_ok(in->to_addr) || (in->reply_to != NULL && !addr_ok(in->reply_to)))
		return fail(out, start, err0, err, "bad address");
	if (in->message_id == NULL || !msgid_ok(in->message_id))
		return fail(out, start, err0, err, "bad Message-ID");
	if (in->subject == NULL || strlen(in->subject) > LK_MAX_LINE_OCTETS ||
	    strlen(fname) > LK_MAX_LIST_TITLE)
		return fail(out, start, err0, err, "subject or name too long");
	if (in->date < 0 || in->date > INT64_C(253402300799))
		return fail(out, start, err0, err, "date out of range");
	size_t tl = in->text != NULL ? strlen(in->text) : 0;
	if (in->text == NULL || tl > LK_MAX_MESSAGE || !utf8_valid(in->text, tl, NULL))
		return fail(out, start, err0, err, "the text is missing, too long or not UTF-8");
	if (put_mailbox(out, "From: ", fname, in->from_addr) < 0)
		return fail(out, start, err0, err, "sender name is not UTF-8");
	buf_puts(out, "To: ");
	buf_puts(out, in->to_addr);
	buf_append(out, "\r\n", 2);
	if (in->reply_to != NULL) {
		buf_puts(out, "Reply-To: ");
		buf_puts(out, in->reply_to);
		buf_append(out, "\r\n", 2);
	}
	buf_append(out, "Subject: ", 9);
	struct str st = name_trim(in->subject);
	if (encode_header_text(out, st.ptr, st.len, 9) < 0)
		return fail(out, start, err0, err, "subject is not UTF-8");
	buf_append(out, "\r\n", 2);
	put_date(out, in->date);
	buf_append(out, "Message-ID: ", 12);
	buf_puts(out, in->message_id);
	/* RFC 3834 section 5: a response to a message; other responders keep
	 * quiet, and so mail loops end here. */
	buf_puts(out, "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_append(out, part_head_text, sizeof(part_head_text) - 1);
	struct encode_qp q;
	encode_qp_init(&q, out);
	encode_qp_write(&q, in->text, tl);
	qp_line_end(&q);
	encode_qp_end(&q);
	if (out->err)
		return fail(out, start, err0, err, "message larger than the output buffer allows");
	if (out->len - start > LK_MAX_MESSAGE)
		return fail(out, start, err0, err, "message over LK_MAX_MESSAGE");
	return 0;
}
