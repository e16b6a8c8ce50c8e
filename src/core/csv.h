/*
 * csv.h - a streaming RFC 4180 CSV reader for imports.
 *
 * Reads one record at a time from a FILE (or memory) with bounded memory:
 * never more than LK_MAX_CSV_RECORD bytes of a record are held, whatever the
 * size of the file. Accepted: a UTF-8 BOM at the start (skipped), CRLF or LF
 * line ends, quoted fields with "" escapes, commas and line breaks inside
 * quotes. Empty lines are skipped silently.
 *
 * A bad record is reported and skipped, and reading goes on with the next:
 *   - a quote inside an unquoted field, or text after a closing quote;
 *   - a quoted field still open at end of file or past LK_MAX_CSV_RECORD:
 *     reported at the line where the record began; reading resumes at the
 *     line after that one, so one stray quote costs one row, not the file;
 *   - a field longer than LK_MAX_CSV_FIELD, a record longer than
 *     LK_MAX_CSV_RECORD or with more than LK_MAX_CSV_FIELDS fields: skipped
 *     up to the end of that record;
 *   - a NUL byte, or bytes that are not valid UTF-8.
 *
 * TRUST: the file is untrusted. Fields are views into the reader's own
 * buffer and stay valid only until the next csv_next call.
 */
#ifndef LK_CORE_CSV_H
#define LK_CORE_CSV_H

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/limits.h"

struct csv;

struct csv_row {
	size_t nfields;
	struct str fields[LK_MAX_CSV_FIELDS];
	uint64_t line; /* the 1-based line where the record begins */
};

enum csv_result {
	CSV_ROW = 1,	/* row filled */
	CSV_EOF = 0,	/* no more records */
	CSV_BAD = -1,	/* a bad record was skipped; csv_error() says why, row->line where */
	CSV_IOERR = -2, /* read error (errno set); stop */
};

/* Reads from fp (not closed by csv_free). */
struct csv *csv_open(FILE *fp);
/* Reads from len bytes at p (not copied: p must outlive the reader). */
struct csv *csv_open_mem(const char *p, size_t len);
enum csv_result csv_next(struct csv *c, struct csv_row *row);
/* The reason for the last CSV_BAD, e.g. "unterminated quoted field". */
const char *csv_error(const struct csv *c);
/* Bytes consumed so far (for a progress display). */
uint64_t csv_offset(const struct csv *c);
void csv_free(struct csv *c);

#endif
