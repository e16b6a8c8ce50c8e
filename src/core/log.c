/*
 * log.c - leveled, line-safe logging.
 *
 * TRUST: formats whatever the caller passes; escapes every byte outside
 * printable ASCII so that input can never forge a second log line.
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/limits.h"

static struct {
	const char *ident;
	enum log_level level;
	int use_syslog;
	FILE *fp;
} L = {"listkeeper", LOG_LEVEL_INFO, 0, NULL};

int log_open(const char *ident, enum log_level level, const char *dest)
{
	log_close();
	L.ident = ident ? ident : "listkeeper";
	L.level = level;
	if (dest == NULL || dest[0] == '\0' || strcmp(dest, "stderr") == 0)
		return 0;
	if (strcmp(dest, "syslog") == 0) {
		openlog(L.ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
		L.use_syslog = 1;
		return 0;
	}
	L.fp = fopen(dest, "ae");
	return L.fp != NULL ? 0 : -1;
}

void log_close(void)
{
	if (L.use_syslog)
		closelog();
	if (L.fp != NULL)
		fclose(L.fp);
	L.fp = NULL;
	L.use_syslog = 0;
}

int log_level_parse(const char *z, enum log_level *out)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (strcmp(z, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

__attribute__((format(printf, 3, 0))) static void emit(enum log_level lvl, int with_errno,
						       const char *fmt, va_list ap)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
	int saved = errno;
	if (lvl < L.level)
		return;
	char raw[LK_MAX_LOG_LINE];
	char line[LK_MAX_LOG_LINE];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	size_t o = 0;
	for (size_t i = 0; raw[i] != '\0' && o + 5 < sizeof(line); i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c >= 0x20 && c < 0x7f) {
			line[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";
			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 15];
		}
	}
	line[o] = '\0';
	const char *err = with_errno ? strerror(saved) : NULL;
	if (L.use_syslog) {
		if (err)
			syslog(prio[lvl], "level=%s %s: %s", names[lvl], line, err);
		else
			syslog(prio[lvl], "level=%s %s", names[lvl], line);
	} else {
		FILE *fp = L.fp ? L.fp : stderr;
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (err)
			fprintf(fp, "%s %s[%d]: level=%s %s: %s\n", ts, L.ident, (int)getpid(),
				names[lvl], line, err);
		else
			fprintf(fp, "%s %s[%d]: level=%s %s\n", ts, L.ident, (int)getpid(),
				names[lvl], line);
		fflush(fp);
	}
	errno = saved;
}

#define DEFINE_LOG(fn, lvl, e)                                                                     \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(lvl, e, fmt, ap);                                                             \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(log_debug, LOG_LEVEL_DEBUG, 0)
DEFINE_LOG(log_info, LOG_LEVEL_INFO, 0)
DEFINE_LOG(log_warn, LOG_LEVEL_WARN, 1)
DEFINE_LOG(log_warnx, LOG_LEVEL_WARN, 0)
DEFINE_LOG(log_error, LOG_LEVEL_ERROR, 0)

void log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
