/*
 * test_clock.c - the one wall clock (core/clock.h): clock_set fixes what
 * clock_now returns, for every thread, and 0 gives the real clock back; the
 * monotonic clock moves forward.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "core/clock.h"

static void *read_clock(void *arg)
{
	*(int64_t *)arg = clock_now();
	return NULL;
}

static void test_set(void **state)
{
	(void)state;
	int64_t real = (int64_t)time(NULL);
	int64_t t = clock_now();
	assert_true(t >= real && t <= real + 5);
	clock_set(INT64_C(1700000000));
	assert_int_equal(clock_now(), INT64_C(1700000000));
	/* another thread sees the same time */
	int64_t seen = 0;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, read_clock, &seen), 0);
	pthread_join(th, NULL);
	assert_int_equal(seen, INT64_C(1700000000));
	clock_set(INT64_C(1700000000) + 86400);
	assert_int_equal(clock_now(), INT64_C(1700000000) + 86400);
	clock_set(0);
	t = clock_now();
	assert_true(t >= real && t <= (int64_t)time(NULL) + 1);
}

static void test_mono(void **state)
{
	(void)state;
	clock_set(1); /* the wall clock fixed does not stop the monotonic one */
	long long a = clock_mono_ns();
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
	long long b = clock_mono_ns();
	assert_true(b - a >= 2000000);
	assert_true(clock_mono_s() > 0);
	clock_set(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_mono),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
