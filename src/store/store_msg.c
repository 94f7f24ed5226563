/*
 * A selected mailbox: the handle, its sync, the message list as of the
 * last sync, and the per-message operations (load, cached ENVELOPE and
 * BODYSTRUCTURE, STORE, EXPUNGE).
 *
 * The handles of one mailbox in a process share its message list
 * (struct store_mbshare, store_int.h): the first handle to sync after a
 * change brings it up to date incrementally, rows whose MODSEQ is above
 * the list's HIGHESTMODSEQ (new or changed) and tombstones above it
 * (expunged), and the others take the result without reading the index.
 * The cheap check before any of that compares the new/ and cur/ mtimes,
 * SQLite's data_version (other connections' commits) and this user's own
 * commit counter with what the list was made from.
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

/* ---- message lists shared by the handles of a mailbox ---- */

static void list_unref(struct store_mblist **lp)
{
	struct store_mblist *l = *lp;

	*lp = NULL;
	if (l == NULL || --l->refs > 0)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->msgs[i].keywords);
	for (size_t i = 0; i < l->n_old; i++)
		free(l->old[i]);
	free(l->old);
	free(l->msgs);
	free(l->keywords);
	free(l);
}

static struct store_mblist *list_ref(struct store_mblist *l)
{
	l->refs++;
	return l;
}

static int msg_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct store_msg *)a)->uid;
	uint32_t y = ((const struct store_msg *)b)->uid;

	return (x > y) - (x < y);
}

static struct store_msg *list_find(struct store_msg *msgs, size_t n,
				   uint32_t uid)
{
	struct store_msg key = {.uid = uid};

	if (n == 0)
		return NULL;
	return bsearch(&key, msgs, n, sizeof(*msgs), msg_cmp);
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

static struct store_msg *msg_append(struct store_mblist *l)
{
	struct store_msg *m;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->msgs = xrealloc(l->msgs, l->cap * sizeof(*l->msgs));
	}
	m = &l->msgs[l->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* Rows of st (SST_MSG_ALL or SST_MSG_SINCE) into the list. */
static int msgs_read(struct store_user *u, struct store_mblist *l,
		     sqlite3_stmt *st)
{
	bool unsorted = false;
	int rc;

	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, 0);
		struct store_msg *m = list_find(l->msgs, l->n, uid);

		if (m == NULL) {
			unsorted |= l->n > 0 && l->msgs[l->n - 1].uid > uid;
			m = msg_append(l);
		}
		msg_from_row(m, st);
	}
	sqlite3_reset(st);
	if (unsorted)
		qsort(l->msgs, l->n, sizeof(*l->msgs), msg_cmp);
	return rc < 0 ? rc : 0;
}

/* Drop the messages with tombstones above l's HIGHESTMODSEQ. */
static int msgs_expunged(struct store_user *u, int64_t id,
			 struct store_mblist *l)
{
	sqlite3_stmt *st = store_stmt(u, SST_EXPUNGED_SINCE);
	size_t out = 0;
	bool any = false;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)l->highestmodseq);
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		struct store_msg *m = list_find(
			l->msgs, l->n, (uint32_t)sqlite3_column_int64(st, 0));

		if (m != NULL) {
			m->uid = 0; /* marked; compacted below */
			any = true;
		}
	}
	sqlite3_reset(st);
	if (rc < 0 || !any)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->msgs[i].uid == 0)
			free(l->msgs[i].keywords);
		else
			l->msgs[out++] = l->msgs[i];
	}
	l->n = out;
	return 0;
}

/* A list of its own for a refresh: a copy of cur (keywords copied). */
static struct store_mblist *list_clone(const struct store_mblist *cur)
{
	struct store_mblist *l = xcalloc(1, sizeof(*l));

	l->refs = 1;
	l->uidvalidity = cur->uidvalidity;
	l->highestmodseq = cur->highestmodseq;
	l->cap = l->n = cur->n;
	if (l->n > 0) {
		l->msgs = xmalloc(l->n * sizeof(*l->msgs));
		memcpy(l->msgs, cur->msgs, l->n * sizeof(*l->msgs));
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->msgs[i].keywords != NULL)
			l->msgs[i].keywords = xstrdup(l->msgs[i].keywords);
	return l;
}

static bool list_current(const struct store_mblist *l,
			 const struct store_mbrow *row)
{
	return l != NULL && l->uidvalidity == row->uidvalidity &&
	       l->uidnext == row->uidnext &&
	       l->highestmodseq == row->highestmodseq &&
	       strcmp(l->keywords != NULL ? l->keywords : "",
		      row->keywords != NULL ? row->keywords : "") == 0;
}

/*
 * Bring the share's current list up to row (inside the transaction):
 * nothing when another handle already did; in place when mb is the only
 * handle on it (nobody else holds its pointers); else into a new list,
 * incrementally when UIDVALIDITY is the same.
 */
static int share_refresh(struct store_mailbox *mb, struct store_mbrow *row)
{
	struct store_mbshare *sh = mb->share;
	struct store_mblist *cur = sh->cur, *l;
	sqlite3_stmt *st;
	bool full = cur == NULL || cur->uidvalidity != row->uidvalidity;
	int rc = 0;

	if (list_current(cur, row))
		return 0;
	if (!full && cur->refs == 2 && mb->list == cur) {
		l = list_ref(cur); /* in place */
		for (size_t i = 0; i < l->n_old; i++)
			free(l->old[i]);
		xfree(&l->old);
		l->n_old = 0;
	} else if (!full) {
		l = list_clone(cur);
	} else {
		l = xcalloc(1, sizeof(*l));
		l->refs = 1;
	}
	if (full) {
		if ((st = store_stmt(mb->u, SST_MSG_ALL)) == NULL)
			rc = STORE_ERR_IO;
		else
			sqlite3_bind_int64(st, 1, mb->id);
	} else if (row->highestmodseq != l->highestmodseq) {
		if ((rc = msgs_expunged(mb->u, mb->id, l)) == 0 &&
		    (st = store_stmt(mb->u, SST_MSG_SINCE)) == NULL)
			rc = STORE_ERR_IO;
		if (rc == 0) {
			sqlite3_bind_int64(st, 1, mb->id);
			sqlite3_bind_int64(st, 2, (int64_t)l->highestmodseq);
		}
	} else {
		st = NULL;
	}
	if (rc == 0 && st != NULL)
		rc = msgs_read(mb->u, l, st);
	if (rc < 0) {
		/* Half-read: start over next time. */
		list_unref(&l);
		list_unref(&sh->cur);
		sh->seen_ok = false;
		return rc;
	}
	l->uidvalidity = row->uidvalidity;
	l->uidnext = row->uidnext;
	l->highestmodseq = row->highestmodseq;
	l->first_recent = row->first_recent;
	free(l->keywords);
	l->keywords = xstrdup(row->keywords != NULL ? row->keywords : "");
	list_unref(&sh->cur);
	sh->cur = l;
	return 0;
}

/* The index of the first message with a UID >= uid (l->n: none). */
static size_t lower_bound(const struct store_mblist *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool in_recent(const struct store_mailbox *mb, uint32_t uid)
{
	for (size_t i = mb->n_recent; i-- > 0;)
		if (uid >= mb->recent[i].lo && uid < mb->recent[i].hi)
			return true;
	return false;
}

/*
 * Make l mb's list. RFC 3501 2.3.2 \Recent: the UIDs new to mb at or
 * above first_recent are recent for mb (and, read-write, claimed by it
 * in msgs_recent).
 */
static void mb_adopt(struct store_mailbox *mb, struct store_mblist *l,
		     uint32_t first_recent)
{
	uint32_t from = mb->uidnext;
	size_t k = 0;
	bool any = false;

	if (mb->list == NULL || l->uidvalidity != mb->uidvalidity) {
		mb->n_recent = 0;
		from = 0;
	}
	if (first_recent > from)
		from = first_recent;
	if (from < l->uidnext) {
		if (mb->n_recent > 0 && mb->recent[mb->n_recent - 1].hi >= from)
			mb->recent[mb->n_recent - 1].hi = l->uidnext;
		else {
			mb->recent = xrealloc(mb->recent,
					      (mb->n_recent + 1) *
						      sizeof(*mb->recent));
			mb->recent[mb->n_recent++] =
				(struct store_recent){from, l->uidnext};
		}
	}
	if (mb->list != l) {
		list_unref(&mb->list);
		mb->list = list_ref(l);
	}
	xfree(&mb->own);
	/* Ranges whose messages are all gone are forgotten. */
	for (size_t i = 0; i < mb->n_recent; i++) {
		struct store_recent r = mb->recent[i];
		size_t j = lower_bound(l, r.lo);
		bool hit = j < l->n && l->msgs[j].uid < r.hi;

		if (hit)
			mb->recent[k++] = r;
		any |= hit;
	}
	mb->n_recent = k;
	if (any) {
		mb->own = xmalloc(l->n * sizeof(*mb->own));
		memcpy(mb->own, l->msgs, l->n * sizeof(*mb->own));
		for (size_t j = 0; j < l->n; j++)
			mb->own[j].recent = in_recent(mb, l->msgs[j].uid);
	}
	mb->uidvalidity = l->uidvalidity;
	mb->uidnext = l->uidnext;
	mb->highestmodseq = l->highestmodseq;
	free(mb->keywords);
	mb->keywords = xstrdup(l->keywords);
}

/* RFC 3501 2.3.2 \Recent: one read-write session claims new UIDs. */
static int msgs_recent(struct store_mailbox *mb, struct store_mbrow *row)
{
	sqlite3_stmt *st;

	if (mb->readonly || row->first_recent >= row->uidnext)
		return 0;
	if ((st = store_stmt(mb->u, SST_MB_SET_RECENT)) == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->uidnext);
	row->first_recent = row->uidnext;
	if (mb->share->cur != NULL)
		mb->share->cur->first_recent = row->uidnext;
	return store_run(mb->u, st);
}

int store_mb_refresh(struct store_mailbox *mb, struct store_mbrow *row)
{
	int rc = share_refresh(mb, row);

	if (rc < 0)
		return rc;
	mb_adopt(mb, mb->share->cur, row->first_recent);
	return msgs_recent(mb, row);
}

bool store_mb_set_msg(struct store_mailbox *mb, uint32_t uid, unsigned flags,
		      char *keywords, uint64_t modseq)
{
	struct store_mblist *l = mb->list;
	struct store_msg *m = l != NULL ? list_find(l->msgs, l->n, uid) : NULL;
	struct store_msg *o;

	if (m == NULL) {
		free(keywords);
		return false;
	}
	/* Other handles on l may hold the old string until they sync. */
	if (m->keywords != NULL) {
		l->old = xrealloc(l->old, (l->n_old + 1) * sizeof(*l->old));
		l->old[l->n_old++] = m->keywords;
	}
	m->flags = flags;
	m->keywords = keywords;
	m->modseq = modseq;
	if (mb->own != NULL) {
		o = &mb->own[m - l->msgs];
		o->flags = flags;
		o->keywords = keywords;
		o->modseq = modseq;
	}
	return true;
}

int store_mb_reload(struct store_mailbox *mb)
{
	struct store_mbrow row;
	int rc = store_mbrow_by_id(mb->u, mb->id, &row);

	if (rc == 0)
		rc = store_mb_refresh(mb, &row);
	store_mbrow_fini(&row);
	/* Not committed yet: the next sync of any handle checks. */
	mb->share->seen_ok = false;
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

/*
 * What changes when another connection commits to the user's index: the
 * shared counter less this handle's own commits (u->changes, compared
 * apart), or else SQLite's data_version. -1 when unknown.
 */
static int64_t data_version(struct store_user *u)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (u->counters != NULL)
		return (int64_t)(store_counter_get(u->counters,
						   u->counter_slot) -
				 u->changes) &
		       INT64_MAX;
	st = store_stmt(u, SST_DATA_VERSION);

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
	if ((rc = store_fields_backfill(mb->u, row, mb->dir)) < 0)
		return rc;
	rc = store_mb_refresh(mb, row);
	return rc < 0 ? rc : more;
}

/* The cheap check: nothing changed since the share's list was made. */
static bool share_fresh(const struct store_mbshare *sh, int64_t snew,
			int64_t scur, int64_t dv, uint64_t changes)
{
	return sh->seen_ok && sh->cur != NULL && snew == sh->seen_new &&
	       scur == sh->seen_cur && dv >= 0 && dv == sh->seen_dv &&
	       changes == sh->seen_changes;
}

int store_mailbox_sync(struct store_mailbox *mb, const char **error_r)
{
	struct store_user *u = mb->u;
	struct store_mbshare *sh = mb->share;
	struct store_mbrow row;
	uint32_t old_uidv = mb->uidvalidity, old_next = mb->uidnext;
	uint64_t old_hms = mb->highestmodseq;
	bool was_loaded = mb->list != NULL;
	int64_t snew = 0, scur = 0, dv;
	bool more, fresh;
	int rc;

	*error_r = u->error;
	dv = data_version(u);
	fresh = store_dir_stamps(mb->dir, &snew, &scur) == 0 &&
		share_fresh(sh, snew, scur, dv, u->changes);
	if (fresh && mb->list == sh->cur) {
		rc = mb->pending;
		mb->pending = false;
		store_idle_release(u);
		return rc;
	}
	/* Another handle refreshed the list: take it without a transaction,
	 * unless there are \Recent UIDs this read-write handle must claim. */
	if (fresh &&
	    (mb->readonly || sh->cur->first_recent >= sh->cur->uidnext)) {
		mb_adopt(mb, sh->cur, sh->cur->first_recent);
		pool_clear(mb);
		store_idle_release(u);
	} else {
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
		if (rc == 0 && sh->cur != NULL) {
			sh->seen_ok = true;
			sh->seen_new = row.new_stamp;
			sh->seen_cur = row.cur_stamp;
			sh->seen_dv = dv;
			sh->seen_changes = u->changes;
		}
		store_mbrow_fini(&row);
		pool_clear(mb);
		u->busy_at = store_now_ns();
		if (rc < 0)
			return rc;
	}
	rc = mb->pending || !was_loaded || old_uidv != mb->uidvalidity ||
	     old_next != mb->uidnext || old_hms != mb->highestmodseq;
	mb->pending = false;
	return rc;
}

static struct store_mbshare *share_get(struct store_user *u, int64_t id)
{
	struct store_mbshare *sh;

	for (sh = u->shares; sh != NULL; sh = sh->next)
		if (sh->id == id)
			break;
	if (sh == NULL) {
		sh = xcalloc(1, sizeof(*sh));
		sh->id = id;
		sh->next = u->shares;
		u->shares = sh;
	}
	sh->handles++;
	return sh;
}

static void share_put(struct store_user *u, struct store_mbshare *sh)
{
	struct store_mbshare **p;

	if (sh == NULL || --sh->handles > 0)
		return;
	for (p = &u->shares; *p != NULL; p = &(*p)->next)
		if (*p == sh) {
			*p = sh->next;
			break;
		}
	list_unref(&sh->cur);
	free(sh);
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
	mb->share = share_get(u, row.id);
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
	store_mailbox_unwatch(mb);
	pool_clear(mb);
	free(mb->own);
	list_unref(&mb->list);
	share_put(mb->u, mb->share);
	free(mb->recent);
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
	if (mb->list == NULL) {
		*msgs_r = NULL;
		*n_r = 0;
		return;
	}
	*msgs_r = mb->own != NULL ? mb->own : mb->list->msgs;
	*n_r = mb->list->n;
}

const struct store_msg *store_mailbox_find(const struct store_mailbox *mb,
					   uint32_t uid)
{
	if (mb->list == NULL)
		return NULL;
	return list_find(mb->own != NULL ? mb->own : mb->list->msgs,
			 mb->list->n, uid);
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

int store_msg_file_read(struct store_user *u, const char *dir, const char *base,
			const char *info, bool header_only, char **data_r,
			size_t *len_r)
{
	char name[STORE_FILE_NAME_SIZE];
	struct stat st;
	char *path = xasprintf("%s/cur/%s:%s", dir, base, info);
	int rc = store_file_read(u, path, header_only, data_r, len_r, &st);

	free(path);
	/* Renamed by another tool since the last sync (flags changed). */
	if (rc == STORE_ERR_EXPUNGED &&
	    store_find_base(u, dir, base, name, sizeof(name)) == 0) {
		path = xasprintf("%s/cur/%s", dir, name);
		rc = store_file_read(u, path, header_only, data_r, len_r, &st);
		free(path);
	}
	return rc;
}

static int msg_read(struct store_mailbox *mb, uint32_t uid, bool header_only,
		    char **data_r, size_t *len_r, const char **error_r)
{
	struct store_msgrow r;
	int rc;

	*error_r = mb->u->error;
	*data_r = NULL;
	*len_r = 0;
	if ((rc = store_msgrow_get(mb->u, mb->id, uid, &r)) < 0)
		return rc;
	rc = store_msg_file_read(mb->u, mb->dir, r.base, r.info, header_only,
				 data_r, len_r);
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

/* Step statement id (a cache row by mailbox and UID) for uid:
 * SQLITE_ROW with *st_r on the row (the caller resets it), SQLITE_DONE
 * (reset), or an error. */
static int cache_row(struct store_mailbox *mb, enum store_stmt id, uint32_t uid,
		     sqlite3_stmt **st_r)
{
	sqlite3_stmt *st = store_stmt(mb->u, id);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, uid);
	rc = store_step(mb->u, st);
	if (rc != SQLITE_ROW)
		sqlite3_reset(st);
	*st_r = st;
	return rc;
}

int store_msg_load_fields(struct store_mailbox *mb, uint32_t uid, char **data_r,
			  size_t *len_r, const char **error_r)
{
	sqlite3_stmt *st;
	int rc = cache_row(mb, SST_CACHE_FIELDS, uid, &st);

	*error_r = mb->u->error;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		*data_r = xmalloc(n + 1);
		memcpy(*data_r, sqlite3_column_blob(st, 0), n);
		(*data_r)[n] = '\0';
		*len_r = n;
		sqlite3_reset(st);
		return 0;
	}
	if (rc == SQLITE_ROW)
		sqlite3_reset(st);
	if (rc < 0)
		return rc;
	/* Indexed before the fields were kept, or too large to keep. */
	return msg_read(mb, uid, true, data_r, len_r, error_r);
}

/* Column col of the message's cache row, in mb's pool. */
static int cache_get(struct store_mailbox *mb, uint32_t uid, int col,
		     const char **s_r)
{
	sqlite3_stmt *st;
	int rc = cache_row(mb, SST_CACHE_GET, uid, &st);

	*s_r = NULL;
	if (rc < 0)
		return rc;
	if (rc == SQLITE_DONE)
		return store_fail(mb->u, STORE_ERR_EXPUNGED, "message is gone");
	*s_r = pool_add(mb, store_col_str(st, col, false));
	sqlite3_reset(st);
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
