/*
 * address.c - parse and normalise mailboxes: addr-spec (RFC 5321 section
 * 4.1.2, RFC 5322 section 3.4.1) and name-addr (RFC 5322 section 3.4).
 *
 * API (address.h): address_parse for "local@domain" or "<local@domain>",
 * mailbox_parse for that or "Display Name <local@domain>", address_free.
 *
 * Choices, and where they depart from the RFCs:
 *   - Comments in parentheses (RFC 5322 section 3.2.2), "john@x (John)", are
 *     refused with a message that says to write "John" <john@x> instead:
 *     a comment is where old software hid a name, and skipping it silently
 *     would lose it or keep text nobody checked.
 *   - The local part must be ASCII. SMTPUTF8 (RFC 6531) addresses are
 *     refused: the relay client does not speak SMTPUTF8, so such an address
 *     could be stored but never delivered to.
 *   - Inside a quoted local part, control characters are refused, HT too,
 *     although RFC 5322 section 3.2.4 allows it as FWS: no mailbox needs it,
 *     and it would reach headers and logs.
 *   - obs-local-part ("a"."b"@x, RFC 5322 section 4.4) is refused.
 *   - A domain whose last label is all digits ("1.2.3.4") is refused, as is
 *     an address literal ([1.2.3.4]): neither names a mail domain.
 *   - libidn2 runs only on domains with a non-ASCII byte or an "xn--"
 *     label, so a plain LDH domain such as "ab--cd.example" is judged by
 *     RFC 5321 alone and A-labels are checked to be real punycode.
 *   - A display name is kept as written (quotes removed, "\x" unescaped,
 *     runs of white space between words made one space); RFC 2047
 *     encoded-words are not decoded. Specials outside quotes (a comma in
 *     Smith, John <j@x>) are refused: RFC 5322 section 3.2.3 wants them
 *     quoted, and unquoted they make a header mean two mailboxes.
 *
 * TRUST: sees untrusted bytes (web forms, CSV cells, mail headers). Reads
 * exactly len bytes, never relies on a NUL. LK_MAX_MAILBOX is checked before
 * anything else, so every working copy lives on the stack with a fixed
 * size; only the results are allocated. CR, LF and NUL anywhere, and bytes
 * that are not UTF-8, are refused up front, and error messages quote input
 * only after escaping it, so neither can split a header or a log line.
 */
#include "core/address.h"

#include <idn2.h>
#include <stdarg.h>
#include <string.h>

#include "core/limits.h"
#include "core/utf8.h"
#include "core/xmalloc.h"

/* The longest piece of input quoted back in an error message. */
#define ECHO_MAX 64

static int fail(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct buf *err, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		buf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Appends s for an error message: ASCII control bytes escaped, cut after
 * ECHO_MAX bytes on a character boundary. Input is valid UTF-8 here. */
static void echo(struct buf *err, struct str s)
{
	size_t n = s.len;
	if (err == NULL)
		return;
	if (n > ECHO_MAX) {
		n = ECHO_MAX;
		while (n > 0 && ((unsigned char)s.ptr[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'')
			buf_printf(err, "\\x%02x", c);
		else
			buf_putc(err, c);
	}
	if (n < s.len)
		buf_puts(err, "...");
}

/* "'c'" for a printable ASCII character, "0xHH" for anything else. */
static const char *show_char(unsigned char c, char tmp[8])
{
	if (c >= 0x20 && c < 0x7f)
		bsnprintf(tmp, 8, "'%c'", c);
	else
		bsnprintf(tmp, 8, "0x%02x", c);
	return tmp;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 section 3.2.3 atext, ASCII only. */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static struct str trim_wsp(struct str s)
{
	while (s.len && is_wsp((unsigned char)s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len && is_wsp((unsigned char)s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/* Checks that hold for the whole input of both entry points. */
static int check_input(const char *p, size_t len, struct buf *err)
{
	if (len > LK_MAX_MAILBOX)
		return fail(err, "address is longer than %d bytes", LK_MAX_MAILBOX);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			return fail(err, "line break (CR or LF) in address");
		if (p[i] == '\0')
			return fail(err, "NUL byte in address");
	}
	size_t bad;
	if (!utf8_valid(p, len, &bad))
		return fail(err, "byte 0x%02x at offset %zu is not valid UTF-8",
			    (unsigned char)p[bad], bad);
	return 0;
}

/* Looks at s outside quoted strings: refuses comments and unbalanced
 * quotes, and finds the first '<' and '>' (-1 when absent). */
static int scan_outside_quotes(struct str s, long *lt, long *gt, struct buf *err)
{
	int inq = 0;
	*lt = *gt = -1;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (inq) {
			if (c == '\\')
				i++;
			else if (c == '"')
				inq = 0;
			continue;
		}
		if (c == '"')
			inq = 1;
		else if (c == '(' || c == ')')
			return fail(err, "comments in parentheses are not accepted; "
					 "write \"Name\" <local@domain>");
		else if (c == '<' && *lt < 0)
			*lt = (long)i;
		else if (c == '>' && *gt < 0)
			*gt = (long)i;
	}
	if (inq)
		return fail(err, "unbalanced '\"': a quoted string is not closed");
	return 0;
}

/* A dot-atom (RFC 5322 section 3.2.3) needs no quotes. */
static int is_dot_atom(const char *p, size_t len)
{
	if (len == 0 || p[0] == '.' || p[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)p[i])) {
			return 0;
		}
	}
	return 1;
}

/* An unquoted local part: checks it and copies it to out (cap >= s.len). */
static int local_unquoted(struct str s, char *out, size_t *out_len, struct buf *err)
{
	char tmp[8];
	if (s.len == 0)
		return fail(err, "empty local part");
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '.' || is_atext(c))
			continue;
		if (c >= 0x80)
			return fail(err, "non-ASCII character in local part "
					 "(internationalised addresses are not supported)");
		if (c < 0x20 || c == 0x7f)
			return fail(err, "invalid character %s in local part", show_char(c, tmp));
		return fail(err, "invalid character %s in local part (quote it)",
			    show_char(c, tmp));
	}
	if (s.ptr[0] == '.')
		return fail(err, "local part starts with '.'");
	if (s.ptr[s.len - 1] == '.')
		return fail(err, "local part ends with '.'");
	if (memmem(s.ptr, s.len, "..", 2) != NULL)
		return fail(err, "local part has two dots in a row (quote it)");
	memcpy(out, s.ptr, s.len);
	*out_len = s.len;
	return 0;
}

/* A quoted local part, s starting at its opening quote. On success *used is
 * the length up to and including the closing quote and out holds the
 * normalised form: bare if it is a dot-atom, else quoted with only '"' and
 * '\' escaped. out must have room for 2 * s.len + 2 bytes. */
static int local_quoted(struct str s, size_t *used, char *out, size_t *out_len, struct buf *err)
{
	char raw[LK_MAX_MAILBOX];
	size_t n = 0, i = 1;
	char tmp[8];
	for (;;) {
		if (i >= s.len)
			return fail(err, "unbalanced '\"' in local part");
		unsigned char c = (unsigned char)s.ptr[i++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i >= s.len)
				return fail(err, "unbalanced '\"' in local part");
			c = (unsigned char)s.ptr[i++];
		}
		if (c >= 0x80)
			return fail(err, "non-ASCII character in local part "
					 "(internationalised addresses are not supported)");
		if (c < 0x20 || c == 0x7f)
			return fail(err, "invalid character %s in local part", show_char(c, tmp));
		raw[n++] = (char)c;
	}
	*used = i;
	if (n == 0)
		return fail(err, "empty local part");
	if (is_dot_atom(raw, n)) {
		memcpy(out, raw, n);
		*out_len = n;
		return 0;
	}
	size_t o = 0;
	out[o++] = '"';
	for (size_t k = 0; k < n; k++) {
		if (raw[k] == '"' || raw[k] == '\\')
			out[o++] = '\\';
		out[o++] = raw[k];
	}
	out[o++] = '"';
	*out_len = o;
	return 0;
}

static int domain_error_label(struct buf *err, const char *what, struct str dom)
{
	fail(err, "domain '");
	echo(err, dom);
	return fail(err, "' %s", what);
}

/* Checks the labels of an ASCII domain (RFC 5321 section 4.1.2 Domain,
 * RFC 1035 section 2.3.4 sizes). */
static int check_labels(struct str d, struct buf *err)
{
	char tmp[8];
	size_t start = 0;
	int dots = 0;
	if (d.len > LK_MAX_DOMAIN)
		return fail(err, "domain is longer than %d bytes", LK_MAX_DOMAIN);
	for (size_t i = 0; i <= d.len; i++) {
		if (i < d.len && d.ptr[i] != '.') {
			unsigned char c = (unsigned char)d.ptr[i];
			if (!is_alnum(c) && c != '-')
				return fail(err, "invalid character %s in domain",
					    show_char(c, tmp));
			continue;
		}
		struct str label = {d.ptr + start, i - start};
		if (label.len == 0)
			return domain_error_label(err, "has an empty label", d);
		if (label.len > 63) {
			fail(err, "domain label '");
			echo(err, label);
			return fail(err, "' is longer than 63 bytes");
		}
		if (label.ptr[0] == '-' || label.ptr[label.len - 1] == '-') {
			fail(err, "domain label '");
			echo(err, label);
			return fail(err, "' starts or ends with '-'");
		}
		if (i < d.len)
			dots++;
		start = i + 1;
	}
	if (dots == 0)
		return domain_error_label(err, "has no dot", d);
	int numeric = 1;
	for (size_t i = d.len; i > 0 && d.ptr[i - 1] != '.'; i--)
		if (d.ptr[i - 1] < '0' || d.ptr[i - 1] > '9')
			numeric = 0;
	if (numeric)
		return domain_error_label(
		    err, "ends in a numeric label (address literals are not accepted)", d);
	return 0;
}

/* Normalises the domain d into out (at least LK_MAX_DOMAIN + 1 bytes). */
static int parse_domain(struct str d, char *out, size_t *out_len, struct buf *err)
{
	char z[LK_MAX_MAILBOX + 1];
	char tmp[8];
	int idn = 0;
	if (d.len == 0)
		return fail(err, "empty domain");
	if (d.ptr[0] == '[')
		return fail(err, "address literals such as [192.0.2.1] are not accepted");
	for (size_t i = 0; i < d.len; i++) {
		unsigned char c = (unsigned char)d.ptr[i];
		if (c >= 0x80)
			idn = 1;
		else if (!is_alnum(c) && c != '-' && c != '.')
			return fail(err, "invalid character %s in domain", show_char(c, tmp));
	}
	/* libidn2 lets "a..b" through; say it before anything else does. */
	if (d.ptr[0] == '.' || d.ptr[d.len - 1] == '.' || memmem(d.ptr, d.len, "..", 2) != NULL)
		return domain_error_label(err, "has an empty label", d);
	for (size_t i = 0; i < d.len; i++)
		z[i] = (char)lower((unsigned char)d.ptr[i]);
	z[d.len] = '\0';
	for (size_t i = 0; !idn && i + 4 <= d.len; i++)
		if ((i == 0 || z[i - 1] == '.') && memcmp(z + i, "xn--", 4) == 0)
			idn = 1;
	if (idn) {
		/* Nontransitional IDNA 2008 with the UTS #46 mapping (which also
		 * folds case): "faß.de" stays faß, not fass. */
		char *a = NULL;
		int rc = idn2_to_ascii_8z(z, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			idn2_free(a);
			return fail(err, "invalid internationalised domain: %s", idn2_strerror(rc));
		}
		size_t n = strlen(a);
		if (n > LK_MAX_DOMAIN) {
			idn2_free(a);
			return fail(err, "domain is longer than %d bytes", LK_MAX_DOMAIN);
		}
		for (size_t i = 0; i < n; i++)
			z[i] = (char)lower((unsigned char)a[i]);
		z[n] = '\0';
		idn2_free(a);
	}
	struct str f = str_from_z(z);
	if (check_labels(f, err) < 0)
		return -1;
	memcpy(out, z, f.len + 1);
	*out_len = f.len;
	return 0;
}

static void fill(struct address *out, const char *local, size_t llen, const char *dom, size_t dlen)
{
	char a[LK_MAX_ADDRESS + 1];
	memcpy(a, local, llen);
	a[llen] = '@';
	memcpy(a + llen + 1, dom, dlen);
	size_t n = llen + 1 + dlen;
	out->addr = xmemdup(a, n);
	for (size_t i = 0; i < llen; i++)
		a[i] = (char)lower((unsigned char)a[i]);
	out->key = xmemdup(a, n);
	out->local = xmemdup(local, llen);
	out->domain = xmemdup(dom, dlen);
	explicit_bzero(a, sizeof(a));
}

/* s is exactly one addr-spec, already trimmed. */
static int parse_addr_spec(struct str s, struct address *out, struct buf *err)
{
	char local[2 * LK_MAX_MAILBOX + 2];
	char dom[LK_MAX_DOMAIN + 1];
	size_t llen = 0, dlen = 0, at = 0;
	if (s.len == 0)
		return fail(err, "empty address");
	if (s.ptr[0] == '"') {
		if (local_quoted(s, &at, local, &llen, err) < 0)
			return -1;
		if (at == s.len)
			return fail(err, "missing '@'");
		if (s.ptr[at] != '@')
			return fail(err, "text after the closing '\"' of the local part");
	} else {
		long i = str_find(s, '@');
		if (i < 0)
			return fail(err, "missing '@'");
		at = (size_t)i;
		if (local_unquoted((struct str){s.ptr, at}, local, &llen, err) < 0)
			return -1;
	}
	if (llen > LK_MAX_LOCAL_PART)
		return fail(err, "local part is longer than %d bytes", LK_MAX_LOCAL_PART);
	if (parse_domain((struct str){s.ptr + at + 1, s.len - at - 1}, dom, &dlen, err) < 0)
		return -1;
	if (llen + 1 + dlen > LK_MAX_ADDRESS)
		return fail(err, "address is longer than %d bytes", LK_MAX_ADDRESS);
	fill(out, local, llen, dom, dlen);
	explicit_bzero(local, sizeof(local));
	return 0;
}

/* s starts with '<'; the addr-spec inside, then nothing but white space. */
static int parse_angle(struct str s, struct address *out, struct buf *err)
{
	int inq = 0;
	size_t i;
	for (i = 1; i < s.len; i++) {
		char c = s.ptr[i];
		if (inq) {
			if (c == '\\')
				i++;
			else if (c == '"')
				inq = 0;
		} else if (c == '"') {
			inq = 1;
		} else if (c == '>') {
			break;
		}
	}
	if (i >= s.len)
		return fail(err, "missing '>'");
	if (trim_wsp((struct str){s.ptr + i + 1, s.len - i - 1}).len != 0)
		return fail(err, "unexpected text after '>'");
	return parse_addr_spec(trim_wsp((struct str){s.ptr + 1, i - 1}), out, err);
}

/* The display name before '<': a phrase of atoms and quoted strings (RFC
 * 5322 section 3.2.5, with obs-phrase's '.'). NULL when empty. */
static int parse_display(struct str d, char **out, struct buf *err)
{
	char o[LK_MAX_MAILBOX];
	size_t n = 0, i = 0;
	int space = 0;
	char tmp[8];
	*out = NULL;
	while (i < d.len) {
		unsigned char c = (unsigned char)d.ptr[i];
		if (is_wsp(c)) {
			space = 1;
			i++;
			continue;
		}
		if (space && n > 0)
			o[n++] = ' ';
		space = 0;
		if (c == '"') {
			for (i++; i < d.len && d.ptr[i] != '"'; i++) {
				c = (unsigned char)d.ptr[i];
				if (c == '\\' && i + 1 < d.len)
					c = (unsigned char)d.ptr[++i];
				if ((c < 0x20 && c != '\t') || c == 0x7f)
					return fail(err, "invalid character %s in display name",
						    show_char(c, tmp));
				o[n++] = (char)c;
			}
			i++; /* the closing quote: scan_outside_quotes saw it */
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return fail(err, "invalid character %s in display name", show_char(c, tmp));
		if (c < 0x80 && c != '.' && !is_atext(c))
			return fail(err, "invalid character %s in display name (quote the name)",
				    show_char(c, tmp));
		o[n++] = (char)c;
		i++;
	}
	struct str t = trim_wsp((struct str){o, n});
	if (t.len > LK_MAX_NAME) {
		explicit_bzero(o, sizeof(o));
		return fail(err, "display name is longer than %d bytes", LK_MAX_NAME);
	}
	if (t.len > 0)
		*out = xmemdup(t.ptr, t.len);
	explicit_bzero(o, sizeof(o));
	return 0;
}

int address_parse(const char *p, size_t len, struct address *out, struct buf *err)
{
	long lt, gt;
	memset(out, 0, sizeof(*out));
	if (check_input(p, len, err) < 0)
		return -1;
	struct str s = trim_wsp((struct str){p, len});
	if (scan_outside_quotes(s, &lt, &gt, err) < 0)
		return -1;
	if (lt == 0)
		return parse_angle(s, out, err);
	if (lt > 0)
		return fail(err, "unexpected text before '<'");
	if (gt >= 0)
		return fail(err, "'>' without '<'");
	return parse_addr_spec(s, out, err);
}

int mailbox_parse(const char *p, size_t len, struct address *out, struct buf *err)
{
	long lt, gt;
	memset(out, 0, sizeof(*out));
	if (check_input(p, len, err) < 0)
		return -1;
	struct str s = trim_wsp((struct str){p, len});
	if (scan_outside_quotes(s, &lt, &gt, err) < 0)
		return -1;
	if (lt < 0) {
		if (gt >= 0)
			return fail(err, "'>' without '<'");
		return parse_addr_spec(s, out, err);
	}
	char *display;
	if (parse_display((struct str){s.ptr, (size_t)lt}, &display, err) < 0)
		return -1;
	if (parse_angle((struct str){s.ptr + lt, s.len - (size_t)lt}, out, err) < 0) {
		if (display != NULL)
			xfree_wipe(display, strlen(display));
		return -1;
	}
	out->display = display;
	return 0;
}

static void wipe(char **z)
{
	if (*z != NULL)
		xfree_wipe(*z, strlen(*z));
	*z = NULL;
}

void address_free(struct address *a)
{
	if (a == NULL)
		return;
	wipe(&a->addr);
	wipe(&a->key);
	wipe(&a->local);
	wipe(&a->domain);
	wipe(&a->display);
}
