/*
 * bounce_class.c - the classes of bounces and the classifier of one
 * diagnosis (bounce_class.h), for intake's reports and the relay's replies.
 *
 * API: bounce_class_name, bounce_class_parse, bounce_status_parse,
 * bounce_smtp_code, bounce_scan_codes, bounce_diag_read, bounce_decide,
 * bounce_classify. The phrase table is data, in bounce_phrases.c.
 *
 * Shape. A diagnosis is unfolded into one lower-case line (every run of
 * white space one space, cut at LK_MAX_BOUNCE_TEXT), its status codes and
 * SMTP replies are scanned, the first matching phrase row is found; then
 * the rules of bounce_classify decide.
 *
 * TRUST: the texts are untrusted (a relay's reply, a received report): read
 * by (pointer, length), bounded by LK_MAX_BOUNCE_TEXT. Never logs.
 */
#include "mail/bounce_class.h"

#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/nametab.h"

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	c = lower(c);
	return is_digit(c) || (c >= 'a' && c <= 'z');
}

static const char *const CLASS_NAME[BOUNCE_CLASS_COUNT] = {
    [BOUNCE_UNKNOWN] = "unknown",
    [BOUNCE_GONE] = "gone",
    [BOUNCE_FULL] = "full",
    [BOUNCE_REJECTED_CONTENT] = "rejected-content",
    [BOUNCE_SENDER_POLICY] = "sender-policy",
    [BOUNCE_TEMPORARY] = "temporary",
    [BOUNCE_COMPLAINT] = "complaint",
};
static const struct nametab class_names = NAMETAB(CLASS_NAME);

const char *bounce_class_name(enum bounce_class c)
{
	return (unsigned)c < BOUNCE_CLASS_COUNT ? CLASS_NAME[c] : "unknown";
}

int bounce_class_parse(const char *name, enum bounce_class *out)
{
	int v;
	if (nametab_parse(&class_names, name, &v) < 0)
		return -1;
	*out = (enum bounce_class)v;
	return 0;
}

int bounce_status_parse(struct str v, char out[12])
{
	size_t i = 0, k = 0;
	for (int part = 0; part < 3; part++) {
		size_t d = 0;
		while (i < v.len && is_digit((unsigned char)v.ptr[i]) && d < 4)
			out[k++] = v.ptr[i++], d++;
		if (d == 0 || d > 3 || (part == 0 && d != 1))
			return -1;
		if (part < 2) {
			if (i >= v.len || v.ptr[i] != '.')
				return -1;
			out[k++] = v.ptr[i++];
		}
	}
	if (i < v.len && (is_digit((unsigned char)v.ptr[i]) || v.ptr[i] == '.'))
		return -1;
	out[k] = '\0';
	return out[0] == '2' || out[0] == '4' || out[0] == '5' ? 0 : -1;
}

int bounce_smtp_code(struct str v)
{
	if (v.len < 3 || (v.ptr[0] != '4' && v.ptr[0] != '5') ||
	    !is_digit((unsigned char)v.ptr[1]) || !is_digit((unsigned char)v.ptr[2]))
		return 0;
	if (v.len > 3 && v.ptr[3] != ' ' && v.ptr[3] != '-' && v.ptr[3] != ')' && v.ptr[3] != ',' &&
	    v.ptr[3] != ']')
		return 0;
	if (v.ptr[1] > '5') /* 4xx and 5xx replies have a second digit 0-5 */
		return 0;
	return (v.ptr[0] - '0') * 100 + (v.ptr[1] - '0') * 10 + (v.ptr[2] - '0');
}

void bounce_scan_codes(struct str t, struct bounce_codes *k)
{
	for (size_t i = 0; i < t.len; i++) {
		int c = (unsigned char)t.ptr[i];
		if (c != '4' && c != '5')
			continue;
		int prev = i ? (unsigned char)t.ptr[i - 1] : ' ';
		if (is_alnum(prev) || prev == '.' || prev == '-' || prev == '+' || prev == '/' ||
		    prev == ':' || prev == '=')
			continue;
		char st[12];
		struct str rest = {t.ptr + i, t.len - i};
		if (bounce_status_parse(rest, st) == 0) {
			if (k->status[0] == '\0' || (k->status[0] == '4' && st[0] == '5'))
				memcpy(k->status, st, sizeof st);
			continue;
		}
		int n = bounce_smtp_code(rest);
		if (n != 0 && (k->smtp == 0 || (k->smtp < 500 && n >= 500)))
			k->smtp = n;
	}
}

/* The class an enhanced status names (RFC 3463 section 3), or unknown. */
static enum bounce_class status_class(const char *st)
{
	if (st[0] == '\0')
		return BOUNCE_UNKNOWN;
	const char *p = st + 2;
	int subject = 0, detail = 0;
	while (is_digit((unsigned char)*p))
		subject = subject * 10 + (*p++ - '0');
	if (*p == '.')
		p++;
	while (is_digit((unsigned char)*p))
		detail = detail * 10 + (*p++ - '0');
	switch (subject) {
	case 1:
		if (detail == 1 || detail == 2 || detail == 3 || detail == 6 || detail == 10)
			return BOUNCE_GONE;
		if (detail == 7 || detail == 8)
			return BOUNCE_SENDER_POLICY; /* our sender address */
		return BOUNCE_UNKNOWN;
	case 2:
		return detail == 1   ? BOUNCE_GONE
		       : detail == 2 ? BOUNCE_FULL
		       : detail == 3 ? BOUNCE_REJECTED_CONTENT
				     : BOUNCE_UNKNOWN;
	case 3:
		return detail == 4 ? BOUNCE_REJECTED_CONTENT : BOUNCE_UNKNOWN;
	case 4:
		if (detail == 4 && st[0] == '5')
			return BOUNCE_GONE; /* unable to route: no such domain */
		return detail == 7 || detail == 1 || detail == 2 ? BOUNCE_TEMPORARY
								 : BOUNCE_UNKNOWN;
	case 6:
		return BOUNCE_REJECTED_CONTENT;
	case 7:
		return BOUNCE_SENDER_POLICY;
	default:
		return BOUNCE_UNKNOWN;
	}
}

/* t with every run of white space (line breaks and their indentation too)
 * made one space and ASCII lower-cased, into out (cut at out->max). */
static void unfold(struct str t, struct buf *out)
{
	int space = 1;
	for (size_t i = 0; i < t.len && out->len < out->max; i++) {
		unsigned char c = (unsigned char)t.ptr[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (!space)
				buf_putc(out, ' ');
			space = 1;
		} else {
			buf_putc(out, (char)lower(c));
			space = 0;
		}
	}
}

void bounce_diag_read(const char *text, size_t len, struct bounce_diag *d)
{
	struct buf u;
	buf_init(&u, LK_MAX_BOUNCE_TEXT);
	unfold((struct str){text, len}, &u);
	memset(d, 0, sizeof *d);
	bounce_scan_codes(buf_str(&u), &d->found);
	for (size_t i = 0; i < bounce_phrases_count && d->ph == NULL && u.len > 0; i++)
		if (memmem(u.data, u.len, bounce_phrases[i].phrase,
			   strlen(bounce_phrases[i].phrase)) != NULL)
			d->ph = &bounce_phrases[i];
	buf_free(&u);
}

enum bounce_class bounce_decide(const char *status, int smtp, const struct bounce_diag *d,
				const char **family)
{
	struct bounce_codes k = {{0}, smtp};
	if (status != NULL && status[0] != '\0')
		bsnprintf(k.status, sizeof k.status, "%s", status);
	/* a generic status (X.0.0) gives way to a precise one of its class in
	 * the text: Postfix's "Status: 5.0.0" over "said: 550 5.1.1 ..." */
	if (k.status[0] == '\0' ||
	    (strcmp(k.status + 1, ".0.0") == 0 && d->found.status[0] == k.status[0]))
		memcpy(k.status, d->found.status, sizeof k.status);
	if (k.smtp == 0)
		k.smtp = d->found.smtp;
	const struct bounce_phrase *ph = d->ph;
	enum bounce_class pc = ph ? ph->cls : BOUNCE_UNKNOWN, sc = status_class(k.status);
	int digit = k.status[0] ? k.status[0] - '0' : k.smtp / 100;
	enum bounce_class r = BOUNCE_UNKNOWN;
	const struct bounce_phrase *by = NULL;
	if (pc == BOUNCE_SENDER_POLICY || pc == BOUNCE_REJECTED_CONTENT)
		r = pc, by = ph;
	else if (pc == BOUNCE_TEMPORARY && digit == 4)
		r = pc, by = ph; /* "450 4.7.1 Greylisted": policy, but for now */
	else if (sc == BOUNCE_SENDER_POLICY || sc == BOUNCE_REJECTED_CONTENT)
		r = sc;
	else if (pc == BOUNCE_FULL || sc == BOUNCE_FULL)
		r = BOUNCE_FULL, by = pc == BOUNCE_FULL ? ph : NULL;
	else if (digit == 4)
		r = BOUNCE_TEMPORARY; /* "450 user unknown" is a greylist or a
					 verification that failed for now */
	else if (pc == BOUNCE_GONE || sc == BOUNCE_GONE)
		r = BOUNCE_GONE, by = sc == BOUNCE_GONE ? NULL : ph;
	else if (pc == BOUNCE_TEMPORARY || sc == BOUNCE_TEMPORARY)
		r = BOUNCE_TEMPORARY, by = pc == BOUNCE_TEMPORARY ? ph : NULL;
	if (family != NULL)
		*family = by ? by->family : NULL;
	return r;
}

enum bounce_class bounce_classify(const char *status, int smtp, const char *text, size_t len,
				  const char **family)
{
	struct bounce_diag d;
	bounce_diag_read(text, len, &d);
	return bounce_decide(status, smtp, &d, family);
}
