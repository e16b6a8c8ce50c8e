/*
 * distrib.h - a post to a discussion list as its members receive it
 * (DESIGN.md section 2, "post"; RFC 2369, RFC 2919, RFC 8058).
 *
 *   distrib_prepare   once per post: the list's changes to the post's
 *                     headers, and its body brought to a shape that takes a
 *                     footer (done once, so that it costs nothing per member)
 *   distrib_compose   once per recipient: the prepared post with the
 *                     recipient's List-Unsubscribe headers and footer
 *
 * What distrib_prepare changes (everything else is kept byte for byte, line
 * ends made CRLF): it removes the headers that are the list's to set
 * (Return-Path, List-*, Precedence, X-BeenThere), the DKIM-Signature fields
 * (the footer breaks them; the list signs anew) and Approved (it may hold a
 * moderator's password); puts "[NAME] " before the Subject unless the
 * subject already holds it (a reply: never doubled); sets Reply-To by the
 * list's reply_to (list: the list's address; poster: the From; none: left as
 * it is); adds a Message-ID when the post has none (the one given, kept for
 * threads otherwise); adds List-Id, List-Post, List-Help, List-Archive (when
 * an archive URL is given), Precedence: list and X-BeenThere. A text/plain
 * body (7bit or 8bit, US-ASCII or UTF-8) takes the footer at its end; a
 * multipart/mixed body takes it as a last part; any other body (HTML,
 * alternative, signed, base64...) is wrapped as the first part of a new
 * multipart/mixed, so that nothing of it is re-encoded.
 *
 * TRUST: the post is untrusted: at most LK_MAX_MESSAGE bytes, read as
 * (ptr, len); a header block that is not "Name: value" lines (a NUL, a line
 * without a colon, no end of headers) is refused, nothing from the post is
 * ever put into a header but its own fields, copied whole. What the list
 * adds is checked by mail/listaddr.c's builders and compose.c's encoders.
 */
#ifndef LK_MAIL_DISTRIB_H
#define LK_MAIL_DISTRIB_H

#include <stddef.h>

#include "core/buf.h"

struct nametab;

enum distrib_reply_to { DISTRIB_REPLY_NONE, DISTRIB_REPLY_LIST, DISTRIB_REPLY_POSTER };
extern const struct nametab distrib_reply_to_names;

struct distrib_list {
	const char *name, *domain; /* the list's */
	const char *title;	   /* List-Id's phrase; may be "" */
	int subject_prefix;	   /* 1: "[NAME] " */
	enum distrib_reply_to reply_to;
	const char *archive_url; /* NULL: no List-Archive */
	const char *footer;	 /* the list's footer and postal address: whether */
	const char *postal;	 /* the footer is ASCII decides how it is added */
	const char *message_id;	 /* "<x@y>" for a post that has none */
	/* DMARC mitigation (mail/dmarc.h): From becomes "NAME via TITLE"
	 * <LIST@DOMAIN>, the poster's From goes into Reply-To (or Cc when
	 * reply_to is list) and X-Original-From */
	int munge_from;
};

/* The domain of the post's From address (the text after the last '@' of
 * its first address, lower-cased) into out (cap bytes). 0, or -1 when the
 * header has no From or it names no domain. */
int distrib_from_domain(const char *msg, size_t len, char *out, size_t cap);

/* Appends the prepared post to out. 0, or -1 with the reason in err (a
 * header block it does not take, or a limit) and out as it was. */
int distrib_prepare(const struct distrib_list *dl, const char *msg, size_t len, struct buf *out,
		    struct buf *err);

struct distrib_rcpt {
	const char *unsubscribe_url;	/* https one-click */
	const char *unsubscribe_mailto; /* NAME-unsubscribe+TOKEN@DOMAIN */
	const char *preferences_url;
	const char *footer, *postal; /* the list's, as given to distrib_prepare */
};

/* Appends the message for one recipient of post (len bytes, made by
 * distrib_prepare) to out. 0, or -1 with the reason in err and out as it
 * was. Thread-safe; allocates only out's growth. */
int distrib_compose(const char *post, size_t len, const struct distrib_rcpt *r, struct buf *out,
		    struct buf *err);

#endif
