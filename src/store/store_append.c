/*
 * New messages from clients: APPEND (RFC 3501 6.3.11, RFC 4315
 * APPENDUID), COPY (COPYUID) and MOVE (RFC 6851), with the Maildir++
 * quota.
 *
 * APPEND is durable before it answers: the file is written to tmp/,
 * fsync'd, renamed into cur/ and cur/ fsync'd, then the index row is
 * added, all inside the transaction so no other process's sync indexes
 * the file first. COPY hard-links the file (same bytes, same inode; flags
 * change by renaming, never by rewriting) and falls back to a copy.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/mem.h"
#include "store/maildir.h"

#define COPY_BUFFER ((size_t)64 * 1024)

static int quota_check(struct store_user *u, uint64_t size)
{
	struct maildir_target t = {u->domain, u->local, u->quota};
	int rc;

	if (u->quota == 0)
		return 0;
	rc = maildir_quota_check(u->data_dir, &t, size);
	if (rc < 0)
		return store_fail(u, STORE_ERR_IO, "quota check failed");
	if (rc > 0)
		return store_fail(u, STORE_ERR_QUOTA, "over quota");
	return 0;
}

static int write_file(struct store_user *u, const char *path, const char *data,
		      size_t len, time_t internaldate)
{
	struct timespec times[2] = {{.tv_sec = internaldate},
				    {.tv_sec = internaldate}};
	int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		     0600);
	int rc = 0;

	if (fd < 0)
		return store_errno_fail(u, "open", path);
	/* The mtime is the INTERNALDATE a rebuilt index will find. */
	if (fsutil_write_all(fd, data, len) < 0 || futimens(fd, times) < 0 ||
	    fsync(fd) < 0)
		rc = store_errno_fail(u, "write", path);
	if (close(fd) < 0 && rc == 0)
		rc = store_errno_fail(u, "close", path);
	if (rc < 0)
		unlink(path);
	return rc;
}

static int open_dest(struct store_user *u, const char *name,
		     struct store_mbrow *row)
{
	int rc = store_mbrow_by_name(u, name, row);

	if (rc == 0 && row->noselect)
		rc = store_fail(u, STORE_ERR_NONEXISTENT,
				"mailbox cannot be selected");
	return rc;
}

struct append {
	const char *name, *keywords;
	const char *data;
	size_t len;
	unsigned flags;
	time_t internaldate;
	char base[STORE_FILE_NAME_SIZE];
	char *dir, *tmp, *target;
	uint32_t uidvalidity, uid;
};

/* Inside the transaction: the file into cur/, then its row. */
static int append_locked(struct store_user *u, struct append *a)
{
	struct store_mbrow row;
	char info[64], *canon = NULL, *cur, *crlf;
	size_t clen;
	bool clean;
	int rc = open_dest(u, a->name, &row);

	if (rc == 0)
		rc = store_kw_merge(u, &row.keywords, a->keywords, false);
	if (rc < 0)
		goto out;
	store_info_make(NULL, a->flags, info, sizeof(info));
	clean = store_cur_clean(&row, a->dir);
	a->target = xasprintf("%s/cur/%s:%s", a->dir, a->base, info);
	cur = xasprintf("%s/cur", a->dir);
	if (rename(a->tmp, a->target) < 0)
		rc = store_errno_fail(u, "rename", a->target);
	else if (fsutil_fsync_dir(cur) < 0)
		rc = store_errno_fail(u, "fsync", cur);
	free(cur);
	if (rc < 0)
		goto out;
	canon = store_kw_canon(row.keywords, a->keywords);
	crlf = store_crlf(a->data, a->len, &clen);
	a->uid = row.uidnext;
	a->uidvalidity = row.uidvalidity;
	rc = store_index_insert(u, &row, a->base, info, a->flags, canon,
				a->internaldate, crlf, clen,
				row.highestmodseq + 1);
	if (crlf != a->data)
		free(crlf);
	if (rc == 0) {
		row.highestmodseq++;
		rc = store_mbrow_set_counters(u, &row);
	}
	if (rc == 0)
		rc = store_cur_touched(u, &row, a->dir, clean);
out:
	free(canon);
	store_mbrow_fini(&row);
	return rc;
}

int store_append(struct store_user *u, const char *name, const char *data,
		 size_t len, unsigned flags, const char *keywords,
		 time_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r,
		 const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	struct append a = {.name = norm,
			   .keywords = keywords,
			   .data = data,
			   .len = len,
			   .flags = flags & 0x1f,
			   .internaldate = internaldate != 0 ? internaldate
							     : time(NULL)};
	struct store_mbrow row;
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0 ||
	    (rc = store_kw_check(u, keywords)) < 0)
		return rc;
	/* Refuse early, before writing anything. */
	rc = open_dest(u, norm, &row);
	store_mbrow_fini(&row);
	if (rc < 0 || (rc = quota_check(u, len)) < 0)
		return rc;
	a.dir = store_folder_dir(u, norm);
	store_unique_name(u, len, a.base);
	a.tmp = xasprintf("%s/tmp/%s", a.dir, a.base);
	if ((rc = write_file(u, a.tmp, data, len, a.internaldate)) < 0)
		goto out;
	if ((rc = store_begin(u)) == 0 && (rc = append_locked(u, &a)) == 0)
		rc = store_commit(u);
	else
		store_rollback(u);
	if (rc < 0) {
		/* NO to the client: the message must not appear later. */
		unlink(a.tmp);
		if (a.target != NULL)
			unlink(a.target);
		goto out;
	}
	store_quota_add(u, (int64_t)len, 1);
	*uidvalidity_r = a.uidvalidity;
	*uid_r = a.uid;
out:
	free(a.dir);
	free(a.tmp);
	free(a.target);
	return rc;
}

/* ---- COPY, MOVE ---- */

/* The link(2) fallback: copy into tmp/, fsync, rename to target. */
static int copy_bytes(struct store_user *u, const char *src, const char *tmp,
		      const char *target)
{
	char *buf = xmalloc(COPY_BUFFER);
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1;
	int rc = 0;
	ssize_t n;

	if (in < 0 ||
	    (out = open(tmp,
			O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			0600)) < 0) {
		rc = store_errno_fail(u, "open", in < 0 ? src : tmp);
		goto out;
	}
	while ((n = read(in, buf, COPY_BUFFER)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fsutil_write_all(out, buf, (size_t)n) < 0) {
			rc = store_errno_fail(u, "copy", src);
			break;
		}
	}
	if (rc == 0 && fsync(out) < 0)
		rc = store_errno_fail(u, "fsync", tmp);
	if (rc == 0 && rename(tmp, target) < 0)
		rc = store_errno_fail(u, "rename", target);
out:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (rc < 0)
		unlink(tmp);
	free(buf);
	return rc;
}

struct copy {
	struct store_mailbox *mb;
	const uint32_t *uids;
	size_t n;
	uint32_t *new_uids;
	char *ddir;
	char **made; /* files created, removed if the copy fails */
	size_t n_made;
	uint64_t bytes, count;
	bool unlinked; /* MOVE began removing sources: keep the copies */
};

/* Put the file of r into the destination's cur/; *target_r malloc'd. */
static int copy_file(struct store_user *u, struct copy *c,
		     const struct store_msgrow *r, char **target_r)
{
	char name[STORE_FILE_NAME_SIZE], base[STORE_FILE_NAME_SIZE];
	char *src = xasprintf("%s/cur/%s:%s", c->mb->dir, r->base, r->info);
	char *tmp;
	struct stat st;
	int rc = 0;

	if (lstat(src, &st) < 0) {
		free(src);
		if (store_find_base(u, c->mb->dir, r->base, name,
				    sizeof(name)) < 0)
			return STORE_ERR_EXPUNGED;
		src = xasprintf("%s/cur/%s", c->mb->dir, name);
		if (lstat(src, &st) < 0) {
			free(src);
			return STORE_ERR_EXPUNGED;
		}
	}
	store_unique_name(u, (uint64_t)st.st_size, base);
	*target_r = xasprintf("%s/cur/%s:%s", c->ddir, base, r->info);
	if (link(src, *target_r) < 0) {
		if (errno == EXDEV || errno == EPERM || errno == EMLINK) {
			tmp = xasprintf("%s/tmp/%s", c->ddir, base);
			rc = copy_bytes(u, src, tmp, *target_r);
			free(tmp);
		} else {
			rc = errno == ENOENT
				     ? STORE_ERR_EXPUNGED
				     : store_errno_fail(u, "link", *target_r);
		}
	}
	free(src);
	if (rc < 0) {
		xfree(target_r);
		return rc;
	}
	c->made = xrealloc(c->made, (c->n_made + 1) * sizeof(*c->made));
	c->made[c->n_made++] = xstrdup(*target_r);
	c->bytes += (uint64_t)st.st_size;
	c->count++;
	return 0;
}

/* The destination row of one copied message; cache rows are copied. */
static int copy_row(struct store_user *u, struct copy *c,
		    struct store_mbrow *drow, uint32_t uid,
		    const struct store_msgrow *r, const char *target,
		    uint64_t modseq)
{
	const char *info;
	const char *name = strrchr(target, '/') + 1;
	size_t blen = store_split_name(name, &info);
	char *base = xstrndup(name, blen);
	sqlite3_stmt *st = store_stmt(u, SST_MSG_INSERT);
	int rc = STORE_ERR_IO;

	if (st != NULL) {
		sqlite3_bind_int64(st, 1, drow->id);
		sqlite3_bind_int64(st, 2, drow->uidnext);
		sqlite3_bind_text(st, 3, base, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, info, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, (int)r->flags);
		if (r->keywords != NULL)
			sqlite3_bind_text(st, 6, r->keywords, -1,
					  SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (int64_t)modseq);
		sqlite3_bind_int64(st, 8, (int64_t)r->internaldate);
		sqlite3_bind_int64(st, 9, (int64_t)r->size);
		rc = store_run(u, st);
	}
	free(base);
	if (rc == 0 && (st = store_stmt(u, SST_CACHE_COPY)) == NULL)
		rc = STORE_ERR_IO;
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, c->mb->id);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_int64(st, 3, drow->id);
		sqlite3_bind_int64(st, 4, drow->uidnext);
		rc = store_run(u, st);
	}
	if (rc == 0)
		rc = store_kw_merge(u, &drow->keywords, r->keywords, true);
	if (rc >= 0)
		drow->uidnext++;
	return rc < 0 ? rc : 0;
}

static int copy_each(struct store_user *u, struct copy *c,
		     struct store_mbrow *drow)
{
	uint64_t modseq = drow->highestmodseq + 1;
	bool any = false, clean = store_cur_clean(drow, c->ddir);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		struct store_msgrow r;
		char *target = NULL;

		rc = store_msgrow_get(u, c->mb->id, c->uids[i], &r);
		if (rc == 0)
			rc = copy_file(u, c, &r, &target);
		if (rc == 0) {
			c->new_uids[i] = drow->uidnext;
			rc = copy_row(u, c, drow, c->uids[i], &r, target,
				      modseq);
			any = true;
		}
		if (rc == STORE_ERR_EXPUNGED)
			rc = 0; /* COPYUID leaves it out (new_uids 0) */
		free(target);
		store_msgrow_fini(&r);
	}
	if (rc < 0 || !any)
		return rc;
	drow->highestmodseq = modseq;
	if ((rc = store_mbrow_set_counters(u, drow)) < 0)
		return rc;
	{
		char *cur = xasprintf("%s/cur", c->ddir);

		if (fsutil_fsync_dir(cur) < 0)
			rc = store_errno_fail(u, "fsync", cur);
		free(cur);
	}
	return rc < 0 ? rc : store_cur_touched(u, drow, c->ddir, clean);
}

/* MOVE: expunge the sources that were copied. */
static int move_expunge(struct store_user *u, struct copy *c, uint64_t *bytes,
			uint64_t *count)
{
	struct store_mbrow srow;
	uint32_t *done = xcalloc(c->n + 1, sizeof(*done));
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < c->n; i++) {
		if (c->new_uids[i] != 0)
			done[n++] = c->uids[i];
	}
	rc = store_mbrow_by_id(u, c->mb->id, &srow);
	c->unlinked = true;
	if (rc == 0)
		rc = store_expunge_locked(u, &srow, c->mb->dir, done, n, bytes,
					  count);
	store_mbrow_fini(&srow);
	free(done);
	return rc;
}

static int copy_locked(struct store_user *u, struct copy *c, const char *dest,
		       bool move, uint32_t *uidvalidity_r, uint64_t *gone_bytes,
		       uint64_t *gone_count)
{
	struct store_mbrow drow, srow;
	uint64_t need = 0;
	int rc = store_mbrow_by_id(u, c->mb->id, &srow);

	if (rc == 0)
		store_mb_follow(c->mb, &srow);
	store_mbrow_fini(&srow);
	if (rc == 0)
		rc = open_dest(u, dest, &drow);
	else
		memset(&drow, 0, sizeof(drow));

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct store_msg *m =
			store_mailbox_find(c->mb, c->uids[i]);

		need += m != NULL ? m->size : 0;
	}
	if (rc == 0 && !move)
		rc = quota_check(u, need);
	if (rc == 0)
		rc = copy_each(u, c, &drow);
	if (rc == 0)
		*uidvalidity_r = drow.uidvalidity;
	store_mbrow_fini(&drow);
	if (rc == 0 && move)
		rc = move_expunge(u, c, gone_bytes, gone_count);
	if (rc == 0 && (move || strcmp(dest, c->mb->name) == 0))
		rc = store_mb_reload(c->mb);
	return rc;
}

int store_copy(struct store_mailbox *mb, const uint32_t *uids, size_t n,
	       const char *dest, bool move, uint32_t *uidvalidity_r,
	       uint32_t *new_uids, const char **error_r)
{
	struct store_user *u = mb->u;
	char norm[STORE_NAME_MAX + 1];
	struct copy c = {.mb = mb, .uids = uids, .n = n, .new_uids = new_uids};
	uint64_t gone_bytes = 0, gone_count = 0;
	int rc;

	*error_r = u->error;
	for (size_t i = 0; i < n; i++)
		new_uids[i] = 0;
	if ((rc = store_name_norm(u, dest, norm)) < 0)
		return rc;
	if (move && mb->readonly)
		return store_fail(u, STORE_ERR_NOPERM, "mailbox is read-only");
	c.ddir = store_folder_dir(u, norm);
	if ((rc = store_begin(u)) == 0 &&
	    (rc = copy_locked(u, &c, norm, move, uidvalidity_r, &gone_bytes,
			      &gone_count)) == 0)
		rc = store_commit(u);
	else
		store_rollback(u);
	for (size_t i = 0; i < c.n_made; i++) {
		/* After a failed MOVE that removed sources, a copy is all
		 * that is left: the next sync of dest indexes it. */
		if (rc < 0 && !c.unlinked)
			unlink(c.made[i]);
		free(c.made[i]);
	}
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			new_uids[i] = 0;
	} else if (c.count > 0) {
		store_quota_add(u, (int64_t)c.bytes - (int64_t)gone_bytes,
				(int64_t)c.count - (int64_t)gone_count);
	}
	free(c.made);
	free(c.ddir);
	return rc;
}
