/*
 * log.h - logging with levels and key=value pairs, to stderr or syslog.
 *
 * House rule: never log an email address, a name or an IP address. Name a
 * subscriber by its id ("subscriber=42"), a list by its name. Messages are
 * printf formats; bytes outside printable ASCII are escaped on the way out,
 * so a log line can never be split by input.
 *
 *   log_warn   adds strerror(errno)      log_warnx  does not
 *   log_fatal  logs and exits 1 (a broken environment at start-up, STYLE.md 5)
 */
#ifndef LK_CORE_LOG_H
#define LK_CORE_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* dest: "stderr" (default), "syslog", or a file path (appended). Returns 0 or -1. */
int log_open(const char *ident, enum log_level level, const char *dest);
void log_close(void);
/* Parses "debug|info|warn|error"; -1 if unknown. */
int log_level_parse(const char *z, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
