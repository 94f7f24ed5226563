/*
 * A selected mailbox: the handle, its sync, the message list as of the
 * last sync, and the per-message operations (load, cached ENVELOPE and
 * BODYSTRUCTURE, STORE, EXPUNGE).
 *
 * The handle keeps the messages in memory and brings them up to date
 * incrementally: rows whose MODSEQ is above the handle's HIGHESTMODSEQ
 * (new or changed) and tombstones above it (expunged). The cheap check
 * before any of that compares the new/ and cur/ mtimes, SQLite's
 * data_version (other connections' commits) and this user's own commit
 * counter with what the last sync saw.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/mem.h"

static void pool_clear(struct store_mailbox *mb)
{
	for (size_t i = 0; i < mb->n_pool; i++)
		free(mb->pool[i]);
	xfree(&mb->pool);
	mb->n_pool = 0;
}

static const char *pool_add(struct store_mailbox *mb, char *s)
{
	mb->pool = xrealloc(mb->pool, (mb->n_pool + 1) * sizeof(*mb->pool));
	mb->pool[mb->n_pool++] = s;
	return s;
}

static void msgs_clear(struct store_mailbox *mb)
{
	for (size_t i = 0; i < mb->n; i++)
		free(mb->msgs[i].keywords);
	mb->n = 0;
}

static int msg_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct store_msg *)a)->uid;
	uint32_t y = ((const struct store_msg *)b)->uid;

	return (x > y) - (x < y);
}

static struct store_msg *msg_find(const struct store_mailbox *mb, uint32_t uid)
{
	struct store_msg key = {.uid = uid};

	if (mb->n == 0)
		return NULL;
	return bsearch(&key, mb->msgs, mb->n, sizeof(*mb->msgs), msg_cmp);
}

/* Fill m from a SST_MSG_ALL / SST_MSG_SINCE row. */
static void msg_from_row(struct store_msg *m, sqlite3_stmt *st)
{
	free(m->keywords);
	m->uid = (uint32_t)sqlite3_column_int64(st, 0);
	m->flags = (unsigned)sqlite3_column_int(st, 1);
	m->keywords = store_col_str(st, 2, true);
	if (m->keywords != NULL && m->keywords[0] == '\0')
		xfree(&m->keywords);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 3);
	m->internaldate = (time_t)sqlite3_column_int64(st, 4);
	m->size = (uint64_t)sqlite3_column_int64(st, 5);
}

static struct store_msg *msg_append(struct store_mailbox *mb)
{
	struct store_msg *m;

	if (mb->n == mb->cap) {
		mb->cap = mb->cap == 0 ? 64 : mb->cap * 2;
		mb->msgs = xrealloc(mb->msgs, mb->cap * sizeof(*mb->msgs));
	}
	m = &mb->msgs[mb->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* Rows of st (SST_MSG_ALL or SST_MSG_SINCE) into the list. */
static int msgs_read(struct store_mailbox *mb, sqlite3_stmt *st)
{
	bool unsorted = false;
	int rc;

	while ((rc = store_step(mb->u, st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, 0);
		struct store_msg *m = msg_find(mb, uid);

		if (m == NULL) {
			unsorted |= mb->n > 0 && mb->msgs[mb->n - 1].uid > uid;
			m = msg_append(mb);
		}
		msg_from_row(m, st);
	}
	sqlite3_reset(st);
	if (unsorted)
		qsort(mb->msgs, mb->n, sizeof(*mb->msgs), msg_cmp);
	return rc < 0 ? rc : 0;
}

/* Drop the messages with tombstones above mb's HIGHESTMODSEQ. */
static int msgs_expunged(struct store_mailbox *mb)
{
	sqlite3_stmt *st = store_stmt(mb->u, SST_EXPUNGED_SINCE);
	size_t out = 0;
	bool any = false;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, (int64_t)mb->highestmodseq);
	while ((rc = store_step(mb->u, st)) == SQLITE_ROW) {
		struct store_msg *m =
			msg_find(mb, (uint32_t)sqlite3_column_int64(st, 0));

		if (m != NULL) {
			m->uid = 0; /* marked; compacted below */
			any = true;
		}
	}
	sqlite3_reset(st);
	if (rc < 0 || !any)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < mb->n; i++) {
		if (mb->msgs[i].uid == 0)
			free(mb->msgs[i].keywords);
		else
			mb->msgs[out++] = mb->msgs[i];
	}
	mb->n = out;
	return 0;
}

/* RFC 3501 2.3.2 \Recent: one read-write session claims new UIDs. */
static int msgs_recent(struct store_mailbox *mb, struct store_mbrow *row)
{
	sqlite3_stmt *st;

	for (size_t i = mb->n; i-- > 0 && mb->msgs[i].uid >= row->first_recent;)
		mb->msgs[i].recent = true;
	if (mb->readonly || row->first_recent >= row->uidnext)
		return 0;
	if ((st = store_stmt(mb->u, SST_MB_SET_RECENT)) == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->uidnext);
	row->first_recent = row->uidnext;
	return store_run(mb->u, st);
}

int store_mb_refresh(struct store_mailbox *mb, struct store_mbrow *row)
{
	sqlite3_stmt *st;
	int rc;

	if (!mb->loaded || row->uidvalidity != mb->uidvalidity) {
		msgs_clear(mb);
		if ((st = store_stmt(mb->u, SST_MSG_ALL)) == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, mb->id);
	} else if (row->highestmodseq != mb->highestmodseq) {
		if ((rc = msgs_expunged(mb)) < 0)
			return rc;
		if ((st = store_stmt(mb->u, SST_MSG_SINCE)) == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, mb->id);
		sqlite3_bind_int64(st, 2, (int64_t)mb->highestmodseq);
	} else {
		st = NULL;
	}
	if (st != NULL && (rc = msgs_read(mb, st)) < 0) {
		mb->loaded = false; /* half-read: start over next time */
		return rc;
	}
	mb->loaded = true;
	mb->uidvalidity = row->uidvalidity;
	mb->uidnext = row->uidnext;
	mb->highestmodseq = row->highestmodseq;
	free(mb->keywords);
	mb->keywords = xstrdup(row->keywords);
	return msgs_recent(mb, row);
}

int store_mb_reload(struct store_mailbox *mb)
{
	struct store_mbrow row;
	int rc = store_mbrow_by_id(mb->u, mb->id, &row);

	if (rc == 0)
		rc = store_mb_refresh(mb, &row);
	store_mbrow_fini(&row);
	mb->pending = true;
	pool_clear(mb);
	return rc;
}

void store_mb_follow(struct store_mailbox *mb, const struct store_mbrow *row)
{
	if (row->name == NULL || strcmp(row->name, mb->name) == 0)
		return;
	/* Renamed by another session: follow it. */
	free(mb->name);
	free(mb->dir);
	mb->name = xstrdup(row->name);
	mb->dir = store_folder_dir(mb->u, mb->name);
}

/* ---- open, sync ---- */

int64_t store_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A session quiet for a while (IDLE syncs once a second) gives SQLite's
 * page cache back: 10,000 waiting sessions must not each keep one. A
 * burst of commands keeps it, which is worth a third of STORE's speed.
 */
void store_idle_release(struct store_user *u)
{
	if (u->busy_at == 0 || store_now_ns() - u->busy_at < STORE_IDLE_NS)
		return;
	store_index_quiet(u);
	u->busy_at = 0;
}

static int64_t data_version(struct store_user *u)
{
	sqlite3_stmt *st = store_stmt(u, SST_DATA_VERSION);
	int64_t v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

/* The transaction part of a sync; row gets the mailbox as synced.
 * 1: more files to index in another transaction. */
static int sync_locked(struct store_mailbox *mb, struct store_mbrow *row)
{
	bool more;
	int rc = store_mbrow_by_id(mb->u, mb->id, row);

	if (rc == 0 && row->noselect)
		rc = store_fail(mb->u, STORE_ERR_NONEXISTENT,
				"mailbox was deleted");
	if (rc < 0)
		return rc == STORE_ERR_NONEXISTENT
			       ? store_fail(mb->u, rc, "mailbox was deleted")
			       : rc;
	store_mb_follow(mb, row);
	if ((rc = store_sync_locked(mb->u, row, mb->dir, false)) < 0)
		return rc;
	more = rc == 1;
	rc = store_mb_refresh(mb, row);
	return rc < 0 ? rc : more;
}

int store_mailbox_sync(struct store_mailbox *mb, const char **error_r)
{
	struct store_user *u = mb->u;
	struct store_mbrow row;
	uint32_t old_uidv = mb->uidvalidity, old_next = mb->uidnext;
	uint64_t old_hms = mb->highestmodseq;
	bool was_loaded = mb->loaded;
	int64_t snew = 0, scur = 0, dv;
	bool more;
	int rc;

	*error_r = u->error;
	dv = data_version(u);
	if (store_dir_stamps(mb->dir, &snew, &scur) == 0 && mb->loaded &&
	    snew == mb->seen_new && scur == mb->seen_cur && dv >= 0 &&
	    dv == mb->seen_dv && u->changes == mb->seen_changes) {
		rc = mb->pending;
		mb->pending = false;
		store_idle_release(u);
		return rc;
	}
	do {
		if ((rc = store_begin(u)) < 0)
			return rc;
		rc = sync_locked(mb, &row);
		more = rc == 1;
		if (rc >= 0)
			rc = store_commit(u);
		else
			store_rollback(u);
		if (rc == 0 && more)
			store_mbrow_fini(&row);
	} while (rc == 0 && more);
	if (rc == 0) {
		mb->seen_new = row.new_stamp;
		mb->seen_cur = row.cur_stamp;
		mb->seen_dv = dv;
		mb->seen_changes = u->changes;
	}
	store_mbrow_fini(&row);
	pool_clear(mb);
	u->busy_at = store_now_ns();
	if (rc < 0)
		return rc;
	rc = mb->pending || !was_loaded || old_uidv != mb->uidvalidity ||
	     old_next != mb->uidnext || old_hms != mb->highestmodseq;
	mb->pending = false;
	return rc;
}

struct store_mailbox *store_mailbox_open(struct store_user *u, const char *name,
					 bool readonly, enum store_err *err_r,
					 const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	struct store_mailbox *mb;
	struct store_mbrow row;
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0) {
		*err_r = (enum store_err)rc;
		return NULL;
	}
	rc = store_mbrow_by_name(u, norm, &row);
	if (rc == 0 && row.noselect)
		rc = store_fail(u, STORE_ERR_NONEXISTENT,
				"mailbox cannot be selected");
	if (rc < 0) {
		store_mbrow_fini(&row);
		*err_r = (enum store_err)rc;
		return NULL;
	}
	mb = xcalloc(1, sizeof(*mb));
	mb->u = u;
	mb->id = row.id;
	mb->name = xstrdup(norm);
	mb->dir = store_folder_dir(u, norm);
	mb->readonly = readonly;
	mb->keywords = xstrdup("");
	store_mbrow_fini(&row);
	if ((rc = store_mailbox_sync(mb, error_r)) < 0) {
		*err_r = (enum store_err)rc;
		store_mailbox_free(&mb);
		return NULL;
	}
	*err_r = STORE_OK;
	return mb;
}

void store_mailbox_free(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;

	if (mb == NULL)
		return;
	msgs_clear(mb);
	pool_clear(mb);
	free(mb->msgs);
	free(mb->name);
	free(mb->dir);
	free(mb->keywords);
	free(mb);
	*mbp = NULL;
}

uint32_t store_mailbox_uidvalidity(const struct store_mailbox *mb)
{
	return mb->uidvalidity;
}

uint32_t store_mailbox_uidnext(const struct store_mailbox *mb)
{
	return mb->uidnext;
}

uint64_t store_mailbox_highestmodseq(const struct store_mailbox *mb)
{
	return mb->highestmodseq;
}

const char *store_mailbox_keywords(const struct store_mailbox *mb)
{
	return mb->keywords != NULL ? mb->keywords : "";
}

void store_mailbox_messages(const struct store_mailbox *mb,
			    const struct store_msg **msgs_r, size_t *n_r)
{
	*msgs_r = mb->msgs;
	*n_r = mb->n;
}

const struct store_msg *store_mailbox_find(const struct store_mailbox *mb,
					   uint32_t uid)
{
	return msg_find(mb, uid);
}

int store_mailbox_vanished(struct store_mailbox *mb, uint64_t since,
			   uint32_t **uids_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = store_stmt(mb->u, SST_EXPUNGED_SINCE);
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*error_r = mb->u->error;
	*uids_r = NULL;
	*n_r = 0;
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, (int64_t)since);
	while ((rc = store_step(mb->u, st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			uids = xrealloc(uids, cap * sizeof(*uids));
		}
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc < 0) {
		free(uids);
		return rc;
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

/* ---- one message ---- */

static int msg_read(struct store_mailbox *mb, uint32_t uid, bool header_only,
		    char **data_r, size_t *len_r, const char **error_r)
{
	char name[STORE_FILE_NAME_SIZE];
	struct store_msgrow r;
	struct stat st;
	char *path;
	int rc;

	*error_r = mb->u->error;
	*data_r = NULL;
	*len_r = 0;
	if ((rc = store_msgrow_get(mb->u, mb->id, uid, &r)) < 0)
		return rc;
	path = xasprintf("%s/cur/%s:%s", mb->dir, r.base, r.info);
	rc = store_file_read(mb->u, path, header_only, data_r, len_r, &st);
	free(path);
	/* Renamed by another tool since the last sync (flags changed). */
	if (rc == STORE_ERR_EXPUNGED &&
	    store_find_base(mb->u, mb->dir, r.base, name, sizeof(name)) == 0) {
		path = xasprintf("%s/cur/%s", mb->dir, name);
		rc = store_file_read(mb->u, path, header_only, data_r, len_r,
				     &st);
		free(path);
	}
	store_msgrow_fini(&r);
	return rc;
}

int store_msg_load(struct store_mailbox *mb, uint32_t uid, char **data_r,
		   size_t *len_r, const char **error_r)
{
	return msg_read(mb, uid, false, data_r, len_r, error_r);
}

int store_msg_load_header(struct store_mailbox *mb, uint32_t uid, char **data_r,
			  size_t *len_r, const char **error_r)
{
	return msg_read(mb, uid, true, data_r, len_r, error_r);
}

/* Column col of the message's cache row, in mb's pool. */
static int cache_get(struct store_mailbox *mb, uint32_t uid, int col,
		     const char **s_r)
{
	sqlite3_stmt *st = store_stmt(mb->u, SST_CACHE_GET);
	int rc;

	*s_r = NULL;
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, uid);
	rc = store_step(mb->u, st);
	if (rc == SQLITE_ROW)
		*s_r = pool_add(mb, store_col_str(st, col, false));
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (rc == SQLITE_DONE)
		return store_fail(mb->u, STORE_ERR_EXPUNGED, "message is gone");
	return 0;
}

int store_msg_envelope(struct store_mailbox *mb, uint32_t uid,
		       const char **envelope_r, const char **error_r)
{
	*error_r = mb->u->error;
	return cache_get(mb, uid, 0, envelope_r);
}

int store_msg_bodystructure(struct store_mailbox *mb, uint32_t uid,
			    bool extended, const char **body_r,
			    const char **error_r)
{
	*error_r = mb->u->error;
	return cache_get(mb, uid, extended ? 2 : 1, body_r);
}
