/*
 * tmpl.h - templates that escape by default (a small subset of Mustache).
 *
 * Syntax (docs/templates.md has the full description):
 *   {{name}}            the value, HTML-escaped by core/html.h (& < > " ' :
 *                       safe in element content and in quoted attributes)
 *   {{{name}}}          the value as it is: raw output is asked for by name,
 *                       and only this way ({{&name}} is refused)
 *   {{#name}}..{{/name}} a section: shown once when name is a non-empty
 *                       value, once per item when name is a list (each
 *                       item's values first, then the outer ones), not at all
 *                       when name is missing, empty or an empty list
 *   {{^name}}..{{/name}} the opposite: shown only when name is missing, empty
 *                       or an empty list
 *   {{> file}}          includes another template of the set (a shared layout
 *                       is a header and a footer included by each page)
 *   {{! comment }}      nothing
 * A missing value is empty. A tag alone on its line (sections, includes,
 * comments) takes its line with it, so that plain-text mails come out as
 * written. Names are 1..LK_TMPL_MAX_NAME of [A-Za-z0-9_.-].
 *
 * Modes: a template whose name ends in ".txt" or ".css" renders in text mode
 * (nothing is escaped: plain-text mails); every other name renders in HTML
 * mode. An include renders in the mode of the template that was asked for.
 *
 *   struct tmpl_vars   the values: strings and lists of items (each item a
 *                      struct tmpl_vars of its own); copies what it is given
 *   struct tmpl_set    named templates, parsed once (built-ins, then the
 *                      files of a folder that override them one by one:
 *                      tmpl_set_load_conf); read-only once loaded, so
 *                      threads may share it
 *
 * TRUST: template text is untrusted (an admin's folder, the fuzzer): it is
 * parsed with bounds (LK_MAX_TEMPLATE bytes, LK_TMPL_MAX_NESTING sections
 * open at once, UTF-8 only) and every error names the template and the line;
 * rendering bounds include depth (LK_TMPL_MAX_INCLUDES), work
 * (LK_TMPL_MAX_STEPS) and output (the out buffer's max). Values are untrusted
 * and are escaped in HTML mode unless the template asks for them raw.
 */
#ifndef LK_CORE_TMPL_H
#define LK_CORE_TMPL_H

#include <stddef.h>

#include "core/buf.h"

struct conf;
struct tmpl_vars;
struct tmpl_set;

/* --- values --- */

struct tmpl_vars *tmpl_vars_new(void);
/* Wipes and frees the values and every item; NULL does nothing. */
void tmpl_vars_free(struct tmpl_vars *v);
/* Sets key to a copy of the NUL-terminated z (NULL: ""), replacing a value
 * or list of that key. */
void tmpl_put(struct tmpl_vars *v, const char *key, const char *z);
void tmpl_putn(struct tmpl_vars *v, const char *key, const char *p, size_t len);
void tmpl_put_int(struct tmpl_vars *v, const char *key, long long n);
/* A flag for sections: "1" when on, "" when off. */
void tmpl_put_bool(struct tmpl_vars *v, const char *key, int on);
/* Makes key a list (an empty one, if nothing is added) and returns it. */
void tmpl_put_list(struct tmpl_vars *v, const char *key);
/* Appends a new item to the list key (made a list first if it is not one)
 * and returns it; v owns it. */
struct tmpl_vars *tmpl_add_item(struct tmpl_vars *v, const char *key);

/* --- templates --- */

struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *s);
/* Parses len bytes of text as the template name (replacing one of that
 * name). origin names it in error messages ("built-in index.html", a path).
 * Returns 0, or -1 with "ORIGIN:LINE: what is wrong" appended to err (the
 * set unchanged). */
int tmpl_set_add(struct tmpl_set *s, const char *name, const char *text, size_t len,
		 const char *origin, struct buf *err);
/* Adds every file of dir whose name ends in .html, .txt or .css (and is a
 * valid template name; other files are ignored), replacing the templates of
 * the same name: a folder overrides the built-ins file by file. Returns 0,
 * or -1 with the first error in err (files before it stay added). */
int tmpl_set_load_dir(struct tmpl_set *s, const char *dir, struct buf *err);
/* The templates of templates/ in the source tree, compiled in by CMake
 * (cmake/embed.cmake); the last entry's name is NULL. Files named *.json
 * (templates/openapi.json) are among them but are no templates: they are
 * served as they are, and tmpl_set_add_builtins skips them. */
struct tmpl_builtin {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct tmpl_builtin tmpl_builtins[];
/* Adds the built-in templates. Returns 0, or -1 with the error in err (a
 * broken built-in: a bug that the unit tests catch). */
int tmpl_set_add_builtins(struct tmpl_set *s, struct buf *err);
/* The site's templates: the built-ins, overridden file by file by the
 * folder of [web] templates when it is set, and checked (tmpl_set_check).
 * The one set that the web pages and every mail (confirmation, welcome,
 * goodbye, from the web, the command line and email commands) are rendered
 * from; each role or command loads it once and shares it read-only.
 * Returns NULL with the reason in err ("FILE:LINE: ...", naming [web]
 * templates): a configuration error for the operator to fix. */
struct tmpl_set *tmpl_set_load_conf(const struct conf *conf, struct buf *err);
/* 1 if the set holds name. */
int tmpl_set_has(const struct tmpl_set *s, const char *name);
/* Checks that every include names a template of the set. Returns 0, or -1
 * with "ORIGIN:LINE: ..." in err. */
int tmpl_set_check(const struct tmpl_set *s, struct buf *err);

/* Renders template name with values v (may be NULL) and appends it to out.
 * Returns 0, or -1 with the reason in err ("ORIGIN:LINE: ..."; an unknown
 * template, includes too deep, too much work, or out->max passed); out then
 * holds a partial result that the caller throws away. Thread-safe for a set
 * that is no longer changed. */
int tmpl_render(const struct tmpl_set *s, const char *name, const struct tmpl_vars *v,
		struct buf *out, struct buf *err);

#endif
