/*
 * bounce.h - what an incoming bounce or complaint says, in the classes a
 * list acts on.
 *
 * bounce_parse reads one received message and gives each failed recipient
 * a class (enum bounce_class, mail/bounce_class.h, whose classifier and
 * phrase table delivery shares for the relay's replies) and whether the
 * reporting MTA gave up (final):
 *   gone              the address does not exist any more: user unknown, no
 *                     such domain, mailbox disabled or moved (X.1.1, X.1.2,
 *                     X.1.3, X.1.6, X.1.10, X.2.1, 5.4.4). Only this class
 *                     scores hard on the subscriber.
 *   full              over quota (X.2.2): a soft amount that decays.
 *   rejected-content  the receiver refused this message: a spam verdict, too
 *                     big, a virus (X.6.x, X.2.3, X.3.4, phrases).
 *   sender-policy     the receiver refused us: a blocklisted IP, SPF/DKIM/
 *                     DMARC, no PTR, rate limits, relaying (X.7.x, X.1.7,
 *                     X.1.8, phrases). Neither of these two ever touches the
 *                     subscriber: they are counted on the job and the list.
 *   temporary         4.x.x and the like; with final set (Action: failed
 *                     with 4.4.7, qmail's "not going to try again") a soft
 *                     amount, otherwise nothing.
 *   unknown           a failure whose reason is not given or not known.
 *   complaint         an ARF report whose Feedback-Type is abuse, fraud or
 *                     other (a person said "this is spam").
 *
 * Where the reason comes from, in order:
 *   - every message/delivery-status (or global-delivery-status) part
 *     anywhere in the MIME tree, not only at the top of a multipart/report
 *     (forwarding gateways wrap reports in multipart/mixed); per recipient
 *     group its Status, Diagnostic-Code and Action, continuation lines
 *     unfolded, the common non-conforming values accepted (Action: failure
 *     or error; Status: 553 ...; a Final-Recipient without its type);
 *   - when a recipient's fields give no class: the human-readable part (the
 *     first text/plain outside the returned message), unfolded into one
 *     line, its status codes and the phrase table (bounce_phrases);
 *   - qmail-send bounces, a paragraph per "<address>:";
 *   - notices without a report, recognised by their From (MAILER-DAEMON,
 *     postmaster) or Subject: their text as above.
 * The text is read up to the line that introduces the returned message, so
 * that codes in our own message do not count.
 *
 * The overall class is the first of gone, full, rejected-content,
 * sender-policy, temporary that some recipient has, else unknown (or
 * complaint).
 *
 * The VERP token comes from the envelope recipient the caller passes, when
 * it has the form LIST-bounces+TOKEN@DOMAIN; for an ARF report without one,
 * from its Original-Mail-From field. It is not verified here (token_check
 * does that, with the store), and it names the subscriber whatever the
 * report's recipients say (a forward reports the address forwarded to).
 * The job comes from the Message-ID of the returned message, when it is one
 * of ours ("<jJOB.sSUB.RANDOM@DOMAIN>", delivery/engine.c): only a hint for
 * counting (the caller checks the job is of the token's list).
 *
 * Ownership: a struct bounce owns its strings; bounce_free wipes them (they
 * are addresses: never log them).
 *
 * TRUST: the message and the envelope recipient are untrusted. Bounds:
 * LK_MAX_MESSAGE, LK_MAX_BOUNCE_RCPTS, LK_MAX_BOUNCE_TEXT,
 * LK_MAX_BOUNCE_FIELD, LK_MAX_MIME_PARTS, LK_MAX_MIME_DEPTH,
 * LK_MAX_LIST_NAME, LK_MAX_ADDRESS; the token's length is crypto/token.h's
 * TOKEN_ADDR_LEN.
 */
#ifndef LK_INTAKE_BOUNCE_H
#define LK_INTAKE_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "mail/bounce_class.h"

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
	enum bounce_class cls;
	int final; /* the MTA gave up (Action: failed, 5xx, qmail) */
	enum bounce_action action;
	char status[12];     /* "5.1.1" (RFC 3463 syntax checked), or "" */
	char *final_rcpt;    /* Final-Recipient (or the address of a text bounce,
				 ARF Original-Rcpt-To), normalised; owned; or NULL */
	char *original_rcpt; /* Original-Recipient, normalised; owned; or NULL */
};

struct bounce {
	enum bounce_class cls;
	int final; /* some recipient of class cls is final */
	enum bounce_format format;
	size_t nrcpt;
	struct bounce_rcpt rcpt[LK_MAX_BOUNCE_RCPTS];
	char feedback_type[32]; /* ARF Feedback-Type, lower case, or "" */
	char *verp_list;	/* LIST of LIST-bounces+TOKEN@DOMAIN; owned; or NULL */
	char *verp_token;	/* TOKEN, not verified; owned; or NULL */
	int verp_from_report;	/* the token came from the report, not the envelope */
	int64_t job_id;		/* from the returned Message-ID, not verified; or 0 */
	const char *family;	/* bounce_phrases row that decided, static; or NULL */
};

/* Classifies len bytes of msg. envelope_rcpt (rcpt_len bytes, angle brackets
 * allowed) may be NULL. Always fills *out (free it with bounce_free).
 * Returns 0, or -1 when the message is over LK_MAX_MESSAGE (out then holds
 * only the VERP fields, class unknown). */
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

#endif
