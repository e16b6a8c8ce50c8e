/*
 * token.h - stateless authenticated tokens (DESIGN.md section 5).
 *
 * A token names a purpose, a list, a subscriber and an expiry, and carries a
 * 128-bit keyed MAC (BLAKE2b keyed with the MAC key, 16-byte output) over all
 * of them. Binary layout before base64url (no padding):
 *
 *     version(1) purpose(1) list_id(8, BE) subscriber_id(8, BE) expires(8, BE) mac(16)
 *
 * 42 bytes -> 56 characters of base64url. expires = 0 means "does not
 * expire" (unsubscribe tokens work as long as the subscription exists).
 *
 * The address form (token_addr_*) goes into a local part, LIST-bounces+TOKEN
 * or LIST-unsubscribe+TOKEN, where RFC 5321 (section 4.5.3.1.1) allows 64
 * octets and the 56 characters above do not fit. The local part already
 * names the list and the purpose, so the text carries only the subscriber;
 * the MAC still binds all four. 140 bits in 28 characters of lower-case
 * base32 (RFC 4648 section 6 alphabet a-z 2-7, no padding):
 *
 *     version(4 bits) subscriber_id(40 bits, BE) mac(96 bits)
 *
 * MAC = the first 12 bytes of BLAKE2b-128 keyed with the MAC key, over
 * "lk-addr" version purpose list_id(8, BE) subscriber_id(8, BE). Base32 and
 * not base64url because MTAs may change the case of a local part: decoding
 * folds case (an upper-case spelling is the same token), and the alphabet
 * has neither '+' nor '-', the separators of the local part. These tokens do
 * not expire. Subscriber ids from 2^40 on cannot be written (encode fails).
 * The longest local part is LIST-unsubscribe+TOKEN: 13 + 28 characters
 * besides the list name, hence LK_MAX_LIST_NAME = 23 (core/limits.h).
 *
 * The expiring address form (token_addr_*_exp) goes into LIST-confirm+TOKEN,
 * which stands for several purposes (confirm, the SET ones) and must expire:
 * 160 bits in 32 characters of the same base32, 9 + 32 = 64 octets besides
 * the list name at most:
 *
 *     version(4 bits, = 2) purpose(4 bits) subscriber_id(40 bits, BE)
 *     expiry_hour mod 2^16 (16 bits, BE) mac(96 bits)
 *
 * expiry_hour = ceil(expires / 3600), hours since 1970. MAC = the first 12
 * bytes of BLAKE2b-128 keyed with the MAC key, over "lk-addr" version
 * purpose list_id(8, BE) subscriber_id(8, BE) expiry_hour(8, BE): the whole
 * hour, which the reader takes as the one with those 16 low bits nearest to
 * now (within 2^15 hours, 3.7 years). A token that expired longer ago than
 * that reads as TOKEN_BAD_MAC instead of TOKEN_EXPIRED; one can never come
 * back to life. The expiry is coarse: a token lives up to an hour longer
 * than asked.
 *
 * TRUST: token_decode sees untrusted text from URLs and mail addresses. It
 * checks the length first (LK_MAX_TOKEN), decodes strictly, recomputes the MAC
 * and compares it in constant time, and only then looks at the fields.
 */
#ifndef LK_CRYPTO_TOKEN_H
#define LK_CRYPTO_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "crypto/keys.h"

enum token_purpose {
	TOKEN_CONFIRM = 1,     /* confirm a pending subscription */
	TOKEN_UNSUBSCRIBE = 2, /* one-click and footer unsubscribe */
	TOKEN_PREFS = 3,       /* preferences page */
	TOKEN_REQUEST = 4,     /* "what do you hold about me" */
	TOKEN_BOUNCE = 5,      /* VERP envelope sender */
	/* confirm a SET command sent by mail (intake): the option is the purpose */
	TOKEN_SET_DIGEST = 6,
	TOKEN_SET_NODIGEST = 7,
	TOKEN_SET_MAIL = 8,
	TOKEN_SET_NOMAIL = 9,
	TOKEN_SET_HTML = 10,
	TOKEN_SET_TEXT = 11,
	/* confirm SIGNOFF * sent by mail (intake): leave every list; the token
	 * names the list whose LIST-confirm+ address carries it */
	TOKEN_SIGNOFF_ALL = 12,
	/* approve (or, by the reply's first word, reject or discard) a post held
	 * for the moderators, by replying to the owners' notice: the subscriber
	 * id is the held post's id (lists/held.h) */
	TOKEN_MOD_APPROVE = 13,
};
#define TOKEN_PURPOSE_LAST TOKEN_MOD_APPROVE

struct token {
	enum token_purpose purpose;
	uint64_t list_id; /* 0 where no list applies */
	uint64_t subscriber_id;
	int64_t expires; /* unix seconds; 0 = never */
};

#define TOKEN_TEXT_LEN 56

/* Appends the base64url text of t to out. Returns 0 or -1 (out's max passed). */
int token_encode(const struct keys *k, const struct token *t, struct buf *out);

enum token_status {
	TOKEN_OK = 0,
	TOKEN_MALFORMED = -1, /* wrong length, bad base64url, unknown version */
	TOKEN_BAD_MAC = -2,   /* altered or forged */
	TOKEN_EXPIRED = -3,
	TOKEN_WRONG_PURPOSE = -4,
};

/* Decodes and authenticates text (len bytes, not NUL-terminated) and checks
 * that it is for `purpose` and not expired at `now`. On TOKEN_OK fills *t.
 * The caller then checks list and subscriber against what it expects
 * (token_check does both steps). */
enum token_status token_decode(const struct keys *k, const char *text, size_t len,
			       enum token_purpose purpose, int64_t now, struct token *t);

/* token_decode, then requires list_id and subscriber_id to match the
 * expected values (0 = don't check that field). */
enum token_status token_check(const struct keys *k, const char *text, size_t len,
			      enum token_purpose purpose, uint64_t list_id, uint64_t subscriber_id,
			      int64_t now);

const char *token_status_name(enum token_status s);

#define TOKEN_ADDR_LEN 28
#define TOKEN_ADDR_MAX_SUBSCRIBER ((UINT64_C(1) << 40) - 1)

/* Appends the address form (lower case) for purpose, list and subscriber to
 * out. Returns 0, or -1 (out unchanged but for its sticky error) for an
 * unknown purpose, a subscriber id over TOKEN_ADDR_MAX_SUBSCRIBER, or out's
 * max passed. */
int token_addr_encode(const struct keys *k, enum token_purpose purpose, uint64_t list_id,
		      uint64_t subscriber_id, struct buf *out);

/* Decodes and authenticates the address form text (len bytes, either case)
 * for purpose and list (both named by the local part it came from). On
 * TOKEN_OK sets *subscriber_id. TOKEN_MALFORMED: wrong length, a character
 * outside the alphabet, unknown version; TOKEN_BAD_MAC: forged, altered, or
 * made for another list or purpose (the MAC cannot tell those apart). */
enum token_status token_addr_decode(const struct keys *k, const char *text, size_t len,
				    enum token_purpose purpose, uint64_t list_id,
				    uint64_t *subscriber_id);

#define TOKEN_ADDR_EXP_LEN 32
/* The latest expiry (and now) the expiring form handles: far off, small
 * enough that no arithmetic on it overflows. */
#define TOKEN_ADDR_MAX_EXPIRES (INT64_C(1) << 48)

/* Appends the expiring address form of t (lower case) to out. Returns 0, or
 * -1 (out unchanged but for its sticky error) for an unknown purpose, a
 * subscriber id over TOKEN_ADDR_MAX_SUBSCRIBER, an expiry that is 0 (never)
 * or over TOKEN_ADDR_MAX_EXPIRES, or out's max passed. */
int token_addr_encode_exp(const struct keys *k, const struct token *t, struct buf *out);

/* Decodes and authenticates the expiring form text (len bytes, either case)
 * for list_id (named by the local part), then checks it is for purpose and
 * not expired at now, as token_decode does. On TOKEN_OK fills *t (expires:
 * the whole hour). TOKEN_MALFORMED: wrong length, a character outside the
 * alphabet, an unknown version; TOKEN_BAD_MAC: forged, altered, made for
 * another list, or expired more than 2^15 hours ago. */
enum token_status token_addr_decode_exp(const struct keys *k, const char *text, size_t len,
					enum token_purpose purpose, uint64_t list_id, int64_t now,
					struct token *t);

/* 1 if p (len bytes) has the (not expiring) address form's length and
 * alphabet (either case): a syntax check for parsers that do not hold the
 * key. */
int token_addr_syntax(const char *p, size_t len);

/*
 * The open pixel's name (the JOB-TOKEN of /o/JOB-TOKEN.gif): the job and 32
 * lower-case hex digits, an 8-byte keyed hash of the recipient followed by an
 * 8-byte MAC over it and the job:
 *
 *     who = the first 8 bytes of addr_hash(hash key, "open:JOB:SUBSCRIBER")
 *     mac = the first 8 bytes of BLAKE2b-128 keyed with the MAC key, over
 *           "lk-open" job(8, BE) who(8)
 *
 * who says nothing of the subscriber to anyone without the hash key; the
 * server counts it into a sketch and never keeps it. The MAC makes forged
 * pixel URLs count nothing: only the pixels the server wrote are counted.
 */
#define TOKEN_PIXEL_WHO 8
/* Appends "JOB-TOKEN" for job and subscriber to out. Returns 0 or -1 (a job
 * or subscriber id below 1, or out's max passed). */
int token_pixel_encode(const struct keys *k, int64_t job, int64_t subscriber_id, struct buf *out);
/* Parses and authenticates "JOB-TOKEN" (len bytes, untrusted), in its one
 * spelling (no sign or leading zero, lower-case hex). Returns 0 and sets *job
 * and who, or -1 for anything malformed or forged (who zeroed). */
int token_pixel_decode(const struct keys *k, const char *text, size_t len, int64_t *job,
		       uint8_t who[TOKEN_PIXEL_WHO]);

#endif
