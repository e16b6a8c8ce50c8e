/*
 * test_relay.c - the relays (relay.h): smtp: against our fault-injecting
 * relay (fault_relay.py) and Postfix's smtp-sink, maildir: into a temporary
 * Maildir.
 *
 * What it shows: every message delivered and recorded exactly once, with
 * retries of the deferred ones (none lost, none twice); 4xx -> RELAY_DEFER,
 * 5xx -> RELAY_FAIL with code and text; a session dropped mid-DATA defers
 * and is replaced; a relay that is down makes relay_send return -1 at once
 * with the reason; malformed or over-long replies defer without harm; the
 * body is dot-stuffed and arrives intact; MAIL, RCPT and DATA travel in one
 * write; STARTTLS to a self-signed certificate fails unless tls_verify = no
 * (or the certificate is in tls_ca_file and names the host); AUTH over TLS;
 * timeouts; SIZE; HELO fallback; the rate limit; 1000 messages over 4
 * sessions to smtp-sink.
 *
 * All traffic on 127.0.0.1; every helper process has a bounded lifetime and
 * is killed at the end. Runs in tests/delivery (CMakeLists.txt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>

#include "core/buf.h"
#include "core/conf.h"
#include "delivery/relay.h"

#define SMTP_SINK "/usr/sbin/smtp-sink"

static char tmpdir[64];

/* ---- helpers: processes ---- */

struct proc {
	pid_t pid;
	int port;
	char record[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts fault_relay.py with the given extra arguments (NULL-terminated);
 * it records into a fresh file. */
static void relay_start(struct proc *p, ...)
{
	static int n;
	const char *argv[40];
	int a = 0;
	snprintf(p->record, sizeof(p->record), "%s/record-%d.jsonl", tmpdir, ++n);
	argv[a++] = "python3";
	argv[a++] = "fault_relay.py";
	argv[a++] = "--max-seconds";
	argv[a++] = "90";
	argv[a++] = "--record";
	argv[a++] = p->record;
	va_list ap;
	va_start(ap, p);
	const char *s;
	while ((s = va_arg(ap, const char *)) != NULL && a < 38)
		argv[a++] = s;
	va_end(ap);
	argv[a] = NULL;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives the test */
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	char line[32] = "";
	size_t got = 0;
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		struct pollfd pf = {.fd = fds[0], .events = POLLIN};
		if (poll(&pf, 1, 10000) <= 0)
			break;
		ssize_t r = read(fds[0], line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		line[got] = '\0';
	}
	close(fds[0]);
	p->port = (int)strtol(line, NULL, 10);
	if (p->port <= 0)
		fail_msg(
		    "fault_relay.py did not start (is python3 installed? run scripts/deps.sh)");
}

static void proc_stop(struct proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	int status;
	waitpid(p->pid, &status, 0);
	p->pid = 0;
}

/* A loopback port nobody listens on (bound, then closed). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int run_cmd(const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1);
		dup2(dn, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- helpers: configuration, messages, records ---- */

/* A configuration from defaults plus [delivery] key, value pairs (NULL-terminated). */
static struct conf *mkconf(const char *relay, ...)
{
	struct buf err;
	buf_init(&err, 1024);
	struct conf *c = conf_load(NULL, &err);
	assert_non_null(c);
	assert_int_equal(conf_set(c, "delivery", "relay", relay, &err), 0);
	assert_int_equal(conf_set(c, "delivery", "timeout_seconds", "10", &err), 0);
	va_list ap;
	va_start(ap, relay);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (conf_set(c, "delivery", k, v, &err) != 0)
			fail_msg("conf_set %s: %s", k, buf_cstr(&err));
	}
	va_end(ap);
	buf_free(&err);
	return c;
}

static struct relay *open_smtp(int port, struct conf **cp, ...)
{
	char spec[64];
	snprintf(spec, sizeof(spec), "smtp:127.0.0.1:%d", port);
	struct buf err;
	buf_init(&err, 1024);
	struct conf *c = mkconf(spec, NULL);
	va_list ap;
	va_start(ap, cp);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (conf_set(c, "delivery", k, v, &err) != 0)
			fail_msg("conf_set %s: %s", k, buf_cstr(&err));
	}
	va_end(ap);
	struct relay *r = relay_open(c, &err);
	if (r == NULL)
		fail_msg("relay_open: %s", buf_cstr(&err));
	buf_free(&err);
	*cp = c;
	return r;
}

struct msgs {
	size_t n;
	struct relay_msg *m;
	struct relay_status *st;
	char **rcpt, **data;
};

static void msgs_init(struct msgs *ms, size_t n)
{
	ms->n = n;
	ms->m = calloc(n, sizeof(*ms->m));
	ms->st = calloc(n, sizeof(*ms->st));
	ms->rcpt = calloc(n, sizeof(char *));
	ms->data = calloc(n, sizeof(char *));
}

/* Message i to rcpt, with a body of its own. */
static void msgs_set(struct msgs *ms, size_t i, const char *rcpt, const char *body)
{
	struct buf b;
	buf_init(&b, 1u << 20);
	buf_printf(&b,
		   "From: list@example.org\r\nTo: %s\r\nSubject: test %zu\r\n"
		   "Message-ID: <%zu@example.org>\r\n\r\n%s",
		   rcpt, i, i, body ? body : "hello\r\n");
	free(ms->rcpt[i]);
	free(ms->data[i]);
	ms->rcpt[i] = strdup(rcpt);
	ms->data[i] = buf_steal(&b, &ms->m[i].len);
	ms->m[i].mail_from = "list-bounces+tok@example.org";
	ms->m[i].rcpt_to = ms->rcpt[i];
	ms->m[i].data = ms->data[i];
}

static void msgs_free(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->rcpt[i]);
		free(ms->data[i]);
	}
	free(ms->m);
	free(ms->st);
	free(ms->rcpt);
	free(ms->data);
}

/* Sends ms in batches of relay_batch_max; returns the last relay_send's result. */
static int send_all(struct relay *r, struct msgs *ms, struct buf *why)
{
	size_t bm = relay_batch_max(r);
	int rc = 0;
	for (size_t o = 0; o < ms->n; o += bm) {
		size_t k = ms->n - o < bm ? ms->n - o : bm;
		rc = relay_send(r, ms->m + o, k, ms->st + o, why);
	}
	return rc;
}

struct rec {
	char *rcpt, *params, *data, *auth;
	size_t len;
	int conn, pipelined, tls, violations;
};

struct recs {
	size_t n, sessions, quits;
	struct rec r[4096];
};

static void recs_load(const char *path, struct recs *out)
{
	memset(out, 0, sizeof(*out));
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		const char *ev = json_string_value(json_object_get(j, "event"));
		if (strcmp(ev, "session") == 0) {
			out->sessions++;
			out->quits += json_is_true(json_object_get(j, "quit"));
		} else if (out->n < sizeof(out->r) / sizeof(out->r[0])) {
			struct rec *r = &out->r[out->n++];
			r->rcpt = strdup(
			    json_string_value(json_array_get(json_object_get(j, "rcpt"), 0)));
			r->params = strdup(json_string_value(json_object_get(j, "mail_params")));
			const char *b64 = json_string_value(json_object_get(j, "data_b64"));
			size_t bl = strlen(b64);
			r->data = malloc(bl + 4);
			int dl = EVP_DecodeBlock((unsigned char *)r->data,
						 (const unsigned char *)b64, (int)bl);
			assert_true(dl >= 0);
			while (bl > 0 && b64[bl - 1] == '=') {
				bl--;
				dl--;
			}
			r->len = (size_t)dl;
			r->data[r->len] = '\0';
			json_t *au = json_object_get(j, "auth");
			r->auth = json_is_string(au) ? strdup(json_string_value(au)) : NULL;
			r->conn = (int)json_integer_value(json_object_get(j, "conn"));
			r->pipelined = json_is_true(json_object_get(j, "pipelined"));
			r->tls = json_is_true(json_object_get(j, "tls"));
			r->violations = (int)json_array_size(json_object_get(j, "violations"));
		}
		json_decref(j);
	}
	free(line);
	fclose(fp);
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].rcpt);
		free(rs->r[i].params);
		free(rs->r[i].data);
		free(rs->r[i].auth);
	}
}

static size_t recs_count(const struct recs *rs, const char *rcpt, const struct rec **last)
{
	size_t k = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].rcpt, rcpt) == 0) {
			k++;
			if (last)
				*last = &rs->r[i];
		}
	return k;
}

/* ---- set-up ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lk-relay-test-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* Two self-signed certificates: one naming 127.0.0.1, one another host. */
	char key[128], crt[128], key2[128], crt2[128];
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", tmpdir);
	snprintf(key2, sizeof(key2), "%s/key2.pem", tmpdir);
	snprintf(crt2, sizeof(crt2), "%s/cert2.pem", tmpdir);
	const char *a1[] = {"openssl",
			    "req",
			    "-x509",
			    "-newkey",
			    "ec",
			    "-pkeyopt",
			    "ec_paramgen_curve:prime256v1",
			    "-nodes",
			    "-keyout",
			    key,
			    "-out",
			    crt,
			    "-days",
			    "2",
			    "-subj",
			    "/CN=127.0.0.1",
			    "-addext",
			    "subjectAltName=IP:127.0.0.1",
			    NULL};
	const char *a2[] = {"openssl",
			    "req",
			    "-x509",
			    "-newkey",
			    "ec",
			    "-pkeyopt",
			    "ec_paramgen_curve:prime256v1",
			    "-nodes",
			    "-keyout",
			    key2,
			    "-out",
			    crt2,
			    "-days",
			    "2",
			    "-subj",
			    "/CN=other.example",
			    "-addext",
			    "subjectAltName=DNS:other.example",
			    NULL};
	if (run_cmd(a1) != 0 || run_cmd(a2) != 0) {
		fprintf(stderr, "openssl req failed: run scripts/deps.sh\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- tests ---- */

static void test_open_settings(void **state)
{
	(void)state;
	struct buf err;
	buf_init(&err, 1024);
	const char *bad[] = {"smtp:nohost",  "smtp::25",       "smtp:host:0", "smtp:host:x",
			     "smtp:a:b:25",  "carrier:pigeon", "maildir:",    "smtp:[::1]25",
			     "smtp:h st:25", "nocolon"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf *c = mkconf(bad[i], NULL);
		buf_reset(&err);
		struct relay *r = relay_open(c, &err);
		if (r != NULL)
			fail_msg("relay_open accepted %s", bad[i]);
		assert_true(err.len > 0);
		conf_free(c);
	}
	const char *good[] = {"smtp:127.0.0.1:25", "smtp:[::1]:2525", "smtp:mx.example.org:587",
			      "maildir:/tmp/x"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct conf *c = mkconf(good[i], NULL);
		struct relay *r = relay_open(c, &err);
		if (r == NULL)
			fail_msg("relay_open refused %s: %s", good[i], buf_cstr(&err));
		assert_int_equal(relay_batch_max(r), 4 * 8);
		relay_close(r);
		conf_free(c);
	}
	/* AUTH without TLS is refused at open. */
	struct conf *c = mkconf("smtp:127.0.0.1:25", "tls", "none", "auth_user", "u",
				"auth_password_file", "/nonexistent", NULL);
	buf_reset(&err);
	assert_null(relay_open(c, &err));
	assert_non_null(strstr(buf_cstr(&err), "never sent in clear"));
	conf_free(c);
	buf_free(&err);
}

/* 96 messages in three batches over 4 sessions: each recorded once, intact,
 * with MAIL/RCPT/DATA in one read; SIZE= always, BODY=8BITMIME only for 8-bit. */
static void test_deliver_once_pipelined(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", NULL);
	struct msgs ms;
	msgs_init(&ms, 96);
	for (size_t i = 0; i < ms.n; i++) {
		char rcpt[64];
		snprintf(rcpt, sizeof(rcpt), "user%zu@example.net", i);
		msgs_set(&ms, i, rcpt, i == 5 ? "caf\xc3\xa9 au lait\r\n" : NULL);
	}
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(send_all(r, &ms, &why), 0);
	for (size_t i = 0; i < ms.n; i++) {
		if (ms.st[i].result != RELAY_SENT)
			fail_msg("message %zu: %d %d %s", i, ms.st[i].result, ms.st[i].code,
				 ms.st[i].text);
		assert_int_equal(ms.st[i].code, 250);
		assert_non_null(strstr(ms.st[i].text, "250 2.0.0 Ok"));
	}
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	assert_int_equal(rs->n, ms.n);
	int conns[64] = {0};
	for (size_t i = 0; i < ms.n; i++) {
		const struct rec *rec = NULL;
		assert_int_equal(recs_count(rs, ms.rcpt[i], &rec), 1);
		assert_int_equal(rec->len, ms.m[i].len);
		assert_memory_equal(rec->data, ms.data[i], ms.m[i].len);
		assert_true(rec->pipelined);
		assert_int_equal(rec->violations, 0);
		assert_non_null(strstr(rec->params, "SIZE="));
		assert_int_equal(strstr(rec->params, "BODY=8BITMIME") != NULL, i == 5);
		assert_true(rec->conn > 0 && rec->conn < 64);
		conns[rec->conn] = 1;
	}
	int used = 0;
	for (int i = 0; i < 64; i++)
		used += conns[i];
	assert_true(used >= 1 && used <= 4); /* sessions reused across batches */
	assert_int_equal(rs->quits, rs->sessions);
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* 4xx defers, 5xx fails, with code and text; the other messages of the
 * batch (and of the same session) go through. */
static void test_codes(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, NULL);
	struct conf *c;
	struct relay *r =
	    open_smtp(p.port, &c, "tls", "none", "connections", "1", "pipeline", "16", NULL);
	const char *rcpts[] = {"ok1@x.org",	  "rcpt550-a@x.org", "ok2@x.org",
			       "rcpt451-b@x.org", "rcpt452-c@x.org", "ok3@x.org",
			       "dot554-d@x.org",  "dot451-e@x.org",  "ok4@x.org"};
	const int want[][2] = {{RELAY_SENT, 250},  {RELAY_FAIL, 550},  {RELAY_SENT, 250},
			       {RELAY_DEFER, 451}, {RELAY_DEFER, 452}, {RELAY_SENT, 250},
			       {RELAY_FAIL, 554},  {RELAY_DEFER, 451}, {RELAY_SENT, 250}};
	struct msgs ms;
	msgs_init(&ms, 9);
	for (size_t i = 0; i < ms.n; i++)
		msgs_set(&ms, i, rcpts[i], NULL);
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), 0);
	for (size_t i = 0; i < ms.n; i++) {
		if ((int)ms.st[i].result != want[i][0] || ms.st[i].code != want[i][1])
			fail_msg("%s: got %d %d %s", rcpts[i], ms.st[i].result, ms.st[i].code,
				 ms.st[i].text);
		char code[8];
		snprintf(code, sizeof(code), "%d ", want[i][1]);
		assert_memory_equal(ms.st[i].text, code, 4);
	}
	assert_non_null(strstr(ms.st[1].text, "5.1.1 Mailbox unavailable"));
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	for (size_t i = 0; i < ms.n; i++)
		assert_int_equal(recs_count(rs, rcpts[i], NULL), want[i][0] == RELAY_SENT);
	assert_int_equal(rs->sessions, 1); /* failures do not cost the session */
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* Every recipient ends delivered, deferred-then-delivered, or failed; none
 * lost, none twice; with 421s, drops mid-DATA and every 7th RCPT deferred. */
static void test_none_lost_none_twice(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, "--fail", "RCPT:451:7", "--fail", "MAIL:421:23", NULL);
	struct conf *c;
	struct relay *r =
	    open_smtp(p.port, &c, "tls", "none", "connections", "3", "pipeline", "4", NULL);
	const char *kinds[] = {"u",
			       "oncedot451-u",
			       "oncercpt452-u",
			       "oncedropdata-u",
			       "rcpt550-u",
			       "dot554-u",
			       "oncedropdot-u",
			       "u",
			       "u",
			       "u"};
	size_t n = 200;
	struct msgs ms;
	msgs_init(&ms, n);
	int final_fail[200];
	for (size_t i = 0; i < n; i++) {
		char rcpt[64];
		const char *k = kinds[i % 10];
		snprintf(rcpt, sizeof(rcpt), "%s%zu@example.net", k, i);
		msgs_set(&ms, i, rcpt, NULL);
		final_fail[i] = strncmp(k, "rcpt550", 7) == 0 || strncmp(k, "dot554", 6) == 0;
	}
	int delivered[200] = {0}, failed[200] = {0};
	struct buf why;
	buf_init(&why, 1024);
	size_t bm = relay_batch_max(r);
	struct relay_msg *batch = calloc(bm, sizeof(*batch));
	struct relay_status *st = calloc(bm, sizeof(*st));
	size_t idx[64];
	for (int round = 0; round < 40; round++) {
		size_t k = 0, pending = 0;
		for (size_t i = 0; i < n; i++) {
			if (delivered[i] || failed[i])
				continue;
			pending++;
			if (k < bm) {
				idx[k] = i;
				batch[k++] = ms.m[i];
			}
		}
		if (pending == 0)
			break;
		relay_send(r, batch, k, st, &why);
		for (size_t j = 0; j < k; j++) {
			if (st[j].result == RELAY_SENT)
				delivered[idx[j]]++;
			else if (st[j].result == RELAY_FAIL)
				failed[idx[j]]++;
		}
		if (round == 39)
			fail_msg("still pending after 40 rounds: %zu", pending);
	}
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	for (size_t i = 0; i < n; i++) {
		size_t got = recs_count(rs, ms.rcpt[i], NULL);
		if (final_fail[i]) {
			assert_int_equal(failed[i], 1);
			assert_int_equal(got, 0);
		} else {
			if (delivered[i] != 1 || got != 1)
				fail_msg("%s: delivered %d, recorded %zu", ms.rcpt[i], delivered[i],
					 got);
		}
	}
	recs_free(rs);
	free(rs);
	free(batch);
	free(st);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* A session dropped mid-DATA defers what was in flight; the next send opens
 * a new session. 421 at MAIL defers with the code. */
static void test_drop_and_421(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", "connections", "1", NULL);
	struct msgs ms;
	msgs_init(&ms, 3);
	msgs_set(&ms, 0, "first@x.org", NULL);
	msgs_set(&ms, 1, "dropdata-x@x.org", NULL);
	msgs_set(&ms, 2, "after@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(relay_send(r, ms.m, 2, ms.st, &why), 0);
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	assert_int_equal(ms.st[1].result, RELAY_DEFER);
	assert_int_equal(ms.st[1].code, 0);
	assert_non_null(strstr(ms.st[1].text, "closed"));
	assert_int_equal(relay_send(r, ms.m + 2, 1, ms.st + 2, &why), 0);
	assert_int_equal(ms.st[2].result, RELAY_SENT);
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	const struct rec *a = NULL, *b = NULL;
	assert_int_equal(recs_count(rs, "first@x.org", &a), 1);
	assert_int_equal(recs_count(rs, "dropdata-x@x.org", NULL), 0);
	assert_int_equal(recs_count(rs, "after@x.org", &b), 1);
	assert_int_not_equal(a->conn, b->conn); /* replaced */
	recs_free(rs);
	conf_free(c);

	relay_start(&p, "--fail", "MAIL:421:2", NULL);
	r = open_smtp(p.port, &c, "tls", "none", "connections", "1", NULL);
	assert_int_equal(relay_send(r, ms.m, 3, ms.st, &why), 0);
	/* 1st MAIL ok; 2nd gets 421 and the session closes; the 3rd goes on a new one. */
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	assert_int_equal(ms.st[1].result, RELAY_DEFER);
	assert_int_equal(ms.st[1].code, 421);
	assert_int_equal(ms.st[2].result, RELAY_SENT);
	relay_close(r);
	proc_stop(&p);
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 2);
	assert_int_equal(rs->sessions, 2);
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* A refused MAIL FROM defers (the recipient is not to blame); when it stops
 * the whole batch, relay_send returns -1 with the reason. */
static void test_sender_refused(void **state)
{
	(void)state;
	struct msgs ms;
	msgs_init(&ms, 4);
	for (size_t i = 0; i < ms.n; i++) {
		char rcpt[32];
		snprintf(rcpt, sizeof(rcpt), "s%zu@x.org", i);
		msgs_set(&ms, i, rcpt, NULL);
	}
	struct buf why;
	buf_init(&why, 1024);
	struct proc p;
	relay_start(&p, "--fail", "MAIL:550:2", NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", "connections", "1", NULL);
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), 0);
	for (size_t i = 0; i < ms.n; i++) {
		assert_int_equal(ms.st[i].result, i % 2 ? RELAY_DEFER : RELAY_SENT);
		assert_int_equal(ms.st[i].code, i % 2 ? 550 : 250);
	}
	relay_close(r);
	conf_free(c);
	proc_stop(&p);

	/* A relay that wants TLS, asked without: 530 at MAIL, the job must pause. */
	relay_start(&p, "--require-tls", NULL);
	r = open_smtp(p.port, &c, "tls", "none", NULL);
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "refuses the sender: 530"));
	for (size_t i = 0; i < ms.n; i++) {
		assert_int_equal(ms.st[i].result, RELAY_DEFER);
		assert_int_equal(ms.st[i].code, 530);
	}
	relay_close(r);
	conf_free(c);
	proc_stop(&p);
	msgs_free(&ms);
	buf_free(&why);
}

/* Nothing listening: -1 at once, with the reason; every message deferred. */
static void test_relay_down(void **state)
{
	(void)state;
	struct conf *c;
	struct relay *r = open_smtp(free_port(), &c, "tls", "none", NULL);
	struct msgs ms;
	msgs_init(&ms, 5);
	for (size_t i = 0; i < ms.n; i++)
		msgs_set(&ms, i, "someone@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	double t0 = now_s();
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), -1);
	assert_true(now_s() - t0 < 2.0);
	assert_non_null(strstr(buf_cstr(&why), "connect 127.0.0.1:"));
	assert_non_null(strstr(buf_cstr(&why), "Connection refused"));
	for (size_t i = 0; i < ms.n; i++) {
		assert_int_equal(ms.st[i].result, RELAY_DEFER);
		assert_int_equal(ms.st[i].code, 0);
		assert_non_null(strstr(ms.st[i].text, "Connection refused"));
	}
	/* A second try is just as quick and says the same: no busy loop, no crash. */
	buf_reset(&why);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "Connection refused"));
	relay_close(r);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* Malformed replies defer and end the session; nothing crashes. */
static void test_bad_replies(void **state)
{
	(void)state;
	const char *kinds[] = {"MAIL:longline", "RCPT:manylines", "DATA:badcode", "DOT:barelf",
			       "MAIL:mixedcodes"};
	const char *texts[] = {"longer than", "too many lines", "malformed", "bare LF",
			       "code changed"};
	struct msgs ms;
	msgs_init(&ms, 1);
	msgs_set(&ms, 0, "x@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct proc p;
		relay_start(&p, "--bad-reply", kinds[i], NULL);
		struct conf *c;
		struct relay *r = open_smtp(p.port, &c, "tls", "none", NULL);
		buf_reset(&why);
		assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), 0);
		if (ms.st[0].result != RELAY_DEFER || ms.st[0].code != 0 ||
		    strstr(ms.st[0].text, texts[i]) == NULL)
			fail_msg("%s: %d %d %s", kinds[i], ms.st[0].result, ms.st[0].code,
				 ms.st[0].text);
		relay_close(r);
		proc_stop(&p);
		conf_free(c);
	}
	/* At EHLO no session can be had: the relay is as good as down. */
	struct proc p;
	relay_start(&p, "--bad-reply", "EHLO:longline", NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", NULL);
	buf_reset(&why);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "longer than"));
	relay_close(r);
	proc_stop(&p);
	conf_free(c);
	msgs_free(&ms);
	buf_free(&why);
}

/* Lines "." and ".foo" arrive intact; bare LF and CR become CRLF; a body
 * without a final line end gets one. */
static void test_dot_stuffing(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", NULL);
	struct msgs ms;
	msgs_init(&ms, 3);
	msgs_set(&ms, 0, "a@x.org", ".\r\n.foo\r\n..bar\r\nend .\r\n.\r\n");
	msgs_set(&ms, 1, "b@x.org", "bare\n.\nlf\rcr\r\n.");
	msgs_set(&ms, 2, "c@x.org", "no final line end");
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(relay_send(r, ms.m, 3, ms.st, &why), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ms.st[i].result, RELAY_SENT);
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	const struct rec *rec = NULL;
	assert_int_equal(recs_count(rs, "a@x.org", &rec), 1);
	assert_int_equal(rec->len, ms.m[0].len);
	assert_memory_equal(rec->data, ms.data[0], rec->len);
	assert_int_equal(recs_count(rs, "b@x.org", &rec), 1);
	assert_non_null(strstr(rec->data, "\r\n\r\nbare\r\n.\r\nlf\r\ncr\r\n.\r\n"));
	assert_int_equal(rec->violations, 0);
	assert_int_equal(recs_count(rs, "c@x.org", &rec), 1);
	assert_non_null(strstr(rec->data, "\r\n\r\nno final line end\r\n"));
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* Without PIPELINING each command waits; without ESMTP, HELO. */
static void test_no_pipelining_helo(void **state)
{
	(void)state;
	const char *flag[] = {"--no-pipelining", "--no-esmtp"};
	for (int f = 0; f < 2; f++) {
		struct proc p;
		relay_start(&p, flag[f], NULL);
		struct conf *c;
		struct relay *r = open_smtp(p.port, &c, "tls", "none", "connections", "1", NULL);
		struct msgs ms;
		msgs_init(&ms, 4);
		for (size_t i = 0; i < ms.n; i++) {
			char rcpt[64];
			snprintf(rcpt, sizeof(rcpt), "%s%zu@x.org", i == 2 ? "rcpt550-" : "u", i);
			msgs_set(&ms, i, rcpt, NULL);
		}
		struct buf why;
		buf_init(&why, 1024);
		assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), 0);
		assert_int_equal(ms.st[0].result, RELAY_SENT);
		assert_int_equal(ms.st[1].result, RELAY_SENT);
		assert_int_equal(ms.st[2].result, RELAY_FAIL);
		assert_int_equal(ms.st[3].result, RELAY_SENT);
		relay_close(r);
		proc_stop(&p);
		struct recs *rs = malloc(sizeof(*rs));
		recs_load(p.record, rs);
		assert_int_equal(rs->n, 3);
		for (size_t i = 0; i < rs->n; i++) {
			assert_false(rs->r[i].pipelined);
			assert_int_equal(strstr(rs->r[i].params, "SIZE=") != NULL, f == 0);
		}
		recs_free(rs);
		free(rs);
		msgs_free(&ms);
		buf_free(&why);
		conf_free(c);
	}
}

/* STARTTLS: a self-signed certificate fails by default, works with
 * tls_verify = no, and verifies when it is in tls_ca_file and names the host. */
static void test_starttls(void **state)
{
	(void)state;
	char crt[128], key[128], crt2[128], key2[128];
	snprintf(crt, sizeof(crt), "%s/cert.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(crt2, sizeof(crt2), "%s/cert2.pem", tmpdir);
	snprintf(key2, sizeof(key2), "%s/key2.pem", tmpdir);
	struct proc p;
	relay_start(&p, "--starttls", crt, key, "--require-tls", NULL);
	struct msgs ms;
	msgs_init(&ms, 2);
	msgs_set(&ms, 0, "t1@x.org", NULL);
	msgs_set(&ms, 1, "t2@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	struct conf *c;

	struct relay *r = open_smtp(p.port, &c, NULL); /* defaults: starttls, verify */
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "certificate verify failed"));
	assert_int_equal(ms.st[0].result, RELAY_DEFER);
	relay_close(r);
	conf_free(c);

	r = open_smtp(p.port, &c, "tls_verify", "no", NULL);
	buf_reset(&why);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), 0);
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	relay_close(r);
	conf_free(c);

	r = open_smtp(p.port, &c, "tls", "require", "tls_ca_file", crt, NULL);
	assert_int_equal(relay_send(r, ms.m + 1, 1, ms.st + 1, &why), 0);
	assert_int_equal(ms.st[1].result, RELAY_SENT);
	relay_close(r);
	conf_free(c);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 2);
	assert_true(rs->r[0].tls && rs->r[1].tls);
	recs_free(rs);

	/* Trusted, but for another name: refused. */
	relay_start(&p, "--starttls", crt2, key2, NULL);
	r = open_smtp(p.port, &c, "tls_ca_file", crt2, NULL);
	buf_reset(&why);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "certificate verify failed"));
	relay_close(r);
	conf_free(c);
	/* tls = require against a relay without STARTTLS: refused, with the reason. */
	proc_stop(&p);
	relay_start(&p, NULL);
	r = open_smtp(p.port, &c, "tls", "require", NULL);
	buf_reset(&why);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "does not offer STARTTLS"));
	relay_close(r);
	conf_free(c);
	proc_stop(&p);
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 0);
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

/* AUTH PLAIN over TLS; a password file others can read is refused; a wrong
 * password makes the relay unusable with the code in why; AUTH LOGIN too. */
static void test_auth(void **state)
{
	(void)state;
	char crt[128], key[128], pw[128];
	snprintf(crt, sizeof(crt), "%s/cert.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(pw, sizeof(pw), "%s/password", tmpdir);
	struct proc p;
	relay_start(&p, "--starttls", crt, key, "--auth", "lk:s3cret pass", NULL);
	struct msgs ms;
	msgs_init(&ms, 1);
	msgs_set(&ms, 0, "a1@x.org", NULL);
	struct buf why, err;
	buf_init(&why, 1024);
	buf_init(&err, 1024);
	struct conf *c;

	write_file(pw, "s3cret pass\n", 0644);
	c = mkconf("smtp:127.0.0.1:1", "auth_user", "lk", "auth_password_file", pw, NULL);
	assert_null(relay_open(c, &err));
	assert_non_null(strstr(buf_cstr(&err), "chmod 600"));
	conf_free(c);

	write_file(pw, "s3cret pass\n", 0600);
	struct relay *r = open_smtp(p.port, &c, "tls_verify", "no", "auth_user", "lk",
				    "auth_password_file", pw, NULL);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), 0);
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	relay_close(r);
	conf_free(c);

	write_file(pw, "wrong\n", 0600);
	r = open_smtp(p.port, &c, "tls_verify", "no", "auth_user", "lk", "auth_password_file", pw,
		      NULL);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "AUTH refused: 535"));
	relay_close(r);
	conf_free(c);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 1);
	assert_string_equal(rs->r[0].auth, "lk");
	recs_free(rs);

	/* AUTH LOGIN when the relay offers only that. */
	relay_start(&p, "--starttls", crt, key, "--auth", "lk:s3cret pass", "--auth-mechs", "LOGIN",
		    NULL);
	write_file(pw, "s3cret pass\n", 0600);
	r = open_smtp(p.port, &c, "tls_verify", "no", "auth_user", "lk", "auth_password_file", pw,
		      NULL);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), 0);
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	relay_close(r);
	conf_free(c);
	proc_stop(&p);
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 1);
	assert_string_equal(rs->r[0].auth, "lk");
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	buf_free(&err);
}

/* A relay that stops answering: deferred after timeout_seconds, not a hang. */
static void test_timeout(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, "--hang", "DATA", NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", "timeout_seconds", "1", NULL);
	struct msgs ms;
	msgs_init(&ms, 1);
	msgs_set(&ms, 0, "slow@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	double t0 = now_s();
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &why), 0);
	double dt = now_s() - t0;
	assert_true(dt >= 0.9 && dt < 4.0);
	assert_int_equal(ms.st[0].result, RELAY_DEFER);
	assert_non_null(strstr(ms.st[0].text, "timed out"));
	t0 = now_s();
	relay_close(r); /* no QUIT on a dead session: quick */
	assert_true(now_s() - t0 < 2.0);
	proc_stop(&p);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* A message larger than the relay's SIZE is not sent: it fails with 552. */
static void test_size(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, "--size", "2000", NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", NULL);
	struct msgs ms;
	msgs_init(&ms, 2);
	char big[3000];
	memset(big, 'a', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	msgs_set(&ms, 0, "big@x.org", big);
	msgs_set(&ms, 1, "small@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(relay_send(r, ms.m, 2, ms.st, &why), 0);
	assert_int_equal(ms.st[0].result, RELAY_FAIL);
	assert_int_equal(ms.st[0].code, 552);
	assert_non_null(strstr(ms.st[0].text, "SIZE 2000"));
	assert_int_equal(ms.st[1].result, RELAY_SENT);
	relay_close(r);
	proc_stop(&p);
	struct recs *rs = malloc(sizeof(*rs));
	recs_load(p.record, rs);
	assert_int_equal(rs->n, 1);
	recs_free(rs);
	free(rs);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* Each fate carries its origin, decided where it happens: the relay's codes
 * (remote-4xx, remote-5xx; none when sent), our own refusals (local, with
 * why: an address the client will not write, more than the relay's SIZE),
 * the relay refusing our MAIL FROM (remote-sender), and no relay at all
 * (connection). The engine scores a bounce on remote-5xx only. */
static void test_origins(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, "--size", "2000", "--fail", "MAIL:550:4", NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", "connections", "1", NULL);
	char big[3000];
	memset(big, 'a', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	const char *rcpts[] = {"ok1@x.org",	    "rcpt550-a@x.org", "rcpt451-b@x.org",
			       "j\xc3\xb6hn@x.org", "big@x.org",       "ok5@x.org"};
	const struct {
		enum relay_result result;
		enum relay_origin origin;
		enum relay_local local;
	} want[] = {
	    {RELAY_SENT, RELAY_ORIGIN_NONE, RELAY_LOCAL_NONE},
	    {RELAY_FAIL, RELAY_ORIGIN_REMOTE_5XX, RELAY_LOCAL_NONE},
	    {RELAY_DEFER, RELAY_ORIGIN_REMOTE_4XX, RELAY_LOCAL_NONE},
	    {RELAY_FAIL, RELAY_ORIGIN_LOCAL, RELAY_LOCAL_ADDRESS},
	    {RELAY_FAIL, RELAY_ORIGIN_LOCAL, RELAY_LOCAL_SIZE},
	    {RELAY_DEFER, RELAY_ORIGIN_REMOTE_SENDER, RELAY_LOCAL_NONE}, /* 4th MAIL FROM */
	};
	struct msgs ms;
	msgs_init(&ms, 6);
	for (size_t i = 0; i < ms.n; i++)
		msgs_set(&ms, i, rcpts[i], i == 4 ? big : NULL);
	struct buf why;
	buf_init(&why, 1024);
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), 0);
	for (size_t i = 0; i < ms.n; i++)
		if (ms.st[i].result != want[i].result || ms.st[i].origin != want[i].origin ||
		    ms.st[i].local != want[i].local)
			fail_msg("%s: got %d %s %s (%s)", rcpts[i], ms.st[i].result,
				 relay_origin_name(ms.st[i].origin),
				 relay_local_name(ms.st[i].local), ms.st[i].text);
	relay_close(r);
	conf_free(c);
	proc_stop(&p);

	/* nobody listening: connection */
	r = open_smtp(free_port(), &c, "tls", "none", NULL);
	assert_int_equal(relay_send(r, ms.m, 2, ms.st, &why), -1);
	assert_int_equal(ms.st[0].origin, RELAY_ORIGIN_CONNECTION);
	assert_int_equal(ms.st[1].origin, RELAY_ORIGIN_CONNECTION);
	relay_close(r);
	conf_free(c);
	msgs_free(&ms);
	buf_free(&why);
	assert_string_equal(relay_origin_name(RELAY_ORIGIN_REMOTE_5XX), "remote-5xx");
	assert_string_equal(relay_local_name(RELAY_LOCAL_SIZE), "over-size");
}

/* rate_limit = 20: 30 messages take at least about 1.4 s (burst of 2). */
static void test_rate_limit(void **state)
{
	(void)state;
	struct proc p;
	relay_start(&p, NULL);
	struct conf *c;
	struct relay *r = open_smtp(p.port, &c, "tls", "none", "rate_limit", "20", "connections",
				    "2", "pipeline", "16", NULL);
	struct msgs ms;
	msgs_init(&ms, 30);
	for (size_t i = 0; i < ms.n; i++)
		msgs_set(&ms, i, "rated@x.org", NULL);
	struct buf why;
	buf_init(&why, 1024);
	double t0 = now_s();
	assert_int_equal(relay_send(r, ms.m, ms.n, ms.st, &why), 0);
	double dt = now_s() - t0;
	for (size_t i = 0; i < ms.n; i++)
		assert_int_equal(ms.st[i].result, RELAY_SENT);
	if (dt < 1.3 || dt > 5.0)
		fail_msg("30 messages at 20/s took %.2f s", dt);
	relay_close(r);
	proc_stop(&p);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

/* maildir:PATH relative to the configuration file: files in new/, readable. */
static void test_maildir(void **state)
{
	(void)state;
	char dir[128], conffile[160], newdir[192], tmpd[192];
	snprintf(dir, sizeof(dir), "%s/site", tmpdir);
	mkdir(dir, 0700);
	snprintf(conffile, sizeof(conffile), "%s/listkeeper.conf", dir);
	write_file(conffile, "[delivery]\nrelay = maildir:out/box\n", 0600);
	struct buf err;
	buf_init(&err, 1024);
	struct conf *c = conf_load(conffile, &err);
	assert_non_null(c);
	struct relay *r = relay_open(c, &err);
	assert_non_null(r);
	struct msgs ms;
	msgs_init(&ms, 3);
	msgs_set(&ms, 0, "m0@x.org", NULL);
	msgs_set(&ms, 1, "m1@x.org", ".dot\r\nline two\r\n");
	msgs_set(&ms, 2, "bad\r\nX-Evil: 1@x.org", NULL);
	assert_int_equal(relay_send(r, ms.m, 3, ms.st, &err), 0);
	assert_int_equal(ms.st[0].result, RELAY_SENT);
	assert_int_equal(ms.st[1].result, RELAY_SENT);
	assert_int_equal(ms.st[2].result, RELAY_FAIL);
	relay_close(r);
	conf_free(c);
	snprintf(newdir, sizeof(newdir), "%s/out/box/new", dir);
	snprintf(tmpd, sizeof(tmpd), "%s/out/box/tmp", dir);
	int files = 0, seen1 = 0;
	DIR *d = opendir(newdir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", newdir, e->d_name);
		struct stat sb;
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		FILE *fp = fopen(path, "r");
		assert_non_null(fp);
		char text[2048];
		size_t n = fread(text, 1, sizeof(text) - 1, fp);
		text[n] = '\0';
		fclose(fp);
		assert_true(strncmp(text,
				    "Return-Path: <list-bounces+tok@example.org>\n"
				    "Delivered-To: <m",
				    60) == 0);
		assert_null(strchr(text, '\r'));
		if (strstr(text, "Delivered-To: <m1@x.org>\n") != NULL) {
			seen1 = 1;
			assert_non_null(strstr(text, "\n\n.dot\nline two\n"));
		}
	}
	closedir(d);
	assert_int_equal(files, 2);
	assert_true(seen1);
	d = opendir(tmpd);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		assert_true(e->d_name[0] == '.');
	closedir(d);
	msgs_free(&ms);
	buf_free(&err);

	/* A maildir that cannot be made: -1 with the reason. */
	c = mkconf("maildir:/proc/no/such/place", NULL);
	buf_init(&err, 1024);
	r = relay_open(c, &err);
	assert_non_null(r);
	msgs_init(&ms, 1);
	msgs_set(&ms, 0, "m0@x.org", NULL);
	assert_int_equal(relay_send(r, ms.m, 1, ms.st, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "mkdir"));
	assert_int_equal(ms.st[0].result, RELAY_DEFER);
	relay_close(r);
	conf_free(c);
	msgs_free(&ms);
	buf_free(&err);
}

/* Postfix's smtp-sink: 1000 messages over 4 sessions, each 250, each in the dump once. */
static void test_smtp_sink(void **state)
{
	(void)state;
	if (access(SMTP_SINK, X_OK) != 0)
		fail_msg(SMTP_SINK " is missing: run scripts/deps.sh (Debian package postfix)");
	int port = free_port();
	char listen[64], dump[160];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(dump, sizeof(dump), "%s/sink.dump", tmpdir);
	struct proc p = {0};
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1);
		/* timeout(1) bounds its life even if this test dies. */
		const char *argv[] = {"timeout", "120", SMTP_SINK, "-u",  "root",
				      "-D",	 dump,	listen,	   "100", NULL};
		execvp("timeout", (char *const *)argv);
		_exit(127);
	}
	/* Wait until it listens. */
	int up = 0;
	for (int i = 0; i < 100 && !up; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (!up)
			usleep(50000);
	}
	if (!up) {
		proc_stop(&p);
		fail_msg("smtp-sink did not start on %s", listen);
	}
	struct conf *c;
	struct relay *r =
	    open_smtp(port, &c, "tls", "none", "connections", "4", "pipeline", "8", NULL);
	struct msgs ms;
	msgs_init(&ms, 1000);
	for (size_t i = 0; i < ms.n; i++) {
		char rcpt[64];
		snprintf(rcpt, sizeof(rcpt), "sink%zu@example.net", i);
		msgs_set(&ms, i, rcpt, "A line.\r\n.A dot line.\r\n");
	}
	struct buf why;
	buf_init(&why, 1024);
	double t0 = now_s();
	assert_int_equal(send_all(r, &ms, &why), 0);
	double dt = now_s() - t0;
	for (size_t i = 0; i < ms.n; i++)
		if (ms.st[i].result != RELAY_SENT || ms.st[i].code != 250)
			fail_msg("message %zu: %d %d %s", i, ms.st[i].result, ms.st[i].code,
				 ms.st[i].text);
	relay_close(r);
	print_message("smtp-sink: 1000 messages over 4 sessions in %.3f s\n", dt);
	usleep(200000);
	proc_stop(&p);
	/* The dump: one X-Rcpt-Args line per message. */
	FILE *fp = fopen(dump, "r");
	assert_non_null(fp);
	static unsigned char seen[1000];
	memset(seen, 0, sizeof(seen));
	char line[1024];
	size_t msgs = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "X-Mail-Args:", 12) == 0)
			msgs++;
		const char *s = strstr(line, "X-Rcpt-Args: <sink");
		if (s != NULL) {
			long k = strtol(s + 18, NULL, 10);
			assert_true(k >= 0 && k < 1000);
			seen[k]++;
		}
	}
	fclose(fp);
	assert_int_equal(msgs, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(seen[i], 1);
	msgs_free(&ms);
	buf_free(&why);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_settings), cmocka_unit_test(test_deliver_once_pipelined),
	    cmocka_unit_test(test_codes),	  cmocka_unit_test(test_none_lost_none_twice),
	    cmocka_unit_test(test_drop_and_421),  cmocka_unit_test(test_sender_refused),
	    cmocka_unit_test(test_relay_down),	  cmocka_unit_test(test_bad_replies),
	    cmocka_unit_test(test_dot_stuffing),  cmocka_unit_test(test_no_pipelining_helo),
	    cmocka_unit_test(test_starttls),	  cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_timeout),	  cmocka_unit_test(test_size),
	    cmocka_unit_test(test_rate_limit),	  cmocka_unit_test(test_maildir),
	    cmocka_unit_test(test_smtp_sink),	  cmocka_unit_test(test_origins),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
