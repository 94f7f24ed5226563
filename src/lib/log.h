/*
 * Logging: one event per line, key=value, to stderr or a file.
 *
 *   ts=2026-11-21T10:00:00.123Z level=info sid=4f2a9c01 msg="connect" peer=...
 *
 * Each line is written with a single write(2) so lines from several worker
 * processes appending to one file never interleave.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Longest line written; longer lines are cut and end in "...". */
#define LOG_LINE_MAX 2048

/* Parse "debug|info|warn|error". Returns 0, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *level_r)
	__attribute__((warn_unused_result));

/*
 * Send lines to file (appended, created 0640) or to stderr when file is NULL
 * or empty. Replaces a previously opened file. Returns 0, or -1 with
 * *error_r set (a static string owned by the log module).
 */
int log_open(const char *file, enum log_level level, const char **error_r)
	__attribute__((warn_unused_result));

/* Name of this process in log lines ("master", "worker", ...). */
void log_set_process(const char *name);

/*
 * Log one event. sid may be NULL (no session). kvfmt is a printf format for
 * the key=value tail and may be NULL; values that come from the network must
 * go through log_q() so they cannot forge keys or lines.
 */
void log_event(enum log_level level, const char *sid, const char *msg,
	       const char *kvfmt, ...) __attribute__((format(printf, 4, 5)));

#define log_debug(sid, msg, ...)                                               \
	log_event(LOG_LEVEL_DEBUG, sid, msg, __VA_ARGS__)
#define log_info(sid, msg, ...) log_event(LOG_LEVEL_INFO, sid, msg, __VA_ARGS__)
#define log_warn(sid, msg, ...) log_event(LOG_LEVEL_WARN, sid, msg, __VA_ARGS__)
#define log_error(sid, msg, ...)                                               \
	log_event(LOG_LEVEL_ERROR, sid, msg, __VA_ARGS__)

/* True when events at level would be written (skip costly formatting). */
int log_enabled(enum log_level level);

/*
 * Render s (len bytes, may hold any byte) as a log value into buf: bare when
 * it is plain, else double-quoted with \" \\ \n \r \t and \xHH escapes.
 * Always NUL-terminates; cuts with "..." when buf is too small. Returns buf.
 */
const char *log_q(char *buf, size_t size, const char *s, size_t len);
/* log_q for a NUL-terminated string; NULL renders as "-". */
const char *log_qs(char *buf, size_t size, const char *s);

/* Broken environment (out of memory, cannot bind): log and exit(2). */
void fatal(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
/* Broken invariant (a bug): log and abort() for a core dump. */
void panic(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#endif
