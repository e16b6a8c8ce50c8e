/*
 * admin.h - the admin role of `listkeeper serve`: the staff pages and the
 * JSON API on [admin] listen (default 127.0.0.1:8081), a listener of its own
 * so that a site keeps it off the public interface.
 *
 *   admin_listen_check  parse [admin] listen without binding
 *   admin_server_start  bind, start the worker threads
 *   admin_server_url    "http://HOST:PORT/"
 *   admin_server_stop   stop and free
 *
 * Pages (web/admin_pages.c): /login, /logout, / (dashboard), /lists/NAME
 * (settings), /lists/NAME/subscribers (paged, audited), /lists/NAME/find
 * (by exact address, audited), /lists/NAME/held (held posts, read-only),
 * /audit (admins). The JSON API under /api/v1/ (web/api.c), with the
 * OpenAPI document at /api/v1/openapi.json. docs/admin.md, docs/api.md.
 *
 * Sign-in gives one cookie, lk_admin (HttpOnly; Secure; SameSite=Strict;
 * Path=/), a fresh secret each time (no session fixation), kept in the
 * store only as its keyed hash (lists/staff.h), ended after [admin]
 * session_idle_minutes without a request or session_max_hours after the
 * sign-in. Every form carries a CSRF field bound to the session and the
 * form's path (web/csrf.h). Attempts past [admin] login_per_account or
 * login_per_network per 15 minutes are answered after login_delay_ms: a
 * delay, never a lockout. The answer to a sign-in takes the same Argon2id
 * work whether or not the account exists.
 *
 * TRUST: every byte from the network is untrusted: libmicrohttpd within the
 * bounds of core/limits.h, bodies of at most LK_HTTP_MAX_BODY, slow clients
 * cut by web/connguard.h. The client's address is read for the sign-in rate
 * limit (hashed, web/ratelimit.h) and written to the audit log only as its
 * network (IPv4 /24, IPv6 /48), never whole.
 */
#ifndef LK_WEB_ADMIN_H
#define LK_WEB_ADMIN_H

#include "core/buf.h"
#include "core/conf.h"
#include "crypto/keys.h"

struct admin_server;

int admin_listen_check(const char *listen_z, struct buf *err);
/* conf and keys must outlive the server. NULL with what to fix in err. */
struct admin_server *admin_server_start(const struct conf *conf, const struct keys *keys,
					struct buf *err);
const char *admin_server_url(const struct admin_server *s);
void admin_server_stop(struct admin_server *s);

#endif
