/*
 * store_sqlite_archive.c - the archive of discussion lists in the SQLite
 * store (migration 14: tables archive, archive_parts and the FTS5 index
 * archive_fts).
 *
 *   sq_archive_insert / part_add     a post and its attachments, threaded
 *   sq_archive_get / each / months / count / parts / part_get   reading
 *   sq_archive_search                FTS5 MATCH, by rank or date, snippets
 *   sq_archive_by_author / containing / update / delete / compact  erasure
 *
 * The index is an external-content FTS5 table over archive(subject, author,
 * body): nothing keeps it in step by itself (no triggers: trusted_schema is
 * off), so every change of those columns here deletes the index row with
 * the text it was made from (FTS5's 'delete' command) before the row
 * changes. FTS5 of SQLite 3.40 has no secure-delete: a deleted index row
 * leaves its words in the index's segments until they are merged, so an
 * erasure ends with sq_archive_compact ('optimize', one new segment) and
 * then store_scrub (secure_delete zeroes the freed pages; the WAL is
 * truncated).
 *
 * TRUST: the text comes from mail (untrusted) but only ever as bound
 * parameters; a search query is FTS5 syntax from anyone: an error it
 * causes is reported as the query's (bad_query), never as the store's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "store/store_sqlite_int.h"

enum {
	A_INSERT,
	A_FTS_INSERT,
	A_FTS_DELETE,
	A_FTS_UNINDEX_LIST,
	A_FIND,
	A_FIND_SUBJECT,
	A_ADOPT_THREADS,
	A_ADOPT_PARENT,
	A_SET_THREAD,
	A_GET,
	A_MONTHS,
	A_EACH_MONTH,
	A_EACH_THREAD,
	A_EACH_ALL,
	A_COUNT,
	A_SEARCH_RANK,
	A_SEARCH_DATE,
	A_SEARCH_COUNT,
	A_PART_ADD,
	A_PARTS,
	A_PART_GET,
	A_BY_AUTHOR,
	A_CONTAINING,
	A_UPDATE,
};
/* A_PARTS_DELETE, A_DELETE and A_COMPACT are run uncached (erasure only). */
_Static_assert(A_UPDATE + 1 == SQLITE_ARCHIVE_STMTS, "one slot per statement");

/* ?W: read body and raw (CASE keeps SQLite from loading them otherwise). */
#define COLS(p, w)                                                                                 \
	p "id, " p "list_id, " p "hash, " p "parent_hash, " p "parent_id, " p "thread_id, " p      \
	  "date, " p "month, " p "message_id, " p "subject, " p "thread_key, " p "author, " p      \
	  "author_addr, " p "author_hash, CASE WHEN " w " THEN " p                                 \
	  "body ELSE '' END, CASE WHEN " w " THEN " p "raw END"
#define NCOLS 16

static const char *const ASQL[SQLITE_ARCHIVE_STMTS] = {
    [A_INSERT] = "INSERT INTO archive(list_id, hash, message_id, parent_hash, parent_id, "
		 "thread_id, date, month, subject, thread_key, author, author_addr, author_hash, "
		 "body, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [A_FTS_INSERT] = "INSERT INTO archive_fts(rowid, subject, author, body) VALUES (?,?,?,?)",
    [A_FTS_DELETE] = "INSERT INTO archive_fts(archive_fts, rowid, subject, author, body) "
		     "SELECT 'delete', id, subject, author, body FROM archive WHERE id = ?",
    [A_FTS_UNINDEX_LIST] = "INSERT INTO archive_fts(archive_fts, rowid, subject, author, body) "
			   "SELECT 'delete', id, subject, author, body FROM archive "
			   "WHERE list_id = ?",
    [A_FIND] = "SELECT id, thread_id FROM archive WHERE list_id = ? AND hash = ?",
    [A_FIND_SUBJECT] = "SELECT id, thread_id FROM archive WHERE list_id = ? AND thread_key = ? "
		       "AND date BETWEEN ? AND ? AND parent_hash <> ? ORDER BY date DESC LIMIT 1",
    /* the threads of the posts that waited for this one as their parent
     * (not its own thread: a loop of replies stays one thread) */
    [A_ADOPT_THREADS] = "UPDATE archive SET thread_id = ?1 WHERE thread_id IN (SELECT id FROM "
			"archive WHERE list_id = ?2 AND parent_hash = ?3 AND parent_id = 0 AND "
			"id <> ?4 AND id <> ?1)",
    [A_ADOPT_PARENT] = "UPDATE archive SET parent_id = ?4 WHERE list_id = ?2 AND parent_hash = "
		       "?3 AND parent_id = 0 AND id <> ?4 AND id <> ?1",
    [A_SET_THREAD] = "UPDATE archive SET thread_id = ? WHERE id = ?",
    [A_GET] = "SELECT " COLS("", "?3") " FROM archive WHERE list_id = ?1 AND hash = ?2",
    [A_MONTHS] = "SELECT month, count(*) FROM archive WHERE list_id = ? GROUP BY month "
		 "ORDER BY month DESC",
    [A_EACH_MONTH] = "SELECT " COLS("", "?5") " FROM archive WHERE list_id = ?1 AND month = ?2 "
					      "ORDER BY date, id LIMIT ?3 OFFSET ?4",
    [A_EACH_THREAD] =
	"SELECT " COLS("", "?5") " FROM archive WHERE list_id = ?1 AND "
				 "thread_id = ?2 ORDER BY date, id LIMIT ?3 OFFSET ?4",
    [A_EACH_ALL] = "SELECT " COLS("", "?5") " FROM archive WHERE list_id = ?1 AND ?2 = ?2 "
					    "ORDER BY id LIMIT ?3 OFFSET ?4",
    [A_COUNT] = "SELECT count(*) FROM archive WHERE list_id = ?",
    [A_SEARCH_RANK] = "SELECT " COLS(
	"a.", "0") ", snippet(archive_fts, -1, char(1), char(2), "
		   "'…', 24) FROM archive_fts JOIN archive a ON a.id = archive_fts.rowid "
		   "WHERE archive_fts MATCH ?1 AND a.list_id = ?2 ORDER BY archive_fts.rank "
		   "LIMIT ?3 OFFSET ?4",
    [A_SEARCH_DATE] = "SELECT " COLS(
	"a.", "0") ", snippet(archive_fts, -1, char(1), char(2), "
		   "'…', 24) FROM archive_fts JOIN archive a ON a.id = archive_fts.rowid "
		   "WHERE archive_fts MATCH ?1 AND a.list_id = ?2 ORDER BY a.date DESC, a.id "
		   "DESC LIMIT ?3 OFFSET ?4",
    [A_SEARCH_COUNT] = "SELECT count(*) FROM archive_fts JOIN archive a ON a.id = "
		       "archive_fts.rowid WHERE archive_fts MATCH ?1 AND a.list_id = ?2",
    [A_PART_ADD] = "INSERT INTO archive_parts(post_id, n, filename, ctype, data) "
		   "VALUES (?,?,?,?,?)",
    [A_PARTS] = "SELECT post_id, n, filename, ctype, length(data) FROM archive_parts "
		"WHERE post_id = ? ORDER BY n",
    [A_PART_GET] = "SELECT post_id, n, filename, ctype, data FROM archive_parts "
		   "WHERE post_id = ? AND n = ?",
    [A_BY_AUTHOR] = "SELECT " COLS("", "1") " FROM archive WHERE author_hash = ? ORDER BY id",
    [A_CONTAINING] = "SELECT " COLS(
	"", "1") " FROM archive WHERE instr(lower(CAST(raw AS "
		 "TEXT)), lower(?1)) > 0 OR instr(lower(body), lower(?1)) > 0 OR "
		 "instr(lower(author), lower(?1)) > 0 OR instr(lower(subject), lower(?1)) > 0 "
		 "ORDER BY id",
    [A_UPDATE] = "UPDATE archive SET subject = ?, author = ?, author_addr = ?, author_hash = ?, "
		 "body = ?, raw = ? WHERE id = ?",
};

static sqlite3_stmt *aprep(struct sqlite_store *q, int id)
{
	return sqlite_cached(q, &q->astmt[id], ASQL[id]);
}

static void col_fixed(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (t == NULL || n >= cap)
		n = 0;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

static void read_post(sqlite3_stmt *st, struct archive_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->list_id = sqlite3_column_int64(st, 1);
	col_fixed(st, 2, r->hash, sizeof(r->hash));
	col_fixed(st, 3, r->parent_hash, sizeof(r->parent_hash));
	r->parent_id = sqlite3_column_int64(st, 4);
	r->thread_id = sqlite3_column_int64(st, 5);
	r->date = sqlite3_column_int64(st, 6);
	col_fixed(st, 7, r->month, sizeof(r->month));
	r->message_id = sqlite_col_dup(st, 8);
	r->subject = sqlite_col_dup(st, 9);
	r->thread_key = sqlite_col_dup(st, 10);
	r->author = sqlite_col_dup(st, 11);
	r->author_addr = sqlite_col_dup(st, 12);
	sqlite_col_blob(st, 13, r->author_hash, HASH_LEN);
	r->body = sqlite_col_dup(st, 14);
	if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
		const void *p = sqlite3_column_blob(st, 15);
		r->raw_len = (size_t)sqlite3_column_bytes(st, 15);
		r->raw = xmalloc(r->raw_len + 1);
		if (r->raw_len)
			memcpy(r->raw, p, r->raw_len);
		r->raw[r->raw_len] = '\0';
	}
}

/* Steps st to the end, calling cb for each post; resets st. */
static int each_post(struct sqlite_store *q, sqlite3_stmt *st, const char *what,
		     int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct archive_rec p;
		read_post(st, &p);
		int stop = cb(ctx, &p);
		archive_rec_free(&p);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

/* The id and thread of the list's post with hash (STORE_NOTFOUND). */
static int find(struct sqlite_store *q, sqlite3_stmt *st, int64_t *id, int64_t *thread)
{
	int rc = sqlite3_step(st), r = STORE_NOTFOUND;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*thread = sqlite3_column_int64(st, 1);
		r = STORE_OK;
	} else if (rc != SQLITE_DONE) {
		r = sqlite_fail(q, "find an archived post");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

#define SUBJECT_WINDOW (30 * 86400)

static int find_parent(struct sqlite_store *q, struct archive_rec *r,
		       const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n)
{
	sqlite3_stmt *st = aprep(q, A_FIND);
	if (st == NULL)
		return STORE_ERR;
	for (size_t i = 0; i < n; i++) {
		if (parents[i][0] == '\0' || strcmp(parents[i], r->hash) == 0)
			continue;
		sqlite3_bind_int64(st, 1, r->list_id);
		sqlite_bind_text(st, 2, parents[i]);
		int f = find(q, st, &r->parent_id, &r->thread_id);
		if (f != STORE_NOTFOUND)
			return f;
	}
	if (!r->subject_reply || r->thread_key == NULL || r->thread_key[0] == '\0')
		return STORE_NOTFOUND;
	if ((st = aprep(q, A_FIND_SUBJECT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, r->list_id);
	sqlite_bind_text(st, 2, r->thread_key);
	sqlite3_bind_int64(st, 3, r->date - SUBJECT_WINDOW);
	sqlite3_bind_int64(st, 4, r->date);
	sqlite_bind_text(st, 5, r->hash);
	return find(q, st, &r->parent_id, &r->thread_id);
}

static int fts_insert(struct sqlite_store *q, int64_t id, const char *subject, const char *author,
		      const char *body)
{
	sqlite3_stmt *st = aprep(q, A_FTS_INSERT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	sqlite_bind_text(st, 2, subject);
	sqlite_bind_text(st, 3, author);
	sqlite_bind_text(st, 4, body);
	return sqlite_run(q, st, "index an archived post");
}

/* Deletes the index row of post id, from the text it was made from. */
static int fts_delete(struct sqlite_store *q, int64_t id)
{
	sqlite3_stmt *st = aprep(q, A_FTS_DELETE);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, id);
	return sqlite_run(q, st, "unindex an archived post");
}

int sq_archive_insert(struct store *s, struct archive_rec *r,
		      const char (*parents)[STORE_ARCHIVE_HASH_LEN + 1], size_t n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q))
		return STORE_ERR;
	r->parent_id = r->thread_id = 0;
	int f = find_parent(q, r, parents, n);
	if (f != STORE_OK && f != STORE_NOTFOUND)
		return f;
	if ((st = aprep(q, A_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, r->list_id);
	sqlite_bind_text(st, 2, r->hash);
	sqlite_bind_text(st, 3, r->message_id);
	sqlite_bind_text(st, 4, r->parent_hash);
	sqlite3_bind_int64(st, 5, r->parent_id);
	sqlite3_bind_int64(st, 6, r->thread_id);
	sqlite3_bind_int64(st, 7, r->date);
	sqlite_bind_text(st, 8, r->month);
	sqlite_bind_text(st, 9, r->subject);
	sqlite_bind_text(st, 10, r->thread_key);
	sqlite_bind_text(st, 11, r->author);
	sqlite_bind_text(st, 12, r->author_addr);
	sqlite3_bind_blob(st, 13, r->author_hash, HASH_LEN, SQLITE_STATIC);
	sqlite_bind_text(st, 14, r->body);
	sqlite3_bind_blob64(st, 15, r->raw != NULL ? (const void *)r->raw : "", r->raw_len,
			    SQLITE_STATIC);
	int rc = sqlite_run(q, st, "archive a post");
	if (rc != STORE_OK)
		return rc;
	r->id = sqlite3_last_insert_rowid(q->db);
	if (r->thread_id == 0) {
		r->thread_id = r->id;
		if ((st = aprep(q, A_SET_THREAD)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int64(st, 2, r->id);
		if ((rc = sqlite_run(q, st, "thread an archived post")) != STORE_OK)
			return rc;
	}
	for (int k = A_ADOPT_THREADS; k <= A_ADOPT_PARENT; k++) {
		if ((st = aprep(q, k)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(st, 1, r->thread_id);
		sqlite3_bind_int64(st, 2, r->list_id);
		sqlite_bind_text(st, 3, r->hash);
		sqlite3_bind_int64(st, 4, r->id);
		if ((rc = sqlite_run(q, st, "thread the replies of a post")) != STORE_OK)
			return rc;
	}
	return fts_insert(q, r->id, r->subject, r->author, r->body);
}

int sq_archive_part_add(struct store *s, const struct archive_part *p)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q) || (st = aprep(q, A_PART_ADD)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, p->post_id);
	sqlite3_bind_int(st, 2, p->n);
	sqlite_bind_text(st, 3, p->filename);
	sqlite_bind_text(st, 4, p->ctype);
	sqlite3_bind_blob64(st, 5, p->data != NULL ? (const void *)p->data : "", p->len,
			    SQLITE_STATIC);
	return sqlite_run(q, st, "archive an attachment");
}

int sq_archive_get(struct store *s, int64_t list_id, const char *hash, int with_raw,
		   struct archive_rec *out)
{
	struct sqlite_store *q = S(s);
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = aprep(q, A_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite_bind_text(st, 2, hash);
	sqlite3_bind_int(st, 3, with_raw != 0);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		read_post(st, out);
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "read an archived post");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

int sq_archive_months(struct store *s, int64_t list_id, int (*cb)(void *, const char *, int64_t),
		      void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_MONTHS);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char m[8];
		col_fixed(st, 0, m, sizeof(m));
		if (cb(ctx, m, sqlite3_column_int64(st, 1)))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list the archive's months");
	sqlite3_reset(st);
	return r;
}

int sq_archive_each(struct store *s, const struct archive_query *aq,
		    int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	int which = aq->month != NULL	? A_EACH_MONTH
		    : aq->thread_id > 0 ? A_EACH_THREAD
					: A_EACH_ALL;
	sqlite3_stmt *st = aprep(q, which);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, aq->list_id);
	if (which == A_EACH_MONTH)
		sqlite_bind_text(st, 2, aq->month);
	else
		sqlite3_bind_int64(st, 2, aq->thread_id);
	sqlite3_bind_int64(st, 3, aq->limit);
	sqlite3_bind_int64(st, 4, aq->offset > 0 ? aq->offset : 0);
	sqlite3_bind_int(st, 5, aq->with_raw != 0);
	return each_post(q, st, "list archived posts", cb, ctx);
}

int sq_archive_count(struct store *s, int64_t list_id, int64_t *n)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_COUNT);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int r = rc == SQLITE_ROW ? STORE_OK : sqlite_fail(q, "count archived posts");
	sqlite3_reset(st);
	return r;
}

/* An error of a MATCH statement: the query's (syntax, an unknown column
 * filter) unless SQLite says the fault is elsewhere. */
static int query_fault(struct sqlite_store *q, int rc, int *bad_query)
{
	int r = sqlite_fail(q, "search");
	if ((rc & 0xff) == SQLITE_ERROR)
		*bad_query = 1;
	return r;
}

int sq_archive_search(struct store *s, int64_t list_id, const char *query, int by_date,
		      int64_t offset, int64_t limit,
		      int (*cb)(void *, const struct archive_rec *, const char *), void *ctx,
		      int64_t *total, int *bad_query)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	int rc, r = STORE_OK;
	if (total != NULL) {
		if ((st = aprep(q, A_SEARCH_COUNT)) == NULL)
			return STORE_ERR;
		sqlite_bind_text(st, 1, query);
		sqlite3_bind_int64(st, 2, list_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*total = sqlite3_column_int64(st, 0);
		r = rc == SQLITE_ROW ? STORE_OK : query_fault(q, rc, bad_query);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (r != STORE_OK || *total == 0)
			return r;
	}
	if ((st = aprep(q, by_date ? A_SEARCH_DATE : A_SEARCH_RANK)) == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, query);
	sqlite3_bind_int64(st, 2, list_id);
	sqlite3_bind_int64(st, 3, limit);
	sqlite3_bind_int64(st, 4, offset > 0 ? offset : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct archive_rec p;
		read_post(st, &p);
		const char *snip = (const char *)sqlite3_column_text(st, NCOLS);
		int stop = cb(ctx, &p, snip != NULL ? snip : "");
		archive_rec_free(&p);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = query_fault(q, rc, bad_query);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static void read_part(sqlite3_stmt *st, struct archive_part *p, int with_data)
{
	memset(p, 0, sizeof(*p));
	p->post_id = sqlite3_column_int64(st, 0);
	p->n = sqlite3_column_int(st, 1);
	p->filename = sqlite_col_dup(st, 2);
	p->ctype = sqlite_col_dup(st, 3);
	if (with_data) {
		p->len = (size_t)sqlite3_column_bytes(st, 4);
		p->data = xmalloc(p->len + 1);
		if (p->len)
			memcpy(p->data, sqlite3_column_blob(st, 4), p->len);
	} else {
		p->len = (size_t)sqlite3_column_int64(st, 4);
	}
}

int sq_archive_parts(struct store *s, int64_t post_id,
		     int (*cb)(void *, const struct archive_part *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_PARTS);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, post_id);
	int rc, r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct archive_part p;
		read_part(st, &p, 0);
		int stop = cb(ctx, &p);
		archive_part_free(&p);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(q, "list attachments");
	sqlite3_reset(st);
	return r;
}

int sq_archive_part_get(struct store *s, int64_t post_id, int n, struct archive_part *out)
{
	struct sqlite_store *q = S(s);
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = aprep(q, A_PART_GET);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, post_id);
	sqlite3_bind_int(st, 2, n);
	int rc = sqlite3_step(st), r = STORE_OK;
	if (rc == SQLITE_ROW)
		read_part(st, out, 1);
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else
		r = sqlite_fail(q, "read an attachment");
	sqlite3_reset(st);
	return r;
}

int sq_archive_by_author(struct store *s, const uint8_t hash[HASH_LEN],
			 int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_BY_AUTHOR);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	return each_post(q, st, "find a person's archived posts", cb, ctx);
}

int sq_archive_containing(struct store *s, const char *needle,
			  int (*cb)(void *, const struct archive_rec *), void *ctx)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_CONTAINING);
	if (st == NULL)
		return STORE_ERR;
	sqlite_bind_text(st, 1, needle);
	return each_post(q, st, "find archived posts that name a person", cb, ctx);
}

int sq_archive_update(struct store *s, const struct archive_rec *r)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st;
	if (sqlite_need_txn(q))
		return STORE_ERR;
	int rc = fts_delete(q, r->id);
	if (rc != STORE_OK || (st = aprep(q, A_UPDATE)) == NULL)
		return rc != STORE_OK ? rc : STORE_ERR;
	sqlite_bind_text(st, 1, r->subject);
	sqlite_bind_text(st, 2, r->author);
	sqlite_bind_text(st, 3, r->author_addr);
	sqlite3_bind_blob(st, 4, r->author_hash, HASH_LEN, SQLITE_STATIC);
	sqlite_bind_text(st, 5, r->body);
	sqlite3_bind_blob64(st, 6, r->raw != NULL ? (const void *)r->raw : "", r->raw_len,
			    SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->id);
	if ((rc = sqlite_run(q, st, "rewrite an archived post")) != STORE_OK)
		return rc;
	return fts_insert(q, r->id, r->subject, r->author, r->body);
}

static int run_id(struct sqlite_store *q, const char *sql, int64_t id, const char *what)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(q, what);
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite_run(q, st, what);
	sqlite3_finalize(st);
	return r;
}

int sq_archive_parts_delete(struct store *s, int64_t post_id)
{
	struct sqlite_store *q = S(s);
	if (sqlite_need_txn(q))
		return STORE_ERR;
	return run_id(q, "DELETE FROM archive_parts WHERE post_id = ?", post_id,
		      "delete a post's attachments");
}

int sq_archive_delete(struct store *s, int64_t id)
{
	struct sqlite_store *q = S(s);
	if (sqlite_need_txn(q))
		return STORE_ERR;
	int r = fts_delete(q, id);
	if (r == STORE_OK)
		r = run_id(q, "DELETE FROM archive WHERE id = ?", id, "delete an archived post");
	return r;
}

int sq_archive_unindex_list(struct store *s, int64_t list_id)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = aprep(q, A_FTS_UNINDEX_LIST);
	if (st == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(st, 1, list_id);
	return sqlite_run(q, st, "unindex a list's archive");
}

int sq_archive_compact(struct store *s)
{
	struct sqlite_store *q = S(s);
	if (sqlite_need_txn(q))
		return STORE_ERR;
	return sqlite_exec(q, "INSERT INTO archive_fts(archive_fts) VALUES ('optimize')");
}
