/*
 * test_address.c - address_parse and mailbox_parse, table-driven: valid
 * addresses with their normalised forms (addr, key, local, domain, display),
 * IDN domains, quoted local parts and name-addr forms; refused input with
 * the words the message must contain (missing '@', over-long parts, CR/LF
 * injection, text after '>', comments, bad UTF-8, bad IDN); and the
 * contract around them (out left empty on error, err appended to, exactly
 * len bytes read, normalisation idempotent, address_free reusable).
 *
 * Runs in tests/core (CMakeLists.txt sets the working directory).
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
#include "core/address.h"

#define A10 "aaaaaaaaaa"
#define A60 A10 A10 A10 A10 A10 A10
#define A63 A60 "aaa"
#define A64 A60 "aaaa"
#define A65 A60 "aaaaa"
#define L63 A63 "."
#define A56 A10 A10 A10 A10 A10 "aaaaaa"
#define A57 A56 "a"
/* 3 * 64 + 60 + 4 = 256 bytes: a domain one byte over LK_MAX_DOMAIN. */
#define D256 L63 L63 L63 A60 ".org"
/* 64 + 1 + 189 = 254 bytes: the longest address. */
#define D189 L63 L63 A57 ".org"
#define D190 L63 L63 A57 "a.org"
#define NAME100 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
#define NAME256 NAME100 NAME100 A56

enum which { ADDR = 1, MBOX = 2, BOTH = 3 };

struct valid {
	enum which fn;
	const char *in;
	const char *addr;
	const char *key;
	const char *local;
	const char *domain;
	const char *display; /* NULL: no display name */
};

static const struct valid valid[] = {
    {BOTH, "john@example.org", "john@example.org", "john@example.org", "john", "example.org", NULL},
    {BOTH, "John.Doe@Example.ORG", "John.Doe@example.org", "john.doe@example.org", "John.Doe",
     "example.org", NULL},
    {BOTH, "  john@example.org\t", "john@example.org", "john@example.org", "john", "example.org",
     NULL},
    {BOTH, "<john@example.org>", "john@example.org", "john@example.org", "john", "example.org",
     NULL},
    {BOTH, " < john@example.org >  ", "john@example.org", "john@example.org", "john", "example.org",
     NULL},
    {BOTH, "a+tag@mail.sub.example.co.uk", "a+tag@mail.sub.example.co.uk",
     "a+tag@mail.sub.example.co.uk", "a+tag", "mail.sub.example.co.uk", NULL},
    {BOTH, "!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org",
     "!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~", "example.org", NULL},
    {BOTH, "x@a-b.example", "x@a-b.example", "x@a-b.example", "x", "a-b.example", NULL},
    {BOTH, "x@ab--cd.example", "x@ab--cd.example", "x@ab--cd.example", "x", "ab--cd.example", NULL},
    {BOTH, "x@1a.2b.example", "x@1a.2b.example", "x@1a.2b.example", "x", "1a.2b.example", NULL},
    /* IDN: A-labels, lower case, UTS #46 mapping, nontransitional */
    {BOTH, "user@Bücher.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example",
     "user", "xn--bcher-kva.example", NULL},
    {BOTH, "user@bücher.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example",
     "user", "xn--bcher-kva.example", NULL},
    {BOTH, "user@XN--BCHER-KVA.Example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example",
     "user", "xn--bcher-kva.example", NULL},
    {BOTH, "User@MÜNCHEN.de", "User@xn--mnchen-3ya.de", "user@xn--mnchen-3ya.de", "User",
     "xn--mnchen-3ya.de", NULL},
    {BOTH, "user@faß.de", "user@xn--fa-hia.de", "user@xn--fa-hia.de", "user", "xn--fa-hia.de",
     NULL},
    {BOTH, "user@例え.テスト", "user@xn--r8jz45g.xn--zckzah", "user@xn--r8jz45g.xn--zckzah", "user",
     "xn--r8jz45g.xn--zckzah", NULL},
    {BOTH, "user@ＥＸＡＭＰＬＥ.com", "user@example.com", "user@example.com", "user", "example.com",
     NULL},
    /* quoted local parts keep their quotes only where needed */
    {BOTH, "\"john\"@example.org", "john@example.org", "john@example.org", "john", "example.org",
     NULL},
    {BOTH, "\"john.doe\"@example.org", "john.doe@example.org", "john.doe@example.org", "john.doe",
     "example.org", NULL},
    {BOTH, "\"John Doe\"@example.org", "\"John Doe\"@example.org", "\"john doe\"@example.org",
     "\"John Doe\"", "example.org", NULL},
    {BOTH, "\"a\\\"b\"@example.org", "\"a\\\"b\"@example.org", "\"a\\\"b\"@example.org",
     "\"a\\\"b\"", "example.org", NULL},
    {BOTH, "\"a\\\\b\"@example.org", "\"a\\\\b\"@example.org", "\"a\\\\b\"@example.org",
     "\"a\\\\b\"", "example.org", NULL},
    {BOTH, "\"a\\b\"@example.org", "ab@example.org", "ab@example.org", "ab", "example.org", NULL},
    {BOTH, "\"a..b\"@example.org", "\"a..b\"@example.org", "\"a..b\"@example.org", "\"a..b\"",
     "example.org", NULL},
    {BOTH, "\".a\"@example.org", "\".a\"@example.org", "\".a\"@example.org", "\".a\"",
     "example.org", NULL},
    {BOTH, "\"a@b\"@example.org", "\"a@b\"@example.org", "\"a@b\"@example.org", "\"a@b\"",
     "example.org", NULL},
    {BOTH, "\"a,b\"@example.org", "\"a,b\"@example.org", "\"a,b\"@example.org", "\"a,b\"",
     "example.org", NULL},
    {BOTH, "<\"<a>\"@example.org>", "\"<a>\"@example.org", "\"<a>\"@example.org", "\"<a>\"",
     "example.org", NULL},
    {BOTH, "\"(not a comment)\"@example.org", "\"(not a comment)\"@example.org",
     "\"(not a comment)\"@example.org", "\"(not a comment)\"", "example.org", NULL},
    /* the limits themselves are fine */
    {BOTH, A64 "@example.org", A64 "@example.org", A64 "@example.org", A64, "example.org", NULL},
    {BOTH, "x@" A63 ".org", "x@" A63 ".org", "x@" A63 ".org", "x", A63 ".org", NULL},
    {BOTH, A64 "@" D189, A64 "@" D189, A64 "@" D189, A64, D189, NULL},
    /* name-addr */
    {MBOX, "John Doe <john@example.org>", "john@example.org", "john@example.org", "john",
     "example.org", "John Doe"},
    {MBOX, "\"Doe, John\" <john@example.org>", "john@example.org", "john@example.org", "john",
     "example.org", "Doe, John"},
    {MBOX, "\"Quoted \\\"Name\\\"\" <a@example.org>", "a@example.org", "a@example.org", "a",
     "example.org", "Quoted \"Name\""},
    {MBOX, "  Jörg   Müller \t <jm@Example.DE>  ", "jm@example.de", "jm@example.de", "jm",
     "example.de", "Jörg Müller"},
    {MBOX, "\"John\" Doe <j@example.org>", "j@example.org", "j@example.org", "j", "example.org",
     "John Doe"},
    {MBOX, "John<j@example.org>", "j@example.org", "j@example.org", "j", "example.org", "John"},
    {MBOX, "Dr. J. R. Smith <s@example.org>", "s@example.org", "s@example.org", "s", "example.org",
     "Dr. J. R. Smith"},
    {MBOX, "\"a<b> (c)\" <c@example.org>", "c@example.org", "c@example.org", "c", "example.org",
     "a<b> (c)"},
    {MBOX, "\"  spaced  \" <c@example.org>", "c@example.org", "c@example.org", "c", "example.org",
     "spaced"},
    {MBOX, "=?utf-8?q?J=C3=B6rg?= <j@example.org>", "j@example.org", "j@example.org", "j",
     "example.org", "=?utf-8?q?J=C3=B6rg?="},
    {MBOX, "O'Brien <ob@example.ie>", "ob@example.ie", "ob@example.ie", "ob", "example.ie",
     "O'Brien"},
    {MBOX, "Name <\"john doe\"@Bücher.example>", "\"john doe\"@xn--bcher-kva.example",
     "\"john doe\"@xn--bcher-kva.example", "\"john doe\"", "xn--bcher-kva.example", "Name"},
    {MBOX, "\"\" <a@example.org>", "a@example.org", "a@example.org", "a", "example.org", NULL},
    {MBOX, "   <a@example.org>", "a@example.org", "a@example.org", "a", "example.org", NULL},
    {MBOX, NAME256 " <a@example.org>", "a@example.org", "a@example.org", "a", "example.org",
     NAME256},
};

struct invalid {
	enum which fn;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *err;
};

static const struct invalid invalid[] = {
    {BOTH, "", 0, "empty address"},
    {BOTH, "   ", 0, "empty address"},
    {BOTH, "<>", 0, "empty address"},
    {BOTH, "john.example.org", 0, "missing '@'"},
    {BOTH, "\"john\"", 0, "missing '@'"},
    {BOTH, "@example.org", 0, "empty local part"},
    {BOTH, "\"\"@example.org", 0, "empty local part"},
    {BOTH, "john@", 0, "empty domain"},
    {BOTH, "john @example.org", 0, "invalid character ' ' in local part (quote it)"},
    {BOTH, "jo,hn@example.org", 0, "invalid character ',' in local part (quote it)"},
    {BOTH, "jo\"hn\"@example.org", 0, "invalid character '\"' in local part (quote it)"},
    {BOTH, "jo\thn@example.org", 0, "invalid character 0x09 in local part"},
    {BOTH, "a@b@example.org", 0, "invalid character '@' in domain"},
    {BOTH, ".john@example.org", 0, "local part starts with '.'"},
    {BOTH, "john.@example.org", 0, "local part ends with '.'"},
    {BOTH, "jo..hn@example.org", 0, "two dots in a row"},
    {BOTH, A65 "@example.org", 0, "local part is longer than 64 bytes"},
    {BOTH, "\"" A63 " \"@example.org", 0, "local part is longer than 64 bytes"},
    {BOTH, "jöhn@example.org", 0, "non-ASCII character in local part"},
    {BOTH, "\"jöhn\"@example.org", 0, "non-ASCII character in local part"},
    {BOTH,
     "\"a\x01"
     "b\"@example.org",
     0, "invalid character 0x01 in local part"},
    {BOTH, "\"a\tb\"@example.org", 0, "invalid character 0x09 in local part"},
    {BOTH, "\"john@example.org", 0, "unbalanced '\"'"},
    {BOTH, "\"john\"x@example.org", 0, "text after the closing '\"'"},
    {BOTH, "\"a\".\"b\"@example.org", 0, "text after the closing '\"'"},
    {BOTH, "john@localhost", 0, "domain 'localhost' has no dot"},
    {BOTH, "john@a..b", 0, "domain 'a..b' has an empty label"},
    {BOTH, "john@.example.org", 0, "domain '.example.org' has an empty label"},
    {BOTH, "john@example.org.", 0, "domain 'example.org.' has an empty label"},
    {BOTH, "john@bü..example", 0, "has an empty label"},
    {BOTH, "john@a。。b", 0, "has an empty label"},
    {BOTH, "john@-example.org", 0, "domain label '-example' starts or ends with '-'"},
    {BOTH, "john@example-.org", 0, "domain label 'example-' starts or ends with '-'"},
    {BOTH, "john@" A64 ".org", 0, "domain label '" A64 "' is longer than 63 bytes"},
    {BOTH, "x@" D256, 0, "domain is longer than 255 bytes"},
    {BOTH, A64 "@" D190, 0, "address is longer than 254 bytes"},
    {BOTH, "john@[192.0.2.1]", 0, "address literals"},
    {BOTH, "john@192.0.2.1", 0, "numeric label"},
    {BOTH, "john@exa_mple.org", 0, "invalid character '_' in domain"},
    {BOTH, "john@exa mple.org", 0, "invalid character ' ' in domain"},
    {BOTH, "john@ example.org", 0, "invalid character ' ' in domain"},
    {BOTH, "john@xn--zz.example", 0, "invalid internationalised domain: "},
    {BOTH, "john@xn--a.example", 0, "invalid internationalised domain: "},
    {BOTH, "john@💩.la", 0, "invalid internationalised domain: "},
    {BOTH, "john@ab--cd.bücher.example", 0, "invalid internationalised domain: "},
    /* injection and bytes that never belong in an address */
    {BOTH, "john@example.org\r\nBcc: victim@example.org", 0, "line break"},
    {BOTH, "john@example.org\n", 0, "line break"},
    {BOTH, "\r\njohn@example.org", 0, "line break"},
    {BOTH, "\"a\rb\"@example.org", 0, "line break"},
    {MBOX, "John\r\n <john@example.org>", 0, "line break"},
    {BOTH, "john@exa\0mple.org", 17, "NUL byte"},
    {BOTH, "john@example.org\0", 17, "NUL byte"},
    {BOTH, "john@example.org\xff", 0, "byte 0xff at offset 16 is not valid UTF-8"},
    {BOTH, "john@b\xc3\x28.org", 0, "not valid UTF-8"},
    {BOTH, "john@\xc0\xaf.org", 0, "not valid UTF-8"},
    {BOTH, "John\xed\xa0\x80 <john@example.org>", 0, "not valid UTF-8"},
    /* brackets and what surrounds them */
    {BOTH, "<john@example.org", 0, "missing '>'"},
    {BOTH, "john@example.org>", 0, "'>' without '<'"},
    {BOTH, "<john@example.org> x", 0, "unexpected text after '>'"},
    {BOTH, "<john@example.org>>", 0, "unexpected text after '>'"},
    {BOTH, "<john@example.org><evil@example.org>", 0, "unexpected text after '>'"},
    {BOTH, "<john@example.org>, evil@example.org", 0, "unexpected text after '>'"},
    {BOTH, "<<john@example.org>", 0, "invalid character '<' in local part"},
    {BOTH, "<<john@example.org>>", 0, "unexpected text after '>'"},
    {ADDR, "John <john@example.org>", 0, "unexpected text before '<'"},
    {BOTH, "john@example.org (John)", 0, "comments in parentheses are not accepted"},
    {MBOX, "John (Johnny) <john@example.org>", 0, "comments in parentheses are not accepted"},
    {BOTH, "(c)john@example.org", 0, "comments in parentheses are not accepted"},
    {MBOX, "John Doe john@example.org", 0, "invalid character ' ' in local part (quote it)"},
    {MBOX, "Smith, John <j@example.org>", 0,
     "invalid character ',' in display name (quote the name)"},
    {MBOX, "John: <j@example.org>", 0, "invalid character ':' in display name"},
    {MBOX, "\"Open <j@example.org>", 0, "unbalanced '\"'"},
    {MBOX, "John <j@example.org", 0, "missing '>'"},
    {MBOX, "Jo\x01hn <j@example.org>", 0, "invalid character 0x01 in display name"},
    {MBOX, "\"Jo\x7fhn\" <j@example.org>", 0, "invalid character 0x7f in display name"},
    {MBOX, "John <j@example.org> trailing", 0, "unexpected text after '>'"},
    {MBOX, NAME256 "a <a@example.org>", 0, "display name is longer than 256 bytes"},
    {MBOX, "John <bad address@example.org>", 0, "invalid character ' ' in local part"},
};

static void check_valid(const struct valid *t, enum which fn)
{
	struct address a;
	struct buf err;
	buf_init(&err, 1024);
	int r = fn == ADDR ? address_parse(t->in, strlen(t->in), &a, &err)
			   : mailbox_parse(t->in, strlen(t->in), &a, &err);
	if (r != 0)
		fail_msg("%s(\"%s\") failed: %s", fn == ADDR ? "address_parse" : "mailbox_parse",
			 t->in, buf_cstr(&err));
	assert_int_equal(err.len, 0);
	assert_string_equal(a.addr, t->addr);
	assert_string_equal(a.key, t->key);
	assert_string_equal(a.local, t->local);
	assert_string_equal(a.domain, t->domain);
	if (t->display == NULL)
		assert_null(a.display);
	else
		assert_string_equal(a.display, t->display);

	/* Normalisation is idempotent: the output parses to itself. */
	struct address b;
	assert_int_equal(address_parse(a.addr, strlen(a.addr), &b, &err), 0);
	assert_string_equal(b.addr, a.addr);
	assert_string_equal(b.key, a.key);
	address_free(&b);
	address_free(&a);
	assert_null(a.addr);
	buf_free(&err);
}

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if (valid[i].fn & ADDR)
			check_valid(&valid[i], ADDR);
		if (valid[i].fn & MBOX)
			check_valid(&valid[i], MBOX);
	}
}

static void check_invalid(const struct invalid *t, enum which fn)
{
	struct address a;
	struct buf err;
	size_t len = t->len ? t->len : strlen(t->in);
	buf_init(&err, 1024);
	memset(&a, 0xa5, sizeof(a));
	int r =
	    fn == ADDR ? address_parse(t->in, len, &a, &err) : mailbox_parse(t->in, len, &a, &err);
	if (r != -1)
		fail_msg("%s(\"%s\") was accepted as %s",
			 fn == ADDR ? "address_parse" : "mailbox_parse", t->in, a.addr);
	if (strstr(buf_cstr(&err), t->err) == NULL)
		fail_msg("%s(\"%s\"): error \"%s\" lacks \"%s\"",
			 fn == ADDR ? "address_parse" : "mailbox_parse", t->in, buf_cstr(&err),
			 t->err);
	/* out is left empty; the message is one line of printable text */
	assert_null(a.addr);
	assert_null(a.key);
	assert_null(a.local);
	assert_null(a.domain);
	assert_null(a.display);
	assert_false(str_has_ctl_line(buf_str(&err)));
	buf_free(&err);
}

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (invalid[i].fn & ADDR)
			check_invalid(&invalid[i], ADDR);
		if (invalid[i].fn & MBOX)
			check_invalid(&invalid[i], MBOX);
	}
}

/* LK_MAX_MAILBOX is checked first, whatever the bytes are. */
static void test_too_long(void **state)
{
	(void)state;
	char in[LK_MAX_MAILBOX + 1];
	struct address a;
	struct buf err;
	buf_init(&err, 1024);
	memset(in, ' ', sizeof(in));
	memcpy(in, "a@example.org", 13);
	assert_int_equal(address_parse(in, LK_MAX_MAILBOX, &a, &err), 0);
	address_free(&a);
	assert_int_equal(address_parse(in, sizeof(in), &a, &err), -1);
	assert_string_equal(buf_cstr(&err), "address is longer than 1024 bytes");
	buf_reset(&err);
	assert_int_equal(mailbox_parse(in, sizeof(in), &a, &err), -1);
	assert_string_equal(buf_cstr(&err), "address is longer than 1024 bytes");
	buf_free(&err);
}

/* Exactly len bytes are read: what follows them does not count. */
static void test_len_not_nul(void **state)
{
	(void)state;
	const char in[] = "john@example.org>garbage\r\n";
	char *heap = malloc(16);
	struct address a;
	struct buf err;
	buf_init(&err, 1024);
	memcpy(heap, in, 16); /* no NUL: ASan catches a read past it */
	assert_int_equal(address_parse(heap, 16, &a, &err), 0);
	assert_string_equal(a.addr, "john@example.org");
	address_free(&a);
	assert_int_equal(mailbox_parse(heap, 16, &a, &err), 0);
	assert_string_equal(a.addr, "john@example.org");
	address_free(&a);
	assert_int_equal(address_parse(heap, 10, &a, &err), -1);
	assert_string_equal(buf_cstr(&err), "domain 'examp' has no dot");
	free(heap);
	buf_free(&err);
}

/* The reason is appended; NULL err is allowed; address_free is reusable. */
static void test_contract(void **state)
{
	(void)state;
	struct address a = {0};
	struct buf err;
	buf_init(&err, 1024);
	buf_puts(&err, "line 3: ");
	assert_int_equal(address_parse("nope", 4, &a, &err), -1);
	assert_string_equal(buf_cstr(&err), "line 3: missing '@'");
	assert_int_equal(address_parse("nope", 4, &a, NULL), -1);
	assert_int_equal(mailbox_parse("x <nope>", 8, &a, NULL), -1);
	address_free(&a);
	address_free(NULL);
	assert_int_equal(mailbox_parse("X <x@example.org>", 17, &a, NULL), 0);
	address_free(&a);
	address_free(&a);
	assert_null(a.display);
	assert_int_equal(mailbox_parse("Y <y@example.org>", 17, &a, NULL), 0);
	assert_string_equal(a.display, "Y");
	address_free(&a);
	buf_free(&err);
}

/* An error message quotes input only after escaping it, and cuts it short. */
static void test_error_echo(void **state)
{
	(void)state;
	struct address a;
	struct buf err;
	buf_init(&err, 1024);
	const char *in = "x@" A64 A10 ".org";
	assert_int_equal(address_parse(in, strlen(in), &a, &err), -1);
	assert_string_equal(buf_cstr(&err), "domain label '" A64 "...' is longer than 63 bytes");
	assert_true(err.len < 120);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_too_long), cmocka_unit_test(test_len_not_nul),
	    cmocka_unit_test(test_contract), cmocka_unit_test(test_error_echo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
