/*
 * post.h - what happens to a post to a discussion list, decided before anyone
 * sees it (DESIGN.md section 2, "post"): its size, loop and sanity checks,
 * the content filters (clamd, spamd) and the posting policy.
 *
 *   post_rules_load   the [post] section and the list's posting policy
 *   post_facts_read   what the message says about itself (pure, bounded)
 *   post_judge        the decision from the facts and the filters' verdicts
 *                     (pure; table-tested in tests/intake/test_post.c)
 *   post_check        all of it for one message: reads the facts, asks the
 *                     store whether the sender is a member, runs the filters
 *   post_action_name, post_reason_name   the one name table of each enum
 *
 * The order of the checks is Mailman 3's posting chain, cheapest and surest
 * first: size; malformed; loop (our own List-Id or X-BeenThere); a post from
 * the list's own address; the virus scan; the spam score; suspicious headers
 * (Precedence bulk|junk|list, Auto-Submitted other than no); the posting
 * policy (owners | members | anyone, non-members per [post] nonmember);
 * moderation (all, and new: until post counts exist every member's post on a
 * "new" list is held as a moderated member's).
 *
 * TRUST: the message is untrusted: at most LK_MAX_MESSAGE bytes, parsed with
 * GMime (mimetext.c); header values are only compared, never copied into a
 * log. The sender's address is normalised (core/address.c) before the store
 * sees its keyed hash.
 */
#ifndef LK_INTAKE_POST_H
#define LK_INTAKE_POST_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "crypto/keys.h"
#include "intake/filter.h"
#include "intake/filter_clamd.h"
#include "intake/filter_spamd.h"
#include "core/address.h"
#include "store/store.h"

enum post_action {
	POST_ACCEPT,  /* to be distributed */
	POST_HOLD,    /* for the moderators */
	POST_DISCARD, /* dropped, with a log line (and the owners told, for a virus) */
	POST_REJECT,  /* dropped, and the sender told why */
	POST_REFUSE,  /* refused at DATA: 552 for too big, 554 for malformed; nothing kept */
	POST_RETRY,   /* not now: a filter is unavailable; the post stays in the spool */
};
extern const struct nametab post_action_names;
const char *post_action_name(enum post_action a);

/* Why; the names are Mailman's hold reasons where one exists. */
enum post_reason {
	POST_REASON_NONE,
	POST_REASON_TOO_BIG,
	POST_REASON_MALFORMED,
	POST_REASON_LOOP,
	POST_REASON_FROM_LIST,
	POST_REASON_VIRUS,
	POST_REASON_SPAM,
	POST_REASON_SUSPICIOUS_HEADER,
	POST_REASON_NON_MEMBER,
	POST_REASON_MODERATED_MEMBER,
	POST_REASON_FILTER_FAILED, /* a filter refused the post for good */
	POST_REASON_FILTER_DOWN,   /* a filter is unavailable for now */
};
extern const struct nametab post_reason_names;
const char *post_reason_name(enum post_reason r);

enum post_choice { POST_CHOOSE_HOLD, POST_CHOOSE_REJECT, POST_CHOOSE_DISCARD };

/* The rules for one list: [post] and the list's own settings. */
struct post_rules {
	size_t max_bytes;		    /* [post] max_message_kb * 1024 */
	int64_t spam_hold, spam_discard;    /* thousandths; spam_discard none: INT64_MAX */
	int filter_fail_accept;		    /* [post] filter_fail = accept */
	enum post_choice nonmember;	    /* [post] nonmember */
	enum post_choice bulk;		    /* [post] bulk (hold or discard) */
	enum list_post_policy post_policy;  /* the list's */
	enum list_moderation moderation;    /* the list's */
	char list_addr[LK_MAX_ADDRESS + 1]; /* LIST@DOMAIN, lower case */
	char list_id[LK_MAX_ADDRESS + 3];   /* "LIST.DOMAIN" (RFC 2919), lower case */
};

/* Fills r from [post] and l. Returns 0, or -1 with the key named in err. */
int post_rules_load(const struct conf *c, const struct list_rec *l, struct post_rules *r,
		    struct buf *err);

/* What the message says about itself. */
struct post_facts {
	size_t size;
	int malformed;	     /* GMime found no message, or no usable From */
	int our_list_id;     /* a List-Id or X-BeenThere of this list */
	int from_list;	     /* From is the list's own address */
	int bulk;	     /* Precedence bulk|junk|list, or Auto-Submitted other than no */
	int has_message_id;  /* a Message-ID is there (one is added if not) */
	struct address from; /* normalised; owned (post_facts_free wipes it) */
};
/* Reads msg (len bytes; len > r->max_bytes is judged on the size alone). */
void post_facts_read(const struct post_rules *r, const char *msg, size_t len, struct post_facts *f);
void post_facts_free(struct post_facts *f);

/* Who the sender is to the list. */
enum post_sender { POST_SENDER_NONMEMBER, POST_SENDER_MEMBER, POST_SENDER_OWNER };

/* The filters' outcome for one post: each ran (and answered or failed) or
 * was not configured. */
struct post_scan {
	int clamd_ran, spamd_ran;
	int clamd_failed, spamd_failed; /* err then says why */
	struct clamd_verdict virus;
	struct spamd_verdict spam;
	struct filter_error clamd_err, spamd_err;
};

struct post_decision {
	enum post_action action;
	enum post_reason reason;
	char detail[LK_FILTER_MAX_VIRUS_NAME +
		    32]; /* "spam score 1004.2", "Eicar-Test-Signature"; never an address */
};

/* The decision for facts f of a post from sender, with the filters' scan
 * (NULL: not run yet; post_judge then stops before the filters and says
 * POST_ACCEPT if nothing before them decided: the caller runs them and asks
 * again). Pure. */
void post_judge(const struct post_rules *r, const struct post_facts *f, enum post_sender sender,
		const struct post_scan *scan, struct post_decision *d);

/* Everything for one message to list l: facts, the sender's standing (the
 * keyed hash of From against l's active subscriptions; l's owners), the
 * filters of fc (only if the checks before them let the post through), the
 * decision. Returns 0 with d (and scan) filled, or -1 on a store error
 * (reason in err; the caller answers 451). */
int post_check(const struct post_rules *r, const struct filter_conf *fc, const struct keys *k,
	       struct store *st, const struct list_rec *l, const char *msg, size_t len,
	       struct post_scan *scan, struct post_decision *d, struct buf *err);

#endif
