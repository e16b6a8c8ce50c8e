/*
 * route.h - what incoming mail is for, and handling it: one entry point for
 * the LMTP server (lmtp.c) and `listkeeper inject` (a pipe transport).
 *
 *   intake_new / intake_free   a context over one store connection
 *   intake_rcpt                judges an envelope recipient (RCPT time)
 *   intake_deliver             handles one message for one accepted recipient
 *   intake_target_free
 *
 * Addresses, for each list LIST living at DOMAIN (its [list] domain):
 *   LIST@DOMAIN                    a post
 *   LIST-request@DOMAIN            commands (body lines and the Subject)
 *   LIST-owner@DOMAIN              forwarded to the list's owners
 *   LIST-confirm+TOKEN@DOMAIN      a confirmation by reply
 *   LIST-bounces+TOKEN@DOMAIN      a bounce or complaint (VERP)
 *   LIST-unsubscribe+TOKEN@DOMAIN  the List-Unsubscribe mailto
 * and the server-wide command address, [intake] command_address (local part,
 * default "listkeeper") at [general] domain or at any list's domain,
 * LISTSERV style. Anything else is unknown (550 5.1.1 at RCPT time); a
 * token that does not authenticate for the list its address names is
 * unknown too.
 *
 * The envelope sender is read from the message's first Return-Path header:
 * lmtp_session.c writes it from MAIL FROM, and inject from --sender (or the
 * pipe's flags=R).
 *
 * Logs name a list and a subscriber id, never an address.
 *
 * TRUST: the recipient and the message are untrusted: parsed by
 * bounce_parse and command_parse_message, bounded by core/limits.h; tokens
 * are authenticated (crypto/token.h) before the store is changed.
 */
#ifndef LK_INTAKE_ROUTE_H
#define LK_INTAKE_ROUTE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/tmpl.h"
#include "crypto/keys.h"
#include "store/store.h"

struct intake;
struct intake_target;

/* The outcome of a recipient or a message, as an MTA needs it. */
enum intake_verdict {
	INTAKE_OK = 0,	 /* 250; inject exits 0 */
	INTAKE_UNKNOWN,	 /* 550 5.1.1; inject exits 67 (EX_NOUSER) */
	INTAKE_TEMPFAIL, /* 451 4.3.0; inject exits 75 (EX_TEMPFAIL) */
	INTAKE_BAD_DATA, /* 554 5.6.0; inject exits 65 (EX_DATAERR) */
};

struct intake_result {
	enum intake_verdict verdict;
	char line[160]; /* the LMTP reply line, without CRLF */
};

/* A context over st (not owned; store_set_durable is the caller's). conf,
 * keys, st and tmpl must outlive it. tmpl: the templates of the mails that
 * commands queue (confirmation, welcome; core/tmpl.h tmpl_set_load_conf);
 * NULL (the built-ins) only for a context that judges recipients and
 * delivers nothing. */
struct intake *intake_new(const struct conf *conf, const struct keys *keys, struct store *st,
			  const struct tmpl_set *tmpl);
void intake_free(struct intake *in);

/* Judges the envelope recipient addr (len bytes, no angle brackets). On
 * INTAKE_OK *out is set (free it with intake_target_free); otherwise *out is
 * NULL. res->line holds the reply either way. */
enum intake_verdict intake_rcpt(struct intake *in, const char *addr, size_t len,
				struct intake_target **out, struct intake_result *res);

/* Handles one message (len bytes, CRLF or LF lines) for an accepted
 * recipient. INTAKE_OK only once what it changed is committed. */
enum intake_verdict intake_deliver(struct intake *in, struct intake_target *t, const char *msg,
				   size_t len, struct intake_result *res);

/* 1 if a and b are one handling: the same kind of address for the same
 * list (and subscriber, or confirmation token, or command domain), as a
 * recipient repeated in one transaction is, or two bounce addresses of one
 * subscriber on one list; 0 otherwise. Handled once, so that one message
 * scores a subscriber's bounce once and asks for one answer (lmtp.c). */
int intake_target_same(const struct intake_target *a, const struct intake_target *b);

void intake_target_free(struct intake_target *t);

#endif
