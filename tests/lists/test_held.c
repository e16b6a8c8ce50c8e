/*
 * test_held.c - the moderation queue: a held post opens to its sender and
 * message byte for byte, is listed per list without its data, is not
 * readable in the database file, fails to open once altered or moved to
 * another list's row, expires with its data, and goes with its sender's
 * erasure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/conf.h"
#include "crypto/hash.h"
#include "lists/held.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "store/store.h"

#define NOW 1700000000
#define DAY 86400

struct fx {
	char dir[64];
	char db[128];
	struct conf *conf;
	struct store *st;
	struct keys keys;
	struct lists_ctx x;
	struct list_rec team, other;
	struct buf err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL || crypto_init() < 0)
		return -1;
	buf_init(&f->err, 4096);
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-held-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	bsnprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->conf = conf_load(NULL, &f->err);
	if (f->conf == NULL || conf_set(f->conf, "store", "path", f->db, &f->err) < 0)
		return -1;
	f->st = store_open(f->conf, 1, &f->err);
	if (f->st == NULL)
		return -1;
	keys_generate(&f->keys);
	f->x.st = f->st;
	f->x.keys = &f->keys;
	f->x.policy_version = "1";
	f->x.actor = "test";
	clock_set(NOW);
	lists_defaults(&f->team, "team", "example.org");
	lists_defaults(&f->other, "other", "example.org");
	if (lists_create(&f->x, &f->team, &f->err) != STORE_OK ||
	    lists_create(&f->x, &f->other, &f->err) != STORE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];
	list_rec_free(&f->team);
	list_rec_free(&f->other);
	store_close(f->st);
	conf_free(f->conf);
	keys_wipe(&f->keys);
	buf_free(&f->err);
	const char *side[] = {"t.db", "t.db-wal", "t.db-shm"};
	for (int i = 0; i < 3; i++) {
		bsnprintf(path, sizeof(path), "%s/%s", f->dir, side[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static const char MSG[] = "From: Bob <bob@example.org>\r\nSubject: secret plans\r\n\r\n"
			  "the body, with a NUL \0 inside\r\n";

static int64_t hold(struct fx *f, const struct list_rec *l, const char *addr, int days)
{
	int64_t id = 0;
	assert_int_equal(store_begin(f->st), STORE_OK);
	int r = held_put(&f->x, l->id, "non-member", "", addr, addr, MSG, sizeof(MSG) - 1, days,
			 &id, &f->err);
	assert_int_equal(lists_end_txn(&f->x, r, &f->err), STORE_OK);
	assert_true(id > 0);
	return id;
}

static int count_cb(void *ctx, const struct held_rec *r)
{
	int64_t *n = ctx;
	assert_null(r->data);
	assert_string_equal(r->reason, "non-member");
	(*n)++;
	return 0;
}

static int64_t count(struct fx *f, int64_t list_id)
{
	int64_t n = 0;
	assert_int_equal(store_held_each(f->st, list_id, count_cb, &n), STORE_OK);
	return n;
}

/* 1 if the database file holds the bytes of z. */
static int file_has(const char *path, const char *z)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return 0;
	static char data[1 << 22];
	size_t n = fread(data, 1, sizeof(data), fp);
	fclose(fp);
	return memmem(data, n, z, strlen(z)) != NULL;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	int64_t id = hold(f, &f->team, "bob@example.org", 14);
	struct held_rec r;
	assert_int_equal(store_held_get(f->st, id, &r), STORE_OK);
	assert_int_equal(r.list_id, f->team.id);
	assert_int_equal(r.created, NOW);
	assert_int_equal(r.expires, NOW + 14 * DAY);
	assert_int_equal(r.size, sizeof(MSG) - 1);
	uint8_t h[HASH_LEN];
	addr_hash(&f->keys, "bob@example.org", 15, h);
	assert_memory_equal(r.sender_hash, h, HASH_LEN);
	struct buf who, msg;
	buf_init(&who, 1024);
	buf_init(&msg, 1 << 20);
	assert_int_equal(held_open(&f->keys, &r, &who, &msg), 0);
	assert_string_equal(buf_cstr(&who), "bob@example.org");
	assert_int_equal(msg.len, sizeof(MSG) - 1);
	assert_memory_equal(msg.data, MSG, sizeof(MSG) - 1);
	/* altered: does not open */
	r.data[r.data_len / 2] ^= 1;
	buf_reset(&who);
	buf_reset(&msg);
	assert_int_equal(held_open(&f->keys, &r, &who, &msg), -1);
	r.data[r.data_len / 2] ^= 1;
	/* moved to another list's row: does not open */
	r.list_id = f->other.id;
	assert_int_equal(held_open(&f->keys, &r, &who, &msg), -1);
	held_rec_free(&r);
	buf_free(&who);
	buf_free(&msg);
	/* sealed at rest: neither the subject nor the sender in the file */
	store_close(f->st);
	f->st = store_open(f->conf, 0, &f->err);
	f->x.st = f->st;
	assert_non_null(f->st);
	assert_true(file_has(f->db, "non-member")); /* the file is read: the reason is there */
	assert_false(file_has(f->db, "secret plans"));
	assert_false(file_has(f->db, "bob@example.org"));
}

static void test_list_expire_erase(void **state)
{
	struct fx *f = *state;
	hold(f, &f->team, "bob@example.org", 14);
	hold(f, &f->team, "eve@example.org", 1);
	hold(f, &f->other, "bob@example.org", 14);
	assert_int_equal(count(f, f->team.id), 2);
	assert_int_equal(count(f, f->other.id), 1);
	assert_int_equal(count(f, 0), 3);
	/* a day later eve's one-day hold is gone, the others stay */
	int64_t n = 0;
	clock_set(NOW + DAY);
	assert_int_equal(held_expire(&f->x, &n, &f->err), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count(f, f->team.id), 1);
	/* bob, a member, is erased: his held posts on every list go too */
	struct subscribe_req rq = {0};
	rq.address = "bob@example.org";
	rq.source = "cli";
	rq.confirmed = 1;
	int64_t sid = 0;
	assert_int_equal(lists_subscribe(&f->x, &f->team, &rq, &sid, &f->err), SUBSCRIBE_ACTIVE);
	assert_int_equal(lists_erase(&f->x, sid, "cli", NULL, &f->err), STORE_OK);
	assert_int_equal(count(f, 0), 0);
	/* a deleted post is not found */
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_held_delete(f->st, 999), STORE_NOTFOUND);
	store_rollback(f->st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_expire_erase, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
