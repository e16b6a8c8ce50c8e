/*
 * test_compose.c - compose_message, compose_header_text and compose_merge
 * (the list's addresses and their tokens: test_listaddr.c).
 *
 * Golden files: compose/NAME.in describes a compose_in as one JSON object
 * (a field left out takes its value from base_in below; a string may also be
 * {"repeat": "ab", "times": 1000} or an array of such pieces, concatenated;
 * "expect" lists strings that the decoded text or HTML part must or must not
 * contain). compose/NAME.ref is the exact message. After a deliberate
 * change, regenerate the .ref files and review the diff:
 *     LISTKEEPER_REGEN=1 ctest -R test_compose
 *
 * Every composed message, golden or generated, is also parsed with GMime,
 * as a receiving mail client would: the header fields are exactly the ones
 * expected (no injected Bcc), the one-click headers are exact, the decoded
 * subject and recipient name are the input with CR/LF turned into spaces
 * (and the white space around them dropped),
 * the decoded text part starts with the merged text and carries the
 * unsubscribe URL, the pixel is where consent and the list allow it and
 * nowhere else, and no line passes 998 octets (76 in the bodies, and none
 * of those ends in white space).
 *
 * Runs in tests/mail (CMakeLists.txt sets the working directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <gmime/gmime.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/address.h"
#include "mail/compose.h"

#define NOW INT64_C(1700000000)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static const struct compose_in base_in = {
    .list_name = "news",
    .list_domain = "lists.example.org",
    .list_title = "Example News",
    .list_footer = "You get this because you subscribed to Example News.",
    .postal_address = "Example Org, 1 Main Street, Springfield",
    .from_addr = "news@lists.example.org",
    .announce = 1,
    .archive_url = NULL,
    .subject = "Hello {{name}}",
    .text = "Dear {{name}},\n\nthis month's news.\n",
    .html = NULL,
    .message_id = "<20240301.1.42@lists.example.org>",
    .date = 1709294400, /* Fri, 01 Mar 2024 12:00:00 +0000 */
    .rcpt_addr = "alice@example.net",
    .rcpt_name = "Alice",
    .rcpt_html = 0,
    .rcpt_tracking = 0,
    .list_tracking = 0,
    .unsubscribe_url = "https://lists.example.org/u/AAAAtokenUNSUB",
    .unsubscribe_mailto = "news-unsubscribe+AAAAtokenUNSUB@lists.example.org",
    .preferences_url = "https://lists.example.org/p/AAAAtokenPREFS",
    .help_url = NULL,
    .pixel_url = NULL,
    .extra_headers = NULL,
};

static const char *const field_names[] = {"name",	"email",	   "list",
					  "list_title", "unsubscribe_url", "preferences_url"};

static char *merged(const struct compose_in *in, const char *tmpl, int html)
{
	const char *values[] = {
	    in->rcpt_name != NULL ? in->rcpt_name : "",	  in->rcpt_addr,       in->list_name,
	    in->list_title != NULL ? in->list_title : "", in->unsubscribe_url, in->preferences_url};
	struct buf b;
	buf_init(&b, LK_MAX_MESSAGE);
	assert_int_equal(compose_merge(&b, tmpl, strlen(tmpl), field_names, values, 6, html), 0);
	return buf_steal(&b, NULL);
}

/* CR and LF become spaces, as compose promises for header text. */
static char *spaced(const char *z)
{
	char *s = strdup(z);
	for (char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return s;
}

/* A display name as a reader shows it: CR/LF as spaces, trimmed. */
static char *display(const char *z)
{
	char *s = spaced(z), *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(s, p, strlen(p) + 1);
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* LF alone becomes CRLF (QP bodies carry CRLF line breaks). */
static char *crlf(const char *z)
{
	size_t n = strlen(z);
	char *s = malloc(2 * n + 1), *d = s;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		if (z[i] == '\n' && (i == 0 || z[i - 1] != '\r'))
			*d++ = '\r';
		*d++ = z[i];
	}
	*d = '\0';
	return s;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 64u << 20);
	char tmp[8192];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(buf_append(&b, tmp, n), 0);
	fclose(f);
	return buf_steal(&b, len);
}

static size_t count(const char *hay, size_t len, const char *needle)
{
	size_t c = 0, nl = strlen(needle);
	const char *p = hay, *e = hay + len;
	while ((p = memmem(p, (size_t)(e - p), needle, nl)) != NULL) {
		c++;
		p += nl;
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* The message as a mail client sees it (GMime)                         */

struct expect {
	const char *text_has[8], *text_lacks[8], *html_has[8], *html_lacks[8];
};

static char *decode_part(GMimeObject *o)
{
	assert_true(GMIME_IS_PART(o));
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
	assert_non_null(w);
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, ms);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	char *s = strndup((const char *)ba->data, ba->len);
	g_object_unref(ms);
	return s;
}

static int is_type(GMimeObject *o, const char *type, const char *sub)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(o), type, sub);
}

/* Raw checks: CRLF only, no NUL, lines <= 998; header lines <= 78 unless
 * they hold a URL; body lines <= 76; the header has exactly nhdr fields. */
static void check_lines(const char *m, size_t len, size_t nhdr)
{
	size_t start = 0, fields = 0;
	int in_header = 1;
	for (size_t i = 0; i < len; i++) {
		assert_true(m[i] != '\0');
		if (m[i] == '\r')
			assert_true(i + 1 < len && m[i + 1] == '\n');
		if (m[i] != '\n')
			continue;
		assert_true(i > 0 && m[i - 1] == '\r');
		size_t n = i - 1 - start;
		assert_true(n <= LK_MAX_LINE_OCTETS);
		if (in_header) {
			if (n == 0) {
				in_header = 0;
			} else {
				if (m[start] != ' ' && m[start] != '\t')
					fields++;
				/* only a long URI may make a longer line */
				if (memmem(m + start, n, "<http", 5) == NULL &&
				    memmem(m + start, n, "<mailto:", 8) == NULL)
					assert_true(n <= 78);
			}
		} else {
			assert_true(n <= 76);
			/* QP: no white space at the end of a line (RFC 2045 6.7 (3)) */
			assert_true(n == 0 || (m[i - 2] != ' ' && m[i - 2] != '\t'));
		}
		start = i + 1;
	}
	assert_int_equal(start, len); /* ends with CRLF */
	assert_int_equal(fields, nhdr);
}

static void check_message(const char *m, size_t len, const struct compose_in *in,
			  const struct expect *ex)
{
	int multi = in->rcpt_html && in->html != NULL;
	int pixel = multi && in->rcpt_tracking && in->list_tracking && in->pixel_url != NULL;

	/* the header fields, in order */
	const char *want[32];
	char *extra = in->extra_headers != NULL ? strdup(in->extra_headers) : NULL;
	size_t nw = 0;
	const char *always[] = {"From",
				"To",
				"Subject",
				"Date",
				"Message-ID",
				"MIME-Version",
				"List-Id",
				"List-Unsubscribe",
				"List-Unsubscribe-Post",
				"List-Help"};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		want[nw++] = always[i];
	if (!in->announce)
		want[nw++] = "List-Post";
	if (in->archive_url != NULL)
		want[nw++] = "List-Archive";
	if (in->announce)
		want[nw++] = "Precedence";
	for (char *p = extra; p != NULL && *p;) {
		char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		if (*p != ' ' && *p != '\t') {
			*strchr(p, ':') = '\0';
			want[nw++] = p;
		}
		p = eol + 2;
	}
	check_lines(m, len, nw + (multi ? 1 : 2));

	GMimeStream *s = g_mime_stream_mem_new_with_buffer(m, len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
	assert_non_null(msg);
	g_object_unref(p);
	g_object_unref(s);

	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	assert_int_equal(g_mime_header_list_get_count(hl), nw);
	for (size_t i = 0; i < nw; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, (int)i);
		if (strcmp(g_mime_header_get_name(h), want[i]) != 0)
			fail_msg("header %zu: %s, expected %s", i, g_mime_header_get_name(h),
				 want[i]);
	}

	/* GMime keeps the Content-* fields with the top MIME part */
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	hl = g_mime_object_get_header_list(top);
	assert_int_equal(g_mime_header_list_get_count(hl), multi ? 1 : 2);
	assert_string_equal(g_mime_header_get_name(g_mime_header_list_get_header_at(hl, 0)),
			    "Content-Type");
	if (!multi)
		assert_string_equal(g_mime_object_get_header(top, "Content-Transfer-Encoding"),
				    "quoted-printable");

	/* the one-click headers, exactly (RFC 8058) */
	char lu[2048];
	snprintf(lu, sizeof(lu), "<%s>, <mailto:%s>", in->unsubscribe_url, in->unsubscribe_mailto);
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(msg), "List-Unsubscribe"), lu);
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(msg), "List-Unsubscribe-Post"),
			    "List-Unsubscribe=One-Click");
	char lid[512];
	snprintf(lid, sizeof(lid), "<%s.%s>", in->list_name, in->list_domain);
	assert_non_null(strstr(g_mime_object_get_header(GMIME_OBJECT(msg), "List-Id"), lid));

	/* subject and recipient, decoded */
	char *subj = merged(in, in->subject, 0), *ssubj = display(subj);
	if (strcmp(g_mime_message_get_subject(msg), ssubj) != 0)
		fprintf(stderr, "%.*s\n", (int)(strstr(m, "\r\n\r\n") - m), m);
	assert_string_equal(g_mime_message_get_subject(msg), ssubj);
	free(subj);
	free(ssubj);
	InternetAddressList *to = g_mime_message_get_to(msg);
	assert_int_equal(internet_address_list_length(to), 1);
	InternetAddress *ia = internet_address_list_get_address(to, 0);
	assert_true(INTERNET_ADDRESS_IS_MAILBOX(ia));
	assert_string_equal(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)),
			    in->rcpt_addr);
	char *sn = display(in->rcpt_name != NULL ? in->rcpt_name : "");
	if (*sn)
		assert_string_equal(internet_address_get_name(ia), sn);
	else
		assert_true(internet_address_get_name(ia) == NULL ||
			    *internet_address_get_name(ia) == '\0');
	free(sn);
	assert_int_equal(internet_address_list_length(g_mime_message_get_bcc(msg)), 0);
	assert_int_equal(internet_address_list_length(g_mime_message_get_cc(msg)), 0);

	/* the parts */
	GMimeObject *tp = top, *hp = NULL;
	if (multi) {
		assert_true(GMIME_IS_MULTIPART(top));
		assert_true(is_type(top, "multipart", "alternative"));
		assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);
		tp = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
		hp = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
		assert_true(is_type(hp, "text", "html"));
		const char *b = g_mime_multipart_get_boundary(GMIME_MULTIPART(top));
		assert_int_equal(count(m, len, b), 4); /* Content-Type and three delimiters */
	}
	assert_true(is_type(tp, "text", "plain"));

	char *text = decode_part(tp), *want_text = merged(in, in->text, 0),
	     *want_crlf = crlf(want_text);
	assert_memory_equal(text, want_crlf, strlen(want_crlf));
	assert_non_null(strstr(text, in->unsubscribe_url));
	assert_non_null(strstr(text, in->preferences_url));
	if (in->postal_address != NULL)
		assert_non_null(strstr(text, in->postal_address));
	if (in->pixel_url != NULL)
		assert_null(strstr(text, in->pixel_url)); /* never in text mail */
	for (int i = 0; i < 8 && ex->text_has[i]; i++)
		if (strstr(text, ex->text_has[i]) == NULL)
			fail_msg("text part lacks '%s'", ex->text_has[i]);
	for (int i = 0; i < 8 && ex->text_lacks[i]; i++)
		if (strstr(text, ex->text_lacks[i]) != NULL)
			fail_msg("text part has '%s'", ex->text_lacks[i]);
	free(text);
	free(want_text);
	free(want_crlf);

	if (hp != NULL) {
		char *html = decode_part(hp);
		/* the merged HTML, the footer before its last </body> */
		char *mh = merged(in, in->html, 1);
		size_t cut = strlen(mh);
		for (size_t k = cut; k >= 6; k--)
			if (strncasecmp(mh + k - 6, "</body", 6) == 0) {
				cut = k - 6;
				break;
			}
		char *suffix = crlf(mh + cut);
		mh[cut] = '\0';
		char *prefix = crlf(mh);
		size_t dl = strlen(html), sl = strlen(suffix);
		assert_memory_equal(html, prefix, strlen(prefix));
		assert_true(dl >= sl);
		assert_memory_equal(html + dl - sl, suffix, sl);
		free(mh);
		free(prefix);
		free(suffix);
		assert_non_null(strstr(html, "Unsubscribe</a>"));
		assert_non_null(strstr(html, "Preferences</a>"));
		if (pixel)
			assert_int_equal(count(html, strlen(html), in->pixel_url), 1);
		else if (in->pixel_url != NULL)
			assert_null(strstr(html, in->pixel_url));
		for (int i = 0; i < 8 && ex->html_has[i]; i++)
			if (strstr(html, ex->html_has[i]) == NULL)
				fail_msg("HTML part lacks '%s'", ex->html_has[i]);
		for (int i = 0; i < 8 && ex->html_lacks[i]; i++)
			if (strstr(html, ex->html_lacks[i]) != NULL)
				fail_msg("HTML part has '%s'", ex->html_lacks[i]);
		free(html);
	}
	g_object_unref(msg);
	free(extra);
}

/* ------------------------------------------------------------------ */
/* Golden files                                                        */

#define STR_FIELD(f)                                                                               \
	{                                                                                          \
#f, offsetof(struct compose_in, f), 0                                              \
	}
#define INT_FIELD(f)                                                                               \
	{                                                                                          \
#f, offsetof(struct compose_in, f), 1                                              \
	}
#define I64_FIELD(f)                                                                               \
	{                                                                                          \
#f, offsetof(struct compose_in, f), 2                                              \
	}

static const struct {
	const char *key;
	size_t off;
	int kind;
} in_fields[] = {
    STR_FIELD(list_name),
    STR_FIELD(list_domain),
    STR_FIELD(list_title),
    STR_FIELD(list_footer),
    STR_FIELD(postal_address),
    STR_FIELD(from_addr),
    INT_FIELD(announce),
    STR_FIELD(archive_url),
    STR_FIELD(subject),
    STR_FIELD(text),
    STR_FIELD(html),
    STR_FIELD(message_id),
    I64_FIELD(date),
    STR_FIELD(rcpt_addr),
    STR_FIELD(rcpt_name),
    INT_FIELD(rcpt_html),
    INT_FIELD(rcpt_tracking),
    INT_FIELD(list_tracking),
    STR_FIELD(unsubscribe_url),
    STR_FIELD(unsubscribe_mailto),
    STR_FIELD(preferences_url),
    STR_FIELD(help_url),
    STR_FIELD(pixel_url),
    STR_FIELD(extra_headers),
};

/* A string, {"repeat": S, "times": N}, or an array of those. */
static void json_text(json_t *v, struct buf *b)
{
	if (json_is_string(v)) {
		buf_append(b, json_string_value(v), json_string_length(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) json_text(e, b);
	} else {
		json_t *r = json_object_get(v, "repeat"), *t = json_object_get(v, "times");
		assert_true(json_is_string(r) && json_is_integer(t));
		for (json_int_t i = 0; i < json_integer_value(t); i++)
			buf_puts(b, json_string_value(r));
	}
}

struct golden {
	struct compose_in in;
	struct expect ex;
	char *owned[32];
	size_t nowned;
	json_t *root;
};

static void expect_list(json_t *a, const char **dst)
{
	size_t i;
	json_t *e;
	assert_true(json_array_size(a) <= 8);
	json_array_foreach(a, i, e) dst[i] = json_string_value(e);
}

static void golden_load(struct golden *g, const char *path)
{
	memset(g, 0, sizeof(*g));
	g->in = base_in;
	json_error_t je;
	g->root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (g->root == NULL)
		fail_msg("%s:%d: %s", path, je.line, je.text);
	const char *key;
	json_t *v;
	json_object_foreach(g->root, key, v)
	{
		if (strcmp(key, "expect") == 0) {
			expect_list(json_object_get(v, "text_has"), g->ex.text_has);
			expect_list(json_object_get(v, "text_lacks"), g->ex.text_lacks);
			expect_list(json_object_get(v, "html_has"), g->ex.html_has);
			expect_list(json_object_get(v, "html_lacks"), g->ex.html_lacks);
			continue;
		}
		size_t i = 0, n = sizeof(in_fields) / sizeof(in_fields[0]);
		while (i < n && strcmp(in_fields[i].key, key) != 0)
			i++;
		if (i == n)
			fail_msg("%s: unknown key '%s'", path, key);
		char *at = (char *)&g->in + in_fields[i].off;
		if (in_fields[i].kind == 1) {
			*(int *)at =
			    json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
		} else if (in_fields[i].kind == 2) {
			*(int64_t *)at = json_integer_value(v);
		} else if (json_is_null(v)) {
			*(const char **)at = NULL;
		} else {
			struct buf b;
			buf_init(&b, LK_MAX_MESSAGE);
			json_text(v, &b);
			assert_true(g->nowned < 32);
			*(const char **)at = g->owned[g->nowned++] = buf_steal(&b, NULL);
		}
	}
}

static void golden_free(struct golden *g)
{
	for (size_t i = 0; i < g->nowned; i++)
		free(g->owned[i]);
	json_decref(g->root);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_in(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 3 && strcmp(d->d_name + n - 3, ".in") == 0;
}

static void test_golden(void **state)
{
	(void)state;
	const char *regen = getenv("LISTKEEPER_REGEN");
	struct dirent **ents;
	int n = scandir("compose", &ents, is_in, by_name);
	assert_true(n >= 8);
	struct buf out, err;
	buf_init(&out, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	for (int i = 0; i < n; i++) {
		char path[512], ref[512];
		snprintf(path, sizeof(path), "compose/%s", ents[i]->d_name);
		snprintf(ref, sizeof(ref), "compose/%.*s.ref", (int)strlen(ents[i]->d_name) - 3,
			 ents[i]->d_name);
		struct golden g;
		golden_load(&g, path);
		buf_reset(&out);
		if (compose_message(&g.in, &out, &err) != 0)
			fail_msg("%s: %s", path, buf_cstr(&err));
		int regen_now = regen != NULL && strcmp(regen, "1") == 0;
		if (!regen_now)
			check_message(out.data, out.len, &g.in, &g.ex);
		if (regen_now) {
			FILE *f = fopen(ref, "wb");
			assert_non_null(f);
			assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
			assert_int_equal(fclose(f), 0);
			printf("regenerated %s\n", ref);
			check_message(out.data, out.len, &g.in, &g.ex);
		} else {
			size_t rl;
			char *want = read_file(ref, &rl);
			if (want == NULL)
				fail_msg("%s missing: run with LISTKEEPER_REGEN=1", ref);
			if (rl != out.len || memcmp(want, out.data, rl) != 0) {
				size_t k = 0;
				while (k < rl && k < out.len && want[k] == out.data[k])
					k++;
				fail_msg("%s differs from the composed message at octet %zu", ref,
					 k);
			}
			free(want);
		}
		golden_free(&g);
		free(ents[i]);
	}
	free(ents);
	buf_free(&out);
	buf_free(&err);
}

/* ------------------------------------------------------------------ */
/* Generated bodies: what the QP encoder writes decodes to the input.   */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static char *random_text(size_t max)
{
	static const char *const pieces[] = {" ",
					     "  ",
					     "\t",
					     "\n",
					     "\r\n",
					     "\r",
					     "=",
					     ".",
					     "-- ",
					     "From ",
					     "a",
					     "xyz",
					     "ü",
					     "€",
					     "😀",
					     "{{name}}",
					     "{{email}}",
					     "{{",
					     "}}",
					     "=_",
					     "\r\n.\r\n",
					     "0123456789012345678901234567890123456789",
					     "<b>&amp;</b>",
					     "</BODY>"};
	struct buf b;
	buf_init(&b, 1u << 20);
	size_t n = rnd((unsigned)max);
	while (b.len < n)
		buf_puts(&b, pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
	return buf_steal(&b, NULL);
}

static void test_generated(void **state)
{
	(void)state;
	struct buf out, err;
	buf_init(&out, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	struct expect ex = {0};
	for (int i = 0; i < 400; i++) {
		struct compose_in in = base_in;
		char *text = random_text(i < 200 ? 300 : 6000), *html = random_text(3000);
		char *name = random_text(60), *subject = random_text(200);
		in.text = text;
		in.html = html;
		in.rcpt_name = name;
		in.subject = subject;
		in.rcpt_html = rnd(2);
		in.rcpt_tracking = rnd(2);
		in.list_tracking = rnd(2);
		in.pixel_url = rnd(2) ? "https://lists.example.org/o/PIXEL" : NULL;
		in.announce = rnd(2);
		buf_reset(&out);
		if (compose_message(&in, &out, &err) != 0)
			fail_msg("case %d: %s", i, buf_cstr(&err));
		check_message(out.data, out.len, &in, &ex);
		free(text);
		free(html);
		free(name);
		free(subject);
	}
	buf_free(&out);
	buf_free(&err);
}

/* ------------------------------------------------------------------ */
/* compose_header_text                                                 */

static const struct {
	const char *in;
	const char *out; /* the exact value after "Subject: ", or NULL */
} hdr_cases[] = {
    {"Hello", "Hello"},
    {"", ""},
    {"Grüße aus München", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?="},
    {"Hi\r\nBcc: victim@example.org", "Hi  Bcc: victim@example.org"},
    {"=?UTF-8?B?SGk=?=", "=?UTF-8?Q?=3D=3FUTF-8=3FB=3FSGk=3D=3F=3D?="},
    {"日本語のニュースレター", "=?UTF-8?B?5pel5pys6Kqe44Gu44OL44Ol44O844K544Os44K/44O8?="},
    {"tab\there", "tab\there"},
    {"bell\a", "=?UTF-8?Q?bell=07?="},
    {"a fairly long subject line that has to be folded somewhere because it is longer than "
     "seventy-eight octets",
     "a fairly long subject line that has to be folded somewhere because it\r\n"
     " is longer than seventy-eight octets"},
    {"Zoë\r\nBcc: victim@example.org", "=?UTF-8?Q?Zo=C3=AB__Bcc=3A_victim=40example=2Eorg?="},
    {"https://example.org/a/very/long/url/without/any/white/space/that/cannot/be/folded/at/all",
     NULL},
    {"Ünïcödé everywhere, and rather long too, so that it needs more than one encoded word to "
     "carry it",
     NULL},
    {"    ", "    "},
    {"end  ", "end  "},
};

static void test_header_text(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "Subject: ");
		assert_int_equal(compose_header_text(&b, hdr_cases[i].in, 9), 0);
		const char *v = buf_cstr(&b) + 9;
		if (hdr_cases[i].out != NULL && strcmp(v, hdr_cases[i].out) != 0)
			fail_msg("case %zu: got '%s'", i, v);
		/* no line too long, no bare CR or LF, every fold followed by WSP */
		size_t start = 0;
		for (size_t k = 0; k < b.len; k++) {
			if (b.data[k] == '\r') {
				assert_true(b.data[k + 1] == '\n' &&
					    (b.data[k + 2] == ' ' || b.data[k + 2] == '\t'));
				assert_true(k - start <= (strstr(v, "=?") ? 76 : 78));
				start = k + 2;
			}
			assert_true(b.data[k] != '\n' || b.data[k - 1] == '\r');
		}
		assert_true(b.len - start <= 78);
		/* decodes to the input with CR/LF as spaces */
		char *unf = strdup(v), *d = unf;
		for (const char *p = v; *p; p++)
			if (*p != '\r' && *p != '\n')
				*d++ = *p;
		*d = '\0';
		char *dec = g_mime_utils_header_decode_text(NULL, unf),
		     *want = spaced(hdr_cases[i].in);
		if (strcmp(dec, want) != 0 && *want != ' ')
			fail_msg("case %zu decodes to '%s'", i, dec);
		g_free(dec);
		free(want);
		free(unf);
	}
	/* not UTF-8: refused, nothing appended */
	buf_reset(&b);
	assert_int_equal(compose_header_text(&b, "bad \xff byte", 0), -1);
	assert_int_equal(b.len, 0);
	/* a full line already: the encoded word starts on a folded line */
	buf_reset(&b);
	assert_int_equal(compose_header_text(&b, "é", 74), 0);
	assert_string_equal(buf_cstr(&b), "\r\n =?UTF-8?Q?=C3=A9?=");
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* compose_merge                                                       */

static void test_merge(void **state)
{
	(void)state;
	const char *names[] = {"name", "email", "url"};
	const char *values[] = {"<b>Bob & \"Al\"</b>", "b@x.org", NULL};
	static const struct {
		const char *in, *text, *html;
	} cases[] = {
	    {"Hi {{name}}!", "Hi <b>Bob & \"Al\"</b>!",
	     "Hi &lt;b&gt;Bob &amp; &quot;Al&quot;&lt;/b&gt;!"},
	    {"{{ email }}", "b@x.org", "b@x.org"},
	    {"{{unknown}} {{name", "{{unknown}} {{name", "{{unknown}} {{name"},
	    {"{{{email}}}", "{b@x.org}", "{b@x.org}"},
	    {"[{{url}}]", "[]", "[]"},
	    {"{{}} {{ }} {", "{{}} {{ }} {", "{{}} {{ }} {"},
	    {"{{Name}}", "{{Name}}", "{{Name}}"},
	    {"", "", ""},
	    {"'", "'", "'"},
	};
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int html = 0; html < 2; html++) {
			buf_reset(&b);
			assert_int_equal(compose_merge(&b, cases[i].in, strlen(cases[i].in), names,
						       values, 3, html),
					 0);
			assert_string_equal(buf_cstr(&b), html ? cases[i].html : cases[i].text);
		}
	}
	/* a value is not expanded again */
	const char *v2[] = {"{{email}}", "b@x.org", ""};
	buf_reset(&b);
	assert_int_equal(compose_merge(&b, "{{name}}", 8, names, v2, 3, 0), 0);
	assert_string_equal(buf_cstr(&b), "{{email}}");
	/* exactly len bytes are read */
	buf_reset(&b);
	assert_int_equal(compose_merge(&b, "{{name}}", 7, names, values, 3, 0), 0);
	assert_string_equal(buf_cstr(&b), "{{name}");
	/* a full buffer: -1 */
	struct buf small;
	buf_init(&small, 4);
	assert_int_equal(compose_merge(&small, "{{email}}", 9, names, values, 3, 0), -1);
	buf_free(&small);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *field, *value, *why;
	} cases[] = {
	    {"rcpt_addr", "alice@example.net\r\nBcc: victim@example.org", "recipient address"},
	    {"rcpt_addr", "alice@example.net>, <victim@example.org", "recipient address"},
	    {"rcpt_addr", "alice smith@example.net", "recipient address"},
	    {"rcpt_addr", "", "recipient address"},
	    {"rcpt_addr", "no-at-sign", "recipient address"},
	    {"from_addr", "news@lists.example.org\n", "from address"},
	    {"from_addr", "<news@lists.example.org>", "from address"},
	    {"unsubscribe_mailto", "x@y.org\rBcc: z@y.org", "mailto"},
	    {"message_id", "<a@b>\r\nBcc: z@y.org", "Message-ID"},
	    {"message_id", "no-brackets@b", "Message-ID"},
	    {"unsubscribe_url", "https://x.org/u/a b", "URL"},
	    {"unsubscribe_url", "javascript:alert(1)", "URL"},
	    {"preferences_url", "https://x.org/\r\nBcc: z@y.org", "URL"},
	    {"pixel_url", "https://x.org/\"onerror=\"x", "URL"},
	    {"subject", "bad \xc3 UTF-8", "subject is not UTF-8"},
	    {"rcpt_name", "Bad \xff", "recipient name is not UTF-8"},
	    {"list_title", "Bad \xc0\xaf", "list title is not UTF-8"},
	    {"text", "Bad \xed\xa0\x80", "body is not UTF-8"},
	    {"list_name", "news\r\nBcc", "list name"},
	    {"list_domain", "lists.example.org>", "list domain"},
	    {"extra_headers", "X-A: 1\n", "extra header"},
	    {"extra_headers", "X-A: 1\r\n\r\nbody\r\n", "extra header"},
	    {"extra_headers", " continued\r\n", "extra header"},
	    {"extra_headers", "no colon\r\n", "extra header"},
	};
	struct buf out, err;
	buf_init(&out, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compose_in in = base_in;
		for (size_t k = 0; k < sizeof(in_fields) / sizeof(in_fields[0]); k++)
			if (strcmp(in_fields[k].key, cases[i].field) == 0)
				*(const char **)((char *)&in + in_fields[k].off) = cases[i].value;
		buf_reset(&out);
		buf_puts(&out, "kept");
		buf_reset(&err);
		if (compose_message(&in, &out, &err) != -1)
			fail_msg("case %zu (%s) was accepted", i, cases[i].field);
		assert_string_equal(buf_cstr(&out), "kept");
		assert_int_equal(out.err, 0);
		if (strstr(buf_cstr(&err), cases[i].why) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, buf_cstr(&err),
				 cases[i].why);
		assert_null(strchr(buf_cstr(&err), '@')); /* never quotes an address */
	}

	/* a missing field; a date out of range */
	struct compose_in in = base_in;
	in.text = NULL;
	assert_int_equal(compose_message(&in, &out, &err), -1);
	in = base_in;
	in.date = -1;
	assert_int_equal(compose_message(&in, &out, &err), -1);

	/* over LK_MAX_MESSAGE */
	char *big = malloc(LK_MAX_MESSAGE + 2);
	assert_non_null(big);
	memset(big, 'a', LK_MAX_MESSAGE + 1);
	big[LK_MAX_MESSAGE + 1] = '\0';
	in = base_in;
	in.text = big;
	buf_reset(&err);
	assert_int_equal(compose_message(&in, &out, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "LK_MAX_MESSAGE"));
	/* under the bound as input, over it once encoded ('=' -> "=3D") */
	memset(big, '=', LK_MAX_MESSAGE / 2);
	big[LK_MAX_MESSAGE / 2] = '\0';
	buf_reset(&out);
	buf_reset(&err);
	assert_int_equal(compose_message(&in, &out, &err), -1);
	assert_int_equal(out.len, 0);
	free(big);

	/* a subject that its fields make too long */
	char subj[LK_MAX_LINE_OCTETS + 1];
	memset(subj, 'x', LK_MAX_LINE_OCTETS - 8);
	memcpy(subj + LK_MAX_LINE_OCTETS - 8, "{{name}}", 9);
	in = base_in;
	in.subject = subj;
	in.rcpt_name = "Alice Longname-Smith";
	buf_reset(&err);
	assert_int_equal(compose_message(&in, &out, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "subject"));

	/* an output buffer too small: out as it was, err flag as it was */
	struct buf small;
	buf_init(&small, 600);
	assert_int_equal(compose_message(&base_in, &small, &err), -1);
	assert_int_equal(small.len, 0);
	assert_int_equal(small.err, 0);
	buf_free(&small);
	buf_free(&out);
	buf_free(&err);
}

/* Two recipients of one campaign: one buffer, reused; messages differ only
 * where they should, and the boundary follows the Message-ID. */
static void test_reuse(void **state)
{
	(void)state;
	struct buf out, err;
	buf_init(&out, LK_MAX_MESSAGE);
	buf_init(&err, 1024);
	struct compose_in in = base_in;
	in.html = "<p>Hi {{name}}</p>";
	in.rcpt_html = 1;
	assert_int_equal(compose_message(&in, &out, &err), 0);
	char *first = strdup(buf_cstr(&out));
	size_t cap = out.cap;
	buf_reset(&out);
	assert_int_equal(compose_message(&in, &out, &err), 0);
	assert_string_equal(buf_cstr(&out), first);
	assert_int_equal(out.cap, cap);
	in.message_id = "<20240301.1.43@lists.example.org>";
	buf_reset(&out);
	assert_int_equal(compose_message(&in, &out, &err), 0);
	assert_string_not_equal(buf_cstr(&out), first);
	free(first);
	buf_free(&out);
	buf_free(&err);
}

int main(void)
{
	g_mime_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_text), cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_refused),	cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_golden),	cmocka_unit_test(test_generated),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return r;
}
