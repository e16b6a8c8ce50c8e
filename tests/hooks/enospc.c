/*
 * enospc.c - a full disk for the tests, LD_PRELOADed into the real binary
 * (never linked into it): while the file named by LK_TEST_ENOSPC_FLAG
 * exists, every write(2), pwrite(2), pwrite64 and writev(2) to a file whose
 * path starts with the first line of that file fails with ENOSPC, as on a
 * full file system; other files (the log, sockets, pipes) and SQLite's WAL
 * index (-shm, which it maps) are untouched. So
 * SQLite takes its own path for a full disk (SQLITE_FULL, "database or disk
 * is full", the transaction rolled back by SQLite itself) where the real
 * store writes, and a test makes the disk full and frees it again at any
 * moment by writing and removing the flag file (naming the database, the
 * spool, or both by their common prefix). Used by tests/cli/
 * (store_full.sh, exit_codes.sh and others); built without the sanitizers, so that it
 * may be preloaded into the ASan build too (ASAN_OPTIONS
 * verify_asan_link_order=0).
 *
 * TRUST: test code only; it reads one environment variable and its file.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* 1 if a write to fd is to fail now. Keeps errno. */
static int full(int fd)
{
	int saved = errno;
	const char *flag = getenv("LK_TEST_ENOSPC_FLAG");
	char prefix[PATH_MAX], link[64], path[PATH_MAX];
	int r = 0;
	FILE *fp = flag != NULL && fd > 2 ? fopen(flag, "re") : NULL;
	if (fp != NULL) {
		size_t k = fread(prefix, 1, sizeof(prefix) - 1, fp);
		fclose(fp);
		while (k > 0 && (prefix[k - 1] == '\n' || prefix[k - 1] == '\r'))
			k--;
		prefix[k] = '\0';
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		if (k > 0 && n > 0) {
			path[n] = '\0';
			/* Not the WAL index: SQLite maps it, and it exists
			 * already while a server runs on the full disk. */
			r = strncmp(path, prefix, k) == 0 &&
			    (n < 4 || strcmp(path + n - 4, "-shm") != 0);
		}
	}
	errno = saved;
	return r;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

ssize_t write(int fd, const void *p, size_t n)
{
	static write_fn next;
	if (next == NULL)
		next = (write_fn)dlsym(RTLD_NEXT, "write");
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return next(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	static pwrite_fn next;
	if (next == NULL)
		next = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return next(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off64_t off)
{
	static pwrite64_fn next;
	if (next == NULL)
		next = (pwrite64_fn)dlsym(RTLD_NEXT, "pwrite64");
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return next(fd, p, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static writev_fn next;
	if (next == NULL)
		next = (writev_fn)dlsym(RTLD_NEXT, "writev");
	if (cnt > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return next(fd, iov, cnt);
}
