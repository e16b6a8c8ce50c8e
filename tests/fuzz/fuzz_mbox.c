/*
 * fuzz_mbox.c - libFuzzer driver for the mbox reader and writer
 * (mail/mbox.h).
 *
 * Splits the input into messages (a small out->max, so that messages too
 * large are met too), checking that line numbers only go up and the reader
 * ends; then writes every message read with mbox_write and reads that back:
 * the same messages must come out, in order, each as it was (with a line end
 * added to one that had none). Seeds: corpus/fuzz_mbox/.
 *
 * TRUST: the whole input is untrusted; it is copied to an exact-size heap
 * block so that ASan catches any read past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mbox.h"

#define MAXMSG 4096
#define MAXN 256

struct msgs {
	char *v[MAXN];
	size_t len[MAXN];
	size_t n;
};

static void read_all(const char *p, size_t len, struct msgs *m)
{
	struct mbox_reader r;
	mbox_reader_init(&r, p, len);
	struct buf out;
	buf_init(&out, MAXMSG);
	size_t line, last = 0;
	enum mbox_result res;
	m->n = 0;
	while ((res = mbox_next(&r, &out, &line)) != MBOX_END) {
		if (line < last || line == 0)
			abort();
		last = line;
		if (res == MBOX_MESSAGE && m->n < MAXN) {
			m->v[m->n] = malloc(out.len + 2);
			memcpy(m->v[m->n], out.data ? out.data : "", out.len);
			m->len[m->n] = out.len;
			if (out.len == 0 || out.data[out.len - 1] != '\n')
				m->v[m->n][m->len[m->n]++] = '\n';
			m->n++;
		}
	}
	if (r.off != len)
		abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	struct msgs a, b;
	read_all(p, size, &a);
	struct buf w;
	buf_init(&w, (size_t)MAXN * (2 * MAXMSG + 64));
	for (size_t i = 0; i < a.n; i++)
		if (mbox_write(&w, (int64_t)i * 86400, a.v[i], a.len[i]) < 0)
			abort();
	read_all(w.data ? w.data : "", w.len, &b);
	if (a.n != b.n)
		abort();
	for (size_t i = 0; i < a.n; i++) {
		if (a.len[i] != b.len[i] || memcmp(a.v[i], b.v[i], a.len[i]) != 0)
			abort();
		free(a.v[i]);
		free(b.v[i]);
	}
	buf_free(&w);
	free(p);
	return 0;
}
