/*
 * test_dkim.c - DKIM keys and signatures, checked by an independent verifier.
 *
 * For RSA and Ed25519 keys made by dkim_keygen: the key file is 0600 and the
 * TXT value's p= is the key's public half (recomputed with OpenSSL); a
 * realistic multipart announcement with one-click unsubscribe headers is
 * signed and then verified by libopendkim's verifier, which reads the TXT
 * value from a file (DKIM_QUERY_FILE) instead of the DNS. Changing one body
 * byte, the Subject, or adding a second Subject or List-Unsubscribe field
 * makes verification fail; List-Unsubscribe and List-Unsubscribe-Post are in
 * h= (RFC 8058 section 4), each oversigned. Messages with awkward white
 * space, folding, trailing empty lines, no body or repeated fields verify
 * too (RFC 6376 section 3.4). The verifier itself is checked first against
 * the ed25519-sha256 example of RFC 8463 appendix A, so that "verifies"
 * means "as RFC 8463 says". Both signers are dkim.c's own (OpenSSL), so
 * signer and verifier are two implementations.
 *
 * Refused: a key file readable by group or others, a missing, encrypted or
 * non-key file, bad selectors and domains, a message with a bare LF, without
 * a final CRLF, without From, or with a header line that is no field;
 * overwriting a key (also through a symlink), an unknown key type.
 *
 * Runs in tests/mail; temporary files go to a fresh directory under $TMPDIR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dkim.h> /* libopendkim: the verifier */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "mail/dkim.h"

#define DOMAIN "lists.example.org"

/* A campaign as compose.c will write it: multipart/alternative, one-click
 * unsubscribe, a quoted-printable text part and an HTML part. */
#define MSG_HEADERS                                                                                \
	"From: Example News <news@lists.example.org>\r\n"                                          \
	"To: Ada Lovelace <ada@example.net>\r\n"                                                   \
	"Subject: Autumn meeting: programme and registration\r\n"                                  \
	"Date: Mon, 23 Nov 2026 13:00:00 +0000\r\n"                                                \
	"Message-ID: <20261123130000.4f2a9c@lists.example.org>\r\n"                                \
	"MIME-Version: 1.0\r\n"                                                                    \
	"List-Id: Example News <news.lists.example.org>\r\n"                                       \
	"List-Unsubscribe: <https://lists.example.org/u/9sd8F7gH6jK5lZ4xC3vB2nM1qW0eR>,\r\n"       \
	" <mailto:news-unsubscribe+9sd8F7gH6jK5lZ4xC3vB2nM1qW0eR@lists.example.org>\r\n"           \
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"                                    \
	"List-Help: <https://lists.example.org/news>\r\n"                                          \
	"Content-Type: multipart/alternative; boundary=\"=_lk_7d3c1f\"\r\n"

#define MSG_BODY                                                                                   \
	"\r\n"                                                                                     \
	"This is a message in MIME format.\r\n"                                                    \
	"\r\n"                                                                                     \
	"--=_lk_7d3c1f\r\n"                                                                        \
	"Content-Type: text/plain; charset=utf-8\r\n"                                              \
	"Content-Transfer-Encoding: quoted-printable\r\n"                                          \
	"\r\n"                                                                                     \
	"Hello Ada,\r\n"                                                                           \
	"\r\n"                                                                                     \
	"the autumn meeting takes place on 5 December in the caf=C3=A9 of the\r\n"                 \
	"library. Doors open at 18:00.   Trailing blanks follow:   \r\n"                           \
	"\r\n"                                                                                     \
	"-- \r\n"                                                                                  \
	"You receive this because you subscribed to Example News.\r\n"                             \
	"Unsubscribe: https://lists.example.org/u/9sd8F7gH6jK5lZ4xC3vB2nM1qW0eR\r\n"               \
	"Preferences: https://lists.example.org/p/9sd8F7gH6jK5lZ4xC3vB2nM1qW0eR\r\n"               \
	"Example Society, 1 High Street, Exampleton\r\n"                                           \
	"\r\n"                                                                                     \
	"--=_lk_7d3c1f\r\n"                                                                        \
	"Content-Type: text/html; charset=utf-8\r\n"                                               \
	"Content-Transfer-Encoding: quoted-printable\r\n"                                          \
	"\r\n"                                                                                     \
	"<!DOCTYPE html><html><body><p>Hello Ada,</p>\r\n"                                         \
	"<p>the autumn meeting takes place on 5 December in the caf=C3=A9 of the\r\n"              \
	"library. Doors open at 18:00.</p>\r\n"                                                    \
	"<hr><p><a href=3D\"https://lists.example.org/u/9sd8F7gH6jK5lZ4xC3vB2nM1qW0eR\">=\r\n"     \
	"Unsubscribe</a> &middot; <a href=3D\"https://lists.example.org/p/9sd8F7gH6jK5lZ4x=\r\n"   \
	"C3vB2nM1qW0eR\">Preferences</a><br>Example Society, 1 High Street, Exampleton</p>=\r\n"   \
	"</body></html>\r\n"                                                                       \
	"\r\n"                                                                                     \
	"--=_lk_7d3c1f--\r\n"

static const char MSG[] = MSG_HEADERS MSG_BODY;

/* Messages that exercise canonicalisation (RFC 6376 section 3.4): runs of
 * blanks and tabs, blanks at line ends, folded fields, blank-only and
 * trailing empty lines, no body, missing fields
 * that are then signed as absent, upper and lower case field names. */
static const char *const EDGE[] = {
    "From:   Example  News\t<news@lists.example.org>   \r\n"
    "to: ada@example.net,\r\n\t  bob@example.net\r\n"
    "SUBJECT:\tTabs\t\tand  spaces  \r\n"
    "Date: Mon, 23 Nov 2026 13:00:00 +0000\r\n"
    "\r\n"
    "  leading blanks stay one blank\r\n"
    "inner \t\t runs\tshrink   \r\n"
    " \t \r\n"
    "\r\n"
    "text after blank-only lines\r\n"
    "\r\n"
    "   \r\n"
    "\r\n",
    "From: news@lists.example.org\r\nSubject: no body\r\n\r\n",
    "From: news@lists.example.org\r\nSubject: headers only\r\n",
    "From: news@lists.example.org\r\nSubject: empty lines only\r\n\r\n\r\n\r\n",
    /* parenthesised: one element in two literals (clang's -Wstring-concatenation) */
    ("From: a@lists.example.org\r\nFrom: b@lists.example.org\r\nTo: x@example.net\r\n"
     "To: y@example.net\r\nSubject: two of each\r\n\r\nbody\r\n"),
};

/* RFC 8463 appendix A: the key, its DNS record and the signed example. */
static const char RFC8463_KEYS[] = "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
				   "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n";
static const char RFC8463_MSG[] = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
				  " d=football.example.com; i=@football.example.com;\r\n"
				  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
				  " subject : date : message-id : from : subject : date;\r\n"
				  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
				  " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
				  " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
				  "From: Joe SixPack <joe@football.example.com>\r\n"
				  "To: Suzie Q <suzie@shopping.example.net>\r\n"
				  "Subject: Is dinner ready?\r\n"
				  "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
				  "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
				  "\r\n"
				  "Hi.\r\n"
				  "\r\n"
				  "We lost the game.  Are you hungry yet?\r\n"
				  "\r\n"
				  "Joe.\r\n";

static char dir[256];

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	if (bsnprintf(dir, sizeof(dir), "%s/lk-dkim-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
	    mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	if (bsnprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= 0)
		(void)system(cmd);
	return 0;
}

static void path(char *out, size_t cap, const char *name)
{
	assert_true(bsnprintf(out, cap, "%s/%s", dir, name) >= 0);
}

static void write_file(const char *p, const char *text)
{
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* libopendkim's verifier, with the key records read from keys_file. Returns
 * the dkim_eom() status: DKIM_STAT_OK only when a signature verified. */
static DKIM_STAT verify(const char *keys_file, const char *msg, size_t len)
{
	DKIM_STAT st;
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	assert_non_null(lib);
	dkim_query_t qm = DKIM_QUERY_FILE;
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm, sizeof(qm)),
			 DKIM_STAT_OK);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, (void *)keys_file,
				      strlen(keys_file)),
			 DKIM_STAT_OK);
	DKIM *d = dkim_verify(lib, (const unsigned char *)"test", NULL, &st);
	assert_non_null(d);
	st = dkim_chunk(d, (u_char *)msg, len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(d, NULL);
	if (st == DKIM_STAT_OK) {
		/* Belt and braces: the one signature passed, body hash included. */
		DKIM_SIGINFO *sig = dkim_getsignature(d);
		assert_non_null(sig);
		assert_true(DKIM_SIG_CHECK(sig));
	}
	dkim_free(d);
	dkim_close(lib);
	return st;
}

/* The value of tag t= in a DKIM-Signature field, folding white space removed. */
static void tag_value(const char *field, const char *tag, char *out, size_t cap)
{
	size_t tl = strlen(tag), o = 0;
	const char *p = field;
	out[0] = '\0';
	while ((p = strstr(p, tag)) != NULL) {
		if ((p == field || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ';') && p[tl] == '=')
			break;
		p++;
	}
	assert_non_null(p);
	for (p += tl + 1; *p && *p != ';' && o + 1 < cap; p++)
		if (!isspace((unsigned char)*p))
			out[o++] = (char)tolower((unsigned char)*p);
	out[o] = '\0';
}

/* 1 if name occurs in the colon-separated list exactly n times. */
static int count_in_list(const char *list, const char *name)
{
	int n = 0;
	size_t nl = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ':');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == nl && strncmp(p, name, nl) == 0)
			n++;
		p += l + (e != NULL);
	}
	return n;
}

/* The public half of the key in pem_file, in the TXT record's p= form. */
static void expected_p(const char *pem_file, int rsa, struct buf *out)
{
	FILE *fp = fopen(pem_file, "r");
	assert_non_null(fp);
	EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	unsigned char raw[32], *der = NULL, b64[1024];
	size_t n = sizeof(raw);
	int m;
	if (rsa) {
		assert_int_equal(EVP_PKEY_base_id(k), EVP_PKEY_RSA);
		assert_int_equal(EVP_PKEY_bits(k), 2048);
		int dl = i2d_PUBKEY(k, &der);
		assert_true(dl > 0 && dl < 700);
		m = EVP_EncodeBlock(b64, der, dl);
		OPENSSL_free(der);
	} else {
		assert_int_equal(EVP_PKEY_base_id(k), EVP_PKEY_ED25519);
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &n), 1);
		assert_int_equal(n, 32);
		m = EVP_EncodeBlock(b64, raw, (int)n);
	}
	EVP_PKEY_free(k);
	buf_append(out, b64, (size_t)m);
}

static void test_rfc8463_vector_verifies(void **state)
{
	(void)state;
	char keys[512];
	path(keys, sizeof(keys), "rfc8463.keys");
	write_file(keys, RFC8463_KEYS);
	assert_int_equal(verify(keys, RFC8463_MSG, strlen(RFC8463_MSG)), DKIM_STAT_OK);

	char *bad = strdup(RFC8463_MSG);
	char *p = strstr(bad, "hungry");
	p[0] = 'H';
	assert_int_equal(verify(keys, bad, strlen(bad)), DKIM_STAT_BADSIG);
	free(bad);
}

/* Keygen, sign and verify one algorithm end to end. */
static void sign_and_verify(const char *type, const char *selector, const char *alg)
{
	int rsa = strcmp(type, "rsa") == 0;
	char key[512], keys[512], name[64];
	bsnprintf(name, sizeof(name), "%s.pem", selector);
	path(key, sizeof(key), name);
	bsnprintf(name, sizeof(name), "%s.keys", selector);
	path(keys, sizeof(keys), name);

	struct buf txt, err, sig, msg, want;
	buf_init(&txt, 4096);
	buf_init(&err, 4096);
	buf_init(&sig, 8192);
	buf_init(&msg, 1 << 20);
	buf_init(&want, 4096);

	/* The key: 0600, and the TXT value publishes its public half. */
	assert_int_equal(dkim_keygen(type, key, &txt, &err, NULL), 0);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	buf_printf(&want, "v=DKIM1; k=%s; p=", type);
	expected_p(key, rsa, &want);
	assert_string_equal(buf_cstr(&txt), buf_cstr(&want));
	if (!rsa)
		assert_int_equal(strlen(strstr(buf_cstr(&txt), "p=") + 2), 44);

	/* The record as the verifier will find it. */
	buf_reset(&want);
	buf_printf(&want, "%s._domainkey.%s %s\n", selector, DOMAIN, buf_cstr(&txt));
	write_file(keys, buf_cstr(&want));

	struct dkim_signer *s = dkim_signer_new(key, selector, DOMAIN, &err);
	if (s == NULL)
		fail_msg("dkim_signer_new: %s", buf_cstr(&err));
	if (dkim_signer_sign(s, MSG, sizeof(MSG) - 1, &sig, &err) < 0)
		fail_msg("dkim_signer_sign: %s", buf_cstr(&err));

	/* One field, CRLF only, no line over 78 octets, the right tags. */
	const char *z = buf_cstr(&sig);
	assert_int_equal(strncmp(z, "DKIM-Signature: v=1; ", 21), 0);
	assert_int_equal(strcmp(z + sig.len - 2, "\r\n"), 0);
	for (size_t i = 0, col = 0; i < sig.len; i++, col++) {
		if (z[i] == '\r')
			assert_true(i + 1 < sig.len && z[i + 1] == '\n');
		if (z[i] == '\n') {
			assert_true(i > 0 && z[i - 1] == '\r');
			assert_true(col <= 79);
			col = (size_t)-1;
			if (i + 1 < sig.len)
				assert_true(z[i + 1] == ' ' || z[i + 1] == '\t');
		}
	}
	char v[1024];
	tag_value(z, "a", v, sizeof(v));
	assert_string_equal(v, alg);
	tag_value(z, "c", v, sizeof(v));
	assert_string_equal(v, "relaxed/relaxed");
	tag_value(z, "d", v, sizeof(v));
	assert_string_equal(v, DOMAIN);
	tag_value(z, "s", v, sizeof(v));
	assert_string_equal(v, selector);
	assert_null(strstr(z, " l=")); /* no body length limit */
	/* h=: every field of dkim.h, each oversigned (once more than present). */
	tag_value(z, "h", v, sizeof(v));
	static const char *const names[] = {"from",
					    "to",
					    "subject",
					    "date",
					    "message-id",
					    "mime-version",
					    "content-type",
					    "list-id",
					    "list-unsubscribe",
					    "list-unsubscribe-post"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (count_in_list(v, names[i]) != 2)
			fail_msg("h=%s: %s appears %d times, want 2", v, names[i],
				 count_in_list(v, names[i]));
	assert_int_equal(count_in_list(v, "list-help"), 0);

	/* Verifies as sent. */
	buf_append(&msg, sig.data, sig.len);
	buf_append(&msg, MSG, sizeof(MSG) - 1);
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_OK);

	/* One body byte changed: "Hello Ada" -> "Hello Adb". */
	char *p = strstr(msg.data, "Hello Ada,\r\n\r\nthe autumn");
	assert_non_null(p);
	p[8] = 'b';
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_BADSIG);
	p[8] = 'a';
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_OK);

	/* The Subject changed. */
	p = strstr(msg.data, "Subject: Autumn");
	assert_non_null(p);
	p[9] = 'a';
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_BADSIG);
	p[9] = 'A';

	/* A second Subject or List-Unsubscribe added anywhere (oversigning). */
	static const char *const extra[] = {
	    "Subject: Urgent: confirm your password\r\n",
	    "List-Unsubscribe: <https://evil.example/u>\r\n",
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		struct buf m2;
		buf_init(&m2, 1 << 20);
		buf_append(&m2, sig.data, sig.len);
		buf_puts(&m2, extra[i]);
		buf_append(&m2, MSG, sizeof(MSG) - 1);
		assert_int_equal(verify(keys, m2.data, m2.len), DKIM_STAT_BADSIG);
		buf_free(&m2);
	}

	/* Relaxed canonicalisation: refolded headers and changed header case
	 * still verify (what relays are allowed to do). */
	buf_reset(&msg);
	buf_append(&msg, sig.data, sig.len);
	buf_puts(&msg, "subject:   Autumn meeting:\r\n\tprogramme and registration\r\n");
	const char *after = strstr(MSG, "Date: ");
	const char *before = strstr(MSG, "Subject: ");
	buf_append(&msg, MSG, (size_t)(before - MSG));
	buf_append(&msg, after, strlen(after));
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_OK);

	/* Canonicalisation edge cases verify too. */
	for (size_t i = 0; i < sizeof(EDGE) / sizeof(EDGE[0]); i++) {
		buf_reset(&msg);
		if (dkim_signer_sign(s, EDGE[i], strlen(EDGE[i]), &msg, &err) < 0)
			fail_msg("edge %zu: %s", i, buf_cstr(&err));
		buf_puts(&msg, EDGE[i]);
		if (verify(keys, msg.data, msg.len) != DKIM_STAT_OK)
			fail_msg("edge %zu does not verify:\n%s", i, buf_cstr(&msg));
	}
	/* Absent fields are signed as absent: adding one breaks the signature. */
	buf_reset(&msg);
	assert_int_equal(dkim_signer_sign(s, EDGE[1], strlen(EDGE[1]), &msg, &err), 0);
	tag_value(msg.data, "h", v, sizeof(v));
	assert_int_equal(count_in_list(v, "from"), 2);
	assert_int_equal(count_in_list(v, "list-unsubscribe"), 1);
	buf_puts(&msg, "List-Unsubscribe: <https://evil.example/u>\r\n");
	buf_puts(&msg, EDGE[1]);
	assert_int_equal(verify(keys, msg.data, msg.len), DKIM_STAT_BADSIG);
	/* Two From fields: both signed, plus one. */
	buf_reset(&msg);
	assert_int_equal(dkim_signer_sign(s, EDGE[4], strlen(EDGE[4]), &msg, &err), 0);
	tag_value(msg.data, "h", v, sizeof(v));
	assert_int_equal(count_in_list(v, "from"), 3);
	assert_int_equal(count_in_list(v, "to"), 3);

	/* No From field: refused (RFC 6376 section 5.4). */
	static const char nofrom[] = "Subject: x\r\n\r\nbody\r\n";
	buf_reset(&msg);
	buf_reset(&err);
	assert_int_equal(dkim_signer_sign(s, nofrom, sizeof(nofrom) - 1, &msg, &err), -1);
	assert_true(err.len > 0);
	assert_int_equal(msg.len, 0);

	/* The signer is reusable: a second message, signed appended to out. */
	buf_reset(&sig);
	buf_puts(&sig, "X-Before: 1\r\n");
	assert_int_equal(dkim_signer_sign(s, MSG, sizeof(MSG) - 1, &sig, &err), 0);
	assert_int_equal(strncmp(sig.data, "X-Before: 1\r\nDKIM-Signature: ", 29), 0);

	dkim_signer_free(s);
	buf_free(&txt);
	buf_free(&err);
	buf_free(&sig);
	buf_free(&msg);
	buf_free(&want);
}

static void test_rsa(void **state)
{
	(void)state;
	sign_and_verify("rsa", "rsa2026", "rsa-sha256");
}

static void test_ed25519(void **state)
{
	(void)state;
	sign_and_verify("ed25519", "ed2026", "ed25519-sha256");
}

static void test_key_file_mode(void **state)
{
	(void)state;
	char key[512];
	struct buf txt, err;
	buf_init(&txt, 4096);
	buf_init(&err, 4096);
	path(key, sizeof(key), "mode.pem");
	assert_int_equal(dkim_keygen("ed25519", key, &txt, &err, NULL), 0);

	static const mode_t modes[] = {0644, 0640, 0604, 0620};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(key, modes[i]), 0);
		buf_reset(&err);
		struct dkim_signer *s = dkim_signer_new(key, "sel", DOMAIN, &err);
		assert_null(s);
		assert_non_null(strstr(buf_cstr(&err), "chmod 600"));
	}
	assert_int_equal(chmod(key, 0400), 0);
	struct dkim_signer *s = dkim_signer_new(key, "sel", DOMAIN, &err);
	assert_non_null(s);
	dkim_signer_free(s);
	dkim_signer_free(NULL);
	buf_free(&txt);
	buf_free(&err);
}

static void test_keygen_refusals(void **state)
{
	(void)state;
	char key[512];
	struct buf txt, err;
	buf_init(&txt, 4096);
	buf_init(&err, 4096);
	path(key, sizeof(key), "once.pem");
	assert_int_equal(dkim_keygen("rsa", key, &txt, &err, NULL), 0);
	struct stat before, after;
	assert_int_equal(stat(key, &before), 0);

	/* Never overwritten, whatever the type; txt untouched on failure. */
	buf_reset(&txt);
	assert_int_equal(dkim_keygen("ed25519", key, &txt, &err, NULL), -1);
	assert_non_null(strstr(buf_cstr(&err), "already exists"));
	assert_int_equal(txt.len, 0);
	assert_int_equal(stat(key, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_ino, after.st_ino);

	/* Nor through a symlink. */
	char link_path[512], target[512];
	path(link_path, sizeof(link_path), "link.pem");
	path(target, sizeof(target), "target.pem");
	assert_int_equal(symlink(target, link_path), 0);
	buf_reset(&err);
	assert_int_equal(dkim_keygen("ed25519", link_path, &txt, &err, NULL), -1);
	assert_int_equal(access(target, F_OK), -1);

	buf_reset(&err);
	assert_int_equal(dkim_keygen("dsa", key, &txt, &err, NULL), -1);
	assert_non_null(strstr(buf_cstr(&err), "rsa or ed25519"));
	assert_int_equal(dkim_keygen(NULL, key, &txt, &err, NULL), -1);

	char nodir[512];
	path(nodir, sizeof(nodir), "no/such/dir.pem");
	assert_int_equal(dkim_keygen("ed25519", nodir, &txt, &err, NULL), -1);
	assert_int_equal(txt.len, 0);
	buf_free(&txt);
	buf_free(&err);
}

static void test_signer_refusals(void **state)
{
	(void)state;
	char key[512], junk[512], missing[512];
	struct buf txt, err, out;
	buf_init(&txt, 4096);
	buf_init(&err, 4096);
	buf_init(&out, 8192);
	path(key, sizeof(key), "ok.pem");
	path(junk, sizeof(junk), "junk.pem");
	path(missing, sizeof(missing), "missing.pem");
	assert_int_equal(dkim_keygen("ed25519", key, &txt, &err, NULL), 0);

	write_file(junk,
		   "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
	assert_int_equal(chmod(junk, 0600), 0);
	buf_reset(&err);
	assert_null(dkim_signer_new(junk, "sel", DOMAIN, &err));
	assert_non_null(strstr(buf_cstr(&err), "not an unencrypted PEM private key"));
	buf_reset(&err);
	assert_null(dkim_signer_new(missing, "sel", DOMAIN, &err));
	assert_non_null(strstr(buf_cstr(&err), "cannot open"));
	buf_reset(&err);
	assert_null(dkim_signer_new(dir, "sel", DOMAIN, &err));

	/* An encrypted key is refused, not prompted for. */
	char enc[512];
	path(enc, sizeof(enc), "enc.pem");
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &k), 1);
	FILE *fp = fopen(enc, "w");
	assert_non_null(fp);
	assert_int_equal(
	    PEM_write_PKCS8PrivateKey(fp, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)"secret"),
	    1);
	fclose(fp);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(chmod(enc, 0600), 0);
	buf_reset(&err);
	assert_null(dkim_signer_new(enc, "sel", DOMAIN, &err));

	/* Names that would not be DNS names (or would inject a header). */
	static const char *const bad[][2] = {
	    {"", DOMAIN},     {"a b", DOMAIN},	       {"sel\r\nX-Evil: 1", DOMAIN},
	    {"-sel", DOMAIN}, {"sel-", DOMAIN},	       {"a..b", DOMAIN},
	    {"sel", ""},      {"sel", "example.org."}, {"sel", "bücher.example"},
	    {"sel", "a;b=c"}, {"../x", DOMAIN},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		struct dkim_signer *s = dkim_signer_new(key, bad[i][0], bad[i][1], &err);
		if (s != NULL)
			fail_msg("accepted selector '%s' domain '%s'", bad[i][0], bad[i][1]);
		assert_true(err.len > 0);
	}
	struct dkim_signer *s = dkim_signer_new(key, "2026-a.x", "xn--bcher-kva.example", &err);
	assert_non_null(s);

	/* A bare LF is a composition bug: refused, out unchanged. */
	static const char lf[] = "From: a@lists.example.org\r\nSubject: x\n\r\nbody\r\n";
	buf_puts(&out, "kept");
	buf_reset(&err);
	assert_int_equal(dkim_signer_sign(s, lf, sizeof(lf) - 1, &out, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "bare LF"));
	assert_string_equal(buf_cstr(&out), "kept");

	/* No room in out: -1, out as it was. */
	struct buf tiny;
	buf_init(&tiny, 40);
	buf_puts(&tiny, "x");
	assert_int_equal(dkim_signer_sign(s, MSG, sizeof(MSG) - 1, &tiny, &err), -1);
	assert_string_equal(buf_cstr(&tiny), "x");
	buf_free(&tiny);

	/* A last line without CRLF (SMTP would add one after signing). */
	static const char nocrlf[] = "From: a@lists.example.org\r\n\r\nbody  ";
	buf_reset(&err);
	assert_int_equal(dkim_signer_sign(s, nocrlf, sizeof(nocrlf) - 1, &out, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "end with CRLF"));
	assert_int_equal(dkim_signer_sign(s, "", 0, &out, &err), -1);

	/* A header line that belongs to no field. */
	static const char junkhdr[] = "From: a@lists.example.org\r\nno colon here\r\n\r\nb\r\n";
	buf_reset(&err);
	assert_int_equal(dkim_signer_sign(s, junkhdr, sizeof(junkhdr) - 1, &out, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "not a field"));

	dkim_signer_free(s);
	buf_free(&txt);
	buf_free(&err);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8463_vector_verifies),
	    cmocka_unit_test(test_rsa),
	    cmocka_unit_test(test_ed25519),
	    cmocka_unit_test(test_key_file_mode),
	    cmocka_unit_test(test_keygen_refusals),
	    cmocka_unit_test(test_signer_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
