/*
 * html.h - the one HTML escaper: text made safe for element content and
 * quoted attribute values, for the page templates (core/tmpl.c) and the
 * HTML part of mails (mail/compose.c).
 *
 *   html_escape      to a sink (a function taking bytes), e.g. an encoder
 *   html_escape_buf  appended to a buf
 *
 * & < > " ' become character references; NUL becomes U+FFFD (&#xFFFD;), so
 * that no NUL reaches a page or a mail. With HTML_BR a line break (LF, or
 * CR LF) becomes "<br>" and CR LF, for text shown as lines (a footer, a
 * postal address); a CR alone stays as it is.
 *
 * TRUST: p is untrusted; exactly len bytes are read, a NUL among them is
 * data.
 */
#ifndef LK_CORE_HTML_H
#define LK_CORE_HTML_H

#include <stddef.h>

#include "core/buf.h"

#define HTML_BR 1u /* line breaks become <br> */

typedef void html_sink(void *ctx, const char *p, size_t n);

/* Writes the escaped form of p[0..len) to put, in runs. */
void html_escape(html_sink *put, void *ctx, const char *p, size_t len, unsigned flags);
/* Appends it to out. Returns 0, or -1 when out->max was passed (out->err is
 * set; out then holds a part). */
int html_escape_buf(struct buf *out, const char *p, size_t len, unsigned flags);

#endif
