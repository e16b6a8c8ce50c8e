/*
 * address.h - RFC 5321/5322 mailbox parsing and normalisation.
 *
 * address_parse takes an addr-spec ("local@domain", optionally in angle
 * brackets); mailbox_parse also takes a name-addr ("Display Name" <a@b>,
 * Name <a@b>) as people write them in a CSV file or a From header.
 *
 * Normalisation:
 *   - surrounding white space is dropped;
 *   - the domain is lower-cased; an internationalised (UTF-8) domain is
 *     converted to its A-label form with libidn2 (IDNA 2008, with the
 *     transitional/nontransitional handling of idn2_to_ascii_8z) and must be
 *     valid, e.g. "Bücher.Example" -> "xn--bcher-kva.example";
 *   - a quoted local part keeps its quotes only where they are needed
 *     ("john"@x -> john@x; "john doe"@x stays quoted);
 *   - the local part keeps its case in `addr` (RFC 5321 section 2.4) but the
 *     look-up form `key` lower-cases ASCII letters in it, so that John@x and
 *     john@x are one subscriber.
 *
 * Refused, with a message that says what is wrong: no @, empty local part or
 * domain, local part over 64 bytes, domain over 255, address over 254, a label
 * over 63, an empty label (a..b), a label that starts or ends with '-', a
 * domain without a dot, an address literal ([1.2.3.4]), characters not allowed
 * unquoted (RFC 5322 atext / dot-atom), unbalanced quotes or brackets, CR, LF
 * or NUL anywhere, a non-UTF-8 byte, and an invalid IDN.
 *
 * TRUST: sees untrusted bytes (forms, CSV, mail headers). Reads exactly len
 * bytes, never relies on a NUL; checks LK_MAX_MAILBOX before anything else.
 */
#ifndef LK_CORE_ADDRESS_H
#define LK_CORE_ADDRESS_H

#include <stddef.h>

#include "core/buf.h"

struct address {
	char *addr;    /* normalised local@domain, for delivery; owned */
	char *key;     /* the look-up form (ASCII-lower-cased local part); owned */
	char *local;   /* the local part as in addr; owned */
	char *domain;  /* A-label form, lower case; owned */
	char *display; /* the display name (unquoted, UTF-8) from a name-addr, or NULL; owned */
};

/* Returns 0 and fills out (free with address_free), or -1 with a one-line
 * reason appended to err (out is left empty). */
int address_parse(const char *p, size_t len, struct address *out, struct buf *err);
int mailbox_parse(const char *p, size_t len, struct address *out, struct buf *err);
/* Frees and wipes the fields; the struct may be reused. NULL fields are fine. */
void address_free(struct address *a);

#endif
