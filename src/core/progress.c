/*
 * progress.c - terminal progress display.
 *
 * TRUST: no outside input.
 */
#include "core/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xmalloc.h"

struct progress {
	char *label;
	uint64_t total;
	double start;
	double last;
	int tty;
};

struct progress *progress_new(const char *label, uint64_t total)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->total = total;
	p->start = p->last = clock_mono_s();
	p->tty = isatty(STDERR_FILENO);
	return p;
}

static void draw(struct progress *p, uint64_t done, int final)
{
	double el = clock_mono_s() - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	fprintf(stderr, "\r\033[K%s: %llu", p->label, (unsigned long long)done);
	if (p->total) {
		fprintf(stderr, "/%llu (%.0f%%)", (unsigned long long)p->total,
			100.0 * (double)done / (double)p->total);
	}
	fprintf(stderr, ", %.0f/s", rate);
	if (!final && p->total && rate > 0 && done < p->total)
		fprintf(stderr, ", %.0fs left", (double)(p->total - done) / rate);
	if (final)
		fprintf(stderr, ", %.1fs\n", el);
	fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
	if (!p->tty)
		return;
	double t = clock_mono_s();
	if (t - p->last < 0.1)
		return;
	p->last = t;
	draw(p, done, 0);
}

void progress_finish(struct progress *p, uint64_t done)
{
	if (p == NULL)
		return;
	if (p->tty)
		draw(p, done, 1);
	free(p->label);
	free(p);
}
