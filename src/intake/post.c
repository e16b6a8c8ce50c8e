/*
 * post.c - the checks a post to a discussion list goes through (post.h).
 *
 * TRUST: the message is untrusted. GMime parses it within LK_MAX_MESSAGE
 * (only when it is within the list's limit); header values are compared
 * with the list's own names and never copied out; the From address is
 * normalised by core/address.c. The decision's detail holds our words and,
 * for a virus, clamd's signature name (printable ASCII), never an address.
 */
#include "intake/post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/nametab.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "intake/mimetext.h"

static const char *const ACTION_NAMES[] = {"accept", "hold",   "discard",
					   "reject", "refuse", "retry"};
const struct nametab post_action_names = NAMETAB(ACTION_NAMES);
_Static_assert(sizeof(ACTION_NAMES) / sizeof(ACTION_NAMES[0]) == POST_RETRY + 1,
	       "one name per post_action");

const char *post_action_name(enum post_action a)
{
	return nametab_name(&post_action_names, (int)a);
}

static const char *const REASON_NAMES[] = {
    "none",	     "too big",
    "malformed",     "loop",
    "from the list", "virus",
    "spam score",    "suspicious header",
    "non-member",    "moderated member",
    "filter failed", "filter unavailable",
};
const struct nametab post_reason_names = NAMETAB(REASON_NAMES);
_Static_assert(sizeof(REASON_NAMES) / sizeof(REASON_NAMES[0]) == POST_REASON_FILTER_DOWN + 1,
	       "one name per post_reason");

const char *post_reason_name(enum post_reason r)
{
	return nametab_name(&post_reason_names, (int)r);
}

static const char *const CHOICE_NAMES[] = {"hold", "reject", "discard"};
static const struct nametab choice_names = NAMETAB(CHOICE_NAMES);

static int load_score(const struct conf *c, const char *key, int64_t *out, struct buf *err)
{
	const char *v = conf_get(c, "post", key);
	if (spamd_score_parse(v, strlen(v), out) < 0) {
		buf_printf(err, "[post] %s: \"%s\" is not a score (like 5.0)", key, v);
		return -1;
	}
	return 0;
}

static void lower(char *z)
{
	for (; *z; z++)
		if (*z >= 'A' && *z <= 'Z')
			*z = (char)(*z - 'A' + 'a');
}

int post_rules_load(const struct conf *c, const struct list_rec *l, struct post_rules *r,
		    struct buf *err)
{
	memset(r, 0, sizeof(*r));
	r->max_bytes = (size_t)conf_get_int(c, "post", "max_message_kb") * 1024;
	r->spam_discard = INT64_MAX;
	if (load_score(c, "spam_hold", &r->spam_hold, err) < 0 ||
	    (strcmp(conf_get(c, "post", "spam_discard"), "none") != 0 &&
	     load_score(c, "spam_discard", &r->spam_discard, err) < 0))
		return -1;
	r->filter_fail_accept = strcmp(conf_get(c, "post", "filter_fail"), "accept") == 0;
	int v = 0;
	if (nametab_parse(&choice_names, conf_get(c, "post", "nonmember"), &v) < 0)
		return -1; /* CT_ENUM: conf.c has checked it */
	r->nonmember = (enum post_choice)v;
	if (nametab_parse(&choice_names, conf_get(c, "post", "bulk"), &v) < 0)
		return -1;
	r->bulk = (enum post_choice)v;
	r->post_policy = l->post_policy;
	r->moderation = l->moderation;
	if (bsnprintf(r->list_addr, sizeof(r->list_addr), "%s@%s", l->name, l->domain) < 0 ||
	    bsnprintf(r->list_id, sizeof(r->list_id), "%s.%s", l->name, l->domain) < 0) {
		buf_printf(err, "list %s: its address is too long", l->name);
		return -1;
	}
	lower(r->list_addr);
	lower(r->list_id);
	return 0;
}

/* 1 if value holds "<ID>" or is ID itself (white space around it), case
 * insensitive: a List-Id is "Title <id>", an X-BeenThere the bare address. */
static int names_us(const char *value, const char *id)
{
	size_t n = strlen(id), vl = strlen(value);
	const char *lt = memchr(value, '<', vl);
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', vl - (size_t)(lt - value));
		return gt != NULL && (size_t)(gt - lt - 1) == n && strncasecmp(lt + 1, id, n) == 0;
	}
	struct str t = str_trim(str_from_z(value));
	return t.len == n && strncasecmp(t.ptr, id, n) == 0;
}

static void read_headers(const struct post_rules *r, GMimeMessage *gm, struct post_facts *f)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(gm));
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n && i < 4096; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *val = g_mime_header_get_value(h);
		if (name == NULL || val == NULL)
			continue;
		if (strcasecmp(name, "List-Id") == 0 && names_us(val, r->list_id))
			f->our_list_id = 1;
		else if (strcasecmp(name, "X-BeenThere") == 0 && names_us(val, r->list_addr))
			f->our_list_id = 1;
		else if (strcasecmp(name, "Message-ID") == 0)
			f->has_message_id = 1;
		else if (strcasecmp(name, "Precedence") == 0) {
			struct str t = str_trim(str_from_z(val));
			if (str_eq_nocase_z(t, "bulk") || str_eq_nocase_z(t, "junk") ||
			    str_eq_nocase_z(t, "list"))
				f->bulk = 1;
		} else if (strcasecmp(name, "Auto-Submitted") == 0) {
			struct str t = str_trim(str_from_z(val));
			long semi = str_find(t, ';'); /* "auto-replied; owner-email=..." */
			if (semi >= 0)
				t = str_trim((struct str){t.ptr, (size_t)semi});
			if (!str_eq_nocase_z(t, "no"))
				f->bulk = 1;
		}
	}
}

void post_facts_read(const struct post_rules *r, const char *msg, size_t len, struct post_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->size = len;
	if (len > r->max_bytes)
		return;
	mimetext_init();
	GMimeMessage *gm = mimetext_parse(msg, len);
	if (gm == NULL) {
		f->malformed = 1;
		return;
	}
	read_headers(r, gm, f);
	InternetAddressList *from = g_mime_message_get_from(gm);
	f->malformed = 1;
	if (from != NULL && internet_address_list_length(from) == 1) {
		InternetAddress *ia = internet_address_list_get_address(from, 0);
		const char *a =
		    INTERNET_ADDRESS_IS_MAILBOX(ia)
			? internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))
			: NULL;
		struct buf err;
		buf_init(&err, 256);
		if (a != NULL && address_parse(a, strlen(a), &f->from, &err) == 0)
			f->malformed = 0;
		else
			memset(&f->from, 0, sizeof(f->from));
		buf_free(&err);
	}
	if (!f->malformed && strcasecmp(f->from.addr, r->list_addr) == 0)
		f->from_list = 1;
	g_object_unref(gm);
}

void post_facts_free(struct post_facts *f)
{
	address_free(&f->from);
	memset(f, 0, sizeof(*f));
}

static void decide(struct post_decision *d, enum post_action a, enum post_reason why,
		   const char *detail)
{
	d->action = a;
	d->reason = why;
	(void)bsnprintf(d->detail, sizeof(d->detail), "%s", detail != NULL ? detail : "");
}

static enum post_action of_choice(enum post_choice c)
{
	return c == POST_CHOOSE_REJECT	  ? POST_REJECT
	       : c == POST_CHOOSE_DISCARD ? POST_DISCARD
					  : POST_HOLD;
}

/* The filters' part of the decision: 1 if it decided. */
static int judge_scan(const struct post_rules *r, const struct post_scan *s,
		      struct post_decision *d)
{
	if (s->clamd_ran && s->clamd_failed && !r->filter_fail_accept) {
		if (s->clamd_err.temporary)
			decide(d, POST_RETRY, POST_REASON_FILTER_DOWN, "clamd");
		else
			decide(d, POST_HOLD, POST_REASON_FILTER_FAILED, "clamd");
		return 1;
	}
	if (s->clamd_ran && !s->clamd_failed && s->virus.infected) {
		decide(d, POST_DISCARD, POST_REASON_VIRUS, s->virus.name);
		return 1;
	}
	if (s->spamd_ran && s->spamd_failed && !r->filter_fail_accept) {
		if (s->spamd_err.temporary)
			decide(d, POST_RETRY, POST_REASON_FILTER_DOWN, "spamd");
		else
			decide(d, POST_HOLD, POST_REASON_FILTER_FAILED, "spamd");
		return 1;
	}
	if (s->spamd_ran && !s->spamd_failed &&
	    (s->spam.score >= r->spam_hold || s->spam.score >= r->spam_discard)) {
		char sc[32], det[64];
		spamd_score_format(s->spam.score, sc, sizeof(sc));
		snprintf(det, sizeof(det), "spam score %s", sc);
		decide(d, s->spam.score >= r->spam_discard ? POST_DISCARD : POST_HOLD,
		       POST_REASON_SPAM, det);
		return 1;
	}
	return 0;
}

void post_judge(const struct post_rules *r, const struct post_facts *f, enum post_sender sender,
		const struct post_scan *scan, struct post_decision *d)
{
	if (f->size > r->max_bytes) {
		char det[64];
		snprintf(det, sizeof(det), "over %zu KB", r->max_bytes / 1024);
		decide(d, POST_REFUSE, POST_REASON_TOO_BIG, det);
		return;
	}
	if (f->malformed) {
		decide(d, POST_REFUSE, POST_REASON_MALFORMED, "no message with one From address");
		return;
	}
	if (f->our_list_id) {
		decide(d, POST_DISCARD, POST_REASON_LOOP, "our own List-Id or X-BeenThere");
		return;
	}
	if (f->from_list) {
		decide(d, POST_DISCARD, POST_REASON_FROM_LIST, NULL);
		return;
	}
	if (scan == NULL) {
		decide(d, POST_ACCEPT, POST_REASON_NONE, "filters to run");
		return;
	}
	if (judge_scan(r, scan, d))
		return;
	if (f->bulk) {
		decide(d, r->bulk == POST_CHOOSE_DISCARD ? POST_DISCARD : POST_HOLD,
		       POST_REASON_SUSPICIOUS_HEADER, "Precedence or Auto-Submitted");
		return;
	}
	int allowed = r->post_policy == LIST_POST_ANYONE ||
		      (r->post_policy == LIST_POST_MEMBERS && sender != POST_SENDER_NONMEMBER) ||
		      sender == POST_SENDER_OWNER;
	if (!allowed) {
		decide(d, of_choice(r->nonmember), POST_REASON_NON_MEMBER,
		       r->post_policy == LIST_POST_OWNERS ? "only the owners post" : NULL);
		return;
	}
	if (sender != POST_SENDER_OWNER && r->moderation != LIST_MODERATION_NONE) {
		decide(d, POST_HOLD, POST_REASON_MODERATED_MEMBER,
		       r->moderation == LIST_MODERATION_ALL ? "every post is moderated"
							    : "a new member's post");
		return;
	}
	decide(d, POST_ACCEPT, POST_REASON_NONE, NULL);
}

/* The sender's standing on l. STORE_OK, or a store error. */
static int standing(const struct keys *k, struct store *st, const struct list_rec *l,
		    const struct address *from, enum post_sender *out)
{
	*out = POST_SENDER_NONMEMBER;
	for (const char *p = l->owners ? l->owners : ""; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		struct address o;
		struct buf err;
		buf_init(&err, 256);
		if (n > 0 && address_parse(p, n, &o, &err) == 0) {
			int same = strcmp(o.key, from->key) == 0;
			address_free(&o);
			if (same) {
				buf_free(&err);
				*out = POST_SENDER_OWNER;
				return STORE_OK;
			}
		}
		buf_free(&err);
		p += n + (e != NULL);
	}
	uint8_t h[HASH_LEN];
	addr_hash(k, from->key, strlen(from->key), h);
	struct subscriber_rec s;
	memset(&s, 0, sizeof(s));
	int rc = store_subscriber_find(st, h, &s);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	struct subscription_rec sub;
	rc = store_subscription_get(st, l->id, s.id, &sub);
	subscriber_rec_free(&s);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc == STORE_OK && sub.state == SUB_STATE_ACTIVE)
		*out = POST_SENDER_MEMBER;
	return rc;
}

int post_check(const struct post_rules *r, const struct filter_conf *fc, const struct keys *k,
	       struct store *st, const struct list_rec *l, const char *msg, size_t len,
	       struct post_scan *scan, struct post_decision *d, struct buf *err)
{
	memset(scan, 0, sizeof(*scan));
	struct post_facts f;
	post_facts_read(r, msg, len, &f);
	enum post_sender who = POST_SENDER_NONMEMBER;
	post_judge(r, &f, who, NULL, d);
	if (d->action != POST_ACCEPT) {
		post_facts_free(&f);
		return 0;
	}
	int rc = standing(k, st, l, &f.from, &who);
	if (rc != STORE_OK) {
		buf_printf(err, "the sender's standing on %s: %s", l->name, store_errmsg(st));
		post_facts_free(&f);
		return -1;
	}
	if (fc->clamd_on) {
		scan->clamd_ran = 1;
		scan->clamd_failed = clamd_scan(&fc->clamd, fc->timeout_ms, msg, len, &scan->virus,
						&scan->clamd_err) < 0;
	}
	/* a virus, or clamd unavailable, ends it: spamd need not read the post */
	int clamd_decided =
	    scan->clamd_ran && (scan->clamd_failed ? !r->filter_fail_accept : scan->virus.infected);
	if (fc->spam == FILTER_SPAM_SPAMD && !clamd_decided) {
		scan->spamd_ran = 1;
		scan->spamd_failed = spamd_check(&fc->spamd, fc->timeout_ms, msg, len, 1,
						 &scan->spam, &scan->spamd_err) < 0;
	}
	post_judge(r, &f, who, scan, d);
	post_facts_free(&f);
	return 0;
}
