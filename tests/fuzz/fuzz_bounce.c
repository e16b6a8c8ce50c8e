/*
 * fuzz_bounce.c - libFuzzer driver for intake/bounce.c (and the GMime walk
 * of intake/mimetext.c under it).
 *
 * The input is a message; its first line, when it starts with "@", is
 * taken off and used as the envelope recipient. Checks: never a crash or a
 * leak; at most LK_MAX_BOUNCE_RCPTS recipients, each a NUL-terminated
 * address of at most LK_MAX_ADDRESS bytes; a complaint only from an ARF
 * report; a token only of token.h's address form (token_addr_syntax); and
 * bounce_verp_split on the whole input agrees with itself.
 * a class in range, final 0 or 1, the deciding phrase row one of the table's.
 * The classifier of one diagnosis (bounce_classify) gets the whole input too.
 * Seeds: corpus/fuzz_bounce/ (samples from tests/intake/bounces/: the
 * hand-written ones, flufl.bounce's and real Postfix bounces).
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "crypto/token.h"
#include "intake/bounce.h"
#include "intake/mimetext.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mimetext_init();
	return 0;
}

static void check_addr(const char *a)
{
	if (a != NULL && (strlen(a) == 0 || strlen(a) > LK_MAX_ADDRESS || strchr(a, '@') == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 18))
		return 0;
	const char *p = (const char *)data;
	const char *env = NULL;
	size_t env_len = 0;
	if (size > 0 && p[0] == '@') {
		const char *nl = memchr(p, '\n', size);
		if (nl != NULL) {
			env = p + 1;
			env_len = (size_t)(nl - p) - 1;
			size -= (size_t)(nl - p) + 1;
			p = nl + 1;
		}
	}
	char *m = malloc(size ? size : 1);
	char *e = malloc(env_len ? env_len : 1);
	if (m == NULL || e == NULL)
		abort();
	memcpy(m, p, size);
	if (env != NULL)
		memcpy(e, env, env_len);
	struct bounce b;
	if (bounce_parse(m, size, env ? e : NULL, env_len, &b) != 0)
		abort();
	if (b.nrcpt > LK_MAX_BOUNCE_RCPTS)
		abort();
	if (b.cls == BOUNCE_COMPLAINT && b.format != BOUNCE_FMT_ARF)
		abort();
	if ((unsigned)b.cls >= BOUNCE_CLASS_COUNT || (b.final != 0 && b.final != 1) || b.job_id < 0)
		abort();
	if (b.family != NULL) { /* a row's family, never a pointer into the input */
		size_t k = 0;
		while (k < bounce_phrases_count && bounce_phrases[k].family != b.family)
			k++;
		if (k == bounce_phrases_count)
			abort();
	}
	for (size_t i = 0; i < b.nrcpt; i++) {
		check_addr(b.rcpt[i].final_rcpt);
		check_addr(b.rcpt[i].original_rcpt);
		if (strlen(b.rcpt[i].status) >= sizeof b.rcpt[i].status ||
		    (unsigned)b.rcpt[i].cls >= BOUNCE_CLASS_COUNT)
			abort();
	}
	if ((b.verp_token == NULL) != (b.verp_list == NULL))
		abort();
	if (b.verp_token != NULL) {
		size_t n = strlen(b.verp_token);
		if (n != TOKEN_ADDR_LEN ||
		    strspn(b.verp_token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
					 "qrstuvwxyz234567") != n)
			abort();
	}
	bounce_free(&b);
	const char *fam = NULL;
	if ((unsigned)bounce_classify(size > 3 && m[0] == '5' ? "5.0.0" : "", 0, m, size, &fam) >=
	    BOUNCE_CLASS_COUNT)
		abort();
	char *l = NULL, *t = NULL;
	if (bounce_verp_split(m, size, &l, &t) == 0) {
		if (l == NULL || t == NULL || strlen(l) > LK_MAX_LIST_NAME)
			abort();
		free(l);
		free(t);
	} else if (l != NULL || t != NULL) {
		abort();
	}
	free(m);
	free(e);
	return 0;
}
