/*
 * The remembered smart host port (format in smarthost_state.h).
 *
 * SECURITY: the file is under the spool, written only by the queue
 * worker, but it is still read as untrusted bytes: bounded read, strict
 * parser, and the path is fixed (no name from the file or the network).
 */
#include "queue/smarthost_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"

static char state_error[PATH_MAX + 128];

static bool host_ok(const char *host, size_t len)
{
	if (len == 0 || len > SMARTHOST_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (host[i] <= ' ' || host[i] > '~')
			return false;
	}
	return true;
}

int smarthost_state_parse(const char *buf, size_t len, const char *host,
			  const char **error_r)
{
	const char *sp, *p, *end;
	long port = 0;

	if (len > SMARTHOST_STATE_MAX || len == 0 || buf[len - 1] != '\n') {
		*error_r = "not one line of at most the maximum length";
		return -1;
	}
	end = buf + len - 1;
	sp = memchr(buf, ' ', (size_t)(end - buf));
	if (sp == NULL || !host_ok(buf, (size_t)(sp - buf))) {
		*error_r = "bad host";
		return -1;
	}
	p = sp + 1;
	if (p == end || end - p > 5 || *p == '0') {
		*error_r = "bad port";
		return -1;
	}
	for (; p < end; p++) {
		if (*p < '0' || *p > '9') {
			*error_r = "bad port";
			return -1;
		}
		port = port * 10 + (*p - '0');
	}
	if (port > 65535) {
		*error_r = "bad port";
		return -1;
	}
	if (strlen(host) != (size_t)(sp - buf) ||
	    memcmp(host, buf, (size_t)(sp - buf)) != 0)
		return 0;
	return (int)port;
}

int smarthost_state_format(char *buf, size_t size, const char *host, int port)
{
	int n;

	if (host == NULL || !host_ok(host, strlen(host)) || port < 1 ||
	    port > 65535)
		return -1;
	n = snprintf(buf, size, "%s %d\n", host, port);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int smarthost_state_load(const char *data_dir, const char *host)
{
	char path[PATH_MAX], buf[SMARTHOST_STATE_MAX + 1];
	const char *error;
	ssize_t n;
	int fd, port;

	if (snprintf(path, sizeof(path), "%s/queue/smarthost", data_dir) >=
	    (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* One byte over the maximum shows a file that is too long. */
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return 0;
	port = smarthost_state_parse(buf, (size_t)n, host, &error);
	return port > 0 ? port : 0;
}

int smarthost_state_save(const char *data_dir, const char *host, int port,
			 const char **error_r)
{
	char path[PATH_MAX], tmp[PATH_MAX], rec[SMARTHOST_STATE_MAX + 1];
	int len = smarthost_state_format(rec, sizeof(rec), host, port);
	int fd;
	bool ok;

	*error_r = state_error;
	if (len < 0) {
		snprintf(state_error, sizeof(state_error),
			 "cannot record host %.64s port %d", host, port);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/queue/smarthost", data_dir) >=
		    (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/queue/smarthost.tmp", data_dir) >=
		    (int)sizeof(tmp)) {
		snprintf(state_error, sizeof(state_error), "path too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		snprintf(state_error, sizeof(state_error), "create %s: %s", tmp,
			 strerror(errno));
		return -1;
	}
	ok = fsutil_write_all(fd, rec, (size_t)len) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		snprintf(state_error, sizeof(state_error), "write %s: %s", path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
