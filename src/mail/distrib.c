/*
 * distrib.c - a post as the members of a discussion list receive it
 * (distrib.h).
 *
 * TRUST: the post is untrusted bytes: copied with its line ends made CRLF
 * into a buffer bounded by LK_MAX_MESSAGE; its header fields are walked as
 * (ptr, len) and copied whole or dropped, never cut; the only values read
 * are Content-Type's type and its boundary and charset parameters, and
 * Content-Transfer-Encoding, compared with names of ours. The boundary of a
 * post is at most 70 characters (RFC 2046 section 5.1.1) or the body is
 * wrapped.
 */
#include "mail/distrib.h"

#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/nametab.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "mail/compose.h"
#include "mail/encode.h"
#include "mail/listaddr.h"

static const char *const REPLY_TO_NAMES[] = {"none", "list", "poster"};
const struct nametab distrib_reply_to_names = NAMETAB(REPLY_TO_NAMES);
_Static_assert(sizeof(REPLY_TO_NAMES) / sizeof(REPLY_TO_NAMES[0]) == DISTRIB_REPLY_POSTER + 1,
	       "one name per distrib_reply_to");

#define MAX_BOUNDARY 70

/* One header field: its whole text (with the CRLFs of its lines) and the
 * parts of it. */
struct field {
	struct str all;	 /* "Name: value\r\n (folds)" */
	struct str name; /* "Name" */
	struct str val;	 /* after the colon, up to the last CRLF (folds kept) */
};

/* Appends p (n bytes) with each bare LF made CRLF. */
static void put_crlf(struct buf *out, const char *p, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		buf_append(out, p + s, i - s);
		buf_append(out, "\r\n", 2);
		s = i + 1;
	}
	buf_append(out, p + s, n - s);
}

/* The next field of the header block h (n bytes, CRLF lines) from *pos.
 * 1 with f filled, 0 at the end of the headers (*pos then at the body), -1
 * for a block that is not fields. */
static int next_field(const char *h, size_t n, size_t *pos, struct field *f)
{
	size_t p = *pos;
	if (p >= n)
		return 0;
	if (n - p >= 2 && h[p] == '\r' && h[p + 1] == '\n') {
		*pos = p + 2;
		return 0;
	}
	size_t i = p;
	while (i < n && h[i] != ':' && h[i] != '\r' && h[i] != '\n' && h[i] != '\0' &&
	       (unsigned char)h[i] > ' ' && (unsigned char)h[i] < 0x7f)
		i++;
	if (i == p || i >= n || h[i] != ':')
		return -1;
	f->name = (struct str){h + p, i - p};
	size_t v = i + 1, e = v;
	for (;;) {
		const char *cr = memchr(h + e, '\r', n - e);
		if (cr == NULL || (size_t)(cr - h) + 1 >= n || cr[1] != '\n') {
			e = n; /* the last line, without its CRLF */
			break;
		}
		e = (size_t)(cr - h) + 2;
		if (e >= n || (h[e] != ' ' && h[e] != '\t'))
			break;
	}
	if (memchr(h + p, '\0', e - p) != NULL)
		return -1;
	size_t ve = e;
	if (ve >= v + 2 && h[ve - 2] == '\r' && h[ve - 1] == '\n')
		ve -= 2;
	f->val = (struct str){h + v, ve - v};
	f->all = (struct str){h + p, e - p};
	*pos = e;
	return 1;
}

static int is(const struct field *f, const char *name)
{
	return str_eq_nocase_z(f->name, name);
}

/* 1 if s holds needle (ASCII, case-insensitive). */
static int holds_nocase(struct str s, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k > 0 && i + k <= s.len; i++)
		if (strncasecmp(s.ptr + i, needle, k) == 0)
			return 1;
	return 0;
}

/* The type of a Content-Type value ("text/plain"), without parameters. */
static struct str ctype_of(struct str v)
{
	long semi = str_find(v, ';');
	if (semi >= 0)
		v.len = (size_t)semi;
	return str_trim(v);
}

/* Parameter name of a Content-Type value into out (cap bytes, NUL-ended,
 * quotes taken off). 1 if found and it fits, else 0. */
static int param_of(struct str v, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name), i = 0;
	int q = 0;
	while (i < v.len) {
		char c = v.ptr[i];
		if (c == '"')
			q = !q;
		if (c != ';' || q) {
			i++;
			continue;
		}
		i++;
		while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == '\r' ||
				     v.ptr[i] == '\n'))
			i++;
		if (i + k + 1 > v.len || strncasecmp(v.ptr + i, name, k) != 0 ||
		    v.ptr[i + k] != '=')
			continue;
		size_t s = i + k + 1, e = s;
		if (s < v.len && v.ptr[s] == '"') {
			s++;
			e = s;
			while (e < v.len && v.ptr[e] != '"')
				e++;
		} else {
			while (e < v.len && v.ptr[e] != ';' && v.ptr[e] != ' ' &&
			       v.ptr[e] != '\t' && v.ptr[e] != '\r' && v.ptr[e] != '\n')
				e++;
		}
		if (e - s == 0 || e - s >= cap)
			return 0;
		memcpy(out, v.ptr + s, e - s);
		out[e - s] = '\0';
		return 1;
	}
	return 0;
}

static int ascii(const char *z)
{
	for (; z != NULL && *z; z++)
		if ((unsigned char)*z >= 0x80)
			return 0;
	return 1;
}

/* Where "--B--" begins in body (at its start or after a CRLF), the last
 * one; -1 if none. */
static long close_delim(const char *body, size_t n, const char *b)
{
	size_t bl = strlen(b);
	if (n < bl + 4)
		return -1;
	for (size_t i = n - bl - 4 + 1; i-- > 0;) {
		const char *p = body + i;
		if (p[0] == '-' && p[1] == '-' && memcmp(p + 2, b, bl) == 0 && p[2 + bl] == '-' &&
		    p[3 + bl] == '-' && (i == 0 || (i >= 2 && p[-2] == '\r' && p[-1] == '\n')))
			return (long)i;
	}
	return -1;
}

/* What the top of a message says about its body. */
struct shape {
	struct str ctype, cte;
	char charset[64], boundary[MAX_BOUNDARY + 1];
	int has_ctype, has_boundary, has_charset;
};

static void shape_add(struct shape *s, const struct field *f)
{
	if (is(f, "Content-Type")) {
		s->has_ctype = 1;
		s->ctype = ctype_of(f->val);
		s->has_boundary = param_of(f->val, "boundary", s->boundary, sizeof(s->boundary));
		s->has_charset = param_of(f->val, "charset", s->charset, sizeof(s->charset));
	} else if (is(f, "Content-Transfer-Encoding")) {
		s->cte = str_trim(f->val);
	}
}

static int is_mixed(const struct shape *s)
{
	return s->has_ctype && str_eq_nocase_z(s->ctype, "multipart/mixed") && s->has_boundary;
}

/* 1 if the footer can go at the end of the text as it is. */
static int inline_ok(const struct shape *s, int footer_ascii)
{
	if (s->has_ctype && !str_eq_nocase_z(s->ctype, "text/plain"))
		return 0;
	int cte_8bit = str_eq_nocase_z(s->cte, "8bit");
	if (s->cte.len != 0 && !cte_8bit && !str_eq_nocase_z(s->cte, "7bit"))
		return 0;
	int utf8 = s->has_charset &&
		   (strcasecmp(s->charset, "utf-8") == 0 || strcasecmp(s->charset, "utf8") == 0);
	if (s->has_charset && !utf8 && strcasecmp(s->charset, "us-ascii") != 0)
		return 0;
	return footer_ascii || (utf8 && cte_8bit);
}

/* The headers that are the list's to set, or that its changes break. */
static int dropped(const struct field *f)
{
	static const char *const names[] = {
	    "Return-Path",
	    "List-Id",
	    "List-Post",
	    "List-Help",
	    "List-Subscribe",
	    "List-Unsubscribe",
	    "List-Unsubscribe-Post",
	    "List-Owner",
	    "List-Archive",
	    "Precedence",
	    "X-BeenThere",
	    "DKIM-Signature",
	    "Approved",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (is(f, names[i]))
			return 1;
	return 0;
}

static int content_field(const struct field *f)
{
	return f->name.len >= 8 && strncasecmp(f->name.ptr, "Content-", 8) == 0;
}

/* Our headers: List-Id, List-Post, List-Help, List-Archive, Precedence,
 * X-BeenThere. -1 when an address cannot be built. */
static int list_headers(const struct distrib_list *dl, struct buf *out)
{
	struct buf a;
	buf_init(&a, LK_MAX_ADDRESS + 1);
	int rc = listaddr_build(&a, LISTADDR_POST, dl->name, dl->domain, NULL);
	buf_puts(out, "List-Id: ");
	if (dl->title != NULL && dl->title[0] != '\0') {
		if (encode_header_phrase(out, dl->title, strlen(dl->title), 9) < 0)
			rc = -1;
		buf_putc(out, ' ');
	}
	buf_printf(out, "<%s.%s>\r\n", dl->name, dl->domain);
	buf_printf(out, "List-Post: <mailto:%s>\r\n", buf_cstr(&a));
	buf_reset(&a);
	if (rc == 0)
		rc = listaddr_build(&a, LISTADDR_REQUEST, dl->name, dl->domain, NULL);
	buf_printf(out, "List-Help: <mailto:%s?subject=help>\r\n", buf_cstr(&a));
	if (dl->archive_url != NULL)
		buf_printf(out, "List-Archive: <%s>\r\n", dl->archive_url);
	buf_reset(&a);
	if (rc == 0)
		rc = listaddr_build(&a, LISTADDR_POST, dl->name, dl->domain, NULL);
	buf_printf(out, "Precedence: list\r\nX-BeenThere: %s\r\n", buf_cstr(&a));
	buf_free(&a);
	return rc;
}

/* The address part of a From value: inside the last <...>, or the whole
 * value trimmed. */
static struct str addr_of(struct str v)
{
	for (size_t i = v.len; i-- > 0;) {
		if (v.ptr[i] != '>')
			continue;
		for (size_t j = i; j-- > 0;)
			if (v.ptr[j] == '<')
				return (struct str){v.ptr + j + 1, i - j - 1};
		break;
	}
	return str_trim(v);
}

int distrib_from_domain(const char *msg, size_t len, char *out, size_t cap)
{
	size_t pos = 0;
	struct field f;
	struct buf norm;
	buf_init(&norm, LK_MAX_MESSAGE + 1);
	put_crlf(&norm, msg, len);
	int rc = -1;
	while (!norm.err &&
	       next_field(norm.data != NULL ? norm.data : "", norm.len, &pos, &f) == 1) {
		if (!is(&f, "From"))
			continue;
		struct str a = addr_of(f.val);
		size_t at = a.len;
		while (at > 0 && a.ptr[at - 1] != '@')
			at--;
		size_t n = a.len - at;
		if (at == 0 || n == 0 || n >= cap)
			break;
		for (size_t i = 0; i < n; i++) {
			char c = a.ptr[at + i];
			if ((unsigned char)c <= ' ' || c == '>' || c == '<' ||
			    (unsigned char)c >= 0x7f)
				goto out;
			out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		out[n] = '\0';
		rc = 0;
		break;
	}
out:
	buf_free(&norm);
	return rc;
}

/* From: "NAME via TITLE" <LIST@DOMAIN> and X-Original-From (DMARC munging,
 * as Mailman 3's dmarc_moderation_action = munge_from). NAME: the phrase
 * before the poster's <address> kept as it is (a phrase of atoms, a quoted
 * string or encoded words), or the address's local part. */
static void munged_from(const struct distrib_list *dl, struct str from, struct buf *out)
{
	struct str a = addr_of(from);
	struct str name = {from.ptr, 0};
	for (size_t i = 0; i < from.len; i++)
		if (from.ptr[i] == '<') {
			name = str_trim((struct str){from.ptr, i});
			break;
		}
	buf_puts(out, "From: ");
	if (name.len > 0 && memchr(name.ptr, '\r', name.len) == NULL) {
		buf_append(out, name.ptr, name.len);
	} else {
		size_t at = 0;
		while (at < a.len && a.ptr[at] != '@')
			at++;
		if (encode_header_phrase(out, a.ptr, at, 6) < 0)
			buf_puts(out, "someone");
	}
	buf_puts(out, " via ");
	const char *t = dl->title != NULL && dl->title[0] ? dl->title : dl->name;
	if (encode_header_phrase(out, t, strlen(t), 0) < 0)
		buf_puts(out, dl->name);
	buf_puts(out, " <");
	if (listaddr_build(out, LISTADDR_POST, dl->name, dl->domain, NULL) < 0)
		out->err = 1;
	buf_puts(out, ">\r\nX-Original-From:");
	buf_append(out, from.ptr, from.len);
	buf_puts(out, "\r\n");
}

static int fail(struct buf *out, size_t start, struct buf *err, const char *why)
{
	buf_truncate(out, start);
	out->err = 0;
	buf_puts(err, why);
	return -1;
}

int distrib_prepare(const struct distrib_list *dl, const char *msg, size_t len, struct buf *out,
		    struct buf *err)
{
	size_t start = out->len;
	if (len > LK_MAX_MESSAGE)
		return fail(out, start, err, "the post is too long");
	struct buf norm;
	buf_init(&norm, LK_MAX_MESSAGE + 1);
	put_crlf(&norm, msg, len);
	if (norm.err) {
		buf_free(&norm);
		return fail(out, start, err, "the post is too long");
	}
	const char *h = norm.data != NULL ? norm.data : "";
	size_t n = norm.len, pos = 0;
	struct field f;
	struct shape sh = {0};
	int has_subject = 0, has_msgid = 0, has_mime = 0, r;
	struct str from = {0};
	while ((r = next_field(h, n, &pos, &f)) == 1) {
		shape_add(&sh, &f);
		if (is(&f, "Message-ID"))
			has_msgid = 1;
		else if (is(&f, "MIME-Version"))
			has_mime = 1;
		else if (is(&f, "From"))
			from = f.val;
	}
	if (r < 0) {
		buf_free(&norm);
		return fail(out, start, err, "the post's header is not a list of fields");
	}
	size_t body = pos;
	int footer_ascii = ascii(dl->footer) && ascii(dl->postal);
	int wrap = !is_mixed(&sh) && !inline_ok(&sh, footer_ascii);
	if (is_mixed(&sh) && close_delim(h + body, n - body, sh.boundary) < 0)
		wrap = 1; /* no end to put a part before */
	char nb[32] = "=_lk";
	if (wrap) {
		uint8_t rnd[12];
		rand_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), nb + 4);
	}
	char tag[LK_MAX_LIST_NAME + 3];
	bsnprintf(tag, sizeof(tag), "[%s]", dl->name);
	struct buf moved;
	buf_init(&moved, 64 << 10);
	pos = 0;
	while (next_field(h, n, &pos, &f) == 1) {
		if (dropped(&f))
			continue;
		if (is(&f, "Reply-To") && (dl->reply_to != DISTRIB_REPLY_NONE || dl->munge_from))
			continue;
		if (is(&f, "From") && dl->munge_from)
			continue;
		if (wrap && content_field(&f)) {
			buf_append(&moved, f.all.ptr, f.all.len);
			continue;
		}
		if (is(&f, "Subject")) {
			has_subject = 1;
			if (dl->subject_prefix && !holds_nocase(f.val, tag)) {
				struct str v = f.val;
				while (v.len > 0 && (*v.ptr == ' ' || *v.ptr == '\t')) {
					v.ptr++;
					v.len--;
				}
				buf_printf(out, "Subject: %s ", tag);
				buf_append(out, v.ptr, v.len);
				buf_puts(out, "\r\n");
				continue;
			}
		}
		buf_append(out, f.all.ptr, f.all.len);
		if (f.all.len < 2 || f.all.ptr[f.all.len - 1] != '\n')
			buf_puts(out, "\r\n"); /* the last field had no line end */
	}
	if (!has_subject && dl->subject_prefix)
		buf_printf(out, "Subject: %s (no subject)\r\n", tag);
	if (!has_msgid && dl->message_id != NULL)
		buf_printf(out, "Message-ID: %s\r\n", dl->message_id);
	if (dl->munge_from)
		munged_from(dl, from, out);
	if (dl->reply_to == DISTRIB_REPLY_LIST) {
		buf_puts(out, "Reply-To: ");
		if (listaddr_build(out, LISTADDR_POST, dl->name, dl->domain, NULL) < 0)
			out->err = 1;
		buf_puts(out, "\r\n");
	} else if ((dl->reply_to == DISTRIB_REPLY_POSTER || dl->munge_from) && from.len > 0) {
		buf_puts(out, "Reply-To:");
		buf_append(out, from.ptr, from.len);
		buf_puts(out, "\r\n");
	}
	if (list_headers(dl, out) < 0)
		out->err = 1;
	if (wrap) {
		if (!has_mime)
			buf_puts(out, "MIME-Version: 1.0\r\n");
		buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", nb);
		buf_printf(out, "--%s\r\n", nb);
		buf_append(out, moved.data != NULL ? moved.data : "", moved.len);
		buf_puts(out, "\r\n");
		buf_append(out, h + body, n - body);
		if (n > body && (n - body < 2 || h[n - 1] != '\n'))
			buf_puts(out, "\r\n");
		buf_printf(out, "--%s--\r\n", nb);
	} else {
		buf_puts(out, "\r\n");
		buf_append(out, h + body, n - body);
	}
	int bad = moved.err;
	buf_free(&moved);
	buf_free(&norm);
	if (bad || out->err || out->len - start > LK_MAX_MESSAGE)
		return fail(out, start, err, "the post is too long to distribute");
	return 0;
}

int distrib_compose(const char *post, size_t len, const struct distrib_rcpt *r, struct buf *out,
		    struct buf *err)
{
	size_t start = out->len, pos = 0;
	struct field f;
	struct shape sh = {0};
	int rc;
	while ((rc = next_field(post, len, &pos, &f)) == 1)
		shape_add(&sh, &f);
	if (rc < 0 || pos < 2 || pos > len || post[pos - 1] != '\n')
		return fail(out, start, err, "not a prepared post");
	size_t hdr_end = pos - 2; /* before the empty line */
	buf_append(out, post, hdr_end);
	buf_printf(out,
		   "List-Unsubscribe: <%s>, <mailto:%s>\r\n"
		   "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n",
		   r->unsubscribe_url, r->unsubscribe_mailto);
	struct buf foot;
	buf_init(&foot, 2 * LK_MAX_LIST_TEXT + 8192); /* two URLs of a few hundred octets */
	compose_footer_text(&foot, r->footer, r->unsubscribe_url, r->preferences_url, r->postal);
	const char *body = post + pos, *fp = foot.data != NULL ? foot.data : "";
	size_t bl = len - pos;
	if (is_mixed(&sh)) {
		long at = close_delim(body, bl, sh.boundary);
		if (at < 0) {
			buf_free(&foot);
			return fail(out, start, err, "not a prepared post");
		}
		buf_append(out, body, (size_t)at);
		buf_printf(out,
			   "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n"
			   "Content-Disposition: inline\r\n\r\n",
			   sh.boundary);
		struct encode_qp q;
		encode_qp_init(&q, out);
		encode_qp_write(&q, fp, foot.len);
		encode_qp_end(&q);
		buf_puts(out, "\r\n");
		buf_append(out, body + at, bl - (size_t)at);
	} else {
		buf_append(out, body, bl);
		if (bl > 0 && body[bl - 1] != '\n')
			buf_puts(out, "\r\n");
		buf_puts(out, "\r\n");
		put_crlf(out, fp, foot.len);
	}
	int bad = foot.err;
	buf_free(&foot);
	if (bad || out->err)
		return fail(out, start, err, "the message is too long");
	return 0;
}
