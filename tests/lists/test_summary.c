/*
 * test_summary.c - when the scheduler's daily summary is due
 * (lists_summary_due_day): a table of times and hours.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lists/summary.h"

#define DAY 86400
#define HOUR 3600

static void test_due_day(void **state)
{
	(void)state;
	static const struct {
		int64_t now;
		int hour;
		int64_t want;
	} cases[] = {
	    {20000 * DAY + 6 * HOUR, 6, 20000 - 1},	    /* at the hour: yesterday */
	    {20000 * DAY + 6 * HOUR - 1, 6, 20000 - 2},	    /* a second before: the day before */
	    {20000 * DAY + 23 * HOUR + 3599, 6, 20000 - 1}, /* late in the day */
	    {20000 * DAY, 0, 20000 - 1},		    /* hour 0: at midnight */
	    {20000 * DAY + 22 * HOUR, 23, 20000 - 2},
	    {20000 * DAY + 23 * HOUR, 23, 20000 - 1},
	    {20000 * DAY + 12 * HOUR, -1, -1}, /* off */
	    {20000 * DAY + 12 * HOUR, 24, -1}, /* out of range: off */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(lists_summary_due_day(cases[i].now, cases[i].hour), cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_due_day)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
