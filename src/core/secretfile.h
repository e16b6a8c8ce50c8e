/*
 * secretfile.h - reading a small file that holds a secret (the key file, a
 * DKIM key, an SMTP AUTH password).
 *
 * The file must be a regular file that neither the group nor others may
 * access (mode 0600 or stricter); it is read whole, up to cap bytes. A FIFO
 * in its place does not hang start-up (opened non-blocking, then refused as
 * not a regular file). Messages name the file, with `label` in front (e.g.
 * "[dkim] key_file"), and for a loose mode say how to fix it (chmod 600).
 */
#ifndef LK_CORE_SECRETFILE_H
#define LK_CORE_SECRETFILE_H

#include <stddef.h>

#include "core/buf.h"

/* Reads path into text[0..*len). Returns 0, or -1 with the reason appended to
 * err (err may be NULL). The caller wipes text when done. */
int secret_file_read(const char *label, const char *path, char *text, size_t cap, size_t *len,
		     struct buf *err);

#endif
