/*
 * buf.c - bounded growable buffers and borrowed string views.
 *
 * TRUST: carries untrusted bytes; every append is checked against the
 * buffer's own maximum before anything is allocated.
 */
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

void buf_free(struct buf *b)
{
	if (b->data != NULL)
		xfree_wipe(b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
	b->err = 0;
}

static int buf_reserve(struct buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		b->err = 1;
		return -1;
	}
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	/* Grow by copy so the old bytes can be wiped: they may be secrets. */
	char *nd = xmalloc(cap);
	if (b->len)
		memcpy(nd, b->data, b->len);
	if (b->data != NULL)
		xfree_wipe(b->data, b->cap);
	b->data = nd;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_putc(struct buf *b, int c)
{
	char ch = (char)c;
	return buf_append(b, &ch, 1);
}

int buf_puts(struct buf *b, const char *z)
{
	return buf_append(b, z, strlen(z));
}

int buf_append_str(struct buf *b, struct str s)
{
	return buf_append(b, s.ptr, s.len);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->err = 1;
		return -1;
	}
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	explicit_bzero(b->data + len, b->len - len);
	b->len = len;
}

const char *buf_cstr(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

struct str buf_str(const struct buf *b)
{
	return (struct str){buf_cstr(b), b->len};
}

char *buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data != NULL ? b->data : xstrdup("");
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
	return p;
}

int bsnprintf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

struct str str_from_z(const char *z)
{
	return (struct str){z, z != NULL ? strlen(z) : 0};
}

int str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int str_eq_z(struct str a, const char *z)
{
	return str_eq(a, str_from_z(z));
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int str_eq_nocase(struct str a, struct str b)
{
	if (a.len != b.len)
		return 0;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i]))
			return 0;
	return 1;
}

int str_eq_nocase_z(struct str a, const char *z)
{
	return str_eq_nocase(a, str_from_z(z));
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str s)
{
	while (s.len && is_ws(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len && is_ws(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

long str_find(struct str s, int c)
{
	const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
	return p != NULL ? (long)(p - s.ptr) : -1;
}

int str_has_ctl_line(struct str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0')
			return 1;
	return 0;
}

int buf_read_file(struct buf *b, const char *path, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 1;
	}
	size_t start = b->len;
	if (sb.st_size > 0 && (uint64_t)sb.st_size > b->max - b->len)
		goto too_big;
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf_printf(err, "%s: %s", path, strerror(errno));
			close(fd);
			buf_truncate(b, start);
			return -1;
		}
		if (r == 0)
			break;
		if (buf_append(b, chunk, (size_t)r) < 0)
			goto too_big;
	}
	close(fd);
	return 0;
too_big:
	close(fd);
	buf_truncate(b, start);
	b->err = 0;
	buf_printf(err, "%s: larger than %zu bytes", path, b->max);
	return -1;
}
