/*
 * test_listaddr.c - the list's role addresses (mail/listaddr.h), built and
 * parsed: every role round-trips, hostile list names, domains and tokens
 * make no address at all, hostile input parses to nothing; the tokened
 * addresses authenticate for their list, purpose and expiry and fit in 64
 * octets for the longest list name; a recipient's links, VERP sender and
 * Message-ID.
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
#include "crypto/keys.h"
#include "crypto/token.h"
#include "core/address.h"
#include "mail/listaddr.h"

#define NOW INT64_C(1700000000)

static void test_keys(struct keys *k)
{
	assert_int_equal(crypto_init(), 0);
	for (int i = 0; i < KEYS_LEN; i++)
		k->master[i] = k->mac[i] = k->hash[i] = (uint8_t)i;
}

/* One name table: every role has a name that parses back to it. */
static void test_role_names(void **state)
{
	(void)state;
	for (int i = 0; i < LISTADDR_ROLE_COUNT; i++) {
		enum listaddr_role r = LISTADDR_COMMAND;
		const char *n = listaddr_role_name((enum listaddr_role)i);
		assert_string_not_equal(n, "?");
		assert_int_equal(listaddr_role_parse(n, &r), 0);
		assert_int_equal(r, i);
	}
	enum listaddr_role r = LISTADDR_POST;
	assert_int_equal(listaddr_role_parse("Post", &r), -1);
	assert_int_equal(listaddr_role_parse("", &r), -1);
	assert_string_equal(listaddr_role_name((enum listaddr_role)LISTADDR_ROLE_COUNT), "?");
}

/* Does one of the readings say role, list, token? */
static int has_reading(const struct listaddr *rd, size_t n, enum listaddr_role role,
		       const char *list, const char *token, const char *domain)
{
	for (size_t i = 0; i < n; i++) {
		if (rd[i].role != role || strcmp(rd[i].list, list) != 0)
			continue;
		if (rd[i].domain.len != strlen(domain) ||
		    memcmp(rd[i].domain.ptr, domain, rd[i].domain.len) != 0)
			continue;
		size_t tl = token != NULL ? strlen(token) : 0;
		if (rd[i].token.len == tl && (tl == 0 || memcmp(rd[i].token.ptr, token, tl) == 0))
			return 1;
	}
	return 0;
}

/* Build then parse, every role, list names that look like other roles. */
static void test_roundtrip(void **state)
{
	(void)state;
	char longest[LK_MAX_LIST_NAME + 1];
	memset(longest, 'z', LK_MAX_LIST_NAME);
	longest[LK_MAX_LIST_NAME] = '\0';
	const char *lists[] = {"news",		"a",	"x-request",	"x-owner", "news-bounces",
			       "a-b.c_d",	"0day", "news-confirm", "owner",   "request-owner",
			       "x-unsubscribe", longest};
	const char *tokens[] = {"abcdefghijklmnopqrstuvwxyz23", "ABC", "AQUA-_x9", "a"};
	const char *domains[] = {"lists.example.org", "X.EXAMPLE", "localhost"};
	for (size_t li = 0; li < sizeof(lists) / sizeof(lists[0]); li++)
		for (size_t di = 0; di < sizeof(domains) / sizeof(domains[0]); di++)
			for (int role = 0; role < LISTADDR_ROLE_COUNT; role++) {
				int has = listaddr_role_has_token((enum listaddr_role)role);
				for (size_t ti = 0; ti < (has ? 4u : 1u); ti++) {
					const char *tok = has ? tokens[ti] : NULL;
					struct buf b;
					buf_init(&b, LK_MAX_ADDRESS);
					assert_int_equal(
					    listaddr_build(&b, (enum listaddr_role)role, lists[li],
							   domains[di], tok),
					    0);
					struct listaddr rd[LISTADDR_READINGS];
					const char *cmd =
					    role == LISTADDR_COMMAND ? lists[li] : NULL;
					size_t n = listaddr_parse(b.data, b.len, cmd, rd);
					const char *want =
					    role == LISTADDR_COMMAND ? "" : lists[li];
					if (!has_reading(rd, n, (enum listaddr_role)role, want, tok,
							 domains[di]))
						fail_msg(
						    "%s (role %s) does not read back", buf_cstr(&b),
						    listaddr_role_name((enum listaddr_role)role));
					/* tokened and command addresses have one reading */
					if (has || role == LISTADDR_COMMAND)
						assert_int_equal(n, 1);
					/* upper case reads the same list */
					for (size_t i = 0; i < b.len; i++)
						if (b.data[i] >= 'a' && b.data[i] <= 'z')
							b.data[i] = (char)(b.data[i] - 32);
					struct listaddr up[LISTADDR_READINGS];
					assert_int_equal(listaddr_parse(b.data, b.len, cmd, up), n);
					for (size_t i = 0; i < n; i++) {
						assert_int_equal(up[i].role, rd[i].role);
						assert_string_equal(up[i].list, rd[i].list);
					}
					buf_free(&b);
				}
			}
}

/* x-request@ may be the list x-request or the command address of x: both
 * readings, the whole local part first; the store decides. */
static void test_ambiguous(void **state)
{
	(void)state;
	struct listaddr rd[LISTADDR_READINGS];
	const char *a = "news-request@lists.example.org";
	assert_int_equal(listaddr_parse(a, strlen(a), "listkeeper", rd), 2);
	assert_int_equal(rd[0].role, LISTADDR_POST);
	assert_string_equal(rd[0].list, "news-request");
	assert_int_equal(rd[1].role, LISTADDR_REQUEST);
	assert_string_equal(rd[1].list, "news");
	a = "<Listkeeper@lists.example.org>";
	assert_int_equal(listaddr_parse(a, strlen(a), "listkeeper", rd), 1);
	assert_int_equal(rd[0].role, LISTADDR_COMMAND);
	assert_int_equal(rd[0].domain.len, strlen("lists.example.org"));
	/* without a command address it is a list's */
	assert_int_equal(listaddr_parse(a, strlen(a), NULL, rd), 1);
	assert_int_equal(rd[0].role, LISTADDR_POST);
	assert_string_equal(rd[0].list, "listkeeper");
}

/* A hostile part makes no address, and out is left as it was. */
static void test_build_refused(void **state)
{
	(void)state;
	char toolong[LK_MAX_TOKEN + 2];
	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	char bigname[LK_MAX_ADDRESS + 1];
	memset(bigname, 'n', sizeof(bigname) - 1);
	bigname[sizeof(bigname) - 1] = '\0';
	static const char *const bad_names[] = {
	    "",	      "new@s",	"news+x", "ne ws",    "news\r\nBcc: x@y", "news>",
	    "<news",  "n\"ws",	"né",	  "news\t",   "news,x",		  "news;x",
	    "news/x", "news\\", "a:b",	  "news\x7f", "(news)",		  "news%x",
	};
	static const char *const bad_domains[] = {
	    "", "x@y", "a b", "exa\nmple", "x>", "x\r\nBcc: y", "[::1]", "x,y", "é.x", "x;y"};
	const char *const bad_tokens[] = {"",	 "a+b", "a@b", "a b", "ab\r\n",
					  "a.b", "a/b", "a=b", "<a>", toolong};
	struct buf b;
	buf_init(&b, LK_MAX_ADDRESS + 64);
	buf_puts(&b, "kept:");
	for (int role = 0; role < LISTADDR_ROLE_COUNT; role++) {
		enum listaddr_role r = (enum listaddr_role)role;
		const char *tok = listaddr_role_has_token(r) ? "abc" : NULL;
		for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
			assert_int_equal(listaddr_build(&b, r, bad_names[i], "x.example", tok), -1);
		assert_int_equal(listaddr_build(&b, r, NULL, "x.example", tok), -1);
		assert_int_equal(listaddr_build(&b, r, bigname, "x.example", tok), -1);
		for (size_t i = 0; i < sizeof(bad_domains) / sizeof(bad_domains[0]); i++)
			assert_int_equal(listaddr_build(&b, r, "news", bad_domains[i], tok), -1);
		assert_int_equal(listaddr_build(&b, r, "news", NULL, tok), -1);
		if (tok != NULL) {
			for (size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++)
				assert_int_equal(
				    listaddr_build(&b, r, "news", "x.example", bad_tokens[i]), -1);
			assert_int_equal(listaddr_build(&b, r, "news", "x.example", NULL), -1);
		} else {
			/* a token where none belongs */
			assert_int_equal(listaddr_build(&b, r, "news", "x.example", "abc"), -1);
		}
	}
	assert_int_equal(
	    listaddr_build(&b, (enum listaddr_role)LISTADDR_ROLE_COUNT, "news", "x.example", NULL),
	    -1);
	assert_string_equal(buf_cstr(&b), "kept:");
	assert_int_equal(b.err, 0);
	/* a full buffer: refused, out as it was */
	struct buf small;
	buf_init(&small, 10);
	buf_puts(&small, "kept:");
	assert_int_equal(listaddr_build(&small, LISTADDR_POST, "news", "x.example", NULL), -1);
	assert_string_equal(buf_cstr(&small), "kept:");
	assert_int_equal(small.err, 0);
	buf_free(&small);
	buf_free(&b);
}

/* Hostile recipients read as nothing of ours. */
static void test_parse_refused(void **state)
{
	(void)state;
	char over[LK_MAX_ADDRESS + 16];
	memset(over, 'n', sizeof(over));
	memcpy(over + sizeof(over) - 3, "@xy", 3);
	char name24[64];
	memset(name24, 'n', LK_MAX_LIST_NAME + 1);
	bsnprintf(name24 + LK_MAX_LIST_NAME + 1, sizeof(name24) - LK_MAX_LIST_NAME - 1, "@x");
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
	} t[] = {
	    {"", 0},
	    {"@", 0},
	    {"news", 0},
	    {"news@", 0},
	    {"@x", 0},
	    {"<>", 0},
	    {"<news@x", 0},
	    {"news-bounces+@x", 0},
	    {"news-bounces+a+b@x", 0},
	    {"news-bounces+abc@x y", 0},
	    {"news-bounces+abc@x\r\nBcc: y", 0},
	    {"news-bounces+a.b@x", 0},
	    {"news+abc@x", 0},
	    {"news-owner+abc@x", 0},
	    {"news-request+abc@x", 0},
	    {"-bounces+abc@x", 0},
	    {"-request@x", 0},
	    {"-owner@x", 0},
	    {"News Letter@x", 0},
	    {"n/ws@x", 0},
	    {"news@x\0y", 8}, /* a NUL in the domain */
	    {"news\0@x", 7},  /* and in the local part */
	    {"news@x@", 0},
	    {"news@<x>", 0},
	    {"\"news\"@x", 0},
	    {"news.@x", 0}, /* ends fine for lists_name_valid? it does: see below */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct listaddr rd[LISTADDR_READINGS];
		size_t len = t[i].len ? t[i].len : strlen(t[i].in);
		size_t n = listaddr_parse(t[i].in, len, "listkeeper", rd);
		if (strcmp(t[i].in, "news.@x") == 0) {
			/* lists_name_valid allows a trailing '.': a list's name */
			assert_int_equal(n, 1);
			continue;
		}
		if (n != 0)
			fail_msg("case %zu (%.*s) read as %s", i, (int)len, t[i].in,
				 listaddr_role_name(rd[0].role));
	}
	struct listaddr rd[LISTADDR_READINGS];
	assert_int_equal(listaddr_parse(over, sizeof(over), NULL, rd), 0);
	assert_int_equal(listaddr_parse(name24, strlen(name24), NULL, rd), 0);
	/* the 23-character name is the longest */
	name24[LK_MAX_LIST_NAME] = '@';
	name24[LK_MAX_LIST_NAME + 1] = 'x';
	assert_int_equal(listaddr_parse(name24, LK_MAX_LIST_NAME + 2, NULL, rd), 1);
	/* the whole address's bound (LK_MAX_ADDRESS, within LK_MAX_DOMAIN) */
	char dom[LK_MAX_ADDRESS + 8];
	memcpy(dom, "news@", 5);
	memset(dom + 5, 'd', sizeof(dom) - 5);
	assert_int_equal(listaddr_parse(dom, LK_MAX_ADDRESS, NULL, rd), 1);
	assert_int_equal(listaddr_parse(dom, LK_MAX_ADDRESS + 1, NULL, rd), 0);
}

/* The list's own addresses: LIST-bounces+TOKEN and LIST-unsubscribe+TOKEN,
 * whose tokens authenticate for their list and purpose; the local part
 * is within RFC 5321's 64 octets for the longest list name allowed. */
static void test_list_address(void **state)
{
	(void)state;
	struct keys k;
	test_keys(&k);
	char name[LK_MAX_LIST_NAME + 1];
	memset(name, 'n', LK_MAX_LIST_NAME);
	name[LK_MAX_LIST_NAME] = '\0';
	static const struct {
		enum token_purpose p;
		const char *role;
	} t[] = {{TOKEN_BOUNCE, "-bounces+"}, {TOKEN_UNSUBSCRIBE, "-unsubscribe+"}};
	for (size_t i = 0; i < 2; i++) {
		struct buf b, err;
		buf_init(&b, LK_MAX_ADDRESS);
		buf_init(&err, 256);
		buf_puts(&b, "kept:");
		assert_int_equal(
		    listaddr_token_build(&b, &k, t[i].p, name, 7, "lists.example.org", 42, 0), 0);
		const char *a = buf_cstr(&b) + 5;
		struct address ad;
		if (address_parse(a, strlen(a), &ad, &err) < 0)
			fail_msg("%s: %s", a, buf_cstr(&err));
		address_free(&ad);
		size_t local = (size_t)(strchr(a, '@') - a);
		assert_true(local <= LK_MAX_LOCAL_PART);
		assert_int_equal(strncmp(a, name, LK_MAX_LIST_NAME), 0);
		const char *tok = a + LK_MAX_LIST_NAME + strlen(t[i].role);
		assert_int_equal(strncmp(a + LK_MAX_LIST_NAME, t[i].role, strlen(t[i].role)), 0);
		assert_string_equal(tok + TOKEN_ADDR_LEN, "@lists.example.org");
		uint64_t sub = 0;
		assert_int_equal(token_addr_decode(&k, tok, TOKEN_ADDR_LEN, t[i].p, 7, &sub),
				 TOKEN_OK);
		assert_int_equal(sub, 42);
		assert_int_equal(token_addr_decode(&k, tok, TOKEN_ADDR_LEN, t[1 - i].p, 7, &sub),
				 TOKEN_BAD_MAC);
		/* no address for other purposes, nor with an expiry; out left as it was */
		buf_reset(&b);
		assert_int_equal(
		    listaddr_token_build(&b, &k, TOKEN_PREFS, name, 7, "lists.example.org", 42, 0),
		    -1);
		assert_int_equal(
		    listaddr_token_build(&b, &k, t[i].p, name, 7, "lists.example.org", 42, NOW),
		    -1);
		assert_int_equal(b.len, 0);
		buf_free(&b);
		buf_free(&err);
	}
}

/* LIST-confirm+TOKEN, the Reply-To of every request to confirm (a
 * subscription, a SET): for the longest list name its local part is within
 * 64 octets, the address parses, and the token authenticates for that list,
 * its purpose and until its expiry only. */
static void test_confirm_address(void **state)
{
	(void)state;
	struct keys k;
	test_keys(&k);
	char name[LK_MAX_LIST_NAME + 1];
	memset(name, 'n', LK_MAX_LIST_NAME);
	name[LK_MAX_LIST_NAME] = '\0';
	static const enum token_purpose P[] = {TOKEN_CONFIRM, TOKEN_SET_DIGEST, TOKEN_SET_TEXT};
	const int64_t exp = NOW + 168 * 3600;
	for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
		struct buf b, err;
		buf_init(&b, LK_MAX_ADDRESS);
		buf_init(&err, 256);
		assert_int_equal(
		    listaddr_token_build(&b, &k, P[i], name, 7, "lists.example.org", 42, exp), 0);
		const char *a = buf_cstr(&b);
		struct address ad;
		if (address_parse(a, strlen(a), &ad, &err) < 0)
			fail_msg("%s: %s", a, buf_cstr(&err));
		address_free(&ad);
		size_t local = (size_t)(strchr(a, '@') - a);
		assert_int_equal(local, LK_MAX_LOCAL_PART); /* exactly 64 for 23 characters */
		assert_int_equal(strncmp(a + LK_MAX_LIST_NAME, "-confirm+", 9), 0);
		const char *tok = a + LK_MAX_LIST_NAME + 9;
		assert_string_equal(tok + TOKEN_ADDR_EXP_LEN, "@lists.example.org");
		struct token t;
		assert_int_equal(
		    token_addr_decode_exp(&k, tok, TOKEN_ADDR_EXP_LEN, P[i], 7, NOW, &t), TOKEN_OK);
		assert_int_equal(t.subscriber_id, 42);
		assert_true(t.expires >= exp && t.expires < exp + 3600);
		assert_int_equal(
		    token_addr_decode_exp(&k, tok, TOKEN_ADDR_EXP_LEN, P[i], 8, NOW, &t),
		    TOKEN_BAD_MAC);
		assert_int_equal(
		    token_addr_decode_exp(&k, tok, TOKEN_ADDR_EXP_LEN, P[i], 7, exp + 3600, &t),
		    TOKEN_EXPIRED);
		/* a confirmation needs an expiry */
		buf_reset(&b);
		assert_int_equal(
		    listaddr_token_build(&b, &k, P[i], name, 7, "lists.example.org", 42, 0), -1);
		assert_int_equal(b.len, 0);
		buf_free(&b);
		buf_free(&err);
	}
}

/* A tokened address parses back to its role and list, and its token to the
 * subscriber; a hostile list name or domain gets no address. */
static void test_token_roundtrip(void **state)
{
	(void)state;
	struct keys k;
	test_keys(&k);
	static const struct {
		enum token_purpose p;
		enum listaddr_role role;
		int64_t exp;
	} t[] = {{TOKEN_BOUNCE, LISTADDR_BOUNCES, 0},
		 {TOKEN_UNSUBSCRIBE, LISTADDR_UNSUBSCRIBE, 0},
		 {TOKEN_CONFIRM, LISTADDR_CONFIRM, NOW + 3600},
		 {TOKEN_SET_NOMAIL, LISTADDR_CONFIRM, NOW + 3600},
		 {TOKEN_SIGNOFF_ALL, LISTADDR_CONFIRM, NOW + 3600}};
	const char *names[] = {"news", "news-request", "x-bounces", "a.b_c-d"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			struct buf b;
			buf_init(&b, LK_MAX_ADDRESS);
			assert_int_equal(listaddr_token_build(&b, &k, t[i].p, names[j], 9,
							      "lists.example.org", 4242, t[i].exp),
					 0);
			struct listaddr rd[LISTADDR_READINGS];
			assert_int_equal(listaddr_parse(b.data, b.len, "listkeeper", rd), 1);
			assert_int_equal(rd[0].role, t[i].role);
			assert_string_equal(rd[0].list, names[j]);
			if (t[i].exp == 0) {
				uint64_t sub = 0;
				assert_int_equal(token_addr_decode(&k, rd[0].token.ptr,
								   rd[0].token.len, t[i].p, 9,
								   &sub),
						 TOKEN_OK);
				assert_int_equal(sub, 4242);
			} else {
				struct token tk;
				assert_int_equal(token_addr_decode_exp(&k, rd[0].token.ptr,
								       rd[0].token.len, t[i].p, 9,
								       NOW, &tk),
						 TOKEN_OK);
				assert_int_equal(tk.subscriber_id, 4242);
			}
			buf_free(&b);
		}
	static const char *const bad[] = {"news+x", "new@s", "ne ws", "news\r\nBcc: x", ""};
	struct buf b;
	buf_init(&b, LK_MAX_ADDRESS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    listaddr_token_build(&b, &k, TOKEN_BOUNCE, bad[i], 9, "x.example", 1, 0), -1);
		assert_int_equal(
		    listaddr_token_build(&b, &k, TOKEN_BOUNCE, "news", 9, bad[i], 1, 0), -1);
	}
	/* a subscriber id the address form cannot carry */
	assert_int_equal(listaddr_token_build(&b, &k, TOKEN_BOUNCE, "news", 9, "x.example",
					      (int64_t)TOKEN_ADDR_MAX_SUBSCRIBER + 1, 0),
			 -1);
	assert_int_equal(listaddr_token_build(&b, &k, TOKEN_BOUNCE, "news", -1, "x.example", 1, 0),
			 -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);
	buf_free(&b);
}

static int is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* <jJOB.sSUB.RANDOM@DOMAIN>, <jJOB.r.RANDOM@DOMAIN>: fresh each time. */
static void test_message_id(void **state)
{
	(void)state;
	struct buf a, b;
	buf_init(&a, 256);
	buf_init(&b, 256);
	assert_int_equal(listaddr_message_id(&a, 5, 42, "lists.example.org"), 0);
	assert_int_equal(listaddr_message_id(&b, 5, 42, "lists.example.org"), 0);
	const char *pre = "<j5.s42.", *post = "@lists.example.org>";
	assert_int_equal(a.len, strlen(pre) + 12 + strlen(post));
	assert_int_equal(strncmp(a.data, pre, strlen(pre)), 0);
	assert_true(is_hex(a.data + strlen(pre), 12));
	assert_string_equal(a.data + strlen(pre) + 12, post);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	buf_reset(&a);
	assert_int_equal(listaddr_message_id(&a, 7, 0, "x.example"), 0);
	assert_int_equal(strncmp(a.data, "<j7.r.", 6), 0);
	assert_true(is_hex(a.data + 6, 12));
	assert_string_equal(a.data + 18, "@x.example>");
	/* a Message-ID cannot be made to carry a header */
	buf_reset(&a);
	assert_int_equal(listaddr_message_id(&a, 7, 0, "x.example>\r\nBcc: y@z"), -1);
	assert_int_equal(listaddr_message_id(&a, -1, 0, "x.example"), -1);
	assert_int_equal(a.len, 0);
	buf_free(&a);
	buf_free(&b);
}

/* The path and the token of a link. */
static void link_token(const struct buf *b, const char *prefix, struct str *tok)
{
	size_t pl = strlen(prefix);
	assert_true(b->len > pl);
	if (strncmp(b->data, prefix, pl) != 0)
		fail_msg("%s does not start with %s", buf_cstr(b), prefix);
	*tok = (struct str){b->data + pl, b->len - pl};
}

/* One recipient's links: every one authenticates for that recipient and
 * list; the pixel only when asked; a confirmation's link and Reply-To. */
static void test_links(void **state)
{
	(void)state;
	struct keys k;
	test_keys(&k);
	const char *base = "https://lists.example.org";
	struct listaddr_links ln;
	listaddr_links_init(&ln);
	struct listaddr_rcpt r = {.list_name = "news",
				  .domain = "lists.example.org",
				  .list_id = 7,
				  .job_id = 3,
				  .subscriber_id = 42};
	assert_int_equal(listaddr_links_make(&ln, &k, base, &r), 0);
	struct str tok;
	link_token(&ln.unsubscribe_url, "https://lists.example.org/u/", &tok);
	assert_int_equal(token_check(&k, tok.ptr, tok.len, TOKEN_UNSUBSCRIBE, 7, 42, NOW),
			 TOKEN_OK);
	link_token(&ln.preferences_url, "https://lists.example.org/p/", &tok);
	assert_int_equal(token_check(&k, tok.ptr, tok.len, TOKEN_PREFS, 7, 42, NOW), TOKEN_OK);
	assert_string_equal(buf_cstr(&ln.from), "news@lists.example.org");
	assert_int_equal(strncmp(buf_cstr(&ln.message_id), "<j3.s42.", 8), 0);
	assert_int_equal(ln.pixel_url.len, 0);
	assert_int_equal(ln.action_url.len, 0);
	assert_int_equal(ln.reply_to.len, 0);
	struct {
		const struct buf *b;
		enum listaddr_role role;
		enum token_purpose p;
	} a[] = {{&ln.unsubscribe_mailto, LISTADDR_UNSUBSCRIBE, TOKEN_UNSUBSCRIBE},
		 {&ln.verp, LISTADDR_BOUNCES, TOKEN_BOUNCE}};
	for (size_t i = 0; i < 2; i++) {
		struct listaddr rd[LISTADDR_READINGS];
		assert_int_equal(listaddr_parse(a[i].b->data, a[i].b->len, NULL, rd), 1);
		assert_int_equal(rd[0].role, a[i].role);
		assert_string_equal(rd[0].list, "news");
		uint64_t sub = 0;
		assert_int_equal(
		    token_addr_decode(&k, rd[0].token.ptr, rd[0].token.len, a[i].p, 7, &sub),
		    TOKEN_OK);
		assert_int_equal(sub, 42);
	}

	/* a confirmation: /c/ and a LIST-confirm+ Reply-To, both expiring */
	r.pixel = 1;
	r.action = TOKEN_CONFIRM;
	r.action_expires = NOW + 7200;
	assert_int_equal(listaddr_links_make(&ln, &k, base, &r), 0);
	link_token(&ln.pixel_url, "https://lists.example.org/o/3-", &tok);
	assert_true(tok.len > 4 && memcmp(tok.ptr + tok.len - 4, ".gif", 4) == 0);
	link_token(&ln.action_url, "https://lists.example.org/c/", &tok);
	assert_int_equal(token_check(&k, tok.ptr, tok.len, TOKEN_CONFIRM, 7, 42, NOW), TOKEN_OK);
	assert_int_equal(token_check(&k, tok.ptr, tok.len, TOKEN_CONFIRM, 7, 42, NOW + 7201),
			 TOKEN_EXPIRED);
	struct listaddr rd[LISTADDR_READINGS];
	assert_int_equal(listaddr_parse(ln.reply_to.data, ln.reply_to.len, NULL, rd), 1);
	assert_int_equal(rd[0].role, LISTADDR_CONFIRM);
	struct token t;
	assert_int_equal(
	    token_addr_decode_exp(&k, rd[0].token.ptr, rd[0].token.len, TOKEN_CONFIRM, 7, NOW, &t),
	    TOKEN_OK);
	assert_int_equal(t.subscriber_id, 42);

	/* a data request: /me/, for no list */
	r.pixel = 0;
	r.action = TOKEN_REQUEST;
	assert_int_equal(listaddr_links_make(&ln, &k, base, &r), 0);
	link_token(&ln.action_url, "https://lists.example.org/me/", &tok);
	assert_int_equal(token_check(&k, tok.ptr, tok.len, TOKEN_REQUEST, 0, 42, NOW), TOKEN_OK);
	assert_int_equal(ln.reply_to.len, 0);
	assert_int_equal(ln.pixel_url.len, 0);

	/* a list whose name cannot be an address gets no links at all */
	r.list_name = "new s";
	r.action = 0;
	assert_int_equal(listaddr_links_make(&ln, &k, base, &r), -1);
	listaddr_links_free(&ln);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_role_names),	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_ambiguous),	    cmocka_unit_test(test_build_refused),
	    cmocka_unit_test(test_parse_refused),   cmocka_unit_test(test_list_address),
	    cmocka_unit_test(test_confirm_address), cmocka_unit_test(test_token_roundtrip),
	    cmocka_unit_test(test_message_id),	    cmocka_unit_test(test_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
