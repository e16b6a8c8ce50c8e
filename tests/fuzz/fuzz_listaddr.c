/*
 * fuzz_listaddr.c - libFuzzer driver for listaddr_parse (mail/listaddr.h),
 * the reader of every envelope recipient, VERP sender and address-shaped
 * word of command mail.
 *
 * The input is parsed as an address, with the command address
 * "listkeeper" and without one. Every reading must be one the scheme
 * allows: a role in the enum, a list name that lists_name_valid accepts, a
 * token inside the input of 1 to LK_MAX_TOKEN bytes exactly for the roles
 * that carry one, a domain inside the input after its last '@'. And it must
 * round-trip: built again from its parts with listaddr_build (when the
 * domain is in the builder's alphabet), the address parses to a reading
 * with the same role, list and token. Seeds: corpus/fuzz_listaddr/ (every
 * role, VERP addresses in either case, ambiguous x-request names, angle
 * brackets, NUL bytes, CR LF, over-long names, garbage, empty).
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "lists/lists.h"
#include "mail/listaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int within(struct str s, const char *p, size_t n)
{
	return s.ptr >= p && s.len <= n && (size_t)(s.ptr - p) <= n - s.len;
}

static void check(const char *text, size_t size, const char *cmd)
{
	struct listaddr rd[LISTADDR_READINGS];
	size_t n = listaddr_parse(text, size, cmd, rd);
	if (n > LISTADDR_READINGS)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct listaddr *r = &rd[i];
		if ((unsigned)r->role >= LISTADDR_ROLE_COUNT)
			abort();
		if (!within(r->domain, text, size) || r->domain.len == 0 ||
		    memchr(r->domain.ptr, '@', r->domain.len) != NULL)
			abort();
		int has = listaddr_role_has_token(r->role);
		if (has != (r->token.len > 0) ||
		    (has && (!within(r->token, text, size) || r->token.len > LK_MAX_TOKEN)))
			abort();
		if (r->role == LISTADDR_COMMAND) {
			if (cmd == NULL || r->list[0] != '\0' || n != 1)
				abort();
			continue;
		}
		struct buf err;
		buf_init(&err, 512);
		if (!lists_name_valid(r->list, &err))
			abort();
		buf_free(&err);
		/* build it again, parse it again */
		char dom[LK_MAX_DOMAIN + 1], tok[LK_MAX_TOKEN + 1];
		memcpy(dom, r->domain.ptr, r->domain.len);
		dom[r->domain.len] = '\0';
		memcpy(tok, r->token.ptr, r->token.len);
		tok[r->token.len] = '\0';
		struct buf b;
		buf_init(&b, LK_MAX_ADDRESS);
		if (listaddr_build(&b, r->role, r->list, dom, has ? tok : NULL) == 0) {
			struct listaddr again[LISTADDR_READINGS];
			size_t m = listaddr_parse(b.data, b.len, NULL, again);
			int found = 0;
			for (size_t j = 0; j < m; j++)
				found |= again[j].role == r->role &&
					 strcmp(again[j].list, r->list) == 0 &&
					 again[j].token.len == r->token.len &&
					 memcmp(again[j].token.ptr, tok, r->token.len) == 0;
			if (!found)
				abort();
		}
		buf_free(&b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (text == NULL)
		abort();
	if (size)
		memcpy(text, data, size);
	check(text, size, "listkeeper");
	check(text, size, NULL);
	free(text);
	return 0;
}
