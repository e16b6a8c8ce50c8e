/*
 * api.c - the JSON API on the admin listener (web/admin.h), described by the
 * OpenAPI 3.1 document templates/openapi.json (served at
 * /api/v1/openapi.json; docs/api.md):
 *
 *   GET    /api/v1/lists                          the lists the token's account sees
 *   GET    /api/v1/lists/{name}                   settings, with an ETag
 *   PATCH  /api/v1/lists/{name}                   settings; If-Match required
 *   GET    /api/v1/lists/{name}/subscribers       a page by cursor (audited)
 *   POST   /api/v1/lists/{name}/subscribers       subscribe one address
 *   GET    /api/v1/lists/{name}/subscribers/lookup?address=  one by address (audited)
 *   DELETE /api/v1/lists/{name}/subscribers/{id}  unsubscribe
 *   GET    /api/v1/jobs                           the jobs of those lists
 *   GET    /api/v1/stats                          counts over those lists
 *
 * Authorization: Bearer lk_... (listkeeper token add), the account's roles as
 * on the pages (a list without a role on it is a 404; subscribers need
 * owner), and the token's scope: read tokens change nothing (403). Errors are
 * RFC 9457 problem details (application/problem+json); a bad field is named
 * in "detail" and in the "field" member.
 *
 * TRUST: headers, query and body are untrusted. The body (at most
 * LK_HTTP_MAX_BODY, else 413) must be application/json, one JSON object
 * (jansson, duplicate keys refused, its own depth bound), whose members are
 * all known and of the right type; values are checked by the lists layer.
 */
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/num.h"
#include "core/tmpl.h"
#include "core/utc.h"
#include "lists/jobs.h"
#include "lists/lists.h"
#include "lists/person.h"
#include "core/address.h"
#include "web/admin_int.h"

#define API_DEFAULT_LIMIT 100
#define API_MAX_LIMIT 1000
#define API_PREFIX "/api/v1"

/* --- answers ----------------------------------------------------------- */

static void json_answer(struct admin_req *r, unsigned status, const char *type, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	page_begin(&r->p, status, "no-store");
	if (text == NULL) {
		page_text(&r->p, 500, "no-store", "application/problem+json",
			  "{\"title\":\"Internal Server Error\",\"status\":500}", 45);
		return;
	}
	page_text(&r->p, status, "no-store", type, text, strlen(text));
	free(text);
}

static void ok(struct admin_req *r, unsigned status, json_t *doc)
{
	json_answer(r, status, "application/json", doc);
}

static const char *status_title(unsigned status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 415:
		return "Unsupported Media Type";
	case 428:
		return "Precondition Required";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* An RFC 9457 problem; field (may be NULL) names the member at fault. */
static void problem(struct admin_req *r, unsigned status, const char *field, const char *detail)
{
	json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
				status_title(status), "status", (int)status, "detail", detail);
	if (doc != NULL && field != NULL)
		json_object_set_new(doc, "field", json_string(field));
	json_answer(r, status, "application/problem+json", doc);
}

static void store_problem(struct admin_req *r, int rc)
{
	log_warnx("api: store error: %s", store_errmsg(r->st));
	problem(r, 503, NULL,
		rc == STORE_BUSY ? "the store is busy; try again" : "the store is unavailable");
}

/* --- authentication ---------------------------------------------------- */

static int authenticate(struct admin_req *r)
{
	const char *h =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		problem(r, 401, NULL, "send Authorization: Bearer TOKEN (listkeeper token add)");
		return 0;
	}
	struct apitoken_rec t;
	const char *tok = h + 7;
	int rc = staff_token_check(&r->x, tok, strlen(tok), &t);
	if (rc == STORE_OK)
		rc = staff_access_load(r->st, t.staff_id, &r->acc);
	if (rc == STORE_NOTFOUND) {
		problem(r, 401, NULL, "the token is not known (or its account was removed)");
		return 0;
	}
	if (rc != STORE_OK) {
		store_problem(r, rc);
		return 0;
	}
	r->scope = t.scope;
	bsnprintf(r->actor, sizeof(r->actor), "staff:%s (api)", r->acc.name);
	r->x.actor = r->actor;
	return 1;
}

static int may_write(struct admin_req *r)
{
	if (r->scope == API_SCOPE_WRITE)
		return 1;
	problem(r, 403, NULL, "this token's scope is read: it cannot change anything");
	return 0;
}

/* --- bodies ------------------------------------------------------------ */

/* The request's body as a JSON object, or NULL with the 400/415 answered. */
static json_t *body_object(struct admin_req *r)
{
	const char *ct =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = ct != NULL ? strcspn(ct, ";") : 0;
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	if (ct == NULL || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
		problem(r, 415, NULL, "the body must be application/json");
		return NULL;
	}
	json_error_t e;
	json_t *doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (doc == NULL) {
		char d[256];
		bsnprintf(d, sizeof(d), "the body is not valid JSON: %s (line %d, column %d)",
			  e.text, e.line, e.column);
		problem(r, 400, NULL, d);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		problem(r, 400, NULL, "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

/* --- lists ------------------------------------------------------------- */

static json_t *counts_of(struct admin_req *r, const struct list_rec *l, int *rc)
{
	int64_t c[4] = {0};
	*rc = store_list_counts(r->st, l->id, c);
	return json_pack("{s:I, s:I, s:I, s:I}", "active", (json_int_t)c[SUB_STATE_ACTIVE],
			 "pending", (json_int_t)c[SUB_STATE_PENDING], "held",
			 (json_int_t)c[SUB_STATE_HELD], "disabled",
			 (json_int_t)c[SUB_STATE_DISABLED]);
}

struct each_list {
	struct admin_req *r;
	json_t *arr;
	int rc;
};

static int list_item(void *ctx, const struct list_rec *l)
{
	struct each_list *el = ctx;
	if (!staff_sees_list(&el->r->acc, l->id))
		return 0;
	json_t *it = json_pack("{s:s, s:s, s:s}", "name", l->name, "title", lists_title(l), "kind",
			       list_kind_name(l->kind));
	if (staff_may(&el->r->acc, STAFF_ROLE_OWNER, l->id)) {
		json_object_set_new(it, "counts", counts_of(el->r, l, &el->rc));
		if (el->rc != STORE_OK) {
			json_decref(it);
			return 1;
		}
	}
	json_array_append_new(el->arr, it);
	return 0;
}

/* A yes/no setting is a JSON boolean. */
static int is_yesno(const char *field)
{
	return !strcmp(field, "digest") || !strcmp(field, "tracking");
}

static json_t *settings_of(const struct list_rec *l)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(l->name));
	for (size_t i = 0; lists_fields[i] != NULL; i++) {
		char tmp[32];
		const char *v = lists_get_field(l, lists_fields[i], tmp);
		json_object_set_new(o, lists_fields[i],
				    is_yesno(lists_fields[i]) ? json_boolean(!strcmp(v, "yes"))
							      : json_string(v));
	}
	return o;
}

/* The ETag of a list's settings: a hash of their JSON form. */
static void etag_of(const struct list_rec *l, char out[80])
{
	json_t *o = settings_of(l);
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	uint8_t h[16];
	char hex[33];
	crypto_generichash(h, sizeof(h), (const uint8_t *)(text != NULL ? text : ""),
			   text != NULL ? strlen(text) : 0, NULL, 0);
	free(text);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	bsnprintf(out, 80, "\"%s\"", hex);
}

static void list_settings(struct admin_req *r, const struct list_rec *l)
{
	if (!staff_may(&r->acc, STAFF_ROLE_OWNER, l->id)) {
		problem(r, 403, NULL, "the settings are for the list's owners");
		return;
	}
	etag_of(l, r->etag);
	ok(r, 200, settings_of(l));
}

static void list_patch(struct admin_req *r, struct list_rec *l)
{
	if (!staff_may(&r->acc, STAFF_ROLE_OWNER, l->id)) {
		problem(r, 403, NULL, "the settings are for the list's owners");
		return;
	}
	if (!may_write(r))
		return;
	const char *im =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
	char tag[80];
	etag_of(l, tag);
	if (im == NULL) {
		problem(r, 428, NULL,
			"send If-Match with the ETag of GET, so that two owners "
			"do not overwrite each other");
		return;
	}
	if (strcmp(im, tag) != 0 && strcmp(im, "*") != 0) {
		problem(r, 412, NULL, "the settings changed since that ETag: GET them again");
		return;
	}
	json_t *doc = body_object(r);
	if (doc == NULL)
		return;
	const char *key;
	json_t *val;
	struct buf err, changed;
	buf_init(&err, 1024);
	buf_init(&changed, 1024);
	int bad = 0;
	json_object_foreach(doc, key, val)
	{
		int known = 0;
		for (size_t i = 0; lists_fields[i] != NULL; i++)
			known |= !strcmp(key, lists_fields[i]);
		char d[1200];
		if (!known) {
			bsnprintf(d, sizeof(d), "%s: not a setting of a list", key);
			problem(r, 400, key, d);
			bad = 1;
			break;
		}
		const char *text;
		if (is_yesno(key)) {
			if (!json_is_boolean(val)) {
				bsnprintf(d, sizeof(d), "%s: must be true or false", key);
				problem(r, 400, key, d);
				bad = 1;
				break;
			}
			text = json_is_true(val) ? "yes" : "no";
		} else if (!json_is_string(val)) {
			bsnprintf(d, sizeof(d), "%s: must be a string", key);
			problem(r, 400, key, d);
			bad = 1;
			break;
		} else {
			text = json_string_value(val);
			if (strlen(text) != json_string_length(val)) {
				bsnprintf(d, sizeof(d), "%s: holds a NUL character", key);
				problem(r, 400, key, d);
				bad = 1;
				break;
			}
		}
		buf_reset(&err);
		int set = lists_set_field_typed(l, key, text, &err);
		if (set < 0) {
			bsnprintf(d, sizeof(d), "%s: %s", key, buf_cstr(&err));
			problem(r, 400, key, d);
			bad = 1;
			break;
		}
		buf_printf(&changed, "%s%s", changed.len ? "," : "", key);
	}
	json_decref(doc);
	if (!bad) {
		int rc = admin_list_save(r, l, buf_cstr(&changed));
		if (rc != STORE_OK) {
			store_problem(r, rc);
		} else {
			etag_of(l, r->etag);
			ok(r, 200, settings_of(l));
		}
	}
	buf_free(&err);
	buf_free(&changed);
}

/* --- subscribers --------------------------------------------------------- */

static json_t *member_of(struct admin_req *r, const struct subscription_rec *sub,
			 const struct subscriber_rec *who)
{
	struct person pe;
	char since[32];
	memset(&pe, 0, sizeof(pe));
	utc_format(sub->created, UTC_ISO, since, sizeof(since));
	json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)who->id, "state",
			      sub_state_name(sub->state), "since", since);
	if (lists_person_load(&r->x, who, &pe) == STORE_OK) {
		json_object_set_new(o, "address", json_string(pe.address));
		json_object_set_new(o, "name", json_string(pe.name));
	} else {
		json_object_set_new(o, "address", json_null());
		json_object_set_new(o, "name", json_null());
	}
	person_free(&pe);
	return o;
}

struct page_ctx {
	struct admin_req *r;
	json_t *items;
	int n;
	int64_t first, last;
};

static int member_item(void *ctx, const struct subscription_rec *sub,
		       const struct subscriber_rec *who)
{
	struct page_ctx *pc = ctx;
	json_array_append_new(pc->items, member_of(pc->r, sub, who));
	if (pc->n++ == 0)
		pc->first = who->id;
	pc->last = who->id;
	return 0;
}

/* A query number in [min, max], def when absent; -1 (400 answered) if bad. */
static int query_num(struct admin_req *r, const char *key, int64_t min, int64_t max, int64_t def,
		     int64_t *out)
{
	const char *v = admin_query(r, key);
	*out = def;
	if (v == NULL)
		return 0;
	if (num_parse_i64_z(v, min, max, out) < 0) {
		char d[128];
		bsnprintf(d, sizeof(d), "%s: a whole number from %lld to %lld", key, (long long)min,
			  (long long)max);
		problem(r, 400, key, d);
		return -1;
	}
	return 0;
}

static void members(struct admin_req *r, const struct list_rec *l)
{
	int64_t cursor, limit;
	if (query_num(r, "cursor", 0, INT64_MAX, 0, &cursor) < 0 ||
	    query_num(r, "limit", 1, API_MAX_LIMIT, API_DEFAULT_LIMIT, &limit) < 0)
		return;
	struct page_ctx pc = {.r = r, .items = json_array()};
	int rc = store_members_page(r->st, l->id, -1, cursor, (int)limit, member_item, &pc);
	char detail[160];
	bsnprintf(detail, sizeof(detail), "api page after=%lld: %d shown, ids %lld-%lld",
		  (long long)cursor, pc.n, (long long)pc.first, (long long)pc.last);
	if (rc == STORE_OK && pc.n > 0)
		rc = admin_audit(r, "subscribers-view", l->id, 0, detail);
	if (rc != STORE_OK) {
		json_decref(pc.items);
		store_problem(r, rc);
		return;
	}
	json_t *doc = json_pack("{s:o}", "items", pc.items);
	if (pc.n == limit) {
		char next[24];
		bsnprintf(next, sizeof(next), "%lld", (long long)pc.last);
		json_object_set_new(doc, "next_cursor", json_string(next));
	} else {
		json_object_set_new(doc, "next_cursor", json_null());
	}
	ok(r, 200, doc);
}

static void lookup(struct admin_req *r, const struct list_rec *l)
{
	const char *q = admin_query(r, "address");
	struct address a;
	struct buf err;
	if (q == NULL) {
		problem(r, 400, "address", "address: the address to look up is missing");
		return;
	}
	buf_init(&err, 512);
	if (strlen(q) > LK_MAX_ADDRESS || address_parse(q, strlen(q), &a, &err) < 0) {
		char d[600];
		bsnprintf(d, sizeof(d), "address: %s", err.len ? buf_cstr(&err) : "too long");
		problem(r, 400, "address", d);
		buf_free(&err);
		return;
	}
	buf_free(&err);
	struct person_addr pa = {a.addr, a.key};
	int64_t id = 0;
	int rc = lists_find(&r->x, &pa, &id);
	address_free(&a);
	struct subscription_rec sub;
	struct subscriber_rec who;
	json_t *item = NULL;
	if (rc == STORE_OK && (rc = store_subscription_get(r->st, l->id, id, &sub)) == STORE_OK &&
	    (rc = store_subscriber_get(r->st, id, &who)) == STORE_OK) {
		item = member_of(r, &sub, &who);
		subscriber_rec_free(&who);
	}
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		rc = admin_audit(r, "subscriber-find", l->id, item != NULL ? id : 0,
				 item != NULL ? "api find by address: found"
					      : "api find by address: not found");
	if (rc != STORE_OK) {
		json_decref(item);
		store_problem(r, rc);
	} else if (item == NULL) {
		problem(r, 404, NULL, "no subscriber of this list has that address");
	} else {
		ok(r, 200, item);
	}
}

static void subscribe(struct admin_req *r, const struct list_rec *l)
{
	if (!may_write(r))
		return;
	json_t *doc = body_object(r);
	if (doc == NULL)
		return;
	const char *key;
	json_t *val;
	const char *address = NULL, *name = NULL, *note = NULL;
	int confirmed = 0;
	json_object_foreach(doc, key, val)
	{
		char d[160];
		int want_str =
		    !strcmp(key, "address") || !strcmp(key, "name") || !strcmp(key, "consent_note");
		if (!want_str && strcmp(key, "confirmed") != 0) {
			bsnprintf(d, sizeof(d), "%s: not a member of a subscription", key);
			problem(r, 400, key, d);
			json_decref(doc);
			return;
		}
		if ((want_str && !json_is_string(val)) || (!want_str && !json_is_boolean(val))) {
			bsnprintf(d, sizeof(d), "%s: must be %s", key,
				  want_str ? "a string" : "true or false");
			problem(r, 400, key, d);
			json_decref(doc);
			return;
		}
		if (want_str && strlen(json_string_value(val)) != json_string_length(val)) {
			bsnprintf(d, sizeof(d), "%s: holds a NUL character", key);
			problem(r, 400, key, d);
			json_decref(doc);
			return;
		}
		if (!strcmp(key, "address"))
			address = json_string_value(val);
		else if (!strcmp(key, "name"))
			name = json_string_value(val);
		else if (!strcmp(key, "consent_note"))
			note = json_string_value(val);
		else
			confirmed = json_is_true(val);
	}
	if (address == NULL) {
		problem(r, 400, "address", "address: missing");
		json_decref(doc);
		return;
	}
	if (confirmed && (note == NULL || note[0] == '\0')) {
		problem(r, 400, "consent_note",
			"consent_note: confirmed needs a note saying where the person gave their "
			"consent");
		json_decref(doc);
		return;
	}
	struct buf err;
	buf_init(&err, 1024);
	struct subscribe_req rq = {.address = address, /* lists_subscribe parses it */
				   .name = name,
				   .source = "api",
				   .confirmed = confirmed,
				   .note = note};
	int64_t id = 0, job = 0;
	enum subscribe_result res = lists_subscribe(&r->x, l, &rq, &id, &err);
	const char *state = NULL;
	int rc = STORE_OK;
	switch (res) {
	case SUBSCRIBE_PENDING:
		rc = jobs_create_confirm(&r->x, l, id, &job, &err);
		state = "pending";
		break;
	case SUBSCRIBE_ACTIVE:
		state = "active";
		break;
	case SUBSCRIBE_ALREADY:
	case SUBSCRIBE_STILL_PENDING:
		problem(r, 409, NULL, "that address is on the list already");
		break;
	case SUBSCRIBE_SUPPRESSED:
		problem(r, 409, NULL,
			"this address opted out or was erased; only the person can subscribe "
			"again, by confirming from their own mailbox");
		break;
	case SUBSCRIBE_CLOSED:
		problem(r, 409, NULL, "the list takes no subscriptions");
		break;
	case SUBSCRIBE_INVALID: { /* the address, or else the name, is at fault */
		struct address a;
		struct buf why;
		char d[1100];
		buf_init(&why, 1024);
		int bad_addr = mailbox_parse(address, strlen(address), &a, &why) < 0;
		if (!bad_addr)
			address_free(&a);
		buf_free(&why);
		bsnprintf(d, sizeof(d), "%s: %s", bad_addr ? "address" : "name", buf_cstr(&err));
		problem(r, 400, bad_addr ? "address" : "name", d);
		break;
	}
	case SUBSCRIBE_BUSY:
	case SUBSCRIBE_ERROR:
		rc = res == SUBSCRIBE_BUSY ? STORE_BUSY : STORE_ERR;
		break;
	}
	buf_free(&err);
	json_decref(doc); /* address and name were its strings */
	if (rc != STORE_OK)
		store_problem(r, rc);
	else if (state != NULL)
		ok(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", state));
}

static void unsubscribe(struct admin_req *r, const struct list_rec *l, const char *idtext)
{
	int64_t id;
	if (num_parse_i64_z(idtext, 1, INT64_MAX, &id) < 0) {
		problem(r, 404, NULL, "no such subscriber");
		return;
	}
	if (!may_write(r))
		return;
	struct buf err;
	buf_init(&err, 1024);
	int erased = 0;
	int rc = lists_unsubscribe(&r->x, l, id, "api", &erased, &err);
	buf_free(&err);
	if (rc == STORE_NOTFOUND) {
		problem(r, 404, NULL, "no such subscriber on this list");
		return;
	}
	if (rc != STORE_OK) {
		store_problem(r, rc);
		return;
	}
	if (erased)
		store_scrub(r->st);
	page_begin(&r->p, 204, "no-store");
	page_text(&r->p, 204, "no-store", "application/json", "", 0);
}

/* --- jobs and stats ------------------------------------------------------ */

struct jobs_ctx {
	struct admin_req *r;
	json_t *arr;
	int64_t lists[STAFF_MAX_GRANTS];
};

static int job_item(void *ctx, const struct job_rec *j)
{
	struct jobs_ctx *jc = ctx;
	if (!jc->r->acc.admin && !staff_may(&jc->r->acc, STAFF_ROLE_OWNER, j->list_id) &&
	    !staff_may(&jc->r->acc, STAFF_ROLE_EDITOR, j->list_id))
		return 0;
	char created[32];
	utc_format(j->created, UTC_ISO, created, sizeof(created));
	json_array_append_new(
	    jc->arr,
	    json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:s}", "id", (json_int_t)j->id,
		      "list_id", (json_int_t)j->list_id, "kind", job_kind_name(j->kind), "state",
		      job_state_name(j->state), "sent", (json_int_t)j->sent, "failed",
		      (json_int_t)j->failed, "total", (json_int_t)j->total, "created", created));
	return 0;
}

struct stats_ctx {
	struct admin_req *r;
	int64_t lists, c[4];
	int rc;
};

static int stats_list(void *ctx, const struct list_rec *l)
{
	struct stats_ctx *sc = ctx;
	if (!staff_may(&sc->r->acc, STAFF_ROLE_OWNER, l->id))
		return 0;
	int64_t c[4] = {0};
	if ((sc->rc = store_list_counts(sc->r->st, l->id, c)) != STORE_OK)
		return 1;
	sc->lists++;
	for (int i = 0; i < 4; i++)
		sc->c[i] += c[i];
	return 0;
}

/* --- routing --------------------------------------------------------------- */

/* The OpenAPI document, as kept in templates/openapi.json (compiled in). */
static void openapi(struct admin_req *r)
{
	for (const struct tmpl_builtin *b = tmpl_builtins; b->name != NULL; b++) {
		if (!strcmp(b->name, "openapi.json")) {
			page_begin(&r->p, 200, "no-cache");
			page_text(&r->p, 200, "no-cache", "application/json", b->text, b->len);
			return;
		}
	}
	problem(r, 404, NULL, "no OpenAPI document in this build");
}

static void method_not_allowed(struct admin_req *r, const char *allow)
{
	r->allow = allow;
	problem(r, 405, NULL, "this method is not allowed here");
}

void api_handle(struct admin_req *r)
{
	const char *m = r->method;
	int get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	const char *rest = r->path + strlen(API_PREFIX);
	if (!strcmp(rest, "/openapi.json")) {
		if (get)
			openapi(r);
		else
			method_not_allowed(r, "GET, HEAD");
		return;
	}
	if (r->st == NULL) {
		problem(r, 503, NULL, "the store is unavailable");
		return;
	}
	if (!authenticate(r))
		return;
	if (!strcmp(rest, "/lists")) {
		if (!get) {
			method_not_allowed(r, "GET, HEAD");
			return;
		}
		struct each_list el = {.r = r, .arr = json_array()};
		int rc = store_list_each(r->st, list_item, &el);
		if (rc == STORE_OK)
			rc = el.rc;
		if (rc != STORE_OK) {
			json_decref(el.arr);
			store_problem(r, rc);
		} else {
			ok(r, 200, json_pack("{s:o}", "lists", el.arr));
		}
		return;
	}
	if (!strcmp(rest, "/jobs")) {
		if (!get) {
			method_not_allowed(r, "GET, HEAD");
			return;
		}
		struct jobs_ctx jc = {.r = r, .arr = json_array()};
		int rc = store_job_each(r->st, job_item, &jc);
		if (rc != STORE_OK) {
			json_decref(jc.arr);
			store_problem(r, rc);
		} else {
			ok(r, 200, json_pack("{s:o}", "jobs", jc.arr));
		}
		return;
	}
	if (!strcmp(rest, "/stats")) {
		if (!get) {
			method_not_allowed(r, "GET, HEAD");
			return;
		}
		struct stats_ctx sc = {.r = r};
		int rc = store_list_each(r->st, stats_list, &sc);
		if (rc == STORE_OK)
			rc = sc.rc;
		if (rc != STORE_OK)
			store_problem(r, rc);
		else
			ok(r, 200,
			   json_pack("{s:I, s:{s:I, s:I, s:I, s:I}}", "lists", (json_int_t)sc.lists,
				     "subscriptions", "active", (json_int_t)sc.c[SUB_STATE_ACTIVE],
				     "pending", (json_int_t)sc.c[SUB_STATE_PENDING], "held",
				     (json_int_t)sc.c[SUB_STATE_HELD], "disabled",
				     (json_int_t)sc.c[SUB_STATE_DISABLED]));
		return;
	}
	if (strncmp(rest, "/lists/", 7) != 0) {
		problem(r, 404, NULL, "no such resource");
		return;
	}
	const char *name = rest + 7, *slash = strchr(name, '/');
	size_t nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
	const char *sub = slash != NULL ? slash : "";
	struct list_rec l;
	int rc = admin_list(r, name, nlen, &l);
	if (rc == STORE_NOTFOUND) {
		problem(r, 404, NULL, "no such list");
		return;
	}
	if (rc != STORE_OK) {
		store_problem(r, rc);
		return;
	}
	int owner = staff_may(&r->acc, STAFF_ROLE_OWNER, l.id);
	if (!strcmp(sub, "")) {
		if (get)
			list_settings(r, &l);
		else if (!strcmp(m, "PATCH"))
			list_patch(r, &l);
		else
			method_not_allowed(r, "GET, HEAD, PATCH");
	} else if (!owner && !strncmp(sub, "/subscribers", 12)) {
		problem(r, 403, NULL, "subscribers are for the list's owners");
	} else if (!strcmp(sub, "/subscribers")) {
		if (get)
			members(r, &l);
		else if (!strcmp(m, "POST"))
			subscribe(r, &l);
		else
			method_not_allowed(r, "GET, HEAD, POST");
	} else if (!strcmp(sub, "/subscribers/lookup")) {
		if (get)
			lookup(r, &l);
		else
			method_not_allowed(r, "GET, HEAD");
	} else if (!strncmp(sub, "/subscribers/", 13) && strchr(sub + 13, '/') == NULL) {
		if (!strcmp(m, "DELETE"))
			unsubscribe(r, &l, sub + 13);
		else
			method_not_allowed(r, "DELETE");
	} else {
		problem(r, 404, NULL, "no such resource");
	}
	list_rec_free(&l);
}
