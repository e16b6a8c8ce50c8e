/*
 * form.h - a decoder for HTML form bodies (our own, bounded).
 *
 *   form_new / form_free   an empty form; free wipes every decoded value
 *   form_parse             decode a body by its Content-Type:
 *                            application/x-www-form-urlencoded (WHATWG URL
 *                            "application/x-www-form-urlencoded parser",
 *                            stricter: a stray '%' is refused, not kept)
 *                            multipart/form-data (RFC 7578), small text
 *                            fields only: a part with a filename is refused
 *   form_parse_urlencoded, form_parse_multipart   the two decoders alone
 *   form_len / form_name / form_value   the fields in body order
 *   form_get / form_count  the first value of a name / how many times it came
 *
 * Duplicate names are kept, in order (a checkbox group sends one name many
 * times). Every name and value is valid UTF-8 without NUL bytes; otherwise
 * the whole body is refused.
 *
 * TRUST: the body and the Content-Type are untrusted. The decoders read
 * exactly len bytes, never rely on a trailing NUL, and check the bounds of
 * core/limits.h (LK_HTTP_MAX_FIELDS, LK_HTTP_MAX_FIELD_NAME,
 * LK_HTTP_MAX_FIELD_VALUE, LK_HTTP_MAX_PART_HEADERS) before allocating. The
 * caller bounds the body itself (LK_HTTP_MAX_BODY).
 */
#ifndef LK_WEB_FORM_H
#define LK_WEB_FORM_H

#include <stddef.h>

enum form_status {
	FORM_OK = 0,
	FORM_MALFORMED = -1,   /* bad encoding, bad UTF-8, NUL, broken multipart */
	FORM_TOO_BIG = -2,     /* too many fields, or a name or value too long */
	FORM_UNSUPPORTED = -3, /* another Content-Type, or none, or a file upload */
};

struct form;

/* A new empty form (never NULL: out of memory aborts). */
struct form *form_new(void);
/* Wipes and frees; NULL does nothing. */
void form_free(struct form *f);

/* Decodes body (len bytes) according to content_type_z (the request's
 * Content-Type header, NULL if it had none) and appends the fields to f. On
 * an error f holds what was decoded before it; the caller drops the form. */
enum form_status form_parse(struct form *f, const char *content_type_z, const char *body,
			    size_t len);
enum form_status form_parse_urlencoded(struct form *f, const char *p, size_t len);
/* boundary is the Content-Type's boundary parameter (1-70 bytes, RFC 2046
 * section 5.1.1), without the leading "--". */
enum form_status form_parse_multipart(struct form *f, const char *boundary, size_t blen,
				      const char *p, size_t len);

/* The number of fields. */
size_t form_len(const struct form *f);
/* Field i (< form_len): name and value, NUL-terminated, owned by f. */
const char *form_name(const struct form *f, size_t i);
const char *form_value(const struct form *f, size_t i);
/* The first value given for name, or NULL. Owned by f. */
const char *form_get(const struct form *f, const char *name_z);
/* How many fields are called name. */
size_t form_count(const struct form *f, const char *name_z);

const char *form_status_name(enum form_status s);

#endif
