/*
 * clock.h - the program's one wall clock, and a monotonic clock for
 * durations.
 *
 * clock_now is what every date, expiry and day in the program reads:
 * tokens and their expiry, the ledger and audit times, job times and
 * leases, retries, the spool, statistics days, the DKIM t= tag. A test fixes
 * it with clock_set instead of each module keeping a "now" of its own. Log
 * lines keep the real time (core/log.c), as do durations and deadlines
 * (clock_mono_*, and the condition variables' CLOCK_REALTIME waits).
 */
#ifndef LK_CORE_CLOCK_H
#define LK_CORE_CLOCK_H

#include <stdint.h>

/* Unix seconds: the time fixed by clock_set, or else time(NULL).
 * Thread-safe. */
int64_t clock_now(void);
/* Fixes what clock_now returns from now on, for every thread; 0 gives the
 * real clock back. For tests. */
void clock_set(int64_t t);

/* Seconds since an arbitrary fixed point; unaffected by changes of the
 * wall clock. */
double clock_mono_s(void);
/* The same clock in nanoseconds. */
long long clock_mono_ns(void);

#endif
