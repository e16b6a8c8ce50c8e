/*
 * test_bounce.c - bounce_parse over a corpus of bounces and complaints
 * written after the documented formats of Postfix, Exim, Exchange, Gmail,
 * qmail and Sendmail, ARF reports, and garbled mail (bounces/NAME.eml), plus
 * the VERP split and every prefix of every corpus file (no crash, no leak).
 *
 * Runs in tests/intake (CMakeLists.txt sets the working directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "intake/bounce.h"
#include "intake/mimetext.h"

#define VERP "news-bounces+aeaaaaaacuthisisnotarealmac2@lists.example.org"
#define TOKEN "aeaaaaaacuthisisnotarealmac2"

static const struct corpus_case {
	const char *file;
	const char *envelope; /* the envelope recipient the MTA gave, or NULL */
	enum bounce_kind kind;
	enum bounce_format format;
	size_t nrcpt;
	const char *rcpt;     /* the first failed recipient, or NULL */
	const char *status;   /* its Status, or NULL */
	const char *token;    /* expected VERP token, or NULL */
	const char *feedback; /* ARF Feedback-Type, or NULL */
} corpus[] = {
    {"postfix-dsn-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_DSN, 1, "bob@example.net", "5.1.1",
     TOKEN, NULL},
    {"postfix-dsn-soft-mailbox-full.eml", VERP, BOUNCE_SOFT, BOUNCE_FMT_DSN, 1, "carol@example.net",
     "4.2.2", TOKEN, NULL},
    {"exim-text-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_TEXT, 1, "dave@example.net", NULL, TOKEN,
     NULL},
    {"exchange-dsn-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_DSN, 1, "erin@contoso.example",
     "5.1.10", TOKEN, NULL},
    {"gmail-dsn-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_DSN, 1, "frank.nobody@gmail.com", "5.1.1",
     TOKEN, NULL},
    {"qmail-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_QMAIL, 2, "gina@qmail.example", NULL, TOKEN,
     NULL},
    {"sendmail-dsn-hard.eml", "<" VERP ">", BOUNCE_HARD, BOUNCE_FMT_DSN, 1, "ivan@sendmail.example",
     "5.1.1", TOKEN, NULL},
    {"sendmail-old-text-hard.eml", VERP, BOUNCE_HARD, BOUNCE_FMT_TEXT, 1, "judy@oldhost.example",
     NULL, TOKEN, NULL},
    /* a feedback loop mails a fixed address: the token is in the report */
    {"arf-abuse.eml", "fbl@lists.example.org", BOUNCE_COMPLAINT, BOUNCE_FMT_ARF, 1,
     "kim@yahoo.example", NULL, TOKEN, "abuse"},
    {"arf-auth-failure.eml", VERP, BOUNCE_UNKNOWN, BOUNCE_FMT_ARF, 0, NULL, NULL, TOKEN,
     "auth-failure"},
    {"garbled-truncated.eml", VERP, BOUNCE_UNKNOWN, BOUNCE_FMT_DSN, 1, "bob@example.net", NULL,
     TOKEN, NULL},
    {"garbled-wrong-boundary.eml", NULL, BOUNCE_UNKNOWN, BOUNCE_FMT_TEXT, 0, NULL, NULL, NULL,
     NULL},
    {"garbled-binary.eml", "junk\x01@x", BOUNCE_UNKNOWN, BOUNCE_FMT_NONE, 0, NULL, NULL, NULL,
     NULL},
    {"not-a-bounce-autoreply.eml", "news@lists.example.org", BOUNCE_UNKNOWN, BOUNCE_FMT_NONE, 0,
     NULL, NULL, NULL, NULL},
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void check_case(const struct corpus_case *c, const char *msg, size_t len)
{
	struct bounce b;
	int r = bounce_parse(msg, len, c->envelope, c->envelope ? strlen(c->envelope) : 0, &b);
	assert_int_equal(r, 0);
	if (b.kind != c->kind || b.format != c->format || b.nrcpt != c->nrcpt)
		print_error("%s: kind %s format %d nrcpt %zu\n", c->file, bounce_kind_str(b.kind),
			    (int)b.format, b.nrcpt);
	assert_int_equal(b.kind, c->kind);
	assert_int_equal(b.format, c->format);
	assert_int_equal(b.nrcpt, c->nrcpt);
	if (c->rcpt != NULL) {
		assert_non_null(b.rcpt[0].final_rcpt);
		assert_string_equal(b.rcpt[0].final_rcpt, c->rcpt);
	}
	if (c->status != NULL)
		assert_string_equal(b.rcpt[0].status, c->status);
	if (c->token != NULL) {
		assert_non_null(b.verp_token);
		assert_string_equal(b.verp_token, c->token);
		assert_string_equal(b.verp_list, "news");
	} else {
		assert_null(b.verp_token);
	}
	assert_string_equal(b.feedback_type, c->feedback ? c->feedback : "");
	bounce_free(&b);
}

static void test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		char path[256];
		snprintf(path, sizeof path, "bounces/%s", corpus[i].file);
		size_t len;
		char *msg = slurp(path, &len);
		check_case(&corpus[i], msg, len);
		/* the same with CRLF line ends, as LMTP hands it over */
		char *crlf = malloc(2 * len + 1);
		assert_non_null(crlf);
		size_t n = 0;
		for (size_t k = 0; k < len; k++) {
			if (msg[k] == '\n' && (k == 0 || msg[k - 1] != '\r'))
				crlf[n++] = '\r';
			crlf[n++] = msg[k];
		}
		check_case(&corpus[i], crlf, n);
		free(crlf);
		free(msg);
	}
}

/* Every file in bounces/ is in the table (a new sample needs an expectation). */
static void test_corpus_complete(void **state)
{
	(void)state;
	DIR *d = opendir("bounces");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int found = 0;
		for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
			found |= strcmp(corpus[i].file, e->d_name) == 0;
		if (!found)
			print_error("bounces/%s has no expectation\n", e->d_name);
		assert_true(found);
	}
	closedir(d);
}

static void test_qmail_both(void **state)
{
	(void)state;
	size_t len;
	char *msg = slurp("bounces/qmail-hard.eml", &len);
	struct bounce b;
	assert_int_equal(bounce_parse(msg, len, NULL, 0, &b), 0);
	assert_int_equal(b.nrcpt, 2);
	assert_string_equal(b.rcpt[1].final_rcpt, "hank@other.example");
	assert_int_equal(b.rcpt[0].kind, BOUNCE_HARD);
	assert_int_equal(b.rcpt[1].kind, BOUNCE_HARD);
	bounce_free(&b);
	free(msg);
}

/* Every prefix (and a few bytes flipped) of every sample: never a crash. */
static void test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		char path[256];
		snprintf(path, sizeof path, "bounces/%s", corpus[i].file);
		size_t len;
		char *msg = slurp(path, &len);
		for (size_t n = 0; n <= len; n += 1 + n / 16) {
			char *p = malloc(n ? n : 1); /* exact size: ASan sees overreads */
			assert_non_null(p);
			memcpy(p, msg, n);
			struct bounce b;
			assert_int_equal(bounce_parse(p, n, VERP, strlen(VERP), &b), 0);
			assert_true(b.nrcpt <= LK_MAX_BOUNCE_RCPTS);
			bounce_free(&b);
			if (n > 0)
				p[n / 2] ^= 0x5a;
			assert_int_equal(bounce_parse(p, n, NULL, 0, &b), 0);
			bounce_free(&b);
			free(p);
		}
		free(msg);
	}
}

static void test_many_recipients(void **state)
{
	(void)state;
	char *m = malloc(1 << 16);
	assert_non_null(m);
	int n = snprintf(m, 1 << 16,
			 "From: MAILER-DAEMON@x.example\nMIME-Version: 1.0\n"
			 "Content-Type: multipart/report; report-type=delivery-status; "
			 "boundary=B\n\n--B\nContent-Type: message/delivery-status\n\n"
			 "Reporting-MTA: dns; x.example\n\n");
	for (int i = 0; i < 100; i++)
		n +=
		    snprintf(m + n, (size_t)(1 << 16) - (size_t)n,
			     "Final-Recipient: rfc822; u%d@example.net\nAction: %s\nStatus: %s\n\n",
			     i, i == 7 ? "failed" : "delayed", i == 7 ? "5.2.1" : "4.4.1");
	n += snprintf(m + n, (size_t)(1 << 16) - (size_t)n, "--B--\n");
	struct bounce b;
	assert_int_equal(bounce_parse(m, (size_t)n, NULL, 0, &b), 0);
	assert_int_equal(b.nrcpt, LK_MAX_BOUNCE_RCPTS);
	assert_int_equal(b.kind, BOUNCE_HARD);
	assert_int_equal(b.rcpt[7].kind, BOUNCE_HARD);
	assert_int_equal(b.rcpt[8].kind, BOUNCE_SOFT);
	bounce_free(&b);
	free(m);
}

static void test_oversized(void **state)
{
	(void)state;
	struct bounce b;
	static const char m[] = "From: x\n\nbody";
	assert_int_equal(bounce_parse(m, (size_t)LK_MAX_MESSAGE + 1, VERP, strlen(VERP), &b), -1);
	assert_int_equal(b.kind, BOUNCE_UNKNOWN);
	assert_string_equal(b.verp_token, TOKEN);
	bounce_free(&b);
}

static void test_verp(void **state)
{
	(void)state;
	/* T: 28 characters of base32, the length and alphabet of token.h's
	 * address form; it is not verified here (no key). */
#define T "abcdefghijklmnopqrstuvwxyz23"
#define TU "ABCDEFGHIJKLMNOPQRSTUVWXYZ23"
	static const struct {
		const char *in, *list, *token;
	} t[] = {
	    {"news-bounces+" T "@lists.example.org", "news", T},
	    {"<News-BOUNCES+" TU "@x.example>", "news", TU}, /* case is the decoder's */
	    {"a-b.c-bounces+" T "@x", "a-b.c", T},
	    {"news-bounces+a+" T "@x", NULL, NULL},			 /* the last '+' splits */
	    {"news-bounces+" T "a@x", NULL, NULL},			 /* 29 characters */
	    {"news-bounces+bcdefghijklmnopqrstuvwxyz23@x", NULL, NULL},	 /* 27 */
	    {"news-bounces+abcdefghijklmnopqrstuvwxyz21@x", NULL, NULL}, /* '1' */
	    {"news-bounces+abcdefghijklmnopqrstuvwxyz28@x", NULL, NULL}, /* '8' */
	    {"news-bounces+abcdefghijklmnopqrstuvwxyz-_@x", NULL, NULL}, /* base64url */
	    {"news-bounces+AQUAAAAAAAAAAQAAAAAAAAAqAAAAAAAAAAB0aGlzaXNub3RhcmVhbG1hYw@x", NULL,
	     NULL}, /* the 56-character URL form */
	    {"news-bounces+@x", NULL, NULL},
	    {"-bounces+" T "@x", NULL, NULL},
	    {"news-bounce+" T "@x", NULL, NULL},
	    {"news-bounces+" T, NULL, NULL},
	    {"news-bounces+" T "@", NULL, NULL},
	    {"news+" T "@x", NULL, NULL},
	    {"n/ws-bounces+" T "@x", NULL, NULL},
	    {"", NULL, NULL},
	    {"@", NULL, NULL},
	    {"+@", NULL, NULL},
	};
#undef T
#undef TU
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *l = NULL, *k = NULL;
		int r = bounce_verp_split(t[i].in, strlen(t[i].in), &l, &k);
		if (t[i].list == NULL) {
			if (r != -1)
				fail_msg("case %zu (%s) was split", i, t[i].in);
			assert_null(l);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu (%s) was not split", i, t[i].in);
		assert_string_equal(l, t[i].list);
		assert_string_equal(k, t[i].token);
		free(l);
		free(k);
	}
}

int main(void)
{
	mimetext_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus),
	    cmocka_unit_test(test_corpus_complete),
	    cmocka_unit_test(test_qmail_both),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_many_recipients),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_verp),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return r;
}
