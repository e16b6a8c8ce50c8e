/*
 * test_csv.c - the streaming CSV reader.
 *
 * Table cases (input -> the rows and bad rows it yields, each with its
 * line) cover quoting, "" escapes, commas and line breaks in quotes, a BOM,
 * CRLF, empty lines, stray and unterminated quotes with the rows after them,
 * NUL bytes, bad UTF-8, bare CR and a missing final newline. Every case is
 * read from memory, and from a tmpfile with the normal chunk size and with
 * chunks of 1, 2, 3 and 7 bytes, so that every record also crosses a refill
 * boundary at every offset. Generated cases cover the limits (field,
 * record, field count, 10 MB lines with and without an open quote), a
 * random differential run (memory against FILE at several chunk sizes), a
 * read error, and 200,000 rows through a pipe that must come out before the
 * writer has finished, which shows the reader streams.
 *
 * The test includes csv.c to reach the chunk size and the buffer sizes
 * (STYLE.md section 8). Runs in tests/core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/csv.c"

/* Renders one result as "LINE:f1|f2" or "LINE!reason"; in fields, LF, CR,
 * '|' and '\' are shown escaped. */
static void render(struct buf *b, enum csv_result r, const struct csv_row *row, const struct csv *c)
{
	if (r == CSV_BAD) {
		buf_printf(b, "%llu!%s", (unsigned long long)row->line, csv_error(c));
		return;
	}
	buf_printf(b, "%llu:", (unsigned long long)row->line);
	for (size_t k = 0; k < row->nfields; k++) {
		if (k > 0)
			buf_putc(b, '|');
		for (size_t i = 0; i < row->fields[k].len; i++) {
			char ch = row->fields[k].ptr[i];
			if (ch == '\n')
				buf_puts(b, "\\n");
			else if (ch == '\r')
				buf_puts(b, "\\r");
			else if (ch == '|' || ch == '\\')
				buf_printf(b, "\\%c", ch);
			else
				buf_putc(b, ch);
		}
	}
}

/* Reads everything; results joined by '\n' into out. Checks the invariants
 * every reader must keep on the way. */
static void read_all(struct csv *c, struct buf *out, size_t input_len)
{
	uint64_t last_line = 0, last_off = 0;
	struct csv_row row;
	for (;;) {
		enum csv_result r = csv_next(c, &row);
		assert_true(r == CSV_ROW || r == CSV_BAD || r == CSV_EOF);
		if (r == CSV_EOF)
			break;
		assert_true(row.line >= 1);
		assert_true(row.line > last_line);
		last_line = row.line;
		assert_true(csv_offset(c) >= last_off);
		last_off = csv_offset(c);
		if (r == CSV_ROW) {
			assert_true(row.nfields >= 1 && row.nfields <= LK_MAX_CSV_FIELDS);
			for (size_t k = 0; k < row.nfields; k++) {
				assert_true(row.fields[k].len <= LK_MAX_CSV_FIELD);
				assert_null(memchr(row.fields[k].ptr, '\0', row.fields[k].len));
				assert_true(utf8_valid(row.fields[k].ptr, row.fields[k].len, NULL));
			}
		} else {
			assert_int_equal(row.nfields, 0);
			assert_true(csv_error(c)[0] != '\0');
		}
		if (out != NULL) {
			if (out->len)
				buf_putc(out, '\n');
			render(out, r, &row, c);
		}
	}
	assert_int_equal(csv_next(c, &row), CSV_EOF); /* and it stays at EOF */
	assert_int_equal(csv_offset(c), input_len);
}

static FILE *file_with(const char *p, size_t len)
{
	FILE *fp = tmpfile();
	assert_non_null(fp);
	if (len)
		assert_int_equal(fwrite(p, 1, len, fp), len);
	rewind(fp);
	return fp;
}

/* chunk 0: read from memory; otherwise from a tmpfile in chunks of that size. */
static void read_with(const char *p, size_t len, size_t chunk, struct buf *out)
{
	if (chunk == 0) {
		struct csv *c = csv_open_mem(p, len);
		read_all(c, out, len);
		csv_free(c);
		return;
	}
	FILE *fp = file_with(p, len);
	struct csv *c = csv_open(fp);
	c->chunk = chunk;
	read_all(c, out, len);
	csv_free(c);
	fclose(fp);
}

static const size_t chunks[] = {0, CSV_CHUNK, 1, 2, 3, 7};

#define MAXWANT 12
struct tcase {
	const char *in;
	size_t len;		   /* 0: strlen(in) */
	const char *want[MAXWANT]; /* "LINE:fields" exactly; "LINE!reason" by substring */
};

static const struct tcase cases[] = {
    {"", 0, {NULL}},
    {"\n\r\n\n", 0, {NULL}},
    {"a,b,c\n1,2,3\n", 0, {"1:a|b|c", "2:1|2|3"}},
    {"a,b\n1,2", 0, {"1:a|b", "2:1|2"}},
    {"a,b\r\n1,2\r\n", 0, {"1:a|b", "2:1|2"}},
    {"a,b\r\n1,2", 0, {"1:a|b", "2:1|2"}},
    {"x", 0, {"1:x"}},
    {",,\n\"\",\n,\"\"", 0, {"1:||", "2:|", "3:|"}},
    {" \n", 0, {"1: "}},
    /* BOM: skipped at the start only */
    {"\xef\xbb\xbf"
     "email,name\r\nx@example.org,X\r\n",
     0,
     {"1:email|name", "2:x@example.org|X"}},
    {"\xef\xbb\xbf", 0, {NULL}},
    {"\xef\xbb\xbf\r\n\xef\xbb\xbf"
     "a\n",
     0,
     {"2:\xef\xbb\xbf"
      "a"}},
    {"\xef\xbb", 0, {"1!not valid UTF-8"}},
    /* empty lines are skipped but counted */
    {"\n\r\na\n\n\r\nb\n\n", 0, {"3:a", "6:b"}},
    /* quoting */
    {"\"a,b\",\"c\nd\",\"e\"\"f\"\nnext,row\n", 0, {"1:a,b|c\\nd|e\"f", "3:next|row"}},
    {"\"a\r\nb\",c\r\nx\r\n", 0, {"1:a\\r\\nb|c", "3:x"}},
    {"\"a\n\n\n\nb\",c\nd\n", 0, {"1:a\\n\\n\\n\\nb|c", "6:d"}},
    {"\"\"\"\"\n\"\"\"\"\"\"\n", 0, {"1:\"", "2:\"\""}},
    {"\"a\"", 0, {"1:a"}},
    {"\"a\"\"\"", 0, {"1:a\""}},
    {"\"a\"\r\n", 0, {"1:a"}},
    {"\"a\",\"\"\n", 0, {"1:a|"}},
    {"a|b\\c\n", 0, {"1:a\\|b\\\\c"}},
    /* a stray quote costs one row */
    {"a,b\nbro\"ken,x\nc,d\n", 0, {"1:a|b", "2!quote inside an unquoted field", "3:c|d"}},
    {"a, \"b\"\nc\n", 0, {"1!quote inside an unquoted field", "2:c"}},
    {"\"a\"b,c\nd\n", 0, {"1!text after a closing quote", "2:d"}},
    {"\"a\" ,c\nd\n", 0, {"1!text after a closing quote", "2:d"}},
    {"a\n\"open,x\nb,c\nd\n", 0, {"1:a", "2!unterminated quoted field", "3:b|c", "4:d"}},
    {"a\n\"open,x\nb,c\nd", 0, {"1:a", "2!unterminated quoted field", "3:b|c", "4:d"}},
    {"\"open", 0, {"1!unterminated quoted field"}},
    {"x,\"open\r\ngood,1\r\n\"q\",2\r\n", 0, {"1!text after a closing quote", "2:good|1", "3:q|2"}},
    {"\"x\ny\",a\"b\nz\n", 0, {"1!quote inside", "2!quote inside", "3:z"}},
    /* other errors leave quoting intact: resume after the record */
    {"\"x\ny\",\xff\nz\n", 0, {"1!field 2 is not valid UTF-8", "3:z"}},
    {"a,b\0c\nd\n", 8, {"1!NUL byte in field 2", "2:d"}},
    {"\"a\0\"\nd\n", 7, {"1!NUL byte in field 1", "2:d"}},
    {"\0", 1, {"1!NUL byte"}},
    {"ok\n\xff\xfe,x\nb\n", 0, {"1:ok", "2!field 1 is not valid UTF-8", "3:b"}},
    {"\xc0\xaf\n\xed\xa0\x80\n\xf4\x90\x80\x80\n\xe2\x82\n",
     0,
     {"1!not valid UTF-8", "2!not valid UTF-8", "3!not valid UTF-8", "4!not valid UTF-8"}},
    {"J\xc3\xb6rg,M\xc3\xbcller,\xe6\x97\xa5\xe6\x9c\xac,\xf0\x9f\x92\xa9\n",
     0,
     {"1:J\xc3\xb6rg|M\xc3\xbcller|\xe6\x97\xa5\xe6\x9c\xac|\xf0\x9f\x92\xa9"}},
    {"a\rb\nc\n", 0, {"1!carriage return without line feed in field 1", "2:c"}},
    {"a\r", 0, {"1!carriage return without line feed"}},
    {"\r", 0, {"1!carriage return without line feed"}},
    {"\"a\"\r", 0, {"1!carriage return without line feed"}},
    {"\"a\"\rb\nc\n", 0, {"1!text after a closing quote", "2:c"}},
    {"a\r\r\nb\n", 0, {"1!carriage return", "2:b"}},
    /* tests/cli/import.sh, line for line */
    {"\xef\xbb\xbf"
     "email,name,country,format\r\n"
     "good1@example.org,Good One,DE,html\r\n"
     "not-an-address,Bad Address,,\r\n"
     "\r\n"
     "\"good2@example.org\",\"Two, with comma\",,text\r\n"
     "broken\"quote@example.org,Broken,,\r\n"
     "good3@example.org,\"Multi\nLine\",,\n"
     "good7@example.org,Seven,,\n"
     "\"unterminated@example.org,Open quote,,\n"
     "good8@example.org,No newline at end,,",
     0,
     {"1:email|name|country|format", "2:good1@example.org|Good One|DE|html",
      "3:not-an-address|Bad Address||", "5:good2@example.org|Two, with comma||text",
      "6!quote inside an unquoted field", "7:good3@example.org|Multi\\nLine||",
      "9:good7@example.org|Seven||", "10!unterminated quoted field",
      "11:good8@example.org|No newline at end||"}},
};

static void check_case(const struct tcase *t, size_t chunk)
{
	size_t len = t->len ? t->len : strlen(t->in);
	struct buf got, want;
	buf_init(&got, 1u << 20);
	buf_init(&want, 1u << 20);
	read_with(t->in, len, chunk, &got);
	/* Compare line by line: rows exactly, bad rows by line and reason. */
	const char *g = buf_cstr(&got);
	size_t n = 0;
	for (; n < MAXWANT && t->want[n] != NULL; n++) {
		const char *w = t->want[n];
		const char *end = strchr(g, '\n');
		size_t glen = end ? (size_t)(end - g) : strlen(g);
		const char *bang = strchr(w, '!');
		int ok;
		if (bang != NULL && (size_t)(bang - w) < glen &&
		    strspn(w, "0123456789") == (size_t)(bang - w)) {
			size_t pre = (size_t)(bang - w) + 1;
			char *gz = strndup(g, glen);
			ok = strncmp(g, w, pre) == 0 && strstr(gz + pre, bang + 1) != NULL;
			free(gz);
		} else {
			ok = glen == strlen(w) && strncmp(g, w, glen) == 0;
		}
		if (!ok)
			fail_msg(
			    "input \"%.60s\" (chunk %zu): result %zu is \"%.*s\", want \"%s\"\n"
			    "all results:\n%s",
			    t->in, chunk, n + 1, (int)glen, g, w, buf_cstr(&got));
		g = end ? end + 1 : g + glen;
	}
	if (*g != '\0' || (n == 0 && got.len != 0))
		fail_msg("input \"%.60s\" (chunk %zu): unexpected results:\n%s", t->in, chunk,
			 buf_cstr(&got));
	buf_free(&got);
	buf_free(&want);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++)
			check_case(&cases[i], chunks[k]);
}

/* Runs a long input from memory and through FILEs at chunk sizes that put
 * the refills at many offsets; all must give `want` exactly. (Tiny chunks
 * would make this quadratic: each refill re-scans the record so far.) */
static void expect_all(const char *p, size_t len, const char *want)
{
	static const size_t big[] = {0, CSV_CHUNK, 997, 4093, 16389};
	for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
		struct buf got;
		buf_init(&got, 1u << 20);
		read_with(p, len, big[k], &got);
		if (strcmp(buf_cstr(&got), want) != 0)
			fail_msg("chunk %zu: got\n%.300s\nwant\n%.300s", big[k], buf_cstr(&got),
				 want);
		buf_free(&got);
	}
}

static void test_field_limit(void **state)
{
	(void)state;
	struct buf in, want;
	buf_init(&in, 1u << 20);
	buf_init(&want, 1u << 20);
	char *f = malloc(LK_MAX_CSV_FIELD + 2);
	memset(f, 'x', LK_MAX_CSV_FIELD + 1);
	f[LK_MAX_CSV_FIELD + 1] = '\0';
	/* exactly LK_MAX_CSV_FIELD, unquoted and quoted: fine */
	buf_printf(&in, "a,%.*s\r\n\"%.*s\"\n", LK_MAX_CSV_FIELD, f, LK_MAX_CSV_FIELD, f);
	buf_printf(&want, "1:a|%.*s\n2:%.*s\n", LK_MAX_CSV_FIELD, f, LK_MAX_CSV_FIELD, f);
	/* one more: reported with its line, the next row is fine */
	buf_printf(&in, "a,%s\nb,1\n\"%s\"\r\nc,2\n", f, f);
	buf_printf(&want,
		   "3!field 2 is longer than %d bytes\n4:b|1\n"
		   "5!field 1 is longer than %d bytes\n6:c|2\n",
		   LK_MAX_CSV_FIELD, LK_MAX_CSV_FIELD);
	/* "" counts as one byte of the field */
	buf_putc(&in, '"');
	for (int i = 0; i <= LK_MAX_CSV_FIELD / 2; i++)
		buf_puts(&in, "\"\"\"\"");
	buf_puts(&in, "\"\n");
	buf_printf(&want, "7!field 1 is longer than %d bytes\n", LK_MAX_CSV_FIELD);
	buf_putc(&in, '"');
	for (int i = 0; i < LK_MAX_CSV_FIELD; i++)
		buf_puts(&in, "\"\"");
	buf_puts(&in, "\",\"a\nb\"\nend");
	buf_printf(&want, "8:");
	for (int i = 0; i < LK_MAX_CSV_FIELD; i++)
		buf_putc(&want, '"');
	buf_puts(&want, "|a\\nb\n10:end");
	expect_all(in.data, in.len, buf_cstr(&want));
	free(f);
	buf_free(&in);
	buf_free(&want);
}

static void test_record_limit(void **state)
{
	(void)state;
	struct buf in, want;
	buf_init(&in, 1u << 20);
	buf_init(&want, 1u << 20);
	char *f = malloc(LK_MAX_CSV_FIELD + 1);
	memset(f, 'y', LK_MAX_CSV_FIELD);
	f[LK_MAX_CSV_FIELD] = '\0';
	/* 3 * 4096 + 4093 + 3 commas = exactly LK_MAX_CSV_RECORD bytes: fine */
	buf_printf(&in, "%s,%s,%s,%.4093s\r\n", f, f, f, f);
	buf_printf(&want, "1:%s|%s|%s|%.4093s\n", f, f, f, f);
	/* one byte more, with LF and with CRLF */
	buf_printf(&in, "%s,%s,%s,%.4094s\nok,1\n", f, f, f, f);
	buf_printf(&want, "2!record longer than %d bytes\n3:ok|1\n", LK_MAX_CSV_RECORD);
	buf_printf(&in, "%s,%s,%s,%.4094s\r\nok,2\n", f, f, f, f);
	buf_printf(&want, "4!record longer than %d bytes\n5:ok|2\n", LK_MAX_CSV_RECORD);
	/* far more, in a quoted multi-line record: the lines inside count */
	buf_printf(&in, "\"%s\n\",%s,%s,%s,%s,%s\nok,3\n", f, f, f, f, f, f);
	buf_printf(&want, "6!record longer than %d bytes\n8:ok|3\n", LK_MAX_CSV_RECORD);
	/* a quoted field still open past the record limit: a stray quote */
	buf_printf(&in, "\"%s\n%s\n%s\n%s\n%s\nok,4\n", f, f, f, f, f);
	buf_printf(&want,
		   "9!quoted field not closed within the record limit (a stray "
		   "quote?)\n10:%s\n11:%s\n12:%s\n13:%s\n14:ok|4\n",
		   f, f, f, f);
	/* 64 fields fine, 65 not */
	for (int i = 1; i < LK_MAX_CSV_FIELDS; i++)
		buf_printf(&in, "%d,", i);
	buf_puts(&in, "64\n");
	buf_puts(&want, "15:");
	for (int i = 1; i < LK_MAX_CSV_FIELDS; i++)
		buf_printf(&want, "%d|", i);
	buf_puts(&want, "64\n");
	for (int i = 1; i <= LK_MAX_CSV_FIELDS; i++)
		buf_printf(&in, "%d,", i);
	buf_puts(&in, "65\nlast");
	buf_printf(&want, "16!more than %d fields\n17:last", LK_MAX_CSV_FIELDS);
	expect_all(in.data, in.len, buf_cstr(&want));
	free(f);
	buf_free(&in);
	buf_free(&want);
}

/* A 10 MB line, bare and inside an open quote, through a FILE: skipped in
 * chunks, with the reader's memory fixed at open. */
static void test_huge_lines(void **state)
{
	(void)state;
	size_t big = 10u << 20;
	char *p = malloc(big + 64);
	memset(p, 'z', big);
	size_t n = big;
	n += (size_t)bsnprintf(p + n, 64, "\nok,1\n");
	const char *want = "1!record longer than 16384 bytes\n2:ok|1";
	for (int quoted = 0; quoted < 2; quoted++) {
		p[0] = quoted ? '"' : 'z';
		FILE *fp = file_with(p, n);
		struct csv *c = csv_open(fp);
		struct buf got;
		buf_init(&got, 1024);
		read_all(c, &got, n);
		if (quoted)
			assert_string_equal(buf_cstr(&got),
					    "1!quoted field not closed within the record limit (a "
					    "stray quote?)\n2:ok|1");
		else
			assert_string_equal(buf_cstr(&got), want);
		buf_free(&got);
		csv_free(c);
		fclose(fp);
	}
	free(p);
	/* the memory the reader holds, whatever the input */
	assert_true(sizeof(struct csv) + CSV_BUFSZ < 128u * 1024);
}

/* A cheap reproducible PRNG (xorshift64). */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random input over the bytes that matter; memory and FILE at several chunk
 * sizes must agree to the byte. */
static void test_differential(void **state)
{
	(void)state;
	static const char *atoms[] = {
	    "a",   "bc",   "def",      "ghij",	   "x y",  ",",	      ",",    ",",	 "\n",
	    "\n",  "\r\n", "\"",       "\"\"",	   "\r",   "é",	      "\xff", "\0",	 "\"q\"",
	    "\"q", "q\"",  "\"a\nb\"", "\xef\xbb", "\xbf", "\"\",\"", "é\n",  "r,s,t\n", "u,v\r\n"};
	for (int round = 0; round < 60; round++) {
		struct buf in;
		buf_init(&in, 1u << 20);
		if (round % 4 == 0)
			buf_puts(&in, "\xef\xbb\xbf");
		size_t target =
		    round % 2 ? 500 + (size_t)(rnd() % 3000) : 1000 + (size_t)(rnd() % 60000);
		while (in.len < target) {
			size_t a = (size_t)(rnd() % (sizeof(atoms) / sizeof(atoms[0])));
			size_t alen = atoms[a][0] == '\0' ? 1 : strlen(atoms[a]);
			/* now and then a long run, to reach the limits */
			if (round % 2 == 0 && rnd() % 500 == 0) {
				size_t run = (size_t)(rnd() % 20000);
				for (size_t i = 0; i < run; i++)
					buf_putc(&in, 'q');
			}
			buf_append(&in, atoms[a], alen);
		}
		struct buf ref;
		buf_init(&ref, 8u << 20);
		read_with(in.data, in.len, 0, &ref);
		static const size_t fc[] = {CSV_CHUNK, 4093, 16389, 64, 5, 1};
		/* the small chunks only on small inputs: see expect_all */
		size_t nfc = in.len < 4000 ? 6 : 4;
		for (size_t k = 0; k < nfc; k++) {
			struct buf got;
			buf_init(&got, 8u << 20);
			read_with(in.data, in.len, fc[k], &got);
			if (got.len != ref.len || memcmp(got.data, ref.data, ref.len) != 0)
				fail_msg("round %d chunk %zu: FILE and memory differ", round,
					 fc[k]);
			buf_free(&got);
		}
		buf_free(&ref);
		buf_free(&in);
	}
}

static void test_read_error(void **state)
{
	(void)state;
	FILE *fp = fopen("/dev/null", "w"); /* reading it fails with EBADF */
	assert_non_null(fp);
	struct csv *c = csv_open(fp);
	struct csv_row row;
	assert_int_equal(csv_next(c, &row), CSV_IOERR);
	assert_int_equal(errno, EBADF);
	csv_free(c);
	fclose(fp);
	csv_free(NULL);
}

#define PIPE_ROWS 200000

/* The writer stops halfway until the reader has seen row PIPE_ROWS / 4: a
 * reader that waited for the whole input would get only half of it. */
static void pipe_writer(int out, int go)
{
	FILE *fp = fdopen(out, "w");
	if (fp == NULL)
		_exit(2);
	for (int i = 1; i <= PIPE_ROWS; i++) {
		if (i == PIPE_ROWS / 2 + 1) {
			fflush(fp);
			struct pollfd pfd = {.fd = go, .events = POLLIN};
			if (poll(&pfd, 1, 20000) != 1)
				break;
		}
		if (i % 3 == 0)
			fprintf(fp, "\"person%d@example.org\",\"Person, %d\"\r\n", i, i);
		else
			fprintf(fp, "person%d@example.org,Person %d\n", i, i);
	}
	fclose(fp);
	_exit(0);
}

static void test_pipe_streaming(void **state)
{
	(void)state;
	int data[2], go[2];
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(data[0]);
		close(go[1]);
		pipe_writer(data[1], go[0]);
	}
	close(data[1]);
	close(go[0]);
	FILE *fp = fdopen(data[0], "r");
	assert_non_null(fp);
	struct csv *c = csv_open(fp);
	struct csv_row row;
	int n = 0;
	char want[64];
	enum csv_result r;
	while ((r = csv_next(c, &row)) == CSV_ROW) {
		n++;
		assert_int_equal(row.line, (uint64_t)n);
		assert_int_equal(row.nfields, 2);
		int wl = bsnprintf(want, sizeof(want), "person%d@example.org", n);
		assert_int_equal(row.fields[0].len, (size_t)wl);
		assert_memory_equal(row.fields[0].ptr, want, (size_t)wl);
		wl = bsnprintf(want, sizeof(want), n % 3 == 0 ? "Person, %d" : "Person %d", n);
		assert_int_equal(row.fields[1].len, (size_t)wl);
		assert_memory_equal(row.fields[1].ptr, want, (size_t)wl);
		if (n == PIPE_ROWS / 4)
			assert_int_equal(write(go[1], "g", 1), 1);
	}
	assert_int_equal(r, CSV_EOF);
	assert_int_equal(n, PIPE_ROWS);
	csv_free(c);
	fclose(fp);
	close(go[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int ok;
		size_t bad;
	} t[] = {
	    {"", 1, 0},
	    {"plain ascii, long enough for the fast path", 1, 0},
	    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9\xf4\x8f\xbf\xbf\xed\x9f\xbf", 1, 0},
	    {"abcdefgh\x80", 0, 8},
	    {"\xc1\xbf", 0, 0},
	    {"\xe0\x9f\xbf", 0, 0},
	    {"ab\xed\xa0\x80", 0, 2},
	    {"\xf0\x8f\xbf\xbf", 0, 0},
	    {"\xf4\x90\x80\x80", 0, 0},
	    {"\xf5\x80\x80\x80", 0, 0},
	    {"x\xe2\x82", 0, 1},
	    {"\xe2\x28\xa1", 0, 0},
	    {"\xff", 0, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t bad = 99;
		assert_int_equal(utf8_valid(t[i].s, strlen(t[i].s), &bad), t[i].ok);
		if (!t[i].ok)
			assert_int_equal(bad, t[i].bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),	   cmocka_unit_test(test_field_limit),
	    cmocka_unit_test(test_record_limit),   cmocka_unit_test(test_huge_lines),
	    cmocka_unit_test(test_differential),   cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_pipe_streaming), cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
