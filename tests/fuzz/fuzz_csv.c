/*
 * fuzz_csv.c - libFuzzer driver for the CSV reader.
 *
 * Reads every record of the input from memory, checking what csv.h
 * promises: at most LK_MAX_CSV_FIELDS fields of at most LK_MAX_CSV_FIELD
 * bytes, no NUL, valid UTF-8, line numbers that only go up, a reason for
 * every bad record, and csv_offset at the input's length at the end. Then
 * it reads the same bytes through a FILE (fmemopen) in small chunks (1 to
 * 16 bytes for short inputs, chosen by the first byte) and demands the very
 * same results: that puts a refill at every offset of a record. Seeds: corpus/fuzz_csv/.
 *
 * It includes csv.c to set the chunk size (the library's copy is then not
 * linked in: nothing else here needs it).
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.c"

/* Appends a digest of each result to out (line, kind, fields) and checks
 * the invariants. */
static void read_all(struct csv *c, struct buf *out, size_t size)
{
	struct csv_row row;
	uint64_t last = 0;
	enum csv_result r;
	while ((r = csv_next(c, &row)) != CSV_EOF) {
		if (r != CSV_ROW && r != CSV_BAD)
			abort();
		if (row.line <= last)
			abort();
		last = row.line;
		buf_append(out, &row.line, sizeof(row.line));
		buf_putc(out, r);
		if (r == CSV_BAD) {
			if (row.nfields != 0 || csv_error(c)[0] == '\0')
				abort();
			buf_puts(out, csv_error(c));
			continue;
		}
		if (row.nfields < 1 || row.nfields > LK_MAX_CSV_FIELDS)
			abort();
		for (size_t k = 0; k < row.nfields; k++) {
			struct str f = row.fields[k];
			if (f.len > LK_MAX_CSV_FIELD || memchr(f.ptr, '\0', f.len) != NULL ||
			    !utf8_valid(f.ptr, f.len, NULL))
				abort();
			buf_append(out, &f.len, sizeof(f.len));
			buf_append(out, f.ptr, f.len);
		}
	}
	if (csv_next(c, &row) != CSV_EOF || csv_offset(c) != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	if (size)
		memcpy(text, data, size);
	struct buf a, b;
	buf_init(&a, 64u << 20);
	buf_init(&b, 64u << 20);

	struct csv *c = csv_open_mem(text, size);
	read_all(c, &a, size);
	csv_free(c);

	if (size > 0) {
		FILE *fp = fmemopen(text, size, "r");
		if (fp == NULL)
			abort();
		c = csv_open(fp);
		/* Each refill re-scans the record so far, so tiny chunks on a big
		 * input are quadratic: keep it to about 32 refills per input. */
		c->chunk = 1 + (size_t)(data[0] & 15) + size / 32;
		read_all(c, &b, size);
		csv_free(c);
		fclose(fp);
		if (a.err || b.err || a.len != b.len ||
		    (a.len && memcmp(a.data, b.data, a.len) != 0))
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	free(text);
	return 0;
}
