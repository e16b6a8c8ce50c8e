/*
 * fuzz_compose.c - libFuzzer driver for mail/compose.c (and the encoders of
 * mail/encode.c under it).
 *
 * The first input byte chooses what the rest feeds:
 *   0  compose_header_text (the second byte is the column already used):
 *      refused exactly when the text is not UTF-8; otherwise no NUL, no bare
 *      CR or LF (every CRLF is a fold followed by white space), no line over
 *      78 octets unless the column given already was, and GMime decodes the
 *      value back to the text with CR/LF as spaces;
 *   1  compose_merge, text and HTML: the rest is "template\0value\0value...";
 *      in HTML mode the values add no '<', '>', '"' or '\'' of their own;
 *   2  compose_message with the pieces as subject, name, title, text and
 *      HTML: a valid message (CRLF lines of at most 998 octets) whose header
 *      has exactly the fields expected, whatever the pieces hold.
 * Seeds: corpus/fuzz_compose/.
 *
 * TRUST: the whole input is untrusted; pieces are copied to exact-size heap
 * blocks so that ASan catches any read past them.
 */
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "mail/compose.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_mime_init();
	return 0;
}

static int wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Without the white space around it (readers drop it). */
static char *trimmed(const char *z)
{
	size_t n = strlen(z);
	while (n && wsp(z[n - 1]))
		n--;
	while (n && wsp(*z))
		z++, n--;
	char *s = strndup(z, n);
	if (s == NULL)
		abort();
	for (char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return s;
}

static void header_text(const char *text, size_t used)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < used; i++)
		buf_putc(&b, 'x');
	int r = compose_header_text(&b, text, used);
	if (r != (utf8_valid(text, strlen(text), NULL) ? 0 : -1))
		abort();
	if (r < 0) {
		if (b.len != used)
			abort();
		buf_free(&b);
		return;
	}
	const char *v = buf_cstr(&b);
	size_t start = 0;
	for (size_t i = 0; i < b.len; i++) {
		if (v[i] == '\0')
			abort();
		if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r'))
			abort();
		if (v[i] != '\r')
			continue;
		if (v[i + 1] != '\n' || (v[i + 2] != ' ' && v[i + 2] != '\t'))
			abort();
		if (i - start > 78 && !(start == 0 && i == used))
			abort();
		start = i + 2;
	}
	if (b.len - start > 78 && !(start == 0 && b.len == used))
		abort();
	/* decodes to the text */
	char *unf = malloc(b.len + 1), *d = unf;
	if (unf == NULL)
		abort();
	for (size_t i = used; i < b.len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			*d++ = v[i];
	*d = '\0';
	char *dec = g_mime_utils_header_decode_text(NULL, unf);
	char *a = trimmed(dec), *w = trimmed(text);
	if (strcmp(a, w) != 0)
		abort();
	free(a);
	free(w);
	g_free(dec);
	free(unf);
	buf_free(&b);
}

static size_t count_of(const char *p, size_t n, const char *set)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] != '\0' && strchr(set, p[i]) != NULL;
	return c;
}

static void merge(const char *p, size_t n)
{
	static const char *const names[] = {"name", "email", "list", "x"};
	const char *values[4] = {NULL, NULL, NULL, NULL};
	size_t tl = strnlen(p, n), at = tl + 1;
	for (int k = 0; k < 4 && at < n; k++) {
		values[k] = p + at;
		at += strnlen(p + at, n - at) + 1;
	}
	if (at > n) /* the last value is not NUL-terminated: leave it out */
		for (int k = 3; k >= 0; k--)
			if (values[k] != NULL) {
				values[k] = NULL;
				break;
			}
	for (int html = 0; html < 2; html++) {
		struct buf out;
		buf_init(&out, 1 << 22);
		if (compose_merge(&out, p, tl, names, values, 4, html) != 0)
			abort();
		if (html && count_of(out.data, out.len, "<>\"'") > count_of(p, tl, "<>\"'"))
			abort();
		buf_free(&out);
	}
}

static void message(char **piece)
{
	struct compose_in in = {
	    .list_name = "news",
	    .list_domain = "lists.example.org",
	    .list_title = piece[2],
	    .list_footer = "footer",
	    .postal_address = "1 Main Street",
	    .from_addr = "news@lists.example.org",
	    .announce = 1,
	    .subject = piece[0],
	    .text = piece[3],
	    .html = piece[4],
	    .message_id = "<1@lists.example.org>",
	    .date = 1709294400,
	    .rcpt_addr = "alice@example.net",
	    .rcpt_name = piece[1],
	    .rcpt_html = 1,
	    .rcpt_tracking = 1,
	    .list_tracking = 1,
	    .unsubscribe_url = "https://lists.example.org/u/T",
	    .unsubscribe_mailto = "news-unsubscribe+T@lists.example.org",
	    .preferences_url = "https://lists.example.org/p/T",
	    .pixel_url = "https://lists.example.org/o/T",
	};
	struct buf out, err;
	buf_init(&out, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	if (compose_message(&in, &out, &err) == 0) {
		const char *m = out.data;
		size_t start = 0, fields = 0;
		int header = 1;
		for (size_t i = 0; i < out.len; i++) {
			if (m[i] == '\0' || (m[i] == '\r' && m[i + 1] != '\n'))
				abort();
			if (m[i] != '\n')
				continue;
			if (i == 0 || m[i - 1] != '\r' || i - 1 - start > LK_MAX_LINE_OCTETS)
				abort();
			if (header && i - 1 == start)
				header = 0;
			else if (header && m[start] != ' ' && m[start] != '\t')
				fields++;
			start = i + 1;
		}
		/* From To Subject Date Message-ID MIME-Version List-Id
		 * List-Unsubscribe List-Unsubscribe-Post List-Help Precedence
		 * Content-Type */
		if (start != out.len || fields != 12)
			abort();
	} else if (err.len == 0) {
		abort();
	}
	buf_free(&out);
	buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > (1u << 16))
		return 0;
	size_t n = size - 2;
	char *p = malloc(n + 1);
	if (p == NULL)
		abort();
	memcpy(p, data + 2, n);
	p[n] = '\0';
	switch (data[0] % 3) {
	case 0:
		header_text(p, data[1] % 90);
		break;
	case 1: {
		/* exact-size copy: no NUL after the last byte */
		char *q = malloc(n ? n : 1);
		if (q == NULL)
			abort();
		memcpy(q, data + 2, n);
		merge(q, n);
		free(q);
		break;
	}
	default: {
		char *piece[5];
		size_t at = 0;
		for (int k = 0; k < 5; k++) {
			size_t l = at < n ? strlen(p + at) : 0;
			piece[k] = strndup(at < n ? p + at : "", l);
			if (piece[k] == NULL)
				abort();
			at += l + 1;
		}
		message(piece);
		for (int k = 0; k < 5; k++)
			free(piece[k]);
		break;
	}
	}
	free(p);
	return 0;
}
