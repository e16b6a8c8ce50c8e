/*
 * fuzz_post.c - libFuzzer driver for the post path up to the decision
 * (intake/post.c): post_facts_read over the whole input as a message, then
 * post_judge with every sender standing and a scan chosen by the first byte.
 *
 * Checks: never a crash, a leak or a read past the input; a decision always
 * has a valid action and reason; a malformed post is refused; a post over
 * the limit is refused as too big and never parsed; only an accepted post
 * has no reason; then distrib_prepare (mail/distrib.h) over the same input,
 * and whatever it prepares distrib_compose must take. Seeds:
 * corpus/fuzz_post/.
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake/mimetext.h"
#include "core/limits.h"
#include "intake/post.h"
#include "mail/distrib.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mimetext_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 18))
		return 0;
	uint8_t sel = data[0];
	size_t n = size - 1;
	char *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	memcpy(p, data + 1, n);
	struct post_rules r;
	memset(&r, 0, sizeof(r));
	r.max_bytes = sel & 0x80 ? 64 : 1u << 18;
	r.spam_hold = 5000;
	r.spam_discard = sel & 0x40 ? 15000 : INT64_MAX;
	r.post_policy = (enum list_post_policy)(sel % 3);
	r.moderation = (enum list_moderation)((sel >> 2) % 3);
	r.nonmember = (enum post_choice)((sel >> 4) % 3);
	r.filter_fail_accept = sel & 0x20;
	snprintf(r.list_addr, sizeof(r.list_addr), "team@lists.example.org");
	snprintf(r.list_id, sizeof(r.list_id), "team.lists.example.org");
	struct post_facts f;
	post_facts_read(&r, p, n, &f);
	if (n > r.max_bytes && (f.from.addr != NULL || f.malformed))
		abort(); /* over the limit: not parsed */
	struct post_scan s;
	memset(&s, 0, sizeof(s));
	s.clamd_ran = s.spamd_ran = 1;
	s.spam.score = (int64_t)(sel & 0x0f) * 1000;
	s.virus.infected = (sel & 0x0f) == 3;
	for (int who = POST_SENDER_NONMEMBER; who <= POST_SENDER_OWNER; who++) {
		struct post_decision d;
		post_judge(&r, &f, (enum post_sender)who, (sel & 0x0f) == 0 ? NULL : &s, &d);
		if (d.action > POST_RETRY || d.reason > POST_REASON_FILTER_DOWN ||
		    memchr(d.detail, '\0', sizeof(d.detail)) == NULL)
			abort();
		if ((d.reason == POST_REASON_NONE) != (d.action == POST_ACCEPT))
			abort();
		if (n > r.max_bytes && d.reason != POST_REASON_TOO_BIG)
			abort();
		if (n <= r.max_bytes && f.malformed && d.reason != POST_REASON_MALFORMED)
			abort();
	}
	post_facts_free(&f);
	struct distrib_list dl = {"team",
				  "lists.example.org",
				  "Team",
				  sel & 1,
				  (enum distrib_reply_to)((sel >> 1) % 3),
				  NULL,
				  sel & 8 ? "Caf\xc3\xa9" : "",
				  "",
				  "<n@lists.example.org>",
				  sel & 4};
	struct distrib_rcpt rc = {"https://l/u/T", "team-unsubscribe+T@lists.example.org",
				  "https://l/p/T", dl.footer, ""};
	struct buf post, out, err;
	buf_init(&post, LK_MAX_MESSAGE);
	buf_init(&out, LK_MAX_MESSAGE + 65536);
	buf_init(&err, 256);
	if (distrib_prepare(&dl, p, n, &post, &err) == 0 &&
	    distrib_compose(post.data, post.len, &rc, &out, &err) != 0)
		abort(); /* a prepared post is always composed */
	buf_free(&post);
	buf_free(&out);
	buf_free(&err);
	free(p);
	return 0;
}
