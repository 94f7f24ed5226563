/*
 * Maildir delivery: temp file, fsync, link into each new/, fsync new/.
 *
 * SECURITY: every path is built from data_dir plus names that are checked
 * by name_ok() (no '/', no leading '.', not empty), so nothing is created
 * outside <data_dir>. Files are 0600 and directories 0700: only the
 * server's user reads mail.
 */
#include "store/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

/* Longest name this module puts into a directory, NUL included. */
#define NAME_SIZE 256
/* Bytes of the escaped host name kept in a unique name. */
#define HOST_NAME_CAP 128

struct maildir_delivery {
	char *data_dir;
	char *host; /* sanitized for file names */
	char *tmp_path;
	char *buf; /* MAILDIR_WRITE_BUFFER bytes */
	size_t buf_len;
	uint64_t size;
	int fd;
	bool failed; /* a write failed: error holds why */
	bool committed;
	char id[MAILDIR_ID_SIZE];
	char error[FSUTIL_ERR_SIZE];
};

/* Maildir unique names: one counter per process (the Q part). */
static unsigned long maildir_counter;
static char new_error[FSUTIL_ERR_SIZE];

/* Defence in depth: the user database already validated these. */
static bool name_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && s[0] != '.' &&
	       strchr(s, '/') == NULL;
}

/* <data_dir>/mail/<domain>/<local>, after checking both names. */
static int maildir_path(char *buf, const char *data_dir,
			const struct maildir_target *t, char *err)
{
	if (!name_ok(t->domain) || !name_ok(t->local)) {
		fsutil_errf(err, "refused maildir name %.64s/%.64s",
			    t->domain != NULL ? t->domain : "(null)",
			    t->local != NULL ? t->local : "(null)");
		return -1;
	}
	return fsutil_pathf(buf, err, "%s/mail/%s/%s", data_dir, t->domain,
			    t->local);
}

/* cur/ and tmp/ first: a new/ that exists implies a complete Maildir. */
static int maildir_create(const char *mdpath, char *err)
{
	static const char *const subdirs[] = {"cur", "tmp", "new"};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		if (fsutil_pathf(path, err, "%s/%s", mdpath, subdirs[i]) < 0)
			return -1;
		if (fsutil_mkdir_p(path, 0700) < 0) {
			fsutil_errno(err, "mkdir", path);
			return -1;
		}
	}
	return 0;
}

static void hex_id(char *id, const unsigned char *bytes)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < MAILDIR_ID_LEN / 2; i++) {
		id[2 * i] = hex[bytes[i] >> 4];
		id[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	id[MAILDIR_ID_LEN] = '\0';
}

/* A random queue id; random so ids from several workers never collide. */
static void make_id(char *id)
{
	unsigned char bytes[MAILDIR_ID_LEN / 2];

	if (getrandom(bytes, sizeof(bytes), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(bytes)) {
		struct timespec ts;
		uint64_t v;

		/* No entropy yet (early boot): unique is all an id needs. */
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		    ((uint64_t)getpid() << 32) ^ ++maildir_counter;
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(v >> (8 * i));
	}
	hex_id(id, bytes);
}

/* Dovecot's escaping of the host part of a unique name. */
static char *sanitize_host(const char *hostname)
{
	size_t len, n = 0;
	char *out;

	if (hostname == NULL || hostname[0] == '\0')
		hostname = "localhost";
	len = strlen(hostname);
	out = xmalloc(HOST_NAME_CAP + 1);
	/* Capped so a unique name stays well under NAME_MAX (255). */
	for (size_t i = 0; i < len && n + 4 <= HOST_NAME_CAP; i++) {
		if (hostname[i] == '/') {
			memcpy(out + n, "\\057", 4);
			n += 4;
		} else if (hostname[i] == ':') {
			memcpy(out + n, "\\072", 4);
			n += 4;
		} else {
			out[n++] = hostname[i];
		}
	}
	out[n] = '\0';
	return out;
}

static int open_temp(struct maildir_delivery *d, char *err)
{
	char path[PATH_MAX];

	if (fsutil_pathf(path, err, "%s/tmp", d->data_dir) < 0)
		return -1;
	if (fsutil_mkdir_p(path, 0700) < 0) {
		fsutil_errno(err, "mkdir", path);
		return -1;
	}
	/* A clash with a leftover file only costs another id. */
	for (int tries = 0; tries < 8; tries++) {
		make_id(d->id);
		if (fsutil_pathf(path, err, "%s/tmp/%lld.%s.P%ld", d->data_dir,
				 (long long)time(NULL), d->id,
				 (long)getpid()) < 0)
			return -1;
		d->fd = open(path,
			     O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			     0600);
		if (d->fd >= 0) {
			d->tmp_path = xstrdup(path);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	fsutil_errno(err, "open", path);
	return -1;
}

struct maildir_delivery *maildir_delivery_new(const char *data_dir,
					      const char *hostname,
					      const char **error_r)
{
	struct maildir_delivery *d;

	if (data_dir == NULL || data_dir[0] == '\0') {
		fsutil_errf(new_error, "no data directory");
		*error_r = new_error;
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->fd = -1;
	d->data_dir = xstrdup(data_dir);
	d->host = sanitize_host(hostname);
	if (open_temp(d, new_error) < 0) {
		*error_r = new_error;
		maildir_delivery_free(&d);
		return NULL;
	}
	d->buf = xmalloc(MAILDIR_WRITE_BUFFER);
	return d;
}

const char *maildir_delivery_id(const struct maildir_delivery *d)
{
	return d->id;
}

uint64_t maildir_delivery_size(const struct maildir_delivery *d)
{
	return d->size;
}

static int flush(struct maildir_delivery *d)
{
	if (d->buf_len == 0)
		return 0;
	if (fsutil_write_all(d->fd, d->buf, d->buf_len) < 0) {
		fsutil_errno(d->error, "write", d->tmp_path);
		d->failed = true;
		return -1;
	}
	d->buf_len = 0;
	return 0;
}

int maildir_delivery_write(struct maildir_delivery *d, const void *data,
			   size_t len, const char **error_r)
{
	const char *p = data;

	if (d->committed && !d->failed) {
		fsutil_errf(d->error, "write after commit");
		d->failed = true;
	}
	if (d->failed) {
		*error_r = d->error;
		return -1;
	}
	while (len > 0) {
		size_t n = MAILDIR_WRITE_BUFFER - d->buf_len;

		if (n > len)
			n = len;
		memcpy(d->buf + d->buf_len, p, n);
		d->buf_len += n;
		d->size += n;
		p += n;
		len -= n;
		if (d->buf_len == MAILDIR_WRITE_BUFFER && flush(d) < 0) {
			*error_r = d->error;
			return -1;
		}
	}
	return 0;
}

/* -------- quota: Maildir++ maildirsize -------- */

/* [-]digits, then *p is left after them. */
static bool parse_i64(const char **p, const char *end, int64_t *r)
{
	bool neg = false;
	uint64_t v = 0;
	const char *s = *p;

	if (s < end && *s == '-') {
		neg = true;
		s++;
	}
	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (uint64_t)INT64_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*r = neg ? -(int64_t)v : (int64_t)v;
	*p = s;
	return true;
}

/* First line: "<bytes>S" and/or "<count>C", comma-separated. */
static bool parse_quota_line(const char **p, const char *end, int64_t *s_r)
{
	const char *s = *p;
	int64_t v;

	*s_r = 0;
	for (;;) {
		if (!parse_i64(&s, end, &v) || v < 0 || s >= end)
			return false;
		if (*s == 'S')
			*s_r = v;
		else if (*s != 'C')
			return false;
		s++;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\n')
			break;
		return false;
	}
	*p = s + 1;
	return true;
}

/*
 * Sum a maildirsize file's lines. Returns false when it must be
 * recalculated: missing, too large, malformed, cut short (a delivery that
 * crashed mid-append), or written for another quota.
 */
static bool maildirsize_read(const char *path, uint64_t quota, int64_t *bytes_r)
{
	char buf[MAILDIR_SIZE_FILE_MAX + 1];
	size_t len = 0;
	const char *p, *end;
	int64_t def, bytes = 0, count = 0, v;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0 || len > MAILDIR_SIZE_FILE_MAX || buf[len - 1] != '\n')
		return false;
	p = buf;
	end = buf + len;
	if (!parse_quota_line(&p, end, &def) || (uint64_t)def != quota)
		return false;
	while (p < end) {
		if (!parse_i64(&p, end, &v) || p >= end || *p++ != ' ' ||
		    __builtin_add_overflow(bytes, v, &bytes))
			return false;
		if (!parse_i64(&p, end, &v) || p >= end || *p++ != '\n' ||
		    __builtin_add_overflow(count, v, &count))
			return false;
	}
	if (bytes < 0 || count < 0)
		return false;
	*bytes_r = bytes;
	return true;
}

/* Size from ",S=<n>" in a Maildir name; false when absent. */
static bool size_from_name(const char *name, uint64_t *size_r)
{
	const char *s = strstr(name, ",S=");
	uint64_t v = 0;

	if (s == NULL)
		return false;
	s += 3;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > UINT64_MAX / 10 - 1)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0' && *s != ',' && *s != ':')
		return false;
	*size_r = v;
	return true;
}

/* Add up the messages in one cur/ or new/; a missing one counts 0. */
static int scan_dir(const char *path, uint64_t *bytes, uint64_t *count,
		    char *err)
{
	DIR *dir = opendir(path);
	struct dirent *de;

	if (dir == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		fsutil_errno(err, "opendir", path);
		return -1;
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		uint64_t size;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (!size_from_name(de->d_name, &size)) {
			/* Gone meanwhile (moved to cur/, expunged): skip. */
			if (fstatat(dirfd(dir), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			size = (uint64_t)st.st_size;
		}
		*bytes += size;
		(*count)++;
		errno = 0;
	}
	if (errno != 0) {
		fsutil_errno(err, "readdir", path);
		closedir(dir);
		return -1;
	}
	closedir(dir);
	return 0;
}

/* One Maildir++ folder (the INBOX or a ".Name" folder): cur/ and new/. */
static int scan_folder(const char *folder, uint64_t *bytes, uint64_t *count,
		       char *err)
{
	char path[PATH_MAX];

	if (fsutil_pathf(path, err, "%s/cur", folder) < 0 ||
	    scan_dir(path, bytes, count, err) < 0)
		return -1;
	if (fsutil_pathf(path, err, "%s/new", folder) < 0 ||
	    scan_dir(path, bytes, count, err) < 0)
		return -1;
	return 0;
}

/* Recalculate from the files: the INBOX and every ".Folder". */
static int maildir_scan(const char *mdpath, uint64_t *bytes_r,
			uint64_t *count_r, char *err)
{
	char path[PATH_MAX];
	DIR *dir;
	struct dirent *de;

	*bytes_r = 0;
	*count_r = 0;
	if (scan_folder(mdpath, bytes_r, count_r, err) < 0)
		return -1;
	dir = opendir(mdpath);
	if (dir == NULL) {
		if (errno == ENOENT)
			return 0;
		fsutil_errno(err, "opendir", mdpath);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fsutil_pathf(path, err, "%s/%s", mdpath, de->d_name) < 0 ||
		    scan_folder(path, bytes_r, count_r, err) < 0) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

/*
 * Replace maildirsize via tmp/ + rename. Best effort: it is a cache, and
 * a missing or torn file is simply recalculated next time, so there is no
 * fsync. A delivery appending to the old file meanwhile loses its line;
 * Maildir++ accepts that drift until the next recalculation.
 */
static void maildirsize_write(const char *mdpath, uint64_t quota,
			      uint64_t bytes, uint64_t count)
{
	char tmp[PATH_MAX], path[PATH_MAX], err[FSUTIL_ERR_SIZE], line[128];
	int fd, n, saved = 0;
	bool ok;

	if (fsutil_pathf(tmp, err, "%s/tmp/maildirsize.P%ldQ%lu", mdpath,
			 (long)getpid(), ++maildir_counter) < 0 ||
	    fsutil_pathf(path, err, "%s/maildirsize", mdpath) < 0)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		if (errno != ENOENT) /* no Maildir yet: nothing to cache */
			log_warn(NULL, "cannot write maildirsize",
				 "path=%s error=%s", tmp, strerror(errno));
		return;
	}
	n = snprintf(line, sizeof(line), "%lluS\n%llu %llu\n",
		     (unsigned long long)quota, (unsigned long long)bytes,
		     (unsigned long long)count);
	ok = fsutil_write_all(fd, line, (size_t)n) == 0;
	if (!ok)
		saved = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp, path) < 0) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		log_warn(NULL, "cannot write maildirsize", "path=%s error=%s",
			 path, strerror(saved));
		unlink(tmp);
	}
}

int maildir_quota_check(const char *data_dir, const struct maildir_target *t,
			uint64_t size)
{
	char mdpath[PATH_MAX], path[PATH_MAX], err[FSUTIL_ERR_SIZE];
	int64_t used;
	uint64_t bytes, count;

	if (maildir_path(mdpath, data_dir, t, err) < 0 ||
	    fsutil_pathf(path, err, "%s/maildirsize", mdpath) < 0) {
		log_warn(NULL, "quota check failed", "error=\"%s\"", err);
		return -1;
	}
	if (t->quota == 0)
		return 0;
	if (size > t->quota)
		return 2;
	if (maildirsize_read(path, t->quota, &used)) {
		bytes = (uint64_t)used;
	} else {
		if (maildir_scan(mdpath, &bytes, &count, err) < 0) {
			log_warn(NULL, "quota check failed", "error=\"%s\"",
				 err);
			return -1;
		}
		maildirsize_write(mdpath, t->quota, bytes, count);
	}
	/* Exactly full still fits. */
	if (bytes > t->quota || size > t->quota - bytes)
		return 1;
	return 0;
}

/* Append "<size> 1" where a maildirsize exists; one write, O_APPEND. */
static void maildirsize_append(const char *mdpath, uint64_t size)
{
	char path[PATH_MAX], err[FSUTIL_ERR_SIZE], line[64];
	int fd, n, saved = 0;
	bool ok;

	if (fsutil_pathf(path, err, "%s/maildirsize", mdpath) < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return; /* no file: the next quota check recalculates */
	n = snprintf(line, sizeof(line), "%llu 1\n", (unsigned long long)size);
	ok = fsutil_write_all(fd, line, (size_t)n) == 0;
	if (!ok)
		saved = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		log_warn(NULL, "cannot update maildirsize", "path=%s error=%s",
			 path, strerror(saved));
		/* A wrong sum would stick; a missing file is recalculated. */
		unlink(path);
	}
}

/* -------- commit -------- */

/* The link(2) fallback: copy into <maildir>/tmp/, fsync, rename to new/. */
static int copy_into(struct maildir_delivery *d, const char *mdpath,
		     const char *name, const char *dest)
{
	char tmp[PATH_MAX];
	uint64_t off = 0;
	int out;

	if (fsutil_pathf(tmp, d->error, "%s/tmp/%s", mdpath, name) < 0)
		return -1;
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		   0600);
	if (out < 0) {
		fsutil_errno(d->error, "open", tmp);
		return -1;
	}
	while (off < d->size) {
		ssize_t n =
			pread(d->fd, d->buf, MAILDIR_WRITE_BUFFER, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the temp file shrank */
			fsutil_errno(d->error, "read", d->tmp_path);
			goto fail;
		}
		if (fsutil_write_all(out, d->buf, (size_t)n) < 0) {
			fsutil_errno(d->error, "write", tmp);
			goto fail;
		}
		off += (uint64_t)n;
	}
	if (fsync(out) < 0) {
		fsutil_errno(d->error, "fsync", tmp);
		goto fail;
	}
	if (close(out) < 0) {
		out = -1;
		fsutil_errno(d->error, "close", tmp);
		goto fail;
	}
	out = -1;
	if (rename(tmp, dest) < 0) {
		fsutil_errno(d->error, "rename", dest);
		goto fail;
	}
	return 0;
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	return -1;
}

/* Put the temp file into <mdpath>/new/<name>; dest gets the full path. */
static int deliver_one(struct maildir_delivery *d, const char *mdpath,
		       const char *name, char *dest)
{
	int r;

	if (fsutil_pathf(dest, d->error, "%s/new/%s", mdpath, name) < 0)
		return -1;
	r = link(d->tmp_path, dest);
	if (r < 0 && errno == ENOENT) {
		/* First delivery to this user: make the Maildir. */
		if (maildir_create(mdpath, d->error) < 0)
			return -1;
		r = link(d->tmp_path, dest);
	}
	if (r == 0)
		return 0;
	if (errno == EXDEV || errno == EPERM)
		return copy_into(d, mdpath, name, dest);
	fsutil_errno(d->error, "link", dest);
	return -1;
}

/* Dovecot style: <sec>.M<usec>P<pid>Q<counter>.<host>,S=<size> */
static int unique_name(struct maildir_delivery *d, char *name)
{
	struct timeval tv;
	int n;

	gettimeofday(&tv, NULL);
	n = snprintf(name, NAME_SIZE, "%lld.M%ldP%ldQ%lu.%s,S=%llu",
		     (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		     ++maildir_counter, d->host, (unsigned long long)d->size);
	if (n < 0 || n >= NAME_SIZE) {
		fsutil_errf(d->error, "maildir file name too long");
		return -1;
	}
	return 0;
}

/* Undo the links made so far; d->error already says why. */
static void rollback(char **mdpaths, char **links, size_t n)
{
	char err[FSUTIL_ERR_SIZE], dir[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		if (links[i] == NULL)
			continue;
		if (unlink(links[i]) < 0 && errno != ENOENT)
			log_error(NULL, "cannot undo maildir delivery",
				  "path=%s error=%s", links[i],
				  strerror(errno));
		if (fsutil_pathf(dir, err, "%s/new", mdpaths[i]) == 0 &&
		    fsutil_fsync_dir(dir) < 0)
			log_warn(NULL, "cannot undo maildir delivery",
				 "error=\"fsync %s: %s\"", dir,
				 strerror(errno));
		xfree(&links[i]);
	}
}

/*
 * Paths of the targets' Maildirs; NULL for a target that repeats an
 * earlier one, so each new/ gets one link and one fsync.
 */
static int target_paths(struct maildir_delivery *d,
			const struct maildir_target *targets, size_t n,
			char **mdpaths)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		if (maildir_path(path, d->data_dir, &targets[i], d->error) < 0)
			return -1;
		for (size_t j = 0; j < i && !dup; j++)
			dup = mdpaths[j] != NULL &&
			      strcmp(mdpaths[j], path) == 0;
		if (!dup)
			mdpaths[i] = xstrdup(path);
	}
	return 0;
}

/* Link into every new/, then fsync every new/. */
static int link_all(struct maildir_delivery *d, char **mdpaths, char **links,
		    size_t n)
{
	char name[NAME_SIZE], dest[PATH_MAX];

	if (unique_name(d, name) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (mdpaths[i] == NULL)
			continue;
		if (deliver_one(d, mdpaths[i], name, dest) < 0)
			return -1;
		links[i] = xstrdup(dest);
	}
	for (size_t i = 0; i < n; i++) {
		if (mdpaths[i] == NULL)
			continue;
		if (fsutil_pathf(dest, d->error, "%s/new", mdpaths[i]) < 0)
			return -1;
		if (fsutil_fsync_dir(dest) < 0) {
			fsutil_errno(d->error, "fsync", dest);
			return -1;
		}
	}
	return 0;
}

static int commit_check(struct maildir_delivery *d, size_t n, size_t id_size)
{
	if (d->failed)
		return -1;
	if (d->committed)
		fsutil_errf(d->error, "delivery already committed");
	else if (n == 0)
		fsutil_errf(d->error, "no recipients");
	else if (id_size < MAILDIR_ID_SIZE)
		fsutil_errf(d->error, "queue id buffer too small");
	else
		return 0;
	return -1;
}

/* The message is durable; the rest only tidies up. */
static void commit_finish(struct maildir_delivery *d, char **mdpaths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (mdpaths[i] != NULL)
			maildirsize_append(mdpaths[i], d->size);
	}
	if (unlink(d->tmp_path) < 0)
		log_warn(NULL, "cannot remove temp file", "path=%s error=%s",
			 d->tmp_path, strerror(errno));
	/* fsync already succeeded: a close error cannot lose data now. */
	if (close(d->fd) < 0)
		log_warn(NULL, "cannot close temp file", "path=%s error=%s",
			 d->tmp_path, strerror(errno));
	d->fd = -1;
	d->committed = true;
}

int maildir_delivery_commit(struct maildir_delivery *d,
			    const struct maildir_target *targets, size_t n,
			    char *id_r, size_t id_size, const char **error_r)
{
	char **mdpaths, **links;
	int ret = -1;

	if (commit_check(d, n, id_size) < 0) {
		*error_r = d->error;
		return -1;
	}
	mdpaths = xcalloc(n, sizeof(*mdpaths));
	links = xcalloc(n, sizeof(*links));
	if (target_paths(d, targets, n, mdpaths) < 0 || flush(d) < 0)
		goto out;
	if (fsync(d->fd) < 0) {
		fsutil_errno(d->error, "fsync", d->tmp_path);
		goto out;
	}
	if (link_all(d, mdpaths, links, n) < 0) {
		rollback(mdpaths, links, n);
		goto out;
	}
	commit_finish(d, mdpaths, n);
	strlcpy_p(id_r, d->id, id_size);
	ret = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(mdpaths[i]);
		free(links[i]);
	}
	free(mdpaths);
	free(links);
	if (ret < 0)
		*error_r = d->error;
	return ret;
}

void maildir_delivery_free(struct maildir_delivery **dp)
{
	struct maildir_delivery *d = *dp;

	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->tmp_path != NULL && !d->committed)
		unlink(d->tmp_path);
	free(d->tmp_path);
	free(d->data_dir);
	free(d->host);
	free(d->buf);
	free(d);
	*dp = NULL;
}
