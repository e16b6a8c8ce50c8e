/*
 * bounce.h - what an incoming bounce or complaint says.
 *
 * bounce_parse classifies one received message as
 *   - a DSN (RFC 3464: multipart/report; report-type=delivery-status), per
 *     recipient: Action failed + Status 5.x.x -> hard; Status 4.x.x or
 *     Action delayed -> soft (failed without a usable Status -> hard, as the
 *     Action is the MTA's own verdict, RFC 3464 section 2.3.3);
 *   - an ARF report (RFC 5965: multipart/report;
 *     report-type=feedback-report) -> complaint when its Feedback-Type is
 *     abuse, fraud or other (a person said "this is spam"); not-spam, virus,
 *     auth-failure and unknown types -> unknown, with the type kept;
 *   - qmail's "Hi. This is the qmail-send program" bounce: one paragraph
 *     per failed "<address>:", 5xx in it -> hard, 4xx -> soft, none -> hard
 *     when qmail calls it a permanent error;
 *   - a plain-text bounce without a delivery-status part (old Sendmail,
 *     Exim, Exchange): recognised by a From of MAILER-DAEMON / postmaster or
 *     a known Subject; then the text up to the copy of the returned message
 *     decides: an enhanced status 5.x.x or an SMTP reply 5xx -> hard, 4.x.x
 *     or 4xx (or a delay subject) -> soft, known phrases otherwise;
 *   - anything else, including garbled mail -> unknown.
 * The overall kind is hard if any recipient is hard, else soft if any is
 * soft, else complaint / unknown.
 *
 * The VERP token comes from the envelope recipient the caller passes, when
 * it has the form LIST-bounces+TOKEN@DOMAIN; for an ARF report without one,
 * from its Original-Mail-From field (our envelope sender, reported back).
 * It is not verified here (token_check does that, with the store).
 *
 * Ownership: a struct bounce owns its strings; bounce_free wipes them (they
 * are addresses: never log them).
 *
 * TRUST: the message and the envelope recipient are untrusted. Bounds:
 * LK_MAX_MESSAGE, LK_MAX_BOUNCE_RCPTS, LK_MAX_BOUNCE_TEXT,
 * LK_MAX_BOUNCE_FIELD, LK_MAX_LIST_NAME, LK_MAX_ADDRESS; the token's length
 * is crypto/token.h's TOKEN_ADDR_LEN.
 */
#ifndef LK_INTAKE_BOUNCE_H
#define LK_INTAKE_BOUNCE_H

#include <stddef.h>

#include "core/limits.h"

enum bounce_kind {
	BOUNCE_UNKNOWN = 0,
	BOUNCE_HARD,
	BOUNCE_SOFT,
	BOUNCE_COMPLAINT,
};

enum bounce_format {
	BOUNCE_FMT_NONE = 0, /* not recognised */
	BOUNCE_FMT_DSN,	     /* RFC 3464 */
	BOUNCE_FMT_ARF,	     /* RFC 5965 */
	BOUNCE_FMT_QMAIL,    /* qmail-send */
	BOUNCE_FMT_TEXT,     /* plain text from a mailer daemon */
};

enum bounce_action {
	BOUNCE_ACTION_NONE = 0, /* absent or not one of RFC 3464 2.3.3 */
	BOUNCE_ACTION_FAILED,
	BOUNCE_ACTION_DELAYED,
	BOUNCE_ACTION_DELIVERED,
	BOUNCE_ACTION_RELAYED,
	BOUNCE_ACTION_EXPANDED,
};

struct bounce_rcpt {
	enum bounce_kind kind;
	enum bounce_action action;
	char status[12];     /* "5.1.1" (RFC 3463 syntax checked), or "" */
	char *final_rcpt;    /* Final-Recipient (or the address of a text bounce,
				 ARF Original-Rcpt-To), normalised; owned; or NULL */
	char *original_rcpt; /* Original-Recipient, normalised; owned; or NULL */
};

struct bounce {
	enum bounce_kind kind;
	enum bounce_format format;
	size_t nrcpt;
	struct bounce_rcpt rcpt[LK_MAX_BOUNCE_RCPTS];
	char feedback_type[32]; /* ARF Feedback-Type, lower case, or "" */
	char *verp_list;	/* LIST of LIST-bounces+TOKEN@DOMAIN; owned; or NULL */
	char *verp_token;	/* TOKEN, not verified; owned; or NULL */
	int verp_from_report;	/* the token came from the report, not the envelope */
};

/* Classifies len bytes of msg. envelope_rcpt (rcpt_len bytes, angle brackets
 * allowed) may be NULL. Always fills *out (free it with bounce_free).
 * Returns 0, or -1 when the message is over LK_MAX_MESSAGE (out then holds
 * only the VERP fields, kind unknown). */
int bounce_parse(const char *msg, size_t len, const char *envelope_rcpt, size_t rcpt_len,
		 struct bounce *out);

/* Splits LIST-bounces+TOKEN@DOMAIN (len bytes, angle brackets allowed) into
 * freshly allocated *list and *token. Returns 0, or -1 (nothing allocated)
 * when p does not have that form: the list is a valid list name, the token
 * token.h's address form (token_addr_syntax: its length and base32
 * alphabet, either case), "-bounces" in any case. */
int bounce_verp_split(const char *p, size_t len, char **list, char **token);

/* Wipes and frees what out owns; out may be reused. */
void bounce_free(struct bounce *out);

const char *bounce_kind_str(enum bounce_kind k);

#endif
