/*
 * The folder list: LIST, CREATE, DELETE, RENAME, SUBSCRIBE, STATUS, and
 * keeping the mailbox rows in step with the Maildir++ folders on disk
 * (a folder made or removed by another tool is picked up).
 *
 * Each change runs in one BEGIN IMMEDIATE transaction; the directory
 * operations happen inside it, and a failure undoes the ones made. A crash
 * between the directory change and the commit is repaired by the next
 * store_discover(): a folder without a row gets one, a row without a
 * folder goes.
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

static const struct {
	const char *name;
	unsigned special;
} store_default_folders[] = {
	{"Drafts", STORE_SU_DRAFTS},   {"Sent", STORE_SU_SENT},
	{"Trash", STORE_SU_TRASH},     {"Junk", STORE_SU_JUNK},
	{"Archive", STORE_SU_ARCHIVE},
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int store_mb_purge(struct store_user *u, int64_t id)
{
	static const enum store_stmt ids[] = {
		SST_MSG_DELETE_ALL, SST_CACHE_DELETE_ALL,
		SST_EXPUNGED_DELETE_ALL, SST_MB_DELETE};
	int rc;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *st = store_stmt(u, ids[i]);

		if (st == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, id);
		if ((rc = store_run(u, st)) < 0)
			return rc;
	}
	return 0;
}

/* The Maildir++ folders in the user's Maildir, sorted. */
static int disk_folders(struct store_user *u, char ***names_r, size_t *n_r)
{
	DIR *d = opendir(u->root);
	struct dirent *de;
	char name[STORE_NAME_MAX + 1];
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL)
		return store_errno_fail(u, "opendir", u->root);
	while ((de = readdir(d)) != NULL) {
		char *cur;
		struct stat st;
		int rc;

		if (!store_name_from_dir(de->d_name, name))
			continue;
		/* A symlinked folder could lead out of the Maildir. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		cur = xasprintf("%s/cur", de->d_name);
		rc = fstatat(dirfd(d), cur, &st, AT_SYMLINK_NOFOLLOW);
		free(cur);
		if (rc < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), str_cmp);
	*names_r = names;
	*n_r = n;
	return 0;
}

/* Rows whose folder is gone (deleted by another tool) go. */
static int drop_vanished(struct store_user *u, char **names, size_t n)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_NAMES);
	char **gone = NULL;
	size_t n_gone = 0;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		char *name = (char *)sqlite3_column_text(st, 0);

		if (name == NULL || sqlite3_column_int(st, 2) != 0 ||
		    store_name_is_inbox(name) ||
		    (n > 0 &&
		     bsearch(&name, names, n, sizeof(*names), str_cmp) != NULL))
			continue;
		gone = xrealloc(gone, (n_gone + 1) * sizeof(*gone));
		gone[n_gone++] = xstrdup(name);
	}
	sqlite3_reset(st);
	for (size_t i = 0; rc >= 0 && i < n_gone; i++) {
		struct store_mbrow row;

		rc = store_mbrow_by_name(u, gone[i], &row);
		if (rc == 0)
			rc = store_mb_purge(u, row.id);
		store_mbrow_fini(&row);
	}
	free_names(gone, n_gone);
	return rc < 0 ? rc : 0;
}

int store_discover(struct store_user *u, bool subscribe)
{
	char **names = NULL;
	size_t n = 0;
	int rc = disk_folders(u, &names, &n);

	if (rc < 0)
		return rc;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		struct store_mbrow row;

		rc = store_mbrow_by_name(u, names[i], &row);
		if (rc == STORE_ERR_NONEXISTENT) {
			rc = store_mb_insert(u, names[i], 0, subscribe, NULL);
		} else if (rc == 0 && row.noselect) {
			sqlite3_stmt *st = store_stmt(u, SST_MB_SET_NOSELECT);

			rc = STORE_ERR_IO;
			if (st != NULL) {
				sqlite3_bind_int64(st, 1, row.id);
				sqlite3_bind_int(st, 2, 0);
				rc = store_run(u, st);
			}
		}
		store_mbrow_fini(&row);
	}
	if (rc >= 0)
		rc = drop_vanished(u, names, n);
	free_names(names, n);
	return rc < 0 ? rc : 0;
}

int store_defaults(struct store_user *u)
{
	int rc = 0;

	for (size_t i = 0;
	     rc >= 0 && i < sizeof(store_default_folders) /
					sizeof(store_default_folders[0]);
	     i++) {
		const char *name = store_default_folders[i].name;
		unsigned special = store_default_folders[i].special;
		struct store_mbrow row;
		sqlite3_stmt *st;

		rc = store_mbrow_by_name(u, name, &row);
		if (rc == STORE_ERR_NONEXISTENT) {
			rc = store_mb_insert(u, name, special, true, NULL);
		} else if (rc == 0 && row.special == 0) {
			st = store_stmt(u, SST_MB_SET_SPECIAL);
			rc = STORE_ERR_IO;
			if (st != NULL) {
				sqlite3_bind_int64(st, 1, row.id);
				sqlite3_bind_int(st, 2, (int)special);
				rc = store_run(u, st);
			}
		}
		store_mbrow_fini(&row);
	}
	return rc;
}

/* ---- LIST ---- */

struct entry {
	struct store_mailbox_info info;
	bool row, implied, row_noselect;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct entry *entry_add(struct entries *e, const char *name, size_t len)
{
	struct entry *x;

	if (e->n == e->cap) {
		e->cap = e->cap == 0 ? 32 : e->cap * 2;
		e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	x->info.name = xstrndup(name, len);
	return x;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->info.name,
		      ((const struct entry *)b)->info.name);
}

static int list_rows(struct store_user *u, struct entries *e)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_NAMES);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct entry *x;

		if (name == NULL)
			continue;
		x = entry_add(e, name, strlen(name));
		x->row = true;
		x->info.special = (unsigned)sqlite3_column_int(st, 1);
		x->row_noselect = sqlite3_column_int(st, 2) != 0;
		/* RFC 3501 6.3.8: a level without a mailbox of its own is
		 * listed \Noselect; add each parent, merged below. */
		for (const char *p = strchr(name, '/'); p != NULL;
		     p = strchr(p + 1, '/'))
			entry_add(e, name, (size_t)(p - name))->implied = true;
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if ((st = store_stmt(u, SST_SUB_LIST)) == NULL)
		return STORE_ERR_IO;
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name != NULL)
			entry_add(e, name, strlen(name))->info.subscribed =
				true;
	}
	sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

/* Merge the entries of one name; the list ends sorted and unique. */
static void list_merge(struct entries *e)
{
	size_t out = 0;

	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
	for (size_t i = 0; i < e->n; i++) {
		struct entry *x = &e->v[i];

		if (out > 0 &&
		    strcmp(e->v[out - 1].info.name, x->info.name) == 0) {
			struct entry *m = &e->v[out - 1];

			m->row |= x->row;
			m->implied |= x->implied;
			m->row_noselect |= x->row_noselect;
			m->info.subscribed |= x->info.subscribed;
			m->info.special |= x->info.special;
			free(x->info.name);
			continue;
		}
		e->v[out++] = *x;
	}
	e->n = out;
	for (size_t i = 0; i < e->n; i++) {
		struct entry *x = &e->v[i];

		x->info.exists = x->row || x->implied;
		x->info.noselect = x->row ? x->row_noselect : x->implied;
	}
}

static void list_children(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *name = e->v[i].info.name;

		if (!e->v[i].info.exists)
			continue;
		for (const char *p = strchr(name, '/'); p != NULL;
		     p = strchr(p + 1, '/')) {
			struct entry key = {.info.name = xstrndup(
						    name, (size_t)(p - name))};
			struct entry *parent = bsearch(
				&key, e->v, e->n, sizeof(*e->v), entry_cmp);

			if (parent != NULL)
				parent->info.has_children = true;
			free(key.info.name);
		}
	}
}

int store_mailbox_list(struct store_user *u, struct store_mailbox_info **list_r,
		       size_t *n_r, const char **error_r)
{
	struct entries e = {0};
	struct store_mailbox_info *list;
	size_t inbox = SIZE_MAX, n = 0;
	int rc;

	*list_r = NULL;
	*n_r = 0;
	*error_r = u->error;
	if ((rc = store_begin(u)) < 0)
		return rc;
	if ((rc = store_discover(u, false)) < 0 ||
	    (rc = list_rows(u, &e)) < 0) {
		store_rollback(u);
		for (size_t i = 0; i < e.n; i++)
			free(e.v[i].info.name);
		free(e.v);
		return rc;
	}
	if ((rc = store_commit(u)) < 0)
		return rc;
	list_merge(&e);
	list_children(&e);
	list = xcalloc(e.n + 1, sizeof(*list));
	for (size_t i = 0; i < e.n; i++) {
		if (store_name_is_inbox(e.v[i].info.name))
			inbox = i;
	}
	if (inbox != SIZE_MAX)
		list[n++] = e.v[inbox].info;
	for (size_t i = 0; i < e.n; i++) {
		if (i != inbox)
			list[n++] = e.v[i].info;
	}
	free(e.v);
	*list_r = list;
	*n_r = n;
	return 0;
}

void store_mailbox_list_free(struct store_mailbox_info **listp, size_t n)
{
	struct store_mailbox_info *list = *listp;

	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
	*listp = NULL;
}

/* ---- CREATE, DELETE ---- */

int store_create_parents(struct store_user *u, const char *name)
{
	int rc = 0;

	for (const char *p = strchr(name, '/'); rc >= 0 && p != NULL;
	     p = strchr(p + 1, '/')) {
		char *parent = xstrndup(name, (size_t)(p - name));
		struct store_mbrow row;

		rc = store_mbrow_by_name(u, parent, &row);
		if (rc == STORE_ERR_NONEXISTENT)
			rc = store_mb_insert(u, parent, 0, false, NULL);
		store_mbrow_fini(&row);
		free(parent);
	}
	return rc;
}

static int create_locked(struct store_user *u, const char *name,
			 unsigned special)
{
	struct store_mbrow row;
	int rc = store_mbrow_by_name(u, name, &row);

	if (rc == 0 && !row.noselect)
		rc = store_fail(u, STORE_ERR_EXISTS, "mailbox exists");
	else if (rc == 0) /* a \Noselect level becomes a mailbox again */
		rc = store_mb_purge(u, row.id);
	else if (rc == STORE_ERR_NONEXISTENT)
		rc = 0;
	store_mbrow_fini(&row);
	if (rc < 0 || (rc = store_create_parents(u, name)) < 0)
		return rc;
	return store_mb_insert(u, name, special, false, NULL);
}

int store_mailbox_create(struct store_user *u, const char *name,
			 unsigned special, const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0)
		return rc;
	if (store_name_is_inbox(norm))
		return store_fail(u, STORE_ERR_EXISTS, "INBOX always exists");
	if ((rc = store_begin(u)) < 0)
		return rc;
	if ((rc = create_locked(u, norm, special)) < 0) {
		store_rollback(u);
		return rc;
	}
	return store_commit(u);
}

/* \Noselect levels left without children go with their last child. */
int store_drop_empty_parents(struct store_user *u, const char *name)
{
	char *parent = xstrdup(name);
	char *slash;
	int rc = 0;

	while (rc >= 0 && (slash = strrchr(parent, '/')) != NULL) {
		struct store_mbrow row;

		*slash = '\0';
		rc = store_mbrow_by_name(u, parent, &row);
		if (rc == STORE_ERR_NONEXISTENT) {
			rc = 0;
		} else if (rc == 0 && row.noselect) {
			rc = store_mb_has_children(u, parent);
			if (rc == 0)
				rc = store_mb_purge(u, row.id);
		}
		store_mbrow_fini(&row);
	}
	free(parent);
	return rc < 0 ? rc : 0;
}

/* Drop the messages of a mailbox that stays as a \Noselect level. */
static int make_noselect(struct store_user *u, int64_t id)
{
	static const enum store_stmt ids[] = {
		SST_MSG_DELETE_ALL, SST_CACHE_DELETE_ALL,
		SST_EXPUNGED_DELETE_ALL, SST_MB_SET_NOSELECT};
	int rc;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *st = store_stmt(u, ids[i]);

		if (st == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, id);
		if (ids[i] == SST_MB_SET_NOSELECT)
			sqlite3_bind_int(st, 2, 1);
		if ((rc = store_run(u, st)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Out of the Maildir in one rename (as Dovecot does), then emptied: a
 * file another tool left there cannot leave the mailbox half deleted.
 */
static int remove_folder(struct store_user *u, const char *dir, uint64_t *bytes,
			 uint64_t *count)
{
	char base[STORE_FILE_NAME_SIZE];
	char *trash;

	store_unique_name(u, 0, base);
	trash = xasprintf("%s/tmp/.deleted.%s", u->root, base);
	if (rename(dir, trash) < 0) {
		int rc = errno == ENOENT ? 0
					 : store_errno_fail(u, "rename", dir);

		free(trash);
		return rc;
	}
	if (store_rmdir_folder(u, trash, bytes, count) < 0)
		log_warn(NULL, "deleted folder left behind",
			 "path=%s error=\"%s\"", trash, u->error);
	free(trash);
	return 0;
}

static int delete_locked(struct store_user *u, const char *name,
			 uint64_t *bytes, uint64_t *count)
{
	struct store_mbrow row;
	char *dir;
	int children, rc = store_mbrow_by_name(u, name, &row);

	if (rc < 0)
		return rc;
	children = store_mb_has_children(u, name);
	if (children < 0) {
		rc = children;
	} else if (row.noselect && children) {
		/* RFC 3501 6.3.4 */
		rc = store_fail(u, STORE_ERR_NOPERM,
				"mailbox has children and no messages");
	} else if (row.noselect) {
		rc = store_mb_purge(u, row.id);
	} else {
		dir = store_folder_dir(u, name);
		rc = remove_folder(u, dir, bytes, count);
		free(dir);
		if (rc == 0)
			rc = children ? make_noselect(u, row.id)
				      : store_mb_purge(u, row.id);
	}
	store_mbrow_fini(&row);
	if (rc == 0)
		rc = store_drop_empty_parents(u, name);
	return rc;
}

int store_mailbox_delete(struct store_user *u, const char *name,
			 const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	uint64_t bytes = 0, count = 0;
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0)
		return rc;
	if (store_name_is_inbox(norm))
		return store_fail(u, STORE_ERR_NOPERM, "cannot delete INBOX");
	if ((rc = store_begin(u)) < 0)
		return rc;
	if ((rc = delete_locked(u, norm, &bytes, &count)) < 0) {
		store_rollback(u);
		return rc;
	}
	if ((rc = store_commit(u)) < 0)
		return rc;
	if (count > 0)
		store_quota_add(u, -(int64_t)bytes, -(int64_t)count);
	return 0;
}

/* ---- SUBSCRIBE ---- */

int store_mailbox_subscribe(struct store_user *u, const char *name, bool on,
			    const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, name, norm)) < 0)
		return rc;
	/* RFC 3501 6.3.6: a name may be subscribed whether or not it
	 * exists, and stays subscribed when its mailbox goes. */
	st = store_stmt(u, on ? SST_SUB_ADD : SST_SUB_DEL);
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	if ((rc = store_run(u, st)) < 0)
		return rc;
	u->changes++;
	return 0;
}

/* ---- STATUS ---- */

static int status_query(struct store_user *u, const struct store_mbrow *row,
			struct store_status *s)
{
	sqlite3_stmt *st = store_stmt(u, SST_STATUS);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->first_recent);
	rc = store_step(u, st);
	if (rc == SQLITE_ROW) {
		s->messages = (uint32_t)sqlite3_column_int64(st, 0);
		s->size = (uint64_t)sqlite3_column_int64(st, 1);
		s->unseen = (uint32_t)sqlite3_column_int64(st, 2);
		s->recent = (uint32_t)sqlite3_column_int64(st, 3);
		s->deleted = (uint32_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	s->uidnext = row->uidnext;
	s->uidvalidity = row->uidvalidity;
	s->highestmodseq = row->highestmodseq;
	return 0;
}

/* Sync (new mail must show in STATUS) and count, in one transaction. */
static int status_locked(struct store_user *u, const char *name,
			 struct store_status *s)
{
	struct store_mbrow row;
	char *dir;
	int rc = store_mbrow_by_name(u, name, &row);

	if (rc == 0 && row.noselect)
		rc = store_fail(u, STORE_ERR_NONEXISTENT,
				"mailbox cannot be selected");
	if (rc == 0) {
		dir = store_folder_dir(u, name);
		rc = store_sync_locked(u, &row, dir, false);
		free(dir);
	}
	if (rc == 0)
		rc = status_query(u, &row, s);
	/* rc 1: more to index; the caller commits and comes back. */
	store_mbrow_fini(&row);
	return rc;
}

/*
 * Without the write lock when the folder is as last scanned: clients poll
 * STATUS on every folder, and that should not queue behind writers.
 * 1 when answered, 0 when a sync is needed.
 */
static int status_cheap(struct store_user *u, const char *name,
			struct store_status *s)
{
	struct store_mbrow row;
	int64_t snew, scur;
	char *dir;
	int rc;

	if (store_db(u) < 0)
		return STORE_ERR_IO;
	if (sqlite3_exec(u->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_fail(u, "begin");
	rc = store_mbrow_by_name(u, name, &row);
	if (rc == 0 && !row.noselect && row.new_stamp != 0 &&
	    row.cur_stamp != 0) {
		dir = store_folder_dir(u, name);
		if (store_dir_stamps(dir, &snew, &scur) == 0 &&
		    snew == row.new_stamp && scur == row.cur_stamp)
			rc = status_query(u, &row, s) < 0 ? STORE_ERR_IO : 1;
		free(dir);
	} else if (rc == STORE_ERR_NONEXISTENT) {
		rc = 0; /* the locked path gives the error */
	}
	store_mbrow_fini(&row);
	store_rollback(u); /* ends the read transaction */
	return rc;
}

int store_mailbox_status(struct store_user *u, const char *name,
			 struct store_status *st, const char **error_r)
{
	char norm[STORE_NAME_MAX + 1];
	bool more;
	int rc;

	*error_r = u->error;
	memset(st, 0, sizeof(*st));
	if ((rc = store_name_norm(u, name, norm)) < 0)
		return rc;
	if ((rc = status_cheap(u, norm, st)) != 0)
		return rc < 0 ? rc : 0;
	do {
		if ((rc = store_begin(u)) < 0)
			return rc;
		if ((rc = status_locked(u, norm, st)) < 0) {
			store_rollback(u);
			return rc;
		}
		more = rc == 1;
		rc = store_commit(u);
	} while (rc == 0 && more);
	return rc;
}
