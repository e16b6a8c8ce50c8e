/*
 * test_post.c - the decision for a post to a discussion list: a table of
 * facts, sender standing and filter verdicts, each with the action and
 * reason it must give (the order of the checks shows in the rows where two
 * apply); and the facts read from whole messages (List-Id, X-BeenThere,
 * Precedence, Auto-Submitted, From).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "intake/post.h"

static void rules(struct post_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->max_bytes = 1024 * 1024;
	r->spam_hold = 5000;
	r->spam_discard = 15000;
	r->nonmember = POST_CHOOSE_HOLD;
	r->bulk = POST_CHOOSE_HOLD;
	r->post_policy = LIST_POST_MEMBERS;
	r->moderation = LIST_MODERATION_NONE;
	snprintf(r->list_addr, sizeof(r->list_addr), "team@lists.example.org");
	snprintf(r->list_id, sizeof(r->list_id), "team.lists.example.org");
}

enum { CLEAN, VIRUS, CLAMD_DOWN, CLAMD_FINAL, SPAM7, SPAM20, SPAMD_DOWN, NOSCAN };

static void test_judge_table(void **state)
{
	(void)state;
	static const struct {
		const char *row;
		size_t size;
		int malformed, loop, from_list, bulk;
		enum post_sender who;
		enum list_post_policy policy;
		enum list_moderation mod;
		int scan, accept_unscanned;
		enum post_choice nonmember;
		const char *want; /* "action reason" */
	} cases[] = {
	    {"member, clean", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "accept none"},
	    {"too big first", 2u << 20, 1, 1, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, VIRUS, 0, POST_CHOOSE_HOLD, "refuse too big"},
	    {"malformed", 100, 1, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "refuse malformed"},
	    {"loop before virus", 100, 0, 1, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, VIRUS, 0, POST_CHOOSE_HOLD, "discard loop"},
	    {"from the list", 100, 0, 0, 1, 0, POST_SENDER_OWNER, LIST_POST_ANYONE,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "discard from the list"},
	    {"virus from an owner", 100, 0, 0, 0, 0, POST_SENDER_OWNER, LIST_POST_ANYONE,
	     LIST_MODERATION_NONE, VIRUS, 0, POST_CHOOSE_HOLD, "discard virus"},
	    {"clamd down", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLAMD_DOWN, 0, POST_CHOOSE_HOLD, "retry filter unavailable"},
	    {"clamd down, accept unscanned", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLAMD_DOWN, 1, POST_CHOOSE_HOLD, "accept none"},
	    {"clamd refuses for good", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLAMD_FINAL, 0, POST_CHOOSE_HOLD, "hold filter failed"},
	    {"spam 7: held", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, SPAM7, 0, POST_CHOOSE_HOLD, "hold spam score"},
	    {"spam 20: discarded", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, SPAM20, 0, POST_CHOOSE_HOLD, "discard spam score"},
	    {"spamd down", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, SPAMD_DOWN, 0, POST_CHOOSE_HOLD, "retry filter unavailable"},
	    {"spam before non-member", 100, 0, 0, 0, 0, POST_SENDER_NONMEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, SPAM7, 0, POST_CHOOSE_DISCARD, "hold spam score"},
	    {"bulk", 100, 0, 0, 0, 1, POST_SENDER_MEMBER, LIST_POST_MEMBERS, LIST_MODERATION_NONE,
	     CLEAN, 0, POST_CHOOSE_HOLD, "hold suspicious header"},
	    {"non-member held", 100, 0, 0, 0, 0, POST_SENDER_NONMEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "hold non-member"},
	    {"non-member rejected", 100, 0, 0, 0, 0, POST_SENDER_NONMEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_REJECT, "reject non-member"},
	    {"non-member discarded", 100, 0, 0, 0, 0, POST_SENDER_NONMEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_DISCARD, "discard non-member"},
	    {"anyone", 100, 0, 0, 0, 0, POST_SENDER_NONMEMBER, LIST_POST_ANYONE,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "accept none"},
	    {"owners only: a member", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_OWNERS,
	     LIST_MODERATION_NONE, CLEAN, 0, POST_CHOOSE_HOLD, "hold non-member"},
	    {"owners only: an owner", 100, 0, 0, 0, 0, POST_SENDER_OWNER, LIST_POST_OWNERS,
	     LIST_MODERATION_ALL, CLEAN, 0, POST_CHOOSE_HOLD, "accept none"},
	    {"moderation all", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_ALL, CLEAN, 0, POST_CHOOSE_HOLD, "hold moderated member"},
	    {"moderation new", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NEW, CLEAN, 0, POST_CHOOSE_HOLD, "hold moderated member"},
	    {"no filters configured", 100, 0, 0, 0, 0, POST_SENDER_MEMBER, LIST_POST_MEMBERS,
	     LIST_MODERATION_NONE, NOSCAN, 0, POST_CHOOSE_HOLD, "accept none"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct post_rules r;
		rules(&r);
		r.post_policy = cases[i].policy;
		r.moderation = cases[i].mod;
		r.nonmember = cases[i].nonmember;
		r.filter_fail_accept = cases[i].accept_unscanned;
		struct post_facts f;
		memset(&f, 0, sizeof(f));
		f.size = cases[i].size;
		f.malformed = cases[i].malformed;
		f.our_list_id = cases[i].loop;
		f.from_list = cases[i].from_list;
		f.bulk = cases[i].bulk;
		struct post_scan s;
		memset(&s, 0, sizeof(s));
		int sc = cases[i].scan;
		s.clamd_ran = sc != NOSCAN;
		s.spamd_ran = sc != NOSCAN && sc != VIRUS && sc != CLAMD_DOWN && sc != CLAMD_FINAL;
		if (sc == VIRUS) {
			s.virus.infected = 1;
			snprintf(s.virus.name, sizeof(s.virus.name), "Eicar-Test-Signature");
		}
		if (sc == CLAMD_DOWN || sc == CLAMD_FINAL) {
			s.clamd_failed = 1;
			filter_fail(&s.clamd_err, FILTER_ORIGIN_PEER, sc == CLAMD_DOWN, "x");
		}
		if (sc == SPAMD_DOWN) {
			s.spamd_failed = 1;
			filter_fail(&s.spamd_err, FILTER_ORIGIN_PEER, 1, "x");
		}
		s.spam.score = sc == SPAM7 ? 7000 : sc == SPAM20 ? 20000 : 1200;
		struct post_decision d;
		post_judge(&r, &f, cases[i].who, &s, &d);
		char got[128];
		snprintf(got, sizeof(got), "%s %s", post_action_name(d.action),
			 post_reason_name(d.reason));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("row \"%s\": got \"%s\", want \"%s\"", cases[i].row, got,
				 cases[i].want);
		if (sc == SPAM7 && strcmp(got, "hold spam score") == 0)
			assert_string_equal(d.detail, "spam score 7.0");
		if (sc == VIRUS && d.reason == POST_REASON_VIRUS)
			assert_string_equal(d.detail, "Eicar-Test-Signature");
	}
}

static void facts_of(const char *msg, struct post_facts *f)
{
	struct post_rules r;
	rules(&r);
	post_facts_read(&r, msg, strlen(msg), f);
}

static void test_facts(void **state)
{
	(void)state;
	static const struct {
		const char *msg;
		int malformed, loop, from_list, bulk, mid;
	} cases[] = {
	    {"From: Ann <ann@example.org>\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n", 0, 0,
	     0, 0, 1},
	    {"From: ann@example.org\r\nList-Id: Team <team.lists.example.org>\r\n\r\nhi\r\n", 0, 1,
	     0, 0, 0},
	    {"From: ann@example.org\r\nList-Id: <TEAM.Lists.Example.ORG>\r\n\r\nhi\r\n", 0, 1, 0, 0,
	     0},
	    {"From: ann@example.org\r\nList-Id: Other <other.lists.example.org>\r\n\r\nhi\r\n", 0,
	     0, 0, 0, 0},
	    {"From: ann@example.org\r\nList-Id: <team.lists.example.org.evil>\r\n\r\nhi\r\n", 0, 0,
	     0, 0, 0},
	    {"From: ann@example.org\r\nX-BeenThere: team@lists.example.org\r\n\r\nhi\r\n", 0, 1, 0,
	     0, 0},
	    {"From: ann@example.org\r\nX-BeenThere: team@elsewhere.example\r\n\r\nhi\r\n", 0, 0, 0,
	     0, 0},
	    {"From: Team <Team@Lists.Example.Org>\r\n\r\nhi\r\n", 0, 0, 1, 0, 0},
	    {"From: ann@example.org\r\nPrecedence: bulk\r\n\r\nhi\r\n", 0, 0, 0, 1, 0},
	    {"From: ann@example.org\r\nPrecedence: first-class\r\n\r\nhi\r\n", 0, 0, 0, 0, 0},
	    {"From: ann@example.org\r\nAuto-Submitted: no\r\n\r\nhi\r\n", 0, 0, 0, 0, 0},
	    {"From: ann@example.org\r\nAuto-Submitted: auto-replied; owner-email=x@y\r\n\r\nhi\r\n",
	     0, 0, 0, 1, 0},
	    {"Subject: no from\r\n\r\nhi\r\n", 1, 0, 0, 0, 0},
	    {"From: a@example.org, b@example.org\r\n\r\nhi\r\n", 1, 0, 0, 0, 0},
	    {"From: not an address\r\n\r\nhi\r\n", 1, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct post_facts f;
		facts_of(cases[i].msg, &f);
		if (f.malformed != cases[i].malformed || f.our_list_id != cases[i].loop ||
		    f.from_list != cases[i].from_list || f.bulk != cases[i].bulk ||
		    f.has_message_id != cases[i].mid)
			fail_msg("message %zu: malformed %d loop %d from_list %d bulk %d mid %d", i,
				 f.malformed, f.our_list_id, f.from_list, f.bulk, f.has_message_id);
		if (!f.malformed)
			assert_non_null(f.from.key);
		post_facts_free(&f);
	}
	/* over the limit: judged on the size alone, not parsed */
	struct post_rules r;
	rules(&r);
	r.max_bytes = 10;
	struct post_facts f;
	const char *m = "From: ann@example.org\r\n\r\nhello there\r\n";
	post_facts_read(&r, m, strlen(m), &f);
	struct post_decision d;
	post_judge(&r, &f, POST_SENDER_MEMBER, NULL, &d);
	assert_int_equal(d.action, POST_REFUSE);
	assert_int_equal(d.reason, POST_REASON_TOO_BIG);
	post_facts_free(&f);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(post_action_name(POST_RETRY), "retry");
	assert_string_equal(post_reason_name(POST_REASON_NON_MEMBER), "non-member");
	assert_string_equal(post_reason_name((enum post_reason)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_judge_table),
	    cmocka_unit_test(test_facts),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
