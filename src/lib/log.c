#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The logger is process-wide by nature: one sink, one level, one name. */
static int log_fd = STDERR_FILENO;
static enum log_level log_min = LOG_LEVEL_INFO;
static const char *log_proc = "postern";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_open(const char *file, enum log_level level, const char **error_r)
{
	int fd = STDERR_FILENO;

	if (file != NULL && *file != '\0') {
		fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0640);
		if (fd < 0) {
			*error_r = strerror(errno);
			return -1;
		}
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	log_min = level;
	return 0;
}

void log_set_process(const char *name)
{
	log_proc = name;
}

int log_enabled(enum log_level level)
{
	return level >= log_min;
}

static int needs_quote(const char *s, size_t len)
{
	if (len == 0)
		return 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
			return 1;
	}
	return 0;
}

const char *log_q(char *buf, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i;
	int quote;

	if (size == 0)
		return buf;
	/* Room for the closing quote, "..." and the NUL. */
	size_t limit = size > 6 ? size - 6 : 0;

	if (limit == 0) {
		/* Too small for any value: say only that it was cut. */
		o = size - 1 < 3 ? size - 1 : 3;
		memcpy(buf, "...", o);
		buf[o] = '\0';
		return buf;
	}
	quote = needs_quote(s, len);
	if (quote)
		buf[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc = 0;

		switch (c) {
		case '"':
			esc = '"';
			break;
		case '\\':
			esc = '\\';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\t':
			esc = 't';
			break;
		default:
			break;
		}
		if (esc != 0) {
			if (o + 2 > limit)
				break;
			buf[o++] = '\\';
			buf[o++] = esc;
		} else if (c < 0x20 || c == 0x7f) {
			if (o + 4 > limit)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			if (o + 1 > limit)
				break;
			buf[o++] = (char)c;
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (quote)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *log_qs(char *buf, size_t size, const char *s)
{
	if (s == NULL)
		return "-";
	return log_q(buf, size, s, strlen(s));
}

static void __attribute__((format(printf, 4, 0)))
log_vevent(enum log_level level, const char *sid, const char *msg,
	   const char *kvfmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char qmsg[512];
	struct timeval tv;
	struct tm tm;
	size_t o;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s sid=%s "
		     "msg=%s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
		     level_names[level], sid != NULL ? sid : "-",
		     log_q(qmsg, sizeof(qmsg), msg, strlen(msg)));
	o = n > 0 ? (size_t)n : 0;
	if (kvfmt != NULL && *kvfmt != '\0' && o + 1 < sizeof(line)) {
		line[o++] = ' ';
		n = vsnprintf(line + o, sizeof(line) - o, kvfmt, ap);
		if (n > 0)
			o += (size_t)n;
	}
	if (o + 1 < sizeof(line)) {
		n = snprintf(line + o, sizeof(line) - o, " proc=%s pid=%ld",
			     log_proc, (long)getpid());
		if (n > 0)
			o += (size_t)n;
	}
	if (o >= sizeof(line) - 1) {
		o = sizeof(line) - 1;
		memcpy(line + o - 3, "...", 3);
	}
	/* Values are escaped, but a careless kvfmt must not split lines. */
	for (size_t i = 0; i < o; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	}
	line[o++] = '\n';
	while (write(log_fd, line, o) < 0 && errno == EINTR)
		;
}

void log_event(enum log_level level, const char *sid, const char *msg,
	       const char *kvfmt, ...)
{
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, kvfmt);
	log_vevent(level, sid, msg, kvfmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(LOG_LEVEL_ERROR, NULL, "fatal", "error=%s",
		  log_qs((char[600]){0}, 600, msg));
	exit(2);
}

void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(LOG_LEVEL_ERROR, NULL, "panic", "error=%s",
		  log_qs((char[600]){0}, 600, msg));
	abort();
}
