/*
 * encode.h - the encodings of outgoing mail, for compose.c and anything else
 * in mail/ that writes a message.
 *
 *   struct encode_qp   a streaming quoted-printable encoder (RFC 2045
 *                      section 6.7) that appends to a buf: LF and CRLF in
 *                      the input become CRLF line breaks, a lone CR is =0D,
 *                      '=', control and non-ASCII bytes are =XX, white space
 *                      at the end of a line is encoded, and soft line breaks
 *                      keep every line within 76 octets. The output never
 *                      holds "=_" (an '=' is always followed by two hex
 *                      digits or CRLF), so a MIME boundary that starts with
 *                      "=_" cannot occur in it.
 *   encode_header_text    unstructured header text (Subject)
 *   encode_header_phrase  a display name (From, To, List-Id)
 *
 * Header text: CR, LF and NUL become spaces first. Printable ASCII goes as it
 * is (text folded at white space into lines of at most ENCODE_LINE octets; a
 * phrase as one quoted-string) when it fits; anything else (non-ASCII,
 * control characters, "=?", a word too long to fold) goes as UTF-8 RFC 2047
 * encoded words of whole characters, "Q" unless "B" is much shorter, folded
 * so that every line holds at most 76 octets. `used` is the length of the
 * line so far ("Subject: " is 9); the caller writes the CRLF after.
 *
 * TRUST: sees untrusted bytes; reads exactly len bytes.
 */
#ifndef LK_MAIL_ENCODE_H
#define LK_MAIL_ENCODE_H

#include <stddef.h>

#include "core/buf.h"

#define ENCODE_LINE 78 /* RFC 5322 section 2.1.1: a header line SHOULD be no longer */
#define ENCODE_QP_CHUNK 4096

/* The fields are private; the struct is here so that the encoder (and its
 * chunk) can live on the caller's stack. The chunk is flushed only at a line
 * start, so the current line is always in it (a trailing space can be taken
 * back) and one line always fits. */
struct encode_qp {
	struct buf *out;
	size_t pos; /* octets in c */
	size_t col; /* octets on the current output line */
	int cr;	    /* the last input byte was a CR: CRLF or =0D decides the next */
	int bol;    /* nothing yet, or the last thing was a hard line break */
	char c[ENCODE_QP_CHUNK];
};

void encode_qp_init(struct encode_qp *q, struct buf *out);
/* Encodes n bytes; input may be cut anywhere (a CRLF across two calls is
 * one line break). */
void encode_qp_write(struct encode_qp *q, const char *p, size_t n);
/* 1 if nothing was written yet or the last input was a line break. */
int encode_qp_bol(const struct encode_qp *q);
/* Ends the text (what follows is a CRLF: a boundary or the end) and appends
 * what is left to out. Check out->err once at the end. */
void encode_qp_end(struct encode_qp *q);

/* Append text (len bytes) as described above. Return 0, or -1 when it is not
 * UTF-8 (nothing appended) or out refused an append (out->err set). */
int encode_header_text(struct buf *out, const char *t, size_t len, size_t used);
int encode_header_phrase(struct buf *out, const char *t, size_t len, size_t used);

#endif
