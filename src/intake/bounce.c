/*
 * bounce.c - classify an incoming bounce or complaint (bounce.h says what
 * each format maps to).
 *
 * API: bounce_parse, bounce_verp_split, bounce_free, bounce_kind_str.
 *
 * Shape. GMime parses the message; a top-level multipart/report is read
 * from its message/delivery-status or message/feedback-report part with a
 * small field reader of our own (groups of RFC 822-style fields separated
 * by blank lines, RFC 3464 section 2.1), because GMime treats those parts
 * as opaque leaves. Everything else goes to the text heuristics, which read
 * the first text/plain part up to the line that introduces the returned
 * message (codes in our own message must not count).
 *
 * TRUST: all input is untrusted mail. Never logs: the recipients are
 * addresses. Bounds: LK_MAX_MESSAGE (checked before parsing),
 * LK_MAX_BOUNCE_TEXT (decoded text read), LK_MAX_BOUNCE_FIELD (one
 * unfolded field; longer ones are skipped), LK_MAX_BOUNCE_RCPTS (extra
 * recipients are dropped), LK_MAX_MIME_PARTS.
 */
#include "intake/bounce.h"

#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "crypto/token.h"
#include "intake/mimetext.h"
#include "mail/address.h"
#include "mail/listaddr.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

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

/* Case-insensitive search for the NUL-terminated needle in s. */
static int contains(struct str s, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= s.len && i <= s.len - n; i++) {
		size_t k = 0;
		while (k < n &&
		       lower((unsigned char)s.ptr[i + k]) == lower((unsigned char)needle[k]))
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

static int starts_nocase(struct str s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len >= n && str_eq_nocase((struct str){s.ptr, n}, (struct str){prefix, n});
}

/* The next line of *rest (without CR LF); 0 when none is left. */
static int next_line(struct str *rest, struct str *line)
{
	if (rest->len == 0)
		return 0;
	long nl = str_find(*rest, '\n');
	size_t n = nl < 0 ? rest->len : (size_t)nl;
	*line = (struct str){rest->ptr, n};
	rest->ptr += nl < 0 ? n : n + 1;
	rest->len -= nl < 0 ? n : n + 1;
	while (line->len && line->ptr[line->len - 1] == '\r')
		line->len--;
	return 1;
}

/* Normalised address from "addr", "<addr>" or "type; addr"; NULL if not one. */
static char *take_address(struct str s, int typed)
{
	if (typed) {
		long semi = str_find(s, ';');
		if (semi < 0)
			return NULL;
		s.ptr += semi + 1;
		s.len -= (size_t)semi + 1;
	}
	s = str_trim(s);
	while (s.len && s.ptr[s.len - 1] == ':')
		s.len--;
	if (s.len >= 2 && s.ptr[0] == '<' && s.ptr[s.len - 1] == '>')
		s = (struct str){s.ptr + 1, s.len - 2};
	if (s.len == 0 || s.len > LK_MAX_ADDRESS)
		return NULL;
	struct address a;
	struct buf err;
	buf_init(&err, 256);
	char *r = NULL;
	if (address_parse(s.ptr, s.len, &a, &err) == 0) {
		r = xstrdup(a.addr);
		address_free(&a);
	}
	buf_free(&err);
	return r;
}

static void wipe_str(char **z)
{
	if (*z != NULL)
		xfree_wipe(*z, strlen(*z));
	*z = NULL;
}

void bounce_free(struct bounce *out)
{
	for (size_t i = 0; i < out->nrcpt && i < LK_MAX_BOUNCE_RCPTS; i++) {
		wipe_str(&out->rcpt[i].final_rcpt);
		wipe_str(&out->rcpt[i].original_rcpt);
	}
	wipe_str(&out->verp_list);
	wipe_str(&out->verp_token);
	memset(out, 0, sizeof *out);
}

const char *bounce_kind_str(enum bounce_kind k)
{
	switch (k) {
	case BOUNCE_HARD:
		return "hard";
	case BOUNCE_SOFT:
		return "soft";
	case BOUNCE_COMPLAINT:
		return "complaint";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------------------------ */
/* VERP                                                                */

int bounce_verp_split(const char *p, size_t len, char **list, char **token)
{
	/* the scheme is mail/listaddr.h's; a VERP token is the address form */
	struct str s = str_trim((struct str){p, len});
	struct listaddr rd[LISTADDR_READINGS];
	if (listaddr_parse(s.ptr, s.len, NULL, rd) != 1 || rd[0].role != LISTADDR_BOUNCES ||
	    !token_addr_syntax(rd[0].token.ptr, rd[0].token.len))
		return -1;
	*list = xstrdup(rd[0].list);
	*token = xstrndup(rd[0].token.ptr, rd[0].token.len);
	return 0;
}

static void set_verp(struct bounce *out, struct str s, int from_report)
{
	if (out->verp_token != NULL)
		return;
	if (bounce_verp_split(s.ptr, s.len, &out->verp_list, &out->verp_token) == 0)
		out->verp_from_report = from_report;
}

/* ------------------------------------------------------------------ */
/* Report fields (RFC 3464 section 2.1, RFC 5965 section 3.1)          */

/* Called per field with its name and unfolded value; a group ends at a
 * blank line (fn gets an empty name). */
typedef void field_fn(void *ctx, struct str name, struct str value);

static void flush_field(struct buf *f, int *skip, field_fn *fn, void *ctx)
{
	struct str s = buf_str(f);
	long colon = str_find(s, ':');
	if (s.len > 0 && !*skip && colon > 0) {
		struct str name = str_trim((struct str){s.ptr, (size_t)colon});
		struct str value = str_trim((struct str){s.ptr + colon + 1, s.len - colon - 1});
		fn(ctx, name, value);
	}
	buf_reset(f);
	*skip = 0;
}

static void read_fields(struct str text, field_fn *fn, void *ctx)
{
	struct buf f;
	buf_init(&f, LK_MAX_BOUNCE_FIELD);
	int skip = 0; /* the current field passed the bound: drop it */
	struct str line;
	while (next_line(&text, &line)) {
		if (str_trim(line).len == 0) {
			flush_field(&f, &skip, fn, ctx);
			fn(ctx, (struct str){"", 0}, (struct str){"", 0});
		} else if (line.ptr[0] == ' ' || line.ptr[0] == '\t') {
			if (buf_putc(&f, ' ') < 0 || buf_append_str(&f, line) < 0)
				skip = 1;
		} else {
			flush_field(&f, &skip, fn, ctx);
			if (buf_append_str(&f, line) < 0)
				skip = 1;
		}
	}
	flush_field(&f, &skip, fn, ctx);
	fn(ctx, (struct str){"", 0}, (struct str){"", 0});
	buf_free(&f);
}

/* RFC 3463: class "." subject "." detail, 1-3 digits each. */
static int status_code(struct str v, char out[12])
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

struct dsn_ctx {
	struct bounce *out;
	struct bounce_rcpt cur;
	int in_rcpt; /* cur holds per-recipient fields */
};

static void dsn_field(void *p, struct str name, struct str value)
{
	struct dsn_ctx *c = p;
	struct bounce_rcpt *r = &c->cur;
	if (name.len == 0) { /* end of a group */
		if (c->in_rcpt && c->out->nrcpt < LK_MAX_BOUNCE_RCPTS)
			c->out->rcpt[c->out->nrcpt++] = *r;
		else {
			wipe_str(&r->final_rcpt);
			wipe_str(&r->original_rcpt);
		}
		memset(r, 0, sizeof *r);
		c->in_rcpt = 0;
		return;
	}
	if (str_eq_nocase_z(name, "Final-Recipient")) {
		c->in_rcpt = 1;
		if (r->final_rcpt == NULL)
			r->final_rcpt = take_address(value, 1);
	} else if (str_eq_nocase_z(name, "Original-Recipient")) {
		c->in_rcpt = 1;
		if (r->original_rcpt == NULL)
			r->original_rcpt = take_address(value, 1);
	} else if (str_eq_nocase_z(name, "Action")) {
		static const char *const names[] = {"failed", "delayed", "delivered", "relayed",
						    "expanded"};
		c->in_rcpt = 1;
		/* RFC 3464 2.3.3 allows a comment after the keyword */
		size_t n = 0;
		while (n < value.len && is_alnum((unsigned char)value.ptr[n]))
			n++;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (str_eq_nocase_z((struct str){value.ptr, n}, names[i]))
				r->action = (enum bounce_action)(BOUNCE_ACTION_FAILED + i);
	} else if (str_eq_nocase_z(name, "Status")) {
		c->in_rcpt = 1;
		if (status_code(value, r->status) < 0)
			r->status[0] = '\0';
	}
}

static enum bounce_kind dsn_kind(const struct bounce_rcpt *r)
{
	char cls = r->status[0];
	switch (r->action) {
	case BOUNCE_ACTION_FAILED:
		return cls == '4' ? BOUNCE_SOFT : BOUNCE_HARD;
	case BOUNCE_ACTION_DELAYED:
		return BOUNCE_SOFT;
	case BOUNCE_ACTION_NONE:
		return cls == '5' ? BOUNCE_HARD : cls == '4' ? BOUNCE_SOFT : BOUNCE_UNKNOWN;
	default: /* delivered, relayed, expanded: not a bounce */
		return BOUNCE_UNKNOWN;
	}
}

struct arf_ctx {
	struct bounce *out;
	char mail_from[LK_MAX_ADDRESS + 8]; /* copied: the field buffer is reused */
	size_t mail_from_len;
	char *rcpt;
};

static void arf_field(void *p, struct str name, struct str value)
{
	struct arf_ctx *c = p;
	if (str_eq_nocase_z(name, "Feedback-Type") && c->out->feedback_type[0] == '\0') {
		size_t n = 0;
		while (n < value.len && n < sizeof c->out->feedback_type - 1 &&
		       (is_alnum((unsigned char)value.ptr[n]) || value.ptr[n] == '-'))
			c->out->feedback_type[n] = (char)lower((unsigned char)value.ptr[n]), n++;
		c->out->feedback_type[n] = '\0';
	} else if (str_eq_nocase_z(name, "Original-Rcpt-To") && c->rcpt == NULL) {
		c->rcpt = take_address(value, 0);
	} else if (str_eq_nocase_z(name, "Original-Mail-From") && c->mail_from_len == 0 &&
		   value.len <= sizeof c->mail_from) {
		memcpy(c->mail_from, value.ptr, value.len);
		c->mail_from_len = value.len;
	}
}

/* ------------------------------------------------------------------ */
/* multipart/report                                                    */

static void set_overall(struct bounce *out)
{
	int hard = 0, soft = 0;
	for (size_t i = 0; i < out->nrcpt; i++) {
		hard |= out->rcpt[i].kind == BOUNCE_HARD;
		soft |= out->rcpt[i].kind == BOUNCE_SOFT;
	}
	out->kind = hard ? BOUNCE_HARD : soft ? BOUNCE_SOFT : BOUNCE_UNKNOWN;
}

static void read_dsn(struct bounce *out, GMimeObject *part)
{
	struct buf text;
	buf_init(&text, LK_MAX_BOUNCE_TEXT);
	mimetext_content(part, 0, &text);
	struct dsn_ctx c = {.out = out};
	read_fields(buf_str(&text), dsn_field, &c);
	for (size_t i = 0; i < out->nrcpt; i++)
		out->rcpt[i].kind = dsn_kind(&out->rcpt[i]);
	set_overall(out);
	buf_free(&text);
}

static void read_arf(struct bounce *out, GMimeObject *part)
{
	struct buf text;
	buf_init(&text, LK_MAX_BOUNCE_TEXT);
	mimetext_content(part, 0, &text);
	struct arf_ctx c = {.out = out};
	read_fields(buf_str(&text), arf_field, &c);
	static const char *const complaints[] = {"abuse", "fraud", "other"};
	for (size_t i = 0; i < sizeof complaints / sizeof complaints[0]; i++)
		if (strcmp(out->feedback_type, complaints[i]) == 0)
			out->kind = BOUNCE_COMPLAINT;
	if (c.rcpt != NULL) {
		out->rcpt[0].final_rcpt = c.rcpt;
		out->rcpt[0].kind = out->kind;
		out->nrcpt = 1;
	}
	if (c.mail_from_len > 0)
		set_verp(out, (struct str){c.mail_from, c.mail_from_len}, 1);
	buf_free(&text);
}

/* Returns 1 if the report was understood (format set). */
static int read_report(struct bounce *out, GMimeObject *top)
{
	GMimeMultipart *mp = GMIME_MULTIPART(top);
	const char *rt = g_mime_object_get_content_type_parameter(top, "report-type");
	int want_arf = rt != NULL && g_ascii_strcasecmp(rt, "feedback-report") == 0;
	int want_dsn = rt != NULL && g_ascii_strcasecmp(rt, "delivery-status") == 0;
	GMimeObject *dsn = NULL, *arf = NULL;
	int n = g_mime_multipart_get_count(mp);
	for (int i = 0; i < n && i < LK_MAX_MIME_PARTS; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		if (!GMIME_IS_PART(c))
			continue;
		if (dsn == NULL && (mimetext_is(c, "message", "delivery-status") ||
				    mimetext_is(c, "message", "global-delivery-status")))
			dsn = c;
		else if (arf == NULL && mimetext_is(c, "message", "feedback-report"))
			arf = c;
	}
	if (arf != NULL && (want_arf || !want_dsn || dsn == NULL)) {
		out->format = BOUNCE_FMT_ARF;
		read_arf(out, arf);
		return 1;
	}
	if (dsn != NULL) {
		read_dsn(out, dsn);
		if (out->nrcpt == 0)
			return 0; /* no recipient group: let the text speak */
		out->format = BOUNCE_FMT_DSN;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Text bounces                                                        */

struct codes {
	int hard, soft;
};

/* Enhanced status codes (5.1.1) and SMTP replies (550) in one line. */
static void scan_codes(struct str line, struct codes *k)
{
	for (size_t i = 0; i < line.len; i++) {
		int c = (unsigned char)line.ptr[i];
		if (c != '4' && c != '5')
			continue;
		int prev = i ? (unsigned char)line.ptr[i - 1] : ' ';
		if (is_alnum(prev) || prev == '.' || prev == '-' || prev == '+' || prev == '/')
			continue;
		char st[12];
		struct str rest = {line.ptr + i, line.len - i};
		if (status_code(rest, st) == 0) {
			if (c == '5')
				k->hard = 1;
			else
				k->soft = 1;
			continue;
		}
		/* an SMTP reply: three digits, then SP, '-' or the end */
		if (rest.len >= 3 && is_digit((unsigned char)rest.ptr[1]) &&
		    is_digit((unsigned char)rest.ptr[2]) &&
		    (rest.len == 3 || rest.ptr[3] == ' ' || rest.ptr[3] == '-')) {
			int second = rest.ptr[1] - '0';
			if (c == '5' && second <= 5)
				k->hard = 1;
			else if (c == '4' && second >= 2 && second <= 5)
				k->soft = 1;
		}
	}
}

static const char *const hard_phrases[] = {
    "user unknown", "unknown user",	"no such user",	       "does not exist",
    "permanent",    "address rejected", "mailbox unavailable", "unrouteable",
    "no mailbox",   "not found",	"invalid recipient",   "account has been disabled",
};
static const char *const soft_phrases[] = {
    "mailbox full", "over quota",      "quota exceeded", "temporar",
    "delayed",	    "will be retried", "still trying",	 "has not yet been delivered",
};

static int any_phrase(struct str line, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (contains(line, list[i]))
			return 1;
	return 0;
}

/* "------ This is a copy of the message ------", "--- Below this line...",
 * "----- Original message follows -----", "-----Original Message-----". */
static int returned_message_starts(struct str line)
{
	struct str t = str_trim(line);
	if (t.len < 3 || !((t.ptr[0] == '-' && t.ptr[1] == '-' && t.ptr[2] == '-') ||
			   (t.ptr[0] == '=' && t.ptr[1] == '=' && t.ptr[2] == '=')))
		return 0;
	return contains(t, "message") || contains(t, "below this line") || contains(t, "headers");
}

static void add_rcpt(struct bounce *out, char *addr, enum bounce_kind kind)
{
	for (size_t i = 0; i < out->nrcpt; i++)
		if (out->rcpt[i].final_rcpt && strcmp(out->rcpt[i].final_rcpt, addr) == 0) {
			if (kind == BOUNCE_HARD)
				out->rcpt[i].kind = kind;
			wipe_str(&addr);
			return;
		}
	if (out->nrcpt >= LK_MAX_BOUNCE_RCPTS) {
		wipe_str(&addr);
		return;
	}
	out->rcpt[out->nrcpt].final_rcpt = addr;
	out->rcpt[out->nrcpt].kind = kind;
	out->nrcpt++;
}

static enum bounce_kind verdict(const struct codes *k, int hard_phrase, int soft_phrase)
{
	if (k->hard)
		return BOUNCE_HARD;
	if (k->soft)
		return BOUNCE_SOFT;
	if (hard_phrase)
		return BOUNCE_HARD;
	if (soft_phrase)
		return BOUNCE_SOFT;
	return BOUNCE_UNKNOWN;
}

/* qmail-send: "<addr>:" starts a recipient's paragraph (qmail's
 * qmail-send.c writes the address, then the reasons, then a blank line). */
static void read_qmail(struct bounce *out, struct str text)
{
	int permanent = contains(text, "This is a permanent error");
	struct str line;
	char *addr = NULL;
	struct codes k = {0, 0};
	int hp = 0, sp = 0, done = 0;
	while (!done) {
		int more = next_line(&text, &line);
		done = !more || returned_message_starts(line);
		struct str t = more ? str_trim(line) : (struct str){"", 0};
		int starts = !done && t.len > 3 && t.ptr[0] == '<' && t.ptr[t.len - 1] == ':' &&
			     t.ptr[t.len - 2] == '>';
		if (addr != NULL && (done || t.len == 0 || starts)) {
			enum bounce_kind kind = verdict(&k, hp, sp);
			if (kind == BOUNCE_UNKNOWN && permanent)
				kind = BOUNCE_HARD;
			add_rcpt(out, addr, kind);
			addr = NULL;
		}
		if (starts) {
			addr = take_address(t, 0);
			k = (struct codes){0, 0};
			hp = sp = 0;
		} else if (addr != NULL) {
			scan_codes(t, &k);
			hp |=
			    any_phrase(t, hard_phrases, sizeof hard_phrases / sizeof *hard_phrases);
			sp |=
			    any_phrase(t, soft_phrases, sizeof soft_phrases / sizeof *soft_phrases);
		}
	}
	out->format = BOUNCE_FMT_QMAIL;
	set_overall(out);
	if (out->nrcpt == 0 && permanent)
		out->kind = BOUNCE_HARD;
}

static const char *const bounce_subjects[] = {
    "Undelivered Mail Returned to Sender",
    "Mail delivery failed",
    "Delivery Status Notification (Failure)",
    "Undeliverable:",
    "Undeliverable mail",
    "Returned mail:",
    "Mail System Error - Returned Mail",
    "Delivery failure",
    "Delivery has failed",
    "failure notice",
    "Nondeliverable mail",
};
static const char *const delay_subjects[] = {
    "Delivery Status Notification (Delay)",
    "Delayed Mail",
    "Warning: could not send message",
    "Mail delivery delayed",
};

static int from_daemon(GMimeMessage *m)
{
	InternetAddressList *from = g_mime_message_get_from(m);
	int n = from ? internet_address_list_length(from) : 0;
	for (int i = 0; i < n && i < 4; i++) {
		InternetAddress *ia = internet_address_list_get_address(from, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		struct str s = str_from_z(a ? a : "");
		if (starts_nocase(s, "mailer-daemon") || starts_nocase(s, "postmaster") ||
		    starts_nocase(s, "mail-daemon"))
			return 1;
	}
	return 0;
}

static int subject_in(struct str subj, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (contains(subj, list[i]))
			return 1;
	return 0;
}

static void read_text(struct bounce *out, GMimeMessage *m)
{
	struct buf text;
	buf_init(&text, LK_MAX_BOUNCE_TEXT);
	mimetext_content(mimetext_first_plain(m), 1, &text);
	struct str body = buf_str(&text), lead = str_trim(body);
	if (starts_nocase(lead, "Hi. This is the qmail-send program")) {
		read_qmail(out, lead);
		buf_free(&text);
		return;
	}
	const char *sz = g_mime_message_get_subject(m);
	struct str subj = str_from_z(sz ? sz : "");
	int delay =
	    subject_in(subj, delay_subjects, sizeof delay_subjects / sizeof *delay_subjects);
	int failure =
	    subject_in(subj, bounce_subjects, sizeof bounce_subjects / sizeof *bounce_subjects);
	if (!delay && !failure && !from_daemon(m)) {
		buf_free(&text);
		return; /* not a bounce: format none, kind unknown */
	}
	out->format = BOUNCE_FMT_TEXT;
	struct codes k = {0, 0};
	int hp = 0, sp = 0;
	struct str line, rest = body;
	struct buf addrs; /* candidates, NUL-separated, kept until the verdict */
	buf_init(&addrs, LK_MAX_BOUNCE_RCPTS * (LK_MAX_ADDRESS + 1));
	while (next_line(&rest, &line) && !returned_message_starts(line)) {
		scan_codes(line, &k);
		hp |= any_phrase(line, hard_phrases, sizeof hard_phrases / sizeof *hard_phrases);
		sp |= any_phrase(line, soft_phrases, sizeof soft_phrases / sizeof *soft_phrases);
		/* a line that is only an address (Exim, old Sendmail), or the
		 * RCPT TO of a transcript */
		char *a = take_address(line, 0);
		if (a == NULL) {
			struct str t = str_trim(line);
			for (size_t i = 0; a == NULL && i + 8 < t.len; i++)
				if (starts_nocase((struct str){t.ptr + i, t.len - i}, "RCPT TO:")) {
					struct str r = {t.ptr + i + 8, t.len - i - 8};
					long gt = str_find(r, '>');
					if (gt >= 0)
						r.len = (size_t)gt + 1;
					a = take_address(r, 0);
				}
		}
		if (a != NULL) {
			buf_puts(&addrs, a);
			buf_putc(&addrs, '\0');
			wipe_str(&a);
		}
	}
	enum bounce_kind kind = delay ? BOUNCE_SOFT : verdict(&k, hp, sp);
	for (size_t i = 0; i < addrs.len; i += strlen(addrs.data + i) + 1)
		add_rcpt(out, xstrdup(addrs.data + i), kind);
	out->kind = kind;
	buf_free(&addrs);
	buf_free(&text);
}

/* ------------------------------------------------------------------ */

int bounce_parse(const char *msg, size_t len, const char *envelope_rcpt, size_t rcpt_len,
		 struct bounce *out)
{
	memset(out, 0, sizeof *out);
	if (envelope_rcpt != NULL)
		set_verp(out, (struct str){envelope_rcpt, rcpt_len}, 0);
	if (len > LK_MAX_MESSAGE)
		return -1;
	GMimeMessage *m = mimetext_parse(msg, len);
	if (m == NULL)
		return 0;
	GMimeObject *top = g_mime_message_get_mime_part(m);
	int done = 0;
	if (top != NULL && GMIME_IS_MULTIPART(top) && mimetext_is(top, "multipart", "report"))
		done = read_report(out, top);
	if (!done)
		read_text(out, m);
	g_object_unref(m);
	return 0;
}
