/*
 * filter_spamd.c - the SPAMC/1.5 client and its answer's parser
 * (filter_spamd.h).
 *
 * TRUST: spamd's answer is untrusted bytes, parsed as (ptr, len) within the
 * bounds of core/limits.h; only CRLF ends a line of it (its PROTOCOL says
 * so). The message is never logged nor put into an error text.
 */
#include "intake/filter_spamd.h"

#include <stdio.h>
#include <string.h>

#include "core/num.h"

int spamd_score_parse(const char *p, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	if (i < len && p[i] == '-') {
		neg = 1;
		i++;
	}
	size_t int_start = i;
	int64_t v = 0;
	while (i < len && p[i] >= '0' && p[i] <= '9' && i - int_start < 9)
		v = v * 10 + (p[i++] - '0');
	if (i == int_start || (i < len && p[i] >= '0' && p[i] <= '9'))
		return -1; /* no digits, or more than 9 */
	v *= 1000;
	if (i < len && p[i] == '.') {
		i++;
		size_t frac_start = i;
		int64_t scale = 100;
		while (i < len && p[i] >= '0' && p[i] <= '9' && i - frac_start < 9) {
			if (scale > 0)
				v += (p[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == frac_start)
			return -1;
	}
	if (i != len || v > LK_FILTER_MAX_SPAM_SCORE)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

void spamd_score_format(int64_t score, char *out, size_t cap)
{
	int64_t a = score < 0 ? -score : score;
	snprintf(out, cap, "%s%lld.%lld", score < 0 && a >= 100 ? "-" : "", (long long)(a / 1000),
		 (long long)(a % 1000 / 100));
}

/* The next CRLF-ended line of *s (without its CRLF); -1 if none within max. */
static int next_line(struct str *s, struct str *line)
{
	for (size_t i = 0; i + 1 < s->len && i < LK_FILTER_MAX_SPAMD_LINE; i++) {
		if (s->ptr[i] == '\n')
			return -1; /* a bare LF */
		if (s->ptr[i] == '\r') {
			if (s->ptr[i + 1] != '\n')
				return -1;
			*line = (struct str){s->ptr, i};
			s->ptr += i + 2;
			s->len -= i + 2;
			return 0;
		}
	}
	return -1;
}

static int ex_temporary(int64_t code)
{
	switch (code) {
	case 69: /* EX_UNAVAILABLE */
	case 70: /* EX_SOFTWARE */
	case 71: /* EX_OSERR */
	case 74: /* EX_IOERR */
	case 75: /* EX_TEMPFAIL */
		return 1;
	default:
		return 0;
	}
}

static int not_spamd(struct filter_error *err, const char *why)
{
	return filter_fail(err, FILTER_ORIGIN_PEER, 1, "spamd: not a spamd answer (%s)", why);
}

/* "SPAMD/1.1 0 EX_OK" */
static int parse_status(struct str l, struct filter_error *err)
{
	static const char pre[] = "SPAMD/";
	size_t i = sizeof(pre) - 1;
	if (l.len < i || memcmp(l.ptr, pre, i) != 0)
		return not_spamd(err, "status line");
	size_t v0 = i;
	while (i < l.len && ((l.ptr[i] >= '0' && l.ptr[i] <= '9') || l.ptr[i] == '.'))
		i++;
	if (i == v0 || i >= l.len || l.ptr[i] != ' ')
		return not_spamd(err, "version");
	size_t c0 = ++i;
	while (i < l.len && l.ptr[i] != ' ')
		i++;
	int64_t code;
	if (num_parse_i64(l.ptr + c0, i - c0, 0, 999, &code) < 0)
		return not_spamd(err, "status code");
	if (code == 0)
		return 0;
	char said[64];
	size_t n = 0;
	for (size_t k = i + (i < l.len); k < l.len && n + 1 < sizeof(said); k++)
		said[n++] = l.ptr[k] >= ' ' && l.ptr[k] <= '~' ? l.ptr[k] : '?';
	said[n] = '\0';
	return filter_fail(err, FILTER_ORIGIN_PEER, ex_temporary(code), "spamd: error %d %s",
			   (int)code, said);
}

/* "True ; 1004.2 / 5.0" */
static int parse_spam(struct str v, struct spamd_verdict *out)
{
	long semi = str_find(v, ';');
	if (semi < 0)
		return -1;
	struct str flag = str_trim((struct str){v.ptr, (size_t)semi});
	struct str rest = {v.ptr + semi + 1, v.len - (size_t)semi - 1};
	if (str_eq_nocase_z(flag, "true") || str_eq_nocase_z(flag, "yes"))
		out->is_spam = 1;
	else if (str_eq_nocase_z(flag, "false") || str_eq_nocase_z(flag, "no"))
		out->is_spam = 0;
	else
		return -1;
	long slash = str_find(rest, '/');
	if (slash < 0)
		return -1;
	struct str score = str_trim((struct str){rest.ptr, (size_t)slash});
	struct str thr = str_trim((struct str){rest.ptr + slash + 1, rest.len - (size_t)slash - 1});
	if (spamd_score_parse(score.ptr, score.len, &out->score) < 0 ||
	    spamd_score_parse(thr.ptr, thr.len, &out->threshold) < 0)
		return -1;
	return 0;
}

static int symbol_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int parse_symbols(struct str body, struct spamd_verdict *v)
{
	/* SpamAssassin ends the list with CRLF in some versions, not in others */
	if (body.len >= 2 && body.ptr[body.len - 2] == '\r' && body.ptr[body.len - 1] == '\n')
		body.len -= 2;
	if (body.len == 0)
		return 0;
	size_t start = 0;
	for (size_t i = 0; i <= body.len; i++) {
		if (i < body.len && body.ptr[i] != ',')
			continue;
		struct str name = str_trim((struct str){body.ptr + start, i - start});
		start = i + 1;
		if (name.len == 0 || name.len > LK_FILTER_MAX_SPAM_SYMBOL)
			return -1;
		for (size_t k = 0; k < name.len; k++)
			if (!symbol_char(name.ptr[k]))
				return -1;
		if (v->nsymbols == LK_FILTER_MAX_SPAM_SYMBOLS) {
			v->more_symbols = 1;
			continue;
		}
		memcpy(v->symbols[v->nsymbols], name.ptr, name.len);
		v->symbols[v->nsymbols++][name.len] = '\0';
	}
	return 0;
}

int spamd_reply_parse(const char *p, size_t len, struct spamd_verdict *v, struct filter_error *err)
{
	memset(v, 0, sizeof(*v));
	memset(err, 0, sizeof(*err));
	if (len == 0)
		return filter_fail(err, FILTER_ORIGIN_PEER, 1, "spamd: empty answer");
	if (len > LK_FILTER_MAX_SPAMD_REPLY)
		return not_spamd(err, "too long");
	struct str s = {p, len}, line;
	if (next_line(&s, &line) < 0)
		return not_spamd(err, "status line");
	if (parse_status(line, err) < 0)
		return -1;
	int have_spam = 0, have_length = 0;
	int64_t clen = 0;
	for (size_t n = 0;; n++) {
		if (n > LK_FILTER_MAX_SPAMD_HEADERS || next_line(&s, &line) < 0)
			return not_spamd(err, "headers");
		if (line.len == 0)
			break;
		long colon = str_find(line, ':');
		if (colon <= 0)
			return not_spamd(err, "header");
		struct str name = {line.ptr, (size_t)colon};
		struct str val =
		    str_trim((struct str){line.ptr + colon + 1, line.len - (size_t)colon - 1});
		if (str_eq_nocase_z(name, "Spam")) {
			if (have_spam++ || parse_spam(val, v) < 0)
				return not_spamd(err, "Spam header");
		} else if (str_eq_nocase_z(name, "Content-length")) {
			if (have_length++ || num_parse_i64(val.ptr, val.len, 0,
							   LK_FILTER_MAX_SPAMD_REPLY, &clen) < 0)
				return not_spamd(err, "Content-length");
		}
	}
	if (!have_spam)
		return not_spamd(err, "no Spam header");
	if (have_length && (size_t)clen != s.len)
		return not_spamd(err, "body length");
	if (!have_length && s.len != 0)
		return not_spamd(err, "a body without Content-length");
	if (parse_symbols(s, v) < 0)
		return not_spamd(err, "symbols");
	return 0;
}

int spamd_check(const struct filter_endpoint *ep, int timeout_ms, const char *msg, size_t len,
		int symbols, struct spamd_verdict *v, struct filter_error *err)
{
	memset(v, 0, sizeof(*v));
	if (len > LK_MAX_MESSAGE)
		return filter_fail(err, FILTER_ORIGIN_OURS, 0, "spamd: message over %u bytes",
				   LK_MAX_MESSAGE);
	char head[96];
	int hl = snprintf(head, sizeof(head), "%s SPAMC/1.5\r\nContent-length: %zu\r\n\r\n",
			  symbols ? "SYMBOLS" : "CHECK", len);
	struct str req[2] = {{head, (size_t)hl}, {msg, len}};
	struct buf reply;
	buf_init(&reply, LK_FILTER_MAX_SPAMD_REPLY);
	int rc = filter_exchange("spamd", ep, timeout_ms, req, 2, &reply, err);
	if (rc == 0)
		rc = spamd_reply_parse(reply.data ? reply.data : "", reply.len, v, err);
	buf_free(&reply);
	return rc;
}
