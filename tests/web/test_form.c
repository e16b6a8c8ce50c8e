/*
 * test_form.c - the form decoder, table-driven: urlencoded bodies (percent
 * and '+' decoding, duplicates, empty sequences, strict '%', UTF-8 and NUL
 * refused), multipart/form-data bodies as browsers and curl -F send them
 * (preamble, quoted names, files refused, broken delimiters), Content-Type
 * dispatch, and the bounds of core/limits.h (field count, name and value
 * length).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "web/form.h"

/* The fields of f as "name=value;" in order. */
static void dump(const struct form *f, struct buf *out)
{
	for (size_t i = 0; i < form_len(f); i++)
		buf_printf(out, "%s=%s;", form_name(f, i), form_value(f, i));
}

struct tcase {
	const char *ctype; /* NULL: no Content-Type */
	const char *body;
	size_t len; /* 0: strlen(body) */
	enum form_status want;
	const char *fields; /* on FORM_OK */
};

#define UE "application/x-www-form-urlencoded"
#define MP "multipart/form-data; boundary=XyZ"
#define MP_CURL "multipart/form-data; boundary=------------------------d74496d66958873e"

static const struct tcase cases[] = {
    /* urlencoded */
    {UE, "List-Unsubscribe=One-Click", 0, FORM_OK, "List-Unsubscribe=One-Click;"},
    {UE "; charset=UTF-8", "a=1", 0, FORM_OK, "a=1;"},
    {"Application/X-WWW-Form-URLEncoded", "a=1", 0, FORM_OK, "a=1;"},
    {UE, "", 0, FORM_OK, ""},
    {UE, "a=b+c%20d%2B", 0, FORM_OK, "a=b c d+;"},
    {UE, "a=1&a=2&b=", 0, FORM_OK, "a=1;a=2;b=;"},
    {UE, "a&b=2", 0, FORM_OK, "a=;b=2;"},
    {UE, "&&a=1&&", 0, FORM_OK, "a=1;"},
    {UE, "a=x=y", 0, FORM_OK, "a=x=y;"},
    {UE, "n%61me=%e2%82%AC", 0, FORM_OK, "name=\xe2\x82\xac;"},
    {UE, "a=%", 0, FORM_MALFORMED, NULL},
    {UE, "a=%4", 0, FORM_MALFORMED, NULL},
    {UE, "a=%zz", 0, FORM_MALFORMED, NULL},
    {UE, "=v", 0, FORM_MALFORMED, NULL},
    {UE, "a=%00", 0, FORM_MALFORMED, NULL},
    {UE, "a=%ff", 0, FORM_MALFORMED, NULL},
    {UE, "a=%c0%af", 0, FORM_MALFORMED, NULL},	  /* overlong '/' */
    {UE, "a=%ed%a0%80", 0, FORM_MALFORMED, NULL}, /* a surrogate */
    {UE, "a=b\0c", 5, FORM_MALFORMED, NULL},
    /* multipart */
    {MP,
     "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click"
     "\r\n--XyZ--\r\n",
     0, FORM_OK, "List-Unsubscribe=One-Click;"},
    {MP_CURL,
     "--------------------------d74496d66958873e\r\nContent-Disposition: form-data; "
     "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n"
     "--------------------------d74496d66958873e--\r\n",
     0, FORM_OK, "List-Unsubscribe=One-Click;"},
    {"multipart/form-data; boundary=\"XyZ\"",
     "preamble\r\n--XyZ\r\ncontent-disposition: form-data; name=a\r\n"
     "Content-Type: text/plain; charset=utf-8\r\n\r\nline 1\r\nline 2\r\n--XyZ\r\n"
     "Content-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--epilogue",
     0, FORM_OK, "a=line 1\r\nline 2;a=;"},
    {MP, "--XyZ  \r\nContent-Disposition: form-data; name=\"q\\\"x\"\r\n\r\nv\r\n--XyZ--", 0,
     FORM_OK, "q\"x=v;"},
    {MP,
     "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nv\r\n"
     "--XyZ--",
     0, FORM_UNSUPPORTED, NULL},
    {MP, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--", 0,
     FORM_MALFORMED, NULL},
    {MP, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--", 0, FORM_MALFORMED, NULL},
    {MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nv\r\n--XyZ--", 0,
     FORM_MALFORMED, NULL},
    {MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv", 0, FORM_MALFORMED, NULL},
    {MP, "--XyZ\r\n\r\nv\r\n--XyZ--", 0, FORM_MALFORMED, NULL},
    {MP, "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--", 0, FORM_MALFORMED,
     NULL},
    {MP, "no delimiter at all", 0, FORM_MALFORMED, NULL},
    {MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--", 0, FORM_MALFORMED,
     NULL},
    {MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XyZ--", 0,
     FORM_MALFORMED, NULL},
    /* found by fuzz_form: a NUL inside a quoted name */
    {MP, "--XyZ\r\nContent-Disposition: form-data; name=\"\xff\0b\"\r\n\r\nv\r\n--XyZ--", 63,
     FORM_MALFORMED, NULL},
    {"multipart/form-data", "--XyZ--", 0, FORM_MALFORMED, NULL},
    {"multipart/form-data; boundary=", "--XyZ--", 0, FORM_MALFORMED, NULL},
    /* other types */
    {NULL, "a=1", 0, FORM_UNSUPPORTED, NULL},
    {"text/plain", "a=1", 0, FORM_UNSUPPORTED, NULL},
    {"application/json", "{}", 0, FORM_UNSUPPORTED, NULL},
    {"", "a=1", 0, FORM_UNSUPPORTED, NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->body);
		/* An exact-size copy: ASan catches any read past len. */
		char *body = malloc(len ? len : 1);
		assert_non_null(body);
		memcpy(body, c->body, len);
		struct form *f = form_new();
		enum form_status st = form_parse(f, c->ctype, body, len);
		if (st != c->want)
			fail_msg("case %zu (%s): got %s, want %s", i, c->body, form_status_name(st),
				 form_status_name(c->want));
		if (c->fields != NULL) {
			struct buf out;
			buf_init(&out, 1 << 20);
			dump(f, &out);
			if (strcmp(buf_cstr(&out), c->fields) != 0)
				fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_cstr(&out),
					 c->fields);
			buf_free(&out);
		}
		form_free(f);
		free(body);
	}
}

static void test_get_count(void **state)
{
	(void)state;
	struct form *f = form_new();
	const char b[] = "all=1&csrf=x&all=2";
	assert_int_equal(form_parse_urlencoded(f, b, sizeof(b) - 1), FORM_OK);
	assert_int_equal(form_len(f), 3);
	assert_string_equal(form_get(f, "all"), "1");
	assert_int_equal(form_count(f, "all"), 2);
	assert_int_equal(form_count(f, "csrf"), 1);
	assert_null(form_get(f, "none"));
	assert_int_equal(form_count(f, "none"), 0);
	assert_null(form_name(f, 3));
	form_free(f);
	form_free(NULL);
}

static void test_bounds(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, LK_HTTP_MAX_BODY * 4);
	/* LK_HTTP_MAX_FIELDS fields pass, one more does not. */
	for (int i = 0; i < LK_HTTP_MAX_FIELDS; i++)
		buf_printf(&b, "%sf%d=v", i ? "&" : "", i);
	struct form *f = form_new();
	assert_int_equal(form_parse_urlencoded(f, b.data, b.len), FORM_OK);
	assert_int_equal(form_len(f), LK_HTTP_MAX_FIELDS);
	form_free(f);
	buf_puts(&b, "&one=more");
	f = form_new();
	assert_int_equal(form_parse_urlencoded(f, b.data, b.len), FORM_TOO_BIG);
	form_free(f);

	/* A value of LK_HTTP_MAX_FIELD_VALUE bytes passes, one more does not,
	 * also when percent-encoded. */
	for (int enc = 0; enc < 2; enc++) {
		for (size_t extra = 0; extra < 2; extra++) {
			buf_reset(&b);
			buf_puts(&b, "v=");
			for (size_t i = 0; i < LK_HTTP_MAX_FIELD_VALUE + extra; i++)
				buf_puts(&b, enc ? "%41" : "A");
			f = form_new();
			assert_int_equal(form_parse_urlencoded(f, b.data, b.len),
					 extra ? FORM_TOO_BIG : FORM_OK);
			form_free(f);
		}
	}
	/* The same for a name. */
	for (size_t extra = 0; extra < 2; extra++) {
		buf_reset(&b);
		for (size_t i = 0; i < LK_HTTP_MAX_FIELD_NAME + extra; i++)
			buf_putc(&b, 'n');
		buf_puts(&b, "=v");
		f = form_new();
		assert_int_equal(form_parse_urlencoded(f, b.data, b.len),
				 extra ? FORM_TOO_BIG : FORM_OK);
		form_free(f);
	}
	/* A multipart value past the bound, and headers past theirs. */
	buf_reset(&b);
	buf_puts(&b, "--B\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\n");
	for (size_t i = 0; i <= LK_HTTP_MAX_FIELD_VALUE; i++)
		buf_putc(&b, 'A');
	buf_puts(&b, "\r\n--B--");
	f = form_new();
	assert_int_equal(form_parse_multipart(f, "B", 1, b.data, b.len), FORM_TOO_BIG);
	form_free(f);
	buf_reset(&b);
	buf_puts(&b, "--B\r\nContent-Disposition: form-data; name=\"v\"\r\nX-Pad: ");
	for (size_t i = 0; i <= LK_HTTP_MAX_PART_HEADERS; i++)
		buf_putc(&b, 'A');
	buf_puts(&b, "\r\n\r\nv\r\n--B--");
	f = form_new();
	assert_int_equal(form_parse_multipart(f, "B", 1, b.data, b.len), FORM_TOO_BIG);
	form_free(f);
	/* A boundary longer than 70 (RFC 2046) is refused. */
	char lb[72];
	memset(lb, 'b', sizeof(lb));
	f = form_new();
	assert_int_equal(form_parse_multipart(f, lb, 71, "x", 1), FORM_MALFORMED);
	form_free(f);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_get_count),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
