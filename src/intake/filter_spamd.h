/*
 * filter_spamd.h - the spam scorer: spamd (Debian spamd, SpamAssassin) over
 * TCP or a Unix socket with the SPAMC/1.5 protocol.
 *
 *   spamd_check         sends CHECK or SYMBOLS with the message, reads the score
 *   spamd_reply_parse   the verdict from spamd's answer (pure; fuzzed by
 *                       tests/fuzz/fuzz_filter_reply.c)
 *   spamd_score_parse   "-1.5", "1004.2" as thousandths (the answer's and
 *                       the lists' thresholds' format)
 *   spamd_score_format  thousandths as "1004.2"
 *
 * The request: "SYMBOLS SPAMC/1.5\r\nContent-length: N\r\n\r\n" and the
 * message. The answer: "SPAMD/1.1 0 EX_OK\r\n", header lines ("Spam: True ;
 * 1004.2 / 5.0", "Content-length: N"), an empty line and, for SYMBOLS, the
 * rules that hit, separated by commas; spamd then closes. See
 * SpamAssassin's spamd/PROTOCOL.
 *
 * TRUST: the answer is untrusted: at most LK_FILTER_MAX_SPAMD_REPLY bytes,
 * LK_FILTER_MAX_SPAMD_LINE per line, LK_FILTER_MAX_SPAMD_HEADERS lines,
 * LK_FILTER_MAX_SPAM_SYMBOLS names of [A-Za-z0-9_] kept; scores within
 * +-LK_FILTER_MAX_SPAM_SCORE.
 */
#ifndef LK_INTAKE_FILTER_SPAMD_H
#define LK_INTAKE_FILTER_SPAMD_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "intake/filter.h"

/* A score's magnitude past which an answer is not believed (thousandths). */
#define LK_FILTER_MAX_SPAM_SCORE ((int64_t)1000000 * 1000)

struct spamd_verdict {
	int is_spam;	   /* spamd's own judgement against its required score */
	int64_t score;	   /* thousandths: 1004.2 is 1004200 */
	int64_t threshold; /* spamd's required score, thousandths */
	size_t nsymbols;   /* names kept in symbols (SYMBOLS only) */
	int more_symbols;  /* 1 if spamd named more than LK_FILTER_MAX_SPAM_SYMBOLS */
	char symbols[LK_FILTER_MAX_SPAM_SYMBOLS][LK_FILTER_MAX_SPAM_SYMBOL + 1];
};

/* Scores msg (len bytes), with the names of the rules that hit if symbols.
 * Returns 0 with v filled, or -1 with err: down or silent (peer, temporary),
 * an error answer (peer: EX_TEMPFAIL, EX_IOERR, EX_OSERR, EX_UNAVAILABLE,
 * EX_SOFTWARE temporary, the others final), an answer that is not spamd's
 * (peer, temporary). */
int spamd_check(const struct filter_endpoint *ep, int timeout_ms, const char *msg, size_t len,
		int symbols, struct spamd_verdict *v, struct filter_error *err);

/* Judges an answer of len bytes. Returns 0 with v filled, or -1 with err as
 * for spamd_check. */
int spamd_reply_parse(const char *p, size_t len, struct spamd_verdict *v, struct filter_error *err);

/* "[-]DIGITS[.DIGITS]" (at most 9 digits before the point; digits past the
 * third after it are dropped) into thousandths. Returns 0, or -1 if it is not
 * such a number or lies beyond +-LK_FILTER_MAX_SPAM_SCORE. */
int spamd_score_parse(const char *p, size_t len, int64_t *out);
/* score (thousandths) with one decimal ("-0.5", "1004.2") into out. */
void spamd_score_format(int64_t score, char *out, size_t cap);

#endif
