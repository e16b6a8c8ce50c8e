/*
 * test_hll.c - HyperLogLog sketches: the estimate stays within 3% of the
 * true count from a handful to 100,000 distinct items, repeats do not
 * count, and the merge of two sketches counts their union.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hll.h"

/* splitmix64: a well-mixed 64-bit hash of a counter, as a keyed hash of
 * distinct items would be. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void within(double est, double want, double rel)
{
	double err = fabs(est - want) / want;
	if (err > rel)
		fail_msg("estimate %.1f for %.0f distinct items: off by %.2f%%", est, want,
			 100 * err);
}

static void test_accuracy(void **state)
{
	(void)state;
	static const unsigned counts[] = {1, 10, 100, 1000, 10000, 40000, 100000};
	for (uint64_t seed = 0; seed < 3; seed++) {
		uint8_t *r = calloc(1, HLL_REGISTERS);
		assert_true(hll_estimate(r) == 0.0);
		unsigned n = 0;
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			for (; n < counts[i]; n++)
				hll_add(r, mix(seed << 40 | n));
			if (n < 100)
				assert_int_equal((long)llround(hll_estimate(r)), (long)n);
			else
				within(hll_estimate(r), n, 0.03);
		}
		free(r);
	}
}

static void test_repeats(void **state)
{
	(void)state;
	uint8_t *r = calloc(1, HLL_REGISTERS);
	for (int round = 0; round < 50; round++)
		for (uint64_t i = 0; i < 2000; i++)
			hll_add(r, mix(i));
	within(hll_estimate(r), 2000, 0.03);
	free(r);
}

static void test_merge(void **state)
{
	(void)state;
	uint8_t *a = calloc(1, HLL_REGISTERS), *b = calloc(1, HLL_REGISTERS);
	/* 30,000 in a, 30,000 in b, 10,000 of them in both: 50,000 in all. */
	for (uint64_t i = 0; i < 30000; i++)
		hll_add(a, mix(i));
	for (uint64_t i = 20000; i < 50000; i++)
		hll_add(b, mix(i));
	hll_merge(a, b);
	within(hll_estimate(a), 50000, 0.03);
	/* Bytes past the largest rank (a damaged blob) do not break the estimate. */
	memset(b, 0xff, HLL_REGISTERS);
	assert_true(isfinite(hll_estimate(b)));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accuracy),
	    cmocka_unit_test(test_repeats),
	    cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
