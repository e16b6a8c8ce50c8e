/*
 * compose.h - one outgoing message for one recipient (DESIGN.md section 2,
 * promises P2, P5, P11).
 *
 * compose_message writes a complete RFC 5322 message, CRLF line ends, into
 * a buffer:
 *   - From, To (the recipient, display name encoded), Subject, Date,
 *     Message-ID, MIME-Version, List-Id (RFC 2919: "Title" <name.domain>),
 *     List-Unsubscribe with the https one-click URL and the mailto (RFC 2369,
 *     RFC 8058), List-Unsubscribe-Post: List-Unsubscribe=One-Click, List-Help
 *     (help_url, or else <mailto:NAME-request@DOMAIN?subject=help>, the
 *     list's command address), List-Post (<mailto:NAME@DOMAIN>, discussion
 *     lists only) and List-Archive (when archive_url is set); Precedence:
 *     bulk for announcements; Auto-Submitted is not set (it is not an
 *     auto-reply); then extra_headers, then the MIME headers;
 *   - a text subscriber gets text/plain; an HTML subscriber gets
 *     multipart/alternative with the text part first, always present (and
 *     text/plain only when there is no HTML body); the boundary is "=_" and
 *     24 hex digits derived from the Message-ID, which quoted-printable
 *     bodies can never contain;
 *   - a footer in each part: the unsubscribe link, the preferences link, the
 *     list's footer text and its postal address (CAN-SPAM); in the text
 *     part after a "-- " line, in the HTML part before the last </body> (or
 *     at the end), HTML-escaped;
 *   - merge fields {{name}}, {{email}}, {{list}}, {{list_title}},
 *     {{unsubscribe_url}}, {{preferences_url}} in subject and bodies: values are
 *     HTML-escaped in the HTML part; an unknown {{field}} is left as it is;
 *   - the open-tracking pixel only in the HTML part, only when the list allows
 *     tracking and the recipient agreed (compose_in.pixel_url non-NULL and
 *     both flags set);
 *   - header text (subject, names, title), without the white space around
 *     it (CR and LF count as white space), that is printable ASCII goes as it
 *     is, folded at white space (a name as a quoted-string); non-ASCII text,
 *     control characters, "=?" or a word too long to fold in 78 octets make
 *     it RFC 2047 UTF-8 encoded words folded at 76; bodies quoted-printable
 *     (UTF-8) so that no line passes 76 octets; no byte of CR, LF or NUL from
 *     any input ever reaches a header (in text it becomes a space before
 *     encoding; in an address, URL or the Message-ID it is refused).
 *
 * Refused (-1): a missing required field (all but list_title, list_footer,
 * postal_address, html, archive_url, rcpt_name, help_url, pixel_url and
 * extra_headers); an address (from, recipient, mailto) that is empty, over
 * LK_MAX_ADDRESS, without '@', or holds a space, control character or angle
 * bracket; a URL that is not http(s) or holds a space, quote, angle bracket
 * or non-ASCII byte; a Message-ID not of the form <x@y>; a list name or
 * domain outside [A-Za-z0-9._-]; a name over LK_MAX_NAME, a title over
 * LK_MAX_LIST_TITLE, footer or postal address over LK_MAX_LIST_TEXT; a
 * subject over LK_MAX_LINE_OCTETS (also after its fields are filled in);
 * text that is not UTF-8; extra_headers that are not CRLF-ended "Name:"
 * lines and continuations; a date before 1970 or after 9999; a message over
 * LK_MAX_MESSAGE or over out->max.
 *
 * TRUST: subject and bodies come from list owners, names from subscribers:
 * both untrusted. Everything that goes into a header is checked or encoded
 * here. Limits: core/limits.h (LK_MAX_MESSAGE and the ones above).
 */
#ifndef LK_MAIL_COMPOSE_H
#define LK_MAIL_COMPOSE_H

#include <stdint.h>

#include "crypto/token.h"

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

/* Appends the message to out. Returns 0, or -1 with the reason appended to
 * err (a limit passed, a bad address, invalid UTF-8: see above; the reason
 * never quotes the input); on -1 out is left as it was. Allocates nothing
 * but out's growth: for one message per recipient, reset and reuse one out
 * (buf_reset keeps its capacity). Thread-safe. */
int compose_message(const struct compose_in *in, struct buf *out, struct buf *err);

/* RFC 2047 helper, also for other modules: appends `text` as an
 * unstructured header value (after "Name: ", `used` octets already on the
 * line), as is when it is printable ASCII whose words fit in 78-octet lines
 * (folded at white space), else as UTF-8 "Q" or "B" encoded words (whichever
 * is shorter) folded at 76 octets. CR, LF (and NUL) in text become spaces;
 * the caller ends the line. Returns 0, or -1 when text is not UTF-8 (nothing
 * appended) or out refused an append (out->err set). */
int compose_header_text(struct buf *out, const char *text, size_t used);

/* Merge fields: appends the len bytes of tmpl with each {{field}} (spaces
 * allowed inside the braces) whose name is in names replaced by its value
 * (html: with & < > " ' escaped); an unknown field stays as it is; values
 * are not expanded again; a NULL value is "". names/values are parallel
 * arrays of n entries. Returns 0, or -1 if out refused an append. */
int compose_merge(struct buf *out, const char *tmpl, size_t len, const char *const *names,
		  const char *const *values, size_t n, int html);

/* The text footer of list mail, as plain UTF-8 lines (CRLF; footer's and
 * postal's own LF line ends are kept as they are, for an encoder to turn into
 * CRLF): "-- ", the list's footer (NULL or "": none), "Unsubscribe: URL",
 * "Preferences: URL", the postal address (NULL or "": none). The campaigns'
 * text part and the distributions' footer (mail/distrib.h) both say it so.
 * Check out->err once at the end. */
void compose_footer_text(struct buf *out, const char *footer, const char *unsubscribe_url,
			 const char *preferences_url, const char *postal);

/* A plain message from the server to one address: the reply to a command
 * message, or the confirmation request of a command. Not list mail: From,
 * To, Reply-To (when set), Subject, Date, Message-ID, Auto-Submitted:
 * auto-replied (RFC 3834 section 5), MIME-Version, then the text as
 * text/plain quoted-printable; no List-* headers, no footer, no merge
 * fields. The same checks and encodings as compose_message (addresses,
 * Message-ID, UTF-8, sizes); -1 with the reason in err, out as it was. */
struct compose_reply_in {
	const char *from_name; /* display name; NULL or "": none */
	const char *from_addr;
	const char *to_addr;
	const char *reply_to; /* NULL: none */
	const char *subject;
	const char *text;
	const char *message_id;
	int64_t date;
};
int compose_reply(const struct compose_reply_in *in, struct buf *out, struct buf *err);

#endif
