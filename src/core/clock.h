/*
 * clock.h - a monotonic clock for durations (never for dates).
 */
#ifndef LK_CORE_CLOCK_H
#define LK_CORE_CLOCK_H

/* Seconds since an arbitrary fixed point; unaffected by changes of the
 * wall clock. */
double clock_mono_s(void);
/* The same clock in nanoseconds. */
long long clock_mono_ns(void);

#endif
