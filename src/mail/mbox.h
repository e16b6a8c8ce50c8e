/*
 * mbox.h - the mbox format, both directions (`listkeeper archive import`
 * and `export`; the month downloads of the web archive).
 *
 *   mbox_reader_init / mbox_next   split an mbox into messages
 *   mbox_write                     append one message in mboxrd form
 *
 * Reading: a message starts at a line beginning with "From " that is the
 * first line of the file or follows an empty line (mboxo and mboxrd, as
 * Mailman 2's pipermail and HyperKitty write them; a "From " line inside a
 * body that follows text is body). The "From " line itself is dropped, the
 * empty line before the next one too, and one '>' is taken off every line
 * that is '>'* followed by "From " (mboxrd; mboxo quotes only "From ").
 * CRLF files are read as they are (the line ends are kept).
 *
 * Writing (mboxrd): "From - DATE" (asctime form, UTC), the message with each
 * line '>'*"From " given one more '>', a final line end, an empty line.
 *
 * TRUST: the mbox is untrusted: the reader reads exactly len bytes, keeps a
 * message only up to out->max (then reports it too large and skips it), and
 * never relies on a trailing NUL.
 */
#ifndef LK_MAIL_MBOX_H
#define LK_MAIL_MBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct mbox_reader {
	const char *p;
	size_t len;
	size_t off;  /* where the next "From " line starts */
	size_t line; /* its line number, from 1 */
};

void mbox_reader_init(struct mbox_reader *r, const char *p, size_t len);

enum mbox_result {
	MBOX_END,     /* no more messages */
	MBOX_MESSAGE, /* out holds the next message */
	MBOX_TOO_BIG, /* the next message did not fit in out->max: skipped */
	MBOX_JUNK     /* bytes before the first "From " line: skipped */
};
/* The next message into out (reset first), unquoted; *line is the line
 * number of its "From " line (or of the junk). */
enum mbox_result mbox_next(struct mbox_reader *r, struct buf *out, size_t *line);

/* Appends msg (len bytes) to out as one mboxrd message dated date. Returns
 * 0, or -1 when out->max was reached (out->err set). */
int mbox_write(struct buf *out, int64_t date, const char *msg, size_t len);

#endif
