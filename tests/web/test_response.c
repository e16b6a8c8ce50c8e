/*
 * test_response.c - a page's body given to libmicrohttpd is wiped, over its
 * whole capacity, when the library lets the response go (web/response.c).
 * The wipe is watched through xfree_wipe, which response.c calls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static struct {
	int calls;
	size_t len;
	int held_secret; /* the bytes were still there when the wipe began */
	int zeroed;	 /* and all of them were zero after it */
} seen;

static const char SECRET[] = "Ada Lovelace <ada@example.org>";

static void spy_wipe(void *p, size_t n)
{
	seen.calls++;
	seen.len = n;
	seen.held_secret = n > strlen(SECRET) && memcmp(p, SECRET, strlen(SECRET)) == 0;
	explicit_bzero(p, n);
	const unsigned char *c = p;
	size_t i = 0;
	while (i < n && c[i] == 0)
		i++;
	seen.zeroed = i == n;
	free(p);
}

#define xfree_wipe spy_wipe
#include "../../src/web/response.c"
#undef xfree_wipe

static void test_wiped_when_let_go(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	struct buf body;
	buf_init(&body, 4096);
	buf_puts(&body, SECRET);
	buf_puts(&body, " and more text so the buffer grows past its first allocation");
	size_t cap = body.cap;
	struct MHD_Response *r = response_from_buf(&body);
	assert_non_null(r);
	assert_null(body.data); /* taken over */
	assert_int_equal(body.max, 4096);
	assert_int_equal(seen.calls, 0); /* not before the library lets it go */
	MHD_destroy_response(r);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.len, cap);
	assert_true(seen.held_secret);
	assert_true(seen.zeroed);
	buf_free(&body);
}

static void test_empty_body(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	struct buf body;
	buf_init(&body, 16);
	struct MHD_Response *r = response_from_buf(&body);
	assert_non_null(r);
	MHD_destroy_response(r);
	assert_int_equal(seen.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wiped_when_let_go),
	    cmocka_unit_test(test_empty_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
