/*
 * Sync one mailbox's index rows with its Maildir (DESIGN.md 6): files in
 * new/ move to cur/ (base name kept, ":2," info added) and, with unknown
 * files in cur/, get the next UIDs in arrival order; rows whose file
 * vanished are expunged; flag letters another tool changed in a file name
 * are taken into the index.
 *
 * Cheap when nothing changed: the mtimes of new/ and cur/ are stored with
 * the mailbox row once scanned, and a scan happens only when they differ.
 * A directory changed within the last timestamp tick may change again
 * without its mtime moving, so such an mtime is stored as 0 ("scan again").
 *
 * Runs inside the caller's BEGIN IMMEDIATE: no other postern process
 * renames or indexes files of this user meanwhile.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "mail/mime.h"

/* A message the index knows. */
struct known {
	uint32_t uid;
	char *base, *info;
	char *new_info; /* the file's info now, when it changed */
	bool seen;
};

/* A file in cur/ the index does not know. */
struct cand {
	char *name;
	int64_t mtime;
};

struct scan {
	struct store_user *u;
	const char *dir;
	char *newdir, *curdir;
	struct known *known;
	size_t n_known;
	struct cand *cands;
	size_t n_cands, cap_cands;
	bool moved;
	bool more; /* files left for the next transaction */
};

#define NS_PER_SEC 1000000000LL

static int64_t store_ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

int store_dir_stamps(const char *dir, int64_t *new_r, int64_t *cur_r)
{
	char *path = xasprintf("%s/new", dir);
	struct stat st;
	int rc = stat(path, &st);

	free(path);
	if (rc < 0)
		return -1;
	*new_r = store_ts_ns(&st.st_mtim);
	path = xasprintf("%s/cur", dir);
	rc = stat(path, &st);
	free(path);
	if (rc < 0)
		return -1;
	*cur_r = store_ts_ns(&st.st_mtim);
	return 0;
}

bool store_cur_clean(const struct store_mbrow *row, const char *dir)
{
	int64_t snew, scur;

	return row->cur_stamp != 0 &&
	       store_dir_stamps(dir, &snew, &scur) == 0 &&
	       scur == row->cur_stamp;
}

int store_cur_touched(struct store_user *u, struct store_mbrow *row,
		      const char *dir, bool was_clean)
{
	int64_t snew, scur;
	sqlite3_stmt *st;

	/* No recent-change window here: postern's own changes to cur/ hold
	 * the index lock, so only another tool changing cur/ within this
	 * very moment could slip by (until cur/ changes again). */
	if (!was_clean || store_dir_stamps(dir, &snew, &scur) < 0 ||
	    scur == row->cur_stamp)
		return 0;
	if ((st = store_stmt(u, SST_MB_SET_STAMPS)) == NULL)
		return STORE_ERR_IO;
	row->cur_stamp = scur;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->new_stamp);
	sqlite3_bind_int64(st, 3, scur);
	return store_run(u, st);
}

/* The stamp to store: 0 when the directory changed too recently. A
 * filesystem with whole-second times gets the longer window. */
static int64_t store_stamp_trusted(int64_t stamp)
{
	struct timespec now;
	int64_t window = stamp % NS_PER_SEC == 0 ? STORE_DIRTY_NS_COARSE
						 : STORE_DIRTY_NS_FINE;

	clock_gettime(CLOCK_REALTIME, &now);
	return store_ts_ns(&now) - stamp < window ? 0 : stamp;
}

static int known_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known *)a)->base,
		      ((const struct known *)b)->base);
}

static struct known *known_find(struct scan *s, const char *base, size_t len)
{
	char key[STORE_FILE_NAME_SIZE];
	struct known k = {.base = key};

	if (len >= sizeof(key))
		return NULL;
	memcpy(key, base, len);
	key[len] = '\0';
	if (s->n_known == 0)
		return NULL;
	return bsearch(&k, s->known, s->n_known, sizeof(k), known_cmp);
}

static int known_load(struct scan *s, int64_t mailbox)
{
	sqlite3_stmt *st = store_stmt(s->u, SST_MSG_BASES);
	size_t cap = 0;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mailbox);
	while ((rc = store_step(s->u, st)) == SQLITE_ROW) {
		if (s->n_known == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			s->known = xrealloc(s->known, cap * sizeof(*s->known));
		}
		s->known[s->n_known++] = (struct known){
			.uid = (uint32_t)sqlite3_column_int64(st, 0),
			.base = store_col_str(st, 1, false),
			.info = store_col_str(st, 2, false),
		};
	}
	sqlite3_reset(st);
	if (rc < 0)
		return rc;
	if (s->n_known > 1)
		qsort(s->known, s->n_known, sizeof(*s->known), known_cmp);
	return 0;
}

static void scan_fini(struct scan *s)
{
	for (size_t i = 0; i < s->n_known; i++) {
		free(s->known[i].base);
		free(s->known[i].info);
		free(s->known[i].new_info);
	}
	for (size_t i = 0; i < s->n_cands; i++)
		free(s->cands[i].name);
	free(s->known);
	free(s->cands);
	free(s->newdir);
	free(s->curdir);
}

/*
 * Rename from (in fromfd) to cur/ as "<fresh base>:<info>": for a file
 * whose base the index already has (a copy made by another tool).
 */
static int rename_fresh(struct scan *s, int fromfd, const char *from,
			const char *info, int curfd, char *out)
{
	char base[STORE_FILE_NAME_SIZE];
	struct stat st;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	store_unique_name(s->u, (uint64_t)st.st_size, base);
	if (snprintf(out, STORE_FILE_NAME_SIZE, "%s:%s", base, info) >=
	    STORE_FILE_NAME_SIZE)
		return -1;
	return store_rename_noreplace(fromfd, from, curfd, out);
}

/* new/name -> cur/base:2,... keeping the base (Maildir convention). */
static void move_one(struct scan *s, int newfd, int curfd, const char *name)
{
	char target[STORE_FILE_NAME_SIZE];
	const char *info;
	size_t blen = store_split_name(name, &info);
	const char *use_info = strncmp(info, "2,", 2) == 0 ? info : "2,";
	int rc = -1;

	if (known_find(s, name, blen) == NULL &&
	    snprintf(target, sizeof(target), "%.*s:%s", (int)blen, name,
		     use_info) < (int)sizeof(target)) {
		rc = store_rename_noreplace(newfd, name, curfd, target);
		if (rc < 0 && errno == ENOENT)
			return; /* another tool took it */
	}
	if (rc < 0)
		rc = rename_fresh(s, newfd, name, use_info, curfd, target);
	if (rc < 0 && errno != ENOENT) {
		log_warn(NULL, "cannot move maildir file to cur/",
			 "dir=%s file=%s error=%s", s->newdir, name,
			 strerror(errno));
		return;
	}
	if (rc == 0)
		s->moved = true;
}

static int sync_new(struct scan *s)
{
	DIR *d = opendir(s->newdir);
	int curfd;
	struct dirent *de;

	if (d == NULL)
		return errno == ENOENT
			       ? 0
			       : store_errno_fail(s->u, "opendir", s->newdir);
	curfd = open(s->curdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (curfd < 0) {
		closedir(d);
		return store_errno_fail(s->u, "open", s->curdir);
	}
	while ((de = readdir(d)) != NULL) {
		if (store_file_name_ok(de->d_name))
			move_one(s, dirfd(d), curfd, de->d_name);
	}
	close(curfd);
	closedir(d);
	return 0;
}

static void cand_add(struct scan *s, const char *name, int64_t mtime)
{
	if (s->n_cands == s->cap_cands) {
		s->cap_cands = s->cap_cands == 0 ? 16 : s->cap_cands * 2;
		s->cands = xrealloc(s->cands, s->cap_cands * sizeof(*s->cands));
	}
	s->cands[s->n_cands++] = (struct cand){xstrdup(name), mtime};
}

/* One cur/ entry: mark a known message, or collect an unknown file. */
static void cur_entry(struct scan *s, int curfd, const char *name, bool confirm)
{
	char fresh[STORE_FILE_NAME_SIZE];
	const char *info;
	size_t blen = store_split_name(name, &info);
	struct known *k = known_find(s, name, blen);
	struct stat st;

	if (k != NULL && (!k->seen || confirm)) {
		k->seen = true;
		if (strcmp(k->info, info) != 0) {
			free(k->new_info);
			k->new_info = xstrdup(info);
		}
		return;
	}
	if (confirm)
		return;
	if (fstatat(curfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	if (k != NULL) {
		/* Two files, one base: the second becomes a message of its
		 * own under a fresh name. */
		if (rename_fresh(s, curfd, name, info, curfd, fresh) < 0)
			return;
		name = fresh;
	}
	cand_add(s, name, store_ts_ns(&st.st_mtim));
}

static int sync_cur(struct scan *s, bool confirm)
{
	DIR *d = opendir(s->curdir);
	struct dirent *de;

	if (d == NULL)
		return store_errno_fail(s->u, "opendir", s->curdir);
	/* A listing cut short must not make every later file look gone. */
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (store_file_name_ok(de->d_name))
			cur_entry(s, dirfd(d), de->d_name, confirm);
	}
	if (errno != 0) {
		int rc = store_errno_fail(s->u, "readdir", s->curdir);

		closedir(d);
		return rc;
	}
	closedir(d);
	return 0;
}

static int cand_cmp_base(const void *a, const void *b)
{
	const char *x = ((const struct cand *)a)->name;
	const char *y = ((const struct cand *)b)->name;
	const char *ix, *iy;
	size_t lx = store_split_name(x, &ix), ly = store_split_name(y, &iy);
	int c = strncmp(x, y, lx < ly ? lx : ly);

	return c != 0 ? c : (lx > ly) - (lx < ly);
}

/* Arrival order: mtime (the delivery time), then name. */
static int cand_cmp_time(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Unknown files sharing a base among themselves: rename the later ones. */
static void cand_dedup(struct scan *s)
{
	char fresh[STORE_FILE_NAME_SIZE];
	int curfd;

	if (s->n_cands < 2)
		return;
	qsort(s->cands, s->n_cands, sizeof(*s->cands), cand_cmp_base);
	curfd = open(s->curdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (curfd < 0)
		return;
	for (size_t i = 1; i < s->n_cands; i++) {
		const char *info;

		if (cand_cmp_base(&s->cands[i - 1], &s->cands[i]) != 0)
			continue;
		store_split_name(s->cands[i].name, &info);
		if (rename_fresh(s, curfd, s->cands[i].name, info, curfd,
				 fresh) == 0) {
			free(s->cands[i].name);
			s->cands[i].name = xstrdup(fresh);
		}
	}
	close(curfd);
}

int store_msg_drop(struct store_user *u, int64_t mailbox, uint32_t uid,
		   uint64_t modseq)
{
	static const enum store_stmt ids[] = {SST_MSG_DELETE, SST_CACHE_DELETE,
					      SST_EXPUNGED_ADD};
	int rc;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *st = store_stmt(u, ids[i]);

		if (st == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_int64(st, 1, mailbox);
		sqlite3_bind_int64(st, 2, uid);
		if (ids[i] == SST_EXPUNGED_ADD)
			sqlite3_bind_int64(st, 3, (int64_t)modseq);
		if ((rc = store_run(u, st)) < 0)
			return rc;
	}
	return 0;
}

int store_index_insert(struct store_user *u, struct store_mbrow *row,
		       const char *base, const char *info, unsigned flags,
		       const char *keywords, time_t internaldate,
		       const char *data, size_t len, uint64_t modseq)
{
	struct mime_part *root;
	char *cached[3], *fields;
	size_t fields_len = 0;
	sqlite3_stmt *st;
	int rc;

	/* RFC 3501 2.3.1.1: UIDs are 32-bit and never reused. */
	if (row->uidnext == 0 || row->uidnext == UINT32_MAX)
		return store_fail(u, STORE_ERR_IO, "mailbox out of UIDs");
	if ((st = store_stmt(u, SST_MSG_INSERT)) == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->uidnext);
	sqlite3_bind_text(st, 3, base, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, info, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)flags);
	if (keywords != NULL)
		sqlite3_bind_text(st, 6, keywords, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)modseq);
	sqlite3_bind_int64(st, 8, (int64_t)internaldate);
	sqlite3_bind_int64(st, 9, (int64_t)len);
	if ((rc = store_run(u, st)) < 0)
		return rc;
	/* Computed once here, never per FETCH. */
	root = mime_parse(data, len);
	cached[0] = mime_envelope(root, data);
	cached[1] = mime_bodystructure(root, data, false);
	cached[2] = mime_bodystructure(root, data, true);
	fields = store_fields_extract(data, len, root, &fields_len);
	mime_free(&root);
	if ((st = store_stmt(u, SST_CACHE_INSERT)) == NULL) {
		rc = STORE_ERR_IO;
	} else {
		sqlite3_bind_int64(st, 1, row->id);
		sqlite3_bind_int64(st, 2, row->uidnext);
		for (int i = 0; i < 3; i++)
			sqlite3_bind_text(st, 3 + i,
					  cached[i] != NULL ? cached[i] : "NIL",
					  -1, SQLITE_STATIC);
		if (fields != NULL)
			sqlite3_bind_text(st, 6, fields, (int)fields_len,
					  SQLITE_STATIC);
		rc = store_run(u, st);
	}
	for (int i = 0; i < 3; i++)
		free(cached[i]);
	free(fields);
	if (rc == 0)
		row->uidnext++;
	return rc;
}

/* Index one unknown cur/ file at the next UID. */
static int index_cand(struct scan *s, struct store_mbrow *row,
		      const struct cand *c, uint64_t modseq)
{
	char *path = xasprintf("%s/%s", s->curdir, c->name);
	char base[STORE_FILE_NAME_SIZE];
	const char *info;
	size_t blen = store_split_name(c->name, &info), len;
	struct stat st;
	char *data;
	int rc = store_file_read(s->u, path, false, &data, &len, &st);

	if (rc == STORE_ERR_EXPUNGED) {
		free(path);
		return 0; /* gone again before it got a UID */
	}
	if (rc < 0) {
		/* One unreadable file (wrong owner, not a file) must not
		 * block the mailbox: it gets a UID once it can be read. */
		log_warn(NULL, "cannot index maildir file",
			 "path=%s error=\"%s\"", path, s->u->error);
		free(path);
		return 0;
	}
	free(path);
	memcpy(base, c->name, blen);
	base[blen] = '\0';
	rc = store_index_insert(s->u, row, base, info, store_info_flags(info),
				NULL, st.st_mtime, data, len, modseq);
	free(data);
	return rc;
}

/* Take flag letters another tool changed into the index. */
static int apply_info(struct scan *s, int64_t mailbox, const struct known *k,
		      uint64_t modseq, bool *changed)
{
	unsigned oldf = store_info_flags(k->info);
	unsigned newf = store_info_flags(k->new_info);
	sqlite3_stmt *st = store_stmt(
		s->u, oldf == newf ? SST_MSG_SET_INFO : SST_MSG_SET_FILEFLAGS);

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, k->uid);
	sqlite3_bind_text(st, 3, k->new_info, -1, SQLITE_STATIC);
	if (oldf != newf) {
		sqlite3_bind_int(st, 4, (int)newf);
		sqlite3_bind_int64(st, 5, (int64_t)modseq);
		*changed = true;
	}
	return store_run(s->u, st);
}

static int sync_apply(struct scan *s, struct store_mbrow *row)
{
	uint64_t modseq = row->highestmodseq + 1;
	bool changed = false;
	int rc;

	for (size_t i = 0; i < s->n_known; i++) {
		struct known *k = &s->known[i];

		if (!k->seen) {
			rc = store_msg_drop(s->u, row->id, k->uid, modseq);
			changed = true;
		} else if (k->new_info != NULL) {
			rc = apply_info(s, row->id, k, modseq, &changed);
		} else {
			continue;
		}
		if (rc < 0)
			return rc;
	}
	if (s->n_cands > 1)
		qsort(s->cands, s->n_cands, sizeof(*s->cands), cand_cmp_time);
	/* A bounded batch per transaction: indexing a large Maildir must not
	 * hold the write lock (and other workers' event loops) for long. */
	s->more = s->n_cands > s->u->index_batch;
	for (size_t i = 0; i < s->n_cands && i < s->u->index_batch; i++) {
		uint32_t before = row->uidnext;

		if ((rc = index_cand(s, row, &s->cands[i], modseq)) < 0)
			return rc;
		changed = changed || row->uidnext != before;
	}
	if (!changed)
		return 0;
	row->highestmodseq = modseq;
	return store_mbrow_set_counters(s->u, row);
}

static int sync_stamps(struct store_user *u, struct store_mbrow *row,
		       int64_t snew, int64_t scur)
{
	sqlite3_stmt *st;

	snew = store_stamp_trusted(snew);
	scur = store_stamp_trusted(scur);
	if (snew == row->new_stamp && scur == row->cur_stamp)
		return 0;
	if ((st = store_stmt(u, SST_MB_SET_STAMPS)) == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, snew);
	sqlite3_bind_int64(st, 3, scur);
	row->new_stamp = snew;
	row->cur_stamp = scur;
	return store_run(u, st);
}

static bool any_unseen(const struct scan *s)
{
	for (size_t i = 0; i < s->n_known; i++) {
		if (!s->known[i].seen)
			return true;
	}
	return false;
}

/* Maildir: files left in tmp/ for 36 hours are from a crashed writer. */
static void clean_tmp(const char *dir)
{
	char *path = xasprintf("%s/tmp", dir);
	DIR *d = opendir(path);
	time_t old = time(NULL) - STORE_TMP_MAX_AGE;
	struct dirent *de;
	struct stat st;

	free(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > old)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int sync_scan(struct store_user *u, struct store_mbrow *row,
		     const char *dir)
{
	struct scan s = {.u = u, .dir = dir};
	int rc;

	s.newdir = xasprintf("%s/new", dir);
	s.curdir = xasprintf("%s/cur", dir);
	if ((rc = known_load(&s, row->id)) < 0 || (rc = sync_new(&s)) < 0 ||
	    (rc = sync_cur(&s, false)) < 0)
		goto out;
	/* readdir may miss a file renamed while it runs (another tool
	 * changing flags): look again before calling anything vanished. */
	if (any_unseen(&s) && (rc = sync_cur(&s, true)) < 0)
		goto out;
	cand_dedup(&s);
	rc = sync_apply(&s, row);
	if (rc == 0 && s.more)
		rc = 1;
	else
		clean_tmp(dir);
out:
	scan_fini(&s);
	return rc;
}

int store_sync_locked(struct store_user *u, struct store_mbrow *row,
		      const char *dir, bool force)
{
	int64_t snew, scur;
	int rc;

	if (row->noselect)
		return 0;
	if (store_dir_stamps(dir, &snew, &scur) < 0) {
		if (errno != ENOENT || !store_name_is_inbox(row->name))
			return store_fail(u, STORE_ERR_NONEXISTENT,
					  "mailbox folder %s is gone",
					  row->name);
		if ((rc = store_make_folder(u, dir)) < 0)
			return rc;
		if (store_dir_stamps(dir, &snew, &scur) < 0)
			return store_errno_fail(u, "stat", dir);
	}
	if (!force && snew == row->new_stamp && scur == row->cur_stamp &&
	    snew != 0 && scur != 0)
		return 0;
	if ((rc = sync_scan(u, row, dir)) < 0)
		return rc;
	if (rc == 1) /* more to index: make the next call scan again */
		return sync_stamps(u, row, 0, 0) < 0 ? STORE_ERR_IO : 1;
	/* The stamps from before the scan: a change made during it moves
	 * them, so the next sync looks again. */
	return sync_stamps(u, row, snew, scur);
}
