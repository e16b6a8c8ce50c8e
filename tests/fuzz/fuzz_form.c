/*
 * fuzz_form.c - libFuzzer driver for the form decoder (web/form.c).
 *
 * The first byte picks the Content-Type the rest is decoded under:
 * urlencoded, multipart with boundary "XyZ", or the Content-Type given on
 * the input's first line (up to the first LF) for the rest. Whatever
 * decodes must keep the decoder's promises: at most LK_HTTP_MAX_FIELDS
 * fields, names non-empty and within LK_HTTP_MAX_FIELD_NAME, values within
 * LK_HTTP_MAX_FIELD_VALUE, no NUL inside either; form_get finds the first
 * of each name. Seeds: corpus/fuzz_form/.
 *
 * TRUST: the whole input is untrusted; the body is copied to an exact-size
 * heap block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "web/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 2 * LK_HTTP_MAX_BODY)
		return 0;
	const char *ctype;
	char ctbuf[256];
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	switch (data[0] % 3) {
	case 0:
		ctype = "application/x-www-form-urlencoded";
		break;
	case 1:
		ctype = "multipart/form-data; boundary=XyZ";
		break;
	default: {
		const uint8_t *lf = memchr(p, '\n', len);
		size_t n = lf != NULL ? (size_t)(lf - p) : 0;
		if (lf == NULL || n >= sizeof(ctbuf) || memchr(p, '\0', n) != NULL)
			return 0;
		memcpy(ctbuf, p, n);
		ctbuf[n] = '\0';
		ctype = ctbuf;
		p += n + 1;
		len -= n + 1;
	}
	}
	char *body = malloc(len ? len : 1);
	if (body == NULL)
		abort();
	if (len)
		memcpy(body, p, len);
	struct form *f = form_new();
	enum form_status st = form_parse(f, ctype, body, len);
	if (st < FORM_UNSUPPORTED || st > FORM_OK)
		abort();
	if (st == FORM_OK) {
		if (form_len(f) > LK_HTTP_MAX_FIELDS)
			abort();
		for (size_t i = 0; i < form_len(f); i++) {
			const char *n = form_name(f, i), *v = form_value(f, i);
			size_t nl = strlen(n), vl = strlen(v);
			if (nl == 0 || nl > LK_HTTP_MAX_FIELD_NAME || vl > LK_HTTP_MAX_FIELD_VALUE)
				abort();
			const char *first = form_get(f, n);
			if (first == NULL || form_count(f, n) == 0)
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(form_name(f, j), n) == 0) {
					if (first != form_value(f, j))
						abort();
					break;
				}
		}
	}
	form_free(f);
	free(body);
	return 0;
}
