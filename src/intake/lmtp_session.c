/*
 * lmtp_session.c - the LMTP protocol state machine (see lmtp_session.h).
 *
 * Lines are collected across feeds; a line ends only at CR LF. The command
 * grammar is RFC 5321 section 4.1 as RFC 2033 amends it (LHLO instead of
 * HELO/EHLO, per-recipient replies after DATA).
 *
 * TRUST: all input is untrusted client bytes; bounds from core/limits.h:
 * LK_MAX_SMTP_LINE, LK_MAX_MESSAGE, LK_MAX_ADDRESS, LK_LMTP_MAX_RCPTS,
 * LK_LMTP_MAX_ERRORS. Replies never quote client bytes.
 */
#include "intake/lmtp_session.h"

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/num.h"
#include "core/xmalloc.h"

enum mode { MODE_CMD, MODE_DATA, MODE_CLOSED };

struct rcpt {
	char *addr;
	void *cookie; /* NULL for a repeat */
	size_t first; /* a repeat: the index of the recipient it repeats; else its own */
};

struct lmtp_session {
	const struct lmtp_handler *h;
	void *ctx;
	char *host;
	enum mode mode;
	int lhlo;
	int mail;
	int cr; /* the last byte was a CR */
	int errors;
	struct buf line; /* the current line, without CR LF */
	struct buf msg;	 /* the message in DATA */
	int too_big;
	size_t nrcpt;
	struct rcpt rcpt[LK_LMTP_MAX_RCPTS];
};

/* The longest line content: LK_MAX_SMTP_LINE counts the CR LF. */
#define LINE_MAX_CONTENT (LK_MAX_SMTP_LINE - 2)

struct lmtp_session *lmtp_session_new(const struct lmtp_handler *h, void *ctx, const char *host)
{
	struct lmtp_session *s = xcalloc(1, sizeof(*s));
	s->h = h;
	s->ctx = ctx;
	s->host = xstrdup(host);
	buf_init(&s->line, LINE_MAX_CONTENT);
	buf_init(&s->msg, LK_MAX_MESSAGE);
	return s;
}

static void txn_reset(struct lmtp_session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		if (s->h->drop != NULL && s->rcpt[i].cookie != NULL) /* NULL: a repeat */
			s->h->drop(s->ctx, s->rcpt[i].cookie);
		xfree_wipe(s->rcpt[i].addr, strlen(s->rcpt[i].addr));
		s->rcpt[i].addr = NULL;
		s->rcpt[i].cookie = NULL;
	}
	s->nrcpt = 0;
	s->mail = 0;
	s->too_big = 0;
	buf_free(&s->msg); /* wipes: a message holds addresses */
	buf_init(&s->msg, LK_MAX_MESSAGE);
}

void lmtp_session_free(struct lmtp_session *s)
{
	if (s == NULL)
		return;
	txn_reset(s);
	buf_free(&s->line);
	buf_free(&s->msg);
	free(s->host);
	free(s);
}

void lmtp_session_greet(struct lmtp_session *s, struct buf *out)
{
	buf_printf(out, "220 %s LMTP listkeeper ready\r\n", s->host);
}

int lmtp_session_eof(struct lmtp_session *s)
{
	int lost = s->mode == MODE_DATA;
	txn_reset(s);
	s->mode = MODE_CLOSED;
	return lost;
}

static void reply(struct buf *out, const char *line)
{
	buf_puts(out, line);
	buf_puts(out, "\r\n");
}

/* A protocol violation: answer once, then the session ends. */
static int violation(struct lmtp_session *s, struct buf *out, const char *line)
{
	reply(out, line);
	txn_reset(s);
	s->mode = MODE_CLOSED;
	return 0;
}

/* A bad command: answered; too many of them end the session. */
static int error(struct lmtp_session *s, struct buf *out, const char *line)
{
	if (++s->errors > LK_LMTP_MAX_ERRORS)
		return violation(s, out, "421 4.7.0 Too many errors, closing the connection");
	reply(out, line);
	return 0;
}

/* Case-insensitive prefix test on a view. */
static int has_prefix(struct str s, const char *z)
{
	size_t n = strlen(z);
	return s.len >= n && str_eq_nocase_z((struct str){s.ptr, n}, z);
}

/* Parses "<path> [params]" after "FROM:" or "TO:". Spaces before the path
 * are forgiven (many clients send them). Fills *path (without brackets)
 * and *params (the rest, trimmed). Returns 0 or -1 (syntax). */
static int parse_path(struct str a, struct str *path, struct str *params)
{
	while (a.len > 0 && *a.ptr == ' ') {
		a.ptr++;
		a.len--;
	}
	if (a.len < 2 || a.ptr[0] != '<')
		return -1;
	long close = str_find((struct str){a.ptr + 1, a.len - 1}, '>');
	if (close < 0)
		return -1;
	path->ptr = a.ptr + 1;
	path->len = (size_t)close;
	const char *rest = a.ptr + 1 + close + 1;
	size_t rest_len = a.len - 2 - (size_t)close;
	if (rest_len > 0 && *rest != ' ')
		return -1;
	*params = str_trim((struct str){rest, rest_len});
	if (path->len > LK_MAX_ADDRESS)
		return -1;
	for (size_t i = 0; i < path->len; i++) {
		unsigned char c = (unsigned char)path->ptr[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return -1;
	}
	return 0;
}

/* One "KEYWORD=VALUE" parameter of MAIL FROM (RFC 1870 SIZE, RFC 6152 BODY).
 * Returns NULL if accepted, else the reply. */
static const char *mail_param(struct str p)
{
	if (has_prefix(p, "SIZE=")) {
		int64_t n;
		if (num_parse_i64(p.ptr + 5, p.len - 5, 0, INT64_MAX, &n) < 0)
			return "501 5.5.4 Bad SIZE parameter";
		if ((uint64_t)n > LK_MAX_MESSAGE)
			return "552 5.3.4 Message size exceeds the limit";
		return NULL;
	}
	if (str_eq_nocase_z(p, "BODY=7BIT") || str_eq_nocase_z(p, "BODY=8BITMIME"))
		return NULL;
	return "555 5.5.4 Unsupported parameter";
}

static int cmd_mail(struct lmtp_session *s, struct str arg, struct buf *out)
{
	if (!s->lhlo)
		return error(s, out, "503 5.5.1 Send LHLO first");
	if (s->mail)
		return error(s, out, "503 5.5.1 Nested MAIL command");
	struct str path, params;
	if (!has_prefix(arg, "FROM:") ||
	    parse_path((struct str){arg.ptr + 5, arg.len - 5}, &path, &params) < 0)
		return error(s, out, "501 5.5.4 Syntax: MAIL FROM:<address>");
	while (params.len > 0) {
		long sp = str_find(params, ' ');
		struct str one = {params.ptr, sp < 0 ? params.len : (size_t)sp};
		const char *bad = mail_param(one);
		if (bad != NULL)
			return error(s, out, bad);
		params = sp < 0 ? (struct str){params.ptr + params.len, 0}
				: str_trim((struct str){params.ptr + sp, params.len - (size_t)sp});
	}
	s->mail = 1;
	/* What a final delivery adds (RFC 5321 section 4.4): intake reads the
	 * envelope sender from it (the null sender is never answered). */
	buf_append(&s->msg, "Return-Path: <", 14);
	buf_append(&s->msg, path.ptr, path.len);
	buf_append(&s->msg, ">\r\n", 3);
	reply(out, "250 2.1.0 Ok");
	return 0;
}

static int cmd_rcpt(struct lmtp_session *s, struct str arg, struct buf *out)
{
	if (!s->mail)
		return error(s, out, "503 5.5.1 Need MAIL before RCPT");
	struct str path, params;
	if (!has_prefix(arg, "TO:") ||
	    parse_path((struct str){arg.ptr + 3, arg.len - 3}, &path, &params) < 0 ||
	    path.len == 0 || str_find(path, '@') < 0 || path.ptr[0] == '@')
		return error(s, out, "501 5.1.3 Syntax: RCPT TO:<address>");
	if (params.len > 0)
		return error(s, out, "555 5.5.4 Unsupported parameter");
	if (s->nrcpt >= LK_LMTP_MAX_RCPTS) {
		reply(out, "452 4.5.3 Too many recipients");
		return 0;
	}
	char *addr = xmemdup(path.ptr, path.len); /* NUL-terminated copy */
	void *cookie = NULL;
	struct buf r;
	buf_init(&r, 512);
	int ok = s->h->rcpt(s->ctx, addr, path.len, &cookie, &r);
	if (r.len == 0 || r.err)
		reply(out, ok ? "250 2.1.5 Ok" : "550 5.1.1 No such recipient");
	else
		reply(out, buf_cstr(&r));
	buf_free(&r);
	if (ok) {
		struct rcpt *rc = &s->rcpt[s->nrcpt];
		rc->addr = addr;
		rc->cookie = cookie;
		rc->first = s->nrcpt;
		for (size_t i = 0; s->h->same != NULL && i < s->nrcpt; i++) {
			if (s->rcpt[i].cookie != NULL &&
			    s->h->same(s->ctx, s->rcpt[i].cookie, cookie)) {
				rc->first = i; /* a repeat: handled once, with i */
				if (s->h->drop != NULL)
					s->h->drop(s->ctx, cookie);
				rc->cookie = NULL;
				break;
			}
		}
		s->nrcpt++;
	} else {
		if (cookie != NULL && s->h->drop != NULL)
			s->h->drop(s->ctx, cookie);
		xfree_wipe(addr, path.len);
	}
	return 0;
}

static int command(struct lmtp_session *s, struct str line, struct buf *out)
{
	for (size_t i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.ptr[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return violation(s, out, "500 5.5.2 Control character in a command");
	}
	long sp = str_find(line, ' ');
	struct str verb = {line.ptr, sp < 0 ? line.len : (size_t)sp};
	struct str arg = sp < 0 ? (struct str){line.ptr + line.len, 0}
				: (struct str){line.ptr + sp + 1, line.len - (size_t)sp - 1};
	if (str_eq_nocase_z(verb, "LHLO")) {
		if (str_trim(arg).len == 0)
			return error(s, out, "501 5.5.4 Syntax: LHLO hostname");
		txn_reset(s);
		s->lhlo = 1;
		buf_printf(out,
			   "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
			   "250-8BITMIME\r\n250 SIZE %u\r\n",
			   s->host, (unsigned)LK_MAX_MESSAGE);
	} else if (str_eq_nocase_z(verb, "HELO") || str_eq_nocase_z(verb, "EHLO")) {
		error(s, out, "500 5.5.1 This is LMTP: use LHLO (RFC 2033)");
	} else if (str_eq_nocase_z(verb, "MAIL")) {
		cmd_mail(s, arg, out);
	} else if (str_eq_nocase_z(verb, "RCPT")) {
		cmd_rcpt(s, arg, out);
	} else if (str_eq_nocase_z(verb, "DATA")) {
		if (arg.len > 0)
			return error(s, out, "501 5.5.4 DATA takes no argument");
		if (!s->mail)
			return error(s, out, "503 5.5.1 Need MAIL before DATA");
		if (s->nrcpt == 0) /* RFC 2033 section 4.2 */
			return error(s, out, "503 5.5.1 No valid recipients");
		s->mode = MODE_DATA;
		reply(out, "354 End data with <CR><LF>.<CR><LF>");
	} else if (str_eq_nocase_z(verb, "RSET")) {
		txn_reset(s);
		reply(out, "250 2.0.0 Ok");
	} else if (str_eq_nocase_z(verb, "NOOP")) {
		reply(out, "250 2.0.0 Ok");
	} else if (str_eq_nocase_z(verb, "VRFY")) {
		reply(out, "252 2.5.0 Cannot verify, send some mail");
	} else if (str_eq_nocase_z(verb, "QUIT")) {
		reply(out, "221 2.0.0 Bye");
		txn_reset(s);
		s->mode = MODE_CLOSED;
	} else {
		error(s, out, "500 5.5.2 Command not recognised");
	}
	return 0;
}

static int data_end(struct lmtp_session *s, struct buf *out)
{
	/* One reply per accepted recipient, in order; a repeat gets the reply
	 * of the recipient it repeats, handled once. */
	struct buf *r = xcalloc(s->nrcpt > 0 ? s->nrcpt : 1, sizeof(*r));
	for (size_t i = 0; i < s->nrcpt; i++) {
		if (s->too_big) {
			reply(out, "552 5.3.4 Message size exceeds the limit");
			continue;
		}
		size_t f = s->rcpt[i].first;
		if (f == i) {
			buf_init(&r[i], 512);
			s->h->deliver(s->ctx, s->rcpt[i].cookie, s->msg.data ? s->msg.data : "",
				      s->msg.len, &r[i]);
		}
		reply(out, r[f].len > 0 && !r[f].err ? buf_cstr(&r[f])
						     : "451 4.3.0 Local error, try again later");
	}
	for (size_t i = 0; i < s->nrcpt; i++)
		buf_free(&r[i]);
	free(r);
	txn_reset(s);
	s->mode = MODE_CMD;
	return 0;
}

static int data_line(struct lmtp_session *s, struct str line, struct buf *out)
{
	if (line.len == 1 && line.ptr[0] == '.')
		return data_end(s, out);
	if (line.len > 0 && line.ptr[0] == '.') { /* RFC 5321 4.5.2 */
		line.ptr++;
		line.len--;
	}
	if (s->too_big)
		return 0;
	if (line.len + 2 > LK_MAX_MESSAGE - s->msg.len) {
		s->too_big = 1; /* read on to the dot, keep nothing */
		buf_free(&s->msg);
		buf_init(&s->msg, LK_MAX_MESSAGE);
		return 0;
	}
	buf_append(&s->msg, line.ptr, line.len);
	buf_append(&s->msg, "\r\n", 2);
	return 0;
}

static void line_done(struct lmtp_session *s, struct buf *out)
{
	struct str line = buf_str(&s->line);
	if (s->mode == MODE_CMD)
		command(s, line, out);
	else
		data_line(s, line, out);
	buf_reset(&s->line);
}

int lmtp_session_feed(struct lmtp_session *s, const char *p, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len && s->mode != MODE_CLOSED) {
		if (s->cr) {
			s->cr = 0;
			if (p[i] != '\n') {
				violation(s, out,
					  "500 5.5.2 Bare CR refused: only CR LF ends a line");
				break;
			}
			i++;
			line_done(s, out);
			continue;
		}
		size_t j = i;
		while (j < len && p[j] != '\r' && p[j] != '\n')
			j++;
		if (j - i > LINE_MAX_CONTENT - s->line.len) {
			violation(s, out, "500 5.5.2 Line too long");
			break;
		}
		buf_append(&s->line, p + i, j - i);
		if (j == len)
			break;
		if (p[j] == '\n') {
			violation(s, out, "500 5.5.2 Bare LF refused: only CR LF ends a line");
			break;
		}
		s->cr = 1;
		i = j + 1;
	}
	return s->mode == MODE_CLOSED;
}
