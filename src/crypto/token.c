/*
 * token.c - stateless authenticated tokens (token.h, DESIGN.md section 5).
 *
 *   token_encode      pack, MAC, base64url (no padding): always 56 characters
 *   token_decode      length, strict base64url, MAC (constant time), then fields
 *   token_check       token_decode plus the expected list and subscriber
 *   token_status_name  a short name for logs and error pages
 *   token_addr_encode, token_addr_decode, token_addr_syntax
 *                     the address form for local parts (token.h): 28
 *                     characters of lower-case base32, 96-bit MAC
 *   token_addr_encode_exp, token_addr_decode_exp
 *                     its expiring variant for LIST-confirm+: 32 characters
 *                     that add the purpose and the expiry hour (low 16 bits)
 *
 * Binary layout (42 bytes):
 *     [0] version  [1] purpose  [2..9] list_id  [10..17] subscriber_id
 *     [18..25] expires  (all big-endian)  [26..41] MAC
 * MAC = BLAKE2b (crypto_generichash), 16-byte output, keyed with the MAC
 * key, over bytes 0..25.
 *
 * TRUST: token_decode sees untrusted text from URLs, forms and VERP
 * addresses. Before decoding it requires exactly TOKEN_TEXT_LEN bytes (so
 * nothing longer than LK_MAX_TOKEN is ever touched) and only characters
 * of the base64url alphabet (see b64url_alphabet_only for why libsodium is
 * not trusted with that); decoding ignores no characters and must consume
 * them all (56 characters carry
 * exactly 336 bits = 42 bytes, so every token has one spelling). Nothing in
 * the decoded bytes is read before the MAC has been checked with
 * sodium_memcmp. A token that is authentic but names another list or
 * subscriber is answered TOKEN_WRONG_PURPOSE by token_check: it is not for
 * this use, and token.h has no more specific status.
 *
 * The address form is decoded the same way: exactly TOKEN_ADDR_LEN bytes of
 * the base32 alphabet (either case: case folding is its one tolerance), the
 * 140 bits unpacked, the MAC recomputed for the purpose and list the caller
 * names and compared with sodium_memcmp before the version or id is used.
 * 28 characters carry exactly 140 bits, so a token has one spelling up to
 * case. The expiring variant likewise: exactly TOKEN_ADDR_EXP_LEN bytes, 160
 * bits, the MAC (over the whole expiry hour rebuilt from now) compared
 * before version, purpose or expiry are looked at.
 */
#include "crypto/token.h"

#include <sodium.h>
#include <string.h>

#include "core/nametab.h"
#include "core/limits.h"
#include "core/num.h"
#include "crypto/hash.h"

#define TOKEN_VERSION 1
#define TOKEN_BODY_LEN 26 /* version..expires: what the MAC covers */
#define TOKEN_MAC_LEN 16
#define TOKEN_BIN_LEN (TOKEN_BODY_LEN + TOKEN_MAC_LEN)
#define TOKEN_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(TOKEN_BIN_LEN == 42, "token.h layout");
_Static_assert(sodium_base64_ENCODED_LEN(TOKEN_BIN_LEN, TOKEN_B64) == TOKEN_TEXT_LEN + 1,
	       "TOKEN_TEXT_LEN is the base64url length of the binary token");
_Static_assert(TOKEN_TEXT_LEN <= LK_MAX_TOKEN, "limits.h bounds token text");
_Static_assert(TOKEN_MAC_LEN >= crypto_generichash_BYTES_MIN, "BLAKE2b output length");

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void token_mac(const struct keys *k, const uint8_t body[TOKEN_BODY_LEN],
		      uint8_t mac[TOKEN_MAC_LEN])
{
	crypto_generichash(mac, TOKEN_MAC_LEN, body, TOKEN_BODY_LEN, k->mac, KEYS_LEN);
}

/* libsodium 1.0.18's base64url decoder maps every byte 0x80..0xff to 63,
 * as if it were '_': the same authentic token would then have many
 * spellings. The alphabet is therefore checked here, before decoding. */
static int b64url_alphabet_only(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int purpose_known(unsigned p)
{
	return p >= TOKEN_CONFIRM && p <= TOKEN_PURPOSE_LAST;
}

/* Also returns -1, leaving out unchanged, for a token that could never be
 * decoded (unknown purpose, negative expiry): minting one is a bug. */
int token_encode(const struct keys *k, const struct token *t, struct buf *out)
{
	uint8_t bin[TOKEN_BIN_LEN];
	char text[TOKEN_TEXT_LEN + 1];
	int rc;

	if (!purpose_known((unsigned)t->purpose) || t->expires < 0)
		return -1;
	bin[0] = TOKEN_VERSION;
	bin[1] = (uint8_t)t->purpose;
	put_be64(bin + 2, t->list_id);
	put_be64(bin + 10, t->subscriber_id);
	put_be64(bin + 18, (uint64_t)t->expires);
	token_mac(k, bin, bin + TOKEN_BODY_LEN);
	sodium_bin2base64(text, sizeof(text), bin, sizeof(bin), TOKEN_B64);
	rc = buf_append(out, text, TOKEN_TEXT_LEN);
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(text, sizeof(text));
	return rc;
}

enum token_status token_decode(const struct keys *k, const char *text, size_t len,
			       enum token_purpose purpose, int64_t now, struct token *t)
{
	uint8_t bin[TOKEN_BIN_LEN], mac[TOKEN_MAC_LEN];
	size_t bin_len = 0;
	const char *end = NULL;
	enum token_status st;

	if (text == NULL || len != TOKEN_TEXT_LEN || !b64url_alphabet_only(text, len))
		return TOKEN_MALFORMED;
	if (sodium_base642bin(bin, sizeof(bin), text, len, NULL, &bin_len, &end, TOKEN_B64) != 0 ||
	    bin_len != TOKEN_BIN_LEN || end != text + len) {
		st = TOKEN_MALFORMED;
		goto out;
	}
	token_mac(k, bin, mac);
	if (sodium_memcmp(mac, bin + TOKEN_BODY_LEN, TOKEN_MAC_LEN) != 0) {
		st = TOKEN_BAD_MAC;
		goto out;
	}

	/* Authentic from here on: the fields are ours. */
	uint64_t expires = get_be64(bin + 18);
	if (bin[0] != TOKEN_VERSION || !purpose_known(bin[1]) || expires > INT64_MAX) {
		st = TOKEN_MALFORMED;
		goto out;
	}
	if (bin[1] != (unsigned)purpose) {
		st = TOKEN_WRONG_PURPOSE;
		goto out;
	}
	if (expires != 0 && now >= (int64_t)expires) {
		st = TOKEN_EXPIRED;
		goto out;
	}
	if (t != NULL) {
		t->purpose = (enum token_purpose)bin[1];
		t->list_id = get_be64(bin + 2);
		t->subscriber_id = get_be64(bin + 10);
		t->expires = (int64_t)expires;
	}
	st = TOKEN_OK;
out:
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(mac, sizeof(mac));
	return st;
}

enum token_status token_check(const struct keys *k, const char *text, size_t len,
			      enum token_purpose purpose, uint64_t list_id, uint64_t subscriber_id,
			      int64_t now)
{
	struct token t;
	enum token_status st = token_decode(k, text, len, purpose, now, &t);
	if (st != TOKEN_OK)
		return st;
	if ((list_id != 0 && t.list_id != list_id) ||
	    (subscriber_id != 0 && t.subscriber_id != subscriber_id))
		return TOKEN_WRONG_PURPOSE;
	return TOKEN_OK;
}

/* --- the address form ----------------------------------------------------- */

#define ADDR_VERSION 1
#define ADDR_MAC_LEN 12
/* The 140 bits, right-aligned in 18 bytes: [0] version (low nibble; the high
 * nibble is not sent and always 0), [1..5] subscriber_id, [6..17] MAC. */
#define ADDR_BIN_LEN 18
#define ADDR_SKIP_BITS 4

_Static_assert((ADDR_BIN_LEN * 8 - ADDR_SKIP_BITS) == TOKEN_ADDR_LEN * 5,
	       "TOKEN_ADDR_LEN characters of base32 carry the address form exactly");
_Static_assert(1 + 5 + ADDR_MAC_LEN == ADDR_BIN_LEN, "address form layout");
_Static_assert(ADDR_MAC_LEN <= crypto_generichash_BYTES_MIN, "a prefix of the BLAKE2b output");
_Static_assert(TOKEN_ADDR_LEN <= LK_MAX_TOKEN, "limits.h bounds token text");
/* The longest local part we make: LIST-unsubscribe+TOKEN (RFC 5321). */
_Static_assert(LK_MAX_LIST_NAME + sizeof("-unsubscribe+") - 1 + TOKEN_ADDR_LEN <= LK_MAX_LOCAL_PART,
	       "LIST-unsubscribe+TOKEN fits in a local part");

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* The value of a base32 character, either case; -1 outside the alphabet. */
static int b32_value(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* The expiring address form (token.h), 160 bits in 20 bytes: [0] version
 * (high nibble) and purpose (low nibble), [1..5] subscriber_id, [6..7] the
 * expiry hour modulo 2^16, [8..19] MAC. */
#define ADDR_EXP_VERSION 2
#define ADDR_EXP_BIN_LEN 20
#define HOUR 3600

_Static_assert(ADDR_EXP_BIN_LEN * 8 == TOKEN_ADDR_EXP_LEN * 5,
	       "TOKEN_ADDR_EXP_LEN characters of base32 carry the expiring form exactly");
_Static_assert(1 + 5 + 2 + ADDR_MAC_LEN == ADDR_EXP_BIN_LEN, "expiring address form layout");
_Static_assert(TOKEN_PURPOSE_LAST < 16, "a purpose fits in a nibble");
_Static_assert(TOKEN_ADDR_EXP_LEN <= LK_MAX_TOKEN, "limits.h bounds token text");
/* LIST-confirm+TOKEN (RFC 5321). */
_Static_assert(LK_MAX_LIST_NAME + sizeof("-confirm+") - 1 + TOKEN_ADDR_EXP_LEN <= LK_MAX_LOCAL_PART,
	       "LIST-confirm+TOKEN fits in a local part");

/* bin (n bytes, the first `skip` bits not sent) -> n_text base32 characters. */
static void b32_encode(const uint8_t *bin, size_t n, size_t skip, char *text, size_t n_text)
{
	for (size_t i = 0; i < n_text; i++) {
		size_t bit = skip + 5 * i; /* from the top of bin */
		unsigned v = (unsigned)bin[bit / 8] << 8 | (bit / 8 + 1 < n ? bin[bit / 8 + 1] : 0);
		text[i] = B32[(v >> (11 - bit % 8)) & 31];
	}
}

/* The reverse, into a zeroed bin; the caller has checked the alphabet. */
static void b32_decode(const char *text, size_t n_text, uint8_t *bin, size_t n, size_t skip)
{
	for (size_t i = 0; i < n_text; i++) {
		unsigned v = (unsigned)b32_value((unsigned char)text[i]);
		size_t bit = skip + 5 * i;
		unsigned w = v << (11 - bit % 8); /* 5 bits placed in a 16-bit window */
		bin[bit / 8] |= (uint8_t)(w >> 8);
		if (bit / 8 + 1 < n)
			bin[bit / 8 + 1] |= (uint8_t)w;
	}
}

static int b32_only(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b32_value((unsigned char)p[i]) < 0)
			return 0;
	return 1;
}

int token_addr_syntax(const char *p, size_t len)
{
	return p != NULL && len == TOKEN_ADDR_LEN && b32_only(p, len);
}

/* The MAC of both address forms: "lk-addr" version purpose list_id
 * subscriber_id, and for the expiring form the whole expiry hour (8 bytes,
 * BE) after them (expiry_hour NULL: the form without). */
static void addr_mac(const struct keys *k, unsigned version, unsigned purpose, uint64_t list_id,
		     uint64_t subscriber_id, const uint64_t *expiry_hour, uint8_t mac[ADDR_MAC_LEN])
{
	static const char label[] = "lk-addr"; /* apart from token_mac's input */
	uint8_t in[sizeof(label) - 1 + 2 + 24];
	size_t n = sizeof(label) - 1 + 2 + 16;
	memcpy(in, label, sizeof(label) - 1);
	in[sizeof(label) - 1] = (uint8_t)version;
	in[sizeof(label)] = (uint8_t)purpose;
	put_be64(in + sizeof(label) + 1, list_id);
	put_be64(in + sizeof(label) + 9, subscriber_id);
	if (expiry_hour != NULL) {
		put_be64(in + n, *expiry_hour);
		n += 8;
	}
	/* libsodium's shortest BLAKE2b output is 16 bytes: its first 12 are the
	 * MAC (a truncated PRF output, as HMAC-SHA-256-128 is). */
	uint8_t full[crypto_generichash_BYTES_MIN];
	crypto_generichash(full, sizeof(full), in, n, k->mac, KEYS_LEN);
	memcpy(mac, full, ADDR_MAC_LEN);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(in, sizeof(in));
}

int token_addr_encode(const struct keys *k, enum token_purpose purpose, uint64_t list_id,
		      uint64_t subscriber_id, struct buf *out)
{
	uint8_t bin[ADDR_BIN_LEN];
	char text[TOKEN_ADDR_LEN];

	if (!purpose_known((unsigned)purpose) || subscriber_id > TOKEN_ADDR_MAX_SUBSCRIBER)
		return -1;
	bin[0] = ADDR_VERSION;
	for (int i = 0; i < 5; i++)
		bin[1 + i] = (uint8_t)(subscriber_id >> (8 * (4 - i)));
	addr_mac(k, ADDR_VERSION, (unsigned)purpose, list_id, subscriber_id, NULL, bin + 6);
	b32_encode(bin, ADDR_BIN_LEN, ADDR_SKIP_BITS, text, TOKEN_ADDR_LEN);
	int rc = buf_append(out, text, TOKEN_ADDR_LEN);
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(text, sizeof(text));
	return rc;
}

enum token_status token_addr_decode(const struct keys *k, const char *text, size_t len,
				    enum token_purpose purpose, uint64_t list_id,
				    uint64_t *subscriber_id)
{
	uint8_t bin[ADDR_BIN_LEN] = {0}, mac[ADDR_MAC_LEN];
	enum token_status st;

	if (!token_addr_syntax(text, len) || !purpose_known((unsigned)purpose))
		return TOKEN_MALFORMED;
	b32_decode(text, TOKEN_ADDR_LEN, bin, ADDR_BIN_LEN, ADDR_SKIP_BITS);
	uint64_t id = 0;
	for (int i = 0; i < 5; i++)
		id = id << 8 | bin[1 + i];
	addr_mac(k, bin[0], (unsigned)purpose, list_id, id, NULL, mac);
	if (sodium_memcmp(mac, bin + 6, ADDR_MAC_LEN) != 0) {
		st = TOKEN_BAD_MAC;
		goto out;
	}
	/* Authentic from here on. */
	if (bin[0] != ADDR_VERSION) {
		st = TOKEN_MALFORMED;
		goto out;
	}
	if (subscriber_id != NULL)
		*subscriber_id = id;
	st = TOKEN_OK;
out:
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(mac, sizeof(mac));
	return st;
}

int token_addr_encode_exp(const struct keys *k, const struct token *t, struct buf *out)
{
	uint8_t bin[ADDR_EXP_BIN_LEN];
	char text[TOKEN_ADDR_EXP_LEN];

	if (!purpose_known((unsigned)t->purpose) || t->subscriber_id > TOKEN_ADDR_MAX_SUBSCRIBER ||
	    t->expires <= 0 || t->expires > TOKEN_ADDR_MAX_EXPIRES)
		return -1;
	/* Rounded up: a token never expires before it was asked to. */
	uint64_t hour = ((uint64_t)t->expires + HOUR - 1) / HOUR;
	bin[0] = (uint8_t)(ADDR_EXP_VERSION << 4 | (unsigned)t->purpose);
	for (int i = 0; i < 5; i++)
		bin[1 + i] = (uint8_t)(t->subscriber_id >> (8 * (4 - i)));
	bin[6] = (uint8_t)(hour >> 8);
	bin[7] = (uint8_t)hour;
	addr_mac(k, ADDR_EXP_VERSION, (unsigned)t->purpose, t->list_id, t->subscriber_id, &hour,
		 bin + 8);
	b32_encode(bin, ADDR_EXP_BIN_LEN, 0, text, TOKEN_ADDR_EXP_LEN);
	int rc = buf_append(out, text, TOKEN_ADDR_EXP_LEN);
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(text, sizeof(text));
	return rc;
}

enum token_status token_addr_decode_exp(const struct keys *k, const char *text, size_t len,
					enum token_purpose purpose, uint64_t list_id, int64_t now,
					struct token *t)
{
	uint8_t bin[ADDR_EXP_BIN_LEN] = {0}, mac[ADDR_MAC_LEN];
	enum token_status st;

	if (text == NULL || len != TOKEN_ADDR_EXP_LEN || !b32_only(text, len) ||
	    !purpose_known((unsigned)purpose) || now < 0 || now > TOKEN_ADDR_MAX_EXPIRES)
		return TOKEN_MALFORMED;
	b32_decode(text, TOKEN_ADDR_EXP_LEN, bin, ADDR_EXP_BIN_LEN, 0);
	uint64_t id = 0;
	for (int i = 0; i < 5; i++)
		id = id << 8 | bin[1 + i];
	/* The whole expiry hour: the one nearest to now (within 2^15 hours)
	 * with these 16 low bits. Another one was never made for this MAC. */
	uint64_t now_h = (uint64_t)now / HOUR;
	uint16_t low = (uint16_t)(bin[6] << 8 | bin[7]);
	int32_t diff = (int32_t)(uint16_t)(low - (uint16_t)now_h);
	if (diff >= 0x8000)
		diff -= 0x10000;
	uint64_t hour = (uint64_t)((int64_t)now_h + diff);
	addr_mac(k, bin[0] >> 4, bin[0] & 15u, list_id, id, &hour, mac);
	if (sodium_memcmp(mac, bin + 8, ADDR_MAC_LEN) != 0) {
		st = TOKEN_BAD_MAC;
		goto out;
	}
	/* Authentic from here on. */
	if (bin[0] >> 4 != ADDR_EXP_VERSION || !purpose_known(bin[0] & 15u) ||
	    hour > TOKEN_ADDR_MAX_EXPIRES / HOUR + 1) {
		st = TOKEN_MALFORMED;
		goto out;
	}
	if ((bin[0] & 15u) != (unsigned)purpose) {
		st = TOKEN_WRONG_PURPOSE;
		goto out;
	}
	if (now >= (int64_t)(hour * HOUR)) {
		st = TOKEN_EXPIRED;
		goto out;
	}
	if (t != NULL) {
		t->purpose = purpose;
		t->list_id = list_id;
		t->subscriber_id = id;
		t->expires = (int64_t)(hour * HOUR);
	}
	st = TOKEN_OK;
out:
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(mac, sizeof(mac));
	return st;
}

/* Indexed by -status (the statuses are 0 and negative). */
static const char *const TOKEN_STATUS_NAME[] = {
    [-TOKEN_OK] = "ok",
    [-TOKEN_MALFORMED] = "malformed",
    [-TOKEN_BAD_MAC] = "bad MAC",
    [-TOKEN_EXPIRED] = "expired",
    [-TOKEN_WRONG_PURPOSE] = "not valid here",
};
static const struct nametab token_status_names = NAMETAB(TOKEN_STATUS_NAME);

const char *token_status_name(enum token_status s)
{
	int i = -(int)s;
	return i >= 0 && i < token_status_names.n ? nametab_name(&token_status_names, i)
						  : "unknown";
}

static void pixel_mac(const struct keys *k, int64_t job, const uint8_t who[TOKEN_PIXEL_WHO],
		      uint8_t mac[TOKEN_PIXEL_WHO])
{
	static const char label[] = "lk-open"; /* apart from the other MACs' input */
	uint8_t in[sizeof(label) - 1 + 8 + TOKEN_PIXEL_WHO];
	memcpy(in, label, sizeof(label) - 1);
	put_be64(in + sizeof(label) - 1, (uint64_t)job);
	memcpy(in + sizeof(label) - 1 + 8, who, TOKEN_PIXEL_WHO);
	uint8_t full[crypto_generichash_BYTES_MIN];
	crypto_generichash(full, sizeof(full), in, sizeof(in), k->mac, KEYS_LEN);
	memcpy(mac, full, TOKEN_PIXEL_WHO);
	sodium_memzero(full, sizeof(full));
}

int token_pixel_encode(const struct keys *k, int64_t job, int64_t subscriber_id, struct buf *out)
{
	if (job < 1 || subscriber_id < 1)
		return -1;
	char idb[64];
	uint8_t h[HASH_LEN], mac[TOKEN_PIXEL_WHO];
	char hex[4 * TOKEN_PIXEL_WHO + 1];
	bsnprintf(idb, sizeof(idb), "open:%lld:%lld", (long long)job, (long long)subscriber_id);
	addr_hash(k, idb, strlen(idb), h);
	pixel_mac(k, job, h, mac);
	hex_encode(h, TOKEN_PIXEL_WHO, hex);
	hex_encode(mac, TOKEN_PIXEL_WHO, hex + 2 * TOKEN_PIXEL_WHO);
	size_t was = out->len;
	buf_printf(out, "%lld-%s", (long long)job, hex);
	sodium_memzero(h, sizeof(h));
	return out->len > was ? 0 : -1;
}

int token_pixel_decode(const struct keys *k, const char *text, size_t len, int64_t *job,
		       uint8_t who[TOKEN_PIXEL_WHO])
{
	memset(who, 0, TOKEN_PIXEL_WHO);
	const char *dash = text != NULL ? memchr(text, '-', len) : NULL;
	/* One spelling: the job in decimal without sign or leading zero, the
	 * rest in lower-case hex (hex_decode would take either case). */
	if (dash == NULL || dash == text || text[0] < '1' || text[0] > '9' ||
	    len - (size_t)(dash + 1 - text) != 4 * TOKEN_PIXEL_WHO ||
	    num_parse_i64(text, (size_t)(dash - text), 1, INT64_MAX, job) < 0)
		return -1;
	for (const char *p = dash + 1; p < text + len; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	uint8_t h[TOKEN_PIXEL_WHO], mac[TOKEN_PIXEL_WHO], want[TOKEN_PIXEL_WHO];
	if (hex_decode(dash + 1, 2 * TOKEN_PIXEL_WHO, h, sizeof(h)) < 0 ||
	    hex_decode(dash + 1 + 2 * TOKEN_PIXEL_WHO, 2 * TOKEN_PIXEL_WHO, mac, sizeof(mac)) < 0)
		return -1;
	pixel_mac(k, *job, h, want);
	if (!secret_eq(mac, want, sizeof(mac)))
		return -1;
	memcpy(who, h, TOKEN_PIXEL_WHO);
	return 0;
}
