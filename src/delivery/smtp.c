/*
 * smtp.c - an ESMTP client session: EHLO/HELO, STARTTLS, AUTH, and pipelined
 * mail transactions (see smtp.h for the API and the pipelining depth).
 *
 * A transaction, with PIPELINING:
 *   write  [RSET] MAIL FROM RCPT TO DATA            (one write)
 *   read   [250]  250       250     354
 *   write  body . [RSET] MAIL FROM RCPT TO DATA      (next message, one write)
 *   read   250 (the first message's fate), then the next envelope's replies
 * Without PIPELINING each command waits for its reply. RSET precedes a
 * transaction only when the previous one ended before its body (RFC 5321
 * 4.1.1.5); after a completed one the session is already clean.
 *
 * Deliberate departure from "5xx is final" (relay.h): a 4xx or 5xx reply to
 * MAIL FROM refuses our sender or the session (530 authentication or TLS
 * required, 550 sender rejected, 555 parameters), not the recipient, so the
 * message is deferred with that code: a misconfigured relay must not turn
 * every subscriber into a hard bounce. The relay returns -1 when nothing of a
 * batch got through for that reason, which pauses the job. Only 552 (too
 * big, RFC 1870) at MAIL FROM stays final.
 *
 * The body is dot-stuffed on the way out (RFC 5321 4.5.2), and a bare CR or LF
 * in it becomes CRLF, so nothing ambiguous reaches the wire (SMTP smuggling).
 * It goes out in chunks of FLUSH_AT bytes: the output buffer stays small
 * whatever the message size.
 *
 * TRUST: replies are untrusted, parsed strictly (read_reply); a bad one ends
 * the session and defers what was in flight. Envelope addresses come from
 * our own store but are checked anyway: no CR, LF, space, '<' or '>' can
 * reach a command line. Nothing here logs; the caller logs host and codes.
 */
#include "delivery/smtp.h"

#include <openssl/evp.h>
#include <string.h>

#include "core/limits.h"
#include "core/nametab.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "delivery/netio.h"

static const char *const TLS_NAME[] = {
    [SMTP_TLS_NONE] = "none", [SMTP_TLS_STARTTLS] = "starttls", [SMTP_TLS_REQUIRE] = "require"};
static const struct nametab tls_names = NAMETAB(TLS_NAME);

const char *smtp_tls_name(enum smtp_tls t)
{
	return nametab_name(&tls_names, (int)t);
}

int smtp_tls_parse(const char *z, enum smtp_tls *out)
{
	int v;
	if (nametab_parse(&tls_names, z, &v) < 0)
		return -1;
	*out = (enum smtp_tls)v;
	return 0;
}

#define OUT_MAX (256u << 10) /* commands, and body chunks of at most FLUSH_AT + SPAN_MAX */
#define FLUSH_AT (64u << 10)
#define SPAN_MAX (16u << 10)

enum {
	EXT_PIPELINING = 1 << 0,
	EXT_SIZE = 1 << 1,
	EXT_8BITMIME = 1 << 2,
	EXT_STARTTLS = 1 << 3,
	EXT_AUTH_PLAIN = 1 << 4,
	EXT_AUTH_LOGIN = 1 << 5,
};

struct smtp_reply {
	int code;
	char text[sizeof(((struct relay_status *)0)->text)];
};

struct smtp_conn {
	const struct smtp_opts *o;
	struct netio *io;
	unsigned ext;
	uint64_t size_max; /* the relay's SIZE; 0 when it gave none */
	int dead;	   /* lost, 421, timeout or protocol error: never reuse */
	int need_rset;	   /* the last transaction ended before its body */
	int sender_refusals;
	char refusal[sizeof(((struct relay_status *)0)->text)]; /* the first one's reply */
	struct buf out;
	char err[200];
};

struct txn {
	const struct relay_msg *m;
	struct relay_status *st;
	int rset; /* an RSET precedes this envelope */
	int go;	  /* DATA got 354: the body goes next */
	int done; /* st holds the fate */
};

/* ---- reply text ---- */

static size_t text_put(char *dst, size_t cap, size_t at, struct str src)
{
	for (size_t i = 0; i < src.len && at + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src.ptr[i];
		dst[at++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (cap > 0)
		dst[at < cap ? at : cap - 1] = '\0';
	return at;
}

void smtp_text_sanitize(char *dst, size_t cap, struct str src)
{
	text_put(dst, cap, 0, src);
}

/* ---- session state ---- */

/* Ends the session: nothing more is sent on it. Always returns -1. */
static int session_over(struct smtp_conn *c, const char *what)
{
	if (!c->dead)
		bsnprintf(c->err, sizeof(c->err), "%s:%s: %s", c->o->host, c->o->port, what);
	c->dead = 1;
	return -1;
}

static int io_failed(struct smtp_conn *c)
{
	return session_over(c, netio_error(c->io));
}

static int flush(struct smtp_conn *c)
{
	if (c->out.err)
		abort(); /* a bug: OUT_MAX is larger than anything queued at once */
	if (c->out.len == 0)
		return 0;
	int rc = netio_write(c->io, c->out.data, c->out.len);
	buf_reset(&c->out);
	return rc < 0 ? io_failed(c) : 0;
}

/* ---- replies ---- */

static void ehlo_keyword(struct smtp_conn *c, struct str t)
{
	long sp = str_find(t, ' ');
	struct str kw = {t.ptr, sp < 0 ? t.len : (size_t)sp};
	struct str arg =
	    sp < 0 ? (struct str){"", 0} : (struct str){t.ptr + sp + 1, t.len - (size_t)sp - 1};
	if (str_eq_nocase_z(kw, "PIPELINING")) {
		c->ext |= EXT_PIPELINING;
	} else if (str_eq_nocase_z(kw, "8BITMIME")) {
		c->ext |= EXT_8BITMIME;
	} else if (str_eq_nocase_z(kw, "STARTTLS")) {
		c->ext |= EXT_STARTTLS;
	} else if (str_eq_nocase_z(kw, "SIZE")) {
		int64_t v = 0;
		c->ext |= EXT_SIZE;
		/* "SIZE" alone or "SIZE 0": no announced limit. A bad number is ignored. */
		if (arg.len > 0 && num_parse_i64(arg.ptr, arg.len, 0, INT64_MAX, &v) == 0)
			c->size_max = (uint64_t)v;
	} else if (str_eq_nocase_z(kw, "AUTH") ||
		   (kw.len > 5 && t.ptr[4] == '=' &&
		    str_eq_nocase_z((struct str){t.ptr, 4}, "AUTH"))) {
		/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN". */
		struct str rest =
		    kw.len > 5 && t.ptr[4] == '=' ? (struct str){t.ptr + 5, t.len - 5} : arg;
		while (rest.len > 0) {
			long e = str_find(rest, ' ');
			struct str mech = {rest.ptr, e < 0 ? rest.len : (size_t)e};
			if (str_eq_nocase_z(mech, "PLAIN"))
				c->ext |= EXT_AUTH_PLAIN;
			else if (str_eq_nocase_z(mech, "LOGIN"))
				c->ext |= EXT_AUTH_LOGIN;
			if (e < 0)
				break;
			rest = (struct str){rest.ptr + e + 1, rest.len - (size_t)e - 1};
		}
	}
}

/* Reads one whole reply. ehlo: the lines after the first are extensions.
 * Returns 0, or -1 when the session is over (lost, timeout, bad reply). */
static int read_reply(struct smtp_conn *c, struct smtp_reply *r, int ehlo)
{
	size_t at = 0;
	r->code = 0;
	r->text[0] = '\0';
	for (int n = 0;; n++) {
		if (n == LK_MAX_SMTP_REPLY_LINES)
			return session_over(c, "protocol error: reply of too many lines");
		struct str line;
		if (netio_read_line(c->io, LK_MAX_SMTP_LINE, &line) < 0)
			return io_failed(c);
		const char *p = line.ptr;
		if (line.len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
		    p[2] < '0' || p[2] > '9')
			return session_over(c, "protocol error: malformed reply");
		int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (n > 0 && code != r->code)
			return session_over(c, "protocol error: reply code changed within a reply");
		r->code = code;
		int last;
		if (line.len == 3 || p[3] == ' ')
			last = 1;
		else if (p[3] == '-')
			last = 0;
		else
			return session_over(c, "protocol error: malformed reply");
		struct str text =
		    line.len > 4 ? (struct str){p + 4, line.len - 4} : (struct str){p, 0};
		if (n == 0)
			at = text_put(r->text, sizeof(r->text), at, (struct str){p, 3});
		if (text.len > 0) {
			at = text_put(r->text, sizeof(r->text), at, STR_LIT(" "));
			at = text_put(r->text, sizeof(r->text), at, text);
		}
		if (ehlo && n > 0)
			ehlo_keyword(c, text);
		if (last)
			break;
	}
	if (r->code == 421) /* the relay is closing this session */
		session_over(c, "the relay closed the session (421)");
	return 0;
}

/* Sends one command (already queued) and reads its reply. */
static int command(struct smtp_conn *c, struct smtp_reply *r)
{
	if (flush(c) < 0 || read_reply(c, r, 0) < 0)
		return -1;
	return 0;
}

/* ---- opening a session ---- */

static int hello(struct smtp_conn *c, struct smtp_reply *r)
{
	c->ext = 0;
	c->size_max = 0;
	buf_printf(&c->out, "EHLO %s\r\n", c->o->helo);
	if (flush(c) < 0 || read_reply(c, r, 1) < 0)
		return -1;
	if (r->code == 250)
		return 0;
	if (r->code / 100 != 5 || c->dead)
		return -1;
	/* Not an ESMTP server: plain SMTP, no extensions (RFC 5321 3.2). */
	c->ext = 0;
	c->size_max = 0;
	buf_printf(&c->out, "HELO %s\r\n", c->o->helo);
	if (command(c, r) < 0)
		return -1;
	return r->code == 250 ? 0 : -1;
}

static char *b64(const void *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Queues "prefix BASE64(p)\r\n", sends it and reads the reply; wipes the copies. */
static int secret_command(struct smtp_conn *c, const char *prefix, const void *p, size_t n,
			  struct smtp_reply *r)
{
	char *enc = b64(p, n);
	buf_printf(&c->out, "%s%s\r\n", prefix, enc);
	xfree_wipe(enc, strlen(enc));
	return command(c, r);
}

static int auth(struct smtp_conn *c, struct smtp_reply *r, struct buf *why)
{
	const char *user = c->o->auth_user, *pass = c->o->auth_pass ? c->o->auth_pass : "";
	size_t ul = strlen(user), pl = strlen(pass);
	int rc;
	if (c->ext & EXT_AUTH_PLAIN) {
		/* RFC 4616: authzid NUL authcid NUL passwd */
		size_t n = 2 + ul + pl;
		char *raw = xmalloc(n);
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, pass, pl);
		rc = secret_command(c, "AUTH PLAIN ", raw, n, r);
		xfree_wipe(raw, n);
	} else if (c->ext & EXT_AUTH_LOGIN) {
		buf_puts(&c->out, "AUTH LOGIN\r\n");
		rc = command(c, r);
		if (rc == 0 && r->code == 334)
			rc = secret_command(c, "", user, ul, r);
		if (rc == 0 && r->code == 334)
			rc = secret_command(c, "", pass, pl, r);
	} else {
		buf_printf(why, "the relay offers neither AUTH PLAIN nor AUTH LOGIN");
		return -1;
	}
	if (rc < 0)
		return -1;
	if (r->code != 235) {
		/* The text is not repeated: some relays echo the user name in it. */
		buf_printf(why, "AUTH refused: %d", r->code);
		return -1;
	}
	return 0;
}

struct smtp_conn *smtp_conn_open(const struct smtp_opts *o, struct buf *why, struct buf *logwhy)
{
	struct netio *io = netio_connect(o->host, o->port, o->timeout_ms, why);
	if (io == NULL) {
		buf_append_str(logwhy, buf_str(why));
		return NULL;
	}
	struct smtp_conn *c = xcalloc(1, sizeof(*c));
	c->o = o;
	c->io = io;
	buf_init(&c->out, OUT_MAX);
	struct smtp_reply r;
	struct buf sub; /* the reason from a step below, without peer data */
	buf_init(&sub, 256);
	const char *step = "greeting";
	if (read_reply(c, &r, 0) < 0 || r.code != 220)
		goto refused;
	step = "EHLO";
	if (hello(c, &r) < 0)
		goto refused;
	if (o->tls != SMTP_TLS_NONE && (c->ext & EXT_STARTTLS)) {
		step = "STARTTLS";
		buf_puts(&c->out, "STARTTLS\r\n");
		if (command(c, &r) < 0)
			goto refused;
		if (r.code == 220) {
			if (netio_starttls(c->io, o->ssl_ctx, o->host, o->tls_verify, &sub) < 0) {
				c->dead = 1;
				goto failed;
			}
			step = "EHLO after STARTTLS";
			if (hello(c, &r) < 0)
				goto refused;
		} else if (o->tls == SMTP_TLS_REQUIRE || c->dead) {
			goto refused;
		}
	}
	if (o->tls == SMTP_TLS_REQUIRE && !netio_is_tls(c->io)) {
		buf_puts(&sub, "the relay does not offer STARTTLS and [delivery] tls = require");
		goto failed;
	}
	if (o->auth_user != NULL) {
		if (!netio_is_tls(c->io)) {
			buf_puts(&sub, "no TLS, so no AUTH: the password is never sent in clear");
			goto failed;
		}
		step = "AUTH";
		if (auth(c, &r, &sub) < 0) {
			if (c->dead)
				goto refused;
			goto failed;
		}
	}
	buf_free(&sub);
	return c;
refused:
	if (c->dead) {
		buf_printf(why, "%s (at %s)", c->err, step);
		buf_printf(logwhy, "%s (at %s)", c->err, step);
	} else {
		buf_printf(why, "%s:%s: %s refused: %s", o->host, o->port, step, r.text);
		/* The log gets the code only: the text is the relay's (log.h). */
		buf_printf(logwhy, "%s:%s: %s refused: %d", o->host, o->port, step, r.code);
	}
	goto out;
failed:
	buf_printf(why, "%s:%s: %s", o->host, o->port, buf_cstr(&sub));
	buf_printf(logwhy, "%s:%s: %s", o->host, o->port, buf_cstr(&sub));
out:
	buf_free(&sub);
	smtp_conn_close(c);
	return NULL;
}

void smtp_conn_close(struct smtp_conn *c)
{
	if (c == NULL)
		return;
	if (!c->dead) {
		struct smtp_reply r;
		buf_reset(&c->out);
		buf_puts(&c->out, "QUIT\r\n");
		command(c, &r);
	}
	netio_free(c->io);
	buf_free(&c->out);
	xfree_wipe(c, sizeof(*c));
}

int smtp_conn_usable(struct smtp_conn *c)
{
	if (c->dead)
		return 0;
	if (netio_peer_spoke(c->io)) {
		session_over(c, "the relay spoke or hung up while the session was idle");
		return 0;
	}
	return 1;
}

int smtp_conn_is_tls(const struct smtp_conn *c)
{
	return netio_is_tls(c->io);
}

const char *smtp_conn_error(const struct smtp_conn *c)
{
	return c->err;
}

int smtp_conn_sender_refusals(struct smtp_conn *c, char *text, size_t cap)
{
	int n = c->sender_refusals;
	if (n > 0)
		bsnprintf(text, cap, "%s", c->refusal);
	c->sender_refusals = 0;
	return n;
}

/* ---- transactions ---- */

static void set_fate(struct txn *t, const struct smtp_reply *r)
{
	t->st->code = r->code;
	t->st->result = r->code / 100 == 2   ? RELAY_SENT
			: r->code / 100 == 5 ? RELAY_FAIL
					     : RELAY_DEFER;
	t->st->origin = r->code / 100 == 2   ? RELAY_ORIGIN_NONE
			: r->code / 100 == 5 ? RELAY_ORIGIN_REMOTE_5XX
					     : RELAY_ORIGIN_REMOTE_4XX;
	t->st->local = RELAY_LOCAL_NONE;
	memcpy(t->st->text, r->text, sizeof(t->st->text));
	t->done = 1;
}

/* A fate decided here, without a reply to it: origin local (with why) or
 * connection. */
static void set_local_fate(struct txn *t, enum relay_result res, enum relay_origin origin,
			   enum relay_local why, int code, const char *text)
{
	t->st->result = res;
	t->st->origin = origin;
	t->st->local = why;
	t->st->code = code;
	bsnprintf(t->st->text, sizeof(t->st->text), "%s", text);
	t->done = 1;
}

/* A forward-path we may put on a command line: printable ASCII, no space or
 * angle bracket, within RFC 5321's length. Empty only for the null sender. */
static int path_ok(const char *a, int may_be_empty)
{
	size_t n = strlen(a);
	if (n > LK_MAX_ADDRESS || (n == 0 && !may_be_empty))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>')
			return 0;
	}
	return 1;
}

static int has_8bit(const struct relay_msg *m)
{
	const unsigned char *p = (const unsigned char *)m->data;
	unsigned char acc = 0;
	for (size_t i = 0; i < m->len; i++)
		acc |= p[i];
	return (acc & 0x80) != 0;
}

/* Fetches the next message we can send; ones that cannot be sent at all get
 * their fate here and are skipped. Returns as fetch does. */
static int take(struct smtp_conn *c, smtp_fetch_fn fetch, void *arg, int block, struct txn *t)
{
	for (;;) {
		const struct relay_msg *m;
		struct relay_status *st;
		int got = fetch(arg, block, &m, &st);
		if (got != 1)
			return got;
		*t = (struct txn){.m = m, .st = st};
		if (!path_ok(m->mail_from, 1) || !path_ok(m->rcpt_to, 0)) {
			set_local_fate(t, RELAY_FAIL, RELAY_ORIGIN_LOCAL, RELAY_LOCAL_ADDRESS, 0,
				       "not sent: an envelope address is malformed");
			continue;
		}
		if (c->size_max > 0 && m->len > c->size_max) {
			char text[sizeof(st->text)];
			bsnprintf(text, sizeof(text),
				  "552 not sent: %zu bytes is more than the relay's SIZE %llu",
				  m->len, (unsigned long long)c->size_max);
			set_local_fate(t, RELAY_FAIL, RELAY_ORIGIN_LOCAL, RELAY_LOCAL_SIZE, 552,
				       text);
			continue;
		}
		return 1;
	}
}

enum { CMD_RSET, CMD_MAIL, CMD_RCPT, CMD_DATA };

static void queue_command(struct smtp_conn *c, const struct txn *t, int cmd)
{
	switch (cmd) {
	case CMD_RSET:
		buf_puts(&c->out, "RSET\r\n");
		break;
	case CMD_MAIL:
		buf_printf(&c->out, "MAIL FROM:<%s>", t->m->mail_from);
		if (c->ext & EXT_SIZE)
			buf_printf(&c->out, " SIZE=%zu", t->m->len);
		if ((c->ext & EXT_8BITMIME) && has_8bit(t->m))
			buf_puts(&c->out, " BODY=8BITMIME");
		buf_puts(&c->out, "\r\n");
		break;
	case CMD_RCPT:
		buf_printf(&c->out, "RCPT TO:<%s>\r\n", t->m->rcpt_to);
		break;
	case CMD_DATA:
		buf_puts(&c->out, "DATA\r\n");
		break;
	}
}

/* Pipelining: queues the whole envelope (not flushed). */
static void queue_envelope(struct smtp_conn *c, struct txn *t)
{
	t->rset = c->need_rset;
	c->need_rset = 0;
	for (int cmd = t->rset ? CMD_RSET : CMD_MAIL; cmd <= CMD_DATA; cmd++)
		queue_command(c, t, cmd);
}

/* The envelope's replies (pipelining: the commands are out already; else
 * each command is sent here and waited for). Sets t->go, or t's fate.
 * Returns 0, or -1 when the session is over. */
/* The fate of a transaction that ended before its body. A refused MAIL FROM
 * says nothing about the recipient: it is deferred, not failed (see the top). */
static void envelope_failed(struct smtp_conn *c, struct txn *t, const struct smtp_reply *r, int at)
{
	set_fate(t, r);
	if (at == CMD_MAIL)
		t->st->origin = RELAY_ORIGIN_REMOTE_SENDER;
	if (at == CMD_MAIL && r->code != 552) {
		t->st->result = RELAY_DEFER;
		if (c->sender_refusals++ == 0)
			memcpy(c->refusal, r->text, sizeof(c->refusal));
	}
}

static int envelope(struct smtp_conn *c, struct txn *t, int pipe)
{
	struct smtp_reply r, failure = {0};
	int failed = 0, failed_at = 0;
	if (!pipe) {
		t->rset = c->need_rset;
		c->need_rset = 0;
	}
	for (int cmd = t->rset ? CMD_RSET : CMD_MAIL; cmd <= CMD_DATA; cmd++) {
		if (!pipe) {
			if (failed)
				break;
			queue_command(c, t, cmd);
			if (flush(c) < 0)
				return -1;
		}
		if (read_reply(c, &r, 0) < 0)
			return -1;
		if (r.code == 421) { /* closing: the rest of the group gets no reply */
			set_fate(t, &r);
			return -1;
		}
		int ok = r.code / 100 == 2;
		if (cmd == CMD_RSET && !ok)
			return session_over(c, "protocol error: RSET refused");
		if (cmd == CMD_DATA && r.code == 354) {
			if (!failed) {
				t->go = 1;
				return 0;
			}
			/* DATA accepted with no recipient (RFC 2920 3.1): end it empty. */
			buf_puts(&c->out, ".\r\n");
			if (command(c, &r) < 0)
				return -1;
			envelope_failed(c, t, &failure, failed_at);
			return 0;
		}
		if (cmd == CMD_DATA && ok)
			return session_over(c, "protocol error: DATA answered with 2xx");
		if (r.code / 100 == 3)
			return session_over(c, "protocol error: unexpected 3xx reply");
		if (!ok && !failed) {
			failure = r;
			failed = 1;
			failed_at = cmd;
		}
	}
	/* Ended before the body: the relay may hold a half transaction. */
	envelope_failed(c, t, &failure, failed_at);
	c->need_rset = 1;
	return 0;
}

/* Queues the dot-stuffed body and the end-of-data dot, flushing in chunks. */
static int queue_body(struct smtp_conn *c, const struct relay_msg *m)
{
	const char *d = m->data;
	size_t i = 0, n = m->len;
	int bol = 1; /* at the beginning of a line */
	while (i < n) {
		if (bol && d[i] == '.')
			buf_putc(&c->out, '.');
		size_t j = i;
		size_t lim = n - i > SPAN_MAX ? i + SPAN_MAX : n;
		while (j < lim && d[j] != '\r' && d[j] != '\n')
			j++;
		buf_append(&c->out, d + i, j - i);
		bol = 0;
		i = j;
		if (i < n && (d[i] == '\r' || d[i] == '\n')) {
			/* CRLF, or a bare CR or LF: all become CRLF. */
			i += (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n') ? 2 : 1;
			buf_append(&c->out, "\r\n", 2);
			bol = 1;
		}
		if (c->out.len >= FLUSH_AT && flush(c) < 0)
			return -1;
	}
	if (!bol)
		buf_append(&c->out, "\r\n", 2);
	buf_append(&c->out, ".\r\n", 3);
	return 0;
}

static int end_of_data(struct smtp_conn *c, struct txn *t)
{
	struct smtp_reply r;
	if (read_reply(c, &r, 0) < 0)
		return -1;
	if (r.code / 100 == 3)
		return session_over(c, "protocol error: 3xx after the end of data");
	set_fate(t, &r);
	return c->dead ? -1 : 0;
}

static void defer_lost(struct smtp_conn *c, struct txn *t)
{
	if (t->done)
		return;
	set_local_fate(t, RELAY_DEFER, RELAY_ORIGIN_CONNECTION, RELAY_LOCAL_NONE, 0, c->err);
}

int smtp_conn_run(struct smtp_conn *c, smtp_fetch_fn fetch, void *arg)
{
	int pipe = (c->ext & EXT_PIPELINING) != 0;
	int overlap = pipe && c->o->pipeline >= 2;
	struct txn cur, nxt;
	int have_nxt = 0;
	if (c->dead)
		return -1;
	if (take(c, fetch, arg, 1, &cur) != 1)
		return 0;
	if (pipe) {
		queue_envelope(c, &cur);
		if (flush(c) < 0)
			goto lost;
	}
	for (;;) {
		if (envelope(c, &cur, pipe) < 0)
			goto lost;
		if (cur.go) {
			if (queue_body(c, cur.m) < 0)
				goto lost;
			if (overlap && take(c, fetch, arg, 0, &nxt) == 1) {
				queue_envelope(c, &nxt);
				have_nxt = 1;
			}
			if (flush(c) < 0 || end_of_data(c, &cur) < 0)
				goto lost;
		}
		if (!have_nxt) {
			if (take(c, fetch, arg, 1, &nxt) != 1)
				return 0;
			if (pipe) {
				queue_envelope(c, &nxt);
				have_nxt = 1;
				if (flush(c) < 0)
					goto lost;
			}
		}
		cur = nxt;
		have_nxt = 0;
	}
lost:
	session_over(c, "session ended");
	defer_lost(c, &cur);
	if (have_nxt)
		defer_lost(c, &nxt);
	return -1;
}
