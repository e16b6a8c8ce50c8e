/*
 * archive.c - the web archive of a list (archive.h).
 *
 * API: archive_match, archive_get.
 *
 * TRUST: see archive.h. Nothing about a reader is kept; the pages show
 * only what the archive stores, escaped, with addresses obfuscated
 * ("local at domain") or hidden.
 */
#include "web/archive.h"

#include <stdlib.h>
#include <string.h>

#include "core/html.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/num.h"
#include "core/utc.h"
#include "core/utf8.h"
#include "core/xmalloc.h"
#include "lists/lists.h"
#include "mail/mbox.h"

#define THREAD_MAX 1000 /* posts of a thread shown and walked for prev/next */

int archive_match(const char *path)
{
	return strncmp(path, "/a/", 3) == 0;
}

static void not_found(const struct archive_env *env, struct page *p)
{
	page_begin(p, 404, "no-store");
	page_error(p, env->site, 404, "Not found", "There is no page at this address.");
}

/* "YYYY-MM" (month 01-12) at p, exactly 7 bytes. */
static int is_month(const char *p, size_t n)
{
	if (n != 7 || p[4] != '-')
		return 0;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (p[i] < '0' || p[i] > '9'))
			return 0;
	return (p[5] == '0' && p[6] >= '1') || (p[5] == '1' && p[6] <= '2');
}

static int is_hash(const char *p, size_t n)
{
	if (n != STORE_ARCHIVE_HASH_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '2' && p[i] <= '7')))
			return 0;
	return 1;
}

/* The author as shown: the display name, else the address obfuscated
 * ("local at domain"), or with [archive] addresses = hide, the name or
 * "(name hidden)". With the name, the obfuscated address follows. */
static void author_shown(const struct archive_env *env, const struct archive_rec *r,
			 struct buf *out)
{
	buf_reset(out);
	const char *at = strrchr(r->author_addr, '@');
	if (r->author[0] != '\0')
		buf_puts(out, r->author);
	if (!env->hide_addresses && at != NULL) {
		if (out->len > 0)
			buf_puts(out, " (");
		buf_append(out, r->author_addr, (size_t)(at - r->author_addr));
		buf_puts(out, " at ");
		buf_puts(out, at + 1);
		if (r->author[0] != '\0')
			buf_putc(out, ')');
	}
	if (out->len == 0)
		buf_puts(out, "(unknown)");
}

static void put_post(const struct archive_env *env, struct tmpl_vars *item,
		     const struct archive_rec *r)
{
	struct buf a;
	buf_init(&a, 2048);
	author_shown(env, r, &a);
	char date[32];
	utc_format(r->date, "%Y-%m-%d %H:%M", date, sizeof(date));
	tmpl_put(item, "hash", r->hash);
	tmpl_put(item, "subject", r->subject[0] != '\0' ? r->subject : "(no subject)");
	tmpl_put(item, "author", buf_cstr(&a));
	tmpl_put(item, "date", date);
	tmpl_put(item, "month", r->month);
	buf_free(&a);
}

static int64_t page_arg(const struct archive_args *a)
{
	int64_t n = 1;
	if (a->page == NULL || num_parse_i64_z(a->page, 1, 100000, &n) != 0)
		n = 1;
	return n;
}

/* prev_url / next_url for page n of pages, base plus "page=" */
static void put_pager(struct tmpl_vars *v, const char *base, int64_t n, int64_t pages)
{
	char url[LK_ARCHIVE_MAX_QUERY * 3 + 256];
	tmpl_put_int(v, "page", n);
	if (n > 1 && bsnprintf(url, sizeof(url), "%spage=%lld", base, (long long)(n - 1)) >= 0)
		tmpl_put(v, "prev_url", url);
	if (n < pages && bsnprintf(url, sizeof(url), "%spage=%lld", base, (long long)(n + 1)) >= 0)
		tmpl_put(v, "next_url", url);
}

struct list_ctx {
	const struct archive_env *env;
	struct tmpl_vars *v;
	const char *key;
	int64_t n;
};

static int month_one(void *ctx, const char *month, int64_t n)
{
	struct list_ctx *c = ctx;
	struct tmpl_vars *item = tmpl_add_item(c->v, "months");
	tmpl_put(item, "month", month);
	tmpl_put_int(item, "n", n);
	c->n++;
	return 0;
}

static int post_one(void *ctx, const struct archive_rec *r)
{
	struct list_ctx *c = ctx;
	put_post(c->env, tmpl_add_item(c->v, c->key), r);
	c->n++;
	return 0;
}

/* post_one for the first LK_ARCHIVE_PAGE; the one after is only counted */
static int post_one_of_page(void *ctx, const struct archive_rec *r)
{
	struct list_ctx *c = ctx;
	if (c->n >= LK_ARCHIVE_PAGE) {
		c->n++;
		return 1;
	}
	return post_one(ctx, r);
}

static void base_vars(struct tmpl_vars *v, const struct list_rec *l, const char *title)
{
	tmpl_put(v, "list", l->name);
	tmpl_put(v, "list_title", lists_title(l));
	tmpl_put(v, "title", title);
}

static void index_page(const struct archive_env *env, const struct list_rec *l, struct page *p)
{
	page_begin(p, 200, "no-cache");
	struct tmpl_vars *v = tmpl_vars_new();
	base_vars(v, l, "Archive");
	tmpl_put_list(v, "months");
	struct list_ctx c = {env, v, NULL, 0};
	int r = store_archive_months(env->st, l->id, month_one, &c);
	if (r != STORE_OK) {
		page_store_failed(p, env->site, env->st, r);
	} else {
		tmpl_put_bool(v, "has_months", c.n > 0);
		page_render(p, env->site, "archive_index.html", v);
	}
	tmpl_vars_free(v);
}

static void month_page(const struct archive_env *env, const struct list_rec *l, const char *month,
		       const struct archive_args *a, struct page *p)
{
	page_begin(p, 200, "no-cache");
	int64_t n = page_arg(a);
	struct tmpl_vars *v = tmpl_vars_new();
	base_vars(v, l, month);
	tmpl_put(v, "month", month);
	tmpl_put_list(v, "posts");
	/* one post more than a page tells whether there is a next page, without
	 * counting the month's posts on every request */
	struct list_ctx c = {env, v, "posts", 0};
	struct archive_query q = {.list_id = l->id,
				  .month = month,
				  .offset = (n - 1) * LK_ARCHIVE_PAGE,
				  .limit = LK_ARCHIVE_PAGE + 1};
	int r = store_archive_each(env->st, &q, post_one_of_page, &c);
	if (r != STORE_OK) {
		page_store_failed(p, env->site, env->st, r);
	} else {
		char base[64];
		bsnprintf(base, sizeof(base), "/a/%s/%s/?", l->name, month);
		tmpl_put_bool(v, "has_posts", c.n > 0);
		put_pager(v, base, n, c.n > LK_ARCHIVE_PAGE ? n + 1 : n);
		page_render(p, env->site, "archive_month.html", v);
	}
	tmpl_vars_free(v);
}

struct mbox_ctx {
	struct buf *out;
	int full;
};

static int mbox_one(void *ctx, const struct archive_rec *r)
{
	struct mbox_ctx *c = ctx;
	if (mbox_write(c->out, r->date, (const char *)r->raw, r->raw_len) < 0) {
		c->full = 1;
		return 1;
	}
	return 0;
}

static void month_mbox(const struct archive_env *env, const struct list_rec *l, const char *month,
		       struct page *p)
{
	memset(p, 0, sizeof(*p));
	p->status = 200;
	p->content_type = "application/mbox";
	p->cache_control = "no-cache";
	p->disposition = "attachment";
	buf_init(&p->body, LK_ARCHIVE_MAX_MBOX);
	struct mbox_ctx c = {&p->body, 0};
	struct archive_query q = {.list_id = l->id, .month = month, .limit = -1, .with_raw = 1};
	int r = store_archive_each(env->st, &q, mbox_one, &c);
	if (r != STORE_OK) {
		page_begin(p, 503, "no-store");
		page_store_failed(p, env->site, env->st, r);
	} else if (c.full) {
		page_begin(p, 500, "no-store");
		page_error(p, env->site, 500, "Too large",
			   "This month is too large to download from the web; ask the list's "
			   "owners for an export.");
	}
}

struct thread_ctx {
	const struct archive_env *env;
	struct tmpl_vars *v; /* NULL: only the walk for prev/next */
	const char *hash;
	int found;
	char prev[STORE_ARCHIVE_HASH_LEN + 1], next[STORE_ARCHIVE_HASH_LEN + 1];
	char *prev_subject, *next_subject;
};

static int thread_one(void *ctx, const struct archive_rec *r)
{
	struct thread_ctx *t = ctx;
	if (t->v != NULL)
		put_post(t->env, tmpl_add_item(t->v, "posts"), r);
	if (strcmp(r->hash, t->hash) == 0) {
		t->found = 1;
	} else if (!t->found) {
		memcpy(t->prev, r->hash, sizeof(t->prev));
		free(t->prev_subject);
		t->prev_subject = xstrdup(r->subject);
	} else if (t->next[0] == '\0') {
		memcpy(t->next, r->hash, sizeof(t->next));
		t->next_subject = xstrdup(r->subject);
		if (t->v == NULL)
			return 1;
	}
	return 0;
}

struct att_ctx {
	struct tmpl_vars *v;
	const struct list_rec *l;
	const char *hash;
	int n;
};

/* name with every byte outside [A-Za-z0-9._-] percent-encoded, for a URL. */
static void url_name(const char *name, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_reset(out);
	for (const unsigned char *s = (const unsigned char *)name; *s && out->len < 200; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_') {
			buf_putc(out, *s);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[*s >> 4]);
			buf_putc(out, hex[*s & 15]);
		}
	}
	if (out->len == 0)
		buf_puts(out, "attachment");
}

static int att_one(void *ctx, const struct archive_part *ap)
{
	struct att_ctx *c = ctx;
	struct tmpl_vars *item = tmpl_add_item(c->v, "atts");
	struct buf u, url;
	buf_init(&u, 1024);
	buf_init(&url, 2048);
	url_name(ap->filename, &u);
	buf_printf(&url, "/a/%s/m/%s/%d/%s", c->l->name, c->hash, ap->n, buf_cstr(&u));
	tmpl_put(item, "url", buf_cstr(&url));
	tmpl_put(item, "name", ap->filename[0] != '\0' ? ap->filename : ap->ctype);
	tmpl_put_int(item, "size", (long long)ap->len);
	buf_free(&u);
	buf_free(&url);
	c->n++;
	return 0;
}

static void post_page(const struct archive_env *env, const struct list_rec *l, const char *hash,
		      struct page *p)
{
	struct archive_rec r;
	int rc = store_archive_get(env->st, l->id, hash, 1, &r);
	if (rc == STORE_NOTFOUND) {
		not_found(env, p);
		return;
	}
	page_begin(p, 200, "no-cache");
	if (rc != STORE_OK) {
		page_store_failed(p, env->site, env->st, rc);
		return;
	}
	struct tmpl_vars *v = tmpl_vars_new();
	base_vars(v, l, r.subject);
	put_post(env, v, &r);
	/* a post whose text came out empty (a message that no longer parses,
	 * or one of attachments only) shows its bytes, as text */
	if (r.body[0] == '\0' && r.raw_len > 0) {
		size_t bad = r.raw_len;
		utf8_valid((const char *)r.raw, r.raw_len, &bad);
		tmpl_putn(v, "body", (const char *)r.raw, bad);
	} else {
		tmpl_put(v, "body", r.body);
	}
	tmpl_put_list(v, "atts");
	struct att_ctx ac = {v, l, hash, 0};
	struct thread_ctx t = {.env = env, .hash = hash};
	struct archive_query q = {.list_id = l->id, .thread_id = r.thread_id, .limit = THREAD_MAX};
	rc = store_archive_parts(env->st, r.id, att_one, &ac);
	if (rc == STORE_OK)
		rc = store_archive_each(env->st, &q, thread_one, &t);
	if (rc != STORE_OK) {
		page_store_failed(p, env->site, env->st, rc);
	} else {
		tmpl_put_bool(v, "has_atts", ac.n > 0);
		tmpl_put(v, "prev_hash", t.prev);
		tmpl_put(v, "prev_subject", t.prev_subject != NULL ? t.prev_subject : "");
		tmpl_put(v, "next_hash", t.next);
		tmpl_put(v, "next_subject", t.next_subject != NULL ? t.next_subject : "");
		page_render(p, env->site, "archive_post.html", v);
	}
	free(t.prev_subject);
	free(t.next_subject);
	tmpl_vars_free(v);
	archive_rec_free(&r);
}

static void attachment(const struct archive_env *env, const struct list_rec *l, const char *hash,
		       const char *num, struct page *p)
{
	struct archive_rec r;
	int64_t n;
	const char *slash = strchr(num, '/');
	size_t len = slash != NULL ? (size_t)(slash - num) : strlen(num);
	char nz[8];
	if (len == 0 || len >= sizeof(nz)) {
		not_found(env, p);
		return;
	}
	memcpy(nz, num, len);
	nz[len] = '\0';
	if (num_parse_i64_z(nz, 1, LK_ARCHIVE_MAX_ATTS, &n) != 0) {
		not_found(env, p);
		return;
	}
	int rc = store_archive_get(env->st, l->id, hash, 0, &r);
	struct archive_part ap = {0};
	if (rc == STORE_OK)
		rc = store_archive_part_get(env->st, r.id, (int)n, &ap);
	archive_rec_free(&r);
	if (rc == STORE_NOTFOUND) {
		not_found(env, p);
		return;
	}
	if (rc != STORE_OK) {
		page_begin(p, 503, "no-store");
		page_store_failed(p, env->site, env->st, rc);
		return;
	}
	/* never rendered: a download of bytes, whatever type the mail said */
	page_text(p, 200, "no-cache", "application/octet-stream", (const char *)ap.data, ap.len);
	p->disposition = "attachment";
	archive_part_free(&ap);
}

static void thread_page(const struct archive_env *env, const struct list_rec *l, const char *hash,
			struct page *p)
{
	struct archive_rec r;
	int rc = store_archive_get(env->st, l->id, hash, 0, &r);
	if (rc == STORE_NOTFOUND) {
		not_found(env, p);
		return;
	}
	page_begin(p, 200, "no-cache");
	if (rc != STORE_OK) {
		page_store_failed(p, env->site, env->st, rc);
		return;
	}
	struct tmpl_vars *v = tmpl_vars_new();
	base_vars(v, l, r.subject);
	tmpl_put(v, "subject", r.subject);
	tmpl_put_list(v, "posts");
	struct thread_ctx t = {.env = env, .v = v, .hash = hash};
	struct archive_query q = {.list_id = l->id, .thread_id = r.thread_id, .limit = THREAD_MAX};
	rc = store_archive_each(env->st, &q, thread_one, &t);
	if (rc != STORE_OK)
		page_store_failed(p, env->site, env->st, rc);
	else
		page_render(p, env->site, "archive_thread.html", v);
	free(t.prev_subject);
	free(t.next_subject);
	tmpl_vars_free(v);
	archive_rec_free(&r);
}

struct search_ctx {
	const struct archive_env *env;
	struct tmpl_vars *v;
	int64_t n;
};

/* The snippet escaped, its matches (between \x01 and \x02) in <mark>. */
static void snippet_html(const char *s, struct buf *out)
{
	int open = 0;
	while (*s) {
		size_t k = strcspn(s, "\x01\x02");
		html_escape_buf(out, s, k, 0);
		s += k;
		if (*s == '\x01' && !open) {
			buf_puts(out, "<mark>");
			open = 1;
		} else if (*s == '\x02' && open) {
			buf_puts(out, "</mark>");
			open = 0;
		}
		if (*s)
			s++;
	}
	if (open)
		buf_puts(out, "</mark>");
}

static int result_one(void *ctx, const struct archive_rec *r, const char *snippet)
{
	struct search_ctx *c = ctx;
	if (c->n >= LK_ARCHIVE_PAGE) { /* the one past the page: there is a next page */
		c->n++;
		return 1;
	}
	struct tmpl_vars *item = tmpl_add_item(c->v, "results");
	put_post(c->env, item, r);
	struct buf h;
	buf_init(&h, 64u << 10);
	snippet_html(snippet, &h);
	tmpl_put(item, "snippet", buf_cstr(&h));
	buf_free(&h);
	c->n++;
	return 0;
}

/* q percent-encoded for the pager's links. */
static void url_query(const char *q, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)q[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_') {
			buf_putc(out, c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

static void search_page(const struct archive_env *env, const struct list_rec *l,
			const struct archive_args *a, struct page *p)
{
	page_begin(p, 200, "no-store");
	struct tmpl_vars *v = tmpl_vars_new();
	base_vars(v, l, "Search");
	int by_date = a->order != NULL && strcmp(a->order, "date") == 0;
	tmpl_put_bool(v, "by_date", by_date);
	tmpl_put_list(v, "results");
	const char *error = NULL;
	size_t qlen = a->q != NULL ? a->q_len : 0;
	if (qlen > LK_ARCHIVE_MAX_QUERY)
		error = "The search is too long: at most 512 bytes.";
	else if (qlen > 0 && (!utf8_valid(a->q, qlen, NULL) || memchr(a->q, '\0', qlen) != NULL))
		error = "The search is not valid text (UTF-8).";
	int64_t n = page_arg(a);
	struct search_ctx c = {env, v, 0};
	struct buf msg;
	buf_init(&msg, 1024);
	if (error == NULL && qlen > 0) {
		char *q = xstrndup(a->q, qlen);
		tmpl_put(v, "q", q);
		int bad = 0;
		/* one more than a page tells whether there is a next one, without
		 * counting every match (a second pass over them) */
		int r = store_archive_search(env->st, l->id, q, by_date, (n - 1) * LK_ARCHIVE_PAGE,
					     LK_ARCHIVE_PAGE + 1, result_one, &c, NULL, &bad);
		if (r != STORE_OK && bad) {
			/* the reader's mistake: FTS5's words, as the message */
			buf_printf(&msg,
				   "The search could not be read (%s). Put words in double "
				   "quotes to search for them as they are.",
				   store_errmsg(env->st));
			error = buf_cstr(&msg);
		} else if (r != STORE_OK) {
			page_store_failed(p, env->site, env->st, r);
			free(q);
			buf_free(&msg);
			tmpl_vars_free(v);
			return;
		} else {
			tmpl_put_bool(v, "searched", 1);
			struct buf base;
			buf_init(&base, LK_ARCHIVE_MAX_QUERY * 3 + 128);
			buf_printf(&base, "/a/%s/search?order=%s&q=", l->name,
				   by_date ? "date" : "rank");
			url_query(q, qlen, &base);
			buf_putc(&base, '&');
			put_pager(v, buf_cstr(&base), n, c.n > LK_ARCHIVE_PAGE ? n + 1 : n);
			buf_free(&base);
		}
		free(q);
	}
	if (error != NULL)
		tmpl_put(v, "error", error);
	tmpl_put_bool(v, "has_results", c.n > 0);
	page_render(p, env->site, "archive_search.html", v);
	buf_free(&msg);
	tmpl_vars_free(v);
}

void archive_get(const struct archive_env *env, const char *path, const struct archive_args *a,
		 struct page *out)
{
	const char *name = path + 3, *slash = strchr(name, '/');
	size_t nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
	char lname[LK_MAX_LIST_NAME + 1];
	struct buf err;
	buf_init(&err, 256);
	if (nlen == 0 || nlen > LK_MAX_LIST_NAME) {
		buf_free(&err);
		not_found(env, out);
		return;
	}
	memcpy(lname, name, nlen);
	lname[nlen] = '\0';
	int valid = lists_name_valid(lname, &err);
	buf_free(&err);
	if (!valid) {
		not_found(env, out);
		return;
	}
	if (env->st == NULL) {
		page_begin(out, 503, "no-store");
		page_store_unavailable(out, env->site);
		return;
	}
	struct list_rec l = {0};
	int r = store_list_get(env->st, lname, &l);
	if (r == STORE_NOTFOUND || (r == STORE_OK && l.archive == LIST_ARCHIVE_NONE)) {
		list_rec_free(&l);
		not_found(env, out);
		return;
	}
	if (r != STORE_OK) {
		page_begin(out, 503, "no-store");
		page_store_failed(out, env->site, env->st, r);
		return;
	}
	const char *rest = slash != NULL ? slash + 1 : NULL;
	if (rest == NULL) { /* /a/LIST: the folder's address has a slash */
		not_found(env, out);
	} else if (l.archive != LIST_ARCHIVE_PUBLIC) {
		page_begin(out, 403, "no-store");
		struct tmpl_vars *v = tmpl_vars_new();
		base_vars(v, &l, "Archive");
		page_render(out, env->site, "archive_members.html", v);
		tmpl_vars_free(v);
	} else if (*rest == '\0') {
		index_page(env, &l, out);
	} else if (strcmp(rest, "search") == 0) {
		search_page(env, &l, a, out);
	} else if (is_month(rest, 7) && strcmp(rest + 7, "/") == 0) {
		char m[8];
		memcpy(m, rest, 7);
		m[7] = '\0';
		month_page(env, &l, m, a, out);
	} else if (is_month(rest, 7) && strcmp(rest + 7, ".mbox") == 0) {
		char m[8];
		memcpy(m, rest, 7);
		m[7] = '\0';
		month_mbox(env, &l, m, out);
	} else if ((rest[0] == 'm' || rest[0] == 't') && rest[1] == '/' &&
		   strlen(rest + 2) >= STORE_ARCHIVE_HASH_LEN &&
		   is_hash(rest + 2, STORE_ARCHIVE_HASH_LEN)) {
		char h[STORE_ARCHIVE_HASH_LEN + 1];
		memcpy(h, rest + 2, STORE_ARCHIVE_HASH_LEN);
		h[STORE_ARCHIVE_HASH_LEN] = '\0';
		const char *after = rest + 2 + STORE_ARCHIVE_HASH_LEN;
		if (*after == '\0')
			(rest[0] == 'm' ? post_page : thread_page)(env, &l, h, out);
		else if (rest[0] == 'm' && after[0] == '/')
			attachment(env, &l, h, after + 1, out);
		else
			not_found(env, out);
	} else {
		not_found(env, out);
	}
	list_rec_free(&l);
}
