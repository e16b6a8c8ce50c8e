/*
 * smtp.h - one ESMTP client connection (internal to src/delivery; the relay
 * of relay_smtp.c runs several of them in parallel).
 *
 *   smtp_conn_open   connect, greeting, EHLO (HELO if refused), STARTTLS,
 *                    EHLO again, AUTH PLAIN or LOGIN (only over TLS)
 *   smtp_conn_run    mail transactions, pipelined, until the source runs dry
 *   smtp_conn_close  QUIT and close
 *
 * Pipelining (RFC 2920): MAIL FROM, RCPT TO and DATA of a transaction go out
 * in one write. The body may only follow the 354 reply (RFC 2920 section 3.1:
 * DATA ends a group), so one connection has at most two transactions in
 * flight: with pipeline >= 2 the next transaction's MAIL, RCPT and DATA are
 * written behind the previous end-of-data dot, in the same write.
 *
 * TRUST: every reply is untrusted: lines are bounded by LK_MAX_SMTP_LINE,
 * at most LK_MAX_SMTP_REPLY_LINES per reply, code three digits 2xx-5xx and the
 * same on every line, '-' or ' ' after it. A violation, a timeout or a lost
 * connection defers what was in flight and ends the session. Reply text
 * reaches relay_status.text only as printable ASCII and is never logged.
 */
#ifndef LK_DELIVERY_SMTP_H
#define LK_DELIVERY_SMTP_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "delivery/relay.h"

enum smtp_tls { SMTP_TLS_NONE, SMTP_TLS_STARTTLS, SMTP_TLS_REQUIRE };
/* "none", "starttls", "require" ([delivery] tls); smtp_tls_parse: 0 and
 * *out, or -1 for another name. */
const char *smtp_tls_name(enum smtp_tls t);
int smtp_tls_parse(const char *z, enum smtp_tls *out);

/* Settings shared by all connections of a relay; they outlive the connections. */
struct smtp_opts {
	const char *host; /* as configured: what is connected to and verified */
	const char *port;
	const char *helo;
	int timeout_ms;
	enum smtp_tls tls;
	SSL_CTX *ssl_ctx; /* NULL when tls is SMTP_TLS_NONE */
	int tls_verify;
	const char *auth_user; /* NULL: no AUTH */
	const char *auth_pass;
	size_t pipeline; /* [delivery] pipeline; >= 2 overlaps transactions */
};

/* Where smtp_conn_run takes its messages from. Returns 1 with *m and *st set,
 * 0 when there is no more work, or (only when block is 0) -1 when a message
 * would have to wait (the rate limit): the caller then flushes and asks again
 * with block = 1. */
typedef int (*smtp_fetch_fn)(void *arg, int block, const struct relay_msg **m,
			     struct relay_status **st);

struct smtp_conn;

/* Opens a session ready for mail. NULL with the reason in why ("connect
 * 127.0.0.1:25: Connection refused", "127.0.0.1:25: greeting refused: 421
 * ...", "127.0.0.1:25: TLS: certificate verify failed: ...") and the same
 * without the relay's reply text in logwhy, for the log. The caller closes. */
struct smtp_conn *smtp_conn_open(const struct smtp_opts *o, struct buf *why, struct buf *logwhy);
/* Sends QUIT (best effort, when the session is still sound) and frees. NULL: no-op. */
void smtp_conn_close(struct smtp_conn *c);
/* 1 if the session may carry another transaction: not lost, no 421, and the
 * relay has not spoken or hung up while idle. */
int smtp_conn_usable(struct smtp_conn *c);
/* Runs transactions for the messages fetch hands out, filling their status,
 * until fetch has no more. Returns 0 (session still usable), or -1 when the
 * session ended (lost, timeout, protocol error, 421): the messages in flight
 * were deferred; the ones not yet fetched are left to others. */
int smtp_conn_run(struct smtp_conn *c, smtp_fetch_fn fetch, void *arg);
int smtp_conn_is_tls(const struct smtp_conn *c);
/* How many MAIL FROM commands the relay refused since the last call (those
 * messages were deferred, see smtp.c); the first refusal's reply text
 * (printable ASCII) goes to text. Resets the count. */
int smtp_conn_sender_refusals(struct smtp_conn *c, char *text, size_t cap);
/* Why the session ended ("" while usable), no peer data in it. */
const char *smtp_conn_error(const struct smtp_conn *c);

/* Writes the reply text into dst (cap bytes, NUL-terminated): printable ASCII
 * only, every other byte as '?', lines joined with a space. Exposed for tests. */
void smtp_text_sanitize(char *dst, size_t cap, struct str src);

#endif
