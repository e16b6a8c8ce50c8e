/*
 * test_ratelimit.c - the in-memory rate limits of the web role: the count
 * per key and kind within a window, a new window after it ends, 0 meaning no
 * limit, and a flood of other keys that fills the table without growing it
 * (a key whose slots were all taken over starts afresh: the documented cost).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "web/ratelimit.h"

static void test_window(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(2, 3, 3600);
	const uint8_t a[4] = {127, 0, 0, 1}, b[4] = {127, 0, 0, 2};
	int64_t list = 7;
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1000), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1001), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1002), 0);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 4599), 0);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, b, 4, 1002), 1); /* another key */
	/* The same bytes as another kind are another key. */
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_LIST, a, 4, 1002), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_hit(rl, RATELIMIT_LIST, &list, sizeof(list), 1000), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_LIST, &list, sizeof(list), 1000), 0);
	/* The window has ended: a fresh count. */
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 4600), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 4601), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 4602), 0);
	/* The clock went back: the window starts again from now. */
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 10), 1);
	/* No key: still counted (as one key). */
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, NULL, 0, 1000), 1);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void test_no_limit(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(0, 1, 60);
	const uint8_t a[4] = {10, 0, 0, 1};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1000), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_LIST, a, 4, 1000), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_LIST, a, 4, 1000), 0);
	ratelimit_free(rl);
}

static void test_flood(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(1, 0, 3600);
	const uint8_t a[4] = {192, 0, 2, 1};
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1000), 1);
	assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, a, 4, 1000), 0);
	/* Ten times the table's size in other keys: every one is let through
	 * once, and memory stays what it was. */
	for (uint32_t i = 0; i < 10 * RATELIMIT_SLOTS; i++) {
		uint8_t k[4];
		memcpy(k, &i, 4);
		k[0] ^= 0x80;
		assert_int_equal(ratelimit_hit(rl, RATELIMIT_CLIENT, k, 4, 1001), 1);
	}
	ratelimit_free(rl);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_no_limit),
	    cmocka_unit_test(test_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
