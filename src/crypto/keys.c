/*
 * keys.c - the key file: generate, write once, load (format in keys.h).
 *
 *   crypto_init     sodium_init, once per process
 *   keys_generate   three fresh random keys
 *   keys_write      O_CREAT|O_EXCL, mode 0600, fsync; never overwrites
 *   keys_load       refuses group/other permission bits, missing, duplicate
 *                   or unknown keys, malformed hex, unknown version
 *   keys_wipe       zeroes the keys
 *
 * TRUST: the key file is operator input. It is read through one descriptor
 * (fstat on the open file, so the mode checked is the mode of the file read),
 * bounded by KEYS_FILE_MAX before anything is read, and parsed with explicit
 * lengths. Messages name the file, the line and the field but never echo a
 * value: a half-typed key must not end up in a log. Every copy of key
 * material (text, hex, a half-parsed struct keys) is wiped before return.
 */
#include "crypto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/secretfile.h"
#include "core/num.h"
#include "crypto/hash.h"

/* A written key file is about 290 bytes; anything much larger is not one.
 * (Kept here rather than in core/limits.h because only this module reads it.) */
#define KEYS_FILE_MAX LK_MAX_KEY_FILE
#define KEYS_VERSION 1
#define KEYS_HEX_LEN (2 * KEYS_LEN)

static void keys_err(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void keys_err(struct buf *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

int crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void keys_generate(struct keys *k)
{
	randombytes_buf(k->master, sizeof(k->master));
	randombytes_buf(k->mac, sizeof(k->mac));
	randombytes_buf(k->hash, sizeof(k->hash));
}

void keys_wipe(struct keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes the new directory entry durable. Best effort: some file systems
 * refuse fsync on a directory (EINVAL), and the file itself is synced. */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[LK_MAX_PATH];
	if (slash == NULL) {
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash == path) {
		dir[0] = '/';
		dir[1] = '\0';
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

int keys_write(const struct keys *k, const char *path, struct buf *err)
{
	char master[KEYS_HEX_LEN + 1], mac[KEYS_HEX_LEN + 1], hash[KEYS_HEX_LEN + 1];
	struct buf text;
	int fd, rc = -1;

	buf_init(&text, 1024);
	hex_encode(k->master, KEYS_LEN, master);
	hex_encode(k->mac, KEYS_LEN, mac);
	hex_encode(k->hash, KEYS_LEN, hash);
	buf_printf(&text,
		   "# listkeeper key file: keep secret, back up apart from the database\n"
		   "version = %d\n"
		   "master = %s\n"
		   "mac = %s\n"
		   "hash = %s\n",
		   KEYS_VERSION, master, mac, hash);
	sodium_memzero(master, sizeof(master));
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(hash, sizeof(hash));
	if (text.err) { /* a bug: the bound above is four times the text */
		keys_err(err, "%s: internal error formatting the key file", path);
		goto out;
	}

	/* O_EXCL: an existing key file is never replaced (it would orphan every
	 * sealed blob); O_NOFOLLOW: nor is a planted symlink followed. */
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			keys_err(err, "%s: already exists; refusing to overwrite a key file", path);
		else
			keys_err(err, "%s: cannot create: %s", path, strerror(errno));
		goto out;
	}
	if (write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0) {
		keys_err(err, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		unlink(path); /* ours: O_EXCL created it */
		goto out;
	}
	if (close(fd) < 0) {
		keys_err(err, "%s: cannot write: %s", path, strerror(errno));
		unlink(path);
		goto out;
	}
	sync_parent_dir(path);
	rc = 0;
out:
	buf_free(&text);
	return rc;
}

static int parse_key(const char *path, unsigned line, const char *name, struct str value,
		     uint8_t out[KEYS_LEN], struct buf *err)
{
	if (value.len != KEYS_HEX_LEN || hex_decode(value.ptr, value.len, out, KEYS_LEN) < 0) {
		keys_err(err, "%s:%u: malformed '%s': want exactly %d hex digits", path, line, name,
			 KEYS_HEX_LEN);
		return -1;
	}
	if (sodium_is_zero(out, KEYS_LEN)) {
		keys_err(err, "%s:%u: '%s' is all zeros; not a generated key", path, line, name);
		return -1;
	}
	return 0;
}

static int parse_keys(const char *path, const char *text, size_t len, struct keys *k,
		      struct buf *err)
{
	enum { SEEN_VERSION = 1, SEEN_MASTER = 2, SEEN_MAC = 4, SEEN_HASH = 8 };
	unsigned seen = 0, line = 0;
	size_t pos = 0;

	while (pos < len) {
		struct str rest = {text + pos, len - pos};
		long nl = str_find(rest, '\n');
		size_t llen = nl < 0 ? rest.len : (size_t)nl;
		struct str l = str_trim((struct str){rest.ptr, llen});
		pos += llen + (nl < 0 ? 0 : 1);
		line++;

		if (l.len == 0 || l.ptr[0] == '#')
			continue;
		long eq = str_find(l, '=');
		if (eq < 0) {
			keys_err(err, "%s:%u: expected 'name = value'", path, line);
			return -1;
		}
		struct str name = str_trim((struct str){l.ptr, (size_t)eq});
		struct str value = str_trim((struct str){l.ptr + eq + 1, l.len - (size_t)eq - 1});
		unsigned bit;
		int r;
		if (str_eq_z(name, "version")) {
			int64_t v;
			bit = SEEN_VERSION;
			r = 0;
			if (num_parse_i64(value.ptr, value.len, 0, INT64_MAX, &v) < 0 ||
			    v != KEYS_VERSION) {
				keys_err(err, "%s:%u: unsupported key file version (want %d)", path,
					 line, KEYS_VERSION);
				r = -1;
			}
		} else if (str_eq_z(name, "master")) {
			bit = SEEN_MASTER;
			r = parse_key(path, line, "master", value, k->master, err);
		} else if (str_eq_z(name, "mac")) {
			bit = SEEN_MAC;
			r = parse_key(path, line, "mac", value, k->mac, err);
		} else if (str_eq_z(name, "hash")) {
			bit = SEEN_HASH;
			r = parse_key(path, line, "hash", value, k->hash, err);
		} else {
			keys_err(err, "%s:%u: unknown field (expected version, master, mac, hash)",
				 path, line);
			return -1;
		}
		if (r < 0)
			return -1;
		if (seen & bit) {
			keys_err(err, "%s:%u: field given twice", path, line);
			return -1;
		}
		seen |= bit;
	}
	if (!(seen & SEEN_VERSION)) {
		keys_err(err, "%s: missing 'version'", path);
		return -1;
	}
	static const struct {
		unsigned bit;
		const char *name;
	} need[] = {{SEEN_MASTER, "master"}, {SEEN_MAC, "mac"}, {SEEN_HASH, "hash"}};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(seen & need[i].bit)) {
			keys_err(err, "%s: missing key '%s'", path, need[i].name);
			return -1;
		}
	}
	return 0;
}

int keys_load(struct keys *k, const char *path, struct buf *err)
{
	char text[KEYS_FILE_MAX];
	struct keys tmp;
	size_t len = 0;
	int rc = -1;

	memset(&tmp, 0, sizeof(tmp));
	if (secret_file_read("", path, text, sizeof(text), &len, err) < 0)
		goto out;
	if (parse_keys(path, text, len, &tmp, err) < 0)
		goto out;
	memcpy(k, &tmp, sizeof(*k)); /* k is untouched unless the whole file is good */
	rc = 0;
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(&tmp, sizeof(tmp));
	return rc;
}
