/*
 * bounce.c - classify an incoming bounce or complaint (bounce.h says what
 * each format maps to, and the classes).
 *
 * API: bounce_parse, bounce_verp_split, bounce_free.
 *
 * Shape. GMime parses the message; a walk of the whole MIME tree (bounded
 * by LK_MAX_MIME_DEPTH and LK_MAX_MIME_PARTS) collects every
 * message/delivery-status part and the first feedback report, read with a
 * small field reader of our own (groups of RFC 822-style fields separated
 * by blank lines, RFC 3464 section 2.1), because GMime treats those parts
 * as opaque leaves. One diagnosis (a recipient's fields, a qmail paragraph,
 * a notice's text) is classified by mail/bounce_class.h's bounce_classify
 * (the one classifier, shared with the relay's replies in delivery): its
 * codes, then the phrase table (mail/bounce_phrases.c).
 * The human-readable text is the first text/plain part, read up to the line
 * that introduces the returned message (codes in our own message must not
 * count).
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
#include "core/address.h"
#include "mail/bounce_class.h"
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

/* How strongly a class speaks for the overall verdict (bounce.h). */
static int rank(enum bounce_class c)
{
	static const int r[BOUNCE_CLASS_COUNT] = {
	    [BOUNCE_GONE] = 6,		[BOUNCE_FULL] = 5,	[BOUNCE_REJECTED_CONTENT] = 4,
	    [BOUNCE_SENDER_POLICY] = 3, [BOUNCE_TEMPORARY] = 2, [BOUNCE_COMPLAINT] = 7,
	};
	return (unsigned)c < BOUNCE_CLASS_COUNT ? r[c] : 0;
}

static void set_overall(struct bounce *out)
{
	out->cls = BOUNCE_UNKNOWN;
	out->final = 0;
	for (size_t i = 0; i < out->nrcpt; i++) {
		const struct bounce_rcpt *r = &out->rcpt[i];
		if (rank(r->cls) > rank(out->cls))
			out->cls = r->cls, out->final = r->final;
		else if (r->cls == out->cls)
			out->final |= r->final;
	}
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
			if (buf_putc(&f, ' ') < 0 || buf_append_str(&f, str_trim(line)) < 0)
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

struct dsn_ctx {
	struct bounce *out;
	struct bounce_rcpt cur;
	int in_rcpt;	  /* cur holds per-recipient fields */
	int smtp;	  /* a bare SMTP code as the Status ("Status: 553 ...") */
	struct buf diag;  /* the group's Diagnostic-Code, Status and Action texts */
	struct str human; /* the notice's text, for a group that says too little */
	struct bounce_diag human_diag;
	int human_read; /* human_diag is read (once: a report may have many groups) */
	const char **family;
};

static void dsn_end_group(struct dsn_ctx *c)
{
	struct bounce_rcpt *r = &c->cur;
	if (c->in_rcpt && c->out->nrcpt < LK_MAX_BOUNCE_RCPTS) {
		const char *fam = NULL;
		struct str d = buf_str(&c->diag);
		r->cls = bounce_classify(r->status, c->smtp, d.ptr, d.len, &fam);
		if (r->cls == BOUNCE_UNKNOWN && c->human.len > 0) {
			/* the fields say failed (or 5.0.0) but not why: the text may */
			struct bounce_codes k = {{0}, 0};
			if (r->status[0] == '\0' && c->smtp == 0)
				bounce_scan_codes(d, &k);
			const char *st = r->status[0] ? r->status : k.status;
			int smtp = c->smtp ? c->smtp : k.smtp;
			if (st[0] == '\0' && smtp == 0 && r->action == BOUNCE_ACTION_DELAYED)
				st = "4.0.0";
			if (!c->human_read)
				bounce_diag_read(c->human.ptr, c->human.len, &c->human_diag);
			c->human_read = 1;
			r->cls = bounce_decide(st, smtp, &c->human_diag, &fam);
		}
		int digit = r->status[0] ? r->status[0] - '0' : c->smtp / 100;
		r->final = r->action == BOUNCE_ACTION_FAILED ||
			   (r->action == BOUNCE_ACTION_NONE && digit == 5);
		if (r->action == BOUNCE_ACTION_DELAYED && r->cls == BOUNCE_UNKNOWN)
			r->cls = BOUNCE_TEMPORARY;
		if (r->action == BOUNCE_ACTION_DELIVERED || r->action == BOUNCE_ACTION_RELAYED ||
		    r->action == BOUNCE_ACTION_EXPANDED)
			r->cls = BOUNCE_UNKNOWN, r->final = 0; /* not a failure */
		if (fam != NULL && *c->family == NULL)
			*c->family = fam;
		c->out->rcpt[c->out->nrcpt++] = *r;
	} else {
		wipe_str(&r->final_rcpt);
		wipe_str(&r->original_rcpt);
	}
	memset(r, 0, sizeof *r);
	c->in_rcpt = 0;
	c->smtp = 0;
	buf_reset(&c->diag);
}

/* RFC 3464 2.3.3 allows a comment after the keyword; "failure", "fail" and
 * "error" are seen in the wild for failed, "delay" for delayed. */
static enum bounce_action action_of(struct str v)
{
	static const struct {
		const char *name;
		enum bounce_action a;
	} names[] = {
	    {"failed", BOUNCE_ACTION_FAILED},	    {"failure", BOUNCE_ACTION_FAILED},
	    {"fail", BOUNCE_ACTION_FAILED},	    {"error", BOUNCE_ACTION_FAILED},
	    {"delayed", BOUNCE_ACTION_DELAYED},	    {"delay", BOUNCE_ACTION_DELAYED},
	    {"delivered", BOUNCE_ACTION_DELIVERED}, {"relayed", BOUNCE_ACTION_RELAYED},
	    {"expanded", BOUNCE_ACTION_EXPANDED},
	};
	size_t n = 0;
	while (n < v.len && is_alnum((unsigned char)v.ptr[n]))
		n++;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (str_eq_nocase_z((struct str){v.ptr, n}, names[i].name))
			return names[i].a;
	return BOUNCE_ACTION_NONE;
}

static void add_diag(struct dsn_ctx *c, struct str v)
{
	/* "smtp; 550 ..." and "X-Postfix; host ... said: 550 ...": the type
	 * goes, the text stays */
	long semi = str_find(v, ';');
	if (semi > 0 && semi < 16 && memchr(v.ptr, ' ', (size_t)semi) == NULL)
		v = str_trim((struct str){v.ptr + semi + 1, v.len - (size_t)semi - 1});
	if (c->diag.len > 0)
		buf_putc(&c->diag, ' ');
	buf_append_str(&c->diag, v);
}

static void dsn_field(void *p, struct str name, struct str value)
{
	struct dsn_ctx *c = p;
	struct bounce_rcpt *r = &c->cur;
	if (name.len == 0) { /* end of a group */
		dsn_end_group(c);
		return;
	}
	if (str_eq_nocase_z(name, "Final-Recipient")) {
		c->in_rcpt = 1;
		if (r->final_rcpt == NULL)
			r->final_rcpt = take_address(value, str_find(value, ';') >= 0);
	} else if (str_eq_nocase_z(name, "Original-Recipient")) {
		c->in_rcpt = 1;
		if (r->original_rcpt == NULL)
			r->original_rcpt = take_address(value, str_find(value, ';') >= 0);
	} else if (str_eq_nocase_z(name, "Action")) {
		c->in_rcpt = 1;
		r->action = action_of(value);
		add_diag(c, value);
	} else if (str_eq_nocase_z(name, "Status")) {
		c->in_rcpt = 1;
		if (bounce_status_parse(value, r->status) < 0) {
			r->status[0] = '\0';
			c->smtp = bounce_smtp_code(value); /* "Status: 553 Exceeded ..." */
		}
		add_diag(c, value);
	} else if (str_eq_nocase_z(name, "Diagnostic-Code") ||
		   str_eq_nocase_z(name, "X400-Supplementary-Info") ||
		   str_eq_nocase_z(name, "X-Supplementary-Info")) {
		c->in_rcpt = 1;
		add_diag(c, value);
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
/* The MIME tree                                                       */

#define MAX_REPORTS 8 /* delivery-status parts read from one message */

struct walk {
	GMimeObject *dsn[MAX_REPORTS];
	int ndsn;
	GMimeObject *arf;
	int want_arf; /* a multipart/report said report-type=feedback-report */
	int budget;
	int64_t job_id;
};

static void walk_tree(struct walk *w, GMimeObject *obj, int depth)
{
	if (obj == NULL || depth > LK_MAX_MIME_DEPTH || --w->budget < 0)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		if (mimetext_is(obj, "multipart", "report")) {
			const char *rt =
			    g_mime_object_get_content_type_parameter(obj, "report-type");
			if (rt != NULL && g_ascii_strcasecmp(rt, "feedback-report") == 0)
				w->want_arf = 1;
		}
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && w->budget > 0; i++)
			walk_tree(w, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* an attached message: a wrapped report (a forwarding gateway),
		 * or the returned message, whose Message-ID may be ours */
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (m != NULL)
			walk_tree(w, g_mime_message_get_mime_part(m), depth + 1);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (mimetext_is(obj, "message", "delivery-status") ||
	    mimetext_is(obj, "message", "global-delivery-status")) {
		if (w->ndsn < MAX_REPORTS)
			w->dsn[w->ndsn++] = obj;
	} else if (w->arf == NULL && mimetext_is(obj, "message", "feedback-report")) {
		w->arf = obj;
	}
}

/* Our Message-ID "<jJOB.sSUB.HEX@DOMAIN>" (or "<jJOB.r.HEX@...>") in s:
 * the job's id, or 0. */
static int64_t our_job(struct str s)
{
	for (size_t i = 0; i + 3 < s.len; i++) {
		if (s.ptr[i] != '<' || s.ptr[i + 1] != 'j' ||
		    !is_digit((unsigned char)s.ptr[i + 2]))
			continue;
		int64_t v = 0;
		size_t k = i + 2;
		while (k < s.len && is_digit((unsigned char)s.ptr[k]) && v < INT64_MAX / 100)
			v = v * 10 + (s.ptr[k++] - '0');
		if (k + 2 < s.len && s.ptr[k] == '.' &&
		    (s.ptr[k + 1] == 's' || s.ptr[k + 1] == 'r'))
			return v;
	}
	return 0;
}

/* The returned message's Message-ID: a "Message-ID:" line anywhere (in
 * text/rfc822-headers, message/rfc822 or quoted in the text). */
static int64_t find_job(const char *msg, size_t len)
{
	struct str rest = {msg, len}, line;
	while (next_line(&rest, &line)) {
		struct str t = str_trim(line);
		if (starts_nocase(t, "Message-ID:") || starts_nocase(t, "References:") ||
		    starts_nocase(t, "In-Reply-To:")) {
			int64_t j = our_job(t);
			if (j > 0)
				return j;
		}
	}
	return 0;
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
			out->cls = BOUNCE_COMPLAINT;
	if (c.rcpt != NULL) {
		out->rcpt[0].final_rcpt = c.rcpt;
		out->rcpt[0].cls = out->cls;
		out->nrcpt = 1;
	}
	if (c.mail_from_len > 0)
		set_verp(out, (struct str){c.mail_from, c.mail_from_len}, 1);
	buf_free(&text);
}

/* ------------------------------------------------------------------ */
/* Text bounces                                                        */

/* "------ This is a copy of the message ------", "--- Below this line...",
 * "----- Original message follows -----", "-----Original Message-----",
 * "--------Unsent Message below:"; not "-----Message not delivered to the
 * following addresses:" (phquery), which introduces the reason. */
static int returned_message_starts(struct str line)
{
	static const char *const says[] = {
	    "copy of",		"original message",    "below this line", "message follows",
	    "mail follows",	"message below",       "message text",	  "headers",
	    "returned message", "undelivered message", "unsent message",  "attachment",
	};
	struct str t = str_trim(line);
	if (t.len < 3 || !((t.ptr[0] == '-' && t.ptr[1] == '-' && t.ptr[2] == '-') ||
			   (t.ptr[0] == '=' && t.ptr[1] == '=' && t.ptr[2] == '=')))
		return 0;
	for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
		if (contains(t, says[i]))
			return 1;
	return 0;
}

/* The human-readable text of m up to the returned message, into out. */
static void human_text(GMimeMessage *m, struct buf *out)
{
	struct buf all;
	buf_init(&all, LK_MAX_BOUNCE_TEXT);
	GMimeObject *plain = mimetext_first_plain(m);
	if (plain != NULL) {
		mimetext_content(plain, 1, &all);
	} else {
		GMimeObject *h = mimetext_first_html(m);
		struct buf html;
		buf_init(&html, LK_MAX_BOUNCE_TEXT);
		if (h != NULL && mimetext_content(h, 1, &html) >= 0)
			mimetext_html_text(buf_str(&html), &all);
		buf_free(&html);
	}
	struct str rest = buf_str(&all), line;
	while (next_line(&rest, &line) && !returned_message_starts(line)) {
		buf_append_str(out, line);
		buf_putc(out, '\n');
	}
	buf_free(&all);
}

static void add_rcpt(struct bounce *out, char *addr, enum bounce_class cls, int final)
{
	for (size_t i = 0; i < out->nrcpt; i++)
		if (out->rcpt[i].final_rcpt && strcmp(out->rcpt[i].final_rcpt, addr) == 0) {
			if (rank(cls) > rank(out->rcpt[i].cls))
				out->rcpt[i].cls = cls, out->rcpt[i].final = final;
			wipe_str(&addr);
			return;
		}
	if (out->nrcpt >= LK_MAX_BOUNCE_RCPTS) {
		wipe_str(&addr);
		return;
	}
	out->rcpt[out->nrcpt].final_rcpt = addr;
	out->rcpt[out->nrcpt].cls = cls;
	out->rcpt[out->nrcpt].final = final;
	out->nrcpt++;
}

/* qmail-send: "<addr>:" starts a recipient's paragraph (qmail's
 * qmail-send.c writes the address, then the reasons, then a blank line);
 * qmail writes this notice only once it gave up: every one is final. */
static void read_qmail(struct bounce *out, struct str text)
{
	struct str line;
	char *addr = NULL;
	struct buf para;
	buf_init(&para, LK_MAX_BOUNCE_TEXT);
	int done = 0;
	while (!done) {
		int more = next_line(&text, &line);
		done = !more || returned_message_starts(line);
		struct str t = more ? str_trim(line) : (struct str){"", 0};
		int starts = !done && t.len > 3 && t.ptr[0] == '<' && t.ptr[t.len - 1] == ':' &&
			     t.ptr[t.len - 2] == '>';
		if (addr != NULL && (done || t.len == 0 || starts)) {
			const char *fam = NULL;
			enum bounce_class cls =
			    bounce_classify("", 0, para.data ? para.data : "", para.len, &fam);
			if (fam != NULL && out->family == NULL)
				out->family = fam;
			add_rcpt(out, addr, cls, 1);
			addr = NULL;
		}
		if (starts) {
			addr = take_address(t, 0);
			buf_reset(&para);
		} else if (addr != NULL) {
			buf_append_str(&para, t);
			buf_putc(&para, '\n');
		}
	}
	buf_free(&para);
	out->format = BOUNCE_FMT_QMAIL;
	set_overall(out);
}

static const char *const bounce_subjects[] = {
    "Undelivered Mail Returned to Sender",
    "Mail delivery failed",
    "Delivery Status Notification (Failure)",
    "Undeliverable",
    "Returned mail",
    "Mail System Error",
    "Delivery failure",
    "Delivery failed",
    "Delivery has failed",
    "failure notice",
    "Nondeliverable mail",
    "Non-Delivery",
    "Delivery Notification",
    "Delivery Report",
    "could not be delivered",
    "FAILED MAIL",
    "Mail Error",
    "Error During Delivery",
    "Returned to Sender",
    "did not reach the following recipient",
    "Mail Delivery Problem",
    "Delivery Failure",
    "Delivery Status Notification",
    "Permanent Delivery Failure",
    "failure delivery",
    "Automatically rejected mail",
    "nameserver error report",
    "User unknown",
};
static const char *const delay_subjects[] = {
    "Delivery Status Notification (Delay)",
    "Delayed Mail",
    "Warning: could not send message",
    "Mail delivery delayed",
    "Message delayed",
    "Delivery Delayed",
    "Delivery Warning",
    "message has not yet been delivered",
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
		    starts_nocase(s, "mail-daemon") || starts_nocase(s, "mailerdaemon") ||
		    starts_nocase(s, "mdaemon@"))
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

/* A notice without a usable report: its text decides, for every address
 * it names (a line that is only an address, "<addr>: reason" as Postfix
 * and Exim write it, or the RCPT TO of a transcript). */
static void read_text(struct bounce *out, GMimeMessage *m, struct str body, int report)
{
	struct str lead = str_trim(body);
	if (starts_nocase(lead, "Hi. This is the qmail-send program")) {
		read_qmail(out, lead);
		return;
	}
	const char *sz = g_mime_message_get_subject(m);
	struct str subj = str_from_z(sz ? sz : "");
	int delay =
	    subject_in(subj, delay_subjects, sizeof delay_subjects / sizeof *delay_subjects);
	int failure =
	    subject_in(subj, bounce_subjects, sizeof bounce_subjects / sizeof *bounce_subjects);
	if (!delay && !failure && !report && !from_daemon(m) &&
	    !contains(lead, "qmail-send program"))
		return; /* not a bounce: format none, class unknown */
	out->format = BOUNCE_FMT_TEXT;
	const char *fam = NULL;
	enum bounce_class cls = bounce_classify(delay ? "4.0.0" : "", 0, body.ptr, body.len, &fam);
	/* a failure notice is final unless it says it keeps trying */
	static const char *const trying[] = {
	    "will continue",	    "will be retried", "still trying", "not yet been delivered",
	    "warning message only", "postponed",       "will retry",
	};
	int final = !delay;
	for (size_t i = 0; final && i < sizeof trying / sizeof trying[0]; i++)
		if (contains(body, trying[i]))
			final = 0;
	if (!final && cls == BOUNCE_UNKNOWN)
		cls = BOUNCE_TEMPORARY;
	out->family = fam;
	struct str line, rest = body;
	while (next_line(&rest, &line)) {
		struct str t = str_trim(line);
		char *a = take_address(t, 0);
		if (a == NULL && t.len > 2 && t.ptr[0] == '<') {
			long gt = str_find(t, '>');
			if (gt > 0 && (size_t)gt + 1 < t.len && t.ptr[gt + 1] == ':')
				a = take_address((struct str){t.ptr, (size_t)gt + 1}, 0);
		}
		for (size_t i = 0; a == NULL && i + 8 < t.len; i++)
			if (starts_nocase((struct str){t.ptr + i, t.len - i}, "RCPT TO:")) {
				struct str r = {t.ptr + i + 8, t.len - i - 8};
				long gt = str_find(r, '>');
				if (gt >= 0)
					r.len = (size_t)gt + 1;
				a = take_address(r, 0);
			}
		if (a != NULL)
			add_rcpt(out, a, cls, final);
	}
	out->cls = cls;
	out->final = final;
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
	out->job_id = find_job(msg, len);
	struct walk w = {.budget = LK_MAX_MIME_PARTS};
	walk_tree(&w, g_mime_message_get_mime_part(m), 0);
	struct buf human;
	buf_init(&human, LK_MAX_BOUNCE_TEXT);
	human_text(m, &human);
	if (w.arf != NULL && (w.want_arf || w.ndsn == 0)) {
		out->format = BOUNCE_FMT_ARF;
		read_arf(out, w.arf);
	} else if (w.ndsn > 0) {
		struct dsn_ctx c = {.out = out, .human = buf_str(&human), .family = &out->family};
		buf_init(&c.diag, LK_MAX_BOUNCE_FIELD * 4);
		for (int i = 0; i < w.ndsn; i++) {
			struct buf text;
			buf_init(&text, LK_MAX_BOUNCE_TEXT);
			mimetext_content(w.dsn[i], 0, &text);
			read_fields(buf_str(&text), dsn_field, &c);
			buf_free(&text);
		}
		buf_free(&c.diag);
		if (out->nrcpt > 0) {
			out->format = BOUNCE_FMT_DSN;
			set_overall(out);
		}
	}
	if (out->format == BOUNCE_FMT_NONE) {
		GMimeObject *top = g_mime_message_get_mime_part(m);
		const char *rt = top != NULL && mimetext_is(top, "multipart", "report")
				     ? g_mime_object_get_content_type_parameter(top, "report-type")
				     : NULL;
		int report =
		    w.ndsn > 0 || (rt != NULL && g_ascii_strcasecmp(rt, "delivery-status") == 0);
		read_text(out, m, buf_str(&human), report);
	}
	buf_free(&human);
	g_object_unref(m);
	return 0;
}
