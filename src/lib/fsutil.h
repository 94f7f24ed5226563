/*
 * Durable-file helpers: the small steps that make a new file or
 * directory survive a crash (write everything, fsync the directory that
 * holds a new entry, create directories and make their entries durable).
 *
 * Plain POSIX, no mail knowledge: every function returns 0 on success or
 * -1 with errno set, and never logs. Callers build their own messages.
 */
#ifndef LIB_FSUTIL_H
#define LIB_FSUTIL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Write all len bytes of p to fd, retrying short writes and EINTR.
 * Returns 0, or -1 with errno from write(2); some bytes may have been
 * written by then.
 */
int fsutil_write_all(int fd, const void *p, size_t len)
	__attribute__((warn_unused_result));

/*
 * fsync(2) the directory path, so entries created, renamed or removed in
 * it are durable. Returns 0, or -1 with errno from open(2) (ENOENT when
 * path is missing, ENOTDIR when it is not a directory), fsync(2) or
 * close(2).
 */
int fsutil_fsync_dir(const char *path) __attribute__((warn_unused_result));

/*
 * fsutil_fsync_dir() on the directory holding path: the text before the
 * last '/', "/" for "/name", "." when path has no '/'. path itself need
 * not exist (it may just have been unlinked). Returns 0, or -1 with errno
 * (ENAMETOOLONG when the parent does not fit in PATH_MAX).
 */
int fsutil_fsync_parent(const char *path) __attribute__((warn_unused_result));

/*
 * mkdir -p: create path with mode (before umask), and any missing parent
 * with the same mode. After each directory it creates, its parent is
 * fsync'd so the new entry survives a crash. A path that already exists
 * succeeds without any check of its type, as mkdir(2)'s EEXIST says; a
 * caller that needs a directory finds out when it uses it. Trailing '/'
 * are ignored. Returns 0, or -1 with errno from mkdir(2) or the fsync
 * (ENAMETOOLONG when path does not fit in PATH_MAX); directories created
 * before a failure are left in place.
 */
int fsutil_mkdir_p(const char *path, mode_t mode)
	__attribute__((warn_unused_result));

/*
 * For callers that keep the reason of a failed file step as one message
 * of FSUTIL_ERR_SIZE octets (the spool, the Maildir writer): room for a
 * path and what went wrong with it.
 */
#define FSUTIL_ERR_SIZE (PATH_MAX + 256)

/* printf into err, cut to FSUTIL_ERR_SIZE. */
void fsutil_errf(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "<what> <path>: <strerror(errno)>" into err. */
void fsutil_errno(char *err, const char *what, const char *path);
/*
 * snprintf into buf of PATH_MAX octets. Returns 0, or -1 with "path too
 * long: ..." in err when it does not fit.
 */
int fsutil_pathf(char *buf, char *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), warn_unused_result));

#endif
