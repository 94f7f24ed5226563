/*
 * Changes to messages in a selected mailbox: STORE (flags and keywords,
 * with RFC 7162 UNCHANGEDSINCE) and EXPUNGE.
 *
 * System flags live twice: in the index and in the file name's ":2,"
 * info, so mutt or Dovecot reading the Maildir see them and a rebuilt
 * index keeps them. The rename and the row update run in one transaction.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/mem.h"

#define FLAG_MASK                                                              \
	(STORE_F_SEEN | STORE_F_ANSWERED | STORE_F_FLAGGED | STORE_F_DELETED | \
	 STORE_F_DRAFT)

void store_msgrow_fini(struct store_msgrow *r)
{
	xfree(&r->base);
	xfree(&r->info);
	xfree(&r->keywords);
}

int store_msgrow_get(struct store_user *u, int64_t mailbox, uint32_t uid,
		     struct store_msgrow *r)
{
	sqlite3_stmt *st = store_stmt(u, SST_MSG_GET);
	int rc;

	memset(r, 0, sizeof(*r));
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uid);
	rc = store_step(u, st);
	if (rc == SQLITE_ROW) {
		r->base = store_col_str(st, 0, false);
		r->info = store_col_str(st, 1, false);
		r->flags = (unsigned)sqlite3_column_int(st, 2);
		r->keywords = store_col_str(st, 3, true);
		if (r->keywords != NULL && r->keywords[0] == '\0')
			xfree(&r->keywords);
		r->modseq = (uint64_t)sqlite3_column_int64(st, 4);
		r->internaldate = (time_t)sqlite3_column_int64(st, 5);
		r->size = (uint64_t)sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	return rc == SQLITE_ROW
		       ? 0
		       : store_fail(u, STORE_ERR_EXPUNGED, "message is gone");
}

/* Rename the file to carry flags; r->info becomes the new info. */
static int rename_info(struct store_user *u, const char *dir,
		       struct store_msgrow *r, unsigned flags)
{
	char name[STORE_FILE_NAME_SIZE], info[64];
	const char *old_info = r->info;
	char *from, *to;
	int rc = 0;

	store_info_make(r->info, flags, info, sizeof(info));
	if (strcmp(info, r->info) == 0)
		return 0;
	from = xasprintf("%s/cur/%s:%s", dir, r->base, r->info);
	to = xasprintf("%s/cur/%s:%s", dir, r->base, info);
	if (rename(from, to) == 0)
		goto done;
	if (errno != ENOENT) {
		rc = store_errno_fail(u, "rename", from);
		goto done;
	}
	/* Another tool renamed it: keep its letters, set ours. */
	if ((rc = store_find_base(u, dir, r->base, name, sizeof(name))) < 0)
		goto done;
	store_split_name(name, &old_info);
	store_info_make(old_info, flags, info, sizeof(info));
	free(from);
	free(to);
	from = xasprintf("%s/cur/%s", dir, name);
	to = xasprintf("%s/cur/%s:%s", dir, r->base, info);
	if (rename(from, to) < 0)
		rc = store_errno_fail(u, "rename", from);
done:
	free(from);
	free(to);
	if (rc == 0) {
		free(r->info);
		r->info = xstrdup(info);
	}
	return rc;
}

static unsigned flags_apply(unsigned old, enum store_flag_mode mode,
			    unsigned flags)
{
	flags &= FLAG_MASK;
	switch (mode) {
	case STORE_FLAGS_ADD:
		return old | flags;
	case STORE_FLAGS_REMOVE:
		return old & ~flags;
	case STORE_FLAGS_SET:
	default:
		return flags;
	}
}

static bool kw_equal(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Write the new state; row->highestmodseq goes up. */
static int flags_write(struct store_user *u, struct store_mbrow *row,
		       uint32_t uid, const struct store_msgrow *r,
		       unsigned flags, const char *keywords, uint64_t *modseq_r)
{
	sqlite3_stmt *st = store_stmt(u, SST_MSG_SET_FLAGS);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	*modseq_r = ++row->highestmodseq;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, r->info, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)flags);
	if (keywords != NULL)
		sqlite3_bind_text(st, 5, keywords, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)*modseq_r);
	if ((rc = store_run(u, st)) < 0)
		return rc;
	return store_mbrow_set_counters(u, row);
}

struct flag_change {
	enum store_flag_mode mode;
	unsigned flags;
	const char *keywords;
	uint64_t unchangedsince;
	/* results */
	unsigned new_flags;
	char *new_keywords;
	uint64_t modseq;
	bool changed;
};

static int flags_locked(struct store_mailbox *mb, uint32_t uid,
			struct flag_change *c)
{
	struct store_user *u = mb->u;
	struct store_mbrow row;
	struct store_msgrow r;
	char *canon = NULL;
	bool clean;
	int grown = 0, rc = store_mbrow_by_id(u, mb->id, &row);

	if (rc == 0) {
		store_mb_follow(mb, &row);
		rc = store_msgrow_get(u, mb->id, uid, &r);
	} else {
		memset(&r, 0, sizeof(r));
	}
	/* RFC 7162 3.1.3 */
	if (rc == 0 && c->unchangedsince != 0 && r.modseq > c->unchangedsince)
		rc = store_fail(u, STORE_ERR_MODIFIED,
				"message changed since %llu",
				(unsigned long long)c->unchangedsince);
	if (rc == 0 && c->mode != STORE_FLAGS_REMOVE)
		grown = rc =
			store_kw_merge(u, &row.keywords, c->keywords, false);
	if (rc >= 0) {
		canon = store_kw_canon(row.keywords, c->keywords);
		c->new_flags = flags_apply(r.flags, c->mode, c->flags);
		c->new_keywords = store_kw_apply(r.keywords, c->mode, canon);
		c->changed = c->new_flags != r.flags ||
			     !kw_equal(c->new_keywords, r.keywords);
		rc = 0;
	}
	clean = rc == 0 && store_cur_clean(&row, mb->dir);
	if (rc == 0 && c->changed &&
	    (rc = rename_info(u, mb->dir, &r, c->new_flags)) == 0 &&
	    (rc = flags_write(u, &row, uid, &r, c->new_flags, c->new_keywords,
			      &c->modseq)) == 0)
		rc = store_cur_touched(u, &row, mb->dir, clean);
	else if (rc == 0 && grown > 0)
		rc = store_mbrow_set_counters(u, &row);
	if (rc == 0 && grown > 0) {
		free(mb->keywords);
		mb->keywords = xstrdup(row.keywords);
	}
	free(canon);
	store_msgrow_fini(&r);
	store_mbrow_fini(&row);
	return rc;
}

int store_msg_set_flags(struct store_mailbox *mb, uint32_t uid,
			enum store_flag_mode mode, unsigned flags,
			const char *keywords, uint64_t unchangedsince,
			const char **error_r)
{
	struct flag_change c = {.mode = mode,
				.flags = flags,
				.keywords = keywords,
				.unchangedsince = unchangedsince};
	int rc;

	*error_r = mb->u->error;
	if (mb->readonly)
		return store_fail(mb->u, STORE_ERR_NOPERM,
				  "mailbox is read-only");
	if ((rc = store_kw_check(mb->u, keywords)) < 0)
		return rc;
	if ((rc = store_begin(mb->u)) < 0)
		return rc;
	if ((rc = flags_locked(mb, uid, &c)) < 0) {
		store_rollback(mb->u);
		free(c.new_keywords);
		return rc;
	}
	rc = store_commit(mb->u);
	/* The handle shows the change now; its HIGHESTMODSEQ stays, so the
	 * next sync still reads everything changed since. */
	if (rc == 0 && c.changed &&
	    store_mb_set_msg(mb, uid, c.new_flags, c.new_keywords, c.modseq))
		mb->pending = true;
	if (rc == 0 && c.changed)
		c.new_keywords = NULL; /* taken by store_mb_set_msg */
	free(c.new_keywords);
	return rc;
}

/* ---- EXPUNGE ---- */

/* Unlink one message's file; *size_r its size. 0 also when gone. */
static int unlink_msg(struct store_user *u, const char *dir,
		      const struct store_msgrow *r, uint64_t *size_r)
{
	char name[STORE_FILE_NAME_SIZE];
	char *path = xasprintf("%s/cur/%s:%s", dir, r->base, r->info);
	struct stat st;
	int rc = 0;

	*size_r = 0;
	if (lstat(path, &st) < 0 && errno == ENOENT &&
	    store_find_base(u, dir, r->base, name, sizeof(name)) == 0) {
		free(path);
		path = xasprintf("%s/cur/%s", dir, name);
		if (lstat(path, &st) < 0)
			st.st_size = 0;
	}
	if (unlink(path) == 0)
		*size_r = (uint64_t)st.st_size;
	else if (errno != ENOENT)
		rc = store_errno_fail(u, "unlink", path);
	free(path);
	return rc;
}

int store_expunge_locked(struct store_user *u, struct store_mbrow *row,
			 const char *dir, const uint32_t *uids, size_t n,
			 uint64_t *bytes, uint64_t *count)
{
	uint64_t modseq = row->highestmodseq + 1, size;
	bool any = false, clean = store_cur_clean(row, dir);
	char *cur;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct store_msgrow r;

		rc = store_msgrow_get(u, row->id, uids[i], &r);
		if (rc == STORE_ERR_EXPUNGED) {
			rc = 0; /* already gone: nothing to do */
			continue;
		}
		/* The file first: a crash leaves a row whose file vanished,
		 * which the next sync expunges, never a lost row's file
		 * coming back as a new message. */
		if (rc == 0 && (rc = unlink_msg(u, dir, &r, &size)) == 0 &&
		    (rc = store_msg_drop(u, row->id, uids[i], modseq)) == 0) {
			any = true;
			*bytes += size;
			(*count)++;
		}
		store_msgrow_fini(&r);
	}
	if (rc < 0 || !any)
		return rc;
	cur = xasprintf("%s/cur", dir);
	if (fsutil_fsync_dir(cur) < 0)
		rc = store_errno_fail(u, "fsync", cur);
	free(cur);
	if (rc < 0)
		return rc;
	/* RFC 7162 3.2.10: an expunge raises HIGHESTMODSEQ too. */
	row->highestmodseq = modseq;
	if ((rc = store_mbrow_set_counters(u, row)) < 0)
		return rc;
	return store_cur_touched(u, row, dir, clean);
}

int store_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		  const char **error_r)
{
	struct store_mbrow row;
	uint64_t bytes = 0, count = 0;
	int rc;

	*error_r = mb->u->error;
	if (mb->readonly)
		return store_fail(mb->u, STORE_ERR_NOPERM,
				  "mailbox is read-only");
	if ((rc = store_begin(mb->u)) < 0)
		return rc;
	rc = store_mbrow_by_id(mb->u, mb->id, &row);
	if (rc == 0) {
		store_mb_follow(mb, &row);
		rc = store_expunge_locked(mb->u, &row, mb->dir, uids, n, &bytes,
					  &count);
	}
	store_mbrow_fini(&row);
	if (rc == 0)
		rc = store_mb_reload(mb);
	if (rc < 0) {
		store_rollback(mb->u);
		return rc;
	}
	if ((rc = store_commit(mb->u)) < 0)
		return rc;
	if (count > 0)
		store_quota_add(mb->u, -(int64_t)bytes, -(int64_t)count);
	return 0;
}
