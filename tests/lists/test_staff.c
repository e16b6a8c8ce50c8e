/*
 * test_staff.c - staff accounts (lists/staff.h): sign-in with the right
 * password only, the same answer for a name without an account; sessions
 * that end when idle past the bound, past their absolute age, on sign-out and
 * "everywhere"; roles that an owner of one list does not hold on another;
 * API tokens found by their secret only.
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
#include "lists/lists.h"
#include "lists/staff.h"
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
	bsnprintf(f->dir, sizeof(f->dir), "/tmp/lk-staff-XXXXXX");
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

static const char PW[] = "a long password";

static void test_sign_in(void **state)
{
	struct fx *f = *state;
	int64_t id = 0, got = 0;
	assert_int_equal(staff_add(&f->x, "olga", PW, strlen(PW), &id, &f->err), STORE_OK);
	assert_int_equal(staff_sign_in(&f->x, "olga", 4, PW, strlen(PW), &got), 1);
	assert_int_equal(got, id);
	got = 0;
	assert_int_equal(staff_sign_in(&f->x, "olga", 4, "a long passworD", 15, &got), 0);
	assert_int_equal(staff_sign_in(&f->x, "nobody", 6, PW, strlen(PW), &got), 0);
	assert_int_equal(staff_sign_in(&f->x, "olg", 3, PW, strlen(PW), &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(staff_add(&f->x, "olga", PW, strlen(PW), NULL, &f->err), STORE_EXISTS);
	assert_int_equal(staff_add(&f->x, "bob", "short", 5, NULL, &f->err), STAFF_INVALID);
}

static void test_sessions(void **state)
{
	struct fx *f = *state;
	int64_t id = 0, n = 0;
	char a[STAFF_SECRET_HEX + 1], b[STAFF_SECRET_HEX + 1];
	struct session_rec s;
	assert_int_equal(staff_add(&f->x, "olga", PW, strlen(PW), &id, &f->err), STORE_OK);
	assert_int_equal(staff_session_open(&f->x, id, a), STORE_OK);
	assert_int_equal(staff_session_open(&f->x, id, b), STORE_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 600, 3600, &s), STORE_OK);
	assert_int_equal(s.staff_id, id);
	/* a forged secret, or one changed in one digit */
	char c[STAFF_SECRET_HEX + 1];
	memcpy(c, a, sizeof(c));
	c[0] = c[0] == '0' ? '1' : '0';
	assert_int_equal(staff_session_check(&f->x, c, STAFF_SECRET_HEX, 600, 3600, &s),
			 STORE_NOTFOUND);
	assert_int_equal(staff_session_check(&f->x, a, 10, 600, 3600, &s), STORE_NOTFOUND);
	/* idle: seen 500 s ago is live (and touched), 601 s later it is not */
	clock_set(NOW + 500);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 600, 3600, &s), STORE_OK);
	clock_set(NOW + 1101);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 600, 3600, &s),
			 STORE_NOTFOUND);
	/* ... and stays gone */
	clock_set(NOW + 1102);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 6000, 36000, &s),
			 STORE_NOTFOUND);
	/* absolute: b, touched often, still ends at max */
	for (int64_t t = NOW; t <= NOW + 3600; t += 500) {
		clock_set(t);
		assert_int_equal(staff_session_check(&f->x, b, STAFF_SECRET_HEX, 600, 3600, &s),
				 STORE_OK);
	}
	clock_set(NOW + 3601);
	assert_int_equal(staff_session_check(&f->x, b, STAFF_SECRET_HEX, 600, 3600, &s),
			 STORE_NOTFOUND);
	/* everywhere */
	clock_set(NOW);
	assert_int_equal(staff_session_open(&f->x, id, a), STORE_OK);
	assert_int_equal(staff_session_open(&f->x, id, b), STORE_OK);
	assert_int_equal(staff_session_close_all(&f->x, id, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 600, 3600, &s),
			 STORE_NOTFOUND);
	/* a new password ends them too */
	assert_int_equal(staff_session_open(&f->x, id, a), STORE_OK);
	assert_int_equal(staff_passwd(&f->x, "olga", "another password", 16, &f->err), STORE_OK);
	assert_int_equal(staff_session_check(&f->x, a, STAFF_SECRET_HEX, 600, 3600, &s),
			 STORE_NOTFOUND);
}

static void test_roles_and_tokens(void **state)
{
	struct fx *f = *state;
	int64_t id = 0, admin = 0;
	struct staff_access acc;
	assert_int_equal(staff_add(&f->x, "olga", PW, strlen(PW), &id, &f->err), STORE_OK);
	assert_int_equal(staff_add(&f->x, "root", PW, strlen(PW), &admin, &f->err), STORE_OK);
	assert_int_equal(staff_grant(&f->x, id, STAFF_ROLE_OWNER, f->team.id, &f->err), STORE_OK);
	assert_int_equal(staff_grant(&f->x, id, STAFF_ROLE_OWNER, 0, &f->err), STAFF_INVALID);
	assert_int_equal(staff_grant(&f->x, admin, STAFF_ROLE_ADMIN, 0, &f->err), STORE_OK);
	assert_int_equal(staff_access_load(f->st, id, &acc), STORE_OK);
	assert_true(staff_may(&acc, STAFF_ROLE_OWNER, f->team.id));
	assert_false(staff_may(&acc, STAFF_ROLE_OWNER, f->other.id));
	assert_false(staff_sees_list(&acc, f->other.id));
	assert_false(acc.admin);
	assert_int_equal(staff_access_load(f->st, admin, &acc), STORE_OK);
	assert_true(acc.admin);
	assert_true(staff_may(&acc, STAFF_ROLE_OWNER, f->other.id));

	char tok[STAFF_TOKEN_LEN + 1];
	struct apitoken_rec t;
	assert_int_equal(staff_token_add(&f->x, id, API_SCOPE_READ, tok, &f->err), STORE_OK);
	assert_int_equal(staff_token_check(&f->x, tok, strlen(tok), &t), STORE_OK);
	assert_int_equal(t.staff_id, id);
	assert_int_equal(t.scope, API_SCOPE_READ);
	tok[10] = tok[10] == 'a' ? 'b' : 'a';
	assert_int_equal(staff_token_check(&f->x, tok, strlen(tok), &t), STORE_NOTFOUND);
	assert_int_equal(staff_remove(&f->x, "olga", &f->err), STORE_OK);
	tok[10] = tok[10] == 'a' ? 'b' : 'a';
	assert_int_equal(staff_token_check(&f->x, tok, strlen(tok), &t), STORE_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sign_in, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roles_and_tokens, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
