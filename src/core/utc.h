/*
 * utc.h - a time in seconds since the epoch as UTC text, for pages, mails,
 * exports and the command line (log.c keeps its own, with milliseconds).
 */
#ifndef LK_CORE_UTC_H
#define LK_CORE_UTC_H

#include <stddef.h>
#include <stdint.h>

#define UTC_ISO "%Y-%m-%dT%H:%M:%SZ" /* 2026-11-23T17:04:05Z */
#define UTC_DAY "%Y-%m-%d"

/* Formats t (seconds) with strftime's fmt into out (cap bytes). Returns 0,
 * or -1 when t cannot be shown that way: out then holds t in decimal. */
int utc_format(int64_t t, const char *fmt, char *out, size_t cap)
    __attribute__((format(strftime, 2, 0)));

#endif
