/*
 * test_workpool.c - the engine's pool of composing threads: every posted
 * item runs exactly once, on a worker index in range, and workpool_wait
 * returns only after all of them, batch after batch; items posted while
 * the threads are busy (the engine posts as it reads) are not lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <time.h>

#include <cmocka.h>

#include "delivery/workpool.h"

#define CAP 64

struct fx {
	atomic_int runs[CAP];
	atomic_int bad_worker;
	size_t threads;
};

static void work(void *ctx, size_t worker, size_t item)
{
	struct fx *f = ctx;
	if (worker >= f->threads)
		atomic_fetch_add(&f->bad_worker, 1);
	if (item % 7 == 0) { /* a slow one: the others go on meanwhile */
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	atomic_fetch_add(&f->runs[item], 1);
}

static void run_batches(size_t threads)
{
	struct fx f = {0};
	f.threads = threads;
	struct workpool *p = workpool_new(threads, CAP, work, &f);
	assert_int_equal(workpool_threads(p), threads);
	for (int batch = 1; batch <= 50; batch++) {
		size_t n = (size_t)(batch * 13) % CAP + 1;
		for (size_t i = 0; i < n; i++)
			workpool_post(p, i);
		workpool_wait(p);
		for (size_t i = 0; i < CAP; i++) {
			int want = i < n ? 1 : 0;
			if (atomic_load(&f.runs[i]) != want)
				fail_msg("batch %d: item %zu ran %d times, not %d", batch, i,
					 atomic_load(&f.runs[i]), want);
			atomic_store(&f.runs[i], 0);
		}
	}
	workpool_wait(p); /* nothing posted: returns at once */
	assert_int_equal(atomic_load(&f.bad_worker), 0);
	workpool_free(p);
}

static void test_one_thread(void **state)
{
	(void)state;
	run_batches(1);
}

static void test_more_threads_than_cores(void **state)
{
	(void)state;
	run_batches(5);
}

static void test_free_null(void **state)
{
	(void)state;
	workpool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_thread),
	    cmocka_unit_test(test_more_threads_than_cores),
	    cmocka_unit_test(test_free_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
