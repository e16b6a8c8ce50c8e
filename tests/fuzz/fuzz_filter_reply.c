/*
 * fuzz_filter_reply.c - libFuzzer driver for the answers of the content
 * filter daemons: intake/filter_clamd.c (clamd_reply_parse) and
 * intake/filter_spamd.c (spamd_reply_parse, spamd_score_parse).
 *
 * The first input byte chooses the parser (bit 0: spamd, else clamd). Checks:
 * never a crash or a read past the input; a verdict keeps only what the
 * bounds allow (a signature name of printable ASCII within
 * LK_FILTER_MAX_VIRUS_NAME; at most LK_FILTER_MAX_SPAM_SYMBOLS rule names of
 * [A-Za-z0-9_]; scores within LK_FILTER_MAX_SPAM_SCORE); a failure always
 * says whose and has a text. Seeds: corpus/fuzz_filter_reply/.
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake/filter_clamd.h"
#include "intake/filter_spamd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int r, const struct filter_error *e)
{
	if (r == 0)
		return;
	if (r != -1 || e->origin != FILTER_ORIGIN_PEER ||
	    memchr(e->text, '\0', sizeof(e->text)) == NULL || e->text[0] == '\0')
		abort();
}

static int symbol_ok(const char *z)
{
	size_t n = strnlen(z, LK_FILTER_MAX_SPAM_SYMBOL + 1);
	if (n == 0 || n > LK_FILTER_MAX_SPAM_SYMBOL)
		return 0;
	return strspn(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > LK_FILTER_MAX_SPAMD_REPLY + 16)
		return 0;
	size_t n = size - 1;
	char *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	memcpy(p, data + 1, n);
	struct filter_error e;
	if (data[0] & 1) {
		struct spamd_verdict v;
		int r = spamd_reply_parse(p, n, &v, &e);
		check_err(r, &e);
		if (r == 0) {
			if (v.nsymbols > LK_FILTER_MAX_SPAM_SYMBOLS ||
			    (v.more_symbols && v.nsymbols != LK_FILTER_MAX_SPAM_SYMBOLS))
				abort();
			for (size_t i = 0; i < v.nsymbols; i++)
				if (!symbol_ok(v.symbols[i]))
					abort();
			if (v.score > LK_FILTER_MAX_SPAM_SCORE ||
			    v.score < -LK_FILTER_MAX_SPAM_SCORE ||
			    v.threshold > LK_FILTER_MAX_SPAM_SCORE ||
			    v.threshold < -LK_FILTER_MAX_SPAM_SCORE)
				abort();
			char s[32];
			spamd_score_format(v.score, s, sizeof(s));
		}
		int64_t sc;
		if (spamd_score_parse(p, n, &sc) == 0 &&
		    (sc > LK_FILTER_MAX_SPAM_SCORE || sc < -LK_FILTER_MAX_SPAM_SCORE))
			abort();
	} else {
		struct clamd_verdict v;
		int r = clamd_reply_parse(p, n, &v, &e);
		check_err(r, &e);
		if (r == 0) {
			size_t l = strnlen(v.name, sizeof(v.name));
			if (l == sizeof(v.name) || (v.infected && l == 0) ||
			    (!v.infected && l != 0))
				abort();
			for (size_t i = 0; i < l; i++)
				if ((unsigned char)v.name[i] <= ' ' ||
				    (unsigned char)v.name[i] > '~')
					abort();
		}
	}
	free(p);
	return 0;
}
