/*
 * secretfile.c - read a secret file whole, refusing loose permissions.
 *
 * TRUST: the file is the operator's; its size is bounded by cap before and
 * while reading (it may grow after fstat).
 */
#include "core/secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 4, 5))) static void say(struct buf *err, const char *label,
						      const char *path, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	buf_printf(err, "%s%s%s: ", label, label[0] ? " " : "", path);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

int secret_file_read(const char *label, const char *path, char *text, size_t cap, size_t *len,
		     struct buf *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		say(err, label, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		say(err, label, path, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		say(err, label, path, "not a regular file");
		goto fail;
	}
	if (st.st_mode & 077) {
		const char *what = (st.st_mode & 044)	? "readable"
				   : (st.st_mode & 022) ? "writable"
							: "accessible";
		say(err, label, path, "%s by group or others (mode %04o); run: chmod 600 %s", what,
		    (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > cap) {
		say(err, label, path, "too large (more than %zu bytes)", cap);
		goto fail;
	}
	size_t n = 0;
	for (;;) {
		if (n == cap) {
			/* Grew after fstat: one more byte says it is too large. */
			char extra;
			if (read(fd, &extra, 1) != 0) {
				say(err, label, path, "too large (more than %zu bytes)", cap);
				goto fail;
			}
			break;
		}
		ssize_t r = read(fd, text + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			say(err, label, path, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return 0;
fail:
	close(fd);
	return -1;
}
