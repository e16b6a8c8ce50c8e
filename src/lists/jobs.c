/*
 * jobs.c - creating and steering delivery jobs.
 *
 * TRUST: subject and bodies come from list owners: checked for UTF-8, size
 * (LK_MAX_MESSAGE) and, for the subject, control characters; composition
 * encodes them again (mail/compose.c).
 */
#include "lists/jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "crypto/pii.h"

static int text_ok(const char *what, const char *v, size_t max, int one_line, struct buf *err)
{
	size_t n = strlen(v);
	if (n > max) {
		buf_printf(err, "%s is longer than %zu bytes", what, max);
		return 0;
	}
	if (!utf8_valid(v, n, NULL)) {
		buf_printf(err, "%s is not valid UTF-8", what);
		return 0;
	}
	for (size_t i = 0; one_line && i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			buf_printf(err, "%s holds a control character (a line break?)", what);
			return 0;
		}
	return 1;
}

static int insert(struct lists_ctx *x, struct job_rec *j, int64_t *id, struct buf *err)
{
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r;
	}
	r = store_job_insert(x->st, j);
	if (r == STORE_OK) {
		char detail[64];
		bsnprintf(detail, sizeof(detail), "job=%lld kind=%s", (long long)j->id,
			  job_kind_name(j->kind));
		r = store_audit(x->st, clock_now(), x->actor, "job-create", j->list_id,
				j->recipient_id, detail);
	}
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		store_rollback(x->st);
		return r;
	}
	*id = j->id;
	return STORE_OK;
}

int jobs_create_campaign(struct lists_ctx *x, const struct list_rec *l, const char *subject,
			 const char *text, const char *html, int64_t not_before, int64_t *id,
			 struct buf *err)
{
	if (!text_ok("the subject", subject, 998 - 10, 1, err) ||
	    !text_ok("the text", text, LK_MAX_MESSAGE / 4, 0, err) ||
	    (html != NULL && !text_ok("the HTML", html, LK_MAX_MESSAGE / 4, 0, err)))
		return STORE_ERR;
	if (subject[0] == '\0') {
		buf_puts(err, "the subject is empty");
		return STORE_ERR;
	}
	int64_t now = clock_now(), counts[4] = {0};
	store_list_counts(x->st, l->id, counts);
	struct job_rec j = {0};
	j.list_id = l->id;
	j.kind = JOB_KIND_CAMPAIGN;
	j.state = JOB_STATE_SCHEDULED;
	j.priority = JOB_PRIORITY_CAMPAIGN;
	j.subject = (char *)subject;
	j.body_text = (char *)text;
	j.body_html = (char *)html;
	j.not_before = not_before > now ? not_before : now;
	j.total = counts[SUB_STATE_ACTIVE];
	j.pause_reason = "";
	j.created = j.updated = now;
	return insert(x, &j, id, err);
}

/* The built-in mail templates, for a context that names no set (the
 * command line): parsed once, never freed, shared by threads. */
static struct tmpl_set *builtin_set;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_load(void)
{
	struct buf err;
	buf_init(&err, 1024);
	builtin_set = tmpl_set_new();
	if (tmpl_set_add_builtins(builtin_set, &err) < 0) {
		/* a broken built-in is a bug that tests/core/test_tmpl.c catches */
		fprintf(stderr, "bug: built-in templates: %s\n", buf_cstr(&err));
		abort();
	}
	buf_free(&err);
}

int jobs_mail_text(const struct lists_ctx *x, const char *name, const struct tmpl_vars *given,
		   char **subject, char **text, struct buf *err)
{
	static const char *const fields[] = {"name",	    "email",	       "list",
					     "list_title",  "unsubscribe_url", "preferences_url",
					     "confirm_url", "request_url"};
	const struct tmpl_set *ts = x->tmpl;
	if (ts == NULL) {
		pthread_once(&builtin_once, builtin_load);
		ts = builtin_set;
	}
	struct tmpl_vars *v = NULL;
	if (given == NULL) {
		v = tmpl_vars_new();
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			char ph[64];
			bsnprintf(ph, sizeof(ph), "{{%s}}", fields[i]);
			tmpl_put(v, fields[i], ph);
		}
		given = v;
	}
	struct buf out;
	buf_init(&out, LK_MAX_MESSAGE / 4);
	int rc = tmpl_render(ts, name, given, &out, err);
	tmpl_vars_free(v);
	const char *s = buf_cstr(&out);
	const char *nl = rc == 0 ? strchr(s, '\n') : NULL;
	if (rc == 0 && (strncmp(s, "Subject:", 8) != 0 || nl == NULL)) {
		buf_printf(err, "template %s: the first line must be \"Subject: ...\"", name);
		rc = -1;
	}
	if (rc == 0) {
		struct str sub = str_trim((struct str){s + 8, (size_t)(nl - s - 8)});
		*subject = xstrndup(sub.ptr, sub.len);
		const char *body = nl + 1;
		while (*body == '\r' || *body == '\n') /* the empty line */
			body++;
		*text = xstrdup(body);
	}
	buf_free(&out);
	return rc < 0 ? STORE_ERR : STORE_OK;
}

/* A job to one subscriber (confirm, request), ahead of campaigns. */
static int one_recipient(struct lists_ctx *x, const struct list_rec *l, enum job_kind kind,
			 const char *subject, const char *text, int64_t subscriber_id, int64_t *id,
			 struct buf *err)
{
	int64_t now = clock_now();
	struct job_rec j = {0};
	j.list_id = l->id;
	j.kind = kind;
	j.state = JOB_STATE_SCHEDULED;
	j.priority = JOB_PRIORITY_CONFIRM;
	j.subject = (char *)subject;
	j.body_text = (char *)text;
	j.recipient_id = subscriber_id;
	j.not_before = now;
	j.total = 1;
	j.pause_reason = "";
	j.created = j.updated = now;
	return insert(x, &j, id, err);
}

/* A job to one subscriber from mail template name. */
static int templated(struct lists_ctx *x, const struct list_rec *l, enum job_kind kind,
		     const char *name, int64_t subscriber_id, int64_t *id, struct buf *err)
{
	char *subject = NULL, *text = NULL;
	int r = jobs_mail_text(x, name, NULL, &subject, &text, err);
	if (r == STORE_OK)
		r = one_recipient(x, l, kind, subject, text, subscriber_id, id, err);
	free(subject);
	free(text);
	return r;
}

int jobs_create_confirm(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err)
{
	return templated(x, l, JOB_KIND_CONFIRM, "mail_confirm.txt", subscriber_id, id, err);
}

int jobs_create_welcome(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err)
{
	return templated(x, l, JOB_KIND_NOTICE, "mail_welcome.txt", subscriber_id, id, err);
}

int jobs_create_request(struct lists_ctx *x, const struct list_rec *l, int64_t subscriber_id,
			int64_t *id, struct buf *err)
{
	return templated(x, l, JOB_KIND_REQUEST, "mail_request.txt", subscriber_id, id, err);
}

/* The sealed recipient: wrapped data key || pii_seal(to NUL reply_to). */
#define RCPT_AD "job-rcpt"

int jobs_create_single(struct lists_ctx *x, int64_t list_id, enum job_kind kind, const char *to,
		       const char *reply_to, const char *subject, const char *text, int64_t *id,
		       struct buf *err)
{
	if (!text_ok("the subject", subject, LK_MAX_LINE_OCTETS - 10, 1, err) ||
	    !text_ok("the text", text, LK_MAX_MESSAGE / 4, 0, err) ||
	    !text_ok("the address", to, LK_MAX_ADDRESS, 1, err) ||
	    (reply_to != NULL && !text_ok("the reply address", reply_to, LK_MAX_ADDRESS, 1, err)))
		return STORE_ERR;
	struct buf plain, sealed;
	buf_init(&plain, 2 * LK_MAX_ADDRESS + 2);
	buf_init(&sealed, 2 * LK_MAX_ADDRESS + 2 + PII_WRAPPED_LEN + PII_OVERHEAD);
	buf_puts(&plain, to);
	buf_putc(&plain, '\0');
	if (reply_to != NULL)
		buf_puts(&plain, reply_to);
	uint8_t wrapped[PII_WRAPPED_LEN] = {0};
	buf_append(&sealed, wrapped, sizeof(wrapped)); /* its place, filled below */
	struct pii_part part = {RCPT_AD, plain.data, plain.len, &sealed};
	int rc = pii_seal_fresh(x->keys, wrapped, &part, 1);
	if (rc == 0 && !sealed.err)
		memcpy(sealed.data, wrapped, sizeof(wrapped));
	buf_free(&plain);
	if (rc < 0 || sealed.err) {
		buf_puts(err, "cannot seal the recipient");
		buf_free(&sealed);
		return STORE_ERR;
	}
	int64_t now = clock_now();
	struct job_rec j = {0};
	j.list_id = list_id;
	j.kind = kind;
	j.state = JOB_STATE_SCHEDULED;
	j.priority = JOB_PRIORITY_CONFIRM;
	j.subject = (char *)subject;
	j.body_text = (char *)text;
	j.not_before = now;
	j.total = 1;
	j.pause_reason = "";
	j.created = j.updated = now;
	j.rcpt_sealed = (uint8_t *)sealed.data;
	j.rcpt_sealed_len = sealed.len;
	int r = insert(x, &j, id, err);
	buf_free(&sealed);
	return r;
}

int jobs_rcpt_open(const struct keys *k, const struct job_rec *j, char **to, char **reply_to)
{
	*to = *reply_to = NULL;
	if (j->rcpt_sealed == NULL || j->rcpt_sealed_len < PII_WRAPPED_LEN + PII_OVERHEAD)
		return -1;
	struct buf plain;
	buf_init(&plain, 2 * LK_MAX_ADDRESS + 2);
	int rc = pii_open_wrapped(k, j->rcpt_sealed, PII_WRAPPED_LEN, RCPT_AD,
				  j->rcpt_sealed + PII_WRAPPED_LEN,
				  j->rcpt_sealed_len - PII_WRAPPED_LEN, &plain);
	const char *nul = rc == 0 ? memchr(plain.data, '\0', plain.len) : NULL;
	if (nul == NULL || nul == plain.data) {
		buf_free(&plain);
		return -1;
	}
	size_t tl = (size_t)(nul - plain.data), rl = plain.len - tl - 1;
	*to = xmemdup(plain.data, tl);
	if (rl > 0)
		*reply_to = xmemdup(nul + 1, rl);
	buf_free(&plain);
	return 0;
}

int jobs_is_single(const struct job_rec *j)
{
	return j->rcpt_sealed != NULL && j->kind != JOB_KIND_DISTRIBUTION;
}

/* The sealed post: wrapped data key || pii_seal(post), as the recipient. */
#define POST_AD "job-post"

int jobs_create_distribution(struct lists_ctx *x, const struct list_rec *l, const char *post,
			     size_t len, int64_t *id, struct buf *err)
{
	if (len == 0 || len > LK_MAX_MESSAGE) {
		buf_printf(err, "a post to distribute must be 1 to %u bytes", LK_MAX_MESSAGE);
		return STORE_ERR;
	}
	struct buf sealed;
	buf_init(&sealed, LK_MAX_MESSAGE + PII_WRAPPED_LEN + PII_OVERHEAD);
	uint8_t wrapped[PII_WRAPPED_LEN] = {0};
	buf_append(&sealed, wrapped, sizeof(wrapped)); /* its place, filled below */
	struct pii_part part = {POST_AD, post, len, &sealed};
	int rc = pii_seal_fresh(x->keys, wrapped, &part, 1);
	if (rc == 0 && !sealed.err)
		memcpy(sealed.data, wrapped, sizeof(wrapped));
	explicit_bzero(wrapped, sizeof(wrapped));
	if (rc < 0 || sealed.err) {
		buf_puts(err, "cannot seal the post");
		buf_free(&sealed);
		return STORE_ERR;
	}
	int64_t now = clock_now(), counts[4] = {0};
	store_list_counts(x->st, l->id, counts);
	struct job_rec j = {0};
	j.list_id = l->id;
	j.kind = JOB_KIND_DISTRIBUTION;
	j.state = JOB_STATE_SCHEDULED;
	j.priority = JOB_PRIORITY_DISTRIBUTION;
	j.subject = "(a post)"; /* the post's own words stay sealed */
	j.body_text = "";
	j.not_before = now;
	j.total = counts[SUB_STATE_ACTIVE];
	j.pause_reason = "";
	j.created = j.updated = now;
	j.rcpt_sealed = (uint8_t *)sealed.data;
	j.rcpt_sealed_len = sealed.len;
	int r = insert(x, &j, id, err);
	buf_free(&sealed);
	return r;
}

int jobs_post_open(const struct keys *k, const struct job_rec *j, struct buf *post)
{
	if (j->kind != JOB_KIND_DISTRIBUTION || j->rcpt_sealed == NULL ||
	    j->rcpt_sealed_len < PII_WRAPPED_LEN + PII_OVERHEAD)
		return -1;
	return pii_open_wrapped(k, j->rcpt_sealed, PII_WRAPPED_LEN, POST_AD,
				j->rcpt_sealed + PII_WRAPPED_LEN,
				j->rcpt_sealed_len - PII_WRAPPED_LEN, post);
}

void jobs_rcpt_free(char *to, char *reply_to)
{
	if (to != NULL)
		xfree_wipe(to, strlen(to));
	if (reply_to != NULL)
		xfree_wipe(reply_to, strlen(reply_to));
}

/* A notice rendered now from mail template name with the real values v,
 * to an address sealed into its job (jobs_create_single): for a person who
 * may be erased by the time it is sent. */
static int sealed_notice(struct lists_ctx *x, const struct list_rec *l, const char *name,
			 const struct tmpl_vars *v, const char *to, int64_t *id, struct buf *err)
{
	char *subject = NULL, *text = NULL;
	int r = jobs_mail_text(x, name, v, &subject, &text, err);
	if (r == STORE_OK)
		r = jobs_create_single(x, l->id, JOB_KIND_NOTICE, to, NULL, subject, text, id, err);
	if (text != NULL)
		xfree_wipe(text, strlen(text)); /* it holds the address */
	free(subject);
	return r;
}

int jobs_create_goodbye(struct lists_ctx *x, const struct list_rec *l, const char *to,
			const char *name, int all, int erased, int64_t *id, struct buf *err)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "email", to);
	tmpl_put(v, "name", name);
	tmpl_put(v, "list", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put_bool(v, "all", all);
	tmpl_put_bool(v, "erased", erased);
	int r = sealed_notice(x, l, "mail_goodbye.txt", v, to, id, err);
	tmpl_vars_free(v);
	return r;
}

int jobs_reason_valid(const char *reason, struct buf *err)
{
	return reason == NULL || text_ok("the reason", reason, LK_MAX_REASON, 1, err);
}

int jobs_create_rejected(struct lists_ctx *x, const struct list_rec *l, const char *to,
			 const char *name, const char *reason, int64_t *id, struct buf *err)
{
	if (!jobs_reason_valid(reason, err))
		return STORE_ERR;
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "email", to);
	tmpl_put(v, "name", name);
	tmpl_put(v, "list", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put(v, "reason", reason != NULL ? reason : "");
	int r = sealed_notice(x, l, "mail_rejected.txt", v, to, id, err);
	tmpl_vars_free(v);
	return r;
}
