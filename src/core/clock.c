/*
 * clock.c - the wall clock that tests can fix, and the monotonic clock (see
 * clock.h).
 *
 * TRUST: no outside input.
 */
#include "core/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t fixed; /* 0: the real clock */

int64_t clock_now(void)
{
	int64_t t = atomic_load_explicit(&fixed, memory_order_relaxed);
	return t != 0 ? t : (int64_t)time(NULL);
}

void clock_set(int64_t t)
{
	atomic_store_explicit(&fixed, t, memory_order_relaxed);
}

long long clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double clock_mono_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}
