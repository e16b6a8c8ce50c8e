/*
 * dkim.h - DKIM signatures (RFC 6376; RFC 8463 for Ed25519) with OpenSSL.
 *
 * A signer is made once from the [dkim] configuration and signs many
 * messages: rsa-sha256 for an RSA key, ed25519-sha256 for an Ed25519 key
 * (the key type is read from the PEM file). Signed headers: From, To,
 * Subject, Date, Message-ID, MIME-Version, Content-Type, List-Id,
 * List-Unsubscribe, List-Unsubscribe-Post (RFC 8058 section 4 requires the
 * last two to be signed). Canonicalisation relaxed/relaxed.
 *
 * TRUST: signs messages composed by mail/compose.c; the key file is the
 * operator's (refused when readable by others).
 */
#ifndef LK_MAIL_DKIM_H
#define LK_MAIL_DKIM_H

#include <stddef.h>

#include "core/buf.h"

struct dkim_signer;

/* Loads the key. Returns NULL with the reason in err. */
struct dkim_signer *dkim_signer_new(const char *key_file, const char *selector, const char *domain,
				    struct buf *err);
void dkim_signer_free(struct dkim_signer *s);
/* Appends "DKIM-Signature: ...\r\n" (folded) for msg (CRLF line ends) to out.
 * Returns 0 or -1 with the reason in err. Thread-compatible: one signer per
 * thread. Not named dkim_sign: libopendkim exports that symbol. */
int dkim_signer_sign(struct dkim_signer *s, const char *msg, size_t len, struct buf *out,
		     struct buf *err);

/* The key types of dkim_keygen: "rsa" (2048 bits), "ed25519" (RFC 8463).
 * dkim_key_type_parse: 0 and *out, or -1 for another name (or NULL). */
enum dkim_key_type { DKIM_KEY_RSA = 0, DKIM_KEY_ED25519 };
const char *dkim_key_type_name(enum dkim_key_type t);
int dkim_key_type_parse(const char *z, enum dkim_key_type *out);

/* Why dkim_keygen failed, decided where it happened (STYLE.md section 10):
 * the caller picks its exit status from it, not from the message. */
enum dkim_keygen_fail {
	DKIM_KEYGEN_BAD_TYPE,	/* type is not a dkim_key_type name */
	DKIM_KEYGEN_EXISTS,	/* key_path exists (a key is never overwritten) */
	DKIM_KEYGEN_CANTCREATE, /* key_path cannot be created */
	DKIM_KEYGEN_IOERR,	/* writing or syncing it failed (it is removed) */
	DKIM_KEYGEN_CRYPTO,	/* the key could not be made or encoded */
};

/* Generates a key of type (a dkim_key_type name); writes the private key
 * PEM to key_path (mode 0600, never overwriting) and appends the DNS TXT
 * record value ("v=DKIM1; k=rsa; p=...") to txt. Returns 0, or -1 with the
 * reason in err and, when why is not NULL, its kind in *why. */
int dkim_keygen(const char *type, const char *key_path, struct buf *txt, struct buf *err,
		enum dkim_keygen_fail *why);

#endif
