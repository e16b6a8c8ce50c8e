/*
 * test_store.c - the store test suite, written against store/store.h only,
 * so that it runs against every store implementation (STYLE.md section 8).
 *
 * BACKENDS lists the implementations; every case runs once per backend, as
 * its own cmocka group. A backend entry knows only what store.h cannot say:
 * how to point a configuration at a fresh database in a temporary directory,
 * the newest schema version, and (for file-based stores) which files to read
 * raw when checking that erased bytes are gone.
 *
 * LK_TEST_STORE_BACKEND=postgresql runs the cases against PostgreSQL
 * instead (ctest's store/test_store_pg, through tests/pg_run.sh, which
 * starts a server of its own and sets PGHOST): each case gets a database of
 * its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/hash.h"
#include "crypto/pii.h"
#include "store/migrations_pg.h"
#include "store/migrations_sqlite.h"
#include "store/store.h"

/* --- backends ------------------------------------------------------------ */

struct backend {
	const char *name;
	/* Points c at a new, empty database inside dir. */
	int (*configure)(struct conf *c, const char *dir, struct buf *err);
	/* The newest schema version this build knows. */
	int (*newest)(void);
	/* Sets the schema version of the closed database in dir (to test refusals). */
	int (*force_version)(const char *dir, int64_t v);
	/* The files that hold the data, NULL-terminated; NULL if not file based. */
	const char *const *files;
};

static int sqlite_configure(struct conf *c, const char *dir, struct buf *err)
{
	char path[512];
	bsnprintf(path, sizeof(path), "%s/t.db", dir);
	return conf_set(c, "store", "path", path, err);
}

static int sqlite_force_version(const char *dir, int64_t v)
{
	char path[512], sql[64];
	sqlite3 *db;
	bsnprintf(path, sizeof(path), "%s/t.db", dir);
	bsnprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)v);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static const char *const SQLITE_FILES[] = {"t.db", "t.db-wal", NULL};

/* PostgreSQL: a new database on the server in PGHOST; its DSN is kept in
 * DIR/dsn for force_version. */
static PGconn *pg_admin(const char *dsn)
{
	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "postgresql: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int pg_sql(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "postgresql: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_configure(struct conf *c, const char *dir, struct buf *err)
{
	static int n;
	const char *host = getenv("PGHOST");
	char dsn[512], sql[128], path[512], name[64];
	if (host == NULL) {
		buf_puts(err, "PGHOST is not set (run through tests/pg_run.sh)");
		return -1;
	}
	bsnprintf(name, sizeof(name), "lk_%d_%d", (int)getpid(), ++n);
	bsnprintf(dsn, sizeof(dsn), "host=%s dbname=postgres", host);
	PGconn *a = pg_admin(dsn);
	bsnprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (a == NULL || pg_sql(a, sql) < 0) {
		PQfinish(a);
		buf_puts(err, "cannot create a database");
		return -1;
	}
	PQfinish(a);
	bsnprintf(dsn, sizeof(dsn), "host=%s dbname=%s", host, name);
	bsnprintf(path, sizeof(path), "%s/dsn", dir);
	FILE *fp = fopen(path, "w");
	if (fp == NULL || fputs(dsn, fp) < 0 || fclose(fp) != 0)
		return -1;
	if (conf_set(c, "store", "backend", "postgresql", err) < 0)
		return -1;
	return conf_set(c, "store", "dsn", dsn, err);
}

static int pg_force_version(const char *dir, int64_t v)
{
	char path[512], dsn[512], sql[160];
	bsnprintf(path, sizeof(path), "%s/dsn", dir);
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	size_t n = fread(dsn, 1, sizeof(dsn) - 1, fp);
	fclose(fp);
	dsn[n] = '\0';
	PGconn *c = pg_admin(dsn);
	if (c == NULL)
		return -1;
	bsnprintf(sql, sizeof(sql), "UPDATE meta SET value = '%lld' WHERE key = 'schema_version'",
		  (long long)v);
	int r = pg_sql(c, sql);
	PQfinish(c);
	return r;
}

static const struct backend BACKENDS[] = {
    {"sqlite", sqlite_configure, migrations_sqlite_count, sqlite_force_version, SQLITE_FILES},
    {"postgresql", pg_configure, migrations_pg_count, pg_force_version, NULL},
};

/* --- fixture --------------------------------------------------------------- */

struct fx {
	const struct backend *be;
	char dir[256];
	struct conf *conf;
	struct store *st;
	uint8_t key[KEYS_LEN]; /* chain key for the ledger */
};

static struct store *open_store(struct fx *f, int migrate, struct buf *err)
{
	return store_open(f->conf, migrate, err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct buf err;
	if (f == NULL)
		return -1;
	f->be = *state;
	buf_init(&err, 4096);
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	f->conf = conf_load(NULL, &err);
	if (f->conf == NULL || f->be->configure(f->conf, f->dir, &err) < 0)
		goto fail;
	f->st = open_store(f, 1, &err);
	if (f->st == NULL)
		goto fail;
	for (size_t i = 0; i < KEYS_LEN; i++)
		f->key[i] = (uint8_t)(i * 13 + 5);
	buf_free(&err);
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", buf_cstr(&err));
	buf_free(&err);
	conf_free(f->conf);
	free(f);
	return -1;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bsnprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	conf_free(f->conf);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* --- helpers --------------------------------------------------------------- */

static void list_fill(struct list_rec *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->name = (char *)name;
	l->domain = (char *)"example.org";
	l->title = (char *)"A title";
	l->description = (char *)"A description";
	l->kind = LIST_KIND_ANNOUNCE;
	l->sub_policy = LIST_SUB_CONFIRM;
	l->post_policy = LIST_POST_OWNERS;
	l->moderation = LIST_MODERATION_NONE;
	l->archive = LIST_ARCHIVE_MEMBERS;
	l->footer = (char *)"";
	l->postal_address = (char *)"1 Main St";
	l->created = 1000;
}

static int64_t add_list(struct fx *f, const char *name)
{
	struct list_rec l;
	list_fill(&l, name);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_list_insert(f->st, &l), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(l.id > 0);
	return l.id;
}

static void fake_hash(uint8_t h[HASH_LEN], int n)
{
	for (int i = 0; i < HASH_LEN; i++)
		h[i] = (uint8_t)(n * 31 + i);
}

/* A subscriber with hash fake_hash(n) and data "sealed-<n>" (inside a transaction). */
static int64_t insert_subscriber(struct fx *f, int n)
{
	struct subscriber_rec r = {0};
	char data[32];
	bsnprintf(data, sizeof(data), "sealed-%d", n);
	fake_hash(r.addr_hash, n);
	memset(r.wrapped_key, n & 0xff, sizeof(r.wrapped_key));
	r.data = (uint8_t *)data;
	r.data_len = strlen(data);
	r.created = 2000 + n;
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_OK);
	assert_true(r.id > 0);
	return r.id;
}

static void put_sub(struct fx *f, int64_t list, int64_t sub, enum sub_state state, int nomail)
{
	struct subscription_rec s = {0};
	s.list_id = list;
	s.subscriber_id = sub;
	s.state = state;
	s.nomail = nomail;
	s.created = 3000;
	s.updated = 3001;
	assert_int_equal(store_subscription_put(f->st, &s), STORE_OK);
}

static int count_lists_cb(void *ctx, const struct list_rec *l)
{
	(void)l;
	(*(int *)ctx)++;
	return 0;
}

static int count_lists(struct fx *f)
{
	int n = 0;
	assert_int_equal(store_list_each(f->st, count_lists_cb, &n), STORE_OK);
	return n;
}

/* Reads a whole file; a missing file reads as empty. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	*len = 0;
	if (fp == NULL) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
			assert_non_null(p);
		}
		size_t got = fread(p + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	*len = n;
	return p;
}

/* 1 if any of the backend's files holds the bytes. */
static int files_hold(struct fx *f, const void *needle, size_t len)
{
	int found = 0;
	for (size_t i = 0; f->be->files[i] != NULL; i++) {
		char path[512];
		size_t n;
		bsnprintf(path, sizeof(path), "%s/%s", f->dir, f->be->files[i]);
		uint8_t *p = slurp(path, &n);
		if (p != NULL && memmem(p, n, needle, len) != NULL)
			found = 1;
		free(p);
	}
	return found;
}

/* --- migrations ------------------------------------------------------------ */

static void test_migrations(void **state)
{
	struct fx *f = *state;
	struct buf err;
	int64_t v = -1;

	buf_init(&err, 4096);
	assert_int_equal(store_schema_version(f->st, &v), STORE_OK);
	assert_int_equal(v, f->be->newest());
	add_list(f, "kept");

	/* Reopening without migrate works, and nothing was lost. */
	store_close(f->st);
	f->st = open_store(f, 0, &err);
	assert_non_null(f->st);
	assert_int_equal(store_schema_version(f->st, &v), STORE_OK);
	assert_int_equal(v, f->be->newest());
	assert_int_equal(count_lists(f), 1);

	/* Reopening with migrate is a no-op on an up-to-date database. */
	store_close(f->st);
	f->st = open_store(f, 1, &err);
	assert_non_null(f->st);
	assert_int_equal(count_lists(f), 1);

	/* A database newer than this build is refused, migrate or not. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(f->be->force_version(f->dir, f->be->newest() + 1), 0);
	assert_null(open_store(f, 0, &err));
	assert_non_null(strstr(buf_cstr(&err), "newer"));
	buf_reset(&err);
	assert_null(open_store(f, 1, &err));
	assert_non_null(strstr(buf_cstr(&err), "newer"));
	buf_reset(&err);

	/* An older one is refused without migrate. */
	assert_int_equal(f->be->force_version(f->dir, f->be->newest() - 1), 0);
	assert_null(open_store(f, 0, &err));
	assert_non_null(strstr(buf_cstr(&err), "older"));
	buf_reset(&err);

	assert_int_equal(f->be->force_version(f->dir, f->be->newest()), 0);
	f->st = open_store(f, 0, &err);
	assert_non_null(f->st);
	buf_free(&err);
}

static void test_open_missing_without_migrate(void **state)
{
	struct fx *f = *state;
	struct buf err;
	char sub[300];
	struct conf *c;

	buf_init(&err, 4096);
	bsnprintf(sub, sizeof(sub), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	c = conf_load(NULL, &err);
	assert_non_null(c);
	assert_int_equal(f->be->configure(c, sub, &err), 0);
	/* Without migrate nothing is created. */
	assert_null(store_open(c, 0, &err));
	assert_true(err.len > 0);
	conf_free(c);
	remove_dir(sub);
	buf_free(&err);
}

/* --- lists ----------------------------------------------------------------- */

struct names {
	char v[8][32];
	int n;
	int stop_after;
};

static int names_cb(void *ctx, const struct list_rec *l)
{
	struct names *a = ctx;
	bsnprintf(a->v[a->n++], sizeof(a->v[0]), "%s", l->name);
	return a->stop_after && a->n >= a->stop_after;
}

static void test_lists(void **state)
{
	struct fx *f = *state;
	struct list_rec l, got = {0};

	/* Writes need a transaction. */
	list_fill(&l, "news");
	assert_int_equal(store_list_insert(f->st, &l), STORE_ERR);
	assert_true(strlen(store_errmsg(f->st)) > 0);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_list_insert(f->st, &l), STORE_OK);
	int64_t news = l.id;
	list_fill(&l, "alpha");
	l.kind = LIST_KIND_DISCUSSION;
	l.digest = 1;
	l.tracking = 1;
	l.owners = (char *)"a@example.org,b@example.org";
	l.bounce_action = LIST_BOUNCE_REMOVE;
	assert_int_equal(store_list_insert(f->st, &l), STORE_OK);
	int64_t alpha = l.id;
	assert_true(alpha > news);
	/* Names are unique. */
	list_fill(&l, "news");
	assert_int_equal(store_list_insert(f->st, &l), STORE_EXISTS);
	/* A value the schema refuses is an error, not "exists". */
	list_fill(&l, "bad");
	l.kind = (enum list_kind)99; /* "?": no name the schema knows */
	assert_int_equal(store_list_insert(f->st, &l), STORE_ERR);
	list_fill(&l, "bad");
	l.bounce_action = (enum list_bounce_action)99; /* "?": no name the schema knows */
	assert_int_equal(store_list_insert(f->st, &l), STORE_ERR);
	assert_int_equal(store_commit(f->st), STORE_OK);

	assert_int_equal(store_list_get(f->st, "alpha", &got), STORE_OK);
	assert_int_equal(got.id, alpha);
	assert_string_equal(got.name, "alpha");
	assert_string_equal(got.domain, "example.org");
	assert_string_equal(got.title, "A title");
	assert_string_equal(got.description, "A description");
	assert_string_equal(list_kind_name(got.kind), "discussion");
	assert_string_equal(list_sub_policy_name(got.sub_policy), "confirm");
	assert_string_equal(list_post_policy_name(got.post_policy), "owners");
	assert_string_equal(list_moderation_name(got.moderation), "none");
	assert_string_equal(list_archive_name(got.archive), "members");
	assert_string_equal(got.footer, "");
	assert_string_equal(got.postal_address, "1 Main St");
	assert_int_equal(got.digest, 1);
	assert_int_equal(got.tracking, 1);
	assert_int_equal(got.created, 1000);
	assert_string_equal(got.owners, "a@example.org,b@example.org");
	assert_string_equal(list_bounce_action_name(got.bounce_action), "remove");
	list_rec_free(&got);
	assert_null(got.name);

	assert_int_equal(store_list_get_id(f->st, news, &got), STORE_OK);
	assert_string_equal(got.name, "news");
	assert_string_equal(got.owners, ""); /* the defaults */
	assert_string_equal(list_bounce_action_name(got.bounce_action), "disable");
	list_rec_free(&got);
	assert_int_equal(store_list_get(f->st, "nope", &got), STORE_NOTFOUND);
	assert_int_equal(store_list_get_id(f->st, 999, &got), STORE_NOTFOUND);

	/* each: in name order; the callback stops the walk. */
	struct names a = {0};
	assert_int_equal(store_list_each(f->st, names_cb, &a), STORE_OK);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "alpha");
	assert_string_equal(a.v[1], "news");
	memset(&a, 0, sizeof(a));
	a.stop_after = 1;
	assert_int_equal(store_list_each(f->st, names_cb, &a), STORE_OK);
	assert_int_equal(a.n, 1);

	/* update */
	list_fill(&l, "news");
	l.id = news;
	l.title = (char *)"New title";
	l.sub_policy = LIST_SUB_OWNER;
	assert_int_equal(store_list_update(f->st, &l), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_list_update(f->st, &l), STORE_OK);
	l.name = (char *)"alpha"; /* renaming onto a taken name */
	assert_int_equal(store_list_update(f->st, &l), STORE_EXISTS);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_list_get_id(f->st, news, &got), STORE_OK);
	assert_string_equal(got.name, "news");
	assert_string_equal(got.title, "New title");
	assert_string_equal(list_sub_policy_name(got.sub_policy), "owner");
	list_rec_free(&got);

	/* delete */
	assert_int_equal(store_list_delete(f->st, alpha), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_list_delete(f->st, alpha), STORE_OK);
	assert_int_equal(store_list_delete(f->st, alpha), STORE_NOTFOUND);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_list_get(f->st, "alpha", &got), STORE_NOTFOUND);
	assert_int_equal(count_lists(f), 1);

	/* An id is never reused, and the name is free again. */
	int64_t again = add_list(f, "alpha");
	assert_true(again > alpha);
}

static void test_list_delete_cascades(void **state)
{
	struct fx *f = *state;
	struct subscription_rec s;
	int64_t l1 = add_list(f, "one"), l2 = add_list(f, "two"), n = -1;

	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t id = insert_subscriber(f, 1);
	put_sub(f, l1, id, SUB_STATE_ACTIVE, 0);
	put_sub(f, l2, id, SUB_STATE_ACTIVE, 0);
	assert_int_equal(store_list_delete(f->st, l1), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_subscription_get(f->st, l1, id, &s), STORE_NOTFOUND);
	assert_int_equal(store_subscription_get(f->st, l2, id, &s), STORE_OK);
	assert_int_equal(store_subscription_count(f->st, id, &n), STORE_OK);
	assert_int_equal(n, 1);
}

/* --- subscribers ----------------------------------------------------------- */

static void test_subscribers(void **state)
{
	struct fx *f = *state;
	struct subscriber_rec r = {0}, got = {0};
	uint8_t h[HASH_LEN];
	static const uint8_t data[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 'x'};

	fake_hash(r.addr_hash, 7);
	for (size_t i = 0; i < PII_WRAPPED_LEN; i++)
		r.wrapped_key[i] = (uint8_t)(200 - i);
	r.data = (uint8_t *)data;
	r.data_len = sizeof(data);
	r.html = 1;
	r.tracking = 1;
	r.created = 12345;
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_ERR); /* no transaction */

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_OK);
	int64_t id = r.id;
	assert_true(id > 0);
	/* The hash is unique. */
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_EXISTS);
	int64_t other = insert_subscriber(f, 8);
	assert_true(other > id);
	assert_int_equal(store_commit(f->st), STORE_OK);

	fake_hash(h, 7);
	assert_int_equal(store_subscriber_find(f->st, h, &got), STORE_OK);
	assert_int_equal(got.id, id);
	assert_memory_equal(got.addr_hash, r.addr_hash, HASH_LEN);
	assert_memory_equal(got.wrapped_key, r.wrapped_key, PII_WRAPPED_LEN);
	assert_int_equal(got.data_len, sizeof(data));
	assert_memory_equal(got.data, data, sizeof(data));
	assert_int_equal(got.html, 1);
	assert_int_equal(got.tracking, 1);
	assert_int_equal(got.created, 12345);
	subscriber_rec_free(&got);
	assert_null(got.data);

	assert_int_equal(store_subscriber_get(f->st, other, &got), STORE_OK);
	assert_int_equal(got.data_len, strlen("sealed-8"));
	assert_memory_equal(got.data, "sealed-8", got.data_len);
	subscriber_rec_free(&got);

	fake_hash(h, 99);
	assert_int_equal(store_subscriber_find(f->st, h, &got), STORE_NOTFOUND);
	assert_int_equal(store_subscriber_get(f->st, 9999, &got), STORE_NOTFOUND);

	/* update: data, format and tracking */
	struct subscriber_rec u = {0};
	u.id = id;
	u.data = (uint8_t *)"new-sealed";
	u.data_len = 10;
	u.html = 0;
	u.tracking = 0;
	assert_int_equal(store_subscriber_update(f->st, &u), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscriber_update(f->st, &u), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_subscriber_get(f->st, id, &got), STORE_OK);
	assert_int_equal(got.data_len, 10);
	assert_memory_equal(got.data, "new-sealed", 10);
	assert_int_equal(got.html, 0);
	assert_int_equal(got.tracking, 0);
	assert_memory_equal(got.wrapped_key, r.wrapped_key, PII_WRAPPED_LEN);
	subscriber_rec_free(&got);

	/* delete takes the subscriptions with it */
	int64_t l1 = add_list(f, "one"), l2 = add_list(f, "two"), n = -1;
	struct subscription_rec s;
	assert_int_equal(store_begin(f->st), STORE_OK);
	put_sub(f, l1, id, SUB_STATE_ACTIVE, 0);
	put_sub(f, l2, id, SUB_STATE_PENDING, 0);
	put_sub(f, l1, other, SUB_STATE_ACTIVE, 0);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_subscriber_delete(f->st, id), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscriber_delete(f->st, id), STORE_OK);
	assert_int_equal(store_subscriber_delete(f->st, id), STORE_NOTFOUND);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_subscriber_get(f->st, id, &got), STORE_NOTFOUND);
	fake_hash(h, 7);
	assert_int_equal(store_subscriber_find(f->st, h, &got), STORE_NOTFOUND);
	assert_int_equal(store_subscription_get(f->st, l1, id, &s), STORE_NOTFOUND);
	assert_int_equal(store_subscription_get(f->st, l2, id, &s), STORE_NOTFOUND);
	assert_int_equal(store_subscription_count(f->st, id, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_subscription_get(f->st, l1, other, &s), STORE_OK);

	/* An id is never reused. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t next = insert_subscriber(f, 7);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(next > other);
}

/* --- subscriptions --------------------------------------------------------- */

struct subs {
	struct subscription_rec v[8];
	int n;
	int stop_after;
};

static int subs_cb(void *ctx, const struct subscription_rec *r)
{
	struct subs *a = ctx;
	a->v[a->n++] = *r;
	return a->stop_after && a->n >= a->stop_after;
}

static void test_subscriptions(void **state)
{
	struct fx *f = *state;
	struct subscription_rec s = {0}, got;
	int64_t l1 = add_list(f, "one"), l2 = add_list(f, "two"), l3 = add_list(f, "three");
	int64_t n = -1, counts[4];

	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t a = insert_subscriber(f, 1), b = insert_subscriber(f, 2);
	assert_int_equal(store_commit(f->st), STORE_OK);

	s.list_id = l1;
	s.subscriber_id = a;
	s.state = SUB_STATE_PENDING;
	s.digest = 1;
	s.nomail = 0;
	s.bounce_score = 7;
	s.created = 100;
	s.updated = 101;
	s.bounce_at = 99;
	assert_int_equal(store_subscription_put(f->st, &s), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscription_put(f->st, &s), STORE_OK);
	/* put replaces */
	s.state = SUB_STATE_ACTIVE;
	s.updated = 102;
	assert_int_equal(store_subscription_put(f->st, &s), STORE_OK);
	put_sub(f, l3, a, SUB_STATE_HELD, 1);
	put_sub(f, l2, a, SUB_STATE_DISABLED, 0);
	put_sub(f, l1, b, SUB_STATE_PENDING, 0);
	/* A subscription of nobody, or to no list, is refused (not "exists"). */
	s.subscriber_id = 9999;
	assert_int_equal(store_subscription_put(f->st, &s), STORE_ERR);
	s.subscriber_id = a;
	s.list_id = 9999;
	assert_int_equal(store_subscription_put(f->st, &s), STORE_ERR);
	assert_int_equal(store_commit(f->st), STORE_OK);

	assert_int_equal(store_subscription_get(f->st, l1, a, &got), STORE_OK);
	assert_int_equal(got.list_id, l1);
	assert_int_equal(got.subscriber_id, a);
	assert_int_equal(got.state, SUB_STATE_ACTIVE);
	assert_int_equal(got.digest, 1);
	assert_int_equal(got.nomail, 0);
	assert_int_equal(got.bounce_score, 7);
	assert_int_equal(got.bounce_at, 99);
	assert_int_equal(got.created, 100);
	assert_int_equal(got.updated, 102);
	assert_int_equal(store_subscription_get(f->st, l3, a, &got), STORE_OK);
	assert_int_equal(got.state, SUB_STATE_HELD);
	assert_int_equal(got.nomail, 1);
	assert_int_equal(store_subscription_get(f->st, l2, b, &got), STORE_NOTFOUND);

	assert_int_equal(store_subscription_count(f->st, a, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_subscription_count(f->st, b, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_subscription_count(f->st, 9999, &n), STORE_OK);
	assert_int_equal(n, 0);

	/* subscriptions_of: in list id order; the callback stops the walk */
	struct subs all = {0};
	assert_int_equal(store_subscriptions_of(f->st, a, subs_cb, &all), STORE_OK);
	assert_int_equal(all.n, 3);
	assert_int_equal(all.v[0].list_id, l1);
	assert_int_equal(all.v[1].list_id, l2);
	assert_int_equal(all.v[2].list_id, l3);
	assert_int_equal(all.v[1].state, SUB_STATE_DISABLED);
	memset(&all, 0, sizeof(all));
	all.stop_after = 2;
	assert_int_equal(store_subscriptions_of(f->st, a, subs_cb, &all), STORE_OK);
	assert_int_equal(all.n, 2);

	/* counts by state */
	assert_int_equal(store_list_counts(f->st, l1, counts), STORE_OK);
	assert_int_equal(counts[SUB_STATE_PENDING], 1);
	assert_int_equal(counts[SUB_STATE_ACTIVE], 1);
	assert_int_equal(counts[SUB_STATE_HELD], 0);
	assert_int_equal(counts[SUB_STATE_DISABLED], 0);
	assert_int_equal(store_list_counts(f->st, l2, counts), STORE_OK);
	assert_int_equal(counts[SUB_STATE_DISABLED], 1);
	assert_int_equal(counts[SUB_STATE_ACTIVE], 0);
	assert_int_equal(store_list_counts(f->st, 9999, counts), STORE_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(counts[i], 0);

	/* delete */
	assert_int_equal(store_subscription_delete(f->st, l1, a), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscription_delete(f->st, l1, a), STORE_OK);
	assert_int_equal(store_subscription_delete(f->st, l1, a), STORE_NOTFOUND);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_subscription_get(f->st, l1, a, &got), STORE_NOTFOUND);
	assert_int_equal(store_subscription_count(f->st, a, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_list_counts(f->st, l1, counts), STORE_OK);
	assert_int_equal(counts[SUB_STATE_ACTIVE], 0);
	assert_int_equal(counts[SUB_STATE_PENDING], 1);
}

static void test_sub_state_names(void **state)
{
	(void)state;
	enum sub_state s;
	static const char *const names[] = {"pending", "active", "held", "disabled"};
	for (int i = 0; i < 4; i++) {
		assert_string_equal(sub_state_name((enum sub_state)i), names[i]);
		assert_int_equal(sub_state_parse(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(sub_state_parse("Active", &s), -1);
	assert_int_equal(sub_state_parse("", &s), -1);
	assert_string_equal(sub_state_name((enum sub_state)7), "?");
}

/* --- member pages ---------------------------------------------------------- */

struct page {
	int64_t ids[64];
	int n;
	int stop_after;
	int64_t list_id;
};

static int page_cb(void *ctx, const struct subscription_rec *sub, const struct subscriber_rec *who)
{
	struct page *p = ctx;
	assert_int_equal(sub->subscriber_id, who->id);
	assert_int_equal(sub->list_id, p->list_id);
	assert_true(p->n < 64);
	p->ids[p->n++] = who->id;
	return p->stop_after && p->n >= p->stop_after;
}

/* Walks a list in pages of `limit`, as the delivery cursor does. */
static int walk(struct fx *f, int64_t list, int state, int recipients, int limit, int64_t *out)
{
	int total = 0;
	int64_t after = 0;
	for (;;) {
		struct page p = {.list_id = list};
		if (recipients)
			assert_int_equal(
			    store_recipients_page(f->st, list, after, limit, page_cb, &p),
			    STORE_OK);
		else
			assert_int_equal(
			    store_members_page(f->st, list, state, after, limit, page_cb, &p),
			    STORE_OK);
		assert_true(p.n <= limit);
		if (p.n == 0)
			break;
		for (int i = 0; i < p.n; i++)
			out[total++] = p.ids[i];
		after = p.ids[p.n - 1];
	}
	return total;
}

static void test_members_page(void **state)
{
	struct fx *f = *state;
	int64_t l1 = add_list(f, "one"), l2 = add_list(f, "two");
	int64_t ids[10], got[64];
	static const enum sub_state states[10] = {
	    SUB_STATE_ACTIVE, SUB_STATE_PENDING,  SUB_STATE_ACTIVE, SUB_STATE_HELD,
	    SUB_STATE_ACTIVE, SUB_STATE_DISABLED, SUB_STATE_ACTIVE, SUB_STATE_PENDING,
	    SUB_STATE_ACTIVE, SUB_STATE_ACTIVE,
	};

	assert_int_equal(store_begin(f->st), STORE_OK);
	for (int i = 0; i < 10; i++)
		ids[i] = insert_subscriber(f, i + 1);
	/* Subscribe in reverse order: pages still come in id order. */
	for (int i = 9; i >= 0; i--)
		put_sub(f, l1, ids[i], states[i], 0);
	put_sub(f, l2, ids[3], SUB_STATE_ACTIVE, 0);
	assert_int_equal(store_commit(f->st), STORE_OK);

	static const int limits[] = {1, 3, 4, 10, 100};
	for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
		int n = walk(f, l1, -1, 0, limits[k], got);
		assert_int_equal(n, 10);
		for (int i = 0; i < 10; i++)
			assert_int_equal(got[i], ids[i]);
	}

	/* One page: at most `limit`, after the cursor. */
	struct page p = {.list_id = l1};
	assert_int_equal(store_members_page(f->st, l1, -1, ids[2], 3, page_cb, &p), STORE_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.ids[0], ids[3]);
	assert_int_equal(p.ids[2], ids[5]);
	memset(&p, 0, sizeof(p));
	p.list_id = l1;
	assert_int_equal(store_members_page(f->st, l1, -1, ids[9], 3, page_cb, &p), STORE_OK);
	assert_int_equal(p.n, 0);
	/* The callback stops the page. */
	memset(&p, 0, sizeof(p));
	p.list_id = l1;
	p.stop_after = 2;
	assert_int_equal(store_members_page(f->st, l1, -1, 0, 10, page_cb, &p), STORE_OK);
	assert_int_equal(p.n, 2);

	/* State filter */
	for (int st = 0; st < 4; st++) {
		int n = walk(f, l1, st, 0, 2, got), want = 0;
		for (int i = 0; i < 10; i++)
			if ((int)states[i] == st) {
				assert_true(want < n);
				assert_int_equal(got[want], ids[i]);
				want++;
			}
		assert_int_equal(n, want);
	}

	/* Another list's members stay apart. */
	assert_int_equal(walk(f, l2, -1, 0, 5, got), 1);
	assert_int_equal(got[0], ids[3]);
}

static void test_recipients_page(void **state)
{
	struct fx *f = *state;
	int64_t l1 = add_list(f, "one"), l2 = add_list(f, "two");
	int64_t got[64], want[8];
	int nwant = 0;
	uint8_t h[HASH_LEN];

	assert_int_equal(store_begin(f->st), STORE_OK);
	int64_t a1 = insert_subscriber(f, 1);
	int64_t pending = insert_subscriber(f, 2);
	int64_t held = insert_subscriber(f, 3);
	int64_t a2 = insert_subscriber(f, 4);
	int64_t disabled = insert_subscriber(f, 5);
	int64_t nomail = insert_subscriber(f, 6);
	int64_t supp_list = insert_subscriber(f, 7);
	int64_t supp_all = insert_subscriber(f, 8);
	int64_t supp_other = insert_subscriber(f, 9); /* suppressed for another list only */
	int64_t other_list = insert_subscriber(f, 10);
	int64_t a3 = insert_subscriber(f, 11);
	put_sub(f, l1, a1, SUB_STATE_ACTIVE, 0);
	put_sub(f, l1, pending, SUB_STATE_PENDING, 0);
	put_sub(f, l1, held, SUB_STATE_HELD, 0);
	put_sub(f, l1, a2, SUB_STATE_ACTIVE, 0);
	put_sub(f, l1, disabled, SUB_STATE_DISABLED, 0);
	put_sub(f, l1, nomail, SUB_STATE_ACTIVE, 1);
	put_sub(f, l1, supp_list, SUB_STATE_ACTIVE, 0);
	put_sub(f, l1, supp_all, SUB_STATE_ACTIVE, 0);
	put_sub(f, l1, supp_other, SUB_STATE_ACTIVE, 0);
	put_sub(f, l2, other_list, SUB_STATE_ACTIVE, 0);
	put_sub(f, l1, a3, SUB_STATE_ACTIVE, 0);
	fake_hash(h, 7);
	assert_int_equal(store_suppression_add(f->st, h, l1, "unsubscribed", 1), STORE_OK);
	fake_hash(h, 8);
	assert_int_equal(store_suppression_add(f->st, h, 0, "erased", 1), STORE_OK);
	fake_hash(h, 9);
	assert_int_equal(store_suppression_add(f->st, h, l2, "unsubscribed", 1), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	want[nwant++] = a1;
	want[nwant++] = a2;
	want[nwant++] = supp_other;
	want[nwant++] = a3;

	static const int limits[] = {1, 2, 3, 50};
	for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
		int n = walk(f, l1, 0, 1, limits[k], got);
		assert_int_equal(n, nwant);
		for (int i = 0; i < n; i++)
			assert_int_equal(got[i], want[i]);
	}
	/* A page that starts after the cursor skips the excluded ones too. */
	struct page p = {.list_id = l1};
	assert_int_equal(store_recipients_page(f->st, l1, a2, 1, page_cb, &p), STORE_OK);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ids[0], supp_other);

	/* The same members, as members, are all there. */
	assert_int_equal(walk(f, l1, -1, 0, 4, got), 10);
	/* l2: the one active member; not the suppressed one of l1 */
	assert_int_equal(walk(f, l2, 0, 1, 4, got), 1);
	assert_int_equal(got[0], other_list);

	/* Lifting a suppression makes the person a recipient again. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	fake_hash(h, 8);
	assert_int_equal(store_suppression_remove(f->st, h, 0), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	int n = walk(f, l1, 0, 1, 2, got);
	assert_int_equal(n, nwant + 1);
	assert_int_equal(got[2], supp_all);
}

/* --- transactions ---------------------------------------------------------- */

static int has_list(struct fx *f, const char *name)
{
	struct list_rec l = {0};
	int r = store_list_get(f->st, name, &l);
	list_rec_free(&l);
	return r == STORE_OK;
}

static void insert_named(struct fx *f, const char *name)
{
	struct list_rec l;
	list_fill(&l, name);
	assert_int_equal(store_list_insert(f->st, &l), STORE_OK);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	uint8_t h[HASH_LEN];
	struct ledger_rec e = {.action = "a", .source = "s", .policy_version = "1"};

	/* Writes outside a transaction are refused. */
	fake_hash(h, 1);
	assert_int_equal(store_suppression_add(f->st, h, 0, "x", 1), STORE_ERR);
	assert_int_equal(store_suppression_remove(f->st, h, 0), STORE_ERR);
	assert_int_equal(store_ledger_append(f->st, &e, f->key), STORE_ERR);
	assert_int_equal(store_commit(f->st), STORE_ERR); /* commit without begin */
	store_rollback(f->st);				  /* harmless */

	/* A savepoint rollback undoes only the inner part. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "outer1");
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "inner");
	assert_true(has_list(f, "inner")); /* visible inside */
	store_rollback(f->st);
	assert_false(has_list(f, "inner"));
	insert_named(f, "outer2");
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(has_list(f, "outer1"));
	assert_true(has_list(f, "outer2"));
	assert_false(has_list(f, "inner"));

	/* A committed inner part goes when the outer one rolls back. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "o3");
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "i3");
	assert_int_equal(store_commit(f->st), STORE_OK);
	store_rollback(f->st);
	assert_false(has_list(f, "o3"));
	assert_false(has_list(f, "i3"));

	/* Three levels; the middle one rolls back with the innermost in it. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "l1");
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "l2");
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "l3");
	assert_int_equal(store_commit(f->st), STORE_OK);
	store_rollback(f->st);
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "l2b");
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(has_list(f, "l1"));
	assert_false(has_list(f, "l2"));
	assert_false(has_list(f, "l3"));
	assert_true(has_list(f, "l2b"));

	/* After the outermost commit, writes are refused again. */
	struct list_rec l;
	list_fill(&l, "late");
	assert_int_equal(store_list_insert(f->st, &l), STORE_ERR);
	assert_false(has_list(f, "late"));

	/* A failed row in a savepoint leaves the batch usable. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_named(f, "b1");
	assert_int_equal(store_begin(f->st), STORE_OK);
	list_fill(&l, "b1");
	assert_int_equal(store_list_insert(f->st, &l), STORE_EXISTS);
	store_rollback(f->st);
	insert_named(f, "b2");
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_true(has_list(f, "b1"));
	assert_true(has_list(f, "b2"));

	assert_int_equal(store_set_durable(f->st, 1), STORE_OK);
	assert_int_equal(store_set_durable(f->st, 0), STORE_OK);
}

/* --- ledger ---------------------------------------------------------------- */

struct ledger_copy {
	int64_t id, list_id, subscriber_id, time;
	char action[32], source[32], policy[32];
	uint8_t details[32];
	size_t details_len;
	int has_details;
	uint8_t prev[HASH_LEN], hash[HASH_LEN];
};

struct ledger_rows {
	struct ledger_copy v[16];
	int n;
};

static int ledger_cb(void *ctx, const struct ledger_rec *r)
{
	struct ledger_rows *a = ctx;
	struct ledger_copy *c = &a->v[a->n++];
	c->id = r->id;
	c->list_id = r->list_id;
	c->subscriber_id = r->subscriber_id;
	c->time = r->time;
	bsnprintf(c->action, sizeof(c->action), "%s", r->action);
	bsnprintf(c->source, sizeof(c->source), "%s", r->source);
	bsnprintf(c->policy, sizeof(c->policy), "%s", r->policy_version);
	c->has_details = r->details != NULL;
	c->details_len = r->details_len;
	assert_true(r->details_len <= sizeof(c->details));
	if (r->details_len)
		memcpy(c->details, r->details, r->details_len);
	memcpy(c->prev, r->prev_hash, HASH_LEN);
	memcpy(c->hash, r->hash, HASH_LEN);
	return 0;
}

static struct ledger_rec event(int64_t list, int64_t sub, const char *action, const void *details,
			       size_t len)
{
	struct ledger_rec e = {0};
	e.list_id = list;
	e.subscriber_id = sub;
	e.action = action;
	e.time = 5000 + sub;
	e.source = "cli";
	e.policy_version = "v1";
	e.details = details;
	e.details_len = len;
	return e;
}

static void test_ledger(void **state)
{
	struct fx *f = *state;
	struct ledger_rec e[5];
	uint8_t zero[HASH_LEN] = {0}, h[HASH_LEN], head[HASH_LEN];
	int64_t head_id = -1;

	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 0);
	assert_memory_equal(head, zero, HASH_LEN);

	assert_int_equal(store_begin(f->st), STORE_OK);
	e[0] = event(1, 10, "subscribe-request", "\x01\x02\x00\x03", 4);
	e[1] = event(1, 11, "confirm", NULL, 0);
	e[2] = event(0, 10, "erase", "d", 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_ledger_append(f->st, &e[i], f->key), STORE_OK);
		assert_int_equal(e[i].id, i + 1);
		/* hash is the keyed chain hash of the row */
		ledger_rec_hash(&e[i], f->key, h);
		assert_memory_equal(h, e[i].hash, HASH_LEN);
	}
	assert_memory_equal(e[0].prev_hash, zero, HASH_LEN);
	assert_memory_equal(e[1].prev_hash, e[0].hash, HASH_LEN);
	assert_memory_equal(e[2].prev_hash, e[1].hash, HASH_LEN);
	/* The head is recorded at commit. */
	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 0);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 3);
	assert_memory_equal(head, e[2].hash, HASH_LEN);

	/* Another key gives another hash. */
	uint8_t other_key[KEYS_LEN];
	memcpy(other_key, f->key, KEYS_LEN);
	other_key[0] ^= 1;
	ledger_rec_hash(&e[2], other_key, h);
	assert_memory_not_equal(h, e[2].hash, HASH_LEN);

	/* Read back: all, and by subscriber. */
	struct ledger_rows rows = {0};
	assert_int_equal(store_ledger_each(f->st, 0, ledger_cb, &rows), STORE_OK);
	assert_int_equal(rows.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rows.v[i].id, e[i].id);
		assert_int_equal(rows.v[i].list_id, e[i].list_id);
		assert_int_equal(rows.v[i].subscriber_id, e[i].subscriber_id);
		assert_int_equal(rows.v[i].time, e[i].time);
		assert_string_equal(rows.v[i].action, e[i].action);
		assert_string_equal(rows.v[i].source, "cli");
		assert_string_equal(rows.v[i].policy, "v1");
		assert_int_equal(rows.v[i].details_len, e[i].details_len);
		assert_int_equal(rows.v[i].has_details, e[i].details != NULL);
		if (e[i].details_len)
			assert_memory_equal(rows.v[i].details, e[i].details, e[i].details_len);
		assert_memory_equal(rows.v[i].prev, e[i].prev_hash, HASH_LEN);
		assert_memory_equal(rows.v[i].hash, e[i].hash, HASH_LEN);
	}
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_ledger_each(f->st, 10, ledger_cb, &rows), STORE_OK);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.v[0].id, 1);
	assert_int_equal(rows.v[1].id, 3);

	/* A rolled-back append leaves no trace. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	e[3] = event(2, 12, "gone", NULL, 0);
	assert_int_equal(store_ledger_append(f->st, &e[3], f->key), STORE_OK);
	assert_int_equal(e[3].id, 4);
	store_rollback(f->st);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_ledger_each(f->st, 0, ledger_cb, &rows), STORE_OK);
	assert_int_equal(rows.n, 3);
	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 3);
	assert_memory_equal(head, e[2].hash, HASH_LEN);

	/* Inside a savepoint too: the next append takes its place in the chain. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	e[3] = event(2, 12, "kept", NULL, 0);
	assert_int_equal(store_ledger_append(f->st, &e[3], f->key), STORE_OK);
	assert_int_equal(store_begin(f->st), STORE_OK);
	e[4] = event(2, 13, "undone", NULL, 0);
	assert_int_equal(store_ledger_append(f->st, &e[4], f->key), STORE_OK);
	assert_int_equal(e[4].id, 5);
	store_rollback(f->st);
	e[4] = event(2, 14, "redone", NULL, 0);
	assert_int_equal(store_ledger_append(f->st, &e[4], f->key), STORE_OK);
	assert_int_equal(e[4].id, 5);
	assert_memory_equal(e[3].prev_hash, e[2].hash, HASH_LEN);
	assert_memory_equal(e[4].prev_hash, e[3].hash, HASH_LEN);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 5);
	assert_memory_equal(head, e[4].hash, HASH_LEN);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_ledger_each(f->st, 0, ledger_cb, &rows), STORE_OK);
	assert_int_equal(rows.n, 5);
	assert_string_equal(rows.v[3].action, "kept");
	assert_string_equal(rows.v[4].action, "redone");
	for (int i = 1; i < 5; i++)
		assert_memory_equal(rows.v[i].prev, rows.v[i - 1].hash, HASH_LEN);

	/* The head survives a reopen. */
	struct buf err;
	buf_init(&err, 1024);
	store_close(f->st);
	f->st = store_open(f->conf, 0, &err);
	assert_non_null(f->st);
	buf_free(&err);
	assert_int_equal(store_ledger_head(f->st, &head_id, head), STORE_OK);
	assert_int_equal(head_id, 5);
	assert_memory_equal(head, e[4].hash, HASH_LEN);
}

/* --- suppressions ---------------------------------------------------------- */

static void test_suppressions(void **state)
{
	struct fx *f = *state;
	uint8_t a[HASH_LEN], b[HASH_LEN];
	int64_t n = -1;

	fake_hash(a, 1);
	fake_hash(b, 2);
	assert_int_equal(store_suppression_check(f->st, a, 5), STORE_NOTFOUND);
	assert_int_equal(store_suppression_add(f->st, a, 5, "unsubscribed", 1), STORE_ERR);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_suppression_add(f->st, a, 5, "unsubscribed", 1), STORE_OK);
	assert_int_equal(store_suppression_add(f->st, a, 5, "again", 2), STORE_OK); /* idempotent */
	assert_int_equal(store_suppression_add(f->st, a, 6, "unsubscribed", 1), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);

	assert_int_equal(store_suppression_check(f->st, a, 5), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, a, 6), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, a, 7), STORE_NOTFOUND);
	assert_int_equal(store_suppression_check(f->st, b, 5), STORE_NOTFOUND);
	assert_int_equal(store_suppression_count(f->st, 5, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_suppression_count(f->st, 0, &n), STORE_OK);
	assert_int_equal(n, 0);

	/* An all-lists suppression covers every list. */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_suppression_add(f->st, b, 0, "erased", 3), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, b, 5), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, b, 12345), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, b, 0), STORE_OK);
	assert_int_equal(store_suppression_count(f->st, 0, &n), STORE_OK);
	assert_int_equal(n, 1);

	/* remove: only that scope */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_suppression_remove(f->st, a, 5), STORE_OK);
	assert_int_equal(store_suppression_remove(f->st, b, 0), STORE_OK);
	assert_int_equal(store_suppression_remove(f->st, b, 0), STORE_OK); /* nothing to do */
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, a, 5), STORE_NOTFOUND);
	assert_int_equal(store_suppression_check(f->st, a, 6), STORE_OK);
	assert_int_equal(store_suppression_check(f->st, b, 5), STORE_NOTFOUND);
	assert_int_equal(store_suppression_count(f->st, 5, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_suppression_count(f->st, 6, &n), STORE_OK);
	assert_int_equal(n, 1);
}

/* --- audit ----------------------------------------------------------------- */

/* The confirmation limit: max per window, a new window after it ends, one
 * address does not count for another, pruning drops ended windows. */
struct spool_seen {
	int64_t id[8];
	int attempts[8];
	int n;
};

static int spool_seen_cb(void *ctx, const struct spool_rec *r)
{
	struct spool_seen *s = ctx;
	assert_null(r->data); /* each does not read the sealed data */
	s->id[s->n] = r->id;
	s->attempts[s->n] = r->attempts;
	s->n++;
	return 0;
}

struct counted {
	char what[4][48];
	int64_t n[4];
	int k;
};

static int counted_cb(void *ctx, const char *action, const char *source, int64_t n)
{
	struct counted *c = ctx;
	bsnprintf(c->what[c->k], sizeof(c->what[c->k]), "%s/%s", action, source);
	c->n[c->k++] = n;
	return 0;
}

/* The spool store: a file of its own next to the database (t-spool.db), the
 * spool calls work there, the database's own table stays empty; a row left
 * in the database's table (an earlier version) is moved on open; store_sync
 * works outside a transaction only. */
static void test_spool_store(void **state)
{
	struct fx *f = *state;
	struct buf err;
	buf_init(&err, 256);
	uint8_t blob[16] = {9};
	struct spool_rec r = {
	    .received = 1, .data = blob, .data_len = sizeof(blob), .size = 1, .updated = 1};
	assert_int_equal(store_begin(f->st), STORE_OK); /* the old table, as an old version did */
	assert_int_equal(store_spool_insert(f->st, &r), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct store *sq = store_spool_open(f->conf, &err);
	assert_non_null(sq);
	if (f->be->files == NULL) {
		/* PostgreSQL: the spool is a table of the same database (its
		 * commits are synced like all), so there is no file to move the
		 * old rows into: both handles see the one row. */
		struct spool_seen t = {0};
		assert_int_equal(store_spool_each(sq, 0, 0, 10, 10, spool_seen_cb, &t), STORE_OK);
		assert_int_equal(t.n, 1);
		assert_int_equal(store_sync(f->st), STORE_OK);
		assert_int_equal(store_begin(f->st), STORE_OK);
		assert_int_equal(store_sync(f->st), STORE_ERR);
		store_rollback(f->st);
		store_close(sq);
		buf_free(&err);
		return;
	}
	char path[512];
	bsnprintf(path, sizeof(path), "%s/t-spool.db", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	struct spool_seen s = {0};
	assert_int_equal(store_spool_each(sq, 0, 0, 10, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1); /* moved */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(f->st, 0, 0, 10, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 0);

	assert_int_equal(store_begin(sq), STORE_OK);
	assert_int_equal(store_spool_insert(sq, &r), STORE_OK);
	assert_int_equal(store_commit(sq), STORE_OK);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(sq, 0, 0, 10, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(f->st, 0, 0, 10, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 0);

	assert_int_equal(store_sync(f->st), STORE_OK);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_sync(f->st), STORE_ERR);
	store_rollback(f->st);
	store_close(sq);
	buf_free(&err);
}

static void test_intake_tables(void **state)
{
	struct fx *f = *state;
	uint8_t blob[40] = {1, 2, 3};
	struct spool_rec r = {
	    .received = 100, .data = blob, .data_len = sizeof(blob), .size = 7, .updated = 100};
	assert_int_equal(store_spool_insert(f->st, &r), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_spool_insert(f->st, &r), STORE_OK);
	int64_t a = r.id;
	r.received = r.updated = 200;
	assert_int_equal(store_spool_insert(f->st, &r), STORE_OK);
	int64_t b = r.id;
	assert_true(b > a);
	/* a deferred row (updated in the future) and a quarantined one */
	assert_int_equal(store_spool_set(f->st, b, 1, 0, 500), STORE_OK);
	assert_int_equal(store_spool_insert(f->st, &r), STORE_OK);
	int64_t c = r.id;
	assert_int_equal(store_spool_set(f->st, c, 3, 300, 300), STORE_OK);
	assert_int_equal(store_spool_set(f->st, 999, 1, 0, 1), STORE_NOTFOUND);
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct spool_seen s = {0};
	assert_int_equal(store_spool_each(f->st, 0, 0, 400, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1); /* b is not due before 500, c is quarantined */
	assert_int_equal(s.id[0], a);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(f->st, 0, 0, 500, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.attempts[1], 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(f->st, 0, a, 500, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1); /* after a */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_spool_each(f->st, 1, 0, INT64_MAX, 10, spool_seen_cb, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], c);

	struct spool_rec got = {0};
	assert_int_equal(store_spool_get(f->st, c, &got), STORE_OK);
	assert_int_equal(got.attempts, 3);
	assert_int_equal(got.quarantined, 300);
	assert_int_equal(got.size, 7);
	assert_int_equal(got.data_len, sizeof(blob));
	assert_memory_equal(got.data, blob, sizeof(blob));
	spool_rec_free(&got);
	assert_null(got.data);
	assert_int_equal(store_spool_get(f->st, 999, &got), STORE_NOTFOUND);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_spool_delete(f->st, a), STORE_OK);
	assert_int_equal(store_spool_delete(f->st, a), STORE_NOTFOUND);
	/* counters: created, then added to */
	struct stat_rec cnt = {.day = 20000, .list_id = 1, .counter = "x", .key = "", .value = 2};
	assert_int_equal(store_stats_add(f->st, &cnt), STORE_OK);
	cnt.value = 3;
	assert_int_equal(store_stats_add(f->st, &cnt), STORE_OK);
	cnt.day = 20001, cnt.value = 1;
	assert_int_equal(store_stats_add(f->st, &cnt), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	int64_t n = -1;
	assert_int_equal(store_stats_get(f->st, 20000, 1, "x", "", &n), STORE_OK);
	assert_int_equal(n, 5);
	assert_int_equal(store_stats_get(f->st, 20002, 1, "x", "", &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_stats_add(f->st, &cnt), STORE_ERR); /* no txn */

	/* ledger counts by action and source in a time range */
	int64_t l1 = add_list(f, "counted");
	struct ledger_rec e[4] = {
	    {.list_id = l1, .subscriber_id = 1, .action = "confirm", .time = 10, .source = "web"},
	    {.list_id = l1, .subscriber_id = 2, .action = "confirm", .time = 11, .source = "web"},
	    {.list_id = l1,
	     .subscriber_id = 1,
	     .action = "unsubscribe",
	     .time = 12,
	     .source = "bounce"},
	    {.list_id = l1, .subscriber_id = 3, .action = "confirm", .time = 20, .source = "web"},
	};
	assert_int_equal(store_begin(f->st), STORE_OK);
	for (int i = 0; i < 4; i++) {
		e[i].policy_version = "1";
		assert_int_equal(store_ledger_append(f->st, &e[i], f->key), STORE_OK);
	}
	assert_int_equal(store_commit(f->st), STORE_OK);
	struct counted cn = {0};
	assert_int_equal(store_ledger_counts(f->st, l1, 10, 20, counted_cb, &cn), STORE_OK);
	assert_int_equal(cn.k, 2);
	assert_string_equal(cn.what[0], "confirm/web");
	assert_int_equal(cn.n[0], 2);
	assert_string_equal(cn.what[1], "unsubscribe/bounce");
	assert_int_equal(cn.n[1], 1);
}

struct marks_seen {
	int64_t id[8];
	uint8_t tag0[8];
	int n;
};

static int marks_seen_cb(void *ctx, int64_t id, const uint8_t tag[STORE_SPOOL_TAG_LEN])
{
	struct marks_seen *m = ctx;
	m->id[m->n] = id;
	m->tag0[m->n] = tag[0];
	m->n++;
	return m->n == 8;
}

/* Handled markers: claimed once, listed in id order after a given id, and
 * unclaim_tag forgets one only while it has the tag given (a marker
 * claimed anew for another row with that id stays). */
static void test_spool_marks(void **state)
{
	struct fx *f = *state;
	uint8_t t1[STORE_SPOOL_TAG_LEN] = {1}, t2[STORE_SPOOL_TAG_LEN] = {2};
	assert_int_equal(store_spool_claim(f->st, 5, t1), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_spool_claim(f->st, 5, t1), STORE_OK);
	assert_int_equal(store_spool_claim(f->st, 5, t1), STORE_EXISTS);
	assert_int_equal(store_spool_claim(f->st, 3, t1), STORE_OK);
	assert_int_equal(store_spool_claim(f->st, 9, t2), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	struct marks_seen m = {0};
	assert_int_equal(store_spool_marks(f->st, 0, 8, marks_seen_cb, &m), STORE_OK);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.id[0], 3);
	assert_int_equal(m.id[1], 5);
	assert_int_equal(m.id[2], 9);
	assert_int_equal(m.tag0[2], 2);
	m.n = 0;
	assert_int_equal(store_spool_marks(f->st, 3, 1, marks_seen_cb, &m), STORE_OK);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.id[0], 5);

	assert_int_equal(store_spool_unclaim_tag(f->st, 5, t2), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_spool_unclaim_tag(f->st, 5, t2), STORE_OK); /* another tag: kept */
	assert_int_equal(store_spool_unclaim_tag(f->st, 9, t2), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	m.n = 0;
	assert_int_equal(store_spool_marks(f->st, 0, 8, marks_seen_cb, &m), STORE_OK);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.id[0], 3);
	assert_int_equal(m.id[1], 5);
}

static void test_confirm_limits(void **state)
{
	struct fx *f = *state;
	uint8_t a[HASH_LEN], b[HASH_LEN];
	int ok = -1;

	fake_hash(a, 1);
	fake_hash(b, 2);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1000, 100, 2, &ok), STORE_ERR);
	assert_int_equal(ok, 0);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1000, 100, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1050, 100, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1099, 100, 2, &ok), STORE_OK);
	assert_int_equal(ok, 0); /* the third in the window */
	assert_int_equal(store_confirm_limit_hit(f->st, b, 1099, 100, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1); /* another address */
	assert_int_equal(store_commit(f->st), STORE_OK);

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1100, 100, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1); /* a new window starts at 1100 */
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1101, 100, 1, &ok), STORE_OK);
	assert_int_equal(ok, 0);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 500, 100, 1, &ok), STORE_OK);
	assert_int_equal(ok, 1); /* the clock went back: a window from now */
	/* Pruning before 1000 keeps b's window (started at 1099)... */
	assert_int_equal(store_confirm_limit_prune(f->st, 1000), STORE_OK);
	assert_int_equal(store_confirm_limit_hit(f->st, b, 1100, 100, 1, &ok), STORE_OK);
	assert_int_equal(ok, 0);
	/* ... pruning before 1100 drops it: a fresh count. */
	assert_int_equal(store_confirm_limit_prune(f->st, 1100), STORE_OK);
	assert_int_equal(store_confirm_limit_hit(f->st, b, 1100, 100, 1, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_commit(f->st), STORE_OK);
}

/* Replies count apart from confirmations: the same hash in both tables. */
static void test_reply_limits(void **state)
{
	struct fx *f = *state;
	uint8_t a[HASH_LEN];
	int ok = -1;
	fake_hash(a, 1);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_reply_limit_hit(f->st, a, 1000, 3600, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_reply_limit_hit(f->st, a, 1001, 3600, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_reply_limit_hit(f->st, a, 1002, 3600, 2, &ok), STORE_OK);
	assert_int_equal(ok, 0);
	assert_int_equal(store_confirm_limit_hit(f->st, a, 1002, 3600, 1, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_reply_limit_prune(f->st, 1001), STORE_OK);
	assert_int_equal(store_reply_limit_hit(f->st, a, 1003, 3600, 2, &ok), STORE_OK);
	assert_int_equal(ok, 1);
	assert_int_equal(store_commit(f->st), STORE_OK);
}

/* Every job kind and state the name tables know is taken by the schema and
 * read back as it was written. */
static void test_job_kinds(void **state)
{
	struct fx *f = *state;
	int64_t list = add_list(f, "one");
	assert_int_equal(store_begin(f->st), STORE_OK);
	for (int k = 0; k <= (int)JOB_KIND_DISTRIBUTION; k++) {
		for (int st = 0; st <= (int)JOB_STATE_CANCELLED; st++) {
			struct job_rec j = {0}, got = {0};
			j.list_id = list;
			j.kind = (enum job_kind)k;
			j.state = (enum job_state)st;
			j.subject = (char *)job_kind_name(j.kind);
			j.body_text = (char *)"t";
			j.pause_reason = (char *)"";
			assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
			assert_int_equal(store_job_get(f->st, j.id, &got), STORE_OK);
			assert_int_equal(got.kind, k);
			assert_int_equal(got.state, st);
			assert_string_equal(got.subject, job_kind_name(j.kind));
			job_rec_free(&got);
		}
	}
	assert_int_equal(store_commit(f->st), STORE_OK);
}

/* A job's sealed recipient is kept while it runs and deleted when it ends. */
static void test_job_rcpt_sealed(void **state)
{
	struct fx *f = *state;
	uint8_t blob[100];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	struct job_rec j = {0}, got = {0};
	j.list_id = add_list(f, "one");
	j.kind = JOB_KIND_REPLY;
	j.state = JOB_STATE_SCHEDULED;
	j.subject = "s";
	j.body_text = "t";
	j.pause_reason = "";
	j.rcpt_sealed = blob;
	j.rcpt_sealed_len = sizeof(blob);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_job_insert(f->st, &j), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_job_get(f->st, j.id, &got), STORE_OK);
	assert_int_equal(got.rcpt_sealed_len, sizeof(blob));
	assert_memory_equal(got.rcpt_sealed, blob, sizeof(blob));
	got.state = JOB_STATE_RUNNING;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_job_update(f->st, &got), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	job_rec_free(&got);
	assert_int_equal(store_job_get(f->st, j.id, &got), STORE_OK);
	assert_non_null(got.rcpt_sealed);
	got.state = JOB_STATE_DONE;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_job_update(f->st, &got), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	job_rec_free(&got);
	assert_int_equal(store_job_get(f->st, j.id, &got), STORE_OK);
	assert_null(got.rcpt_sealed);
	assert_int_equal(got.rcpt_sealed_len, 0);
	job_rec_free(&got);
}

struct stats_seen {
	int rows;
	int64_t value[4], day[4];
	uint8_t sketch[4];
	size_t sketch_len;
};

static int stats_one(void *ctx, const struct stat_rec *r)
{
	struct stats_seen *w = ctx;
	if (w->rows < 4) {
		w->value[w->rows] = r->value;
		w->day[w->rows] = r->day;
		if (r->sketch_len == 4) {
			memcpy(w->sketch, r->sketch, 4);
			w->sketch_len = 4;
		}
	}
	w->rows++;
	return 0;
}

/* Counters add up per (day, list, counter, key); sketches merge by byte-wise
 * maximum; a range of days and one list select rows. */
static void test_stats(void **state)
{
	struct fx *f = *state;
	const uint8_t s1[4] = {1, 5, 0, 2}, s2[4] = {3, 1, 0, 2};
	struct stat_rec r = {20513, 7, "view", "/l/NAME", 2, NULL, 0};
	assert_int_equal(store_stats_add(f->st, &r), STORE_ERR); /* no transaction */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_stats_add(f->st, &r), STORE_OK);
	r.value = 3;
	assert_int_equal(store_stats_add(f->st, &r), STORE_OK);
	struct stat_rec o = {20513, 7, "opens", "12", 1, s1, 4};
	assert_int_equal(store_stats_add(f->st, &o), STORE_OK);
	o.sketch = s2;
	assert_int_equal(store_stats_add(f->st, &o), STORE_OK);
	struct stat_rec other = {20514, 0, "browser", "firefox", 1, NULL, 0};
	assert_int_equal(store_stats_add(f->st, &other), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);

	struct stats_seen w = {0};
	assert_int_equal(store_stats_each(f->st, 20513, 20513, 7, stats_one, &w), STORE_OK);
	assert_int_equal(w.rows, 2);
	assert_int_equal(w.value[0], 2); /* "opens" sorts first */
	assert_int_equal(w.value[1], 5);
	const uint8_t want[4] = {3, 5, 0, 2};
	assert_int_equal(w.sketch_len, 4);
	assert_memory_equal(w.sketch, want, 4);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_stats_each(f->st, 20454, 20818, -1, stats_one, &w), STORE_OK);
	assert_int_equal(w.rows, 3);
	assert_int_equal(w.day[0], 20513); /* days since the epoch, as written */
	assert_int_equal(w.day[2], 20514);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_stats_each(f->st, 20514, 20521, 7, stats_one, &w), STORE_OK);
	assert_int_equal(w.rows, 0);
	/* a total over every day, list and key of one counter */
	struct stat_rec t1 = {20400, 0, "view", "/", 4, NULL, 0};
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_stats_add(f->st, &t1), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	int64_t n = -1;
	assert_int_equal(store_stats_total(f->st, "view", &n), STORE_OK);
	assert_int_equal(n, 9);
	assert_int_equal(store_stats_total(f->st, "browser", &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_stats_total(f->st, "none-such", &n), STORE_OK);
	assert_int_equal(n, 0);
}

static int audit_times_cb(void *ctx, const struct audit_rec *r)
{
	int64_t *t = ctx;
	int i = 0;
	while (i < 3 && t[i] != 0)
		i++;
	t[i] = r->time;
	return 0;
}

static void test_audit(void **state)
{
	struct fx *f = *state;
	/* A view is logged even outside a transaction. */
	assert_int_equal(store_audit(f->st, 1, "cli:root", "person-export", 0, 42, ""), STORE_OK);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_audit(f->st, 2, "web", "list-create", 3, 0, "detail"), STORE_OK);
	assert_int_equal(store_audit(f->st, 3, NULL, "x", 0, 0, NULL), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	/* newest first; pruning drops the rows older than a time */
	int64_t times[4] = {0}, n = 0;
	int k = 0;
	assert_int_equal(store_audit_each(f->st, 0, 10, audit_times_cb, times), STORE_OK);
	for (k = 0; k < 4 && times[k] != 0; k++)
		;
	assert_int_equal(k, 3);
	assert_int_equal(times[0], 3);
	assert_int_equal(times[2], 1);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_audit_prune(f->st, 2, &n), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(n, 1);
	memset(times, 0, sizeof(times));
	assert_int_equal(store_audit_each(f->st, 0, 10, audit_times_cb, times), STORE_OK);
	assert_int_equal(times[1], 2);
	assert_int_equal(times[2], 0);
}

/* --- scrub ----------------------------------------------------------------- */

static void make_marker(uint8_t *m, size_t len, const char *tag)
{
	size_t t = strlen(tag);
	for (size_t i = 0; i < len; i++)
		m[i] = i < t ? (uint8_t)tag[i] : (uint8_t)(0x80 + (i * 37) % 113);
}

static void test_scrub(void **state)
{
	struct fx *f = *state;
	uint8_t gone[200], updated[200], kept[200], h[HASH_LEN];
	struct subscriber_rec r = {0}, got = {0};
	int64_t list = add_list(f, "one");

	assert_int_equal(store_scrub(f->st), STORE_OK);
	if (f->be->files == NULL)
		skip();
	make_marker(gone, sizeof(gone), "zq-scrub-gone-5519");
	make_marker(updated, sizeof(updated), "zq-scrub-old-6620");
	make_marker(kept, sizeof(kept), "zq-scrub-kept-7731");

	assert_int_equal(store_begin(f->st), STORE_OK);
	fake_hash(r.addr_hash, 1);
	r.data = gone;
	r.data_len = sizeof(gone);
	r.created = 1;
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_OK);
	int64_t victim = r.id;
	put_sub(f, list, victim, SUB_STATE_ACTIVE, 0);
	fake_hash(r.addr_hash, 2);
	r.data = updated;
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_OK);
	int64_t changed = r.id;
	fake_hash(r.addr_hash, 3);
	r.data = kept;
	assert_int_equal(store_subscriber_insert(f->st, &r), STORE_OK);
	int64_t stays = r.id;
	assert_int_equal(store_commit(f->st), STORE_OK);

	/* The scan sees what is there. */
	assert_true(files_hold(f, gone, sizeof(gone)));
	assert_true(files_hold(f, updated, sizeof(updated)));
	assert_true(files_hold(f, kept, sizeof(kept)));

	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_subscriber_delete(f->st, victim), STORE_OK);
	r.id = changed;
	r.data = (uint8_t *)"replacement";
	r.data_len = 11;
	assert_int_equal(store_subscriber_update(f->st, &r), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(store_scrub(f->st), STORE_OK);

	assert_false(files_hold(f, gone, sizeof(gone)));
	assert_false(files_hold(f, gone, 64)); /* nor a part of it */
	assert_false(files_hold(f, updated, sizeof(updated)));
	assert_true(files_hold(f, kept, sizeof(kept)));

	/* The store still works after a scrub. */
	fake_hash(h, 3);
	assert_int_equal(store_subscriber_find(f->st, h, &got), STORE_OK);
	assert_int_equal(got.id, stays);
	assert_memory_equal(got.data, kept, sizeof(kept));
	subscriber_rec_free(&got);
	assert_int_equal(store_begin(f->st), STORE_OK);
	insert_subscriber(f, 4);
	assert_int_equal(store_commit(f->st), STORE_OK);
}

/* --- runner ---------------------------------------------------------------- */

struct test_case {
	const char *name;
	CMUnitTestFunction fn;
};

#define CASE(fn)                                                                                   \
	{                                                                                          \
#fn, fn                                                                            \
	}
static const struct test_case CASES[] = {
    CASE(test_migrations),	CASE(test_open_missing_without_migrate),
    CASE(test_lists),		CASE(test_list_delete_cascades),
    CASE(test_subscribers),	CASE(test_subscriptions),
    CASE(test_sub_state_names), CASE(test_members_page),
    CASE(test_recipients_page), CASE(test_transactions),
    CASE(test_ledger),		CASE(test_suppressions),
    CASE(test_confirm_limits),	CASE(test_reply_limits),
    CASE(test_job_rcpt_sealed), CASE(test_job_kinds),
    CASE(test_stats),		CASE(test_audit),
    CASE(test_scrub),		CASE(test_intake_tables),
    CASE(test_spool_marks),	CASE(test_spool_store),
};
#undef CASE

int main(void)
{
	int failed = 0;
	const char *only = getenv("LK_TEST_STORE_BACKEND");
	if (only == NULL)
		only = "sqlite";
	for (size_t b = 0; b < sizeof(BACKENDS) / sizeof(BACKENDS[0]); b++) {
		if (strcmp(BACKENDS[b].name, only) != 0)
			continue;
		struct CMUnitTest tests[sizeof(CASES) / sizeof(CASES[0])];
		memset(tests, 0, sizeof(tests));
		for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
			tests[i].name = CASES[i].name;
			tests[i].test_func = CASES[i].fn;
			tests[i].setup_func = setup;
			tests[i].teardown_func = teardown;
			tests[i].initial_state = (void *)&BACKENDS[b];
		}
		failed += cmocka_run_group_tests_name(BACKENDS[b].name, tests, NULL, NULL);
	}
	return failed != 0;
}
