/*
 * The outbound spool on disk: tmp/ then msg/ then env/, fsync at each
 * step (the order is in spool.h).
 *
 * SECURITY: every path is <data_dir>/queue/ plus a fixed directory name
 * plus an id that passed spool_id_valid() (16 of [0-9A-F]), so no id a
 * user or a record gives can reach outside the spool. Files are opened
 * with O_NOFOLLOW; files are 0600 and directories 0700 since they hold
 * other people's mail.
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/address.h"

/* Attempts at finding an unused id or temp name before giving up. */
#define ID_TRIES 8

struct spool_msg {
	char *data_dir;
	char *buf; /* SPOOL_WRITE_BUFFER bytes */
	size_t buf_len;
	uint64_t size;
	int fd;
	bool failed; /* sticky: error holds why */
	bool committed;
	char id[SPOOL_ID_SIZE];
	char tmp_msg[PATH_MAX];
	char tmp_env[PATH_MAX];
	char error[FSUTIL_ERR_SIZE];
};

static char spool_error[FSUTIL_ERR_SIZE];

/* <data_dir>/queue/<sub>/<id>, after checking id. */
static int id_path(char *buf, const char *data_dir, const char *sub,
		   const char *id, char *err)
{
	if (!spool_id_valid(id)) {
		fsutil_errf(err, "invalid queue id");
		return -1;
	}
	return fsutil_pathf(buf, err, "%s/queue/%s/%s", data_dir, sub, id);
}

/* fsync the directory holding path, so a new entry in it is durable. */
static int fsync_parent(const char *path, char *err)
{
	if (fsutil_fsync_parent(path) < 0) {
		fsutil_errno(err, "fsync directory of", path);
		return -1;
	}
	return 0;
}

/* <data_dir>/queue/<sub>, the directory holding a spool file. */
static int dir_path(char *buf, const char *data_dir, const char *sub, char *err)
{
	return fsutil_pathf(buf, err, "%s/queue/%s", data_dir, sub);
}

/* The folder path is in, in a static buffer (for adopt()). */
static const char *dirname_of(const char *path)
{
	static char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash != NULL ? (size_t)(slash - path) : 0;

	memcpy(dir, path, n);
	dir[n] = '\0';
	return dir;
}

/*
 * As root (the CLI: sendmail, queue commands), what the spool creates is
 * given to the owner of `owner_of` (data_dir, or the folder a file is in),
 * so the unprivileged queue worker can read and replace it.
 */
static int adopt(const char *owner_of, int fd, const char *path)
{
	struct stat st;

	if (geteuid() != 0 || stat(owner_of, &st) != 0)
		return 0;
	return fd >= 0 ? fchown(fd, st.st_uid, st.st_gid)
		       : chown(path, st.st_uid, st.st_gid);
}

static int make_dirs(const char *data_dir, char *err)
{
	static const char *const subs[] = {"tmp", "msg", "env"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (dir_path(path, data_dir, subs[i], err) < 0)
			return -1;
		if (fsutil_mkdir_p(path, 0700) < 0) {
			fsutil_errno(err, "mkdir", path);
			return -1;
		}
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (dir_path(path, data_dir, subs[i], err) < 0 ||
		    adopt(data_dir, -1, path) < 0 ||
		    (i == 0 && adopt(data_dir, -1, dirname_of(path)) < 0)) {
			fsutil_errno(err, "chown", path);
			return -1;
		}
	}
	return 0;
}

/* n random bytes as 2n upper-case hex digits plus NUL into out. */
static int random_hex(char *out, size_t n, char *err)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char bytes[SPOOL_ID_LEN / 2];
	size_t i;

	if (n > sizeof(bytes))
		panic("random_hex: %zu bytes", n);
	for (;;) {
		ssize_t got = getrandom(bytes, n, 0);

		if (got == (ssize_t)n)
			break;
		if (got < 0 && errno != EINTR) {
			fsutil_errf(err, "getrandom: %s", strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}

/* 0 when path does not exist, 1 when it does, -1 on another error. */
static int exists(const char *path, char *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	fsutil_errno(err, "stat", path);
	return -1;
}

/*
 * rename(2) that never replaces: an id found free in spool_msg_new() is
 * ours, so an existing target is a bug elsewhere, not something to
 * overwrite. Filesystems without RENAME_NOREPLACE get a plain rename.
 */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* Create path (O_EXCL, 0600) holding len bytes, fsync'd and closed. */
static int write_file(const char *path, const char *data, size_t len, char *err)
{
	int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);

	if (fd < 0) {
		int saved = errno; /* the caller tells EEXIST apart */

		fsutil_errno(err, "create", path);
		errno = saved;
		return -1;
	}
	if (adopt(dirname_of(path), fd, NULL) < 0 ||
	    fsutil_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		fsutil_errno(err, "write", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		fsutil_errno(err, "close", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* ---- writing a new message ---- */

/*
 * Pick an id and create tmp/<id>.msg. O_EXCL on the temp file reserves
 * the id against other writers; checking msg/ and env/ afterwards avoids
 * one that is already queued.
 */
static int open_new_id(struct spool_msg *m, char *err)
{
	char path[PATH_MAX];
	int tries, r;

	for (tries = 0; tries < ID_TRIES; tries++) {
		if (random_hex(m->id, SPOOL_ID_LEN / 2, err) < 0 ||
		    fsutil_pathf(m->tmp_msg, err, "%s/queue/tmp/%s.msg",
				 m->data_dir, m->id) < 0 ||
		    fsutil_pathf(m->tmp_env, err, "%s/queue/tmp/%s.env",
				 m->data_dir, m->id) < 0)
			return -1;
		m->fd = open(m->tmp_msg,
			     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				     O_CLOEXEC,
			     0600);
		if (m->fd < 0) {
			if (errno == EEXIST)
				continue;
			fsutil_errno(err, "create", m->tmp_msg);
			return -1;
		}
		if (adopt(m->data_dir, m->fd, NULL) < 0) {
			fsutil_errno(err, "chown", m->tmp_msg);
			return -1;
		}
		if (id_path(path, m->data_dir, "msg", m->id, err) < 0 ||
		    (r = exists(path, err)) < 0 ||
		    (r == 0 &&
		     (id_path(path, m->data_dir, "env", m->id, err) < 0 ||
		      (r = exists(path, err)) < 0)))
			return -1;
		if (r == 0)
			return 0;
		close(m->fd);
		m->fd = -1;
		unlink(m->tmp_msg);
	}
	fsutil_errf(err, "no free queue id after %d tries", ID_TRIES);
	return -1;
}

struct spool_msg *spool_msg_new(const char *data_dir, const char **error_r)
{
	struct spool_msg *m = xcalloc(1, sizeof(*m));

	m->fd = -1;
	m->data_dir = xstrdup(data_dir);
	if (make_dirs(data_dir, spool_error) < 0 ||
	    open_new_id(m, spool_error) < 0) {
		*error_r = spool_error;
		if (m->fd >= 0) {
			close(m->fd);
			m->fd = -1;
			unlink(m->tmp_msg);
		}
		free(m->data_dir);
		free(m);
		return NULL;
	}
	m->buf = xmalloc(SPOOL_WRITE_BUFFER);
	return m;
}

const char *spool_msg_id(const struct spool_msg *m)
{
	return m->id;
}

static int flush(struct spool_msg *m)
{
	if (m->buf_len == 0)
		return 0;
	if (fsutil_write_all(m->fd, m->buf, m->buf_len) < 0) {
		fsutil_errno(m->error, "write", m->tmp_msg);
		m->failed = true;
		return -1;
	}
	m->buf_len = 0;
	return 0;
}

int spool_msg_write(struct spool_msg *m, const void *data, size_t len,
		    const char **error_r)
{
	const char *p = data;

	if (m->committed)
		panic("spool_msg_write after commit of %s", m->id);
	while (!m->failed && len > 0) {
		size_t n = SPOOL_WRITE_BUFFER - m->buf_len;

		if (n > len)
			n = len;
		memcpy(m->buf + m->buf_len, p, n);
		m->buf_len += n;
		m->size += n;
		p += n;
		len -= n;
		if (m->buf_len == SPOOL_WRITE_BUFFER && flush(m) < 0)
			break;
	}
	if (m->failed) {
		*error_r = m->error;
		return -1;
	}
	return 0;
}

/* Message file: flush, fsync, close. */
static int finish_message(struct spool_msg *m)
{
	if (flush(m) < 0)
		return -1;
	if (fsync(m->fd) < 0) {
		fsutil_errno(m->error, "fsync", m->tmp_msg);
		return -1;
	}
	if (close(m->fd) < 0) {
		m->fd = -1;
		fsutil_errno(m->error, "close", m->tmp_msg);
		return -1;
	}
	m->fd = -1;
	return 0;
}

/* Undo a commit that failed after the message reached msg/: envelope
 * first, so an envelope never outlives its message. */
static void undo_commit(const char *env_path, const char *msg_path)
{
	int r = 0;

	if (env_path != NULL && unlink(env_path) == 0)
		r |= fsutil_fsync_parent(env_path);
	if (unlink(msg_path) == 0)
		r |= fsutil_fsync_parent(msg_path);
	(void)r; /* best effort: the caller has already set its error */
}

/* The renames of spool.h, after both temp files are durable. */
static int publish(struct spool_msg *m)
{
	char msg_path[PATH_MAX], env_path[PATH_MAX];

	if (id_path(msg_path, m->data_dir, "msg", m->id, m->error) < 0 ||
	    id_path(env_path, m->data_dir, "env", m->id, m->error) < 0)
		return -1;
	if (rename_noreplace(m->tmp_msg, msg_path) < 0) {
		fsutil_errno(m->error, "rename to", msg_path);
		return -1;
	}
	if (fsync_parent(msg_path, m->error) < 0) {
		undo_commit(NULL, msg_path);
		return -1;
	}
	/* The commit point: from here on the message is queued. */
	if (rename_noreplace(m->tmp_env, env_path) < 0) {
		fsutil_errno(m->error, "rename to", env_path);
		undo_commit(NULL, msg_path);
		return -1;
	}
	if (fsync_parent(env_path, m->error) < 0) {
		undo_commit(env_path, msg_path);
		return -1;
	}
	return 0;
}

int spool_msg_commit(struct spool_msg *m, struct spool_envelope *env,
		     const char **error_r)
{
	char *rec;
	size_t rec_len;

	if (m->committed)
		panic("spool_msg_commit twice for %s", m->id);
	*error_r = m->error;
	if (m->failed)
		return -1;
	if (env->id[0] != '\0' && strcmp(env->id, m->id) != 0) {
		fsutil_errf(m->error, "envelope id %.*s is not message id %s",
			    SPOOL_ID_LEN, env->id, m->id);
		return -1;
	}
	memcpy(env->id, m->id, sizeof(env->id));
	if (env->size == 0)
		env->size = m->size;
	if (env->created == 0)
		env->created = time(NULL);
	rec = spool_envelope_format(env, &rec_len);
	if (rec == NULL) {
		fsutil_errf(m->error, "envelope of %s breaks the record limits",
			    m->id);
		m->failed = true;
		return -1;
	}
	m->failed = true; /* unless everything below succeeds */
	if (finish_message(m) < 0 ||
	    write_file(m->tmp_env, rec, rec_len, m->error) < 0 ||
	    publish(m) < 0) {
		free(rec);
		return -1;
	}
	free(rec);
	m->failed = false;
	m->committed = true;
	return 0;
}

void spool_msg_free(struct spool_msg **mp)
{
	struct spool_msg *m = *mp;

	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (!m->committed) {
		unlink(m->tmp_msg);
		unlink(m->tmp_env);
	}
	free(m->buf);
	free(m->data_dir);
	free(m);
	*mp = NULL;
}

/* ---- reading and updating queued messages ---- */

/* The whole of a regular file of at most max bytes, in *data_r (freed by
 * the caller). */
static int read_file(const char *path, size_t max, char **data_r, size_t *len_r,
		     char *err)
{
	struct stat st;
	char *data;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		fsutil_errno(err, "open", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		fsutil_errf(err, "%s: not a regular file of at most %zu bytes",
			    path, max);
		close(fd);
		return -1;
	}
	/* One byte more than the size, to see a file that grew. */
	data = xmalloc((size_t)st.st_size + 1);
	for (;;) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && len + (size_t)n > (size_t)st.st_size)) {
			fsutil_errf(err, "read %s: %s", path,
				    n < 0 ? strerror(errno) : "file changed");
			free(data);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*data_r = data;
	*len_r = len;
	return 0;
}

int spool_envelope_read(const char *data_dir, const char *id,
			struct spool_envelope *env_r, const char **error_r)
{
	char path[PATH_MAX];
	char *data;
	size_t len;
	const char *perr;

	spool_envelope_init(env_r);
	*error_r = spool_error;
	if (id_path(path, data_dir, "env", id, spool_error) < 0 ||
	    read_file(path, SPOOL_ENVELOPE_MAX, &data, &len, spool_error) < 0)
		return -1;
	if (spool_envelope_parse(data, len, env_r, &perr) < 0) {
		fsutil_errf(spool_error, "%s: %s", path, perr);
		free(data);
		return -1;
	}
	free(data);
	if (strcmp(env_r->id, id) != 0) {
		fsutil_errf(spool_error, "%s: record is for id %s", path,
			    env_r->id);
		spool_envelope_fini(env_r);
		return -1;
	}
	return 0;
}

/*
 * Put the durable file tmp in place of the existing path. RENAME_EXCHANGE
 * fails when path is gone, so an update racing spool_remove() cannot
 * resurrect an envelope whose message was removed. The old record ends up
 * at tmp and is unlinked.
 */
static int replace_existing(const char *tmp, const char *path, char *err)
{
	struct stat st;

	/*
	 * Root (the CLI) rewriting an envelope keeps it the queue worker's:
	 * the new file takes the owner of the one it replaces.
	 */
	if (geteuid() == 0 && stat(path, &st) == 0 &&
	    chown(tmp, st.st_uid, st.st_gid) < 0) {
		fsutil_errno(err, "chown", tmp);
		unlink(tmp);
		return -1;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EINVAL || errno == ENOSYS) {
		/* No exchange on this filesystem: a narrow window remains. */
		if (access(path, F_OK) == 0 && rename(tmp, path) == 0)
			return 0;
	}
	fsutil_errno(err, errno == ENOENT ? "not queued:" : "replace", path);
	unlink(tmp);
	return -1;
}

int spool_envelope_update(const char *data_dir,
			  const struct spool_envelope *env,
			  const char **error_r)
{
	char path[PATH_MAX], tmp[PATH_MAX], suffix[9];
	char *rec;
	size_t len;
	int tries, ret = -1;

	*error_r = spool_error;
	if (id_path(path, data_dir, "env", env->id, spool_error) < 0)
		return -1;
	rec = spool_envelope_format(env, &len);
	if (rec == NULL) {
		fsutil_errf(spool_error,
			    "envelope of %s breaks the record limits", env->id);
		return -1;
	}
	for (tries = 0; tries < ID_TRIES; tries++) {
		if (random_hex(suffix, 4, spool_error) < 0 ||
		    fsutil_pathf(tmp, spool_error, "%s/queue/tmp/%s.u%s",
				 data_dir, env->id, suffix) < 0)
			break;
		errno = 0;
		ret = write_file(tmp, rec, len, spool_error);
		if (ret == 0 || errno != EEXIST)
			break;
	}
	free(rec);
	if (ret < 0)
		return -1;
	if (replace_existing(tmp, path, spool_error) < 0 ||
	    fsync_parent(path, spool_error) < 0)
		return -1;
	return 0;
}

/* ---- listing, removing, cleaning ---- */

int spool_list(const char *data_dir, int (*cb)(const char *id, void *ctx),
	       void *ctx, const char **error_r)
{
	char path[PATH_MAX], id[SPOOL_ID_SIZE];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	*error_r = spool_error;
	if (dir_path(path, data_dir, "env", spool_error) < 0)
		return -1;
	dir = opendir(path);
	if (dir == NULL) {
		if (errno == ENOENT)
			return 0;
		fsutil_errno(spool_error, "opendir", path);
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (de == NULL) {
			if (errno != 0) {
				fsutil_errno(spool_error, "readdir", path);
				ret = -1;
			}
			break;
		}
		if (!spool_id_valid(de->d_name))
			continue;
		memcpy(id, de->d_name, sizeof(id));
		ret = cb(id, ctx);
		if (ret != 0)
			break;
	}
	closedir(dir);
	return ret;
}

/* unlink path: 1 removed, 0 was not there, -1 error. */
static int unlink_if(const char *path, char *err)
{
	if (unlink(path) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	fsutil_errno(err, "unlink", path);
	return -1;
}

int spool_remove(const char *data_dir, const char *id, const char **error_r)
{
	char env_path[PATH_MAX], msg_path[PATH_MAX];
	int env_gone, msg_gone;

	*error_r = spool_error;
	if (id_path(env_path, data_dir, "env", id, spool_error) < 0 ||
	    id_path(msg_path, data_dir, "msg", id, spool_error) < 0)
		return -1;
	env_gone = unlink_if(env_path, spool_error);
	if (env_gone < 0)
		return -1;
	/* The envelope's removal must be durable before the message goes:
	 * a crash in between must not leave the envelope alone. */
	if (env_gone == 1 && fsync_parent(env_path, spool_error) < 0)
		return -1;
	msg_gone = unlink_if(msg_path, spool_error);
	if (msg_gone < 0)
		return -1;
	if (env_gone == 0 && msg_gone == 0) {
		fsutil_errf(spool_error, "%s: not queued", id);
		return -1;
	}
	return 0;
}

bool spool_queued(const char *data_dir, const char *id)
{
	char path[PATH_MAX];
	struct stat st;

	if (id_path(path, data_dir, "env", id, spool_error) < 0)
		return false;
	return lstat(path, &st) == 0 || errno != ENOENT;
}

char *spool_msg_path(const char *data_dir, const char *id)
{
	if (!spool_id_valid(id))
		return NULL;
	return xasprintf("%s/queue/msg/%s", data_dir, id);
}

/* Names this module gives files in tmp/: "<id>.<suffix>". */
static bool tmp_name_ok(const char *name)
{
	char id[SPOOL_ID_SIZE];

	if (strnlen(name, SPOOL_ID_SIZE + 1) <= SPOOL_ID_SIZE ||
	    name[SPOOL_ID_LEN] != '.')
		return false;
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	return spool_id_valid(id);
}

/* Remove name from dir when it is a regular file older than older_than. */
static int remove_if_old(int dfd, const char *dir, const char *name,
			 time_t older_than, char *err)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		fsutil_errf(err, "stat %s/%s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_mtime >= older_than)
		return 0;
	if (unlinkat(dfd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		fsutil_errf(err, "unlink %s/%s: %s", dir, name,
			    strerror(errno));
		return -1;
	}
	return 1;
}

/*
 * One pass over queue/<sub>: tmp/ loses old files with our names, msg/
 * loses old messages whose envelope is missing. Returns the number
 * removed or -1.
 */
static int cleanup_dir(const char *data_dir, const char *sub, time_t older_than,
		       char *err)
{
	char dir_name[PATH_MAX], env_path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int count = 0, r = 0, queued;
	bool is_tmp = strcmp(sub, "tmp") == 0;

	if (dir_path(dir_name, data_dir, sub, err) < 0)
		return -1;
	dir = opendir(dir_name);
	if (dir == NULL) {
		if (errno == ENOENT)
			return 0;
		fsutil_errno(err, "opendir", dir_name);
		return -1;
	}
	while (r >= 0 && (de = readdir(dir)) != NULL) {
		if (is_tmp ? !tmp_name_ok(de->d_name)
			   : !spool_id_valid(de->d_name))
			continue;
		if (!is_tmp) {
			if (id_path(env_path, data_dir, "env", de->d_name,
				    err) < 0 ||
			    (queued = exists(env_path, err)) < 0) {
				r = -1;
				break;
			}
			if (queued)
				continue;
		}
		r = remove_if_old(dirfd(dir), dir_name, de->d_name, older_than,
				  err);
		count += r > 0;
	}
	closedir(dir);
	return r < 0 ? -1 : count;
}

int spool_cleanup_orphans(const char *data_dir, time_t older_than,
			  const char **error_r)
{
	int a, b;

	*error_r = spool_error;
	a = cleanup_dir(data_dir, "tmp", older_than, spool_error);
	if (a < 0)
		return -1;
	b = cleanup_dir(data_dir, "msg", older_than, spool_error);
	if (b < 0)
		return -1;
	return a + b;
}

struct spool_flush_ctx {
	const char *data_dir;
	const char *domain;
	size_t count;
	int status;
};

static bool spool_has_domain(const struct spool_envelope *env,
			     const char *domain)
{
	for (size_t i = 0; i < env->nrcpts; i++) {
		const char *at = strrchr(env->rcpts[i].address, '@');

		if (at == NULL)
			continue;
		/* RFC 1985 5.3: "@name" releases name and its subdomains. */
		if (domain[0] == '@' ? address_domain_within(at + 1, domain + 1)
				     : strcasecmp(at + 1, domain) == 0)
			return true;
	}
	return false;
}

static int spool_flush_one(const char *id, void *ctx)
{
	struct spool_flush_ctx *f = ctx;
	struct spool_envelope env;
	const char *error;

	spool_envelope_init(&env);
	/* Held messages wait for release, as with Postfix's postqueue -f. */
	if (spool_envelope_read(f->data_dir, id, &env, &error) == 0 &&
	    !env.held &&
	    (f->domain == NULL || spool_has_domain(&env, f->domain))) {
		env.next_attempt = spool_due_now(env.next_attempt);
		if (spool_envelope_update(f->data_dir, &env, &error) < 0)
			f->status = -1;
		else
			f->count++;
	}
	spool_envelope_fini(&env);
	return 0;
}

int spool_flush(const char *data_dir, const char *domain, size_t *count_r,
		const char **error_r)
{
	struct spool_flush_ctx f = {data_dir, domain, 0, 0};

	*error_r = spool_error;
	if (spool_list(data_dir, spool_flush_one, &f, error_r) < 0)
		return -1;
	*count_r = f.count;
	return f.status;
}

int spool_queue_notice(const char *data_dir, const char *to, const char *text,
		       size_t len, char *id_r, const char **error_r)
{
	struct spool_envelope env;
	struct spool_msg *m;
	const char *error = NULL;
	int ret = -1;

	spool_envelope_init(&env);
	env.sender = xstrdup(""); /* RFC 3461 6.2: notices come from <> */
	env.envid = xstrdup("");
	env.auth = xstrdup("");
	spool_envelope_add_rcpt(&env, to, "", 0);
	m = spool_msg_new(data_dir, &error);
	if (m != NULL && spool_msg_write(m, text, len, &error) == 0 &&
	    spool_msg_commit(m, &env, &error) == 0) {
		strlcpy_p(id_r, spool_msg_id(m), SPOOL_ID_SIZE);
		ret = 0;
	} else {
		/* m's error text dies with m: keep a copy. */
		if (error != spool_error)
			fsutil_errf(spool_error, "%s",
				    error != NULL ? error : "?");
		*error_r = spool_error;
	}
	spool_msg_free(&m);
	spool_envelope_fini(&env);
	return ret;
}
