/*
 * tmpl.c - templates that escape by default (see tmpl.h).
 *
 * A template is parsed once into a flat array of nodes that point into its
 * own copy of the text; a section node knows where its body ends, so that
 * rendering walks index ranges and parsing needs no recursion. Rendering
 * recurses once per open section and per include: both bounded.
 *
 * TRUST: the template text and the values are untrusted. Parsing checks the
 * length (LK_MAX_TEMPLATE), UTF-8, every tag's form and name, the nesting
 * (LK_TMPL_MAX_NESTING) and that every section is closed by its own name;
 * rendering bounds include depth (LK_TMPL_MAX_INCLUDES), the nodes visited
 * (LK_TMPL_MAX_STEPS, so that includes cannot multiply work without output)
 * and the output (out->max). Error messages name the template's origin and
 * the line, and quote only tag names (checked characters, bounded length).
 */
#include "core/tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/html.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "core/xmalloc.h"

/* ------------------------------------------------------------------ */
/* Values.                                                             */

struct tmpl_val {
	char *key;
	int is_list;
	char *s; /* a value: NUL-terminated copy */
	size_t len;
	struct tmpl_vars **items; /* a list */
	size_t n, cap;
};

struct tmpl_vars {
	struct tmpl_val *v;
	size_t n, cap;
};

struct tmpl_vars *tmpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_vars));
}

static void val_clear(struct tmpl_val *x)
{
	if (x->s != NULL)
		xfree_wipe(x->s, x->len + 1);
	x->s = NULL;
	x->len = 0;
	for (size_t i = 0; i < x->n; i++)
		tmpl_vars_free(x->items[i]);
	free(x->items);
	x->items = NULL;
	x->n = x->cap = 0;
	x->is_list = 0;
}

void tmpl_vars_free(struct tmpl_vars *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		val_clear(&v->v[i]);
		free(v->v[i].key);
	}
	free(v->v);
	free(v);
}

/* The entry for key, created empty if there is none. */
static struct tmpl_val *slot(struct tmpl_vars *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].key, key) == 0)
			return &v->v[i];
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 16;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	struct tmpl_val *x = &v->v[v->n++];
	memset(x, 0, sizeof(*x));
	x->key = xstrdup(key);
	return x;
}

void tmpl_putn(struct tmpl_vars *v, const char *key, const char *p, size_t len)
{
	struct tmpl_val *x = slot(v, key);
	val_clear(x);
	x->len = p != NULL ? len : 0;
	x->s = xmalloc(x->len + 1);
	if (x->len)
		memcpy(x->s, p, x->len);
	x->s[x->len] = '\0';
}

void tmpl_put(struct tmpl_vars *v, const char *key, const char *z)
{
	tmpl_putn(v, key, z, z != NULL ? strlen(z) : 0);
}

void tmpl_put_int(struct tmpl_vars *v, const char *key, long long n)
{
	char tmp[32];
	bsnprintf(tmp, sizeof(tmp), "%lld", n);
	tmpl_put(v, key, tmp);
}

void tmpl_put_bool(struct tmpl_vars *v, const char *key, int on)
{
	tmpl_put(v, key, on ? "1" : "");
}

void tmpl_put_list(struct tmpl_vars *v, const char *key)
{
	struct tmpl_val *x = slot(v, key);
	if (!x->is_list) {
		val_clear(x);
		x->is_list = 1;
	}
}

struct tmpl_vars *tmpl_add_item(struct tmpl_vars *v, const char *key)
{
	tmpl_put_list(v, key);
	struct tmpl_val *x = slot(v, key);
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->items = xreallocarray(x->items, x->cap, sizeof(*x->items));
	}
	struct tmpl_vars *item = tmpl_vars_new();
	x->items[x->n++] = item;
	return item;
}

/* ------------------------------------------------------------------ */
/* Parsing.                                                            */

enum node_kind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_INCLUDE };

struct node {
	enum node_kind kind;
	unsigned line;
	const char *p; /* text, or the tag's name (not NUL-terminated) */
	size_t len;
	size_t end; /* sections: the index after the body */
};

struct tmpl {
	char *name;
	char *origin;
	char *text; /* the source; nodes point into it */
	size_t text_len;
	int text_mode;
	struct node *nodes;
	size_t n, cap;
};

struct tmpl_set {
	struct tmpl **t;
	size_t n, cap;
};

static void tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->origin);
	free(t->text);
	free(t->nodes);
	free(t);
}

static int name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static int name_valid(const char *p, size_t len)
{
	if (len == 0 || len > LK_TMPL_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)p[i]))
			return 0;
	return 1;
}

static int ends_with(const char *z, const char *suffix)
{
	size_t n = strlen(z), m = strlen(suffix);
	return n >= m && memcmp(z + n - m, suffix, m) == 0;
}

static int text_mode_name(const char *name)
{
	return ends_with(name, ".txt") || ends_with(name, ".css");
}

struct parser {
	struct tmpl *t;
	const char *origin;
	struct buf *err;
	const char *s; /* the text */
	size_t len;
	size_t pos;    /* where the line count is */
	unsigned line; /* the line of pos */
	size_t open[LK_TMPL_MAX_NESTING];
	size_t nopen;
};

/* Advances the line count to position to. */
static void line_to(struct parser *ps, size_t to)
{
	for (; ps->pos < to; ps->pos++)
		if (ps->s[ps->pos] == '\n')
			ps->line++;
}

static int perr(struct parser *ps, unsigned line, const char *what, const char *name,
		size_t name_len)
{
	if (name != NULL && name_valid(name, name_len))
		buf_printf(ps->err, "%s:%u: %s \"%.*s\"", ps->origin, line, what, (int)name_len,
			   name);
	else
		buf_printf(ps->err, "%s:%u: %s", ps->origin, line, what);
	return -1;
}

static struct node *add_node(struct parser *ps, enum node_kind k, unsigned line, const char *p,
			     size_t len)
{
	struct tmpl *t = ps->t;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 32;
		t->nodes = xreallocarray(t->nodes, t->cap, sizeof(*t->nodes));
	}
	struct node *nd = &t->nodes[t->n++];
	nd->kind = k;
	nd->line = line;
	nd->p = p;
	nd->len = len;
	nd->end = 0;
	return nd;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A standalone tag [b, e) is alone on its line but for blanks. On 1, *ls is
 * where its line starts and *le where the next line starts (or the end). */
static int standalone(const struct parser *ps, size_t b, size_t e, size_t *ls, size_t *le)
{
	size_t i = b;
	while (i > 0 && blank(ps->s[i - 1]))
		i--;
	if (i > 0 && ps->s[i - 1] != '\n')
		return 0;
	size_t j = e;
	while (j < ps->len && blank(ps->s[j]))
		j++;
	if (j < ps->len && ps->s[j] == '\r' && j + 1 < ps->len && ps->s[j + 1] == '\n')
		j++;
	if (j < ps->len && ps->s[j] != '\n')
		return 0;
	*ls = i;
	*le = j < ps->len ? j + 1 : j;
	return 1;
}

static int parse(struct parser *ps)
{
	const char *s = ps->s;
	size_t len = ps->len, lit = 0, i = 0;
	while (i + 1 < len) {
		const char *b = memchr(s + i, '{', len - i - 1);
		if (b == NULL)
			break;
		i = (size_t)(b - s);
		if (s[i + 1] != '{') {
			i++;
			continue;
		}
		line_to(ps, i);
		unsigned line = ps->line;
		size_t tb = i; /* the tag's first byte */
		size_t q = i + 2;
		int triple = q < len && s[q] == '{';
		if (triple)
			q++;
		char sigil = q < len ? s[q] : '\0';
		int comment = !triple && sigil == '!';
		const char *close = NULL;
		/* the end of the tag: "}}" ("}}}" for a triple) */
		for (size_t k = q; k + 1 < len; k++) {
			if (s[k] == '}' && s[k + 1] == '}') {
				close = s + k;
				break;
			}
			if (!comment && (s[k] == '\n' || s[k] == '{'))
				break; /* a tag holds one line and no brace */
		}
		if (close == NULL)
			return perr(ps, line, "unclosed tag: \"{{\" without \"}}\"", NULL, 0);
		size_t ce = (size_t)(close - s) + 2;
		if (triple) {
			if (ce >= len || s[ce] != '}')
				return perr(ps, line, "\"{{{\" must be closed by \"}}}\"", NULL, 0);
			ce++;
		}
		enum node_kind kind = N_VAR;
		int is_close = 0;
		if (triple) {
			kind = N_RAW;
		} else if (comment) {
			kind = N_TEXT; /* nothing is added */
		} else if (sigil == '#') {
			kind = N_SECTION;
			q++;
		} else if (sigil == '^') {
			kind = N_INVERTED;
			q++;
		} else if (sigil == '/') {
			is_close = 1;
			q++;
		} else if (sigil == '>') {
			kind = N_INCLUDE;
			q++;
		} else if (sigil == '&') {
			return perr(ps, line, "raw output is written {{{name}}}, not {{&name}}",
				    NULL, 0);
		} else if (sigil == '=') {
			return perr(ps, line, "changing the delimiters is not supported", NULL, 0);
		}
		/* the name, blanks around it allowed */
		const char *np = NULL;
		size_t nl = 0;
		if (!comment) {
			size_t a = q, z = (size_t)(close - s);
			while (a < z && blank(s[a]))
				a++;
			while (z > a && blank(s[z - 1]))
				z--;
			np = s + a;
			nl = z - a;
			if (!name_valid(np, nl))
				return perr(ps, line,
					    nl == 0
						? "a tag without a name"
						: "a tag name may hold only letters, digits and "
						  "_ . - (at most 64 of them)",
					    NULL, 0);
		}
		/* the text before the tag; a standalone line goes with its tag */
		size_t text_end = tb, next = ce, ls, le;
		int alone = (comment || is_close || kind == N_SECTION || kind == N_INVERTED ||
			     kind == N_INCLUDE) &&
			    standalone(ps, tb, ce, &ls, &le);
		if (alone) {
			text_end = ls;
			next = le;
		}
		if (text_end > lit)
			add_node(ps, N_TEXT, line, s + lit, text_end - lit);
		if (is_close) {
			if (ps->nopen == 0)
				return perr(ps, line,
					    "a section is closed that was not opened:", np, nl);
			struct node *o = &ps->t->nodes[ps->open[ps->nopen - 1]];
			if (o->len != nl || memcmp(o->p, np, nl) != 0) {
				buf_printf(ps->err,
					   "%s:%u: \"{{/%.*s}}\" closes the section \"%.*s\" "
					   "opened on line %u",
					   ps->origin, line, (int)nl, np, (int)o->len, o->p,
					   o->line);
				return -1;
			}
			o->end = ps->t->n;
			ps->nopen--;
		} else if (!comment) {
			add_node(ps, kind, line, np, nl);
			if (kind == N_SECTION || kind == N_INVERTED) {
				if (ps->nopen == LK_TMPL_MAX_NESTING)
					return perr(ps, line, "sections nested too deeply", NULL,
						    0);
				ps->open[ps->nopen++] = ps->t->n - 1;
			}
		}
		lit = i = next;
	}
	if (len > lit)
		add_node(ps, N_TEXT, ps->line, s + lit, len - lit);
	if (ps->nopen > 0) {
		struct node *o = &ps->t->nodes[ps->open[ps->nopen - 1]];
		line_to(ps, len);
		buf_printf(ps->err, "%s:%u: the section \"%.*s\" opened on line %u is not closed",
			   ps->origin, ps->line, (int)o->len, o->p, o->line);
		return -1;
	}
	return 0;
}

struct tmpl_set *tmpl_set_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_set));
}

void tmpl_set_free(struct tmpl_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		tmpl_free(s->t[i]);
	free(s->t);
	free(s);
}

static struct tmpl *find(const struct tmpl_set *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->t[i]->name) == len && memcmp(s->t[i]->name, name, len) == 0)
			return s->t[i];
	return NULL;
}

int tmpl_set_has(const struct tmpl_set *s, const char *name)
{
	return find(s, name, strlen(name)) != NULL;
}

int tmpl_set_add(struct tmpl_set *s, const char *name, const char *text, size_t len,
		 const char *origin, struct buf *err)
{
	if (!name_valid(name, strlen(name))) {
		buf_printf(err, "%s: not a valid template name", origin);
		return -1;
	}
	if (len > LK_MAX_TEMPLATE) {
		buf_printf(err, "%s: larger than %u bytes", origin, (unsigned)LK_MAX_TEMPLATE);
		return -1;
	}
	size_t bad;
	if (!utf8_valid(text, len, &bad)) {
		unsigned line = 1;
		for (size_t i = 0; i < bad && i < len; i++)
			line += text[i] == '\n';
		buf_printf(err, "%s:%u: not valid UTF-8", origin, line);
		return -1;
	}
	struct tmpl *t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->origin = xstrdup(origin);
	t->text = xmalloc(len + 1);
	if (len)
		memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->text_len = len;
	t->text_mode = text_mode_name(name);
	struct parser ps;
	memset(&ps, 0, sizeof(ps));
	ps.t = t;
	ps.origin = origin;
	ps.err = err;
	ps.s = t->text;
	ps.len = len;
	ps.line = 1;
	if (parse(&ps) < 0) {
		tmpl_free(t);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->t[i]->name, name) == 0) {
			tmpl_free(s->t[i]);
			s->t[i] = t;
			return 0;
		}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->t = xreallocarray(s->t, s->cap, sizeof(*s->t));
	}
	s->t[s->n++] = t;
	return 0;
}

static int loadable(const char *name)
{
	return name[0] != '.' && name_valid(name, strlen(name)) &&
	       (ends_with(name, ".html") || ends_with(name, ".txt") || ends_with(name, ".css"));
}

static int load_file(struct tmpl_set *s, const char *dir, const char *name, struct buf *err)
{
	char path[LK_MAX_PATH];
	if (bsnprintf(path, sizeof(path), "%s/%s", dir, name) < 0) {
		buf_printf(err, "%s: path too long", dir);
		return -1;
	}
	struct buf b;
	buf_init(&b, LK_MAX_TEMPLATE);
	int rc = buf_read_file(&b, path, err);
	if (rc == 0)
		rc = tmpl_set_add(s, name, buf_cstr(&b), b.len, path, err);
	buf_free(&b);
	return rc < 0 ? -1 : 0; /* 1: a folder by that name, not a template */
}

int tmpl_set_load_dir(struct tmpl_set *s, const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		buf_printf(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	size_t files = 0;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!loadable(de->d_name))
			continue;
		if (++files > LK_TMPL_MAX_FILES) {
			buf_printf(err, "%s: more than %u templates", dir,
				   (unsigned)LK_TMPL_MAX_FILES);
			rc = -1;
			break;
		}
		rc = load_file(s, dir, de->d_name, err);
	}
	closedir(d);
	return rc;
}

int tmpl_set_add_builtins(struct tmpl_set *s, struct buf *err)
{
	for (const struct tmpl_builtin *b = tmpl_builtins; b->name != NULL; b++) {
		size_t n = strlen(b->name);
		if (n > 5 && !strcmp(b->name + n - 5, ".json"))
			continue; /* served as it is (the OpenAPI document), not a template */
		char origin[LK_TMPL_MAX_NAME + 16];
		bsnprintf(origin, sizeof(origin), "built-in %s", b->name);
		if (tmpl_set_add(s, b->name, b->text, b->len, origin, err) < 0)
			return -1;
	}
	return 0;
}

struct tmpl_set *tmpl_set_load_conf(const struct conf *conf, struct buf *err)
{
	struct tmpl_set *s = tmpl_set_new();
	int rc = tmpl_set_add_builtins(s, err);
	if (rc == 0 && conf_get(conf, "web", "templates")[0] != '\0') {
		char *dir = conf_get_path(conf, "web", "templates");
		if ((rc = tmpl_set_load_dir(s, dir, err)) < 0)
			buf_puts(err, " ([web] templates)");
		free(dir);
	}
	if (rc == 0)
		rc = tmpl_set_check(s, err);
	if (rc < 0) {
		tmpl_set_free(s);
		return NULL;
	}
	return s;
}

int tmpl_set_check(const struct tmpl_set *s, struct buf *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct tmpl *t = s->t[i];
		for (size_t k = 0; k < t->n; k++) {
			const struct node *nd = &t->nodes[k];
			if (nd->kind == N_INCLUDE && find(s, nd->p, nd->len) == NULL) {
				buf_printf(err, "%s:%u: includes \"%.*s\", which is no template",
					   t->origin, nd->line, (int)nd->len, nd->p);
				return -1;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rendering.                                                          */

/* Values visible at once: the top-level ones and one item per open list
 * section, over every include level. */
#define CTX_MAX (LK_TMPL_MAX_NESTING * (LK_TMPL_MAX_INCLUDES + 1) + 1)

struct render {
	const struct tmpl_set *s;
	int text_mode;
	struct buf *out, *err;
	const struct tmpl_vars *ctx[CTX_MAX];
	size_t nctx;
	unsigned includes;
	size_t steps;
};

static const struct tmpl_val *lookup(const struct render *r, const char *name, size_t len)
{
	for (size_t i = r->nctx; i-- > 0;) {
		const struct tmpl_vars *v = r->ctx[i];
		if (v == NULL)
			continue;
		for (size_t k = 0; k < v->n; k++)
			if (strncmp(v->v[k].key, name, len) == 0 && v->v[k].key[len] == '\0')
				return &v->v[k];
	}
	return NULL;
}

static int truthy(const struct tmpl_val *x)
{
	return x != NULL && (x->is_list ? x->n > 0 : x->len > 0);
}

static int rerr(struct render *r, const struct tmpl *t, const struct node *nd, const char *what)
{
	buf_printf(r->err, "%s:%u: %s", t->origin, nd->line, what);
	return -1;
}

static int render_range(struct render *r, const struct tmpl *t, size_t from, size_t to)
{
	for (size_t i = from; i < to;) {
		const struct node *nd = &t->nodes[i];
		if (++r->steps > LK_TMPL_MAX_STEPS)
			return rerr(r, t, nd,
				    "too much work: the template loops or includes too "
				    "much");
		const struct tmpl_val *x;
		switch (nd->kind) {
		case N_TEXT:
			buf_append(r->out, nd->p, nd->len);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			x = lookup(r, nd->p, nd->len);
			if (x != NULL && !x->is_list) {
				if (nd->kind == N_RAW || r->text_mode)
					buf_append(r->out, x->s, x->len);
				else
					html_escape_buf(r->out, x->s, x->len, 0);
			}
			i++;
			break;
		case N_SECTION:
			x = lookup(r, nd->p, nd->len);
			if (x != NULL && x->is_list) {
				if (r->nctx == CTX_MAX)
					return rerr(r, t, nd, "lists nested too deeply");
				for (size_t k = 0; k < x->n; k++) {
					r->ctx[r->nctx++] = x->items[k];
					int rc = render_range(r, t, i + 1, nd->end);
					r->nctx--;
					if (rc < 0)
						return -1;
				}
			} else if (truthy(x) && render_range(r, t, i + 1, nd->end) < 0) {
				return -1;
			}
			i = nd->end;
			break;
		case N_INVERTED:
			x = lookup(r, nd->p, nd->len);
			if (!truthy(x) && render_range(r, t, i + 1, nd->end) < 0)
				return -1;
			i = nd->end;
			break;
		case N_INCLUDE: {
			const struct tmpl *inc = find(r->s, nd->p, nd->len);
			if (inc == NULL) {
				buf_printf(r->err, "%s:%u: includes \"%.*s\", which is no template",
					   t->origin, nd->line, (int)nd->len, nd->p);
				return -1;
			}
			if (r->includes == LK_TMPL_MAX_INCLUDES)
				return rerr(r, t, nd,
					    "includes nested too deeply (does a template "
					    "include itself?)");
			r->includes++;
			int rc = render_range(r, inc, 0, inc->n);
			r->includes--;
			if (rc < 0)
				return -1;
			i++;
			break;
		}
		}
		if (r->out->err)
			return rerr(r, t, nd, "the output is too large");
	}
	return 0;
}

int tmpl_render(const struct tmpl_set *s, const char *name, const struct tmpl_vars *v,
		struct buf *out, struct buf *err)
{
	const struct tmpl *t = find(s, name, strlen(name));
	if (t == NULL) {
		buf_printf(err, "no template named \"%s\"", name);
		return -1;
	}
	struct render *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->text_mode = t->text_mode;
	r->out = out;
	r->err = err;
	r->ctx[0] = v;
	r->nctx = 1;
	int rc = render_range(r, t, 0, t->n);
	free(r);
	return rc;
}
