/*
 * Message files in the Maildir: reading with CRLF line ends, finding a
 * file another tool renamed, removing a folder, the Maildir++ quota file.
 *
 * SECURITY: files are opened with O_NOFOLLOW and must be regular files, so
 * a symlink planted in a Maildir cannot make the server read elsewhere.
 * Names read from directories are single components (readdir) and the
 * ones starting with '.' are skipped.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

char *store_crlf(const char *data, size_t len, size_t *len_r)
{
	size_t bare = 0, n = 0;
	char *out;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			bare++;
	}
	*len_r = len + bare;
	if (bare == 0)
		return (char *)data;
	out = xmalloc(len + bare + 1);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = data[i];
	}
	out[n] = '\0';
	return out;
}

/* Read all of fd (size bytes expected) into a malloc'd buffer. */
static int store_read_fd(struct store_user *u, int fd, const char *path,
			 size_t size, char **buf_r, size_t *len_r)
{
	char *buf = xmalloc(size + 1);
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return store_errno_fail(u, "read", path);
		}
		if (n == 0)
			break; /* shrank meanwhile: what is there is the file */
		len += (size_t)n;
	}
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return 0;
}

/* Where the header block of buf ends (after its empty line), scanning
 * from *scan; 0 when not in buf yet (*scan says where to go on). */
static size_t header_end(const char *buf, size_t len, size_t *scan)
{
	size_t i;

	for (i = *scan; i < len; i++) {
		if (i > 0 && buf[i - 1] != '\n')
			continue;
		if (buf[i] == '\n')
			return i + 1;
		if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (buf[i] == '\r' && i + 1 == len)
			break; /* CR at the end: wait for the next byte */
	}
	*scan = i;
	return 0;
}

/* The header block only: read in steps until its empty line. */
static int store_read_header(struct store_user *u, int fd, const char *path,
			     char **buf_r, size_t *len_r)
{
	size_t cap = STORE_HEADER_STEP, len = 0, scan = 0, end = 0;
	char *buf = xmalloc(cap + 1);

	while (end == 0) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return store_errno_fail(u, "read", path);
		}
		if (n == 0) {
			end = len; /* no body: all of it is header */
			break;
		}
		len += (size_t)n;
		end = header_end(buf, len, &scan);
	}
	buf[end] = '\0';
	*buf_r = buf;
	*len_r = end;
	return 0;
}

int store_file_read(struct store_user *u, const char *path, bool header_only,
		    char **data_r, size_t *len_r, struct stat *st_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *raw = NULL, *crlf;
	size_t len = 0;
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return store_fail(u, STORE_ERR_EXPUNGED,
					  "message is gone");
		return store_errno_fail(u, "open", path);
	}
	if (fstat(fd, st_r) < 0) {
		rc = store_errno_fail(u, "stat", path);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st_r->st_mode) || (uint64_t)st_r->st_size > SIZE_MAX / 4) {
		close(fd);
		return store_fail(u, STORE_ERR_IO, "%s: not a message file",
				  path);
	}
	if (header_only)
		rc = store_read_header(u, fd, path, &raw, &len);
	else
		rc = store_read_fd(u, fd, path, (size_t)st_r->st_size, &raw,
				   &len);
	close(fd);
	if (rc < 0)
		return rc;
	crlf = store_crlf(raw, len, len_r);
	if (crlf != raw)
		free(raw);
	*data_r = crlf;
	return 0;
}

int store_find_base(struct store_user *u, const char *dir, const char *base,
		    char *out, size_t size)
{
	char *cur = xasprintf("%s/cur", dir);
	DIR *d = opendir(cur);
	struct dirent *de;
	size_t blen = strlen(base);
	int rc = STORE_ERR_EXPUNGED;

	if (d == NULL) {
		free(cur);
		return store_fail(u, STORE_ERR_EXPUNGED, "message is gone");
	}
	while ((de = readdir(d)) != NULL) {
		const char *info;

		if (!store_file_name_ok(de->d_name))
			continue;
		if (store_split_name(de->d_name, &info) == blen &&
		    strncmp(de->d_name, base, blen) == 0) {
			strlcpy_p(out, de->d_name, size);
			rc = 0;
			break;
		}
	}
	closedir(d);
	free(cur);
	if (rc < 0)
		store_fail(u, rc, "message is gone");
	return rc;
}

/* Unlink every file in dir; sizes added when bytes is not NULL. */
static int store_empty_dir(struct store_user *u, const char *dir,
			   uint64_t *bytes, uint64_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0
				       : store_errno_fail(u, "opendir", dir);
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    S_ISDIR(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			rc = store_errno_fail(u, "unlink", de->d_name);
			continue;
		}
		if (bytes != NULL) {
			*bytes += (uint64_t)st.st_size;
			(*count)++;
		}
	}
	closedir(d);
	return rc;
}

int store_rmdir_folder(struct store_user *u, const char *dir, uint64_t *bytes,
		       uint64_t *count)
{
	static const char *const subs[] = {"cur", "new", "tmp"};
	char *path;
	int rc;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		path = xasprintf("%s/%s", dir, subs[i]);
		rc = store_empty_dir(u, path, i < 2 ? bytes : NULL, count);
		if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
			rc = store_errno_fail(u, "rmdir", path);
		free(path);
		if (rc < 0)
			return rc;
	}
	/* The lock file and files other tools keep there. */
	if ((rc = store_empty_dir(u, dir, NULL, NULL)) < 0)
		return rc;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return store_errno_fail(u, "rmdir", dir);
	return 0;
}

void store_quota_add(struct store_user *u, int64_t bytes, int64_t count)
{
	char *path = xasprintf("%s/maildirsize", u->root);
	char line[64];
	int fd, n;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		/* No file: the next quota check recalculates it. */
		free(path);
		return;
	}
	/* One write with O_APPEND, as deliveries do (Maildir++). */
	n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)bytes,
		     (long long)count);
	if (fsutil_write_all(fd, line, (size_t)n) < 0) {
		log_warn(NULL, "cannot update maildirsize", "path=%s error=%s",
			 path, strerror(errno));
		/* A wrong sum would stick; a missing file is recalculated. */
		unlink(path);
	}
	close(fd);
	free(path);
}

int store_rename_noreplace(int oldfd, const char *old, int newfd,
			   const char *new)
{
	if (renameat2(oldfd, old, newfd, new, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A filesystem without RENAME_NOREPLACE: link(2) never replaces
	 * either. Directories cannot be linked (EPERM): check, then rename;
	 * postern's own processes are kept apart by the index lock. */
	if (linkat(oldfd, old, newfd, new, 0) == 0)
		return unlinkat(oldfd, old, 0) == 0 || errno == ENOENT ? 0 : -1;
	if (errno != EPERM)
		return -1;
	if (faccessat(newfd, new, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(oldfd, old, newfd, new);
}

int store_make_folder(struct store_user *u, const char *dir)
{
	static const char *const subs[] = {"cur", "tmp", "new"};

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *path = xasprintf("%s/%s", dir, subs[i]);

		if (fsutil_mkdir_p(path, 0700) < 0) {
			int rc = store_errno_fail(u, "mkdir", path);

			free(path);
			return rc;
		}
		free(path);
	}
	return 0;
}
