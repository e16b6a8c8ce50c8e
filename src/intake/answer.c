/*
 * answer.c - reading a message's sender and robot signals, and queueing a
 * limited answer (see answer.h).
 *
 * TRUST: header values are untrusted; only their presence and a few fixed
 * words are looked at, and the From address goes through mailbox_parse.
 */
#include "intake/answer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "intake/mimetext.h"
#include "lists/jobs.h"

/* The first occurrence of a header, trimmed, or NULL. */
static const char *header(GMimeMessage *m, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(m), name);
}

/* Is value (a header, RFC 3834 or Precedence) one word of the set? */
static int word_is(const char *v, const char *w)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(w);
	return strncasecmp(v, w, n) == 0 && (v[n] == '\0' || v[n] == ';' || v[n] == ' ' ||
					     v[n] == '\t' || v[n] == '\r' || v[n] == '\n');
}

static const char *robot_signal(GMimeMessage *m)
{
	const char *v = header(m, "Auto-Submitted");
	if (v != NULL && !word_is(v, "no"))
		return "auto-submitted";
	v = header(m, "Precedence");
	if (v != NULL && (word_is(v, "bulk") || word_is(v, "list") || word_is(v, "junk")))
		return "precedence";
	static const char *const lh[] = {"List-Id",	   "List-Post", "List-Unsubscribe",
					 "List-Subscribe", "List-Help", "List-Owner",
					 "List-Archive"};
	for (size_t i = 0; i < sizeof(lh) / sizeof(lh[0]); i++)
		if (header(m, lh[i]) != NULL)
			return "list-mail";
	/* Vacation programs and some MTAs say so only here. */
	if (header(m, "X-Autoreply") != NULL || header(m, "X-Autorespond") != NULL)
		return "auto-submitted";
	return NULL;
}

int inmail_read(const char *msg, size_t len, struct inmail *m)
{
	memset(m, 0, sizeof(*m));
	mimetext_init();
	GMimeMessage *gm = mimetext_parse(msg, len);
	if (gm == NULL)
		return -1;
	const char *rp = header(gm, "Return-Path");
	if (rp != NULL) {
		while (*rp == ' ' || *rp == '\t')
			rp++;
		m->null_sender = strncmp(rp, "<>", 2) == 0;
	}
	m->robot = robot_signal(gm);
	InternetAddressList *from = g_mime_message_get_from(gm);
	if (from != NULL && internet_address_list_length(from) == 1) {
		InternetAddress *ia = internet_address_list_get_address(from, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a =
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			struct buf err;
			buf_init(&err, 256);
			if (a != NULL && address_parse(a, strlen(a), &m->from, &err) < 0)
				memset(&m->from, 0, sizeof(m->from));
			buf_free(&err);
		}
	}
	const char *subj = g_mime_message_get_subject(gm);
	if (subj != NULL)
		m->subject = xstrdup(subj);
	GMimeObject *part = mimetext_first_plain(gm);
	if (part != NULL) {
		struct buf t;
		buf_init(&t, LK_MAX_COMMAND_TEXT);
		mimetext_content(part, 1, &t);
		m->text = buf_steal(&t, &m->text_len);
	}
	g_object_unref(gm);
	return 0;
}

void inmail_free(struct inmail *m)
{
	address_free(&m->from);
	if (m->subject != NULL)
		xfree_wipe(m->subject, strlen(m->subject));
	if (m->text != NULL)
		xfree_wipe(m->text, m->text_len);
	memset(m, 0, sizeof(*m));
}

const char *inmail_no_answer(const struct inmail *m)
{
	if (m->null_sender)
		return "null-sender";
	if (m->robot != NULL)
		return m->robot;
	if (m->from.addr == NULL)
		return "no-usable-from";
	if (strcasecmp(m->from.local, "mailer-daemon") == 0)
		return "mailer-daemon";
	return NULL;
}

int answer_queue(struct lists_ctx *x, const struct conf *conf, int64_t list_id, enum job_kind kind,
		 const struct address *to, const char *reply_to, const char *subject,
		 const char *text, int *sent, struct buf *err)
{
	*sent = 0;
	uint8_t h[HASH_LEN];
	addr_hash(x->keys, to->key, strlen(to->key), h);
	int64_t now = clock_now(), window = 3600, id = 0;
	int allowed = 0;
	int r = store_reply_limit_hit(x->st, h, now, window,
				      conf_get_int(conf, "intake", "replies_per_hour"), &allowed);
	/* Ended windows go at once (an index range): a hash lives one window. */
	if (r == STORE_OK)
		r = store_reply_limit_prune(x->st, now - window);
	if (r == STORE_OK && allowed)
		r = jobs_create_single(x, list_id, kind, to->addr, reply_to, subject, text, &id,
				       err);
	if (r == STORE_OK)
		*sent = allowed;
	else if (err->len == 0)
		buf_puts(err, store_errmsg(x->st));
	return r;
}
