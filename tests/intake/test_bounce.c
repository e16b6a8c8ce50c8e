/*
 * test_bounce.c - bounce_parse over the corpus in bounces/: every row of
 * bounces/expected.tsv (file, class, final) is asserted, and every file
 * there has a row; the hand-written samples (bounces/NAME.eml: Postfix,
 * Exim, Exchange, Gmail, qmail, Sendmail, ARF, garbled mail) also by their
 * recipients, status and token; flufl.bounce's real bounces
 * (bounces/flufl/, see bounces/README.md) by class. Then every row of the
 * phrase table by its example, the report shapes the classifier must read
 * (a report nested in multipart/mixed and in an attached message, folded
 * diagnostics, non-conforming fields, final 4xx, policy 5.7.x), the job
 * of the returned Message-ID, the VERP split, and every prefix of the
 * samples (no crash, no leak).
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
#include <strings.h>

#include "core/limits.h"
#include "intake/bounce.h"
#include "intake/mimetext.h"

#define VERP "news-bounces+aeaaaaaacuthisisnotarealmac2@lists.example.org"
#define TOKEN "aeaaaaaacuthisisnotarealmac2"

static const struct corpus_case {
	const char *file;
	const char *envelope; /* the envelope recipient the MTA gave, or NULL */
	enum bounce_class cls;
	enum bounce_format format;
	size_t nrcpt;
	const char *rcpt;     /* the first failed recipient, or NULL */
	const char *status;   /* its Status, or NULL */
	const char *token;    /* expected VERP token, or NULL */
	const char *feedback; /* ARF Feedback-Type, or NULL */
} corpus[] = {
    {"postfix-dsn-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_DSN, 1, "bob@example.net", "5.1.1",
     TOKEN, NULL},
    {"postfix-dsn-soft-mailbox-full.eml", VERP, BOUNCE_FULL, BOUNCE_FMT_DSN, 1, "carol@example.net",
     "4.2.2", TOKEN, NULL},
    {"exim-text-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_TEXT, 1, "dave@example.net", NULL, TOKEN,
     NULL},
    {"exchange-dsn-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_DSN, 1, "erin@contoso.example",
     "5.1.10", TOKEN, NULL},
    {"gmail-dsn-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_DSN, 1, "frank.nobody@gmail.com", "5.1.1",
     TOKEN, NULL},
    {"qmail-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_QMAIL, 2, "gina@qmail.example", NULL, TOKEN,
     NULL},
    {"sendmail-dsn-hard.eml", "<" VERP ">", BOUNCE_GONE, BOUNCE_FMT_DSN, 1, "ivan@sendmail.example",
     "5.1.1", TOKEN, NULL},
    {"sendmail-old-text-hard.eml", VERP, BOUNCE_GONE, BOUNCE_FMT_TEXT, 1, "judy@oldhost.example",
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
	if (b.cls != c->cls || b.format != c->format || b.nrcpt != c->nrcpt)
		print_error("%s: class %s format %d nrcpt %zu\n", c->file, bounce_class_name(b.cls),
			    (int)b.format, b.nrcpt);
	assert_int_equal(b.cls, c->cls);
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

/* --- bounces/expected.tsv ------------------------------------------------ */

struct row {
	char file[128];
	enum bounce_class cls;
	int final;
};

/* The rows of bounces/expected.tsv: FILE TAB CLASS TAB yes|no TAB SOURCE. */
static size_t read_table(struct row *rows, size_t max)
{
	FILE *f = fopen("bounces/expected.tsv", "r");
	assert_non_null(f);
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		/* three tab-separated fields, then the source */
		char *file = line, *cls = strchr(file, '\t');
		assert_non_null(cls);
		*cls++ = '\0';
		char *fin = strchr(cls, '\t');
		assert_non_null(fin);
		*fin++ = '\0';
		fin[strcspn(fin, "\t\n")] = '\0';
		assert_true(n < max);
		size_t fl = strlen(file);
		assert_true(fl < sizeof rows[n].file);
		memcpy(rows[n].file, file, fl + 1);
		if (bounce_class_parse(cls, &rows[n].cls) != 0)
			fail_msg("expected.tsv: %s: no class %s", file, cls);
		assert_true(!strcmp(fin, "yes") || !strcmp(fin, "no"));
		rows[n].final = !strcmp(fin, "yes");
		n++;
	}
	fclose(f);
	return n;
}

#define MAX_ROWS 400

static int check_row(const struct row *r, const char *msg, size_t len)
{
	struct bounce b;
	assert_int_equal(bounce_parse(msg, len, VERP, strlen(VERP), &b), 0);
	int ok = b.cls == r->cls && b.final == r->final;
	if (!ok)
		print_error("%s: class %s final %d, expected %s final %d\n", r->file,
			    bounce_class_name(b.cls), b.final, bounce_class_name(r->cls), r->final);
	bounce_free(&b);
	return ok;
}

/* Every row, as it is on disk and with CRLF line ends (as LMTP hands it
 * over); all failures are printed before the test fails. */
static void test_table(void **state)
{
	(void)state;
	static struct row rows[MAX_ROWS];
	size_t n = read_table(rows, MAX_ROWS), bad = 0;
	assert_true(n >= 100);
	for (size_t i = 0; i < n; i++) {
		char path[sizeof rows[i].file + 16];
		int pn = snprintf(path, sizeof path, "bounces/%.*s", (int)sizeof rows[i].file - 1,
				  rows[i].file);
		assert_true(pn > 0 && (size_t)pn < sizeof path);
		size_t len;
		char *msg = slurp(path, &len);
		bad += !check_row(&rows[i], msg, len);
		char *crlf = malloc(2 * len + 1);
		assert_non_null(crlf);
		size_t k = 0;
		for (size_t j = 0; j < len; j++) {
			if (msg[j] == '\n' && (j == 0 || msg[j - 1] != '\r'))
				crlf[k++] = '\r';
			crlf[k++] = msg[j];
		}
		bad += !check_row(&rows[i], crlf, k);
		free(crlf);
		free(msg);
	}
	assert_int_equal(bad, 0);
}

static void must_have_rows(const char *dir, const char *prefix, const struct row *rows, size_t n)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    (!strstr(e->d_name, ".eml") && !strstr(e->d_name, ".txt")))
			continue;
		char name[512];
		snprintf(name, sizeof name, "%s%s", prefix, e->d_name);
		int found = 0;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(rows[i].file, name) == 0;
		if (!found)
			print_error("bounces/%s has no row in expected.tsv\n", name);
		assert_true(found);
	}
	closedir(d);
}

/* Every message file in bounces/ is in the table (a new sample needs an
 * expectation), and every hand-written sample also in the detailed cases. */
static void test_corpus_complete(void **state)
{
	(void)state;
	static struct row rows[MAX_ROWS];
	size_t n = read_table(rows, MAX_ROWS);
	must_have_rows("bounces", "", rows, n);
	must_have_rows("bounces/flufl", "flufl/", rows, n);
	must_have_rows("bounces/postfix", "postfix/", rows, n);
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		int found = 0;
		for (size_t k = 0; k < n; k++)
			found |= strcmp(rows[k].file, corpus[i].file) == 0 &&
				 rows[k].cls == corpus[i].cls;
		assert_true(found);
	}
}

/* --- the phrase table ------------------------------------------------------ */

/* Every row's example, as the reason of a Postfix-style notice, is classed
 * as its row says, and by that row (no earlier row takes it). */
static void test_phrase_rows(void **state)
{
	(void)state;
	assert_true(bounce_phrases_count > 50);
	size_t bad = 0;
	for (size_t i = 0; i < bounce_phrases_count; i++) {
		const struct bounce_phrase *p = &bounce_phrases[i];
		const char *fam = NULL;
		enum bounce_class got =
		    bounce_classify("", 0, p->example, strlen(p->example), &fam);
		const struct bounce_phrase *first = NULL;
		for (size_t k = 0; k < bounce_phrases_count && first == NULL; k++) {
			const char *a = p->example;
			size_t nl = strlen(bounce_phrases[k].phrase);
			for (; *a && first == NULL; a++)
				if (strncasecmp(a, bounce_phrases[k].phrase, nl) == 0)
					first = &bounce_phrases[k];
		}
		/* a status code in the example may decide before the phrase does
		 * (5.7.1 over "mailbox unavailable"), but never against its row */
		if (got != p->cls || first != p) {
			print_error("row %zu (%s \"%s\"): class %s, first row %s\n", i, p->family,
				    p->phrase, bounce_class_name(got),
				    first ? first->phrase : "(none)");
			bad++;
		}
		/* the same in a whole notice, folded as Postfix folds */
		char m[2048];
		int n =
		    snprintf(m, sizeof m,
			     "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail "
			     "Returned to Sender\n\nThis is the mail system.\n\n<ann@example.net>: "
			     "host mx.example.net[192.0.2.9] said:\n    %s\n",
			     p->example);
		assert_true(n > 0 && (size_t)n < sizeof m);
		struct bounce b;
		assert_int_equal(bounce_parse(m, (size_t)n, NULL, 0, &b), 0);
		if (b.cls != p->cls) {
			print_error("row %zu in a notice: class %s\n", i, bounce_class_name(b.cls));
			bad++;
		}
		bounce_free(&b);
	}
	assert_int_equal(bad, 0);
}

static void test_class_names(void **state)
{
	(void)state;
	for (int c = 0; c < BOUNCE_CLASS_COUNT; c++) {
		enum bounce_class back;
		assert_int_equal(bounce_class_parse(bounce_class_name((enum bounce_class)c), &back),
				 0);
		assert_int_equal(back, c);
	}
	enum bounce_class x;
	assert_int_equal(bounce_class_parse("hard", &x), -1);
	assert_string_equal(bounce_class_name(BOUNCE_SENDER_POLICY), "sender-policy");
	assert_string_equal(bounce_class_name(BOUNCE_REJECTED_CONTENT), "rejected-content");
}

/* --- report shapes ----------------------------------------------------------- */

static enum bounce_class parse_class(const char *m, int *final, int64_t *job)
{
	struct bounce b;
	assert_int_equal(bounce_parse(m, strlen(m), VERP, strlen(VERP), &b), 0);
	enum bounce_class c = b.cls;
	if (final != NULL)
		*final = b.final;
	if (job != NULL)
		*job = b.job_id;
	bounce_free(&b);
	return c;
}

#define DSN_HEAD                                                                                   \
	"From: MAILER-DAEMON@mx.example.net\nTo: " VERP "\nSubject: report\nMIME-Version: 1.0\n"

/* A report inside multipart/mixed (McAfee, forwarding gateways), and one in
 * an attached message. */
static void test_nested_report(void **state)
{
	(void)state;
	static const char mixed[] =
	    DSN_HEAD "Content-Type: multipart/mixed; boundary=OUT\n\n--OUT\n"
		     "Content-Type: text/plain\n\nScanned by the gateway.\n--OUT\n"
		     "Content-Type: multipart/report; report-type=delivery-status; boundary=IN\n\n"
		     "--IN\nContent-Type: text/plain\n\nDelivery failed.\n--IN\n"
		     "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 5.1.1\n\n"
		     "--IN--\n--OUT--\n";
	int final = 0;
	assert_int_equal(parse_class(mixed, &final, NULL), BOUNCE_GONE);
	assert_int_equal(final, 1);
	static const char attached[] =
	    "From: gateway@example.net\nSubject: FW: report\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=OUT\n\n--OUT\n"
	    "Content-Type: text/plain\n\nForwarded.\n--OUT\nContent-Type: message/rfc822\n\n"
	    "From: MAILER-DAEMON@mx.example.net\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=IN\n\n"
	    "--IN\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 5.2.2\n\n"
	    "--IN--\n--OUT--\n";
	assert_int_equal(parse_class(attached, NULL, NULL), BOUNCE_FULL);
}

/* Diagnostics folded over lines; generic Status 5.0.0 with the reason in
 * the Diagnostic-Code; non-conforming Action and Status. */
static void test_fields(void **state)
{
	(void)state;
	static const char folded[] =
	    DSN_HEAD "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
		     "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 5.0.0\n"
		     "Diagnostic-Code: X-Postfix; permission denied. Command output: Mail\n"
		     "    quota exceeded\n\n--B--\n";
	assert_int_equal(parse_class(folded, NULL, NULL), BOUNCE_FULL);
	static const char host[] =
	    DSN_HEAD "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
		     "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: rfc822; ann@example.invalid\nAction: failed\n"
		     "Status: 5.0.0\nDiagnostic-Code: X-Postfix; Host or domain name not found.\n"
		     " Name service error for name=example.invalid type=A: Host not\n"
		     " found\n\n--B--\n";
	assert_int_equal(parse_class(host, NULL, NULL), BOUNCE_GONE);
	static const char nonconf[] =
	    DSN_HEAD "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
		     "--B\nContent-Type: text/plain\n\nann@example.net: mailbox not found\n"
		     "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: <ann@example.net>\nAction: failure\nStatus: 550\n\n--B--\n";
	int final = 0;
	assert_int_equal(parse_class(nonconf, &final, NULL), BOUNCE_GONE);
	assert_int_equal(final, 1);
}

/* A final failure with a 4.x.x status counts as a final temporary one; a
 * delay does not; a 450 "user unknown" (a verification that failed for
 * now) is not gone; 5.7.x and blocklists are sender-policy, spam verdicts
 * rejected-content, whatever else the text says. */
static void test_verdicts(void **state)
{
	(void)state;
	static const struct {
		const char *status, *text;
		enum bounce_class cls;
	} t[] = {
	    {"4.4.7", "delivery time expired", BOUNCE_TEMPORARY},
	    {"", "450 4.1.1 <ann@example.net>: Recipient address rejected: User unknown",
	     BOUNCE_TEMPORARY},
	    {"5.0.0", "550 5.1.1 <ann@example.net>... User unknown", BOUNCE_GONE},
	    {"5.7.1", "550 5.7.1 Requested action not taken: mailbox unavailable",
	     BOUNCE_SENDER_POLICY},
	    {"5.0.0",
	     "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using "
	     "zen.spamhaus.org",
	     BOUNCE_SENDER_POLICY},
	    {"5.7.1",
	     "550-5.7.1 Our system has detected that this message is likely unsolicited "
	     "mail.",
	     BOUNCE_REJECTED_CONTENT},
	    {"5.1.1", "550-5.1.1 The email account that you tried to reach does not exist.",
	     BOUNCE_GONE},
	    {"5.2.2", "552-5.2.2 The email account that you tried to reach is over quota.",
	     BOUNCE_FULL},
	    {"5.3.4", "552 5.3.4 Message size exceeds fixed limit", BOUNCE_REJECTED_CONTENT},
	    {"5.0.0", "554 Too many hops", BOUNCE_UNKNOWN},
	    {"", "", BOUNCE_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		enum bounce_class c =
		    bounce_classify(t[i].status, 0, t[i].text, strlen(t[i].text), NULL);
		if (c != t[i].cls)
			fail_msg("case %zu: %s", i, bounce_class_name(c));
	}
	static const char failed4[] = DSN_HEAD
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 4.4.7\n\n--B--\n";
	int final = 0;
	assert_int_equal(parse_class(failed4, &final, NULL), BOUNCE_TEMPORARY);
	assert_int_equal(final, 1);
	static const char qmail[] =
	    "From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\n"
	    "Hi. This is the qmail-send program at mx.example.net.\n\n<ann@example.net>:\n"
	    "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"
	    "I'm not going to try again; this message has been in the queue too long.\n\n";
	assert_int_equal(parse_class(qmail, &final, NULL), BOUNCE_TEMPORARY);
	assert_int_equal(final, 1);
	static const char notice[] =
	    "From: postmaster@mx.example.net\nSubject: Undeliverable Mail\n\n"
	    "Delivery failed 20 attempts: ann@example.net\n\nOriginal message follows.\n";
	assert_int_equal(parse_class(notice, &final, NULL), BOUNCE_TEMPORARY);
	assert_int_equal(final, 1);
}

/* The job of the returned message, from our Message-ID. */
static void test_job(void **state)
{
	(void)state;
	static const char m[] =
	    DSN_HEAD "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
		     "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 5.7.1\n\n"
		     "--B\nContent-Type: text/rfc822-headers\n\nFrom: news@lists.example.org\n"
		     "Message-ID: <j42.s7.0123456789ab@lists.example.org>\n\n--B--\n";
	int64_t job = 0;
	assert_int_equal(parse_class(m, NULL, &job), BOUNCE_SENDER_POLICY);
	assert_int_equal(job, 42);
	static const char other[] = DSN_HEAD "Message-ID: <j42@elsewhere.example>\n\nhello\n";
	assert_int_equal(parse_class(other, NULL, &job), BOUNCE_UNKNOWN);
	assert_int_equal(job, 0);
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
	assert_int_equal(b.rcpt[0].cls, BOUNCE_GONE);
	assert_int_equal(b.rcpt[1].cls, BOUNCE_GONE);
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
	assert_int_equal(b.cls, BOUNCE_GONE);
	assert_int_equal(b.rcpt[7].cls, BOUNCE_GONE);
	assert_int_equal(b.rcpt[7].final, 1);
	assert_int_equal(b.rcpt[8].cls, BOUNCE_TEMPORARY);
	assert_int_equal(b.rcpt[8].final, 0);
	bounce_free(&b);
	free(m);
}

static void test_oversized(void **state)
{
	(void)state;
	struct bounce b;
	static const char m[] = "From: x\n\nbody";
	assert_int_equal(bounce_parse(m, (size_t)LK_MAX_MESSAGE + 1, VERP, strlen(VERP), &b), -1);
	assert_int_equal(b.cls, BOUNCE_UNKNOWN);
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
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_corpus_complete),
	    cmocka_unit_test(test_phrase_rows),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_nested_report),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_job),
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
