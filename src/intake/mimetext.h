/*
 * mimetext.h - reading received mail with GMime: parse a message from
 * memory, find its first text/plain part, and get a part's content decoded
 * (transfer encoding undone, charset converted to UTF-8 where GMime can).
 * Shared by bounce.c and command.c.
 *
 * Ownership: mimetext_parse returns a GMimeMessage the caller releases with
 * g_object_unref; the GMimeObject pointers returned by the other functions
 * are borrowed from that message.
 *
 * TRUST: sees untrusted mail. The size is checked against LK_MAX_MESSAGE
 * before anything is parsed; the walk over parts is bounded by
 * LK_MAX_MIME_DEPTH and LK_MAX_MIME_PARTS.
 */
#ifndef LK_INTAKE_MIMETEXT_H
#define LK_INTAKE_MIMETEXT_H

#include <gmime/gmime.h>
#include <stddef.h>

#include "core/buf.h"

/* Calls g_mime_init once per process (thread-safe). */
void mimetext_init(void);

/* Parses len bytes (CRLF or LF lines) as one message. NULL if len is over
 * LK_MAX_MESSAGE or GMime finds no message at all. */
GMimeMessage *mimetext_parse(const char *p, size_t len);

/* The first text/plain leaf in a depth-first walk of msg, not looking into
 * attached messages (message/rfc822); a message without a Content-Type is
 * text/plain. NULL if there is none. */
GMimeObject *mimetext_first_plain(GMimeMessage *msg);

/* The same walk for the first text/html leaf (a notice written in HTML only). */
GMimeObject *mimetext_first_html(GMimeMessage *msg);

/* 1 if obj's Content-Type is type/subtype (ASCII case-insensitive). */
int mimetext_is(GMimeObject *obj, const char *type, const char *subtype);

/* Appends the content of a leaf part to out with its transfer encoding
 * undone; when to_utf8 is set and the part names a charset that iconv
 * knows, converted from it to UTF-8 (otherwise the bytes stay as they are:
 * callers check UTF-8 themselves). Appends only what fits under out->max
 * and returns 1 when it had to cut, 0 when all fitted, -1 if obj is not a
 * leaf part. */
int mimetext_content(GMimeObject *obj, int to_utf8, struct buf *out);

/* HTML to text, roughly, appended to out (up to out->max): tags become line
 * breaks (<p>, <br>, <b...) or nothing, entities a space. For reading
 * words (bounce phrases, an archived post shown as text); the result is
 * text, to be escaped like any other. */
void mimetext_html_text(struct str h, struct buf *out);

#endif
