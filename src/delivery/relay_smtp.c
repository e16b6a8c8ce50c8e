/*
 * relay_smtp.c - the smtp:HOST:PORT relay: [delivery] connections SMTP
 * sessions used in parallel, reused across batches, with a rate limit.
 *
 * Threads, not a poll loop: one worker thread per connection, each with
 * plain blocking-style code over its own socket (every wait is a poll()
 * bounded by [delivery] timeout_seconds, in netio.c). The threads start with
 * the first batch and live until relay_close; between batches they sleep on
 * a condition variable. A batch is shared out message by message: each
 * worker takes the next unsent message when its session is ready for one,
 * so a slow or broken session holds back only what it already took. Why
 * threads: TLS and SMTP stay straight-line code (no state machine around
 * SSL_want_read), and the sessions' CPU work (TLS, dot-stuffing) runs on
 * several cores.
 *
 * In flight per session: at most two messages (smtp.h: the next envelope
 * behind the previous dot), and each session takes its share of a batch of
 * connections x pipeline messages; the bound on duplicates after a crash is
 * that batch (relay.h).
 *
 * Sessions are opened lazily, only as many as the batch can use. A session
 * found closed by the relay while idle, or lost during a batch, is replaced
 * at once if work remains. Only when no session could be opened and no
 * message got a reply, or when nothing got through because the relay refused
 * our MAIL FROM (smtp.c), does relay_send return -1 (the relay is down or
 * misconfigured: the engine pauses the job).
 *
 * relay_send is called by one thread at a time (the engine's); it hands the
 * batch to the workers and waits for them.
 *
 * The rate limit is a token bucket shared by the workers: [delivery]
 * rate_limit tokens a second, a burst of a tenth of a second (at least one).
 *
 * TRUST: operator settings are checked at open; the password file is refused
 * if the group or others may access it. Logs name the relay host, codes and
 * counts, never an address or reply text.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/secretfile.h"
#include "core/log.h"
#include "core/num.h"
#include "core/xmalloc.h"
#include "delivery/relay_impl.h"
#include "delivery/smtp.h"

struct smtp_relay;

struct worker {
	struct smtp_relay *r;
	pthread_t th;
	struct smtp_conn *conn;
	int enlisted;	/* takes part in the current batch */
	unsigned batch; /* the last batch number it worked on */
};

struct smtp_relay {
	struct smtp_opts o;
	char *host, *port, *helo, *user, *pass;
	size_t pass_len;
	SSL_CTX *ctx;
	size_t nconn, pipeline;
	int64_t rate;

	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct worker *w;
	int started, quit;
	unsigned batch;
	size_t active; /* enlisted workers still at work */

	/* the current batch (under mu) */
	const struct relay_msg *m;
	struct relay_status *st;
	size_t n, next;
	int open_failed;
	struct buf why;
	size_t sender_refused;
	char refusal[sizeof(((struct relay_status *)0)->text)];

	/* the token bucket (under mu) */
	double tokens, burst;
	long long refilled_ns;
};

/* ---- settings ---- */

/* "HOST:PORT" or "[IPV6]:PORT". */
static int parse_hostport(const char *arg, struct smtp_relay *r, struct buf *err)
{
	const char *h = arg, *hend, *p;
	if (arg[0] == '[') {
		h = arg + 1;
		hend = strchr(h, ']');
		if (hend == NULL || hend[1] != ':')
			goto bad;
		p = hend + 2;
	} else {
		hend = strrchr(arg, ':');
		if (hend == NULL || memchr(arg, ':', (size_t)(hend - arg)) != NULL)
			goto bad;
		p = hend + 1;
	}
	size_t hl = (size_t)(hend - h);
	if (hl == 0 || hl > LK_MAX_DOMAIN)
		goto bad;
	for (size_t i = 0; i < hl; i++) {
		char ch = h[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
		      (ch == ':' && arg[0] == '[')))
			goto bad;
	}
	int64_t port;
	if (num_parse_i64_z(p, 1, 65535, &port) < 0)
		goto bad;
	r->host = xstrndup(h, hl);
	r->port = xstrdup(p);
	return 0;
bad:
	buf_printf(err, "[delivery] relay = smtp:%s: expected smtp:HOST:PORT (PORT 1-65535)", arg);
	return -1;
}

/* The password file: one line, mode 0600 or stricter (as the key file). */
static int read_password(const char *path, struct smtp_relay *r, struct buf *err)
{
	char *pw = xmalloc(LK_MAX_PASSWORD + 2);
	size_t n = 0;
	if (secret_file_read("[delivery] auth_password_file", path, pw, LK_MAX_PASSWORD + 1, &n,
			     err) < 0)
		goto fail;
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		n--;
	if (n == 0 || n > LK_MAX_PASSWORD || memchr(pw, '\n', n) || memchr(pw, '\r', n) ||
	    memchr(pw, '\0', n)) {
		buf_printf(err, "[delivery] auth_password_file %s: expected one line, the password",
			   path);
		goto fail;
	}
	pw[n] = '\0';
	r->pass = pw;
	r->pass_len = n + 1;
	return 0;
fail:
	xfree_wipe(pw, LK_MAX_PASSWORD + 2);
	return -1;
}

static int make_tls(const struct conf *c, struct smtp_relay *r, struct buf *err)
{
	ERR_clear_error();
	r->ctx = SSL_CTX_new(TLS_client_method());
	if (r->ctx == NULL) {
		buf_printf(err, "TLS: cannot create a context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(r->ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_default_verify_paths(r->ctx) != 1)
		ERR_clear_error(); /* no system store: only tls_ca_file, if any */
	if (conf_get(c, "delivery", "tls_ca_file")[0] != '\0') {
		char *ca = conf_get_path(c, "delivery", "tls_ca_file");
		int ok = SSL_CTX_load_verify_locations(r->ctx, ca, NULL);
		if (ok != 1) {
			char reason[120];
			ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
			buf_printf(err, "[delivery] tls_ca_file %s: cannot load: %s", ca, reason);
			ERR_clear_error();
		}
		free(ca);
		if (ok != 1)
			return -1;
	}
	return 0;
}

static void smtp_relay_close(void *impl);

static void *smtp_relay_open(const struct conf *c, const char *arg, struct buf *err)
{
	struct smtp_relay *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work_cv, NULL);
	pthread_cond_init(&r->done_cv, NULL);
	buf_init(&r->why, 512);
	if (parse_hostport(arg, r, err) < 0)
		goto fail;
	const char *helo = conf_get(c, "delivery", "helo");
	if (helo[0] == '\0')
		helo = conf_get(c, "general", "domain");
	for (const char *p = helo; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			buf_printf(err, "[delivery] helo: expected a domain name");
			goto fail;
		}
	if (helo[0] == '\0' || strlen(helo) > LK_MAX_DOMAIN) {
		buf_printf(err, "[delivery] helo: expected a domain name");
		goto fail;
	}
	r->helo = xstrdup(helo);
	r->nconn = (size_t)conf_get_int(c, "delivery", "connections");
	r->pipeline = (size_t)conf_get_int(c, "delivery", "pipeline");
	r->rate = conf_get_int(c, "delivery", "rate_limit");
	r->burst = r->rate / 10 > 1 ? (double)(r->rate / 10) : 1.0;
	r->tokens = r->burst;
	r->refilled_ns = clock_mono_ns();

	const char *tls = conf_get(c, "delivery", "tls");
	if (smtp_tls_parse(tls, &r->o.tls) < 0) { /* conf.c checks the choice: a bug */
		buf_printf(err, "[delivery] tls = %s: use none, starttls or require", tls);
		goto fail;
	}
	r->o.tls_verify = conf_get_bool(c, "delivery", "tls_verify");
	if (r->o.tls != SMTP_TLS_NONE && make_tls(c, r, err) < 0)
		goto fail;
	const char *user = conf_get(c, "delivery", "auth_user");
	if (user[0] != '\0') {
		if (r->o.tls == SMTP_TLS_NONE) {
			buf_printf(err, "[delivery] auth_user needs tls = starttls or require: the "
					"password is never sent in clear");
			goto fail;
		}
		if (strlen(user) > LK_MAX_ADDRESS) {
			buf_printf(err, "[delivery] auth_user: too long");
			goto fail;
		}
		if (conf_get(c, "delivery", "auth_password_file")[0] == '\0') {
			buf_printf(err,
				   "[delivery] auth_user is set: auth_password_file is needed");
			goto fail;
		}
		char *pf = conf_get_path(c, "delivery", "auth_password_file");
		int rc = read_password(pf, r, err);
		free(pf);
		if (rc < 0)
			goto fail;
		r->user = xstrdup(user);
	}
	r->o.host = r->host;
	r->o.port = r->port;
	r->o.helo = r->helo;
	r->o.timeout_ms = (int)conf_get_int(c, "delivery", "timeout_seconds") * 1000;
	r->o.ssl_ctx = r->ctx;
	r->o.auth_user = r->user;
	r->o.auth_pass = r->pass;
	r->o.pipeline = r->pipeline;
	r->w = xcalloc(r->nconn, sizeof(*r->w));
	return r;
fail:
	smtp_relay_close(r);
	return NULL;
}

/* ---- workers ---- */

/* smtp_fetch_fn: the next message of the batch, after a token of the bucket. */
static int fetch(void *arg, int block, const struct relay_msg **m, struct relay_status **st)
{
	struct smtp_relay *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->next >= r->n) {
			pthread_mutex_unlock(&r->mu);
			return 0;
		}
		if (r->rate == 0)
			break;
		long long now = clock_mono_ns();
		r->tokens += (double)(now - r->refilled_ns) * (double)r->rate / 1e9;
		r->refilled_ns = now;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		if (r->tokens >= 1.0) {
			r->tokens -= 1.0;
			break;
		}
		if (!block) {
			pthread_mutex_unlock(&r->mu);
			return -1;
		}
		long long wait_ns = (long long)((1.0 - r->tokens) * 1e9 / (double)r->rate) + 1;
		pthread_mutex_unlock(&r->mu);
		struct timespec ts = {wait_ns / 1000000000LL, wait_ns % 1000000000LL};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&r->mu);
	}
	size_t i = r->next++;
	*m = &r->m[i];
	*st = &r->st[i];
	pthread_mutex_unlock(&r->mu);
	return 1;
}

static int work_left(struct smtp_relay *r)
{
	pthread_mutex_lock(&r->mu);
	int left = r->next < r->n;
	pthread_mutex_unlock(&r->mu);
	return left;
}

static void work(struct worker *w)
{
	struct smtp_relay *r = w->r;
	while (work_left(r)) {
		if (w->conn != NULL && !smtp_conn_usable(w->conn)) {
			log_info("relay=%s:%s session closed while idle; reconnecting", r->host,
				 r->port);
			smtp_conn_close(w->conn);
			w->conn = NULL;
		}
		if (w->conn == NULL) {
			struct buf why, logwhy;
			buf_init(&why, 512);
			buf_init(&logwhy, 512);
			w->conn = smtp_conn_open(&r->o, &why, &logwhy);
			if (w->conn == NULL) {
				log_warnx("relay=%s:%s cannot open a session: %s", r->host, r->port,
					  buf_cstr(&logwhy));
				pthread_mutex_lock(&r->mu);
				if (r->open_failed++ == 0)
					buf_append_str(&r->why, buf_str(&why));
				pthread_mutex_unlock(&r->mu);
				buf_free(&why);
				buf_free(&logwhy);
				return; /* the other workers carry on with the rest */
			}
			buf_free(&why);
			buf_free(&logwhy);
			log_debug("relay=%s:%s session open tls=%s", r->host, r->port,
				  smtp_conn_is_tls(w->conn) ? "yes" : "no");
		}
		int rc = smtp_conn_run(w->conn, fetch, r);
		char text[sizeof(r->refusal)];
		int refused = smtp_conn_sender_refusals(w->conn, text, sizeof(text));
		if (refused > 0) {
			pthread_mutex_lock(&r->mu);
			if (r->sender_refused == 0)
				memcpy(r->refusal, text, sizeof(r->refusal));
			r->sender_refused += (size_t)refused;
			pthread_mutex_unlock(&r->mu);
		}
		if (rc == 0)
			return;
		/* The session ended; what it had in flight is deferred. */
		log_info("relay=%s:%s session ended: %s", r->host, r->port,
			 smtp_conn_error(w->conn));
		smtp_conn_close(w->conn);
		w->conn = NULL;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct smtp_relay *r = w->r;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->quit && !(w->enlisted && w->batch != r->batch))
			pthread_cond_wait(&r->work_cv, &r->mu);
		if (r->quit)
			break;
		w->batch = r->batch;
		pthread_mutex_unlock(&r->mu);
		work(w);
		pthread_mutex_lock(&r->mu);
		w->enlisted = 0;
		if (--r->active == 0)
			pthread_cond_signal(&r->done_cv);
	}
	pthread_mutex_unlock(&r->mu);
	smtp_conn_close(w->conn); /* QUIT */
	w->conn = NULL;
	return NULL;
}

/* Starts the workers with every signal blocked: signals are for the main
 * thread, and a TLS write to a closed socket must not raise SIGPIPE. */
static void start_workers(struct smtp_relay *r)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < r->nconn; i++) {
		r->w[i].r = r;
		int rc = pthread_create(&r->w[i].th, NULL, worker_main, &r->w[i]);
		if (rc != 0)
			log_fatal("relay: cannot start a thread: %s", strerror(rc));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r->started = 1;
}

static int smtp_relay_send(void *impl, const struct relay_msg *m, size_t n, struct relay_status *st,
			   struct buf *why)
{
	struct smtp_relay *r = impl;
	if (!r->started)
		start_workers(r);
	pthread_mutex_lock(&r->mu);
	r->m = m;
	r->st = st;
	r->n = n;
	r->next = 0;
	r->open_failed = 0;
	r->sender_refused = 0;
	buf_reset(&r->why);
	/* Every open session takes part; new ones only as many as the batch can use. */
	size_t want = n < r->nconn ? n : r->nconn, live = 0;
	for (size_t i = 0; i < r->nconn; i++)
		live += r->w[i].conn != NULL;
	size_t extra = want > live ? want - live : 0;
	r->active = 0;
	for (size_t i = 0; i < r->nconn; i++) {
		struct worker *w = &r->w[i];
		w->enlisted = w->conn != NULL || (extra > 0 && extra--);
		r->active += (size_t)w->enlisted;
	}
	r->batch++;
	pthread_cond_broadcast(&r->work_cv);
	while (r->active > 0)
		pthread_cond_wait(&r->done_cv, &r->mu);
	size_t taken = r->next;
	int open_failed = r->open_failed;
	size_t sender_refused = r->sender_refused;
	r->m = NULL;
	r->st = NULL;
	r->n = r->next = 0;
	pthread_mutex_unlock(&r->mu);

	size_t sent = 0, deferred = 0, failed = 0, replied = 0, deferred_coded = 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= taken && open_failed)
			bsnprintf(st[i].text, sizeof(st[i].text), "not sent: %s",
				  buf_cstr(&r->why));
		sent += st[i].result == RELAY_SENT;
		deferred += st[i].result == RELAY_DEFER;
		failed += st[i].result == RELAY_FAIL;
		replied += st[i].result != RELAY_DEFER || st[i].code != 0;
		deferred_coded += st[i].result == RELAY_DEFER && st[i].code != 0;
	}
	log_debug("relay=%s:%s batch=%zu sent=%zu deferred=%zu failed=%zu", r->host, r->port, n,
		  sent, deferred, failed);
	if (replied == 0 && open_failed) {
		buf_append_str(why, buf_str(&r->why));
		return -1;
	}
	if (sent == 0 && failed == 0 && sender_refused > 0 && sender_refused == deferred_coded) {
		/* Nothing got through because the relay refuses our sender: as good as down. */
		log_warnx("relay=%s:%s refused the sender of %zu messages", r->host, r->port,
			  sender_refused);
		buf_printf(why, "%s:%s: the relay refuses the sender: %s", r->host, r->port,
			   r->refusal);
		return -1;
	}
	return 0;
}

static size_t smtp_relay_batch_max(const void *impl)
{
	const struct smtp_relay *r = impl;
	return r->nconn * r->pipeline;
}

static void smtp_relay_close(void *impl)
{
	struct smtp_relay *r = impl;
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_broadcast(&r->work_cv);
		pthread_mutex_unlock(&r->mu);
		for (size_t i = 0; i < r->nconn; i++)
			pthread_join(r->w[i].th, NULL);
	}
	free(r->w);
	SSL_CTX_free(r->ctx);
	if (r->pass != NULL)
		xfree_wipe(r->pass, LK_MAX_PASSWORD + 2);
	free(r->user);
	free(r->host);
	free(r->port);
	free(r->helo);
	buf_free(&r->why);
	pthread_cond_destroy(&r->work_cv);
	pthread_cond_destroy(&r->done_cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

const struct relay_ops relay_smtp_ops = {
    .scheme = "smtp",
    .open = smtp_relay_open,
    .close = smtp_relay_close,
    .batch_max = smtp_relay_batch_max,
    .send = smtp_relay_send,
};
