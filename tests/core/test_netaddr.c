/*
 * test_netaddr.c - address blocks and X-Forwarded-For: blocks parse and
 * match (IPv4, IPv6, IPv4-mapped), bad lists are refused with the key named,
 * and the client behind proxies is the rightmost untrusted hop, believed
 * only when the peer itself is a trusted proxy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/netaddr.h"

static struct sockaddr_storage addr(const char *z)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, z, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(4242);
	} else {
		assert_int_equal(inet_pton(AF_INET6, z, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(4242);
	}
	return ss;
}

static const char *text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	if (ss->ss_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out,
				 (socklen_t)cap);
	if (ss->ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out,
				 (socklen_t)cap);
	return "none";
}

static int in(const struct netaddr_cidr *l, size_t n, const char *z)
{
	struct sockaddr_storage ss = addr(z);
	return netaddr_cidr_match(l, n, (struct sockaddr *)&ss);
}

static void test_blocks(void **state)
{
	(void)state;
	struct netaddr_cidr *l;
	size_t n;
	struct buf err;
	buf_init(&err, 1024);
	assert_int_equal(netaddr_cidr_list_parse("[x] y",
						 "10.0.0.0/8, 192.168.1.7 2001:db8::/32,"
						 "\t172.16.0.0/12,::1",
						 &l, &n, &err),
			 0);
	assert_int_equal(n, 5);
	assert_true(in(l, n, "10.200.3.4"));
	assert_false(in(l, n, "11.0.0.1"));
	assert_true(in(l, n, "192.168.1.7"));
	assert_false(in(l, n, "192.168.1.8"));
	assert_true(in(l, n, "172.31.255.255"));
	assert_false(in(l, n, "172.32.0.0"));
	assert_true(in(l, n, "2001:db8:ffff::1"));
	assert_false(in(l, n, "2001:db9::1"));
	assert_true(in(l, n, "::1"));
	assert_true(in(l, n, "::ffff:10.1.2.3")); /* IPv4-mapped */
	assert_false(netaddr_cidr_match(l, n, NULL));
	free(l);

	assert_int_equal(netaddr_cidr_list_parse("[x] y", " , ", &l, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(l);
	assert_false(in(l, n, "127.0.0.1"));
	assert_int_equal(netaddr_cidr_list_parse("[x] y", "0.0.0.0/0", &l, &n, &err), 0);
	assert_true(in(l, n, "8.8.8.8"));
	assert_false(in(l, n, "2001:db8::1"));
	free(l);

	static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/",	"10.0.0/8",    "::1/129",
					  "example.org", "10.0.0.0/-1", "10.0.0.1/8x", "[::1]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		assert_int_equal(
		    netaddr_cidr_list_parse("[http] trusted_proxies", bad[i], &l, &n, &err), -1);
		assert_null(l);
		assert_non_null(strstr(buf_cstr(&err), "[http] trusted_proxies"));
	}
	buf_free(&err);
}

struct xff_case {
	const char *peer;
	const char *xff; /* NULL: no header */
	const char *want;
};

static void test_forwarded(void **state)
{
	(void)state;
	struct netaddr_cidr *l;
	size_t n;
	struct buf err;
	buf_init(&err, 1024);
	assert_int_equal(netaddr_cidr_list_parse("k", "127.0.0.0/8, 10.0.0.0/8, ::1", &l, &n, &err),
			 0);
	static const struct xff_case cases[] = {
	    /* Not from a trusted proxy: the header is ignored. */
	    {"198.51.100.9", "203.0.113.5", "198.51.100.9"},
	    /* From the proxy: the hop it appended. */
	    {"127.0.0.1", "203.0.113.5", "203.0.113.5"},
	    {"::1", "203.0.113.5", "203.0.113.5"},
	    {"127.0.0.1", NULL, "127.0.0.1"},
	    {"127.0.0.1", "", "127.0.0.1"},
	    /* A forged hop on the left does not win: the rightmost untrusted one does. */
	    {"127.0.0.1", "1.1.1.1, 203.0.113.5", "203.0.113.5"},
	    /* Trusted hops (a proxy chain) are passed over. */
	    {"127.0.0.1", "1.1.1.1,203.0.113.5, 10.0.0.2 ,10.1.1.1", "203.0.113.5"},
	    /* Every hop trusted: the leftmost. */
	    {"127.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"},
	    /* Ports and brackets. */
	    {"127.0.0.1", "203.0.113.5:5555", "203.0.113.5"},
	    {"127.0.0.1", "[2001:db8::7]:443", "2001:db8::7"},
	    {"127.0.0.1", "2001:db8::7", "2001:db8::7"},
	    {"127.0.0.1", "::ffff:203.0.113.5", "::ffff:203.0.113.5"},
	    /* Junk stops the walk at the last address reached. */
	    {"127.0.0.1", "203.0.113.5, unknown", "127.0.0.1"},
	    {"127.0.0.1", "unknown, 10.0.0.2", "10.0.0.2"},
	    {"127.0.0.1", "203.0.113.5,, 10.0.0.2", "203.0.113.5"},
	    {"127.0.0.1", "[2001:db8::7", "127.0.0.1"},
	    {"127.0.0.1", "1.2.3.4:99999999", "127.0.0.1"},
	    {"127.0.0.1", ",,,", "127.0.0.1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage peer = addr(cases[i].peer), out;
		const char *x = cases[i].xff;
		netaddr_forwarded_client(l, n, (struct sockaddr *)&peer, x, x ? strlen(x) : 0,
					 &out);
		char got[64];
		text(&out, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("peer %s, X-Forwarded-For '%s': got %s, want %s", cases[i].peer,
				 x ? x : "(none)", got, cases[i].want);
		/* The port is never kept. */
		assert_int_equal(out.ss_family == AF_INET
				     ? ((struct sockaddr_in *)&out)->sin_port
				     : ((struct sockaddr_in6 *)&out)->sin6_port,
				 0);
	}
	/* A long chain of trusted hops: at most LK_HTTP_MAX_HOPS are read. */
	struct buf chain;
	buf_init(&chain, 1 << 16);
	buf_puts(&chain, "203.0.113.5");
	for (int i = 0; i < 100; i++)
		buf_puts(&chain, ", 10.0.0.1");
	struct sockaddr_storage peer = addr("127.0.0.1"), out;
	netaddr_forwarded_client(l, n, (struct sockaddr *)&peer, chain.data, chain.len, &out);
	char got[64];
	assert_string_equal(text(&out, got, sizeof(got)), "10.0.0.1");
	buf_free(&chain);
	free(l);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks),
	    cmocka_unit_test(test_forwarded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
