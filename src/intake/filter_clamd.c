/*
 * filter_clamd.c - clamd's INSTREAM command and its answer (filter_clamd.h).
 *
 * TRUST: clamd's answer is untrusted bytes: bounded, parsed as (ptr, len),
 * and only a signature name made of printable ASCII without blanks is kept.
 * The message itself is never logged nor put into an error text.
 */
#include "intake/filter_clamd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* One INSTREAM chunk; clamd's StreamMaxLength bounds their sum, not this. */
#define CLAMD_CHUNK (64u << 10)

static int ends_with(struct str s, const char *z)
{
	size_t n = strlen(z);
	return s.len >= n && memcmp(s.ptr + s.len - n, z, n) == 0;
}

/* Printable ASCII, no blank: what a signature name is made of. */
static int name_ok(struct str s)
{
	if (s.len == 0 || s.len > LK_FILTER_MAX_VIRUS_NAME)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.ptr[i] <= ' ' || (unsigned char)s.ptr[i] > '~')
			return 0;
	return 1;
}

/* The daemon's own words for an error text: printable ASCII, bounded. */
static void shown(struct str s, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		out[n++] = c >= ' ' && c <= '~' ? (char)c : '?';
	}
	out[n] = '\0';
}

int clamd_reply_parse(const char *p, size_t len, struct clamd_verdict *v, struct filter_error *err)
{
	memset(v, 0, sizeof(*v));
	memset(err, 0, sizeof(*err));
	struct str s = {p, len};
	/* one terminator: the NUL of a z-command, or a newline */
	if (s.len > 0 && (s.ptr[s.len - 1] == '\0' || s.ptr[s.len - 1] == '\n'))
		s.len--;
	if (s.len == 0)
		return filter_fail(err, FILTER_ORIGIN_PEER, 1, "clamd: empty answer");
	if (s.len > LK_FILTER_MAX_CLAMD_REPLY || memchr(s.ptr, '\0', s.len) != NULL ||
	    memchr(s.ptr, '\n', s.len) != NULL)
		return filter_fail(err, FILTER_ORIGIN_PEER, 1, "clamd: not a clamd answer");
	char said[128];
	if (ends_with(s, " ERROR")) {
		shown((struct str){s.ptr, s.len - 6}, said, sizeof(said));
		/* "INSTREAM size limit exceeded": the post passes StreamMaxLength */
		int final = strstr(said, "size limit exceeded") != NULL;
		return filter_fail(err, FILTER_ORIGIN_PEER, !final, "clamd: %s", said);
	}
	static const char pre[] = "stream: ";
	if (s.len < sizeof(pre) - 1 || memcmp(s.ptr, pre, sizeof(pre) - 1) != 0)
		return filter_fail(err, FILTER_ORIGIN_PEER, 1, "clamd: not a clamd answer");
	struct str rest = {s.ptr + sizeof(pre) - 1, s.len - (sizeof(pre) - 1)};
	if (str_eq_z(rest, "OK"))
		return 0;
	if (ends_with(rest, " FOUND")) {
		struct str name = {rest.ptr, rest.len - 6};
		if (!name_ok(name))
			return filter_fail(err, FILTER_ORIGIN_PEER, 1,
					   "clamd: a FOUND answer without a signature name");
		v->infected = 1;
		memcpy(v->name, name.ptr, name.len);
		v->name[name.len] = '\0';
		return 0;
	}
	return filter_fail(err, FILTER_ORIGIN_PEER, 1, "clamd: not a clamd answer");
}

static void put_be32(unsigned char *q, uint32_t n)
{
	q[0] = (unsigned char)(n >> 24);
	q[1] = (unsigned char)(n >> 16);
	q[2] = (unsigned char)(n >> 8);
	q[3] = (unsigned char)n;
}

int clamd_scan(const struct filter_endpoint *ep, int timeout_ms, const char *msg, size_t len,
	       struct clamd_verdict *v, struct filter_error *err)
{
	memset(v, 0, sizeof(*v));
	if (len > LK_MAX_MESSAGE)
		return filter_fail(err, FILTER_ORIGIN_OURS, 0, "clamd: message over %u bytes",
				   LK_MAX_MESSAGE);
	size_t chunks = (len + CLAMD_CHUNK - 1) / CLAMD_CHUNK;
	/* the command, a length and a piece per chunk, the final zero length */
	size_t n = 0, cap = 2 * chunks + 2;
	struct str *req = xcalloc(cap, sizeof(*req));
	unsigned char(*lens)[4] = xcalloc(chunks + 1, sizeof(*lens));
	req[n++] = (struct str){"zINSTREAM", sizeof("zINSTREAM")}; /* with its NUL */
	for (size_t i = 0; i < chunks; i++) {
		size_t off = i * CLAMD_CHUNK, k = len - off < CLAMD_CHUNK ? len - off : CLAMD_CHUNK;
		put_be32(lens[i], (uint32_t)k);
		req[n++] = (struct str){(const char *)lens[i], 4};
		req[n++] = (struct str){msg + off, k};
	}
	put_be32(lens[chunks], 0);
	req[n++] = (struct str){(const char *)lens[chunks], 4};
	struct buf reply;
	buf_init(&reply, LK_FILTER_MAX_CLAMD_REPLY + 1);
	int rc = filter_exchange("clamd", ep, timeout_ms, req, n, &reply, err);
	free(req);
	free(lens);
	if (rc == 0)
		rc = clamd_reply_parse(reply.data ? reply.data : "", reply.len, v, err);
	buf_free(&reply);
	return rc;
}
