/*
 * test_token.c - stateless tokens: the layout of token.h (golden vectors
 * computed independently with Python's hashlib.blake2b), round trips, and
 * refusal of a token for another list, purpose or subscriber, an expired,
 * truncated, extended, altered (every bit, every character) or forged one.
 *
 * The address form (token_addr_*) likewise: golden vectors from Python's
 * hashlib.blake2b and an RFC 4648 base32 written here, 28 lower-case
 * characters, round trips up to 2^40 - 1, refusal for another list, purpose
 * or subscriber, every one of the 140 bits flipped, every character changed,
 * truncation and extension, characters outside the alphabet, an authentic
 * token of an unknown version; a change of case is the same token (MTAs may
 * change the case of a local part), and LIST-unsubscribe+TOKEN fits in 64
 * octets for the longest list name allowed.
 *
 * The expiring address form (token_addr_*_exp, LIST-confirm+) likewise:
 * golden vectors from Python, every purpose, refusal for another list
 * (forged), purpose (authentic, not for this), subscriber or expiry,
 * expiry to the second of its hour and no resurrection when the 16 bits of
 * the hour wrap, all 160 bits flipped, every character changed, case,
 * truncation and extension, an authentic unknown version or purpose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "core/limits.h"
#include "crypto/token.h"

#define BIN_LEN 42
#define NOW 1700000000

static struct keys K; /* master 00..1f, mac 20..3f, hash 40..5f */

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

/* Encodes t with keys k into text[TOKEN_TEXT_LEN + 1]. */
static void enc(const struct keys *k, const struct token *t, char *text)
{
	struct buf b;
	buf_init(&b, LK_MAX_TOKEN);
	assert_int_equal(token_encode(k, t, &b), 0);
	assert_int_equal(b.len, TOKEN_TEXT_LEN);
	memcpy(text, b.data, TOKEN_TEXT_LEN + 1);
	buf_free(&b);
}

static void to_bin(const char *text, uint8_t bin[BIN_LEN])
{
	size_t n = 0;
	assert_int_equal(sodium_base642bin(bin, BIN_LEN, text, TOKEN_TEXT_LEN, NULL, &n, NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			 0);
	assert_int_equal(n, BIN_LEN);
}

static void from_bin(const uint8_t bin[BIN_LEN], char *text)
{
	sodium_bin2base64(text, TOKEN_TEXT_LEN + 1, bin, BIN_LEN,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A token with any body, correctly MACed with k (to reach the checks after the MAC). */
static void mint_raw(const struct keys *k, uint8_t version, uint8_t purpose, uint64_t list,
		     uint64_t sub, uint64_t expires, char *text)
{
	uint8_t bin[BIN_LEN];
	bin[0] = version;
	bin[1] = purpose;
	for (int i = 0; i < 8; i++) {
		bin[2 + i] = (uint8_t)(list >> (56 - 8 * i));
		bin[10 + i] = (uint8_t)(sub >> (56 - 8 * i));
		bin[18 + i] = (uint8_t)(expires >> (56 - 8 * i));
	}
	crypto_generichash(bin + 26, 16, bin, 26, k->mac, KEYS_LEN);
	from_bin(bin, text);
}

static void test_golden(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct token t = {TOKEN_CONFIRM, 7, 42, 1700000000};
	struct token u = {TOKEN_UNSUBSCRIBE, UINT64_MAX, 1, 0};
	struct token got;

	enc(&K, &t, text);
	assert_string_equal(text, "AQEAAAAAAAAABwAAAAAAAAAqAAAAAGVT8QCZKnbNDuMleMxd9eplQrjA");
	enc(&K, &u, text);
	assert_string_equal(text, "AQL__________wAAAAAAAAABAAAAAAAAAACta5JnZNrN_RlI6UdL9ZsV");
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, INT64_MAX, &got),
			 TOKEN_OK);
	assert_int_equal(got.list_id, UINT64_MAX);
	assert_int_equal(got.subscriber_id, 1);
	assert_int_equal(got.expires, 0);
}

static void test_layout(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	uint8_t bin[BIN_LEN], mac[16];
	struct token t = {TOKEN_PREFS, 0x0102030405060708ULL, 0x1112131415161718ULL,
			  0x2122232425262728LL};
	static const uint8_t want[26] = {1,    3,    1,	   2,	 3,    4,    5,	   6,	 7,
					 8,    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
					 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28};

	enc(&K, &t, text);
	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++) {
		char c = text[i];
		assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_');
	}
	to_bin(text, bin);
	assert_memory_equal(bin, want, sizeof(want));
	crypto_generichash(mac, sizeof(mac), bin, 26, K.mac, KEYS_LEN);
	assert_memory_equal(bin + 26, mac, sizeof(mac));
}

static void test_roundtrip_all_purposes(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct token t, got;

	for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++) {
		t = (struct token){(enum token_purpose)p, (uint64_t)p * 1000, 77, NOW + 3600};
		enc(&K, &t, text);
		memset(&got, 0, sizeof(got));
		assert_int_equal(
		    token_decode(&K, text, TOKEN_TEXT_LEN, (enum token_purpose)p, NOW, &got),
		    TOKEN_OK);
		assert_int_equal(got.purpose, p);
		assert_int_equal(got.list_id, (uint64_t)p * 1000);
		assert_int_equal(got.subscriber_id, 77);
		assert_int_equal(got.expires, NOW + 3600);
		assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, (enum token_purpose)p,
					     (uint64_t)p * 1000, 77, NOW),
				 TOKEN_OK);
		/* Every other purpose refuses it. */
		for (int q = 0; q <= TOKEN_PURPOSE_LAST + 1; q++) {
			if (q == p)
				continue;
			assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN,
						      (enum token_purpose)q, NOW, &got),
					 TOKEN_WRONG_PURPOSE);
		}
	}
	/* The text need not be NUL-terminated: the length rules. */
	t = (struct token){TOKEN_CONFIRM, 1, 2, 0};
	char longer[TOKEN_TEXT_LEN + 8];
	enc(&K, &t, longer);
	memcpy(longer + TOKEN_TEXT_LEN, "garbage", 8);
	assert_int_equal(token_decode(&K, longer, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, NULL),
			 TOKEN_OK);
}

static void test_other_list_or_subscriber(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct token t = {TOKEN_UNSUBSCRIBE, 5, 9, 0};

	enc(&K, &t, text);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 5, 9, NOW),
			 TOKEN_OK);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 6, 9, NOW),
			 TOKEN_WRONG_PURPOSE);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 4, 9, NOW),
			 TOKEN_WRONG_PURPOSE);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 5, 10, NOW),
			 TOKEN_WRONG_PURPOSE);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 5, 8, NOW),
			 TOKEN_WRONG_PURPOSE);
	assert_int_equal(
	    token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 5 | (1ULL << 32), 9, NOW),
	    TOKEN_WRONG_PURPOSE);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, 5, 9, NOW),
			 TOKEN_WRONG_PURPOSE);
	/* 0 means "don't check that field". */
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 0, 9, NOW),
			 TOKEN_OK);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, 5, 0, NOW),
			 TOKEN_OK);

	/* A token naming list 0 does not match a request for list 5. */
	t = (struct token){TOKEN_REQUEST, 0, 9, 0};
	enc(&K, &t, text);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_REQUEST, 5, 9, NOW),
			 TOKEN_WRONG_PURPOSE);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_REQUEST, 0, 9, NOW), TOKEN_OK);
}

static void test_expiry(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct token t = {TOKEN_CONFIRM, 1, 2, NOW};
	struct token got;

	enc(&K, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW - 1, &got),
			 TOKEN_OK);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_EXPIRED);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW + 1, &got),
			 TOKEN_EXPIRED);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MAX, &got),
			 TOKEN_EXPIRED);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, 1, 2, NOW),
			 TOKEN_EXPIRED);
	/* expires = 0 never expires. */
	t.expires = 0;
	enc(&K, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MAX, &got),
			 TOKEN_OK);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MIN, &got),
			 TOKEN_OK);
	/* expires = 1: long gone. */
	t.expires = 1;
	enc(&K, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_EXPIRED);
	t.expires = INT64_MAX;
	enc(&K, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MAX - 1, &got),
			 TOKEN_OK);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MAX, &got),
			 TOKEN_EXPIRED);
}

static void test_truncated_and_extended(void **state)
{
	(void)state;
	char text[LK_MAX_TOKEN + 2];
	struct token t = {TOKEN_PREFS, 3, 4, 0};
	struct token got;

	enc(&K, &t, text);
	for (size_t n = 0; n < TOKEN_TEXT_LEN; n++) {
		if (token_decode(&K, text, n, TOKEN_PREFS, NOW, &got) != TOKEN_MALFORMED)
			fail_msg("prefix of %zu characters accepted", n);
		/* Suffixes too: dropping the first characters. */
		if (token_decode(&K, text + TOKEN_TEXT_LEN - n, n, TOKEN_PREFS, NOW, &got) !=
		    TOKEN_MALFORMED)
			fail_msg("suffix of %zu characters accepted", n);
		assert_int_equal(token_check(&K, text, n, TOKEN_PREFS, 0, 0, NOW), TOKEN_MALFORMED);
	}
	/* Longer: any extra character, padding, white space, up to past LK_MAX_TOKEN. */
	static const char extra[] = {'A', '=', '\n', '\r', ' ', '\0', '.', '_'};
	for (size_t i = 0; i < sizeof(extra); i++) {
		text[TOKEN_TEXT_LEN] = extra[i];
		assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN + 1, TOKEN_PREFS, NOW, &got),
				 TOKEN_MALFORMED);
	}
	memset(text + TOKEN_TEXT_LEN, 'A', sizeof(text) - TOKEN_TEXT_LEN);
	for (size_t n = TOKEN_TEXT_LEN + 1; n <= sizeof(text); n++)
		assert_int_equal(token_decode(&K, text, n, TOKEN_PREFS, NOW, &got),
				 TOKEN_MALFORMED);
	/* Two tokens glued together. */
	char two[2 * TOKEN_TEXT_LEN + 1];
	enc(&K, &t, two);
	enc(&K, &t, two + TOKEN_TEXT_LEN);
	assert_int_equal(token_decode(&K, two, 2 * TOKEN_TEXT_LEN, TOKEN_PREFS, NOW, &got),
			 TOKEN_MALFORMED);
	assert_int_equal(token_decode(&K, NULL, 0, TOKEN_PREFS, NOW, &got), TOKEN_MALFORMED);
}

static void test_every_bit_flip(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1], flipped[TOKEN_TEXT_LEN + 1];
	uint8_t bin[BIN_LEN];
	struct token t = {TOKEN_UNSUBSCRIBE, 12, 34, NOW + 60};
	struct token got;

	enc(&K, &t, text);
	to_bin(text, bin);
	for (size_t bit = 0; bit < BIN_LEN * 8; bit++) {
		bin[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		from_bin(bin, flipped);
		/* Whatever field the bit is in, the MAC catches it first. */
		for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++) {
			enum token_status st = token_decode(&K, flipped, TOKEN_TEXT_LEN,
							    (enum token_purpose)p, NOW, &got);
			if (st != TOKEN_BAD_MAC)
				fail_msg("bit %zu flipped: %s for purpose %d", bit,
					 token_status_name(st), p);
		}
		bin[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	from_bin(bin, flipped);
	assert_string_equal(flipped, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, NOW, &got),
			 TOKEN_OK);
}

static void test_every_character_changed(void **state)
{
	(void)state;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char outside[] = {'+', '/', '=', ' ',    '\0',  '\n',
				       '.', '%', '~', '\x80', '\xff'};
	char text[TOKEN_TEXT_LEN + 1], alt[TOKEN_TEXT_LEN + 1];
	struct token t = {TOKEN_BOUNCE, 99, 100, 0};
	struct token got;

	enc(&K, &t, text);
	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++) {
		memcpy(alt, text, sizeof(alt));
		for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
			if (alphabet[a] == text[i])
				continue;
			alt[i] = alphabet[a];
			enum token_status st =
			    token_decode(&K, alt, TOKEN_TEXT_LEN, TOKEN_BOUNCE, NOW, &got);
			if (st != TOKEN_BAD_MAC)
				fail_msg("char %zu -> '%c': %s", i, alphabet[a],
					 token_status_name(st));
		}
		for (size_t a = 0; a < sizeof(outside); a++) {
			alt[i] = outside[a];
			assert_int_equal(
			    token_decode(&K, alt, TOKEN_TEXT_LEN, TOKEN_BOUNCE, NOW, &got),
			    TOKEN_MALFORMED);
		}
		/* Case folding (a mail system may lower-case a local part). */
		memcpy(alt, text, sizeof(alt));
		if (alt[i] >= 'A' && alt[i] <= 'Z')
			alt[i] = (char)(alt[i] + 32);
		else if (alt[i] >= 'a' && alt[i] <= 'z')
			alt[i] = (char)(alt[i] - 32);
		if (alt[i] != text[i])
			assert_int_equal(
			    token_decode(&K, alt, TOKEN_TEXT_LEN, TOKEN_BOUNCE, NOW, &got),
			    TOKEN_BAD_MAC);
	}
	/* Bytes 0x80..0xff in place of '_' (libsodium 1.0.18 decodes them all as '_'). */
	struct token u = {TOKEN_UNSUBSCRIBE, UINT64_MAX, 1, 0};
	enc(&K, &u, text);
	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++) {
		memcpy(alt, text, sizeof(alt));
		for (int c = 0x80; c <= 0xff; c++) {
			alt[i] = (char)c;
			enum token_status st =
			    token_decode(&K, alt, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, NOW, &got);
			if (st != TOKEN_MALFORMED)
				fail_msg("char %zu ('%c') -> 0x%02x: %s", i, text[i], c,
					 token_status_name(st));
		}
	}
	/* Standard base64 in place of base64url: '-' -> '+', '_' -> '/'. */
	assert_non_null(strchr(text, '_'));
	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++)
		alt[i] = text[i] == '_' ? '/' : text[i] == '-' ? '+' : text[i];
	assert_int_equal(token_decode(&K, alt, TOKEN_TEXT_LEN, TOKEN_UNSUBSCRIBE, NOW, &got),
			 TOKEN_MALFORMED);
}

static void test_forged(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct keys other = K, fresh;
	struct token t = {TOKEN_CONFIRM, 1, 2, 0};
	struct token got;

	/* Another MAC key (same master and hash keys). */
	other.mac[0] ^= 1;
	enc(&other, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_BAD_MAC);
	keys_generate(&fresh);
	enc(&fresh, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_BAD_MAC);
	assert_int_equal(token_check(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, 1, 2, NOW),
			 TOKEN_BAD_MAC);
	/* Only the MAC key matters. */
	memcpy(fresh.mac, K.mac, KEYS_LEN);
	enc(&fresh, &t, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_OK);

	/* A body with a zero MAC, and with an unkeyed MAC. */
	uint8_t bin[BIN_LEN];
	mint_raw(&K, 1, TOKEN_CONFIRM, 1, 2, 0, text);
	to_bin(text, bin);
	memset(bin + 26, 0, 16);
	from_bin(bin, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_BAD_MAC);
	crypto_generichash(bin + 26, 16, bin, 26, NULL, 0);
	from_bin(bin, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_BAD_MAC);
}

static void test_authentic_but_malformed(void **state)
{
	(void)state;
	char text[TOKEN_TEXT_LEN + 1];
	struct token got;

	mint_raw(&K, 1, TOKEN_CONFIRM, 1, 2, 0, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
			 TOKEN_OK);
	static const uint8_t versions[] = {0, 2, 255};
	for (size_t i = 0; i < sizeof(versions); i++) {
		mint_raw(&K, versions[i], TOKEN_CONFIRM, 1, 2, 0, text);
		assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, NOW, &got),
				 TOKEN_MALFORMED);
	}
	static const uint8_t purposes[] = {0, TOKEN_PURPOSE_LAST + 1, 255};
	for (size_t i = 0; i < sizeof(purposes); i++) {
		mint_raw(&K, 1, purposes[i], 1, 2, 0, text);
		assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN,
					      (enum token_purpose)purposes[i], NOW, &got),
				 TOKEN_MALFORMED);
	}
	/* A negative expiry. */
	mint_raw(&K, 1, TOKEN_CONFIRM, 1, 2, (uint64_t)INT64_MAX + 1, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MIN, &got),
			 TOKEN_MALFORMED);
	mint_raw(&K, 1, TOKEN_CONFIRM, 1, 2, UINT64_MAX, text);
	assert_int_equal(token_decode(&K, text, TOKEN_TEXT_LEN, TOKEN_CONFIRM, INT64_MIN, &got),
			 TOKEN_MALFORMED);
}

static void test_encode_refuses(void **state)
{
	(void)state;
	struct buf b;
	struct token t = {TOKEN_CONFIRM, 1, 2, 0};

	buf_init(&b, TOKEN_TEXT_LEN - 1);
	assert_int_equal(token_encode(&K, &t, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	buf_init(&b, 2 * TOKEN_TEXT_LEN);
	assert_int_equal(token_encode(&K, &t, &b), 0);
	assert_int_equal(token_encode(&K, &t, &b), 0);
	assert_int_equal(b.len, 2 * TOKEN_TEXT_LEN);
	assert_memory_equal(b.data, b.data + TOKEN_TEXT_LEN, TOKEN_TEXT_LEN); /* deterministic */
	assert_int_equal(token_encode(&K, &t, &b), -1);
	buf_reset(&b);
	t.purpose = (enum token_purpose)0;
	assert_int_equal(token_encode(&K, &t, &b), -1);
	t.purpose = (enum token_purpose)(TOKEN_PURPOSE_LAST + 1);
	assert_int_equal(token_encode(&K, &t, &b), -1);
	t.purpose = TOKEN_CONFIRM;
	t.expires = -1;
	assert_int_equal(token_encode(&K, &t, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_status_str(void **state)
{
	(void)state;
	static const enum token_status all[] = {TOKEN_OK, TOKEN_MALFORMED, TOKEN_BAD_MAC,
						TOKEN_EXPIRED, TOKEN_WRONG_PURPOSE};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_non_null(token_status_name(all[i]));
		assert_string_not_equal(token_status_name(all[i]), "unknown");
	}
	assert_string_equal(token_status_name((enum token_status) - 99), "unknown");
}

/* --- the address form ----------------------------------------------------- */

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Appends the address form of (purpose, list, sub) to text[TOKEN_ADDR_LEN + 1]. */
static void addr_enc(enum token_purpose p, uint64_t list, uint64_t sub, char *text)
{
	struct buf b;
	buf_init(&b, LK_MAX_TOKEN);
	assert_int_equal(token_addr_encode(&K, p, list, sub, &b), 0);
	assert_int_equal(b.len, TOKEN_ADDR_LEN);
	memcpy(text, b.data, TOKEN_ADDR_LEN + 1);
	buf_free(&b);
}

/* An address token with any version and id, MACed as token.h says: written
 * here bit by bit, independently of token.c. */
static void addr_mint_raw(unsigned version, enum token_purpose p, uint64_t list, uint64_t mac_sub,
			  uint64_t sub, char *text)
{
	uint8_t in[7 + 2 + 16], full[16], bits[140];
	memcpy(in, "lk-addr", 7);
	in[7] = (uint8_t)version;
	in[8] = (uint8_t)p;
	for (int i = 0; i < 8; i++) {
		in[9 + i] = (uint8_t)(list >> (56 - 8 * i));
		in[17 + i] = (uint8_t)(mac_sub >> (56 - 8 * i));
	}
	crypto_generichash(full, sizeof(full), in, sizeof(in), K.mac, KEYS_LEN);
	for (int i = 0; i < 4; i++)
		bits[i] = (uint8_t)((version >> (3 - i)) & 1);
	for (int i = 0; i < 40; i++)
		bits[4 + i] = (uint8_t)((sub >> (39 - i)) & 1);
	for (int i = 0; i < 96; i++)
		bits[44 + i] = (uint8_t)((full[i / 8] >> (7 - i % 8)) & 1);
	for (int c = 0; c < TOKEN_ADDR_LEN; c++) {
		unsigned v = 0;
		for (int k = 0; k < 5; k++)
			v = v << 1 | bits[5 * c + k];
		text[c] = B32[v];
	}
	text[TOKEN_ADDR_LEN] = '\0';
}

static enum token_status addr_dec(const char *text, size_t len, enum token_purpose p, uint64_t list,
				  uint64_t *sub)
{
	return token_addr_decode(&K, text, len, p, list, sub);
}

static void test_addr_golden(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], raw[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_enc(TOKEN_BOUNCE, 1, 42, text);
	assert_string_equal(text, "caaaaaacuzxrcguzo7osarouym3o");
	addr_enc(TOKEN_UNSUBSCRIBE, 7, TOKEN_ADDR_MAX_SUBSCRIBER, text);
	assert_string_equal(text, "d77777776wex7sp35skweic32ex2");
	addr_mint_raw(1, TOKEN_UNSUBSCRIBE, 7, TOKEN_ADDR_MAX_SUBSCRIBER, TOKEN_ADDR_MAX_SUBSCRIBER,
		      raw);
	assert_string_equal(raw, text);
	addr_enc(TOKEN_UNSUBSCRIBE, 1, 42, text);
	assert_string_equal(text, "caaaaaacucvo3xzdeef26jjdcxdu");
	assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, TOKEN_UNSUBSCRIBE, 1, &sub), TOKEN_OK);
	assert_int_equal(sub, 42);
}

static void test_addr_roundtrip(void **state)
{
	(void)state;
	static const uint64_t ids[] = {
	    0, 1, 42, 1u << 31, UINT64_C(1) << 32, TOKEN_ADDR_MAX_SUBSCRIBER};
	char text[TOKEN_ADDR_LEN + 1];
	for (int p = TOKEN_CONFIRM; p <= TOKEN_BOUNCE; p++) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			uint64_t sub = 99;
			addr_enc((enum token_purpose)p, 3, ids[i], text);
			for (size_t c = 0; c < TOKEN_ADDR_LEN; c++)
				assert_non_null(memchr(B32, text[c], 32));
			assert_true(token_addr_syntax(text, TOKEN_ADDR_LEN));
			assert_int_equal(
			    addr_dec(text, TOKEN_ADDR_LEN, (enum token_purpose)p, 3, &sub),
			    TOKEN_OK);
			assert_int_equal(sub, ids[i]);
		}
	}
	/* what cannot be written */
	struct buf b;
	buf_init(&b, LK_MAX_TOKEN);
	assert_int_equal(token_addr_encode(&K, TOKEN_BOUNCE, 3, TOKEN_ADDR_MAX_SUBSCRIBER + 1, &b),
			 -1);
	assert_int_equal(token_addr_encode(&K, (enum token_purpose)0, 3, 1, &b), -1);
	assert_int_equal(
	    token_addr_encode(&K, (enum token_purpose)(TOKEN_PURPOSE_LAST + 1), 3, 1, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_init(&b, TOKEN_ADDR_LEN - 1);
	assert_int_equal(token_addr_encode(&K, TOKEN_BOUNCE, 3, 1, &b), -1);
	buf_free(&b);
}

static void test_addr_other_list_purpose_subscriber(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], raw[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_enc(TOKEN_BOUNCE, 5, 42, text);
	assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 5, &sub), TOKEN_OK);
	for (uint64_t l = 0; l < 10; l++)
		if (l != 5)
			assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, TOKEN_BOUNCE, l, &sub),
					 TOKEN_BAD_MAC);
	assert_int_equal(
	    addr_dec(text, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 5 | (UINT64_C(1) << 63), &sub),
	    TOKEN_BAD_MAC);
	for (int p = TOKEN_CONFIRM; p < TOKEN_BOUNCE; p++)
		assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, (enum token_purpose)p, 5, &sub),
				 TOKEN_BAD_MAC);
	assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, (enum token_purpose)0, 5, &sub),
			 TOKEN_MALFORMED);
	/* another subscriber's id under this one's MAC, and the reverse */
	addr_mint_raw(1, TOKEN_BOUNCE, 5, 42, 43, raw);
	assert_int_equal(addr_dec(raw, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 5, &sub), TOKEN_BAD_MAC);
	addr_mint_raw(1, TOKEN_BOUNCE, 5, 43, 42, raw);
	assert_int_equal(addr_dec(raw, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 5, &sub), TOKEN_BAD_MAC);
	/* the URL form is not an address token, nor the reverse */
	char url[TOKEN_TEXT_LEN + 1];
	struct token t = {TOKEN_BOUNCE, 5, 42, 0};
	enc(&K, &t, url);
	assert_int_equal(addr_dec(url, TOKEN_TEXT_LEN, TOKEN_BOUNCE, 5, &sub), TOKEN_MALFORMED);
	assert_int_equal(token_decode(&K, text, TOKEN_ADDR_LEN, TOKEN_BOUNCE, NOW, &t),
			 TOKEN_MALFORMED);
}

static void test_addr_every_bit_flip(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], flipped[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_enc(TOKEN_UNSUBSCRIBE, 12, 34, text);
	/* Each character carries 5 of the 140 bits: flipping one bit of its
	 * value flips one bit of the token. */
	for (size_t c = 0; c < TOKEN_ADDR_LEN; c++) {
		unsigned v = (unsigned)(strchr(B32, text[c]) - B32);
		for (int bit = 0; bit < 5; bit++) {
			memcpy(flipped, text, sizeof(flipped));
			flipped[c] = B32[v ^ (1u << bit)];
			for (int p = TOKEN_CONFIRM; p <= TOKEN_BOUNCE; p++) {
				enum token_status st = addr_dec(flipped, TOKEN_ADDR_LEN,
								(enum token_purpose)p, 12, &sub);
				if (st != TOKEN_BAD_MAC)
					fail_msg("character %zu bit %d flipped: %s for purpose %d",
						 c, bit, token_status_name(st), p);
			}
		}
	}
	assert_int_equal(addr_dec(text, TOKEN_ADDR_LEN, TOKEN_UNSUBSCRIBE, 12, &sub), TOKEN_OK);
}

static void test_addr_every_character_changed(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], bad[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_enc(TOKEN_BOUNCE, 2, 77, text);
	for (size_t c = 0; c < TOKEN_ADDR_LEN; c++) {
		for (int ch = 0; ch < 256; ch++) {
			memcpy(bad, text, sizeof(bad));
			bad[c] = (char)ch;
			enum token_status st = addr_dec(bad, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 2, &sub);
			int same = ch == text[c] ||
				   (text[c] >= 'a' && text[c] <= 'z' && ch == text[c] - 'a' + 'A');
			int in_alphabet = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
					  (ch >= '2' && ch <= '7');
			enum token_status want = same	       ? TOKEN_OK
						 : in_alphabet ? TOKEN_BAD_MAC
							       : TOKEN_MALFORMED;
			if (st != want)
				fail_msg("character %zu -> 0x%02x: %s, want %s", c, ch,
					 token_status_name(st), token_status_name(want));
		}
	}
}

static void test_addr_case(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], up[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_enc(TOKEN_BOUNCE, 9, 123456789, text);
	/* all upper case, and every other character, decode to the same id */
	for (int mode = 0; mode < 3; mode++) {
		for (size_t c = 0; c < TOKEN_ADDR_LEN; c++) {
			char ch = text[c];
			int flip = mode == 0 || (int)(c % 2) == mode - 1;
			up[c] = flip && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
		}
		up[TOKEN_ADDR_LEN] = '\0';
		assert_string_not_equal(up, text);
		sub = 0;
		assert_int_equal(addr_dec(up, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 9, &sub), TOKEN_OK);
		assert_int_equal(sub, 123456789);
		assert_true(token_addr_syntax(up, TOKEN_ADDR_LEN));
	}
}

static void test_addr_truncated_and_extended(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_LEN + 1], longer[2 * TOKEN_ADDR_LEN + 2];
	uint64_t sub = 0;
	addr_enc(TOKEN_BOUNCE, 2, 77, text);
	for (size_t n = 0; n < TOKEN_ADDR_LEN; n++) {
		assert_int_equal(addr_dec(text, n, TOKEN_BOUNCE, 2, &sub), TOKEN_MALFORMED);
		assert_int_equal(addr_dec(text + TOKEN_ADDR_LEN - n, n, TOKEN_BOUNCE, 2, &sub),
				 TOKEN_MALFORMED);
		assert_false(token_addr_syntax(text, n));
	}
	memcpy(longer, text, TOKEN_ADDR_LEN);
	memcpy(longer + TOKEN_ADDR_LEN, text, TOKEN_ADDR_LEN + 1);
	for (size_t n = TOKEN_ADDR_LEN + 1; n <= 2 * TOKEN_ADDR_LEN; n++) {
		assert_int_equal(addr_dec(longer, n, TOKEN_BOUNCE, 2, &sub), TOKEN_MALFORMED);
		assert_false(token_addr_syntax(longer, n));
	}
	assert_int_equal(addr_dec(NULL, 0, TOKEN_BOUNCE, 2, &sub), TOKEN_MALFORMED);
	assert_int_equal(sub, 0); /* untouched by any refusal */
}

static void test_addr_authentic_but_malformed(void **state)
{
	(void)state;
	char raw[TOKEN_ADDR_LEN + 1];
	uint64_t sub = 0;
	addr_mint_raw(1, TOKEN_BOUNCE, 4, 8, 8, raw);
	assert_int_equal(addr_dec(raw, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 4, &sub), TOKEN_OK);
	assert_int_equal(sub, 8);
	for (unsigned v = 0; v < 16; v++) {
		if (v == 1)
			continue;
		sub = 0;
		addr_mint_raw(v, TOKEN_BOUNCE, 4, 8, 8, raw);
		assert_int_equal(addr_dec(raw, TOKEN_ADDR_LEN, TOKEN_BOUNCE, 4, &sub),
				 TOKEN_MALFORMED);
		assert_int_equal(sub, 0);
	}
}

/* --- the expiring address form (LIST-confirm+) ----------------------------- */

#define HOURS(t) (((t) + 3599) / 3600)

/* An expiring address token with any version, purpose and whole expiry
 * hour, MACed as token.h says (mac_sub and mac_hour go into the MAC, sub and
 * hour into the text): written here bit by bit, independently of token.c. */
static void exp_mint_raw(unsigned version, unsigned p, uint64_t list, uint64_t mac_sub,
			 uint64_t sub, uint64_t mac_hour, uint64_t hour, char *text)
{
	uint8_t in[7 + 2 + 24], full[16], bits[160];
	memcpy(in, "lk-addr", 7);
	in[7] = (uint8_t)version;
	in[8] = (uint8_t)p;
	for (int i = 0; i < 8; i++) {
		in[9 + i] = (uint8_t)(list >> (56 - 8 * i));
		in[17 + i] = (uint8_t)(mac_sub >> (56 - 8 * i));
		in[25 + i] = (uint8_t)(mac_hour >> (56 - 8 * i));
	}
	crypto_generichash(full, sizeof(full), in, sizeof(in), K.mac, KEYS_LEN);
	for (int i = 0; i < 4; i++) {
		bits[i] = (uint8_t)((version >> (3 - i)) & 1);
		bits[4 + i] = (uint8_t)((p >> (3 - i)) & 1);
	}
	for (int i = 0; i < 40; i++)
		bits[8 + i] = (uint8_t)((sub >> (39 - i)) & 1);
	for (int i = 0; i < 16; i++)
		bits[48 + i] = (uint8_t)((hour >> (15 - i)) & 1);
	for (int i = 0; i < 96; i++)
		bits[64 + i] = (uint8_t)((full[i / 8] >> (7 - i % 8)) & 1);
	for (int c = 0; c < TOKEN_ADDR_EXP_LEN; c++) {
		unsigned v = 0;
		for (int k = 0; k < 5; k++)
			v = v << 1 | bits[5 * c + k];
		text[c] = B32[v];
	}
	text[TOKEN_ADDR_EXP_LEN] = '\0';
}

/* token_addr_encode_exp of (p, list, sub, expires) into text[33]. */
static void exp_enc(enum token_purpose p, uint64_t list, uint64_t sub, int64_t expires, char *text)
{
	struct token t = {p, list, sub, expires};
	struct buf b;
	buf_init(&b, LK_MAX_TOKEN);
	assert_int_equal(token_addr_encode_exp(&K, &t, &b), 0);
	assert_int_equal(b.len, TOKEN_ADDR_EXP_LEN);
	memcpy(text, b.data, TOKEN_ADDR_EXP_LEN + 1);
	buf_free(&b);
}

static enum token_status exp_dec(const char *text, size_t len, enum token_purpose p, uint64_t list,
				 int64_t now)
{
	struct token t;
	return token_addr_decode_exp(&K, text, len, p, list, now, &t);
}

static void test_exp_golden(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1], raw[TOKEN_ADDR_EXP_LEN + 1];
	/* Python: blake2b("lk-addr" 02 purpose list sub hour, key=mac,
	 * digest_size=16)[:12]; base64.b32encode(bytes([0x20 | purpose]) +
	 * sub(5) + (hour & 0xffff)(2) + mac).lower() */
	exp_enc(TOKEN_CONFIRM, 1, 42, NOW + 3600, text);
	assert_string_equal(text, "eeaaaaaafi2kamr4j64jeaiu4oqsrlxn");
	exp_enc(TOKEN_SET_DIGEST, 7, TOKEN_ADDR_MAX_SUBSCRIBER, NOW + 168 * 3600 + 1, text);
	assert_string_equal(text, "e3777777742upehlg5zbwihz5jw5a2ks");
	exp_mint_raw(2, TOKEN_SET_DIGEST, 7, TOKEN_ADDR_MAX_SUBSCRIBER, TOKEN_ADDR_MAX_SUBSCRIBER,
		     472391, 472391, raw);
	assert_string_equal(raw, text);
	exp_enc(TOKEN_SET_TEXT, 3, 1, NOW + 1, text);
	assert_string_equal(text, "fmaaaaaaae2j6zamm6wtr35vcym2dcwz");
	struct token t;
	exp_enc(TOKEN_CONFIRM, 1, 42, NOW + 3600, text);
	assert_int_equal(
	    token_addr_decode_exp(&K, text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 1, NOW, &t),
	    TOKEN_OK);
	assert_int_equal(t.purpose, TOKEN_CONFIRM);
	assert_int_equal(t.list_id, 1);
	assert_int_equal(t.subscriber_id, 42);
	assert_int_equal(t.expires, 472224 * 3600);
}

static void test_exp_roundtrip_and_refusals(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1];
	const uint64_t ids[] = {0, 1, 42, UINT64_C(0xffffffff), TOKEN_ADDR_MAX_SUBSCRIBER};
	for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++)
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			struct token t;
			exp_enc((enum token_purpose)p, 3, ids[i], NOW + 7200, text);
			for (size_t j = 0; j < TOKEN_ADDR_EXP_LEN; j++)
				assert_non_null(strchr(B32, text[j])); /* lower case */
			assert_int_equal(token_addr_decode_exp(&K, text, TOKEN_ADDR_EXP_LEN,
							       (enum token_purpose)p, 3, NOW, &t),
					 TOKEN_OK);
			assert_int_equal(t.subscriber_id, ids[i]);
			/* another purpose: authentic, not for this; another list: forged */
			for (int q = TOKEN_CONFIRM; q <= TOKEN_PURPOSE_LAST; q++)
				if (q != p)
					assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN,
								 (enum token_purpose)q, 3, NOW),
							 TOKEN_WRONG_PURPOSE);
			assert_int_equal(
			    exp_dec(text, TOKEN_ADDR_EXP_LEN, (enum token_purpose)p, 4, NOW),
			    TOKEN_BAD_MAC);
			assert_int_equal(
			    exp_dec(text, TOKEN_ADDR_EXP_LEN, (enum token_purpose)p, 0, NOW),
			    TOKEN_BAD_MAC);
		}
	/* another subscriber in the text than in the MAC */
	exp_mint_raw(2, TOKEN_CONFIRM, 3, 42, 43, HOURS(NOW + 60), HOURS(NOW + 60), text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_BAD_MAC);
	exp_mint_raw(2, TOKEN_CONFIRM, 3, 42, 42, HOURS(NOW + 60), HOURS(NOW + 60), text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_OK);
	/* a later expiry in the text than in the MAC */
	exp_mint_raw(2, TOKEN_CONFIRM, 3, 42, 42, HOURS(NOW + 60), HOURS(NOW + 60) + 24, text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_BAD_MAC);
	/* the forms do not stand for each other */
	exp_enc(TOKEN_CONFIRM, 3, 42, NOW + 60, text);
	uint64_t sub = 0;
	assert_int_equal(token_addr_decode(&K, text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, &sub),
			 TOKEN_MALFORMED);
	assert_false(token_addr_syntax(text, TOKEN_ADDR_EXP_LEN));
	char a[TOKEN_ADDR_LEN + 1];
	addr_enc(TOKEN_CONFIRM, 3, 42, a);
	assert_int_equal(exp_dec(a, TOKEN_ADDR_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_MALFORMED);
	/* encode refuses what could not be read back */
	struct buf b;
	buf_init(&b, LK_MAX_TOKEN);
	struct token bad[] = {
	    {TOKEN_CONFIRM, 3, 42, 0},
	    {TOKEN_CONFIRM, 3, 42, -1},
	    {TOKEN_CONFIRM, 3, 42, TOKEN_ADDR_MAX_EXPIRES + 1},
	    {TOKEN_CONFIRM, 3, TOKEN_ADDR_MAX_SUBSCRIBER + 1, NOW},
	    {(enum token_purpose)0, 3, 42, NOW},
	    {(enum token_purpose)(TOKEN_PURPOSE_LAST + 1), 3, 42, NOW},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(token_addr_encode_exp(&K, &bad[i], &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_exp_expiry(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1];
	/* rounded up to the hour, never down */
	const int64_t exp = NOW + 168 * 3600 + 1, end = HOURS(exp) * 3600;
	exp_enc(TOKEN_CONFIRM, 3, 42, exp, text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_OK);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, exp - 1), TOKEN_OK);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, end - 1), TOKEN_OK);
	assert_true(end - exp < 3600);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, end), TOKEN_EXPIRED);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, end + 365 * 86400),
			 TOKEN_EXPIRED);
	/* expired longer ago than 2^15 hours: refused as forged, never alive
	 * again, also when the 16 low bits come round (2^16 hours later) */
	const int64_t h = 3600;
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, end + 32767 * h),
			 TOKEN_EXPIRED);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, end + 32769 * h),
			 TOKEN_BAD_MAC);
	for (int64_t d = -2; d <= 2; d++)
		assert_int_equal(
		    exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW + (65536 + d) * h),
		    TOKEN_BAD_MAC);
	/* an expiry up to 2^15 hours (3.7 years) ahead reads; the config's
	 * longest TTL is a year */
	exp_enc(TOKEN_CONFIRM, 3, 42, NOW + 32766 * h, text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_OK);
	exp_enc(TOKEN_CONFIRM, 3, 42, NOW + 366 * 86400, text);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, NOW), TOKEN_OK);
	/* a now the form does not handle */
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, -1), TOKEN_MALFORMED);
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 3, INT64_MAX),
			 TOKEN_MALFORMED);
}

static void test_exp_every_bit_flip(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1], flipped[TOKEN_ADDR_EXP_LEN + 1];
	exp_enc(TOKEN_SET_NOMAIL, 12, 34, NOW + 3600, text);
	for (size_t c = 0; c < TOKEN_ADDR_EXP_LEN; c++)
		for (unsigned bit = 0; bit < 5; bit++) {
			memcpy(flipped, text, sizeof(text));
			int v = (int)(strchr(B32, text[c]) - B32);
			flipped[c] = B32[v ^ (1 << bit)];
			for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++)
				assert_int_equal(exp_dec(flipped, TOKEN_ADDR_EXP_LEN,
							 (enum token_purpose)p, 12, NOW),
						 TOKEN_BAD_MAC);
		}
	assert_int_equal(exp_dec(text, TOKEN_ADDR_EXP_LEN, TOKEN_SET_NOMAIL, 12, NOW), TOKEN_OK);
}

static void test_exp_every_character_changed(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1], bad[TOKEN_ADDR_EXP_LEN + 1];
	exp_enc(TOKEN_CONFIRM, 2, 77, NOW + 3600, text);
	for (size_t c = 0; c < TOKEN_ADDR_EXP_LEN; c++)
		for (int ch = 0; ch < 256; ch++) {
			if (ch == text[c] ||
			    (text[c] >= 'a' && text[c] <= 'z' && ch == text[c] - 'a' + 'A'))
				continue; /* the same character, either case */
			memcpy(bad, text, sizeof(text));
			bad[c] = (char)ch;
			enum token_status st =
			    exp_dec(bad, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 2, NOW);
			if (strchr(B32, ch) != NULL && ch != 0)
				assert_int_equal(st, TOKEN_BAD_MAC);
			else if (ch >= 'A' && ch <= 'Z')
				assert_int_equal(st, TOKEN_BAD_MAC);
			else
				assert_int_equal(st, TOKEN_MALFORMED);
		}
}

static void test_exp_case_and_length(void **state)
{
	(void)state;
	char text[TOKEN_ADDR_EXP_LEN + 1], up[TOKEN_ADDR_EXP_LEN + 1], longer[64];
	exp_enc(TOKEN_SET_HTML, 9, 123456789, NOW + 3600, text);
	for (int mode = 0; mode < 2; mode++) {
		for (size_t i = 0; i <= TOKEN_ADDR_EXP_LEN; i++)
			up[i] = (char)((text[i] >= 'a' && text[i] <= 'z' && (mode == 0 || i % 2))
					   ? text[i] - 'a' + 'A'
					   : text[i]);
		assert_int_equal(exp_dec(up, TOKEN_ADDR_EXP_LEN, TOKEN_SET_HTML, 9, NOW), TOKEN_OK);
	}
	for (size_t n = 0; n < TOKEN_ADDR_EXP_LEN; n++) {
		assert_int_equal(exp_dec(text, n, TOKEN_SET_HTML, 9, NOW), TOKEN_MALFORMED);
		assert_int_equal(exp_dec(text + TOKEN_ADDR_EXP_LEN - n, n, TOKEN_SET_HTML, 9, NOW),
				 TOKEN_MALFORMED);
	}
	memcpy(longer, text, TOKEN_ADDR_EXP_LEN);
	memset(longer + TOKEN_ADDR_EXP_LEN, 'a', sizeof(longer) - TOKEN_ADDR_EXP_LEN);
	for (size_t n = TOKEN_ADDR_EXP_LEN + 1; n <= sizeof(longer); n++)
		assert_int_equal(exp_dec(longer, n, TOKEN_SET_HTML, 9, NOW), TOKEN_MALFORMED);
	assert_int_equal(exp_dec(NULL, 0, TOKEN_SET_HTML, 9, NOW), TOKEN_MALFORMED);
}

static void test_exp_authentic_but_malformed(void **state)
{
	(void)state;
	char raw[TOKEN_ADDR_EXP_LEN + 1];
	const uint64_t hr = HOURS(NOW + 60);
	exp_mint_raw(2, TOKEN_CONFIRM, 4, 8, 8, hr, hr, raw);
	assert_int_equal(exp_dec(raw, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 4, NOW), TOKEN_OK);
	for (unsigned v = 0; v < 16; v++) {
		if (v == 2)
			continue;
		exp_mint_raw(v, TOKEN_CONFIRM, 4, 8, 8, hr, hr, raw);
		assert_int_equal(exp_dec(raw, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 4, NOW),
				 TOKEN_MALFORMED);
	}
	const unsigned unknown[] = {0, TOKEN_PURPOSE_LAST + 1, 15};
	for (size_t i = 0; i < 3; i++) {
		exp_mint_raw(2, unknown[i], 4, 8, 8, hr, hr, raw);
		assert_int_equal(exp_dec(raw, TOKEN_ADDR_EXP_LEN, TOKEN_CONFIRM, 4, NOW),
				 TOKEN_MALFORMED);
	}
}

/* The bound of core/limits.h holds: the longest local part we make fits. */
static void test_addr_local_part(void **state)
{
	(void)state;
	assert_int_equal(LK_MAX_LIST_NAME + strlen("-unsubscribe+") + TOKEN_ADDR_LEN,
			 LK_MAX_LOCAL_PART);
	assert_int_equal(LK_MAX_LIST_NAME + strlen("-confirm+") + TOKEN_ADDR_EXP_LEN,
			 LK_MAX_LOCAL_PART);
}

/* The open pixel: a round trip, the layout, one token per recipient and job,
 * and every altered character, another job or another key refused. */
static void test_pixel(void **state)
{
	(void)state;
	struct buf a, b;
	buf_init(&a, 128);
	buf_init(&b, 128);
	assert_int_equal(token_pixel_encode(&K, 42, 7, &a), 0);
	assert_int_equal(token_pixel_encode(&K, 42, 8, &b), 0);
	assert_int_equal(a.len, 3 + 32);
	assert_memory_equal(a.data, "42-", 3);
	/* golden, as computed apart (Python's hashlib.blake2b): the seed
	 * corpus/fuzz_token/pixel-1-1 */
	struct buf g;
	buf_init(&g, 64);
	assert_int_equal(token_pixel_encode(&K, 1, 1, &g), 0);
	assert_string_equal(buf_cstr(&g), "1-44e5806e15f986b76caf199083353d3c");
	buf_free(&g);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	for (size_t i = 3; i < a.len; i++) {
		int c = a.data[i];
		assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
	}
	int64_t job = 0;
	uint8_t who[TOKEN_PIXEL_WHO], who2[TOKEN_PIXEL_WHO];
	assert_int_equal(token_pixel_decode(&K, a.data, a.len, &job, who), 0);
	assert_int_equal(job, 42);
	assert_int_equal(token_pixel_decode(&K, b.data, b.len, &job, who2), 0);
	assert_memory_not_equal(who, who2, TOKEN_PIXEL_WHO);
	/* every character changed */
	char t[64];
	for (size_t i = 0; i < a.len; i++) {
		memcpy(t, a.data, a.len);
		t[i] = t[i] == '0' ? '1' : (t[i] == '-' ? '0' : '0');
		assert_int_equal(token_pixel_decode(&K, t, a.len, &job, who), -1);
	}
	/* truncated, extended, the same who under another job */
	assert_int_equal(token_pixel_decode(&K, a.data, a.len - 1, &job, who), -1);
	memcpy(t, a.data, a.len);
	t[a.len] = '0';
	assert_int_equal(token_pixel_decode(&K, t, a.len + 1, &job, who), -1);
	t[0] = '3';
	assert_int_equal(token_pixel_decode(&K, t, a.len, &job, who), -1);
	/* second spellings: a leading zero or sign, upper-case hex */
	buf_reset(&b);
	buf_putc(&b, '0');
	buf_append(&b, a.data, a.len);
	assert_int_equal(token_pixel_decode(&K, b.data, b.len, &job, who), -1);
	b.data[0] = '+';
	assert_int_equal(token_pixel_decode(&K, b.data, b.len, &job, who), -1);
	memcpy(t, a.data, a.len);
	for (size_t i = 3; i < a.len; i++)
		if (t[i] >= 'a' && t[i] <= 'f')
			t[i] = (char)(t[i] - 'a' + 'A');
	assert_int_equal(token_pixel_decode(&K, t, a.len, &job, who), -1);
	/* the old unauthenticated form, garbage, another MAC key */
	assert_int_equal(token_pixel_decode(&K, "42-0123456789abcdef", 19, &job, who), -1);
	assert_int_equal(token_pixel_decode(&K, "", 0, &job, who), -1);
	assert_int_equal(token_pixel_decode(&K, "-", 1, &job, who), -1);
	struct keys k2 = K;
	k2.mac[0] ^= 1;
	assert_int_equal(token_pixel_decode(&k2, a.data, a.len, &job, who), -1);
	/* refusals */
	assert_int_equal(token_pixel_encode(&K, 0, 7, &a), -1);
	assert_int_equal(token_pixel_encode(&K, 42, 0, &a), -1);
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_roundtrip_all_purposes),
	    cmocka_unit_test(test_other_list_or_subscriber),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_truncated_and_extended),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_every_character_changed),
	    cmocka_unit_test(test_forged),
	    cmocka_unit_test(test_authentic_but_malformed),
	    cmocka_unit_test(test_encode_refuses),
	    cmocka_unit_test(test_status_str),
	    cmocka_unit_test(test_addr_golden),
	    cmocka_unit_test(test_addr_roundtrip),
	    cmocka_unit_test(test_addr_other_list_purpose_subscriber),
	    cmocka_unit_test(test_addr_every_bit_flip),
	    cmocka_unit_test(test_addr_every_character_changed),
	    cmocka_unit_test(test_addr_case),
	    cmocka_unit_test(test_addr_truncated_and_extended),
	    cmocka_unit_test(test_addr_authentic_but_malformed),
	    cmocka_unit_test(test_exp_golden),
	    cmocka_unit_test(test_exp_roundtrip_and_refusals),
	    cmocka_unit_test(test_exp_expiry),
	    cmocka_unit_test(test_exp_every_bit_flip),
	    cmocka_unit_test(test_exp_every_character_changed),
	    cmocka_unit_test(test_exp_case_and_length),
	    cmocka_unit_test(test_exp_authentic_but_malformed),
	    cmocka_unit_test(test_addr_local_part),
	    cmocka_unit_test(test_pixel),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
