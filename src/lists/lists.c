/*
 * lists.c - lists: names, settings, creation and deletion.
 *
 * TRUST: field values come from administrators (CLI, later the admin UI and
 * API); they are checked against their allowed values and limits here, and
 * text fields may not hold control characters other than newline and tab.
 */
#include "lists/lists.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/address.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "lists/person.h"

int lists_end_txn(struct lists_ctx *x, int r, struct buf *err)
{
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK) {
		if ((r == STORE_ERR || r == STORE_BUSY) && err->len == 0)
			buf_puts(err, store_errmsg(x->st));
		store_rollback(x->st);
	}
	return r;
}

const char *lists_title(const struct list_rec *l)
{
	return l->title != NULL && l->title[0] != '\0' ? l->title : l->name;
}

int lists_name_valid(const char *name, struct buf *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > LK_MAX_LIST_NAME) {
		/* the list's own addresses must stay valid: NAME-unsubscribe+TOKEN
		 * is at most 64 octets (RFC 5321) only with this bound */
		buf_printf(err,
			   "a list name has 1 to %d characters (%zu given), so that its "
			   "addresses NAME-unsubscribe+TOKEN and NAME-bounces+TOKEN stay within "
			   "the 64 octets an address's local part may have",
			   LK_MAX_LIST_NAME, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 (i > 0 && (c == '-' || c == '_' || c == '.'));
		if (!ok) {
			buf_printf(err,
				   "list name '%s': use lower-case letters, digits, '-', '_' and "
				   "'.', starting with a letter or digit",
				   name);
			return 0;
		}
	}
	return 1;
}

void lists_defaults(struct list_rec *l, const char *name, const char *domain)
{
	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
	l->domain = xstrdup(domain);
	l->title = xstrdup(name);
	l->description = xstrdup("");
	l->kind = LIST_KIND_ANNOUNCE;
	l->sub_policy = LIST_SUB_CONFIRM;
	l->post_policy = LIST_POST_OWNERS;
	l->moderation = LIST_MODERATION_NONE;
	l->archive = LIST_ARCHIVE_MEMBERS;
	l->footer = xstrdup("");
	l->postal_address = xstrdup("");
	l->owners = xstrdup("");
	l->bounce_action = LIST_BOUNCE_DISABLE;
	l->archive_erase = LIST_ARCHIVE_ERASE_REDACT;
}

const char *const lists_fields[] = {
    "title",	      "description",	"kind",		 "subscription_policy",
    "posting_policy", "moderation",	"archive",	 "digest",
    "footer",	      "postal_address", "tracking",	 "domain",
    "owners",	      "bounce_action",	"archive_erase", NULL,
};

/* A field is text (a char *), a yes/no (an int) or one of the names of an
 * enum's table (store.h: the enum is stored as an int-sized value). */
struct field_def {
	const char *name;
	size_t off; /* offset of the char*, the int or the enum in list_rec */
	int is_bool;
	const struct nametab *choices; /* an enum field: its one name table */
	size_t max;
};

_Static_assert(sizeof(enum list_kind) == sizeof(int) &&
		   sizeof(enum list_sub_policy) == sizeof(int) &&
		   sizeof(enum list_post_policy) == sizeof(int) &&
		   sizeof(enum list_moderation) == sizeof(int) &&
		   sizeof(enum list_archive) == sizeof(int) &&
		   sizeof(enum list_bounce_action) == sizeof(int) &&
		   sizeof(enum list_archive_erase) == sizeof(int),
	       "enum fields are set through an int");

#define F(n, m, b, c, x)                                                                           \
	{                                                                                          \
		n, offsetof(struct list_rec, m), b, c, x                                           \
	}
static const struct field_def FIELDS[] = {
    F("title", title, 0, NULL, LK_MAX_LIST_TITLE),
    F("description", description, 0, NULL, LK_MAX_LIST_TEXT),
    F("kind", kind, 0, &list_kind_names, 0),
    F("subscription_policy", sub_policy, 0, &list_sub_policy_names, 0),
    F("posting_policy", post_policy, 0, &list_post_policy_names, 0),
    F("moderation", moderation, 0, &list_moderation_names, 0),
    F("archive", archive, 0, &list_archive_names, 0),
    F("digest", digest, 1, NULL, 0),
    F("footer", footer, 0, NULL, LK_MAX_LIST_TEXT),
    F("postal_address", postal_address, 0, NULL, LK_MAX_LIST_TEXT),
    F("tracking", tracking, 1, NULL, 0),
    F("domain", domain, 0, NULL, LK_MAX_DOMAIN),
    F("owners", owners, 0, NULL, (LK_MAX_ADDRESS + 1) * LK_MAX_LIST_OWNERS),
    F("bounce_action", bounce_action, 0, &list_bounce_action_names, 0),
    F("archive_erase", archive_erase, 0, &list_archive_erase_names, 0),
};
#undef F

static const struct field_def *field_find(const char *name)
{
	for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++)
		if (strcmp(FIELDS[i].name, name) == 0)
			return &FIELDS[i];
	return NULL;
}

/* owners: "" or up to LK_MAX_LIST_OWNERS addresses separated by commas, in
 * the normalised form the caller made (core/address.h): each one local@domain
 * with no white space, quote, angle bracket or control character. */
static int owners_valid(const char *v, struct buf *err)
{
	size_t n = 0;
	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *at = memchr(p, '@', len);
		int ok = len > 0 && len <= LK_MAX_ADDRESS && at != NULL && at != p &&
			 at + 1 < p + len &&
			 memchr(at + 1, '@', (size_t)(p + len - at - 1)) == NULL;
		for (size_t i = 0; ok && i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			ok = c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != '"' && c != ',';
		}
		if (!ok || ++n > LK_MAX_LIST_OWNERS) {
			if (ok)
				buf_printf(err, "owners: at most %d addresses", LK_MAX_LIST_OWNERS);
			else
				buf_puts(err, "owners: addresses separated by commas, such as "
					      "a@example.org,b@example.org");
			return 0;
		}
		p += len + (e != NULL);
		if (e != NULL && *p == '\0') {
			buf_puts(err, "owners: an empty address after a comma");
			return 0;
		}
	}
	return 1;
}

int lists_set_field(struct list_rec *l, const char *field, const char *value, struct buf *err)
{
	if (!strcmp(field, "owner"))
		field = "owners"; /* `list set NAME --owner A,B` reads naturally */
	const struct field_def *f = field_find(field);
	if (f == NULL) {
		buf_printf(err, "unknown list setting '%s' (one of:", field);
		for (size_t i = 0; lists_fields[i]; i++)
			buf_printf(err, " %s", lists_fields[i]);
		buf_puts(err, ")");
		return -1;
	}
	if (f->is_bool) {
		int v;
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on") ||
		    !strcmp(value, "1"))
			v = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off") ||
			 !strcmp(value, "0"))
			v = 0;
		else {
			buf_printf(err, "%s: '%s' is not yes or no", field, value);
			return -1;
		}
		*(int *)((char *)l + f->off) = v;
		return 0;
	}
	if (f->choices != NULL) {
		int v;
		if (nametab_parse(f->choices, value, &v) < 0) {
			buf_printf(err, "%s: '%s' is not one of ", field, value);
			nametab_join(f->choices, "|", err);
			return -1;
		}
		*(int *)((char *)l + f->off) = v;
		return 0;
	}
	if (f->max && strlen(value) > f->max) {
		buf_printf(err, "%s: longer than %zu bytes", field, f->max);
		return -1;
	}
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
		    ((c == '\n' || c == '\t') &&
		     (!strcmp(field, "title") || !strcmp(field, "domain")))) {
			buf_printf(err, "%s: control characters are not allowed", field);
			return -1;
		}
	}
	if (!strcmp(field, "owners") && !owners_valid(value, err))
		return -1;
	if (!strcmp(field, "domain") && value[0] == '\0') {
		buf_puts(err, "domain: may not be empty");
		return -1;
	}
	char **slot = (char **)((char *)l + f->off);
	free(*slot);
	*slot = xstrdup(value);
	return 0;
}

const char *lists_get_field(const struct list_rec *l, const char *field, char tmp[32])
{
	const struct field_def *f = field_find(field);
	if (f == NULL)
		return "";
	if (f->is_bool) {
		bsnprintf(tmp, 32, "%s", *(const int *)((const char *)l + f->off) ? "yes" : "no");
		return tmp;
	}
	if (f->choices != NULL)
		return nametab_name(f->choices, *(const int *)((const char *)l + f->off));
	const char *v = *(char *const *)((const char *)l + f->off);
	return v != NULL ? v : "";
}

int lists_create(struct lists_ctx *x, struct list_rec *l, struct buf *err)
{
	if (!lists_name_valid(l->name, err))
		return STORE_ERR;
	l->created = clock_now();
	int r = store_begin(x->st);
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r; /* nothing begun: nothing to roll back */
	}
	r = store_list_insert(x->st, l);
	if (r == STORE_OK)
		r = store_audit(x->st, l->created, x->actor, "list-create", l->id, 0, "");
	if (r == STORE_OK)
		r = store_commit(x->st);
	if (r != STORE_OK) {
		if (r == STORE_EXISTS)
			buf_printf(err, "a list named '%s' exists already", l->name);
		else
			buf_puts(err, store_errmsg(x->st));
		store_rollback(x->st);
	}
	return r;
}

struct del_ctx {
	int64_t *ids;
	size_t n, cap;
};

static int collect_member(void *ctx, const struct subscription_rec *sub,
			  const struct subscriber_rec *who)
{
	struct del_ctx *d = ctx;
	(void)who;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->ids = xreallocarray(d->ids, d->cap, sizeof(*d->ids));
	}
	d->ids[d->n++] = sub->subscriber_id;
	return 0;
}

int64_t lists_delete(struct lists_ctx *x, const struct list_rec *l, struct buf *err)
{
	struct del_ctx d = {0};
	int64_t erased = 0;
	int r = store_begin(x->st);
	int64_t after = 0;
	if (r != STORE_OK) {
		buf_puts(err, store_errmsg(x->st));
		return r == STORE_BUSY ? STORE_BUSY : STORE_ERR; /* nothing begun */
	}
	/* Every member leaves the list as by unsubscribing, so that the last-list
	 * rule (P3) holds for them too. */
	while (r == STORE_OK) {
		size_t before = d.n;
		r = store_members_page(x->st, l->id, -1, after, 1000, collect_member, &d);
		if (d.n == before)
			break;
		after = d.ids[d.n - 1];
	}
	for (size_t i = 0; r == STORE_OK && i < d.n; i++) {
		int e = 0;
		r = lists_unsubscribe(x, l, d.ids[i], "list-delete", &e, err);
		erased += e;
	}
	if (r == STORE_OK)
		r = store_list_delete(x->st, l->id);
	if (r == STORE_OK)
		r = store_audit(x->st, clock_now(), x->actor, "list-delete", l->id, 0, "");
	free(d.ids);
	r = lists_end_txn(x, r, err);
	if (r != STORE_OK)
		return r == STORE_BUSY ? STORE_BUSY : STORE_ERR;
	store_scrub(x->st);
	return erased;
}

int lists_each_owner(const char *owners, int (*fn)(void *ctx, const char *addr), void *ctx)
{
	for (const char *p = owners; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char a[LK_MAX_ADDRESS + 1];
		if (n > 0 && n <= LK_MAX_ADDRESS) {
			memcpy(a, p, n);
			a[n] = '\0';
			int r = fn(ctx, a);
			explicit_bzero(a, sizeof(a));
			if (r)
				return r;
		}
		p += n + (e != NULL);
	}
	return 0;
}

int lists_set_field_typed(struct list_rec *l, const char *field, const char *value, struct buf *err)
{
	if (strcmp(field, "owner") != 0 && strcmp(field, "owners") != 0)
		return lists_set_field(l, field, value, err);
	struct buf norm;
	buf_init(&norm, (LK_MAX_ADDRESS + 1) * LK_MAX_LIST_OWNERS + 1);
	int r = 0;
	for (const char *p = value; r == 0 && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *q = p;
		while (len > 0 && (*q == ' ' || *q == '\t')) {
			q++;
			len--;
		}
		while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\t'))
			len--;
		struct address a;
		if (len > 0 && address_parse(q, len, &a, err) < 0) {
			r = -1;
			break;
		}
		if (len > 0) {
			if (norm.len > 0)
				buf_putc(&norm, ',');
			buf_puts(&norm, a.addr);
			address_free(&a);
		}
		p = e != NULL ? e + 1 : p + strlen(p);
	}
	if (r == 0)
		r = lists_set_field(l, "owners", buf_cstr(&norm), err);
	buf_free(&norm);
	return r;
}
