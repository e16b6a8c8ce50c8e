/*
 * archive.c - the archive of discussion lists: a post stored, threaded and
 * indexed; a person's posts redacted or removed on erasure (archive.h).
 *
 * API: archive_store, archive_thread_key, archive_erase_person.
 *
 * TRUST: message fields come from mail through intake/archmsg.c, bounded
 * there; here they are copied into the store's record and bound as values.
 * Logs name posts by id and lists by name, never an author.
 */
#include "lists/archive.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/utc.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length of a reply or forward prefix at p ("Re:", "RE[2]:", "Fwd:",
 * "Aw:", "Sv:"), or 0. */
static size_t reply_prefix(const char *p)
{
	static const char *const words[] = {"re", "fwd", "fw", "aw", "sv", "antw", "tr"};
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = strlen(words[w]), i = 0;
		while (i < n && lower((unsigned char)p[i]) == words[w][i])
			i++;
		if (i < n)
			continue;
		if (p[i] == '[') { /* Re[2]: */
			size_t k = i + 1;
			while (p[k] >= '0' && p[k] <= '9')
				k++;
			if (k > i + 1 && p[k] == ']')
				i = k + 1;
		}
		if (p[i] == ':')
			return i + 1;
	}
	return 0;
}

int archive_thread_key(const char *subject, struct buf *out)
{
	buf_reset(out);
	const char *p = subject != NULL ? subject : "";
	int reply = 0;
	for (;;) {
		while (is_space((unsigned char)*p))
			p++;
		size_t n = reply_prefix(p);
		reply |= n > 0;
		if (n == 0 && *p == '[') { /* a list's [tag] */
			const char *e = strchr(p, ']');
			if (e != NULL && e - p <= 64)
				n = (size_t)(e - p) + 1;
		}
		if (n == 0)
			break;
		p += n;
	}
	int space = 0;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (is_space(c)) {
			space = 1;
			continue;
		}
		if (space && out->len > 0)
			buf_putc(out, ' ');
		space = 0;
		buf_putc(out, lower(c));
	}
	return reply;
}

int archive_store(struct lists_ctx *x, const struct list_rec *l, const struct archive_msg *m,
		  enum archive_outcome *out, int64_t *id, struct buf *err)
{
	*id = 0;
	if (l->archive == LIST_ARCHIVE_NONE) {
		*out = ARCHIVE_LIST_NONE;
		return STORE_OK;
	}
	if (m->no_archive) {
		*out = ARCHIVE_NOT_WANTED;
		return STORE_OK;
	}
	struct archive_rec r;
	memset(&r, 0, sizeof(r));
	r.list_id = l->id;
	memcpy(r.hash, m->hash, sizeof(r.hash));
	r.hash[STORE_ARCHIVE_HASH_LEN] = '\0';
	if (m->nparents > 0)
		memcpy(r.parent_hash, m->parents[0], sizeof(r.parent_hash));
	r.parent_hash[STORE_ARCHIVE_HASH_LEN] = '\0';
	r.date = m->date > 0 ? m->date : clock_now();
	if (utc_format(r.date, "%Y-%m", r.month, sizeof(r.month)) < 0)
		utc_format(r.date = clock_now(), "%Y-%m", r.month, sizeof(r.month));
	struct buf key;
	buf_init(&key, LK_ARCHIVE_MAX_SUBJECT);
	r.subject_reply = archive_thread_key(m->subject, &key);
	/* the record's strings are the caller's: the store only reads them */
	r.message_id = (char *)m->message_id;
	r.subject = (char *)(m->subject != NULL ? m->subject : "");
	r.thread_key = (char *)buf_cstr(&key);
	r.author = (char *)(m->author != NULL ? m->author : "");
	r.author_addr = (char *)(m->author_addr != NULL ? m->author_addr : "");
	if (m->author_key != NULL && m->author_key[0] != '\0')
		addr_hash(x->keys, m->author_key, strlen(m->author_key), r.author_hash);
	r.body = (char *)(m->body != NULL ? m->body : "");
	r.raw = (uint8_t *)m->raw;
	r.raw_len = m->raw_len;

	int rc = store_begin(x->st);
	if (rc != STORE_OK) {
		buf_free(&key);
		buf_puts(err, store_errmsg(x->st));
		return rc;
	}
	rc = store_archive_insert(x->st, &r, m->parents, m->nparents);
	for (size_t i = 0; rc == STORE_OK && i < m->natts; i++) {
		struct archive_part p = {.post_id = r.id,
					 .n = (int)i + 1,
					 .filename = (char *)m->atts[i].filename,
					 .ctype = (char *)m->atts[i].ctype,
					 .data = (uint8_t *)m->atts[i].data,
					 .len = m->atts[i].len};
		rc = store_archive_part_add(x->st, &p);
	}
	buf_free(&key);
	if (rc == STORE_EXISTS) {
		store_rollback(x->st);
		*out = ARCHIVE_DUPLICATE;
		return STORE_OK;
	}
	rc = lists_end_txn(x, rc, err);
	if (rc == STORE_OK) {
		*out = ARCHIVE_STORED;
		*id = r.id;
	}
	return rc;
}

/* --- erasure -------------------------------------------------------------- */

#define REDACTED_NAME "[redacted]"
#define REDACTED_ADDR "redacted@invalid"
#define MIN_NAME 3

/* Appends p[0..len) to out with every ASCII-case-insensitive occurrence of
 * needle replaced by repl. Returns the number replaced. */
static size_t replace_ci(const char *p, size_t len, const char *needle, const char *repl,
			 struct buf *out)
{
	size_t n = strlen(needle), count = 0, i = 0;
	while (i < len) {
		if (n > 0 && i + n <= len) {
			size_t k = 0;
			while (k < n &&
			       lower((unsigned char)p[i + k]) == lower((unsigned char)needle[k]))
				k++;
			if (k == n) {
				buf_puts(out, repl);
				i += n;
				count++;
				continue;
			}
		}
		buf_putc(out, (unsigned char)p[i++]);
	}
	return count;
}

/* The header fields that name the author: dropped and written anew. */
static int author_field(const char *line, size_t len)
{
	static const char *const names[] = {"from:", "sender:", "reply-to:"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]), k = 0;
		while (k < n && k < len && lower((unsigned char)line[k]) == names[i][k])
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

/* raw with its From, Sender and Reply-To fields (with their folded lines)
 * replaced by one "From: [redacted] <redacted@invalid>". */
static void drop_author_fields(const char *raw, size_t len, struct buf *out)
{
	size_t i = 0;
	int dropping = 0, wrote_from = 0;
	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - raw) + 1 : len;
		const char *line = raw + i;
		size_t ll = end - i;
		int blank = ll == 1 || (ll == 2 && line[0] == '\r');
		if (blank) { /* the body: as it is */
			if (!wrote_from)
				buf_puts(out, "From: " REDACTED_NAME " <" REDACTED_ADDR ">\n");
			buf_append(out, raw + i, len - i);
			return;
		}
		int cont = line[0] == ' ' || line[0] == '\t';
		if (!cont)
			dropping = author_field(line, ll);
		if (dropping && !cont && !wrote_from) {
			buf_puts(out, "From: " REDACTED_NAME " <" REDACTED_ADDR ">");
			buf_puts(out, ll >= 2 && line[ll - 2] == '\r' ? "\r\n" : "\n");
			wrote_from = 1;
		} else if (!dropping) {
			buf_append(out, line, ll);
		}
		i = end;
	}
}

struct names {
	char **v;
	size_t n;
};

static void names_add(struct names *ns, const char *name)
{
	if (name == NULL || strlen(name) < MIN_NAME || strcmp(name, REDACTED_NAME) == 0)
		return;
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], name) == 0)
			return;
	ns->v = xreallocarray(ns->v, ns->n + 1, sizeof(*ns->v));
	ns->v[ns->n++] = xstrdup(name);
}

struct posts {
	struct archive_rec *v;
	size_t n;
};

static int collect(void *ctx, const struct archive_rec *r)
{
	struct posts *ps = ctx;
	ps->v = xreallocarray(ps->v, ps->n + 1, sizeof(*ps->v));
	struct archive_rec *c = &ps->v[ps->n++];
	*c = *r;
	c->message_id = xstrdup(r->message_id);
	c->subject = xstrdup(r->subject);
	c->thread_key = xstrdup(r->thread_key);
	c->author = xstrdup(r->author);
	c->author_addr = xstrdup(r->author_addr);
	c->body = xstrdup(r->body);
	c->raw = (uint8_t *)xmemdup(r->raw != NULL ? (const void *)r->raw : "", r->raw_len + 1);
	return 0;
}

static void posts_free(struct posts *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		archive_rec_free(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

/* *z with every occurrence of the address and of each name replaced. */
static size_t scrub_text(char **z, size_t *len, const char *addr, const struct names *ns)
{
	size_t count = 0;
	struct buf a, b;
	buf_init(&a, LK_MAX_MESSAGE * 2);
	buf_init(&b, LK_MAX_MESSAGE * 2);
	count += replace_ci(*z, *len, addr, REDACTED_ADDR, &a);
	for (size_t i = 0; i < ns->n; i++) {
		buf_reset(&b);
		count +=
		    replace_ci(a.data != NULL ? a.data : "", a.len, ns->v[i], REDACTED_NAME, &b);
		struct buf t = a;
		a = b;
		b = t;
	}
	free(*z);
	*z = buf_steal(&a, len);
	if (*z == NULL)
		*z = xstrdup("");
	buf_free(&b);
	return count;
}

static int scrub_post(struct store *st, struct archive_rec *r, const char *addr,
		      const struct names *ns, int own)
{
	if (own) {
		struct buf out;
		buf_init(&out, LK_MAX_MESSAGE * 2);
		drop_author_fields((const char *)r->raw, r->raw_len, &out);
		free(r->raw);
		r->raw = (uint8_t *)buf_steal(&out, &r->raw_len);
		if (r->raw == NULL)
			r->raw = (uint8_t *)xstrdup("");
		free(r->author);
		r->author = xstrdup(REDACTED_NAME);
		free(r->author_addr);
		r->author_addr = xstrdup("");
		memset(r->author_hash, 0, HASH_LEN);
		int rc = store_archive_parts_delete(st, r->id);
		if (rc != STORE_OK)
			return rc;
	}
	size_t len = r->raw_len;
	char *raw = (char *)r->raw;
	scrub_text(&raw, &len, addr, ns);
	r->raw = (uint8_t *)raw;
	r->raw_len = len;
	char **f[] = {&r->subject, &r->body, &r->author};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t n = strlen(*f[i]);
		scrub_text(f[i], &n, addr, ns);
	}
	return store_archive_update(st, r);
}

static enum list_archive_erase list_mode(struct store *st, int64_t list_id)
{
	struct list_rec l = {0};
	enum list_archive_erase m = LIST_ARCHIVE_ERASE_REDACT;
	if (store_list_get_id(st, list_id, &l) == STORE_OK)
		m = l.archive_erase;
	list_rec_free(&l);
	return m;
}

int archive_erase_person(struct lists_ctx *x, const char *addr, const char *key, const char *name,
			 int64_t *removed, int64_t *redacted, struct buf *err)
{
	*removed = *redacted = 0;
	uint8_t hash[HASH_LEN];
	addr_hash(x->keys, key, strlen(key), hash);
	struct names ns = {NULL, 0};
	struct posts own = {NULL, 0}, others = {NULL, 0};
	names_add(&ns, name);
	int rc = store_begin(x->st);
	if (rc != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return rc;
	}
	rc = store_archive_by_author(x->st, hash, collect, &own);
	for (size_t i = 0; rc == STORE_OK && i < own.n; i++)
		names_add(&ns, own.v[i].author);
	for (size_t i = 0; rc == STORE_OK && i < own.n; i++) {
		struct archive_rec *r = &own.v[i];
		if (list_mode(x->st, r->list_id) == LIST_ARCHIVE_ERASE_REMOVE) {
			rc = store_archive_delete(x->st, r->id);
			(*removed)++;
		} else {
			rc = scrub_post(x->st, r, addr, &ns, 1);
			(*redacted)++;
		}
	}
	/* what others wrote about them: quoted attributions, Cc lines */
	const char *needles[1 + 8];
	size_t nn = 0;
	needles[nn++] = addr;
	for (size_t i = 0; i < ns.n && nn < sizeof(needles) / sizeof(needles[0]); i++)
		needles[nn++] = ns.v[i];
	for (size_t k = 0; rc == STORE_OK && k < nn; k++) {
		posts_free(&others);
		rc = store_archive_containing(x->st, needles[k], collect, &others);
		for (size_t i = 0; rc == STORE_OK && i < others.n; i++) {
			rc = scrub_post(x->st, &others.v[i], addr, &ns, 0);
			(*redacted)++;
		}
	}
	if (rc == STORE_OK && (*removed > 0 || *redacted > 0))
		rc = store_archive_compact(x->st);
	rc = lists_end_txn(x, rc, err);
	if (rc == STORE_OK && (*removed > 0 || *redacted > 0))
		log_info("event=archive-erase removed=%lld redacted=%lld", (long long)*removed,
			 (long long)*redacted);
	posts_free(&own);
	posts_free(&others);
	for (size_t i = 0; i < ns.n; i++) {
		explicit_bzero(ns.v[i], strlen(ns.v[i]));
		free(ns.v[i]);
	}
	free(ns.v);
	return rc;
}
