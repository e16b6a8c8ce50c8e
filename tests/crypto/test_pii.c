/*
 * test_pii.c - sealing personal data and wrapping data keys: round trips,
 * and every way a blob can be wrong (ad, key, a flipped bit, too short,
 * no room in the output) fails cleanly and leaves the output as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crypto/pii.h"

static int setup(void **state)
{
	(void)state;
	return crypto_init();
}

static void test_roundtrip(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 15, 16, 17, 64, 1000, 4096};
	uint8_t key[PII_KEY_LEN];
	uint8_t plain[4096];
	struct buf sealed, opened;

	pii_key_new(key);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf_init(&sealed, 1 << 16);
		buf_init(&opened, 1 << 16);
		assert_int_equal(pii_seal(key, "sub:42", plain, lens[i], &sealed), 0);
		assert_int_equal(sealed.len, lens[i] + PII_OVERHEAD);
		if (lens[i] >= 16) /* the plain text does not show */
			assert_memory_not_equal(sealed.data + PII_NONCE_LEN, plain, 16);
		assert_int_equal(pii_open(key, "sub:42", sealed.data, sealed.len, &opened), 0);
		assert_int_equal(opened.len, lens[i]);
		if (lens[i])
			assert_memory_equal(opened.data, plain, lens[i]);
		buf_free(&sealed);
		buf_free(&opened);
	}
}

static void test_appends_and_fresh_nonce(void **state)
{
	(void)state;
	uint8_t key[PII_KEY_LEN];
	struct buf a, b, o;

	pii_key_new(key);
	buf_init(&a, 1024);
	buf_init(&b, 1024);
	buf_init(&o, 1024);
	buf_puts(&a, "hdr");
	buf_puts(&o, "before:");
	assert_int_equal(pii_seal(key, "sub:1", "alice@example.org", 17, &a), 0);
	assert_int_equal(pii_seal(key, "sub:1", "alice@example.org", 17, &b), 0);
	assert_int_equal(a.len, 3 + 17 + PII_OVERHEAD);
	assert_memory_equal(a.data, "hdr", 3);
	/* Same plain text, same key: different nonce, different blob. */
	assert_memory_not_equal(a.data + 3, b.data, PII_NONCE_LEN);
	assert_memory_not_equal(a.data + 3 + PII_NONCE_LEN, b.data + PII_NONCE_LEN, 17);
	assert_int_equal(pii_open(key, "sub:1", a.data + 3, a.len - 3, &o), 0);
	assert_string_equal(buf_cstr(&o), "before:alice@example.org");
	buf_free(&a);
	buf_free(&b);
	buf_free(&o);
}

static void test_wrong_ad_or_key(void **state)
{
	(void)state;
	uint8_t key[PII_KEY_LEN], other[PII_KEY_LEN];
	struct buf s, o;
	static const char *const ads[] = {"sub:43", "sub:4", "sub:420", "ledger:42", "", "Sub:42"};

	pii_key_new(key);
	pii_key_new(other);
	buf_init(&s, 1024);
	buf_init(&o, 1024);
	assert_int_equal(pii_seal(key, "sub:42", "Alice", 5, &s), 0);
	for (size_t i = 0; i < sizeof(ads) / sizeof(ads[0]); i++) {
		assert_int_equal(pii_open(key, ads[i], s.data, s.len, &o), -1);
		assert_int_equal(o.len, 0);
	}
	assert_int_equal(pii_open(other, "sub:42", s.data, s.len, &o), -1);
	assert_int_equal(o.len, 0);
	/* One bit of the key. */
	key[31] ^= 0x80;
	assert_int_equal(pii_open(key, "sub:42", s.data, s.len, &o), -1);
	key[31] ^= 0x80;
	assert_int_equal(pii_open(key, "sub:42", s.data, s.len, &o), 0);
	assert_string_equal(buf_cstr(&o), "Alice");
	buf_free(&s);
	buf_free(&o);
}

static void test_every_bit_flip_fails(void **state)
{
	(void)state;
	uint8_t key[PII_KEY_LEN];
	uint8_t blob[64 + PII_OVERHEAD];
	struct buf s, o;

	pii_key_new(key);
	buf_init(&s, 1024);
	buf_init(&o, 1024);
	buf_puts(&o, "keep");
	assert_int_equal(pii_seal(key, "sub:7", "some personal data of length 32", 32, &s), 0);
	assert_true(s.len <= sizeof(blob));
	memcpy(blob, s.data, s.len);
	for (size_t bit = 0; bit < s.len * 8; bit++) {
		blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (pii_open(key, "sub:7", blob, s.len, &o) != -1)
			fail_msg("bit %zu flipped and still opened", bit);
		blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_string_equal(buf_cstr(&o), "keep");
	assert_int_equal(o.err, 0);
	assert_int_equal(pii_open(key, "sub:7", blob, s.len, &o), 0);
	buf_free(&s);
	buf_free(&o);
}

static void test_short_or_cut_fails(void **state)
{
	(void)state;
	uint8_t key[PII_KEY_LEN];
	struct buf s, o;

	pii_key_new(key);
	buf_init(&s, 1024);
	buf_init(&o, 1024);
	assert_int_equal(pii_seal(key, "sub:9", "0123456789", 10, &s), 0);
	/* Every prefix, including those shorter than nonce + tag. */
	for (size_t n = 0; n < s.len; n++) {
		if (pii_open(key, "sub:9", s.data, n, &o) != -1)
			fail_msg("prefix of %zu bytes opened", n);
		assert_int_equal(o.len, 0);
	}
	/* Dropping bytes from the front, or one byte too many at the end. */
	assert_int_equal(pii_open(key, "sub:9", s.data + 1, s.len - 1, &o), -1);
	buf_putc(&s, 0);
	assert_int_equal(pii_open(key, "sub:9", s.data, s.len, &o), -1);
	assert_int_equal(pii_open(key, "sub:9", NULL, 0, &o), -1);
	/* A blob of the empty plain text is exactly nonce + tag, and opens. */
	buf_reset(&s);
	assert_int_equal(pii_seal(key, "sub:9", NULL, 0, &s), 0);
	assert_int_equal(s.len, PII_OVERHEAD);
	assert_int_equal(pii_open(key, "sub:9", s.data, s.len, &o), 0);
	assert_int_equal(o.len, 0);
	buf_free(&s);
	buf_free(&o);
}

static void test_output_bound(void **state)
{
	(void)state;
	uint8_t key[PII_KEY_LEN];
	struct buf s, o;

	pii_key_new(key);
	/* The sealed blob is 10 + 40 = 50 bytes: a max of 49 refuses it. */
	buf_init(&s, 49);
	assert_int_equal(pii_seal(key, "a", "0123456789", 10, &s), -1);
	assert_int_equal(s.len, 0);
	assert_int_equal(s.err, 1);
	buf_free(&s);
	buf_init(&s, 50);
	buf_putc(&s, 'x');
	assert_int_equal(pii_seal(key, "a", "0123456789", 10, &s), -1);
	assert_int_equal(s.len, 1);
	buf_reset(&s);
	assert_int_equal(pii_seal(key, "a", "0123456789", 10, &s), 0);

	/* Opening: 10 bytes of plain text into room for 9. */
	buf_init(&o, 9);
	assert_int_equal(pii_open(key, "a", s.data, s.len, &o), -1);
	assert_int_equal(o.len, 0);
	buf_free(&o);
	buf_init(&o, 10);
	assert_int_equal(pii_open(key, "a", s.data, s.len, &o), 0);
	assert_memory_equal(o.data, "0123456789", 10);
	buf_free(&o);
	buf_free(&s);
}

static void test_key_wrap(void **state)
{
	(void)state;
	struct keys k, other;
	uint8_t dk[PII_KEY_LEN], got[PII_KEY_LEN], w1[PII_WRAPPED_LEN], w2[PII_WRAPPED_LEN];
	struct buf o;

	assert_int_equal(PII_WRAPPED_LEN, 72);
	keys_generate(&k);
	keys_generate(&other);
	pii_key_new(dk);
	pii_key_wrap(&k, dk, w1);
	pii_key_wrap(&k, dk, w2);
	assert_memory_not_equal(w1, w2, PII_WRAPPED_LEN);
	assert_memory_not_equal(w1 + PII_NONCE_LEN, dk, PII_KEY_LEN);

	assert_int_equal(pii_key_unwrap(&k, w1, sizeof(w1), got), 0);
	assert_memory_equal(got, dk, PII_KEY_LEN);
	memset(got, 0, sizeof(got));
	assert_int_equal(pii_key_unwrap(&k, w2, sizeof(w2), got), 0);
	assert_memory_equal(got, dk, PII_KEY_LEN);

	/* Another master key, wrong lengths, every bit flip. */
	memset(got, 0xee, sizeof(got));
	assert_int_equal(pii_key_unwrap(&other, w1, sizeof(w1), got), -1);
	assert_int_equal(pii_key_unwrap(&k, w1, sizeof(w1) - 1, got), -1);
	uint8_t longer[PII_WRAPPED_LEN + 1];
	memcpy(longer, w1, sizeof(w1));
	longer[PII_WRAPPED_LEN] = 0;
	assert_int_equal(pii_key_unwrap(&k, longer, sizeof(longer), got), -1);
	assert_int_equal(pii_key_unwrap(&k, NULL, 0, got), -1);
	for (size_t bit = 0; bit < sizeof(w1) * 8; bit++) {
		w1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (pii_key_unwrap(&k, w1, sizeof(w1), got) != -1)
			fail_msg("wrapped key with bit %zu flipped unwrapped", bit);
		w1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0xee); /* never written on failure */

	/* A wrapped key is not a blob sealed with the master key, and back. */
	buf_init(&o, 1024);
	assert_int_equal(pii_open(k.master, "", w1, sizeof(w1), &o), -1);
	assert_int_equal(pii_seal(k.master, "", dk, PII_KEY_LEN, &o), 0);
	assert_int_equal(o.len, PII_WRAPPED_LEN);
	assert_int_equal(pii_key_unwrap(&k, (const uint8_t *)o.data, o.len, got), -1);
	buf_free(&o);
}

/* The codec: a fresh key per call, wrapped; each part opens under its own
 * ad with that wrapped key only; a full out fails. */
static void test_seal_fresh(void **state)
{
	(void)state;
	struct keys k, other;
	keys_generate(&k);
	keys_generate(&other);
	uint8_t w1[PII_WRAPPED_LEN], w2[PII_WRAPPED_LEN];
	struct buf a, b, c, plain;
	buf_init(&a, 1024);
	buf_init(&b, 1024);
	buf_init(&c, 1024);
	buf_init(&plain, 1024);
	struct pii_part parts[2] = {{"one", "first", 5, &a}, {"two", "second", 6, &b}};
	assert_int_equal(pii_seal_fresh(&k, w1, parts, 2), 0);
	assert_int_equal(a.len, 5 + PII_OVERHEAD);
	assert_int_equal(b.len, 6 + PII_OVERHEAD);
	assert_int_equal(pii_open_wrapped(&k, w1, sizeof(w1), "one", a.data, a.len, &plain), 0);
	assert_memory_equal(plain.data, "first", 5);
	buf_reset(&plain);
	assert_int_equal(pii_open_wrapped(&k, w1, sizeof(w1), "two", b.data, b.len, &plain), 0);
	assert_memory_equal(plain.data, "second", 6);
	buf_reset(&plain);
	/* wrong ad, wrong master key, a short wrapped key: nothing comes out */
	assert_int_equal(pii_open_wrapped(&k, w1, sizeof(w1), "two", a.data, a.len, &plain), -1);
	assert_int_equal(pii_open_wrapped(&other, w1, sizeof(w1), "one", a.data, a.len, &plain),
			 -1);
	assert_int_equal(pii_open_wrapped(&k, w1, sizeof(w1) - 1, "one", a.data, a.len, &plain),
			 -1);
	assert_int_equal(plain.len, 0);
	/* a second call makes another key: its blob does not open under the first */
	struct pii_part one = {"one", "first", 5, &c};
	assert_int_equal(pii_seal_fresh(&k, w2, &one, 1), 0);
	assert_memory_not_equal(w1, w2, sizeof(w1));
	assert_int_equal(pii_open_wrapped(&k, w1, sizeof(w1), "one", c.data, c.len, &plain), -1);
	assert_int_equal(pii_open_wrapped(&k, w2, sizeof(w2), "one", c.data, c.len, &plain), 0);
	/* no room */
	struct buf tiny;
	buf_init(&tiny, PII_OVERHEAD + 2);
	struct pii_part big = {"one", "first", 5, &tiny};
	assert_int_equal(pii_seal_fresh(&k, w2, &big, 1), -1);
	buf_free(&tiny);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	buf_free(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_appends_and_fresh_nonce),
	    cmocka_unit_test(test_wrong_ad_or_key),
	    cmocka_unit_test(test_every_bit_flip_fails),
	    cmocka_unit_test(test_short_or_cut_fails),
	    cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_key_wrap),
	    cmocka_unit_test(test_seal_fresh),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
