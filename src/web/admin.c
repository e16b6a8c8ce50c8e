/*
 * admin.c - the admin listener (see admin.h): libmicrohttpd with a thread
 * pool, one store connection per worker thread; the sign-in, the session
 * cookie and the routing to the pages (web/admin_pages.c) and the JSON API
 * (web/api.c).
 *
 * TRUST: see admin.h. The request headers read are Cookie (lk_admin only),
 * Authorization (web/api.c), Content-Type, Content-Length, If-Match
 * (web/api.c) and, from a trusted proxy, X-Forwarded-For (web/http.h
 * http_client_addr). No address, name or header reaches a log.
 */
#include "web/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "crypto/hash.h"
#include "web/admin_int.h"
#include "web/connguard.h"
#include "web/http.h"
#include "web/ratelimit.h"
#include "web/response.h"

#define COOKIE "lk_admin"
#define ADMIN_MAX_PATH 1024 /* a CSRF binding's path; longer ones are cut (and fail) */
#define LOGIN_WINDOW 900    /* the sign-in limits count per 15 minutes */

static const char CSP[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
			  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct admin_server {
	struct MHD_Daemon *d;
	const struct conf *conf;
	const struct keys *keys;
	struct site *site;
	struct ratelimit
	    *rl; /* sign-ins: RATELIMIT_CLIENT per network, RATELIMIT_LIST per account */
	struct connguard *guard;
	struct netaddr_cidr *proxies;
	size_t n_proxies;
	pthread_key_t store_key;
	int64_t idle, max, delay_ms, audit_days;
	int64_t pruned; /* the day the audit log and sessions were last pruned */
	pthread_mutex_t mu;
	struct str css; /* admin.css */
	char url[128];
};

static struct store *thread_store(struct admin_server *s)
{
	return http_thread_store(s->store_key, s->conf, "admin");
}

/* --- shared with the pages and the API (admin_int.h) -------------------- */

/* The CSRF binding: the session's hash and the path. */
static void csrf_binding(const struct admin_req *r, const char *path, char *out, size_t cap)
{
	char hex[2 * 16 + 1];
	hex_encode(r->session, 16, hex);
	bsnprintf(out, cap, "admin:%s:%s", r->signed_in ? hex : "-", path);
}

void admin_csrf(const struct admin_req *r, const char *path, char out[CSRF_LEN + 1])
{
	char bind[ADMIN_MAX_PATH + 64];
	csrf_binding(r, path, bind, sizeof(bind));
	csrf_make(r->keys, bind, clock_now(), out);
}

int admin_csrf_ok(const struct admin_req *r, const char *path, const struct form *f)
{
	char bind[ADMIN_MAX_PATH + 64];
	csrf_binding(r, path, bind, sizeof(bind));
	return csrf_check_form(r->keys, bind, clock_now(), f);
}

const char *admin_query(const struct admin_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

int admin_list(struct admin_req *r, const char *name, size_t len, struct list_rec *l)
{
	char nm[LK_MAX_LIST_NAME + 1];
	struct buf err;
	if (len == 0 || len > LK_MAX_LIST_NAME)
		return STORE_NOTFOUND;
	memcpy(nm, name, len);
	nm[len] = '\0';
	buf_init(&err, 512);
	int valid = lists_name_valid(nm, &err);
	buf_free(&err);
	if (!valid)
		return STORE_NOTFOUND;
	int rc = store_list_get(r->st, nm, l);
	if (rc == STORE_OK && !staff_sees_list(&r->acc, l->id)) {
		list_rec_free(l);
		rc = STORE_NOTFOUND;
	}
	return rc;
}

int admin_list_save(struct admin_req *r, const struct list_rec *l, const char *changed)
{
	int rc = store_begin(r->st);
	if (rc == STORE_OK)
		rc = store_list_update(r->st, l);
	if (rc == STORE_OK)
		rc = store_audit(r->st, clock_now(), r->actor, "list-set", l->id, 0, changed);
	if (rc == STORE_OK)
		rc = store_commit(r->st);
	if (rc != STORE_OK)
		store_rollback(r->st);
	return rc;
}

struct tmpl_vars *admin_vars(const struct admin_req *r, const char *title)
{
	struct tmpl_vars *v = tmpl_vars_new();
	tmpl_put(v, "title", title);
	if (r->signed_in) {
		char csrf[CSRF_LEN + 1];
		admin_csrf(r, "/logout", csrf);
		tmpl_put(v, "user", r->acc.name);
		tmpl_put_bool(v, "is_admin", r->acc.admin);
		tmpl_put(v, "csrf_logout", csrf);
	}
	return v;
}

void admin_redirect(struct admin_req *r, const char *location)
{
	page_begin(&r->p, 303, "no-store");
	page_text(&r->p, 303, "no-store", "text/plain; charset=utf-8", "See Other\n", 10);
	bsnprintf(r->location, sizeof(r->location), "%s", location);
}

int admin_audit(struct admin_req *r, const char *action, int64_t list_id, int64_t sub_id,
		const char *detail)
{
	int rc = store_audit(r->st, clock_now(), r->actor, action, list_id, sub_id, detail);
	if (rc != STORE_OK)
		log_warnx("admin: audit %s failed: %s", action, store_errmsg(r->st));
	return rc;
}

/* --- the client's network ---------------------------------------------- */

/* The client's network as text for the audit log (IPv4 /24, IPv6 /48) and
 * as a rate-limit key (IPv4 address, IPv6 /64). */
static void client_of(struct admin_server *s, struct MHD_Connection *conn, char *net, size_t cap,
		      uint8_t key[8], size_t *keylen)
{
	struct sockaddr_storage ss;
	*keylen = 0;
	net[0] = '\0';
	if (http_client_addr(conn, s->proxies, s->n_proxies, &ss) < 0)
		return;
	char host[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET) {
		struct in_addr a = ((const struct sockaddr_in *)&ss)->sin_addr;
		memcpy(key, &a, 4);
		*keylen = 4;
		a.s_addr &= htonl(0xffffff00u);
		inet_ntop(AF_INET, &a, host, sizeof(host));
		bsnprintf(net, cap, "%s/24", host);
	} else {
		struct in6_addr a = ((const struct sockaddr_in6 *)&ss)->sin6_addr;
		memcpy(key, &a, 8);
		*keylen = 8;
		memset(a.s6_addr + 6, 0, 10);
		inet_ntop(AF_INET6, &a, host, sizeof(host));
		bsnprintf(net, cap, "%s/48", host);
	}
	sodium_memzero(&ss, sizeof(ss));
}

/* --- sign-in ------------------------------------------------------------ */

static void login_page(struct admin_req *r, unsigned status, const char *error)
{
	struct tmpl_vars *v = admin_vars(r, "Sign in");
	char csrf[CSRF_LEN + 1];
	admin_csrf(r, "/login", csrf);
	tmpl_put(v, "csrf", csrf);
	if (error != NULL)
		tmpl_put(v, "error", error);
	page_begin(&r->p, status, "no-store");
	page_render(&r->p, r->site, "admin_login.html", v);
	tmpl_vars_free(v);
}

static void set_cookie(struct admin_req *r, const char *secret, int64_t max_age)
{
	bsnprintf(r->cookie, sizeof(r->cookie),
		  COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; Secure; SameSite=Strict", secret,
		  (long long)max_age);
}

static void login_post(struct admin_server *s, struct admin_req *r, const struct form *f,
		       const uint8_t *ck, size_t cklen)
{
	if (!admin_csrf_ok(r, "/login", f)) {
		login_page(r, 403, "The form had expired. Sign in again.");
		return;
	}
	const char *name = form_get(f, "name"), *pw = form_get(f, "password");
	size_t nlen = name != NULL ? strlen(name) : 0, plen = pw != NULL ? strlen(pw) : 0;
	/* past either limit, a delay (the attempt is still checked: no lockout) */
	int64_t now = clock_now();
	int net_ok = cklen == 0 || ratelimit_hit(s->rl, RATELIMIT_CLIENT, ck, cklen, now);
	int acc_ok = ratelimit_hit(s->rl, RATELIMIT_LIST, name != NULL ? name : "", nlen, now);
	if ((!net_ok || !acc_ok) && s->delay_ms > 0) {
		struct timespec ts = {s->delay_ms / 1000, (s->delay_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	int64_t id = 0;
	int ok = r->st != NULL ? staff_sign_in(&r->x, name != NULL ? name : "", nlen,
					       pw != NULL ? pw : "", plen, &id)
			       : STORE_ERR;
	if (ok < 0) {
		page_store_error(&r->p, r->site, ok);
		return;
	}
	char detail[96];
	bsnprintf(detail, sizeof(detail), "net=%s", r->net[0] ? r->net : "unknown");
	if (!ok) {
		struct staff_rec who;
		/* the account's name when there is one; never what was typed */
		if (nlen <= STAFF_NAME_MAX &&
		    store_staff_get(r->st, name != NULL ? name : "", 0, &who) == STORE_OK) {
			bsnprintf(r->actor, sizeof(r->actor), "staff:%s", who.name);
			staff_rec_free(&who);
		} else {
			bsnprintf(r->actor, sizeof(r->actor), "staff:(no such account)");
		}
		admin_audit(r, "sign-in-failed", 0, 0, detail);
		login_page(r, 403, "That name and password do not match an account.");
		return;
	}
	char secret[STAFF_SECRET_HEX + 1];
	int rc = staff_session_open(&r->x, id, secret);
	if (rc != STORE_OK) {
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	if (staff_access_load(r->st, id, &r->acc) == STORE_OK)
		bsnprintf(r->actor, sizeof(r->actor), "staff:%s", r->acc.name);
	admin_audit(r, "sign-in", 0, 0, detail);
	set_cookie(r, secret, s->max);
	sodium_memzero(secret, sizeof(secret));
	admin_redirect(r, "/");
}

/* The session of the request's cookie: fills r->acc and r->session. */
static int session_of(struct admin_server *s, struct admin_req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
	struct session_rec sr;
	if (c == NULL || r->st == NULL ||
	    staff_session_check(&r->x, c, strlen(c), s->idle, s->max, &sr) != STORE_OK)
		return 0;
	if (staff_access_load(r->st, sr.staff_id, &r->acc) != STORE_OK)
		return 0;
	memcpy(r->session, sr.hash, HASH_LEN);
	r->signed_in = 1;
	bsnprintf(r->actor, sizeof(r->actor), "staff:%s", r->acc.name);
	r->x.actor = r->actor;
	return 1;
}

static void logout_post(struct admin_req *r, const struct form *f)
{
	if (!r->signed_in) {
		admin_redirect(r, "/login");
		return;
	}
	if (!admin_csrf_ok(r, "/logout", f)) {
		page_begin(&r->p, 403, "no-store");
		page_error(&r->p, r->site, 403, "Forbidden", "The form had expired; try again.");
		return;
	}
	int64_t n = 0;
	int everywhere = form_get(f, "everywhere") != NULL;
	int rc = everywhere ? staff_session_close_all(&r->x, r->acc.id, &n)
			    : staff_session_close(&r->x, r->session);
	if (rc != STORE_OK) {
		page_store_failed(&r->p, r->site, r->st, rc);
		return;
	}
	admin_audit(r, everywhere ? "sign-out-everywhere" : "sign-out", 0, 0, "");
	bsnprintf(r->cookie, sizeof(r->cookie),
		  COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
	admin_redirect(r, "/login");
}

/* Once a day: audit rows past [admin] audit_days and ended sessions go. */
static void prune_daily(struct admin_server *s, struct store *st)
{
	int64_t now = clock_now(), day = now / 86400;
	pthread_mutex_lock(&s->mu);
	int due = s->pruned != day;
	s->pruned = day;
	pthread_mutex_unlock(&s->mu);
	if (!due || st == NULL)
		return;
	int64_t n = 0;
	if (store_begin(st) != STORE_OK)
		return;
	if (store_audit_prune(st, now - s->audit_days * 86400, &n) == STORE_OK &&
	    store_session_prune(st, now - s->idle, now - s->max) == STORE_OK)
		store_commit(st);
	else
		store_rollback(st);
	if (n > 0)
		log_info("admin: %lld audit rows older than %lld days deleted", (long long)n,
			 (long long)s->audit_days);
}

/* --- the request ---------------------------------------------------------- */

static int is_api(const char *path)
{
	return strncmp(path, "/api/v1/", 8) == 0 || strcmp(path, "/api/v1") == 0;
}

static void handle(struct admin_server *s, struct admin_req *r)
{
	uint8_t ck[8];
	size_t cklen;
	client_of(s, r->conn, r->net, sizeof(r->net), ck, &cklen);
	r->st = thread_store(s);
	r->x.st = r->st;
	r->x.keys = s->keys;
	r->x.policy_version = conf_get(s->conf, "general", "consent_version");
	r->x.tmpl = s->site->tmpl; /* the confirmation mail of an API subscribe */
	bsnprintf(r->actor, sizeof(r->actor), "staff:-");
	r->x.actor = r->actor;
	r->audit_days = s->audit_days;
	prune_daily(s, r->st);
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int post = !strcmp(r->method, "POST");
	if (is_api(r->path)) {
		api_handle(r);
	} else if (get && !strcmp(r->path, "/style.css")) {
		page_text(&r->p, 200, "public, max-age=3600", "text/css; charset=utf-8",
			  s->site->css.ptr, s->site->css.len);
	} else if (get && !strcmp(r->path, "/admin.css")) {
		page_text(&r->p, 200, "public, max-age=3600", "text/css; charset=utf-8", s->css.ptr,
			  s->css.len);
	} else if (!get && !post) {
		r->allow = "GET, HEAD, POST";
		pages_method_not_allowed(r->site, &r->p);
	} else if (r->st == NULL) {
		page_begin(&r->p, 503, "no-store");
		page_store_unavailable(&r->p, r->site);
	} else {
		struct form *f = form_new();
		enum form_status fs = FORM_OK;
		if (post) {
			const char *ctype = MHD_lookup_connection_value(
			    r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
			fs = form_parse(f, ctype, r->body, r->body_len);
		}
		session_of(s, r);
		if (fs != FORM_OK) {
			page_begin(&r->p, 400, "no-store");
			page_error(&r->p, r->site, 400, "Bad request",
				   "The form could not be read.");
		} else if (!strcmp(r->path, "/login")) {
			if (post)
				login_post(s, r, f, ck, cklen);
			else if (r->signed_in)
				admin_redirect(r, "/");
			else
				login_page(r, 200, NULL);
		} else if (!strcmp(r->path, "/logout") && post) {
			logout_post(r, f);
		} else if (!r->signed_in) {
			admin_redirect(r, "/login");
		} else {
			r->form = f;
			admin_pages(r);
		}
		form_free(f);
	}
	sodium_memzero(ck, sizeof(ck));
}

/* --- libmicrohttpd -------------------------------------------------------- */

static int add_headers(struct MHD_Response *resp, const struct admin_req *r)
{
	int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->p.content_type) ==
		     MHD_YES &&
		 MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->p.cache_control) ==
		     MHD_YES &&
		 MHD_add_response_header(resp, "Content-Security-Policy", CSP) == MHD_YES &&
		 MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES &&
		 MHD_add_response_header(resp, "Referrer-Policy", "no-referrer") == MHD_YES &&
		 MHD_add_response_header(resp, "X-Frame-Options", "DENY") == MHD_YES;
	if (ok && r->cookie[0])
		ok =
		    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie) == MHD_YES;
	if (ok && r->location[0])
		ok =
		    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location) == MHD_YES;
	if (ok && r->etag[0])
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag) == MHD_YES;
	if (ok && r->p.disposition != NULL)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					     r->p.disposition) == MHD_YES;
	if (ok && r->p.status == 503)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
					     LK_HTTP_RETRY_AFTER) == MHD_YES;
	if (ok && r->p.status == 405)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					     r->allow != NULL ? r->allow : "GET, HEAD, POST") ==
		     MHD_YES;
	if (ok && r->p.status == 401)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") ==
		     MHD_YES;
	return ok ? 0 : -1;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct admin_req *r, int close)
{
	struct MHD_Response *resp = response_from_buf(&r->p.body);
	enum MHD_Result ret = MHD_NO;
	if (resp != NULL) {
		if (close)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
		if (add_headers(resp, r) == 0)
			ret = MHD_queue_response(conn, r->p.status, resp);
		MHD_destroy_response(resp);
	}
	page_free(&r->p);
	sodium_memzero(r, sizeof(*r));
	return ret;
}

/* A body being collected: at most LK_HTTP_MAX_BODY bytes. */
struct upload {
	struct buf body;
	int too_big;
	size_t dropped;
};

static const char MARK[] = "headers seen";

static struct guarded *guarded_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void too_big(struct admin_server *s, struct admin_req *r, const char *url)
{
	if (is_api(url)) {
		page_begin(&r->p, 413, "no-store");
		static const char P[] =
		    "{\"type\":\"about:blank\",\"title\":\"Payload Too Large\",\"status\":413,"
		    "\"detail\":\"the body is larger than 65536 bytes\"}";
		page_text(&r->p, 413, "no-store", "application/problem+json", P, sizeof(P) - 1);
	} else {
		page_begin(&r->p, 413, "no-store");
		page_error(&r->p, s->site, 413, "Too much data",
			   "The form sent more than this page takes.");
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	(void)version;
	struct admin_server *s = cls;
	struct admin_req r;
	memset(&r, 0, sizeof(r));
	r.conn = conn;
	r.method = method;
	r.path = url;
	r.site = s->site;
	r.keys = s->keys;
	int bodyless = !strcmp(method, "GET") || !strcmp(method, "HEAD") ||
		       !strcmp(method, "DELETE") || !strcmp(method, "OPTIONS");
	if (*req_cls == NULL) {
		if (bodyless) {
			*req_cls = (void *)MARK;
			return MHD_YES;
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;
		int over = cl != NULL && num_parse_i64_z(cl, 0, INT64_MAX, &n) == 0 &&
			   n > (int64_t)LK_HTTP_MAX_BODY;
		if (over && n > (int64_t)LK_HTTP_MAX_DISCARD) { /* answered unread */
			too_big(s, &r, url);
			return respond(conn, &r, 1);
		}
		struct upload *u = xcalloc(1, sizeof(*u));
		/* a body past the bound but not past LK_HTTP_MAX_DISCARD is read
		 * and dropped, so that a client still writing gets the 413 */
		u->too_big = over;
		if (!over)
			buf_init(&u->body, LK_HTTP_MAX_BODY);
		*req_cls = u;
		return MHD_YES;
	}
	if (*req_cls == MARK) {
		if (*upload_data_size != 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		connguard_answering(s->guard, guarded_of(conn));
		handle(s, &r);
		return respond(conn, &r, 0);
	}
	struct upload *u = *req_cls;
	if (*upload_data_size != 0) {
		if (u->too_big) {
			u->dropped += *upload_data_size;
			*upload_data_size = 0;
			return u->dropped > LK_HTTP_MAX_DISCARD ? MHD_NO : MHD_YES;
		}
		if (buf_append(&u->body, upload_data, *upload_data_size) < 0) {
			u->too_big = 1;
			buf_free(&u->body);
			u->dropped = *upload_data_size;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (u->too_big) {
		too_big(s, &r, url);
		return respond(conn, &r, 1);
	}
	connguard_answering(s->guard, guarded_of(conn));
	r.body = u->body.data != NULL ? u->body.data : "";
	r.body_len = u->body.len;
	handle(s, &r);
	return respond(conn, &r, 0);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct admin_server *s = cls;
	connguard_next(s->guard, guarded_of(conn));
	if (*req_cls != NULL && *req_cls != MARK) {
		struct upload *u = *req_cls;
		buf_free(&u->body); /* wiped: it may hold a password */
		free(u);
	}
	*req_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addrlen;
	struct admin_server *s = cls;
	return connguard_admit(s->guard, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct admin_server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *a =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = connguard_open(s->guard, a != NULL ? a->client_addr : NULL,
						 fd != NULL ? fd->connect_fd : -1);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		connguard_close(s->guard, *socket_context);
		*socket_context = NULL;
	}
}

int admin_listen_check(const char *listen_z, struct buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	return netaddr_parse_listen("[admin] listen", listen_z, &ss, &sslen, err);
}

static void server_free(struct admin_server *s)
{
	connguard_free(s->guard);
	ratelimit_free(s->rl);
	free(s->proxies);
	free((char *)s->css.ptr);
	site_free(s->site);
	free(s);
}

struct admin_server *admin_server_start(const struct conf *conf, const struct keys *keys,
					struct buf *err)
{
	struct admin_server *s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->keys = keys;
	s->idle = conf_get_int(conf, "admin", "session_idle_minutes") * 60;
	s->max = conf_get_int(conf, "admin", "session_max_hours") * 3600;
	s->delay_ms = conf_get_int(conf, "admin", "login_delay_ms");
	s->audit_days = conf_get_int(conf, "admin", "audit_days");
	s->pruned = -1;
	if ((s->site = site_new(conf, err)) == NULL) {
		free(s);
		return NULL;
	}
	{
		struct buf css;
		buf_init(&css, 256u << 10);
		if (tmpl_render(s->site->tmpl, "admin.css", NULL, &css, err) < 0) {
			buf_free(&css);
			server_free(s);
			return NULL;
		}
		size_t len;
		s->css.ptr = buf_steal(&css, &len);
		s->css.len = len;
	}
	s->rl = ratelimit_new(conf_get_int(conf, "admin", "login_per_network"),
			      conf_get_int(conf, "admin", "login_per_account"), LOGIN_WINDOW);
	if (netaddr_cidr_list_parse("[http] trusted_proxies",
				    conf_get(conf, "http", "trusted_proxies"), &s->proxies,
				    &s->n_proxies, err) < 0) {
		server_free(s);
		return NULL;
	}
	s->guard = connguard_new((size_t)conf_get_int(conf, "http", "max_conns_per_ip"),
				 (int)conf_get_int(conf, "http", "request_timeout"), s->proxies,
				 s->n_proxies);
	if (s->guard == NULL || pthread_key_create(&s->store_key, http_store_key_free) != 0) {
		buf_puts(err, "cannot start the admin server's threads");
		server_free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	int fd = http_open_listener("[admin] listen", conf_get(conf, "admin", "listen"), "http",
				    s->url, sizeof(s->url), err);
	if (fd >= 0) {
		s->d = MHD_start_daemon(
		    MHD_USE_EPOLL_INTERNAL_THREAD, 0, on_accept, s, on_request, s,
		    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
		    (unsigned int)LK_HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int)LK_HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)LK_HTTP_TIMEOUT_SECONDS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)LK_HTTP_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
		    on_connection, s, MHD_OPTION_END);
		if (s->d == NULL) {
			buf_printf(err, "[admin] listen = %s: the HTTP library failed to start",
				   conf_get(conf, "admin", "listen"));
			if (fcntl(fd, F_GETFD) >= 0)
				close(fd);
		}
	}
	if (s->d == NULL) {
		pthread_key_delete(s->store_key);
		pthread_mutex_destroy(&s->mu);
		server_free(s);
		return NULL;
	}
	return s;
}

const char *admin_server_url(const struct admin_server *s)
{
	return s->url;
}

void admin_server_stop(struct admin_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	pthread_key_delete(s->store_key);
	pthread_mutex_destroy(&s->mu);
	server_free(s);
}
