/*
 * person_export.c - reading a person back: their sealed personal data
 * opened (lists_person_load) and the JSON export of everything held about
 * them (lists_person_export), the ledger events' details opened with their
 * data key.
 *
 * TRUST: the export is the person's own data, shown to them alone; nothing
 * here logs it. A subscriber is named by id.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/utc.h"
#include "core/xmalloc.h"
#include "crypto/pii.h"
#include "lists/person.h"
#include "lists/person_int.h"

static json_t *open_json(const uint8_t key[PII_KEY_LEN], const char *ad, const uint8_t *p,
			 size_t len)
{
	struct buf plain;
	buf_init(&plain, LK_MAX_EXPORT);
	json_t *j = NULL;
	if (pii_open(key, ad, p, len, &plain) == 0)
		j = json_loadb(buf_cstr(&plain), plain.len, 0, NULL);
	buf_free(&plain);
	return j;
}

int lists_person_load(struct lists_ctx *x, const struct subscriber_rec *r, struct person *out)
{
	uint8_t key[PII_KEY_LEN];
	memset(out, 0, sizeof(*out));
	if (person_data_key(x, r, key) < 0)
		return -1;
	json_t *o = open_json(key, AD_DATA, r->data, r->data_len);
	explicit_bzero(key, sizeof(key));
	if (o == NULL)
		return -1;
	const char *a = json_string_value(json_object_get(o, "a"));
	const char *n = json_string_value(json_object_get(o, "n"));
	const char *c = json_string_value(json_object_get(o, "c"));
	out->address = xstrdup(a ? a : "");
	out->name = xstrdup(n ? n : "");
	out->country = xstrdup(c ? c : "");
	json_decref(o);
	return 0;
}

static json_t *iso_time(int64_t t)
{
	char b[32];
	utc_format(t, UTC_ISO, b, sizeof(b));
	return json_string(b);
}

struct export_ctx {
	struct lists_ctx *x;
	json_t *arr;
	const uint8_t *key;
};

static json_t *list_name_json(struct lists_ctx *x, int64_t list_id)
{
	struct list_rec l = {0};
	if (list_id == 0)
		return json_null();
	if (store_list_get_id(x->st, list_id, &l) != STORE_OK)
		return json_integer(list_id);
	json_t *j = json_string(l.name);
	list_rec_free(&l);
	return j;
}

static int export_sub(void *ctx, const struct subscription_rec *s)
{
	struct export_ctx *e = ctx;
	json_t *o = json_object();
	json_object_set_new(o, "list", list_name_json(e->x, s->list_id));
	json_object_set_new(o, "state", json_string(sub_state_name(s->state)));
	json_object_set_new(o, "digest", json_boolean(s->digest));
	json_object_set_new(o, "nomail", json_boolean(s->nomail));
	json_object_set_new(o, "bounce_score", json_integer(s->bounce_score));
	json_object_set_new(o, "since", iso_time(s->created));
	json_object_set_new(o, "updated", iso_time(s->updated));
	json_array_append_new(e->arr, o);
	return 0;
}

static int export_event(void *ctx, const struct ledger_rec *r)
{
	struct export_ctx *e = ctx;
	json_t *o = json_object();
	json_object_set_new(o, "time", iso_time(r->time));
	json_object_set_new(o, "list", list_name_json(e->x, r->list_id));
	json_object_set_new(o, "action", json_string(r->action));
	json_object_set_new(o, "source", json_string(r->source));
	json_object_set_new(o, "consent_wording_version", json_string(r->policy_version));
	if (r->details != NULL && r->details_len > 0) {
		json_t *d = open_json(e->key, AD_LEDGER, r->details, r->details_len);
		json_object_set_new(o, "details", d ? d : json_string("(unreadable)"));
	}
	json_array_append_new(e->arr, o);
	return 0;
}

int lists_person_export(struct lists_ctx *x, int64_t id, struct buf *out, struct buf *err)
{
	struct subscriber_rec who = {0};
	uint8_t key[PII_KEY_LEN];
	struct person p;
	int r = person_load_with_key(x, id, &who, key, err);
	if (r != STORE_OK)
		return r;
	if (lists_person_load(x, &who, &p) < 0) {
		buf_printf(err, "subscriber %lld: personal data does not open", (long long)id);
		subscriber_rec_free(&who);
		explicit_bzero(key, sizeof(key));
		return STORE_ERR;
	}
	json_t *doc = json_object();
	json_t *me = json_object();
	json_object_set_new(me, "id", json_integer(id));
	json_object_set_new(me, "address", json_string(p.address));
	json_object_set_new(me, "name", json_string(p.name));
	json_object_set_new(me, "country", json_string(p.country));
	json_object_set_new(me, "format", json_string(who.html ? "html" : "text"));
	json_object_set_new(me, "open_tracking_consent", json_boolean(who.tracking));
	json_object_set_new(me, "created", iso_time(who.created));
	json_object_set_new(doc, "subscriber", me);
	struct export_ctx e = {x, json_array(), key};
	r = store_subscriptions_of(x->st, id, export_sub, &e);
	json_object_set_new(doc, "subscriptions", e.arr);
	e.arr = json_array();
	if (r == STORE_OK)
		r = store_ledger_each(x->st, id, export_event, &e);
	json_object_set_new(doc, "consent_events", e.arr);
	json_object_set_new(
	    doc, "note",
	    json_string("This is everything this server holds about this address. "
			"Opens and clicks are kept only as aggregates, never per person."));
	json_object_set_new(doc, "generated", iso_time(clock_now()));
	if (r == STORE_OK) {
		char *txt = json_dumps(doc, JSON_INDENT(2));
		if (txt == NULL || buf_puts(out, txt) < 0 || buf_putc(out, '\n') < 0)
			r = STORE_ERR;
		if (txt != NULL)
			xfree_wipe(txt, strlen(txt));
		if (r == STORE_OK)
			store_audit(x->st, clock_now(), x->actor, "person-export", 0, id, "");
	} else {
		r = person_fail_store(x, r, err);
	}
	json_decref(doc);
	person_free(&p);
	subscriber_rec_free(&who);
	explicit_bzero(key, sizeof(key));
	return r;
}
