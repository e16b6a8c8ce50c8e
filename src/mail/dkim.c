/*
 * dkim.c - DKIM signatures (RFC 6376, RFC 8463) with OpenSSL.
 *
 *   dkim_signer_new   reads an RSA or Ed25519 PEM key (refused when the group
 *                     or others may access it) and picks rsa-sha256 or
 *                     ed25519-sha256 (RFC 8463) from the key's type
 *   dkim_signer_sign  one DKIM-Signature field per message, relaxed/relaxed
 *   dkim_keygen       RSA-2048 or Ed25519 key (PKCS#8 PEM, mode 0600, O_EXCL)
 *                     and the TXT record value to publish
 *
 * One signing path for both algorithms: relaxed canonicalisation (RFC 6376
 * section 3.4.2 and 3.4.4), the body hash, the header hash over the fields
 * named in h= and this DKIM-Signature field with an empty b= (section 3.7),
 * then the signature of that SHA-256 hash: RSASSA-PKCS1-v1_5 for rsa-sha256
 * (RFC 6376 section 3.3.1), PureEdDSA over the 32-byte hash for
 * ed25519-sha256 (RFC 8463 section 3). The key is parsed once per signer and
 * the signing context set up once, not once per message.
 * tests/mail/test_dkim.c checks both with libopendkim's verifier, itself
 * checked against the signed example of RFC 8463 appendix A.
 *
 * Why not libopendkim for signing (it was used for rsa-sha256 until issue
 * 3's benchmark): dkim_sign() takes the key as PEM text and parses it, and
 * sets up a fresh RSA key, for every message; that was more than half of its
 * 0.9 ms per 5 KB message, and held `send` to about 900 messages/s. Its
 * Ed25519 path leaks the parsed key in dkim_free() (Debian's 2.11: about 700
 * bytes per message). libopendkim stays a test dependency only, as the
 * independent verifier.
 *
 * Signed header fields: those listed in dkim.h, each oversigned (named once
 * more in h= than it occurs, RFC 6376 section 8.15): a relay or a forger can
 * then add no second From, Subject or List-Unsubscribe (RFC 8058 section 4)
 * without breaking the signature, and a field the message lacks is signed as
 * absent. No l= tag (a body length would let anyone append text).
 *
 * Threads: a signer keeps its key, signing context and scratch buffers; it is
 * thread-compatible: one per thread.
 *
 * TRUST: messages come from mail/compose.c (CRLF line ends, the last line
 * included; bounded by LK_MAX_MESSAGE; a bare LF is refused, as the relay
 * would refuse it). The key file, selector and domain are the operator's:
 * the file must be 0600 or stricter, the names must be DNS names (they go
 * into a header field).
 */
#include "mail/dkim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/nametab.h"
#include "core/secretfile.h"
#include "core/xmalloc.h"

#define DKIM_RSA_BITS 2048
#define DKIM_RSA_MIN_BITS 1024 /* RFC 8301 section 3.2 */
#define DKIM_SIG_MAX 1024      /* bytes of a signature: RSA up to 8192 bits */
#define DKIM_SIG_FIELD "DKIM-Signature: "

struct dkim_signer {
	int rsa; /* 1: rsa-sha256; 0: ed25519-sha256 */
	char *selector;
	char *domain;
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *ctx; /* rsa: initialised once for signing with pkey */
	EVP_MD_CTX *md;	   /* ed25519: OpenSSL 3.0 signs it only through EVP_DigestSign */
	struct buf canon;  /* canonicalised body, then header data */
	struct buf field;  /* the DKIM-Signature field being built */
};

/* dkim.h's list; names match without regard to case. */
static const char *const SIGNED[] = {"From",
				     "To",
				     "Subject",
				     "Date",
				     "Message-ID",
				     "MIME-Version",
				     "Content-Type",
				     "List-Id",
				     "List-Unsubscribe",
				     "List-Unsubscribe-Post",
				     NULL};
#define NSIGNED (sizeof(SIGNED) / sizeof(SIGNED[0]) - 1)

/* Appends OpenSSL's reason for the last failure (and empties its queue, so
 * that the next caller on this thread does not read a stale error). */
static void ossl_err(struct buf *err, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char msg[256];
	if (e != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		buf_printf(err, "%s: %s", what, msg);
	} else {
		buf_printf(err, "%s", what);
	}
	ERR_clear_error();
}

/* RFC 6376 section 3.1: selector = sub-domain *("." sub-domain); the domain
 * likewise, in its A-label (ASCII) form. */
static int dns_name_ok(const char *z, struct buf *err, const char *what)
{
	size_t n = strlen(z), label = 0;
	if (n == 0 || n > LK_MAX_DOMAIN) {
		buf_printf(err, "%s: must be 1 to %d characters", what, LK_MAX_DOMAIN);
		return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char ch = (unsigned char)z[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || z[i - 1] == '-' || z[i - label] == '-') {
				buf_printf(err,
					   "%s '%.*s': each dot-separated part must be 1 to 63 "
					   "letters, digits or inner hyphens",
					   what, (int)(n > 80 ? 80 : n), z);
				return -1;
			}
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			label++;
		} else {
			buf_printf(err,
				   "%s: only letters, digits, '-' and '.' are allowed (an "
				   "international domain in its xn-- form)",
				   what);
			return -1;
		}
	}
	return 0;
}

/* An encrypted key would make OpenSSL prompt on the terminal: refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Writes pkey as PKCS#8 PEM into out (which is wiped by buf_free). */
static int pem_pkcs8(EVP_PKEY *pkey, struct buf *out, struct buf *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -1;
	if (bio == NULL) {
		ossl_err(err, "cannot encode the key");
		return -1;
	}
	int ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (!ok)
		ossl_err(err, "cannot encode the key");
	else if (n <= 0 || buf_append(out, p, (size_t)n) < 0)
		buf_printf(err, "cannot encode the key: too large");
	else
		rc = 0;
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, (size_t)n); /* the BIO's copy of the key */
	BIO_free(bio);
	return rc;
}

struct dkim_signer *dkim_signer_new(const char *key_file, const char *selector, const char *domain,
				    struct buf *err)
{
	char text[LK_MAX_KEY_FILE];
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	struct dkim_signer *s = NULL;

	if (dns_name_ok(selector, err, "[dkim] selector") < 0 ||
	    dns_name_ok(domain, err, "[dkim] domain") < 0)
		return NULL;
	if (strlen(selector) + strlen("._domainkey.") + strlen(domain) > LK_MAX_DOMAIN) {
		buf_printf(err, "[dkim] %s._domainkey.%s: longer than a DNS name may be", selector,
			   domain);
		return NULL;
	}
	/* refused when others may read it: it signs mail in the operator's name */
	if (secret_file_read("[dkim] key_file", key_file, text, sizeof(text), &len, err) < 0)
		goto out;

	ERR_clear_error();
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		buf_printf(err, "[dkim] key_file %s: not an unencrypted PEM private key (",
			   key_file);
		ossl_err(err, "OpenSSL");
		buf_puts(err, ")");
		goto out;
	}

	s = xcalloc(1, sizeof(*s));
	/* The canonical body is at most the message plus a CRLF; the header
	 * data is far smaller. */
	buf_init(&s->canon, LK_MAX_MESSAGE + 2);
	buf_init(&s->field, 4096);
	s->selector = xstrdup(selector);
	s->domain = xstrdup(domain);
	switch (EVP_PKEY_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_bits(pkey) < DKIM_RSA_MIN_BITS) {
			buf_printf(err,
				   "[dkim] key_file %s: an RSA key of %d bits is too weak (at "
				   "least %d; `listkeeper dkim keygen` makes %d)",
				   key_file, EVP_PKEY_bits(pkey), DKIM_RSA_MIN_BITS, DKIM_RSA_BITS);
			goto fail;
		}
		s->rsa = 1;
		break;
	case EVP_PKEY_ED25519:
		s->rsa = 0;
		break;
	default:
		buf_printf(err, "[dkim] key_file %s: neither an RSA nor an Ed25519 key", key_file);
		goto fail;
	}
	if (EVP_PKEY_size(pkey) <= 0 || EVP_PKEY_size(pkey) > DKIM_SIG_MAX) {
		buf_printf(err, "[dkim] key_file %s: a key of %d bits is larger than supported",
			   key_file, EVP_PKEY_bits(pkey));
		goto fail;
	}
	s->pkey = pkey;
	pkey = NULL;
	/* Both sign the SHA-256 hash of the header data: for RSA the context
	 * adds its DigestInfo (PKCS #1 v1.5); for Ed25519 (PureEdDSA) the
	 * 32-byte hash is the message, as RFC 8463 section 3 says. */
	int ready;
	if (s->rsa) {
		s->ctx = EVP_PKEY_CTX_new(s->pkey, NULL);
		ready = s->ctx != NULL && EVP_PKEY_sign_init(s->ctx) > 0 &&
			EVP_PKEY_CTX_set_rsa_padding(s->ctx, RSA_PKCS1_PADDING) > 0 &&
			EVP_PKEY_CTX_set_signature_md(s->ctx, EVP_sha256()) > 0;
	} else {
		s->md = EVP_MD_CTX_new();
		ready = s->md != NULL;
	}
	if (!ready) {
		ossl_err(err, "[dkim] cannot prepare the key for signing");
		goto fail;
	}
	goto out;
fail:
	dkim_signer_free(s);
	s = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	OPENSSL_cleanse(text, sizeof(text));
	ERR_clear_error();
	return s;
}

void dkim_signer_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_CTX_free(s->ctx);
	EVP_MD_CTX_free(s->md);
	EVP_PKEY_free(s->pkey);
	buf_free(&s->canon);
	buf_free(&s->field);
	free(s->selector);
	free(s->domain);
	free(s);
}

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* The next header field at *p (before end): its bytes without the final
 * CRLF, continuation lines included. Returns 0, or -1 on a line that is no
 * field (no colon, or a continuation with nothing to continue). */
static int next_field(const char **p, const char *end, struct str *field, struct str *name)
{
	const char *start = *p, *q = *p;
	if (q >= end || is_wsp(*q))
		return -1;
	for (;;) {
		const char *lf = memchr(q, '\n', (size_t)(end - q));
		if (lf == NULL) { /* the last line lacks its CRLF */
			q = end;
			break;
		}
		q = lf + 1;
		if (q >= end || !is_wsp(*q))
			break;
	}
	*p = q;
	size_t n = (size_t)(q - start);
	if (n >= 2 && start[n - 2] == '\r' && start[n - 1] == '\n')
		n -= 2;
	const char *colon = memchr(start, ':', n);
	if (colon == NULL || colon == start)
		return -1;
	size_t nl = (size_t)(colon - start);
	while (nl > 0 && is_wsp(start[nl - 1]))
		nl--;
	*field = (struct str){start, n};
	*name = (struct str){start, nl};
	return 0;
}

/* RFC 6376 section 3.4.2, relaxed: lower-case name, unfolded, each run of
 * WSP one SP, none at the ends of the value or around the colon. */
static void canon_header(struct buf *out, struct str field, struct str name)
{
	for (size_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];
		buf_putc(out, c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	buf_putc(out, ':');
	const char *p = memchr(field.ptr, ':', field.len) + 1, *end = field.ptr + field.len;
	int wsp = 0, any = 0;
	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			p++; /* unfold: the CRLF goes, the WSP after it stays */
			continue;
		}
		if (is_wsp(*p)) {
			wsp = 1;
			continue;
		}
		if (wsp && any)
			buf_putc(out, ' ');
		wsp = 0;
		any = 1;
		buf_putc(out, *p);
	}
}

/* RFC 6376 section 3.4.4, relaxed: each run of WSP in a line one SP, none at
 * the end of a line, no empty lines at the end, a final CRLF if the body is
 * not empty. */
static void canon_body(struct buf *out, const char *p, const char *end)
{
	size_t empty = 0; /* empty lines held back: they count only if text follows */
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *eol = lf != NULL ? lf - 1 : end; /* CRLF checked by the caller */
		const char *next = lf != NULL ? lf + 1 : end;
		int wsp = 0, any = 0;
		for (; p < eol; p++) {
			if (is_wsp(*p)) {
				wsp = 1;
				continue;
			}
			if (!any) {
				/* the line has text: release the held-back empty lines */
				for (; empty > 0; empty--)
					buf_puts(out, "\r\n");
			}
			if (wsp) /* leading blanks too: only those at the end go */
				buf_putc(out, ' ');
			wsp = 0;
			any = 1;
			buf_putc(out, *p);
		}
		if (any)
			buf_puts(out, "\r\n");
		else
			empty++;
		p = next;
	}
}

/* Appends tok to the field, folding first when the line would pass 78
 * octets (RFC 5322 section 2.1.1); a leading space is dropped at a fold. */
static void fold_put(struct buf *f, size_t *col, const char *tok, size_t n)
{
	if (*col + n > 78 && *col > 1) {
		buf_puts(f, "\r\n\t");
		*col = 1;
		if (n > 0 && tok[0] == ' ') {
			tok++;
			n--;
		}
	}
	buf_append(f, tok, n);
	*col += n;
}

static void fold_printf(struct buf *f, size_t *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fold_printf(struct buf *f, size_t *col, const char *fmt, ...)
{
	char tok[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tok, sizeof(tok), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tok)) {
		f->err = 1; /* cannot happen: names are bounded by LK_MAX_DOMAIN */
		return;
	}
	fold_put(f, col, tok, (size_t)n);
}

/* The signature of msg, appended to out. */
static int sign_msg(struct dkim_signer *s, const char *msg, size_t len, struct buf *out,
		    struct buf *err)
{
	const char *end = msg + len, *body;
	size_t hdr_len;
	/* The header block ends at the first empty line. */
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n') {
		hdr_len = 0;
		body = msg + 2;
	} else {
		const char *e = memmem(msg, len, "\r\n\r\n", 4);
		hdr_len = e != NULL ? (size_t)(e - msg) + 2 : len;
		body = e != NULL ? e + 4 : end;
	}
	const char *hend = msg + hdr_len;

	/* One pass over the header block: every line belongs to a field, and
	 * how often each field to sign occurs. */
	struct str field, name;
	size_t occurs[NSIGNED] = {0};
	for (const char *p = msg; p < hend;) {
		if (next_field(&p, hend, &field, &name) < 0) {
			buf_printf(err, "dkim: header line %zu bytes in is not a field",
				   (size_t)(p - msg));
			return -1;
		}
		for (size_t i = 0; i < NSIGNED; i++)
			occurs[i] += str_eq_nocase_z(name, SIGNED[i]);
	}
	if (occurs[0] == 0) { /* RFC 6376 section 5.4: From must be signed */
		buf_printf(err, "dkim: the message has no From field");
		return -1;
	}

	unsigned char md[EVP_MAX_MD_SIZE], sig[DKIM_SIG_MAX];
	unsigned int md_len = 0;
	size_t sig_len = sizeof(sig);
	char b64[4 * ((sizeof(sig) + 2) / 3) + 1];

	/* Body hash. */
	buf_reset(&s->canon);
	canon_body(&s->canon, body, end);
	if (s->canon.err || EVP_Digest(s->canon.data ? s->canon.data : "", s->canon.len, md,
				       &md_len, EVP_sha256(), NULL) != 1) {
		ossl_err(err, "dkim: body hash");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)b64, md, (int)md_len);

	/* The field, up to "b=". */
	struct buf *f = &s->field;
	size_t col = 0;
	buf_reset(f);
	fold_printf(f, &col, DKIM_SIG_FIELD "v=1; a=%s; c=relaxed/relaxed;",
		    s->rsa ? "rsa-sha256" : "ed25519-sha256");
	fold_printf(f, &col, " d=%s;", s->domain);
	fold_printf(f, &col, " s=%s;", s->selector);
	fold_printf(f, &col, " t=%lld;", (long long)clock_now());
	fold_printf(f, &col, " bh=%s;", b64);
	/* h=: each field of SIGNED as often as it occurs, plus once. */
	fold_put(f, &col, " h=", 3);
	buf_reset(&s->canon);
	for (size_t i = 0; i < NSIGNED; i++) {
		for (size_t k = 0; k <= occurs[i]; k++) {
			fold_printf(f, &col, "%s:", SIGNED[i]);
			/* RFC 6376 section 5.4.2: instances from the bottom up;
			 * the extra one names a field that is not there. */
			size_t want = occurs[i] - k, seen = 0;
			for (const char *p = msg; k < occurs[i] && p < hend;) {
				next_field(&p, hend, &field, &name);
				if (str_eq_nocase_z(name, SIGNED[i]) && ++seen == want) {
					canon_header(&s->canon, field, name);
					buf_puts(&s->canon, "\r\n");
					break;
				}
			}
		}
	}
	if (f->len > 0)			   /* always: the field is far from its bound */
		f->data[f->len - 1] = ';'; /* the last name's ':' */
	/* " b=" stays on the line with at least a few characters of its value. */
	if (col + 3 + 12 > 78) {
		buf_puts(f, "\r\n\tb=");
		col = 3;
	} else {
		fold_put(f, &col, " b=", 3);
	}

	/* Header hash: the signed fields, then this field with b= empty,
	 * canonicalised the same way, without its CRLF (section 3.7). */
	struct str self = {f->data, f->len};
	canon_header(&s->canon, self, (struct str){f->data, strlen("DKIM-Signature")});
	if (s->canon.err || f->err ||
	    EVP_Digest(s->canon.data, s->canon.len, md, &md_len, EVP_sha256(), NULL) != 1 ||
	    (s->rsa ? EVP_PKEY_sign(s->ctx, sig, &sig_len, md, md_len) != 1
		    : EVP_DigestSignInit(s->md, NULL, NULL, NULL, s->pkey) != 1 ||
			  EVP_DigestSign(s->md, sig, &sig_len, md, md_len) != 1) ||
	    sig_len != (size_t)EVP_PKEY_size(s->pkey)) {
		ossl_err(err, "dkim: signature");
		return -1;
	}
	int n = EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len);
	for (int i = 0; i < n;) {
		int room = col < 78 ? (int)(78 - col) : 0;
		if (room == 0) {
			buf_puts(f, "\r\n\t");
			col = 1;
			continue;
		}
		int k = n - i < room ? n - i : room;
		buf_append(f, b64 + i, (size_t)k);
		col += (size_t)k;
		i += k;
	}
	buf_puts(f, "\r\n");
	if (f->err) {
		buf_printf(err, "dkim: the signature field does not fit");
		return -1;
	}
	buf_append(out, f->data, f->len);
	return 0;
}

int dkim_signer_sign(struct dkim_signer *s, const char *msg, size_t len, struct buf *out,
		     struct buf *err)
{
	if (len > LK_MAX_MESSAGE) {
		buf_printf(err, "dkim: message of %zu bytes is over the limit", len);
		return -1;
	}
	/* Only CRLF ends a line on the wire; a bare LF, or a last line without
	 * its CRLF (which SMTP adds), would be signed as one thing and
	 * delivered as another. */
	if (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n') {
		buf_printf(err, "dkim: the message does not end with CRLF (a bug in composition)");
		return -1;
	}
	for (const char *p = msg, *end = msg + len; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
		if (p == msg || p[-1] != '\r') {
			buf_printf(err,
				   "dkim: bare LF at byte %zu of the message (a bug in "
				   "composition)",
				   (size_t)(p - msg));
			return -1;
		}
	}
	size_t start = out->len;
	int rc = sign_msg(s, msg, len, out, err);
	ERR_clear_error();
	if (rc == 0 && out->err) {
		buf_printf(err, "dkim: no room for the signature");
		rc = -1;
	}
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* So that a new key survives a crash right after we said it was written. */
static void sync_parent_dir(const char *path)
{
	char *tmp = xstrdup(path);
	char *slash = strrchr(tmp, '/');
	const char *dir = ".";
	if (slash == tmp)
		dir = "/";
	else if (slash != NULL) {
		*slash = '\0';
		dir = tmp;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(tmp);
}

/* Base64 (RFC 4648 section 4, padded) of n bytes, appended to out. */
static void base64_append(struct buf *out, const unsigned char *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	unsigned char *b = xmalloc(cap);
	int k = EVP_EncodeBlock(b, p, (int)n);
	buf_append(out, b, (size_t)k);
	free(b);
}

static const char *const KEY_TYPE_NAME[] = {[DKIM_KEY_RSA] = "rsa", [DKIM_KEY_ED25519] = "ed25519"};
static const struct nametab key_type_names = NAMETAB(KEY_TYPE_NAME);

const char *dkim_key_type_name(enum dkim_key_type t)
{
	return nametab_name(&key_type_names, (int)t);
}

int dkim_key_type_parse(const char *z, enum dkim_key_type *out)
{
	int v;
	if (z == NULL || nametab_parse(&key_type_names, z, &v) < 0)
		return -1;
	*out = (enum dkim_key_type)v;
	return 0;
}

int dkim_keygen(const char *type, const char *key_path, struct buf *txt, struct buf *err,
		enum dkim_keygen_fail *why)
{
	enum dkim_keygen_fail fail_z;
	if (why == NULL)
		why = &fail_z;
	enum dkim_key_type kt;
	if (dkim_key_type_parse(type, &kt) < 0) {
		buf_printf(err, "unknown key type '%s' (rsa or ed25519)", type ? type : "");
		*why = DKIM_KEYGEN_BAD_TYPE;
		return -1;
	}
	int rsa = kt == DKIM_KEY_RSA;
	*why = DKIM_KEYGEN_CRYPTO;

	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	struct buf pem, value;
	int rc = -1, fd;
	buf_init(&pem, 4 * LK_MAX_KEY_FILE);
	buf_init(&value, 1024);

	ERR_clear_error();
	ctx = EVP_PKEY_CTX_new_id(rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    (rsa && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, DKIM_RSA_BITS) <= 0) ||
	    EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		ossl_err(err, "cannot generate the key");
		goto out;
	}
	if (pem_pkcs8(pkey, &pem, err) < 0)
		goto out;

	/* The public half: SubjectPublicKeyInfo DER for RSA (RFC 6376 section
	 * 3.6.1), the bare 32-byte key for Ed25519 (RFC 8463 section 4.2). */
	buf_printf(&value, "v=DKIM1; k=%s; p=", rsa ? "rsa" : "ed25519");
	if (rsa) {
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(pkey, &der);
		if (n <= 0) {
			ossl_err(err, "cannot encode the public key");
			goto out;
		}
		base64_append(&value, der, (size_t)n);
		OPENSSL_free(der);
	} else {
		unsigned char raw[32];
		size_t n = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1 || n != sizeof(raw)) {
			ossl_err(err, "cannot encode the public key");
			goto out;
		}
		base64_append(&value, raw, n);
	}

	/* O_EXCL: a key in use is never replaced (mail signed with it would stop
	 * verifying); O_NOFOLLOW: nor is a planted symlink followed. */
	fd = open(key_path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*why = errno == EEXIST ? DKIM_KEYGEN_EXISTS : DKIM_KEYGEN_CANTCREATE;
		if (errno == EEXIST)
			buf_printf(err, "%s: already exists; refusing to overwrite a key",
				   key_path);
		else
			buf_printf(err, "%s: cannot create: %s", key_path, strerror(errno));
		goto out;
	}
	int bad = write_all(fd, pem.data, pem.len) < 0 || fsync(fd) < 0;
	int saved = errno;
	if (close(fd) < 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		*why = DKIM_KEYGEN_IOERR;
		buf_printf(err, "%s: cannot write: %s", key_path, strerror(saved));
		unlink(key_path); /* ours: O_EXCL created it */
		goto out;
	}
	sync_parent_dir(key_path);
	if (buf_append(txt, value.data, value.len) < 0) {
		buf_printf(err, "no room for the TXT record");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	buf_free(&pem);
	buf_free(&value);
	ERR_clear_error();
	return rc;
}
