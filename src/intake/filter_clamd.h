/*
 * filter_clamd.h - the virus scanner: clamd (Debian clamav-daemon) over its
 * Unix or TCP socket with the INSTREAM command.
 *
 *   clamd_scan          streams a message to clamd and reads its verdict
 *   clamd_reply_parse   the verdict from clamd's answer (pure; fuzzed by
 *                       tests/fuzz/fuzz_filter_reply.c)
 *
 * The request is "zINSTREAM\0", the message in chunks each led by its length
 * as four bytes in network order, and a chunk of length 0. clamd answers one
 * line ended by NUL ("stream: OK", "stream: NAME FOUND", "... ERROR") and
 * closes. See clamd(8), section COMMANDS.
 *
 * TRUST: the answer is untrusted: at most LK_FILTER_MAX_CLAMD_REPLY bytes, a
 * signature name of at most LK_FILTER_MAX_VIRUS_NAME printable bytes.
 */
#ifndef LK_INTAKE_FILTER_CLAMD_H
#define LK_INTAKE_FILTER_CLAMD_H

#include <stddef.h>

#include "core/limits.h"
#include "intake/filter.h"

struct clamd_verdict {
	int infected;
	char name[LK_FILTER_MAX_VIRUS_NAME + 1]; /* the signature clamd named, if infected */
};

/* Scans msg (len bytes). Returns 0 with v filled, or -1 with err: down or
 * silent (peer, temporary), an ERROR answer (peer; "size limit exceeded" is
 * final: clamd's StreamMaxLength is below the post, retrying will not help;
 * any other ERROR temporary), an answer that is not clamd's (peer,
 * temporary). */
int clamd_scan(const struct filter_endpoint *ep, int timeout_ms, const char *msg, size_t len,
	       struct clamd_verdict *v, struct filter_error *err);

/* Judges an answer (len bytes, NUL or LF terminator included or not).
 * Returns 0 with v filled, or -1 with err as for clamd_scan. */
int clamd_reply_parse(const char *p, size_t len, struct clamd_verdict *v, struct filter_error *err);

#endif
