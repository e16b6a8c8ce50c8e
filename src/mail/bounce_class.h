/*
 * bounce_class.h - what one failure diagnosis means for a list: the classes
 * of bounces, and the classifier of a status, an SMTP reply code and a text,
 * shared by the two places that read failures: intake (a DSN or a notice,
 * intake/bounce.h) and delivery (the relay's own 5xx at RCPT or after DATA,
 * and a deferral that ran out of time, delivery/engine.c). One classifier,
 * one phrase table, so that a "550 5.7.1 ... blocked" means the same to
 * both: the receiver refused us, not the address.
 *
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
 *   temporary         4.x.x and the like; final (the MTA gave up) a soft
 *                     amount, otherwise nothing.
 *   unknown           a failure whose reason is not given or not known.
 *   complaint         an ARF report (intake only).
 *
 * TRUST: the texts are untrusted (a peer's reply, a received report); every
 * function reads exactly the length given, and bounce_diag_read reads at
 * most LK_MAX_BOUNCE_TEXT bytes of it.
 */
#ifndef LK_MAIL_BOUNCE_CLASS_H
#define LK_MAIL_BOUNCE_CLASS_H

#include <stddef.h>

#include "core/buf.h"

enum bounce_class {
	BOUNCE_UNKNOWN = 0,
	BOUNCE_GONE,
	BOUNCE_FULL,
	BOUNCE_REJECTED_CONTENT,
	BOUNCE_SENDER_POLICY,
	BOUNCE_TEMPORARY,
	BOUNCE_COMPLAINT,
	BOUNCE_CLASS_COUNT
};

/* "gone", "full", "rejected-content", "sender-policy", "temporary",
 * "unknown", "complaint"; bounce_class_parse is the inverse (0, or -1 for
 * a name that is none of them). */
const char *bounce_class_name(enum bounce_class c);
int bounce_class_parse(const char *name, enum bounce_class *out);

/* An RFC 3463 enhanced status at the start of v ("5.1.1": class, subject,
 * detail, 1-3 digits each, class 2, 4 or 5, not followed by a digit or a
 * dot) into out, NUL-terminated: 0, or -1 when v does not start with one. */
int bounce_status_parse(struct str v, char out[12]);

/* An SMTP reply code at the start of v: 4xx or 5xx (second digit 0-5), then
 * the end, SP, '-', ')', ',' or ']'. The code, or 0. */
int bounce_smtp_code(struct str v);

/* The codes found in a text: the first enhanced status of class 5 (else of
 * class 4) and the first SMTP reply of class 5 (else 4), each standing
 * alone (not inside a word, a number, a version or a URL). */
struct bounce_codes {
	char status[12];
	int smtp;
};
void bounce_scan_codes(struct str t, struct bounce_codes *k);

/* What one text says, read once (a report with many recipient groups reads
 * its notice once): its codes and the first phrase row that matches. */
struct bounce_diag {
	struct bounce_codes found;
	const struct bounce_phrase *ph;
};
void bounce_diag_read(const char *text, size_t len, struct bounce_diag *d);

/* bounce_classify on a text already read by bounce_diag_read. */
enum bounce_class bounce_decide(const char *status, int smtp, const struct bounce_diag *d,
				const char **family);

/* Classifies one diagnosis: an enhanced status ("5.1.1", "" or NULL), an
 * SMTP reply code (550, or 0) and text (len bytes, any line breaks; codes
 * in it count where the arguments give none). Sets *family (when family is
 * not NULL) to the deciding phrase row's family, or NULL. The rules, in
 * order: a sender-policy or rejected-content phrase or status; full; a 4xx
 * class is temporary; gone; temporary; else unknown. */
enum bounce_class bounce_classify(const char *status, int smtp, const char *text, size_t len,
				  const char **family);

/* The phrase table (bounce_phrases.c): data, one row per phrase an MTA
 * family writes, matched case-insensitively in the unfolded text (runs of
 * white space are one space); the first row that matches wins, so the
 * sender-side rows come before the others. example is a line as that MTA
 * writes it (tests/intake/test_bounce.c classifies each). */
struct bounce_phrase {
	const char *family;
	const char *phrase;
	enum bounce_class cls;
	const char *example;
};
extern const struct bounce_phrase bounce_phrases[];
extern const size_t bounce_phrases_count;

#endif
