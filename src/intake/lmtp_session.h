/*
 * lmtp_session.h - the LMTP protocol (RFC 2033) as a state machine fed
 * from memory: no sockets, no store, so that a fuzzer can drive it.
 *
 *   lmtp_session_new    a session; the caller's handler judges recipients
 *                       and takes messages
 *   lmtp_session_greet  the 220 greeting
 *   lmtp_session_feed   bytes from the client in, replies out; says when the
 *                       connection must be closed
 *   lmtp_session_free
 *
 * Commands: LHLO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT (VRFY 252,
 * HELO/EHLO refused: RFC 2033 section 4.1). PIPELINING is offered (RFC 2033
 * section 5 requires it): every complete line fed is answered in order.
 * After the final dot of DATA, one reply per accepted recipient, in RCPT
 * order (RFC 2033 section 4.2), each the handler's verdict.
 *
 * TRUST: every byte is untrusted. Only CRLF ends a line: a bare LF or a bare
 * CR anywhere (command or data) is answered once and the session ends (SMTP
 * smuggling, CVE-2023-51764). A line longer than LK_MAX_SMTP_LINE with its
 * CRLF, a NUL or another control character in a command: answered once,
 * session ends. A message over LK_MAX_MESSAGE is read to its end and refused
 * (552) for every recipient, never held whole. At most LK_LMTP_MAX_RCPTS
 * recipients per transaction, LK_LMTP_MAX_ERRORS bad commands per session.
 */
#ifndef LK_INTAKE_LMTP_SESSION_H
#define LK_INTAKE_LMTP_SESSION_H

#include <stddef.h>

#include "core/buf.h"

/* The handler: what the server does with recipients and messages.
 * rcpt: addr is the address inside the angle brackets (len bytes, NUL
 *   terminated, printable ASCII). Appends one complete reply line without
 *   CRLF ("250 2.1.5 Ok") to reply; returns 1 if the recipient is accepted,
 *   0 if not. *cookie may be set to per-recipient state, handed back to
 *   deliver and drop.
 * deliver: one accepted recipient of a received message (msg, len: the
 *   message with dot-stuffing undone, lines ending in CRLF, after a first
 *   line "Return-Path: <MAIL FROM path>" as a final delivery writes it,
 *   RFC 5321 section 4.4). Appends one
 *   reply line without CRLF; 250 only once the result is durable.
 * drop: frees a cookie (transaction reset, session end). May be NULL.
 * same: 1 if the cookies of two accepted recipients of one transaction name
 *   one handling (a repeated recipient). The later one is answered 250 at
 *   RCPT and, after DATA, with the earlier one's reply, and is not handed
 *   to deliver (RFC 2033 section 4.2 wants a reply for each; it does not
 *   want a handling for each). May be NULL: none are the same. */
struct lmtp_handler {
	int (*rcpt)(void *ctx, const char *addr, size_t len, void **cookie, struct buf *reply);
	void (*deliver)(void *ctx, void *cookie, const char *msg, size_t len, struct buf *reply);
	void (*drop)(void *ctx, void *cookie);
	int (*same)(void *ctx, const void *a, const void *b);
};

struct lmtp_session;

/* host: the name in the greeting and the LHLO reply (copied). h and ctx
 * must outlive the session. */
struct lmtp_session *lmtp_session_new(const struct lmtp_handler *h, void *ctx, const char *host);
/* Frees; recipients still held are dropped. NULL: no-op. */
void lmtp_session_free(struct lmtp_session *s);

/* Appends "220 HOST LMTP ready\r\n" to out. */
void lmtp_session_greet(struct lmtp_session *s, struct buf *out);

/* Feeds len bytes from the client and appends every reply due to out
 * (CRLF-terminated lines). Returns 0 to go on reading, 1 when the
 * connection must be closed after out is written (QUIT, a protocol
 * violation); bytes fed after that are ignored. */
int lmtp_session_feed(struct lmtp_session *s, const char *p, size_t len, struct buf *out);

/* The client went away (EOF): a message in DATA is lost, never delivered.
 * Returns 1 if a message was in flight. */
int lmtp_session_eof(struct lmtp_session *s);

#endif
