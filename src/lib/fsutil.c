/* Durable-file helpers; the contract is in fsutil.h. */
#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_write_all(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int fsutil_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd) < 0 ? -1 : 0;
}

int fsutil_fsync_parent(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL)
		return fsutil_fsync_dir(".");
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= sizeof(parent)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(parent, path, len);
	parent[len] = '\0';
	return fsutil_fsync_dir(parent);
}

/* mkdir_p on a writable copy: path is cut at a '/' and restored. */
static int mkdir_p_at(char *path, mode_t mode)
{
	char *slash;
	int ret;

	if (mkdir(path, mode) == 0)
		return fsutil_fsync_parent(path);
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return -1; /* errno is still ENOENT */
	*slash = '\0';
	ret = mkdir_p_at(path, mode);
	*slash = '/';
	if (ret < 0)
		return -1;
	if (mkdir(path, mode) == 0)
		return fsutil_fsync_parent(path);
	return errno == EEXIST ? 0 : -1;
}

int fsutil_mkdir_p(const char *path, mode_t mode)
{
	char copy[PATH_MAX];
	size_t len = strnlen(path, sizeof(copy));

	if (len >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* "a/b/" would otherwise fsync a/b itself rather than a. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	memcpy(copy, path, len);
	copy[len] = '\0';
	return mkdir_p_at(copy, mode);
}

void fsutil_errf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, FSUTIL_ERR_SIZE, fmt, ap);
	va_end(ap);
}

void fsutil_errno(char *err, const char *what, const char *path)
{
	fsutil_errf(err, "%s %s: %s", what, path, strerror(errno));
}

int fsutil_pathf(char *buf, char *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		fsutil_errf(err, "path too long: %.64s...", buf);
		return -1;
	}
	return 0;
}
