/*
 * test_filter.c - the content filters' pure parts: a table of clamd answers
 * and one of spamd answers, each with the verdict or the error (its origin
 * and whether it is temporary) it must give, rendered as one line; scores;
 * the endpoints of [filter] clamd and spam.
 *
 * The daemons themselves are tested in tests/cli/filters.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "intake/filter.h"
#include "intake/filter_clamd.h"
#include "intake/filter_spamd.h"

static void render_err(char *out, size_t cap, const struct filter_error *e)
{
	snprintf(out, cap, "error %s %s: %s", filter_origin_name(e->origin),
		 e->temporary ? "temp" : "final", e->text);
}

static void test_clamd_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		const char *want;
	} cases[] = {
	    {"stream: OK", 11, "clean"},
	    {"stream: OK\n", 0, "clean"},
	    {"stream: OK", 0, "clean"},
	    {"stream: Eicar-Test-Signature FOUND", 35, "infected Eicar-Test-Signature"},
	    {"stream: Win.Test.EICAR_HDB-1 FOUND\n", 0, "infected Win.Test.EICAR_HDB-1"},
	    {"INSTREAM size limit exceeded. ERROR", 36,
	     "error peer final: clamd: INSTREAM size limit exceeded."},
	    {"stream: Can't allocate memory ERROR", 0,
	     "error peer temp: clamd: stream: Can't allocate memory"},
	    {"", 0, "error peer temp: clamd: empty answer"},
	    {"stream: FOUND", 0, "error peer temp: clamd: not a clamd answer"},
	    {"stream:  FOUND", 0,
	     "error peer temp: clamd: a FOUND answer without a signature name"},
	    {"stream: Two Words FOUND", 0,
	     "error peer temp: clamd: a FOUND answer without a signature name"},
	    {"stream: \x01\x02 FOUND", 0,
	     "error peer temp: clamd: a FOUND answer without a signature name"},
	    {"stream: OK\nstream: OK", 0, "error peer temp: clamd: not a clamd answer"},
	    {"stream: O", 0, "error peer temp: clamd: not a clamd answer"},
	    {"HTTP/1.0 200 OK", 0, "error peer temp: clamd: not a clamd answer"},
	    {"PONG", 0, "error peer temp: clamd: not a clamd answer"},
	    {"stream: OK\0\0", 12, "error peer temp: clamd: not a clamd answer"},
	    {"\x80\xff ERROR", 0, "error peer temp: clamd: ??"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		struct clamd_verdict v;
		struct filter_error e;
		char got[512];
		if (clamd_reply_parse(cases[i].in, len, &v, &e) < 0)
			render_err(got, sizeof(got), &e);
		else
			snprintf(got, sizeof(got), v.infected ? "infected %s" : "clean", v.name);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("clamd case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
	}
	/* a name past LK_FILTER_MAX_VIRUS_NAME is refused, not cut */
	char longname[LK_FILTER_MAX_VIRUS_NAME + 32];
	int n = snprintf(longname, sizeof(longname), "stream: %0*d FOUND",
			 LK_FILTER_MAX_VIRUS_NAME + 1, 7);
	struct clamd_verdict v;
	struct filter_error e;
	assert_int_equal(clamd_reply_parse(longname, (size_t)n, &v, &e), -1);
	n = snprintf(longname, sizeof(longname), "stream: %0*d FOUND", LK_FILTER_MAX_VIRUS_NAME, 7);
	assert_int_equal(clamd_reply_parse(longname, (size_t)n, &v, &e), 0);
	assert_int_equal(strlen(v.name), LK_FILTER_MAX_VIRUS_NAME);
}

static void render_spamd(char *out, size_t cap, const struct spamd_verdict *v)
{
	char s[32], t[32];
	spamd_score_format(v->score, s, sizeof(s));
	spamd_score_format(v->threshold, t, sizeof(t));
	int n = snprintf(out, cap, "%s %s/%s [", v->is_spam ? "spam" : "ham", s, t);
	for (size_t i = 0; i < v->nsymbols && n > 0 && (size_t)n < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, "%s%s", i ? "," : "", v->symbols[i]);
	if (n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "%s]", v->more_symbols ? ",..." : "");
}

static void test_spamd_table(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1004.2 / 5.0\r\n\r\n", "spam 1004.2/5.0 []"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.9 / 5.0\r\n\r\n", "ham -1.9/5.0 []"},
	    {"SPAMD/1.1 0 EX_OK\r\nspam: yes;3.75/3\r\n\r\n", "spam 3.7/3.0 []"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: True ; 1004.2 / 5.0\r\n\r\n"
	     "GTUBE,NO_RELAYS",
	     "error peer temp: spamd: not a spamd answer (body length)"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 15\r\nSpam: True ; 1004.2 / 5.0\r\n\r\n"
	     "GTUBE,NO_RELAYS",
	     "spam 1004.2/5.0 [GTUBE,NO_RELAYS]"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 18\r\nSpam: True ; 9 / 5.0\r\nX-Other: 1\r\n\r\n"
	     "GTUBE, NO_RELAYS\r\n",
	     "spam 9.0/5.0 [GTUBE,NO_RELAYS]"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0.0 / 5.0\r\n\r\n",
	     "ham 0.0/5.0 []"},
	    {"SPAMD/1.1 76 Bad header line: x\r\n\r\n",
	     "error peer final: spamd: error 76 Bad header line: x"},
	    {"SPAMD/1.1 75 EX_TEMPFAIL\r\n", "error peer temp: spamd: error 75 EX_TEMPFAIL"},
	    {"SPAMD/1.1 0 EX_OK\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (no Spam header)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1004.2 / 5.0\r\n",
	     "error peer temp: spamd: not a spamd answer (headers)"},
	    {"SPAMD/1.1 0 EX_OK\nSpam: True ; 1 / 5.0\n\n",
	     "error peer temp: spamd: not a spamd answer (status line)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5.0\n\r\n",
	     "error peer temp: spamd: not a spamd answer (headers)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5.0\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (Spam header)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1e3 / 5.0\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (Spam header)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5.0\r\nSpam: False ; 0 / 5\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (Spam header)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1234567890 / 5.0\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (Spam header)"},
	    {"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5.0\r\n\r\nGTUBE",
	     "error peer temp: spamd: not a spamd answer (a body without Content-length)"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 9\r\nSpam: True ; 1 / 5.0\r\n\r\nGTUBE,,X_",
	     "error peer temp: spamd: not a spamd answer (symbols)"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 8\r\nSpam: True ; 1 / 5.0\r\n\r\nGT;UBE,X",
	     "error peer temp: spamd: not a spamd answer (symbols)"},
	    {"SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999\r\nSpam: True ; 1 / 5\r\n\r\n",
	     "error peer temp: spamd: not a spamd answer (Content-length)"},
	    {"SPAMD/x 0 EX_OK\r\n", "error peer temp: spamd: not a spamd answer (version)"},
	    {"SPAMD/1.1 -1 EX_OK\r\n", "error peer temp: spamd: not a spamd answer (status code)"},
	    {"HTTP/1.0 200 OK\r\n\r\nhello",
	     "error peer temp: spamd: not a spamd answer (status line)"},
	    {"", "error peer temp: spamd: empty answer"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spamd_verdict v;
		struct filter_error e;
		char got[1024];
		if (spamd_reply_parse(cases[i].in, strlen(cases[i].in), &v, &e) < 0)
			render_err(got, sizeof(got), &e);
		else
			render_spamd(got, sizeof(got), &v);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("spamd case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
	}
}

/* More rule names than kept: the first LK_FILTER_MAX_SPAM_SYMBOLS, and a mark. */
static void test_spamd_many_symbols(void **state)
{
	(void)state;
	struct buf body, all;
	buf_init(&body, 1 << 16);
	buf_init(&all, 1 << 17);
	for (int i = 0; i < LK_FILTER_MAX_SPAM_SYMBOLS + 5; i++)
		buf_printf(&body, "%sRULE_%d", i ? "," : "", i);
	buf_printf(&all,
		   "SPAMD/1.1 0 EX_OK\r\nContent-length: %zu\r\nSpam: True ; 7.5 / 5.0\r\n\r\n",
		   body.len);
	buf_append_str(&all, buf_str(&body));
	struct spamd_verdict v;
	struct filter_error e;
	assert_int_equal(spamd_reply_parse(all.data, all.len, &v, &e), 0);
	assert_int_equal(v.nsymbols, LK_FILTER_MAX_SPAM_SYMBOLS);
	assert_true(v.more_symbols);
	assert_string_equal(v.symbols[0], "RULE_0");
	assert_int_equal(v.score, 7500);
	buf_free(&body);
	buf_free(&all);
}

static void test_scores(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ok;
		int64_t want;
		const char *shown;
	} cases[] = {
	    {"5", 1, 5000, "5.0"},
	    {"5.0", 1, 5000, "5.0"},
	    {"-1.9", 1, -1900, "-1.9"},
	    {"1004.25", 1, 1004250, "1004.2"},
	    {"0.0001", 1, 0, "0.0"},
	    {"-0.05", 1, -50, "0.0"},
	    {"999999", 1, 999999000, "999999.0"},
	    {"1000001", 0, 0, NULL},
	    {"1234567890", 0, 0, NULL},
	    {"", 0, 0, NULL},
	    {"-", 0, 0, NULL},
	    {"5.", 0, 0, NULL},
	    {".5", 0, 0, NULL},
	    {"+5", 0, 0, NULL},
	    {"5 ", 0, 0, NULL},
	    {"1.0000000001", 0, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 12345;
		int r = spamd_score_parse(cases[i].in, strlen(cases[i].in), &v);
		if (r != (cases[i].ok ? 0 : -1) || (cases[i].ok && v != cases[i].want))
			fail_msg("score case %zu (%s): r=%d v=%lld", i, cases[i].in, r,
				 (long long)v);
		if (cases[i].ok) {
			char s[32];
			spamd_score_format(v, s, sizeof(s));
			assert_string_equal(s, cases[i].shown);
		}
	}
}

static void test_endpoints(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want; /* NULL: refused */
	} cases[] = {
	    {"unix:/run/clamav/clamd.ctl", "unix:/run/clamav/clamd.ctl"},
	    {"/run/clamav/clamd.ctl", "unix:/run/clamav/clamd.ctl"},
	    {"127.0.0.1:3310", "127.0.0.1:3310"},
	    {"localhost:783", "localhost:783"},
	    {"[::1]:783", "[::1]:783"},
	    {"localhost", NULL},
	    {"localhost:0", NULL},
	    {"localhost:65536", NULL},
	    {":783", NULL},
	    {"unix:", NULL},
	    {"unix:relative", NULL},
	    {"a b:1", NULL},
	    {"", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct filter_endpoint ep;
		struct buf err;
		buf_init(&err, 1024);
		int r = filter_endpoint_parse("[filter] clamd", cases[i].in, &ep, &err);
		if (cases[i].want == NULL) {
			if (r != -1 || strstr(buf_cstr(&err), "[filter] clamd") == NULL)
				fail_msg("endpoint case %zu (%s) not refused", i, cases[i].in);
		} else {
			char name[256];
			if (r != 0)
				fail_msg("endpoint case %zu (%s): %s", i, cases[i].in,
					 buf_cstr(&err));
			filter_endpoint_name(&ep, name, sizeof(name));
			assert_string_equal(name, cases[i].want);
		}
		buf_free(&err);
	}
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	struct filter_endpoint ep;
	struct buf err;
	buf_init(&err, 1024);
	assert_int_equal(filter_endpoint_parse("k", longpath, &ep, &err), -1);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clamd_table),	       cmocka_unit_test(test_spamd_table),
	    cmocka_unit_test(test_spamd_many_symbols), cmocka_unit_test(test_scores),
	    cmocka_unit_test(test_endpoints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
