/*
 * fuzz_token.c - libFuzzer driver for token_decode / token_check.
 *
 * The input is offered as token text under a fixed key (master 00..1f,
 * mac 20..3f, hash 40..5f: the keys of tests/crypto/test_token.c) for every
 * purpose. Whatever decodes must re-encode to exactly the input: a token has
 * one spelling. The same input is offered to token_addr_decode (the address
 * form) for every purpose and lists 1 and 2: what decodes must re-encode to
 * the input in lower case (its one spelling up to case), and
 * token_addr_syntax must agree with the decoder on what is malformed. And to
 * token_addr_decode_exp (the expiring address form of LIST-confirm+) for
 * every purpose, lists 1 and 2, at a few times: what decodes must be
 * unexpired, within its hour, and re-encode to the input in lower case.
 * And to token_pixel_decode: what decodes must be the server's own pixel
 * token, byte for byte (a forgery or a second spelling that passed would
 * abort). Seeds: corpus/fuzz_token/ (valid tokens of all three forms under this
 * key, for list 1, upper-cased ones, truncated ones, garbage, empty; the
 * expiring seeds expire at hour 472224, 2023-11-14 23:00 UTC).
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "crypto/keys.h"
#include "crypto/token.h"

static struct keys fuzz_keys;

static void fuzz_init(void)
{
	if (crypto_init() < 0)
		abort();
	for (int i = 0; i < KEYS_LEN; i++) {
		fuzz_keys.master[i] = (uint8_t)i;
		fuzz_keys.mac[i] = (uint8_t)(0x20 + i);
		fuzz_keys.hash[i] = (uint8_t)(0x40 + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	if (size)
		memcpy(text, data, size);

	for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++) {
		struct token t;
		enum token_status st =
		    token_decode(&fuzz_keys, text, size, (enum token_purpose)p, 0, &t);
		if (st < TOKEN_WRONG_PURPOSE || st > TOKEN_OK)
			abort();
		if (st != TOKEN_OK)
			continue;
		if (size != TOKEN_TEXT_LEN || t.purpose != (enum token_purpose)p)
			abort();
		struct buf out;
		buf_init(&out, LK_MAX_TOKEN);
		if (token_encode(&fuzz_keys, &t, &out) != 0 || out.len != size ||
		    memcmp(out.data, text, size) != 0)
			abort();
		buf_free(&out);
		if (token_check(&fuzz_keys, text, size, t.purpose, t.list_id, t.subscriber_id, 0) !=
		    TOKEN_OK)
			abort();
	}

	for (int p = TOKEN_CONFIRM; p <= TOKEN_BOUNCE; p++) {
		for (uint64_t list = 1; list <= 2; list++) {
			uint64_t sub = UINT64_MAX;
			enum token_status st = token_addr_decode(&fuzz_keys, text, size,
								 (enum token_purpose)p, list, &sub);
			if (st != TOKEN_OK && st != TOKEN_MALFORMED && st != TOKEN_BAD_MAC)
				abort();
			if (st != TOKEN_MALFORMED && !token_addr_syntax(text, size))
				abort(); /* read what the syntax check refuses */
			if (st != TOKEN_OK) {
				if (sub != UINT64_MAX)
					abort();
				continue;
			}
			if (size != TOKEN_ADDR_LEN || sub > TOKEN_ADDR_MAX_SUBSCRIBER)
				abort();
			struct buf out;
			buf_init(&out, LK_MAX_TOKEN);
			if (token_addr_encode(&fuzz_keys, (enum token_purpose)p, list, sub, &out) !=
				0 ||
			    out.len != size)
				abort();
			for (size_t i = 0; i < size; i++) {
				char c = text[i];
				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				if (out.data[i] != c)
					abort();
			}
			buf_free(&out);
		}
	}
	static const int64_t NOWS[] = {0, 1700000000, 1700006399, 1700006400, 1800000000};
	for (int p = TOKEN_CONFIRM; p <= TOKEN_PURPOSE_LAST; p++) {
		for (uint64_t list = 1; list <= 2; list++) {
			for (size_t n = 0; n < sizeof(NOWS) / sizeof(NOWS[0]); n++) {
				struct token t = {0};
				enum token_status st =
				    token_addr_decode_exp(&fuzz_keys, text, size,
							  (enum token_purpose)p, list, NOWS[n], &t);
				if (st < TOKEN_WRONG_PURPOSE || st > TOKEN_OK)
					abort();
				if (st != TOKEN_OK) {
					if (t.subscriber_id != 0 || t.expires != 0)
						abort();
					continue;
				}
				if (size != TOKEN_ADDR_EXP_LEN ||
				    t.purpose != (enum token_purpose)p || t.list_id != list ||
				    t.subscriber_id > TOKEN_ADDR_MAX_SUBSCRIBER ||
				    t.expires <= NOWS[n] || t.expires % 3600 != 0)
					abort();
				struct buf out;
				buf_init(&out, LK_MAX_TOKEN);
				if (token_addr_encode_exp(&fuzz_keys, &t, &out) != 0 ||
				    out.len != size)
					abort();
				for (size_t i = 0; i < size; i++) {
					char c = text[i];
					if (c >= 'A' && c <= 'Z')
						c = (char)(c - 'A' + 'a');
					if (out.data[i] != c)
						abort();
				}
				buf_free(&out);
			}
		}
	}
	/* The open pixel: only the server's own spelling of its own pixels
	 * decodes (the seeds: jobs 1 and 7, subscribers 1 to 3). */
	{
		int64_t job = 0;
		uint8_t who[TOKEN_PIXEL_WHO];
		if (token_pixel_decode(&fuzz_keys, text, size, &job, who) == 0) {
			int found = 0;
			for (int64_t sub = 1; sub <= 3 && !found; sub++) {
				struct buf out;
				buf_init(&out, 64);
				if (token_pixel_encode(&fuzz_keys, job, sub, &out) == 0 &&
				    out.len == size && memcmp(out.data, text, size) == 0)
					found = 1;
				buf_free(&out);
			}
			if (!found || job < 1)
				abort();
		}
	}
	free(text);
	return 0;
}
