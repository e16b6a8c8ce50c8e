/*
 * crash_hook.c - linked only into listkeeper-testhooks, a test build of the
 * binary: with LISTKEEPER_TEST_CRASH_ON=MARKER in the environment, the
 * intake spool worker aborts (SIGABRT) on any message that holds MARKER, as
 * a handler with a crashing bug would; with LISTKEEPER_TEST_SLOW_MS=N it
 * sleeps N ms before each message, so that a test can kill the server while
 * accepted messages wait in the spool (tests/cli/intake_spool.sh); with
 * LISTKEEPER_TEST_CRASH_AFTER=MARKER it aborts once such a message's
 * handling is committed, before its row leaves the spool.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intake/spool.h"

void lk_test_intake_hook(const char *msg, size_t len)
{
	const char *marker = getenv("LISTKEEPER_TEST_CRASH_ON");
	if (marker != NULL && *marker != '\0' && memmem(msg, len, marker, strlen(marker)) != NULL)
		abort();
	const char *slow = getenv("LISTKEEPER_TEST_SLOW_MS");
	if (slow != NULL) {
		long ms = strtol(slow, NULL, 10);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		if (ms > 0)
			nanosleep(&ts, NULL);
	}
}

void lk_test_intake_handled_hook(const char *msg, size_t len)
{
	const char *marker = getenv("LISTKEEPER_TEST_CRASH_AFTER");
	if (marker != NULL && *marker != '\0' && memmem(msg, len, marker, strlen(marker)) != NULL)
		abort();
}
