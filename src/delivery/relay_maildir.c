/*
 * relay_maildir.c - the maildir:PATH relay, the demo relay: each message
 * becomes a file in PATH/new, readable with any Maildir reader (mutt -f
 * PATH) or a pager, so that `make run` works without a mail server.
 *
 * Maildir conventions (qmail's maildir(5)): the file is written under a
 * unique name "SECONDS.MUSECPPIDQCOUNTER.HOST" into tmp/, fsync'ed, then
 * renamed into new/, so a reader never sees half a message; new/ itself is
 * fsync'ed once per batch. The directories PATH, tmp, new and cur are made
 * on the first send. As in a delivered mail file, lines end in LF (the
 * CRLF of the wire is a network convention), and a Return-Path and a
 * Delivered-To line at the top show the envelope. Files are mode 0600:
 * they hold addresses.
 *
 * Every message ends RELAY_SENT, or RELAY_DEFER on an I/O error (a full
 * disk passes); an envelope address with a line break in it is RELAY_FAIL.
 * When nothing could be written at all, send returns -1 with the reason.
 *
 * TRUST: the messages are our own; the addresses are checked anyway, since
 * they become header lines here. Logs carry the path and errno, no address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "delivery/relay_impl.h"

#define WBUF (64u << 10)

struct maildir {
	char *path;
	char host[256]; /* for file names: '/' and ':' escaped as maildir(5) asks */
	int ready;	/* the directories exist */
	size_t batch;
};

static atomic_ulong counter; /* Q part of the names: unique within this process */

static void *maildir_open(const struct conf *c, const char *arg, struct buf *err)
{
	if (strlen(arg) > LK_MAX_PATH - 64) {
		buf_printf(err, "[delivery] relay = maildir:%s: path too long", arg);
		return NULL;
	}
	struct maildir *md = xcalloc(1, sizeof(*md));
	md->path = xstrdup(arg);
	md->batch = (size_t)(conf_get_int(c, "delivery", "connections") *
			     conf_get_int(c, "delivery", "pipeline"));
	char raw[128] = "localhost";
	if (gethostname(raw, sizeof(raw) - 1) < 0 || raw[0] == '\0')
		bsnprintf(raw, sizeof(raw), "localhost");
	raw[sizeof(raw) - 1] = '\0';
	size_t o = 0;
	for (const char *p = raw; *p && o + 5 < sizeof(md->host); p++) {
		if (*p == '/' || *p == ':')
			o += (size_t)bsnprintf(md->host + o, sizeof(md->host) - o, "\\%03o",
					       (unsigned)(unsigned char)*p);
		else if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
			md->host[o++] = *p;
	}
	md->host[o] = '\0';
	return md;
}

static void maildir_close(void *impl)
{
	struct maildir *md = impl;
	if (md == NULL)
		return;
	free(md->path);
	free(md);
}

static size_t maildir_batch_max(const void *impl)
{
	const struct maildir *md = impl;
	return md->batch;
}

/* mkdir -p for PATH, then PATH/{tmp,new,cur}. 0 or -1 with why. */
static int make_dirs(struct maildir *md, struct buf *why)
{
	char p[LK_MAX_PATH];
	if (bsnprintf(p, sizeof(p), "%s", md->path) < 0)
		return -1;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			buf_printf(why, "maildir %s: mkdir %s: %s", md->path, p, strerror(errno));
			return -1;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	static const char *const sub[] = {"tmp", "new", "cur"};
	for (int i = 0; i < 3; i++) {
		bsnprintf(p, sizeof(p), "%s/%s", md->path, sub[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			buf_printf(why, "maildir %s: mkdir %s: %s", md->path, p, strerror(errno));
			return -1;
		}
	}
	md->ready = 1;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the envelope lines and the message with LF line ends. */
static int write_message(int fd, const struct relay_msg *m)
{
	char *w = xmalloc(WBUF);
	size_t o = 0;
	int rc =
	    bsnprintf(w, WBUF, "Return-Path: <%s>\nDelivered-To: <%s>\n", m->mail_from, m->rcpt_to);
	if (rc < 0)
		goto fail;
	o = strlen(w);
	for (size_t i = 0; i < m->len; i++) {
		if (m->data[i] == '\r' && i + 1 < m->len && m->data[i + 1] == '\n')
			continue;
		w[o++] = m->data[i];
		if (o == WBUF) {
			if (write_all(fd, w, o) < 0)
				goto fail;
			o = 0;
		}
	}
	if (o > 0 && write_all(fd, w, o) < 0)
		goto fail;
	xfree_wipe(w, WBUF);
	return 0;
fail:
	xfree_wipe(w, WBUF);
	return -1;
}

static int header_safe(const char *a)
{
	return strlen(a) <= LK_MAX_ADDRESS && strpbrk(a, "\r\n") == NULL;
}

/* One message into tmp/, then new/. Returns 0, or -1 with errno-based text in st. */
static int deliver(struct maildir *md, const struct relay_msg *m, struct relay_status *st)
{
	char name[384], tmp[LK_MAX_PATH], dst[LK_MAX_PATH];
	int fd = -1;
	for (int attempt = 0; fd < 0 && attempt < 10; attempt++) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		unsigned long q = atomic_fetch_add(&counter, 1);
		bsnprintf(name, sizeof(name), "%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
			  (long)tv.tv_usec, (long)getpid(), q, md->host);
		if (bsnprintf(tmp, sizeof(tmp), "%s/tmp/%s", md->path, name) < 0 ||
		    bsnprintf(dst, sizeof(dst), "%s/new/%s", md->path, name) < 0) {
			errno = ENAMETOOLONG;
			break;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	const char *step = "create";
	if (fd < 0)
		goto fail;
	step = "write";
	if (write_message(fd, m) < 0)
		goto fail_unlink;
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail_unlink;
	step = "close";
	int rc = close(fd);
	fd = -1;
	if (rc < 0)
		goto fail_unlink;
	step = "rename";
	if (rename(tmp, dst) < 0)
		goto fail_unlink;
	st->result = RELAY_SENT;
	st->origin = RELAY_ORIGIN_NONE;
	st->code = 0;
	bsnprintf(st->text, sizeof(st->text), "written to the maildir");
	return 0;
fail_unlink : {
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
}
fail:
	st->result = RELAY_DEFER;
	st->origin = RELAY_ORIGIN_LOCAL;
	st->local = RELAY_LOCAL_IO;
	st->code = 0;
	bsnprintf(st->text, sizeof(st->text), "maildir %s: %s", step, strerror(errno));
	return -1;
}

static int maildir_send(void *impl, const struct relay_msg *m, size_t n, struct relay_status *st,
			struct buf *why)
{
	struct maildir *md = impl;
	if (!md->ready && make_dirs(md, why) < 0) {
		log_warnx("relay=maildir cannot create the maildir directories");
		for (size_t i = 0; i < n; i++)
			bsnprintf(st[i].text, sizeof(st[i].text), "not sent: %s", buf_cstr(why));
		return -1;
	}
	size_t sent = 0, errors = 0;
	const char *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!header_safe(m[i].mail_from) || !header_safe(m[i].rcpt_to)) {
			st[i].result = RELAY_FAIL;
			st[i].origin = RELAY_ORIGIN_LOCAL;
			st[i].local = RELAY_LOCAL_ADDRESS;
			st[i].code = 0;
			bsnprintf(st[i].text, sizeof(st[i].text),
				  "not written: an envelope address is malformed");
			continue;
		}
		if (deliver(md, &m[i], &st[i]) == 0) {
			sent++;
		} else {
			errors++;
			if (first == NULL)
				first = st[i].text;
		}
	}
	if (sent > 0) {
		char newdir[LK_MAX_PATH];
		bsnprintf(newdir, sizeof(newdir), "%s/new", md->path);
		int dfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd); /* the renames survive a crash */
			close(dfd);
		}
	}
	if (errors > 0)
		log_warnx("relay=maildir write errors=%zu written=%zu", errors, sent);
	if (sent == 0 && errors > 0) {
		buf_printf(why, "%s", first);
		return -1;
	}
	return 0;
}

const struct relay_ops relay_maildir_ops = {
    .scheme = "maildir",
    .open = maildir_open,
    .close = maildir_close,
    .batch_max = maildir_batch_max,
    .send = maildir_send,
};
