/*
 * buf.h - the two string types of listkeeper (STYLE.md section 4).
 *
 *   struct buf  an owning, growable byte buffer with a hard maximum size
 *               fixed at creation (curl DYNBUF, Postfix vstring). An append
 *               that would pass `max` fails, sets the sticky `err` flag and
 *               leaves the contents as they were.
 *   struct str  a borrowed view (pointer, length) into someone else's bytes;
 *               never assumed NUL-terminated.
 *
 * Ownership: a buf owns `data`; buf_free() wipes and frees it. Never keep a
 * pointer into `data` across an append: the append may move it.
 */
#ifndef LK_CORE_BUF_H
#define LK_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append; data[len] is always NUL after */
	size_t len;
	size_t cap;
	size_t max; /* the hard bound on len */
	int err;    /* sticky: set when an append was refused */
};

struct str {
	const char *ptr;
	size_t len;
};

#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
#define STR_FMT(s) (int)(s).len, (s).ptr /* for printf("%.*s", STR_FMT(s)) */

/* Prepares an empty buffer that may grow to at most `max` bytes. */
void buf_init(struct buf *b, size_t max);
/* Wipes the contents and frees them; the buffer may be reused after buf_init. */
void buf_free(struct buf *b);
/* Empties the buffer (wiping the old bytes) and clears the sticky error. */
void buf_reset(struct buf *b);
/* Appends n bytes. Returns 0, or -1 (err set, buffer unchanged) if max would be passed. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, int c);
int buf_puts(struct buf *b, const char *z);
int buf_append_str(struct buf *b, struct str s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Shortens the buffer to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* A NUL-terminated view of the contents ("" when empty); valid until the next append. */
const char *buf_cstr(const struct buf *b);
struct str buf_str(const struct buf *b);
/* Hands the allocation to the caller (NUL-terminated, never NULL) and empties b. */
char *buf_steal(struct buf *b, size_t *len);

/* Appends the whole regular file at path (opened non-blocking, so a FIFO
 * cannot hang the caller). Returns 0; 1 if path is not a regular file
 * (nothing appended); or -1 with "PATH: reason" appended to err (unreadable,
 * or past b->max: "larger than MAX bytes"). */
int buf_read_file(struct buf *b, const char *path, struct buf *err);

/* Formats into a fixed array; returns -1 if the result was truncated (OpenSMTPD bsnprintf). */
int bsnprintf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct str str_from_z(const char *z);
int str_eq(struct str a, struct str b);
int str_eq_z(struct str a, const char *z);
/* ASCII case-insensitive comparison. */
int str_eq_nocase(struct str a, struct str b);
int str_eq_nocase_z(struct str a, const char *z);
/* Removes ASCII white space (SP, HT, CR, LF) from both ends. */
struct str str_trim(struct str s);
/* Index of the first c in s, or -1. */
long str_find(struct str s, int c);
/* 1 if s holds a CR, LF or NUL byte: such bytes must never reach a header or a log. */
int str_has_ctl_line(struct str s);

#endif
