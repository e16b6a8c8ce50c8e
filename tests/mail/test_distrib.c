/*
 * test_distrib.c - a post as the members of a discussion list receive it
 * (mail/distrib.h): the list's headers, the subject prefix never doubled,
 * Reply-To by policy, a Message-ID only when missing, the headers that are
 * the list's (or that its changes break) taken off, the footer at the end
 * of a plain text, as a last part of multipart/mixed, or with any other body
 * wrapped untouched in a new multipart/mixed; a header block that is not
 * fields is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "mail/distrib.h"

static const struct distrib_rcpt RCPT = {"https://l.example.org/u/TOK", "club-unsubscribe+T@x.org",
					 "https://l.example.org/p/TOK", "Be kind.", "1 Main St"};

/* Prepares msg for the list club@x.org (reply_to rt) and composes it for
 * RCPT into out; asserts both succeed. */
static void run(const char *msg, enum distrib_reply_to rt, struct buf *out)
{
	struct distrib_list dl = {"club",     "x.org",	   "The Club",	  1, rt, NULL,
				  "Be kind.", "1 Main St", "<new@x.org>", 0};
	struct buf post, err;
	buf_init(&post, LK_MAX_MESSAGE);
	buf_init(&err, 256);
	if (distrib_prepare(&dl, msg, strlen(msg), &post, &err) != 0)
		fail_msg("prepare: %s", buf_cstr(&err));
	if (distrib_compose(post.data, post.len, &RCPT, out, &err) != 0)
		fail_msg("compose: %s", buf_cstr(&err));
	buf_free(&post);
	buf_free(&err);
}

static int has(const struct buf *b, const char *z)
{
	return strstr(buf_cstr(b), z) != NULL;
}

static int count(const struct buf *b, const char *z)
{
	int n = 0;
	for (const char *p = buf_cstr(b); (p = strstr(p, z)) != NULL; p++)
		n++;
	return n;
}

static void test_headers(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, LK_MAX_MESSAGE);
	run("Return-Path: <a@y.org>\nFrom: Ann <a@y.org>\nTo: club@x.org\nSubject: Hi\n"
	    "Message-ID: <m1@y.org>\nList-Id: other <o.y.org>\nPrecedence: bulk\n"
	    "DKIM-Signature: v=1; a=rsa-sha256;\n b=abc\nApproved: secret\nReply-To: z@y.org\n\n"
	    "Hello\n",
	    DISTRIB_REPLY_LIST, &out);
	assert_true(has(&out, "\r\nSubject: [club] Hi\r\n"));
	assert_true(has(&out, "Message-ID: <m1@y.org>\r\n"));
	assert_false(has(&out, "<new@x.org>"));
	assert_true(has(&out, "List-Id: \"The Club\" <club.x.org>\r\n"));
	assert_true(has(&out, "List-Post: <mailto:club@x.org>\r\n"));
	assert_true(has(&out, "List-Help: <mailto:club-request@x.org?subject=help>\r\n"));
	assert_true(has(&out, "Precedence: list\r\nX-BeenThere: club@x.org\r\n"));
	assert_true(has(&out, "List-Unsubscribe: <https://l.example.org/u/TOK>, "
			      "<mailto:club-unsubscribe+T@x.org>\r\n"
			      "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n"));
	assert_true(has(&out, "Reply-To: club@x.org\r\n"));
	assert_int_equal(count(&out, "Reply-To:"), 1);
	assert_int_equal(count(&out, "List-Id:"), 1);
	assert_false(has(&out, "Return-Path"));
	assert_false(has(&out, "bulk"));
	assert_false(has(&out, "DKIM-Signature"));
	assert_false(has(&out, "secret"));
	/* the plain text takes the footer at its end */
	assert_true(has(&out, "\r\n\r\nHello\r\n\r\n-- \r\nBe kind.\r\nUnsubscribe: "
			      "https://l.example.org/u/TOK\r\nPreferences: "
			      "https://l.example.org/p/TOK\r\n1 Main St\r\n"));
	buf_free(&out);
}

static void test_subject_and_ids(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, LK_MAX_MESSAGE);
	/* a reply keeps its one prefix; no Message-ID: the one given */
	run("From: a@y.org\r\nSubject: Re: [Club] Hi\r\n\r\nx\r\n", DISTRIB_REPLY_POSTER, &out);
	assert_true(has(&out, "Subject: Re: [Club] Hi\r\n"));
	assert_int_equal(count(&out, "[club]") + count(&out, "[Club]"), 1);
	assert_true(has(&out, "Message-ID: <new@x.org>\r\n"));
	assert_true(has(&out, "Reply-To: a@y.org\r\n"));
	buf_reset(&out);
	/* no subject: one is made; folded subject kept whole */
	run("From: a@y.org\n\nx\n", DISTRIB_REPLY_NONE, &out);
	assert_true(has(&out, "Subject: [club] (no subject)\r\n"));
	assert_false(has(&out, "Reply-To"));
	buf_reset(&out);
	run("From: a@y.org\nSubject: a long\n folded one\n\nx\n", DISTRIB_REPLY_NONE, &out);
	assert_true(has(&out, "Subject: [club] a long\r\n folded one\r\n"));
	buf_free(&out);
}

static void test_bodies(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, LK_MAX_MESSAGE);
	/* multipart/mixed: the footer is its last part */
	run("From: a@y.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BB\"\n\n"
	    "--BB\nContent-Type: text/plain\n\none\n--BB\nContent-Type: application/pdf\n"
	    "Content-Transfer-Encoding: base64\n\nAAAA\n--BB--\n",
	    DISTRIB_REPLY_NONE, &out);
	assert_true(has(&out, "AAAA\r\n--BB\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_true(has(&out, "Unsubscribe: https://l.example.org/u/TOK\r\n"));
	assert_true(has(&out, "1 Main St\r\n\r\n--BB--\r\n"));
	assert_int_equal(count(&out, "multipart/mixed"), 1);
	buf_reset(&out);
	/* HTML (or base64, or a non-UTF-8 charset): wrapped, kept byte for byte */
	run("From: a@y.org\nContent-Type: text/html; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n<p>caf=E9</p>\n",
	    DISTRIB_REPLY_NONE, &out);
	assert_true(
	    has(&out, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_lk"));
	assert_true(has(&out,
			"\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9</p>\r\n"));
	assert_int_equal(count(&out, "Content-Transfer-Encoding: quoted-printable"), 2);
	buf_reset(&out);
	/* a non-ASCII footer stays out of a 7bit text: wrapped */
	struct distrib_list dl = {"club", "x.org",	 "", 0,		  DISTRIB_REPLY_NONE,
				  NULL,	  "Caf\xc3\xa9", "", "<n@x.org>", 0};
	struct buf post, err;
	buf_init(&post, LK_MAX_MESSAGE);
	buf_init(&err, 256);
	const char *m = "From: a@y.org\nSubject: s\n\nplain\n";
	assert_int_equal(distrib_prepare(&dl, m, strlen(m), &post, &err), 0);
	assert_true(has(&post, "multipart/mixed"));
	assert_false(has(&post, "[club]"));
	buf_free(&post);
	buf_free(&err);
	buf_free(&out);
}

/* DMARC munging: From is the list's, the poster in Reply-To and
 * X-Original-From; the domain of a From is read. */
static void test_munge(void **state)
{
	(void)state;
	struct distrib_list dl = {"club", "x.org", "The Club", 1,	    DISTRIB_REPLY_NONE,
				  NULL,	  "",	   "",	       "<n@x.org>", 1};
	struct buf post, err;
	buf_init(&post, LK_MAX_MESSAGE);
	buf_init(&err, 256);
	const char *m =
	    "From: \"Ann A.\" <ann@Strict.Example>\nReply-To: other@y.org\nSubject: s\n\nhi\n";
	assert_int_equal(distrib_prepare(&dl, m, strlen(m), &post, &err), 0);
	if (!has(&post, "From: \"Ann A.\" via \"The Club\" <club@x.org>\r\n"))
		fail_msg("%s", buf_cstr(&post));
	assert_true(has(&post, "X-Original-From: \"Ann A.\" <ann@Strict.Example>\r\n"));
	assert_true(has(&post, "Reply-To: \"Ann A.\" <ann@Strict.Example>\r\n"));
	assert_int_equal(count(&post, "From: "), 2); /* From and X-Original-From */
	assert_false(has(&post, "other@y.org"));
	char d[64];
	assert_int_equal(distrib_from_domain(m, strlen(m), d, sizeof(d)), 0);
	assert_string_equal(d, "strict.example");
	buf_reset(&post);
	const char *bare = "From: bob@q.example\n\nhi\n";
	assert_int_equal(distrib_prepare(&dl, bare, strlen(bare), &post, &err), 0);
	if (!has(&post, "From: \"bob\" via \"The Club\" <club@x.org>\r\n"))
		fail_msg("%s", buf_cstr(&post));
	assert_int_equal(distrib_from_domain("Subject: x\n\n", 13, d, sizeof(d)), -1);
	buf_free(&post);
	buf_free(&err);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "no colon here\n\nbody\n",
	    ": no name\n\nbody\n",
	    "From: a@y.org\nBad Name: x\n\nbody\n",
	};
	struct distrib_list dl = {"club", "x.org", "", 1,	    DISTRIB_REPLY_NONE,
				  NULL,	  "",	   "", "<n@x.org>", 0};
	struct buf post, err;
	buf_init(&post, LK_MAX_MESSAGE);
	buf_init(&err, 256);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(distrib_prepare(&dl, bad[i], strlen(bad[i]), &post, &err), -1);
		assert_int_equal(post.len, 0);
	}
	const char nul[] = "From: a@y.org\nSubject: a\0b\n\nbody\n";
	assert_int_equal(distrib_prepare(&dl, nul, sizeof(nul) - 1, &post, &err), -1);
	/* a prepared post is what compose takes */
	assert_int_equal(distrib_compose("junk", 4, &RCPT, &post, &err), -1);
	buf_free(&post);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers), cmocka_unit_test(test_subject_and_ids),
	    cmocka_unit_test(test_bodies),  cmocka_unit_test(test_munge),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
