/*
 * listaddr.c - the list's role addresses, built and parsed here, and the
 * links, VERP sender and Message-ID of one recipient's message (see
 * listaddr.h for the scheme).
 *
 * API: listaddr_role_name, listaddr_role_parse, listaddr_role_has_token,
 * listaddr_build, listaddr_token_build, listaddr_parse, listaddr_url,
 * listaddr_pixel_url, listaddr_message_id, listaddr_links_init,
 * listaddr_links_free, listaddr_links_make.
 *
 * TRUST: listaddr_parse reads untrusted bytes: exactly len of them, the
 * bound LK_MAX_ADDRESS checked before anything is copied, list names only
 * through lists_name_valid. The builders check every part against a small
 * alphabet, so a hostile list name, domain or token makes no address at all
 * rather than a different one.
 */
#include "mail/listaddr.h"

#include <string.h>

#include "crypto/hash.h"
#include "crypto/rand.h"
#include "lists/lists.h"

static const char *const ROLE_NAME[LISTADDR_ROLE_COUNT] = {
    [LISTADDR_POST] = "post",
    [LISTADDR_REQUEST] = "request",
    [LISTADDR_OWNER] = "owner",
    [LISTADDR_BOUNCES] = "bounces",
    [LISTADDR_UNSUBSCRIBE] = "unsubscribe",
    [LISTADDR_CONFIRM] = "confirm",
    [LISTADDR_COMMAND] = "command",
};

/* The suffix each role adds to the list name ("" for none), before '+' for
 * the roles with a token. */
static const char *const ROLE_SUFFIX[LISTADDR_ROLE_COUNT] = {
    [LISTADDR_POST] = "",
    [LISTADDR_REQUEST] = "-request",
    [LISTADDR_OWNER] = "-owner",
    [LISTADDR_BOUNCES] = "-bounces",
    [LISTADDR_UNSUBSCRIBE] = "-unsubscribe",
    [LISTADDR_CONFIRM] = "-confirm",
    [LISTADDR_COMMAND] = "",
};

const char *listaddr_role_name(enum listaddr_role role)
{
	return (unsigned)role < LISTADDR_ROLE_COUNT ? ROLE_NAME[role] : "?";
}

int listaddr_role_parse(const char *s, enum listaddr_role *role)
{
	for (unsigned i = 0; i < LISTADDR_ROLE_COUNT; i++)
		if (strcmp(s, ROLE_NAME[i]) == 0) {
			*role = (enum listaddr_role)i;
			return 0;
		}
	return -1;
}

int listaddr_role_has_token(enum listaddr_role role)
{
	return role == LISTADDR_BOUNCES || role == LISTADDR_UNSUBSCRIBE || role == LISTADDR_CONFIRM;
}

static int alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A name or domain: [A-Za-z0-9._-]+ (the alphabet compose.c allows). */
static int part_ok(const char *z, size_t max)
{
	size_t n = z != NULL ? strlen(z) : 0;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum((unsigned char)z[i]) && z[i] != '.' && z[i] != '_' && z[i] != '-')
			return 0;
	return 1;
}

/* A token as it may stand in a local part or URL: [A-Za-z0-9_-]. */
static int token_ok(const char *p, size_t n)
{
	if (n == 0 || n > LK_MAX_TOKEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-')
			return 0;
	return 1;
}

int listaddr_build(struct buf *out, enum listaddr_role role, const char *name, const char *domain,
		   const char *token)
{
	if ((unsigned)role >= LISTADDR_ROLE_COUNT || !part_ok(name, LK_MAX_ADDRESS) ||
	    !part_ok(domain, LK_MAX_DOMAIN))
		return -1;
	int has = listaddr_role_has_token(role);
	if (has != (token != NULL) || (has && !token_ok(token, strlen(token))))
		return -1;
	size_t start = out->len;
	int err0 = out->err;
	buf_puts(out, name);
	buf_puts(out, ROLE_SUFFIX[role]);
	if (has) {
		buf_putc(out, '+');
		buf_puts(out, token);
	}
	buf_putc(out, '@');
	buf_puts(out, domain);
	if (out->err || out->len - start > LK_MAX_ADDRESS) {
		buf_truncate(out, start);
		out->err = err0;
		return -1;
	}
	return 0;
}

static int confirm_purpose(enum token_purpose p)
{
	return p == TOKEN_CONFIRM || p == TOKEN_SIGNOFF_ALL || p == TOKEN_MOD_APPROVE ||
	       (p >= TOKEN_SET_DIGEST && p <= TOKEN_SET_TEXT);
}

int listaddr_token_build(struct buf *out, const struct keys *k, enum token_purpose purpose,
			 const char *list_name, int64_t list_id, const char *domain,
			 int64_t subscriber_id, int64_t expires)
{
	int confirm = confirm_purpose(purpose);
	enum listaddr_role role = purpose == TOKEN_BOUNCE	 ? LISTADDR_BOUNCES
				  : purpose == TOKEN_UNSUBSCRIBE ? LISTADDR_UNSUBSCRIBE
								 : LISTADDR_CONFIRM;
	if ((!confirm && role == LISTADDR_CONFIRM) || list_id < 0 || subscriber_id < 0 ||
	    (expires != 0) != confirm)
		return -1;
	struct buf tok;
	buf_init(&tok, LK_MAX_TOKEN + 1);
	struct token t = {purpose, (uint64_t)list_id, (uint64_t)subscriber_id, expires};
	int rc = confirm ? token_addr_encode_exp(k, &t, &tok)
			 : token_addr_encode(k, purpose, (uint64_t)list_id, (uint64_t)subscriber_id,
					     &tok);
	if (rc == 0 && !tok.err)
		rc = listaddr_build(out, role, list_name, domain, buf_cstr(&tok));
	else
		rc = -1;
	buf_free(&tok);
	return rc;
}

/* Ends with suffix, without case? Then *n is the length before it. */
static int ends_with(const char *p, size_t len, const char *suffix, size_t *n)
{
	size_t sl = strlen(suffix);
	if (len <= sl || !str_eq_nocase((struct str){p + len - sl, sl}, (struct str){suffix, sl}))
		return 0;
	*n = len - sl;
	return 1;
}

/* The list name p[0..n) in lower case into r->list, if lists_name_valid
 * accepts it. */
static int take_list(struct listaddr *r, const char *p, size_t n)
{
	/* a NUL would cut the name short for lists_name_valid */
	if (n == 0 || n > LK_MAX_LIST_NAME || memchr(p, '\0', n) != NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		r->list[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	r->list[n] = '\0';
	struct buf err;
	buf_init(&err, 512);
	int ok = lists_name_valid(r->list, &err);
	buf_free(&err);
	return ok;
}

size_t listaddr_parse(const char *addr, size_t len, const char *command_local,
		      struct listaddr out[LISTADDR_READINGS])
{
	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
		addr++;
		len -= 2;
	}
	if (len == 0 || len > LK_MAX_ADDRESS)
		return 0;
	const char *at = memrchr(addr, '@', len);
	if (at == NULL || at == addr)
		return 0;
	struct str local = {addr, (size_t)(at - addr)};
	struct str domain = {at + 1, len - local.len - 1};
	if (domain.len == 0 || domain.len > LK_MAX_DOMAIN)
		return 0;
	for (size_t i = 0; i < domain.len; i++) {
		unsigned char c = (unsigned char)domain.ptr[i];
		if (c <= ' ' || c == 0x7f || c == '@' || c == '<' || c == '>')
			return 0;
	}
	struct listaddr *r = &out[0];
	memset(r, 0, sizeof(*r));
	r->domain = domain;
	if (command_local != NULL && command_local[0] != '\0' &&
	    str_eq_nocase(local, str_from_z(command_local))) {
		r->role = LISTADDR_COMMAND;
		return 1;
	}

	long plus = str_find(local, '+');
	if (plus >= 0) {
		static const enum listaddr_role TOKENED[] = {LISTADDR_BOUNCES, LISTADDR_UNSUBSCRIBE,
							     LISTADDR_CONFIRM};
		size_t base = (size_t)plus, n = 0;
		struct str tok = {local.ptr + base + 1, local.len - base - 1};
		if (!token_ok(tok.ptr, tok.len))
			return 0;
		for (size_t i = 0; i < sizeof(TOKENED) / sizeof(TOKENED[0]); i++)
			if (ends_with(local.ptr, base, ROLE_SUFFIX[TOKENED[i]], &n)) {
				if (!take_list(r, local.ptr, n))
					return 0;
				r->role = TOKENED[i];
				r->token = tok;
				return 1;
			}
		return 0;
	}

	size_t k = 0, n;
	if (take_list(&out[k], local.ptr, local.len)) {
		out[k].role = LISTADDR_POST;
		out[k].domain = domain;
		k++;
	}
	static const enum listaddr_role PLAIN[] = {LISTADDR_REQUEST, LISTADDR_OWNER};
	for (size_t i = 0; i < sizeof(PLAIN) / sizeof(PLAIN[0]); i++) {
		if (!ends_with(local.ptr, local.len, ROLE_SUFFIX[PLAIN[i]], &n))
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		if (take_list(&out[k], local.ptr, n)) {
			out[k].role = PLAIN[i];
			out[k].domain = domain;
			k++;
		}
	}
	return k;
}

int listaddr_url(struct buf *out, const struct keys *k, const char *base_url,
		 enum token_purpose purpose, int64_t list_id, int64_t subscriber_id,
		 int64_t expires)
{
	const char *path = purpose == TOKEN_UNSUBSCRIBE ? "/u/"
			   : purpose == TOKEN_PREFS	? "/p/"
			   : purpose == TOKEN_CONFIRM	? "/c/"
			   : purpose == TOKEN_REQUEST	? "/me/"
							: NULL;
	if (path == NULL || list_id < 0 || subscriber_id < 0)
		return -1;
	size_t start = out->len;
	int err0 = out->err;
	struct token t = {purpose, (uint64_t)list_id, (uint64_t)subscriber_id, expires};
	buf_puts(out, base_url);
	buf_puts(out, path);
	if (token_encode(k, &t, out) < 0 || out->err) {
		buf_truncate(out, start);
		out->err = err0;
		return -1;
	}
	return 0;
}

int listaddr_pixel_url(struct buf *out, const struct keys *k, const char *base_url, int64_t job,
		       int64_t subscriber_id)
{
	size_t start = out->len;
	int err0 = out->err;
	buf_puts(out, base_url);
	buf_puts(out, "/o/");
	if (token_pixel_encode(k, job, subscriber_id, out) < 0 || buf_puts(out, ".gif") < 0 ||
	    out->err) {
		buf_truncate(out, start);
		out->err = err0;
		return -1;
	}
	return 0;
}

int listaddr_message_id(struct buf *out, int64_t job, int64_t subscriber_id, const char *domain)
{
	if (job < 0 || subscriber_id < 0 || !part_ok(domain, LK_MAX_DOMAIN))
		return -1;
	uint8_t rnd[6];
	char rh[2 * sizeof(rnd) + 1];
	rand_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), rh);
	size_t start = out->len;
	int err0 = out->err;
	if (subscriber_id != 0)
		buf_printf(out, "<j%lld.s%lld.%s@%s>", (long long)job, (long long)subscriber_id, rh,
			   domain);
	else
		buf_printf(out, "<j%lld.r.%s@%s>", (long long)job, rh, domain);
	if (out->err) {
		buf_truncate(out, start);
		out->err = err0;
		return -1;
	}
	return 0;
}

#define LINK_MAX 2048
#define LINKS 9

/* The links' buffers, to init, reset or free them all. */
static void links_all(struct listaddr_links *ln, struct buf *all[LINKS])
{
	struct buf *b[LINKS] = {&ln->unsubscribe_url,
				&ln->preferences_url,
				&ln->unsubscribe_mailto,
				&ln->verp,
				&ln->from,
				&ln->message_id,
				&ln->pixel_url,
				&ln->action_url,
				&ln->reply_to};
	memcpy(all, b, sizeof(b));
}

void listaddr_links_init(struct listaddr_links *ln)
{
	struct buf *all[LINKS];
	links_all(ln, all);
	for (size_t i = 0; i < LINKS; i++)
		buf_init(all[i], LINK_MAX);
}

void listaddr_links_free(struct listaddr_links *ln)
{
	struct buf *all[LINKS];
	links_all(ln, all);
	for (size_t i = 0; i < LINKS; i++)
		buf_free(all[i]); /* buf_free wipes */
}

int listaddr_links_make(struct listaddr_links *ln, const struct keys *k, const char *base_url,
			const struct listaddr_rcpt *r)
{
	struct buf *all[LINKS];
	links_all(ln, all);
	for (size_t i = 0; i < LINKS; i++)
		buf_reset(all[i]);
	int64_t list = r->list_id, sub = r->subscriber_id;
	int rc = 0;
	rc |= listaddr_url(&ln->unsubscribe_url, k, base_url, TOKEN_UNSUBSCRIBE, list, sub, 0);
	rc |= listaddr_url(&ln->preferences_url, k, base_url, TOKEN_PREFS, list, sub, 0);
	rc |= listaddr_token_build(&ln->unsubscribe_mailto, k, TOKEN_UNSUBSCRIBE, r->list_name,
				   list, r->domain, sub, 0);
	rc |=
	    listaddr_token_build(&ln->verp, k, TOKEN_BOUNCE, r->list_name, list, r->domain, sub, 0);
	rc |= listaddr_build(&ln->from, LISTADDR_POST, r->list_name, r->domain, NULL);
	rc |= listaddr_message_id(&ln->message_id, r->job_id, sub, r->domain);
	if (r->pixel)
		rc |= listaddr_pixel_url(&ln->pixel_url, k, base_url, r->job_id, sub);
	if (r->action == TOKEN_CONFIRM) {
		rc |= listaddr_url(&ln->action_url, k, base_url, TOKEN_CONFIRM, list, sub,
				   r->action_expires);
		/* a reply confirms too; without it the link still does */
		listaddr_token_build(&ln->reply_to, k, TOKEN_CONFIRM, r->list_name, list, r->domain,
				     sub, r->action_expires);
	} else if (r->action == TOKEN_REQUEST) {
		rc |= listaddr_url(&ln->action_url, k, base_url, TOKEN_REQUEST, 0, sub,
				   r->action_expires);
	} else if (r->action != 0) {
		rc = -1;
	}
	return rc ? -1 : 0;
}
