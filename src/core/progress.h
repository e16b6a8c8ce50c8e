/*
 * progress.h - a progress line for long work on a terminal.
 *
 * Drawn on stderr only when stderr is a TTY (silent for cron, pipes and
 * tests), at most ten times a second: done/total, percent, rate and ETA.
 */
#ifndef LK_CORE_PROGRESS_H
#define LK_CORE_PROGRESS_H

#include <stdint.h>

struct progress;

/* total 0 means unknown (no percent or ETA). label is copied. */
struct progress *progress_new(const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
/* Draws the final line (when on a TTY) and frees p. NULL is a no-op. */
void progress_finish(struct progress *p, uint64_t done);

#endif
