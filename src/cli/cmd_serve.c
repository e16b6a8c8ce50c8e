/*
 * cmd_serve.c - `listkeeper serve [--role web|delivery|intake|scheduler|admin]...`: run the server
 * in the foreground until SIGINT or SIGTERM.
 *
 * Roles: web, delivery, intake and scheduler (delivery/scheduler.h; all by
 * default), and admin (web/admin.h: the staff pages and the JSON API on a
 * listener of their own, run only when asked for, so that a site opts in). Each role gets the
 * configuration and opens its own store connections: roles share nothing but the store (DESIGN.md
 * section 2), so each can also run alone, as its own process or node.
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts, so that
 * every thread inherits the mask and only sigwait() below receives them.
 *
 * TRUST: arguments and configuration are the operator's; the network is
 * handled by web/http.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "delivery/role.h"
#include "delivery/scheduler.h"
#include "intake/lmtp.h"
#include "web/admin.h"
#include "web/http.h"

static const char USAGE[] =
    "usage: listkeeper serve [--role web|delivery|intake|scheduler|admin]...\n\n"
    "Runs the server in the foreground until SIGINT (Ctrl-C) or SIGTERM.\n"
    "  --role web       the web pages; address from [http] listen\n"
    "  --role delivery  sends jobs to [delivery] relay\n"
    "  --role intake    the LMTP server for bounces and unsubscribes; [lmtp] listen\n"
    "  --role scheduler timed work: the owners' daily summary at [summary] hour\n"
    "  --role admin     the admin pages and the JSON API; [admin] listen\n"
    "Without --role, every role but admin runs. Give --role more than once for several.\n";

int cmd_serve(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(USAGE, stdout);
		return 0;
	}
	int want_web = 0, want_delivery = 0, want_intake = 0, want_sched = 0, want_admin = 0;
	for (int i = 1; i < argc; i++) {
		const char *role = NULL;
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role = argv[++i];
		else if (!strncmp(argv[i], "--role=", 7))
			role = argv[i] + 7;
		if (role == NULL) {
			fprintf(stderr, "listkeeper serve: unexpected argument '%s'\n", argv[i]);
			fputs(USAGE, stderr);
			return EX_USAGE;
		}
		if (!strcmp(role, "web")) {
			want_web = 1;
		} else if (!strcmp(role, "delivery")) {
			want_delivery = 1;
		} else if (!strcmp(role, "intake")) {
			want_intake = 1;
		} else if (!strcmp(role, "scheduler")) {
			want_sched = 1;
		} else if (!strcmp(role, "admin")) {
			want_admin = 1;
		} else {
			fprintf(
			    stderr,
			    "listkeeper serve: role '%s' is not in this release (web, delivery, "
			    "intake, scheduler, admin)\n",
			    role);
			return EX_USAGE;
		}
	}
	if (!want_web && !want_delivery && !want_intake && !want_sched && !want_admin)
		want_web = want_delivery = want_intake = want_sched = 1;
	c->migrate = 1; /* the schema is brought up to date on start */
	int r = cli_open(c);
	if (r)
		return r;
	/* cli_open proved that the configuration, keys and store are usable; the
	 * roles open their own store connections, so this one is not needed. */
	store_close(c->st);
	c->st = NULL;
	c->x.st = NULL;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "listkeeper serve: cannot block signals\n");
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error return, not a death */

	struct buf err;
	buf_init(&err, 4096);
	struct http_server *http = NULL;
	struct delivery_role *delivery = NULL;
	struct lmtp_server *lmtp = NULL;
	struct scheduler *sched = NULL;
	if (want_web && http_listen_check(conf_get(c->conf, "http", "listen"), &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	if (want_admin && admin_listen_check(conf_get(c->conf, "admin", "listen"), &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	if (want_intake && lmtp_listen_check(conf_get(c->conf, "lmtp", "listen"), &err) < 0) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	if (want_delivery && (delivery = delivery_role_start(c->conf, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper: delivery: %s\n", buf_cstr(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	/* A value that parses but cannot be bound (port taken) is the system's: 71. */
	if (want_web && (http = http_server_start(c->conf, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		delivery_role_stop(delivery);
		return EX_OSERR;
	}
	if (want_intake && (lmtp = lmtp_server_start(c->conf, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		if (http != NULL)
			http_server_stop(http);
		delivery_role_stop(delivery);
		return EX_OSERR;
	}
	if (want_sched && (sched = scheduler_start(c->conf, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper: scheduler: %s\n", buf_cstr(&err));
		buf_free(&err);
		lmtp_server_stop(lmtp);
		if (http != NULL)
			http_server_stop(http);
		delivery_role_stop(delivery);
		return EX_CONFIG;
	}
	struct admin_server *admin = NULL;
	if (want_admin && (admin = admin_server_start(c->conf, &c->keys, &err)) == NULL) {
		fprintf(stderr, "listkeeper: %s\n", buf_cstr(&err));
		buf_free(&err);
		scheduler_stop(sched);
		lmtp_server_stop(lmtp);
		if (http != NULL)
			http_server_stop(http);
		delivery_role_stop(delivery);
		return EX_OSERR;
	}
	buf_free(&err);
	if (admin != NULL) {
		log_info("serve: role=admin url=%s", admin_server_url(admin));
		printf("listkeeper: admin at %s\n", admin_server_url(admin));
	}
	if (sched != NULL) {
		log_info("serve: role=scheduler summary_hour=%lld",
			 (long long)conf_get_int(c->conf, "summary", "hour"));
		printf("listkeeper: scheduler on\n");
	}
	if (delivery != NULL) {
		log_info("serve: role=delivery relay=%s", conf_get(c->conf, "delivery", "relay"));
		printf("listkeeper: delivering to %s\n", conf_get(c->conf, "delivery", "relay"));
	}
	if (http != NULL) {
		log_info("serve: role=web url=%s", http_server_url(http));
		printf("listkeeper: serving %s\n", http_server_url(http));
	}
	if (lmtp != NULL) {
		log_info("serve: role=intake lmtp=%s", lmtp_server_addr(lmtp));
		printf("listkeeper: lmtp on %s\n", lmtp_server_addr(lmtp));
	}
	fflush(stdout);

	int sig = 0;
	if (sigwait(&set, &sig) != 0) /* only fails for a bad set: a bug */
		log_warnx("serve: sigwait failed, stopping");
	log_info("serve: signal=%d, stopping", sig);
	admin_server_stop(admin);
	scheduler_stop(sched);
	lmtp_server_stop(lmtp);
	if (http != NULL)
		http_server_stop(http);
	delivery_role_stop(delivery);
	log_info("serve: stopped");
	return 0;
}
