/*
 * test_hash.c - keyed address hash and ledger chain hash against vectors
 * computed independently (Python hashlib.blake2b), constant-time equality,
 * and strict hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crypto/hash.h"

static struct keys K; /* hash key 40..5f */

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < KEYS_LEN; i++) {
		K.master[i] = (uint8_t)i;
		K.mac[i] = (uint8_t)(0x20 + i);
		K.hash[i] = (uint8_t)(0x40 + i);
	}
	return crypto_init();
}

static void hex_of(const uint8_t h[HASH_LEN], char out[2 * HASH_LEN + 1])
{
	hex_encode(h, HASH_LEN, out);
}

static void test_addr_hash(void **state)
{
	(void)state;
	uint8_t h[HASH_LEN], h2[HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	struct keys other = K;

	addr_hash(&K, "alice@example.org", 17, h);
	hex_of(h, hex);
	assert_string_equal(hex,
			    "652c8a38b051af4cfdc7bfd0f6475467e1e2104592454df72e8fe0d831fb5b95");
	/* Only len bytes count. */
	addr_hash(&K, "alice@example.orgXYZ", 17, h2);
	assert_memory_equal(h, h2, HASH_LEN);
	addr_hash(&K, "alice@example.or", 16, h2);
	assert_memory_not_equal(h, h2, HASH_LEN);
	/* Another hash key, another hash; the other keys play no part. */
	other.hash[0] ^= 1;
	addr_hash(&other, "alice@example.org", 17, h2);
	assert_memory_not_equal(h, h2, HASH_LEN);
	other = K;
	other.master[0] ^= 1;
	other.mac[0] ^= 1;
	addr_hash(&other, "alice@example.org", 17, h2);
	assert_memory_equal(h, h2, HASH_LEN);
	/* Keyed: not the plain BLAKE2b of the address. */
	struct chain_hash c;
	chain_hash_init(&c);
	chain_hash_update(&c, "alice@example.org", 17);
	chain_hash_final(&c, h2);
	assert_memory_not_equal(h, h2, HASH_LEN);
	addr_hash(&K, "", 0, h2);
	assert_memory_not_equal(h, h2, HASH_LEN);
}

static void test_chain_vectors(void **state)
{
	(void)state;
	struct chain_hash c;
	uint8_t h[HASH_LEN];
	char hex[2 * HASH_LEN + 1];

	chain_hash_init(&c);
	chain_hash_final(&c, h);
	hex_of(h, hex);
	assert_string_equal(hex,
			    "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");

	chain_hash_init(&c);
	chain_hash_update(&c, "a", 1);
	chain_hash_update(&c, NULL, 0);
	chain_hash_update(&c, "bc", 2);
	chain_hash_final(&c, h);
	hex_of(h, hex);
	assert_string_equal(hex,
			    "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");

	/* u64(7) || bytes("abc") || u64(0x0102030405060708), big-endian, length-prefixed. */
	chain_hash_init(&c);
	chain_hash_u64(&c, 7);
	chain_hash_bytes(&c, "abc", 3);
	chain_hash_u64(&c, 0x0102030405060708ULL);
	chain_hash_final(&c, h);
	hex_of(h, hex);
	assert_string_equal(hex,
			    "53de96848393b7d387a1ada229ac2e969095730710bc5d987a93ffde2bece381");
}

static void test_chain_boundaries(void **state)
{
	(void)state;
	struct chain_hash c;
	uint8_t h1[HASH_LEN], h2[HASH_LEN];

	chain_hash_init(&c);
	chain_hash_bytes(&c, "ab", 2);
	chain_hash_bytes(&c, "c", 1);
	chain_hash_final(&c, h1);
	chain_hash_init(&c);
	chain_hash_bytes(&c, "a", 1);
	chain_hash_bytes(&c, "bc", 2);
	chain_hash_final(&c, h2);
	assert_memory_not_equal(h1, h2, HASH_LEN);

	chain_hash_init(&c);
	chain_hash_bytes(&c, "", 0);
	chain_hash_final(&c, h1);
	chain_hash_init(&c);
	chain_hash_final(&c, h2);
	assert_memory_not_equal(h1, h2, HASH_LEN);
}

static void test_secret_eq(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	memset(a, 0x11, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(secret_eq(a, b, sizeof(a)));
	assert_true(secret_eq(a, b, 0));
	for (size_t i = 0; i < sizeof(b); i++) {
		b[i] ^= 0x80;
		assert_false(secret_eq(a, b, sizeof(a)));
		b[i] ^= 0x80;
	}
}

static void test_hex(void **state)
{
	(void)state;
	static const uint8_t bin[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char hex[2 * sizeof(bin) + 1];
	uint8_t out[sizeof(bin)];

	hex_encode(bin, sizeof(bin), hex);
	assert_string_equal(hex, "00017f80abff");
	assert_int_equal(hex_decode(hex, 12, out, sizeof(out)), 0);
	assert_memory_equal(out, bin, sizeof(bin));
	assert_int_equal(hex_decode("00017F80ABFF", 12, out, sizeof(out)), 0);
	assert_memory_equal(out, bin, sizeof(bin));
	hex_encode(bin, 0, hex);
	assert_string_equal(hex, "");
	assert_int_equal(hex_decode("", 0, out, 0), 0);

	static const struct {
		const char *in;
		size_t len;
	} bad[] = {
	    {"00017f80abf", 11},    /* short */
	    {"00017f80abff0", 13},  /* long */
	    {"00017f80abff00", 14}, /* long, even */
	    {"00017f80abfg", 12},   /* not hex */
	    {"g0017f80abff", 12},
	    {"00017f80ab f", 12}, /* white space */
	    {" 00017f80abf", 12},
	    {"00017f80abf ", 12},
	    {"0x017f80abff", 12},
	    {"00:1:7f80abf", 12},
	    {"00017f\0"
	     "0abff",
	     12}, /* NUL inside */
	    {"", 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xcc, sizeof(out));
		if (hex_decode(bad[i].in, bad[i].len, out, sizeof(out)) != -1)
			fail_msg("bad hex %zu accepted", i);
		for (size_t j = 0; j < sizeof(out); j++)
			assert_int_equal(out[j], 0); /* wiped on failure */
	}
	/* Exactly len bytes are read: what follows does not matter. */
	assert_int_equal(hex_decode("00017f80abffZZZ", 12, out, sizeof(out)), 0);
	assert_memory_equal(out, bin, sizeof(bin));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_hash),
	    cmocka_unit_test(test_chain_vectors),
	    cmocka_unit_test(test_chain_boundaries),
	    cmocka_unit_test(test_secret_eq),
	    cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
