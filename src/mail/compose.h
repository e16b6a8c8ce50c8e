/*
 * compose.h - one outgoing message for one recipient (DESIGN.md section 2,
 * promises P2, P5, P11).
 *
 * compose_message writes a complete RFC 5322 message, CRLF line ends, into
 * a buffer:
 *   - From, To (the recipient, display name encoded), Subject, Date,
 *     Message-ID, MIME-Version, List-Id (RFC 2919), List-Unsubscribe with the
 *     https one-click URL and the mailto (RFC 2369, RFC 8058),
 *     List-Unsubscribe-Post: List-Unsubscribe=One-Click, List-Help, and
 *     List-Post / List-Archive where they apply; Precedence: bulk for
 *     announcements; Auto-Submitted is not set (it is not an auto-reply).
 *   - a text subscriber gets text/plain; an HTML subscriber gets
 *     multipart/alternative with the text part first, always present;
 *   - a footer in each part: the unsubscribe link, the preferences link, the
 *     list's footer text and its postal address (CAN-SPAM);
 *   - merge fields {{name}}, {{email}}, {{list}}, {{list_title}},
 *     {{unsubscribe_url}}, {{preferences_url}} in subject and bodies: values are
 *     HTML-escaped in the HTML part; an unknown {{field}} is left as it is;
 *   - the open-tracking pixel only in the HTML part, only when the list allows
 *     tracking and the recipient agreed (compose_in.pixel_url non-NULL and
 *     both flags set);
 *   - non-ASCII or over-long header text as RFC 2047 encoded words; bodies
 *     quoted-printable (UTF-8) so that no line passes 76 octets; no byte of
 *     CR or LF from any input ever reaches a header (such input is folded to
 *     a space before encoding).
 *
 * TRUST: subject and bodies come from list owners, names from subscribers:
 * both untrusted. Everything that goes into a header is checked or encoded
 * here. Limits: core/limits.h (LK_MAX_MESSAGE).
 */
#ifndef LK_MAIL_COMPOSE_H
#define LK_MAIL_COMPOSE_H

#include <stdint.h>

#include "core/buf.h"

struct compose_in {
	/* the list */
	const char *list_name;	    /* "news" */
	const char *list_domain;    /* "lists.example.org" */
	const char *list_title;	    /* display name in From and List-Id */
	const char *list_footer;    /* may be "" */
	const char *postal_address; /* may be "" */
	const char *from_addr;	    /* "news@lists.example.org" (owner address for announcements) */
	int announce;		    /* 1: announcement list (Precedence: bulk, no List-Post) */
	const char *archive_url;    /* NULL: no List-Archive */
	/* the message */
	const char *subject;
	const char *text;	/* the text body (UTF-8), always present */
	const char *html;	/* the HTML body, or NULL */
	const char *message_id; /* "<...@domain>" made by the caller (unique per recipient) */
	int64_t date;		/* unix seconds for the Date header */
	/* the recipient */
	const char *rcpt_addr;
	const char *rcpt_name; /* may be "" */
	int rcpt_html;	       /* prefers HTML */
	int rcpt_tracking;     /* agreed to open tracking */
	int list_tracking;     /* the list allows tracking */
	/* links (already containing their tokens) */
	const char *unsubscribe_url;	/* https one-click URL, also used in the footer */
	const char *unsubscribe_mailto; /* "news-unsubscribe+TOKEN@lists.example.org" */
	const char *preferences_url;
	const char *help_url;  /* List-Help, may be NULL */
	const char *pixel_url; /* may be NULL */
	/* extra header lines (already valid, CRLF-terminated), e.g. for single
	 * messages such as confirmations; may be NULL */
	const char *extra_headers;
};

/* Appends the message to out. Returns 0, or -1 with the reason in err (a
 * limit passed, a bad address, invalid UTF-8 in a header field). */
int compose_message(const struct compose_in *in, struct buf *out, struct buf *err);

/* RFC 2047 helper, also for other modules: appends `text` as a header value
 * (after "Name: ", `used` octets already on the line), as is when it is
 * printable ASCII that fits, else as UTF-8 "B" or "Q" encoded words folded at
 * 76 octets. CR and LF in text become spaces. */
int compose_header_text(struct buf *out, const char *text, size_t used);

/* Merge fields: replaces {{field}} in tmpl with values (html: escaped).
 * names/values are parallel arrays of n entries. */
int compose_merge(struct buf *out, const char *tmpl, size_t len, const char *const *names,
		  const char *const *values, size_t n, int html);

#endif
