/*
 * form.c - form body decoding (see form.h).
 *
 * TRUST: sees untrusted bytes. Every bound is checked on the raw length
 * before anything is allocated (a decoded field is never longer than its
 * raw text), and every decoded name and value is checked for UTF-8 and NUL
 * before it is kept.
 */
#include "web/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/nametab.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "core/xmalloc.h"

struct form_field {
	char *name;
	char *value;
	size_t name_len, value_len;
};

struct form {
	struct form_field f[LK_HTTP_MAX_FIELDS];
	size_t n;
};

struct form *form_new(void)
{
	return xcalloc(1, sizeof(struct form));
}

void form_free(struct form *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		explicit_bzero(f->f[i].name, f->f[i].name_len);
		explicit_bzero(f->f[i].value, f->f[i].value_len);
		free(f->f[i].name);
		free(f->f[i].value);
	}
	free(f);
}

size_t form_len(const struct form *f)
{
	return f->n;
}

const char *form_name(const struct form *f, size_t i)
{
	return i < f->n ? f->f[i].name : NULL;
}

const char *form_value(const struct form *f, size_t i)
{
	return i < f->n ? f->f[i].value : NULL;
}

const char *form_get(const struct form *f, const char *name_z)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].name, name_z) == 0)
			return f->f[i].value;
	return NULL;
}

size_t form_count(const struct form *f, const char *name_z)
{
	size_t c = 0;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].name, name_z) == 0)
			c++;
	return c;
}

/* Indexed by -status (the statuses are 0 and negative). */
static const char *const FORM_STATUS_NAME[] = {
    [-FORM_OK] = "ok",
    [-FORM_MALFORMED] = "malformed form body",
    [-FORM_TOO_BIG] = "too many form fields, or a field too long",
    [-FORM_UNSUPPORTED] = "unsupported form encoding",
};
static const struct nametab form_status_names = NAMETAB(FORM_STATUS_NAME);

const char *form_status_name(enum form_status s)
{
	int i = -(int)s;
	return i >= 0 && i < form_status_names.n ? nametab_name(&form_status_names, i) : "unknown";
}

static int text_ok(const char *p, size_t len)
{
	return memchr(p, '\0', len) == NULL && utf8_valid(p, len, NULL);
}

/* Takes ownership of name and value (each NUL-terminated at its length). */
static enum form_status add(struct form *f, char *name, size_t nlen, char *value, size_t vlen)
{
	enum form_status r = FORM_OK;
	if (nlen == 0 || !text_ok(name, nlen) || !text_ok(value, vlen))
		r = FORM_MALFORMED;
	else if (f->n == LK_HTTP_MAX_FIELDS)
		r = FORM_TOO_BIG;
	if (r != FORM_OK) {
		explicit_bzero(name, nlen);
		explicit_bzero(value, vlen);
		free(name);
		free(value);
		return r;
	}
	f->f[f->n].name = name;
	f->f[f->n].name_len = nlen;
	f->f[f->n].value = value;
	f->f[f->n].value_len = vlen;
	f->n++;
	return FORM_OK;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes len bytes of p ('+' is a space) into a new NUL-terminated
 * string; *out_len its length. NULL on a '%' without two hex digits. */
static char *pct_decode(const char *p, size_t len, size_t *out_len)
{
	char *o = xmalloc(len + 1);
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '+') {
			o[j++] = ' ';
		} else if (c == '%') {
			int hi = len - i >= 3 ? hexval((unsigned char)p[i + 1]) : -1;
			int lo = len - i >= 3 ? hexval((unsigned char)p[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				explicit_bzero(o, j);
				free(o);
				return NULL;
			}
			o[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			o[j++] = (char)c;
		}
	}
	o[j] = '\0';
	*out_len = j;
	return o;
}

enum form_status form_parse_urlencoded(struct form *f, const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *seg = p + i;
		const char *amp = memchr(seg, '&', len - i);
		size_t slen = amp != NULL ? (size_t)(amp - seg) : len - i;
		i += slen + (amp != NULL ? 1 : 0);
		if (slen == 0)
			continue; /* "a=1&&b=2": empty sequences are skipped (WHATWG) */
		const char *eq = memchr(seg, '=', slen);
		size_t nraw = eq != NULL ? (size_t)(eq - seg) : slen;
		size_t vraw = eq != NULL ? slen - nraw - 1 : 0;
		/* Decoding never lengthens: a raw text within the bound is enough
		 * to allocate; a decoded one past it is refused after. */
		if (nraw > 3 * LK_HTTP_MAX_FIELD_NAME || vraw > 3 * LK_HTTP_MAX_FIELD_VALUE)
			return FORM_TOO_BIG;
		size_t nlen, vlen;
		char *name = pct_decode(seg, nraw, &nlen);
		if (name == NULL)
			return FORM_MALFORMED;
		char *value = pct_decode(eq != NULL ? eq + 1 : seg + slen, vraw, &vlen);
		if (value == NULL) {
			free(name);
			return FORM_MALFORMED;
		}
		if (nlen > LK_HTTP_MAX_FIELD_NAME || vlen > LK_HTTP_MAX_FIELD_VALUE) {
			explicit_bzero(value, vlen);
			free(name);
			free(value);
			return FORM_TOO_BIG;
		}
		enum form_status r = add(f, name, nlen, value, vlen);
		if (r != FORM_OK)
			return r;
	}
	return FORM_OK;
}

/* --- multipart/form-data (RFC 7578, RFC 2046 section 5.1) ------------- */

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static size_t skip_ws(const char *p, size_t i, size_t len)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* Parses one parameter value at p[*i]: a token or a quoted-string (a
 * backslash quotes the next byte, RFC 9110 section 5.6.4). The value is
 * copied into val (at most cap-1 bytes). -1 when malformed or too long. */
static int param_value(const char *p, size_t len, size_t *i, char *val, size_t cap, size_t *vlen)
{
	size_t k = *i, n = 0;
	if (k < len && p[k] == '"') {
		k++;
		for (;;) {
			if (k >= len)
				return -1;
			char c = p[k++];
			if (c == '"')
				break;
			if (c == '\\') {
				if (k >= len)
					return -1;
				c = p[k++];
			}
			if (c == '\r' || c == '\n' || n + 1 >= cap)
				return -1;
			val[n++] = c;
		}
	} else {
		while (k < len && is_tchar((unsigned char)p[k])) {
			if (n + 1 >= cap)
				return -1;
			val[n++] = p[k++];
		}
		if (n == 0)
			return -1;
	}
	val[n] = '\0';
	*vlen = n;
	*i = k;
	return 0;
}

/* Walks "; key=value" parameters after a media type or disposition type at
 * p[i]. For each calls cb; stops at the first malformed one (-1). */
struct param_cb {
	int (*fn)(void *ctx, const char *key, size_t klen, const char *val, size_t vlen);
	void *ctx;
};

static int params_each(const char *p, size_t len, size_t i, struct param_cb *cb)
{
	char val[LK_HTTP_MAX_PART_HEADERS];
	for (;;) {
		i = skip_ws(p, i, len);
		if (i == len)
			return 0;
		if (p[i] != ';')
			return -1;
		i = skip_ws(p, i + 1, len);
		size_t k0 = i;
		while (i < len && is_tchar((unsigned char)p[i]))
			i++;
		size_t klen = i - k0;
		if (klen == 0 || i == len || p[i] != '=')
			return -1;
		i++;
		size_t vlen;
		if (param_value(p, len, &i, val, sizeof(val), &vlen) < 0)
			return -1;
		if (cb->fn(cb->ctx, p + k0, klen, val, vlen) < 0)
			return -1;
	}
}

static int ieq(const char *p, size_t len, const char *z)
{
	struct str a = {p, len};
	return str_eq_nocase_z(a, z);
}

struct disp {
	char name[LK_HTTP_MAX_FIELD_NAME + 1];
	size_t name_len;
	int has_name, has_file, dup;
};

static int disp_param(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct disp *d = ctx;
	if (ieq(key, klen, "name")) {
		if (d->has_name)
			d->dup = 1;
		if (vlen > LK_HTTP_MAX_FIELD_NAME)
			return -1;
		memcpy(d->name, val, vlen);
		d->name[vlen] = '\0';
		d->name_len = vlen;
		d->has_name = 1;
	} else if (ieq(key, klen, "filename") || ieq(key, klen, "filename*")) {
		d->has_file = 1;
	}
	return 0;
}

/* Parses a part's header block (without the blank line that ends it). */
static enum form_status part_headers(const char *p, size_t len, struct disp *d)
{
	size_t i = 0;
	int seen_disp = 0;
	while (i < len) {
		const char *crlf = memmem(p + i, len - i, "\r\n", 2);
		size_t end = crlf != NULL ? (size_t)(crlf - p) : len;
		const char *line = p + i;
		size_t llen = end - i;
		i = crlf != NULL ? end + 2 : len;
		if (memchr(line, '\n', llen) != NULL || memchr(line, '\r', llen) != NULL)
			return FORM_MALFORMED; /* bare CR or LF */
		const char *colon = memchr(line, ':', llen);
		if (colon == NULL || colon == line)
			return FORM_MALFORMED;
		size_t nlen = (size_t)(colon - line);
		size_t v = skip_ws(line, nlen + 1, llen);
		if (!ieq(line, nlen, "Content-Disposition"))
			continue; /* Content-Type and the rest: the value is text either way */
		if (seen_disp++)
			return FORM_MALFORMED;
		size_t t0 = v;
		while (v < llen && is_tchar((unsigned char)line[v]))
			v++;
		if (!ieq(line + t0, v - t0, "form-data"))
			return FORM_MALFORMED;
		struct param_cb cb = {disp_param, d};
		if (params_each(line, llen, v, &cb) < 0)
			return FORM_MALFORMED;
	}
	if (!seen_disp || !d->has_name || d->dup)
		return FORM_MALFORMED;
	if (d->has_file)
		return FORM_UNSUPPORTED;
	return FORM_OK;
}

enum form_status form_parse_multipart(struct form *f, const char *boundary, size_t blen,
				      const char *p, size_t len)
{
	if (blen == 0 || blen > 70)
		return FORM_MALFORMED;
	/* delim = CRLF "--" boundary; the first one may come without the CRLF. */
	char delim[2 + 2 + 70];
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen);
	size_t dlen = 4 + blen;
	size_t i;
	if (len >= dlen - 2 && memcmp(p, delim + 2, dlen - 2) == 0) {
		i = dlen - 2;
	} else {
		const char *d = memmem(p, len, delim, dlen); /* after a preamble */
		if (d == NULL)
			return FORM_MALFORMED;
		i = (size_t)(d - p) + dlen;
	}
	for (;;) {
		/* After a delimiter: "--" closes; else optional white space, CRLF. */
		if (len - i >= 2 && p[i] == '-' && p[i + 1] == '-')
			return FORM_OK; /* the epilogue is ignored (RFC 2046) */
		i = skip_ws(p, i, len);
		if (len - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
			return FORM_MALFORMED;
		i += 2;
		size_t hmax =
		    len - i < LK_HTTP_MAX_PART_HEADERS + 4 ? len - i : LK_HTTP_MAX_PART_HEADERS + 4;
		size_t hlen;
		if (hmax >= 2 && p[i] == '\r' && p[i + 1] == '\n') {
			hlen = 0; /* no headers at all: refused below (no name) */
		} else {
			const char *e = memmem(p + i, hmax, "\r\n\r\n", 4);
			if (e == NULL)
				return len - i > LK_HTTP_MAX_PART_HEADERS ? FORM_TOO_BIG
									  : FORM_MALFORMED;
			hlen = (size_t)(e - (p + i));
		}
		struct disp d;
		memset(&d, 0, sizeof(d));
		enum form_status r = part_headers(p + i, hlen, &d);
		if (r != FORM_OK)
			return r;
		i += hlen + (hlen == 0 ? 2 : 4);
		const char *end = memmem(p + i, len - i, delim, dlen);
		if (end == NULL)
			return FORM_MALFORMED;
		size_t vlen = (size_t)(end - (p + i));
		if (vlen > LK_HTTP_MAX_FIELD_VALUE)
			return FORM_TOO_BIG;
		char *value = xmalloc(vlen + 1);
		memcpy(value, p + i, vlen);
		value[vlen] = '\0';
		char *name = xmemdup(d.name, d.name_len); /* may hold a NUL: add() refuses it */
		r = add(f, name, d.name_len, value, vlen);
		if (r != FORM_OK)
			return r;
		i += vlen + dlen;
	}
}

/* --- by Content-Type -------------------------------------------------- */

struct ctype {
	char boundary[71];
	size_t blen;
	int has_boundary;
};

static int ctype_param(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct ctype *c = ctx;
	if (!ieq(key, klen, "boundary"))
		return 0; /* charset and the rest: UTF-8 is checked either way */
	if (c->has_boundary || vlen == 0 || vlen > 70)
		return -1;
	memcpy(c->boundary, val, vlen);
	c->blen = vlen;
	c->has_boundary = 1;
	return 0;
}

enum form_status form_parse(struct form *f, const char *content_type_z, const char *body,
			    size_t len)
{
	if (content_type_z == NULL)
		return FORM_UNSUPPORTED;
	size_t clen = strlen(content_type_z);
	if (clen > LK_HTTP_MAX_PART_HEADERS)
		return FORM_UNSUPPORTED;
	size_t i = skip_ws(content_type_z, 0, clen), t0 = i;
	while (i < clen && (is_tchar((unsigned char)content_type_z[i]) || content_type_z[i] == '/'))
		i++;
	const char *type = content_type_z + t0;
	size_t tlen = i - t0;
	struct ctype c;
	memset(&c, 0, sizeof(c));
	struct param_cb cb = {ctype_param, &c};
	if (ieq(type, tlen, "application/x-www-form-urlencoded")) {
		if (params_each(content_type_z, clen, i, &cb) < 0)
			return FORM_UNSUPPORTED;
		return form_parse_urlencoded(f, body, len);
	}
	if (ieq(type, tlen, "multipart/form-data")) {
		if (params_each(content_type_z, clen, i, &cb) < 0 || !c.has_boundary)
			return FORM_MALFORMED;
		return form_parse_multipart(f, c.boundary, c.blen, body, len);
	}
	return FORM_UNSUPPORTED;
}
