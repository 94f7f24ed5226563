/*
 * RENAME (RFC 3501 6.3.5): a mailbox and its children move to the new
 * name, keeping UIDVALIDITY and UIDs (the old name, if created again, gets
 * a new UIDVALIDITY). Renaming INBOX moves its messages to a new mailbox
 * and leaves INBOX empty, its UIDNEXT where it was.
 *
 * Maildir++ folders are flat (".A", ".A.B"), so each level is one
 * directory rename; they run inside the transaction and are undone, last
 * first, when one fails.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

struct undo {
	char **from, **to;
	size_t n;
};

static void undo_add(struct undo *un, char *from, char *to)
{
	un->from = xrealloc(un->from, (un->n + 1) * sizeof(*un->from));
	un->to = xrealloc(un->to, (un->n + 1) * sizeof(*un->to));
	un->from[un->n] = from;
	un->to[un->n] = to;
	un->n++;
}

/* Put back what was renamed (on failure) and free the list. */
static void undo_finish(struct undo *un, bool revert)
{
	for (size_t i = un->n; i-- > 0;) {
		if (revert && rename(un->to[i], un->from[i]) < 0)
			log_error(NULL, "cannot undo mailbox rename",
				  "from=%s to=%s error=%s", un->to[i],
				  un->from[i], strerror(errno));
		free(un->from[i]);
		free(un->to[i]);
	}
	free(un->from);
	free(un->to);
	memset(un, 0, sizeof(*un));
}

static int move_path(struct store_user *u, struct undo *un, char *from,
		     char *to)
{
	if (store_rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) < 0) {
		int rc = store_errno_fail(u, "rename", from);

		free(from);
		free(to);
		return rc;
	}
	undo_add(un, from, to);
	return 0;
}

struct level {
	int64_t id;
	char *name;
	bool noselect;
};

static void levels_free(struct level *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* The mailbox from and its children. */
static int levels_load(struct store_user *u, const char *from,
		       struct level **v_r, size_t *n_r)
{
	sqlite3_stmt *st = store_prepare(
		u, "SELECT id, name, noselect FROM mailboxes WHERE name = ?1 "
		   "OR substr(name, 1, length(?1) + 1) = ?1 || '/' "
		   "ORDER BY name");
	struct level *v = NULL;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].name = store_col_str(st, 1, false);
		v[n].noselect = sqlite3_column_int(st, 2) != 0;
		n++;
	}
	sqlite3_finalize(st);
	*v_r = v;
	*n_r = n;
	return rc < 0 ? rc : 0;
}

/* The new name of a level, checked; 0 or an error. */
static int level_target(struct store_user *u, const char *from, const char *to,
			const char *name, char *out)
{
	char *joined = xasprintf("%s%s", to, name + strlen(from));
	struct store_mbrow row;
	int rc = store_name_norm(u, joined, out);

	free(joined);
	if (rc < 0)
		return rc;
	rc = store_mbrow_by_name(u, out, &row);
	store_mbrow_fini(&row);
	if (rc == 0)
		return store_fail(u, STORE_ERR_EXISTS, "%s exists", out);
	return rc == STORE_ERR_NONEXISTENT ? 0 : rc;
}

static int rename_level(struct store_user *u, struct undo *un,
			const struct level *l, const char *target)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_SET_NAME);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	if ((rc = store_run(u, st)) < 0 || l->noselect)
		return rc;
	return move_path(u, un, store_folder_dir(u, l->name),
			 store_folder_dir(u, target));
}

static int rename_locked(struct store_user *u, struct undo *un,
			 const char *from, const char *to)
{
	char target[STORE_NAME_MAX + 1];
	struct store_mbrow row;
	struct level *v = NULL;
	size_t n = 0;
	int rc = store_mbrow_by_name(u, from, &row);

	store_mbrow_fini(&row);
	if (rc < 0)
		return rc;
	if ((rc = levels_load(u, from, &v, &n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((rc = level_target(u, from, to, v[i].name, target)) < 0)
			goto out;
	}
	if ((rc = store_create_parents(u, to)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((rc = level_target(u, from, to, v[i].name, target)) < 0 ||
		    (rc = rename_level(u, un, &v[i], target)) < 0)
			goto out;
	}
	rc = store_drop_empty_parents(u, from);
out:
	levels_free(v, n);
	return rc;
}

/* ---- INBOX ---- */

/* Move each INBOX file into the new folder's cur/. */
static int inbox_move_files(struct store_user *u, struct undo *un,
			    const char *todir)
{
	sqlite3_stmt *st = store_stmt(u, SST_MSG_BASES);
	struct store_mbrow inbox;
	int rc = store_mbrow_by_name(u, "INBOX", &inbox);

	if (rc < 0 || st == NULL) {
		store_mbrow_fini(&inbox);
		return rc < 0 ? rc : STORE_ERR_IO;
	}
	sqlite3_bind_int64(st, 1, inbox.id);
	while ((rc = store_step(u, st)) == SQLITE_ROW) {
		const char *base = (const char *)sqlite3_column_text(st, 1);
		const char *info = (const char *)sqlite3_column_text(st, 2);
		char *from, *to;

		if (base == NULL || info == NULL)
			continue;
		from = xasprintf("%s/cur/%s:%s", u->root, base, info);
		to = xasprintf("%s/cur/%s:%s", todir, base, info);
		if (store_rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) == 0) {
			undo_add(un, from, to);
			continue;
		}
		/* A file gone meanwhile: its row moves, and the next sync of
		 * the new mailbox expunges it. */
		if (errno != ENOENT)
			rc = store_errno_fail(u, "rename", from);
		free(from);
		free(to);
		if (rc < 0)
			break;
	}
	sqlite3_reset(st);
	store_mbrow_fini(&inbox);
	return rc < 0 ? rc : 0;
}

/* The rows follow the files: same UIDs, tombstones left in INBOX. */
static int inbox_move_rows(struct store_user *u, struct store_mbrow *inbox,
			   struct store_mbrow *dest)
{
	static const char *const sql[] = {
		("INSERT OR REPLACE INTO expunged (mailbox, uid, modseq) "
		 "SELECT ?1, uid, ?3 FROM messages WHERE mailbox = ?1"),
		"UPDATE messages SET mailbox = ?2 WHERE mailbox = ?1",
		"UPDATE cache SET mailbox = ?2 WHERE mailbox = ?1",
	};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = store_prepare(u, sql[i]);

		if (st == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, inbox->id);
		if (i > 0)
			sqlite3_bind_int64(st, 2, dest->id);
		else
			sqlite3_bind_int64(st, 3,
					   (int64_t)inbox->highestmodseq + 1);
		rc = store_step(u, st) < 0 ? STORE_ERR_IO : 0;
		sqlite3_finalize(st);
	}
	if (rc < 0)
		return rc;
	dest->uidnext = inbox->uidnext;
	dest->highestmodseq = inbox->highestmodseq + 1;
	free(dest->keywords);
	dest->keywords = xstrdup(inbox->keywords);
	inbox->highestmodseq++;
	if ((rc = store_mbrow_set_counters(u, dest)) < 0)
		return rc;
	return store_mbrow_set_counters(u, inbox);
}

static int inbox_rename_locked(struct store_user *u, struct undo *un,
			       const char *to)
{
	struct store_mbrow inbox = {0}, dest = {0};
	int64_t id;
	char *todir = store_folder_dir(u, to);
	int rc = store_mbrow_by_name(u, to, &dest);

	store_mbrow_fini(&dest);
	if (rc == 0)
		rc = store_fail(u, STORE_ERR_EXISTS, "%s exists", to);
	else if (rc == STORE_ERR_NONEXISTENT)
		rc = store_mbrow_by_name(u, "INBOX", &inbox);
	/* Files still in new/ get their UIDs first, and move with the rest. */
	while (rc == 0 &&
	       (rc = store_sync_locked(u, &inbox, u->root, false)) == 1)
		rc = 0; /* all of it, in this one transaction */
	if (rc == 0 && (rc = store_create_parents(u, to)) == 0 &&
	    (rc = store_mb_insert(u, to, 0, false, &id)) == 0 &&
	    (rc = store_mbrow_by_id(u, id, &dest)) == 0 &&
	    (rc = inbox_move_files(u, un, todir)) == 0)
		rc = inbox_move_rows(u, &inbox, &dest);
	if (rc == 0) {
		char *cur = xasprintf("%s/cur", todir);

		if (fsutil_fsync_dir(cur) < 0)
			rc = store_errno_fail(u, "fsync", cur);
		free(cur);
	}
	store_mbrow_fini(&inbox);
	store_mbrow_fini(&dest);
	free(todir);
	return rc;
}

int store_mailbox_rename(struct store_user *u, const char *from, const char *to,
			 const char **error_r)
{
	char nfrom[STORE_NAME_MAX + 1], nto[STORE_NAME_MAX + 1];
	struct undo un = {0};
	size_t flen;
	int rc;

	*error_r = u->error;
	if ((rc = store_name_norm(u, from, nfrom)) < 0 ||
	    (rc = store_name_norm(u, to, nto)) < 0)
		return rc;
	flen = strlen(nfrom);
	if (store_name_is_inbox(nto) || strcmp(nfrom, nto) == 0)
		return store_fail(u, STORE_ERR_EXISTS, "%s exists", nto);
	if (strncmp(nto, nfrom, flen) == 0 && nto[flen] == '/')
		return store_fail(u, STORE_ERR_NOPERM,
				  "cannot move a mailbox into itself");
	if ((rc = store_begin(u)) < 0)
		return rc;
	rc = store_name_is_inbox(nfrom) ? inbox_rename_locked(u, &un, nto)
					: rename_locked(u, &un, nfrom, nto);
	if (rc == 0)
		rc = store_commit(u);
	else
		store_rollback(u);
	undo_finish(&un, rc < 0);
	return rc;
}
