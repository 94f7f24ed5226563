/*
 * The per-user index (index.db): opening, schema and upgrades, the
 * statement cache, transactions, mailbox rows and UIDVALIDITY.
 *
 * SECURITY: every value reaches SQL through a bound parameter. domain and
 * local are checked again here (no '/', no leading '.') so a bad user row
 * can never make the store open files outside <data_dir>/mail/. The index
 * is 0600: only the server's user reads mail state.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/mem.h"

#define STORE_STR_(x) #x
#define STORE_STR(x) STORE_STR_(x)

/* clang-format off */
static const char store_schema[] =
	"BEGIN IMMEDIATE;\n"
	"CREATE TABLE IF NOT EXISTS meta (\n"
	"  key TEXT PRIMARY KEY NOT NULL,\n"
	"  value INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS mailboxes (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  uidvalidity INTEGER NOT NULL,\n"
	"  uidnext INTEGER NOT NULL DEFAULT 1,\n"
	"  first_recent_uid INTEGER NOT NULL DEFAULT 1,\n"
	"  highestmodseq INTEGER NOT NULL DEFAULT 1,\n"
	"  special INTEGER NOT NULL DEFAULT 0,\n"
	"  noselect INTEGER NOT NULL DEFAULT 0,\n"
	"  keywords TEXT NOT NULL DEFAULT '',\n"
	"  new_stamp INTEGER NOT NULL DEFAULT 0,\n"
	"  cur_stamp INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	/* Apart from mailboxes: RFC 3501 6.3.6 keeps a subscription when its
	 * mailbox is deleted. */
	"CREATE TABLE IF NOT EXISTS subscriptions (\n"
	"  name TEXT PRIMARY KEY NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS messages (\n"
	"  mailbox INTEGER NOT NULL,\n"
	"  uid INTEGER NOT NULL,\n"
	"  base TEXT NOT NULL,\n"
	"  info TEXT NOT NULL,\n"
	"  flags INTEGER NOT NULL,\n"
	"  keywords TEXT,\n"
	"  modseq INTEGER NOT NULL,\n"
	"  internaldate INTEGER NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  PRIMARY KEY (mailbox, uid)\n"
	") WITHOUT ROWID;\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS messages_base\n"
	"  ON messages (mailbox, base);\n"
	"CREATE INDEX IF NOT EXISTS messages_modseq\n"
	"  ON messages (mailbox, modseq);\n"
	/* Kept apart so a sync that reads every message's metadata does not
	 * page through the large cached strings. */
	"CREATE TABLE IF NOT EXISTS cache (\n"
	"  mailbox INTEGER NOT NULL,\n"
	"  uid INTEGER NOT NULL,\n"
	"  envelope TEXT NOT NULL,\n"
	"  body TEXT NOT NULL,\n"
	"  bodystructure TEXT NOT NULL,\n"
	"  fields TEXT,\n"
	"  PRIMARY KEY (mailbox, uid)\n"
	");\n"
	/* Tombstones for QRESYNC (RFC 7162 3.2.10) and incremental reloads. */
	"CREATE TABLE IF NOT EXISTS expunged (\n"
	"  mailbox INTEGER NOT NULL,\n"
	"  uid INTEGER NOT NULL,\n"
	"  modseq INTEGER NOT NULL,\n"
	"  PRIMARY KEY (mailbox, uid)\n"
	") WITHOUT ROWID;\n"
	"PRAGMA user_version = " STORE_STR(STORE_INDEX_VERSION) ";\n"
	"COMMIT;\n";

/* Version 1 to 2: the header fields SEARCH and mail clients' FETCH
 * BODY[HEADER.FIELDS] read (store_fields.c), NULL for the messages
 * indexed before: syncs fill them in, below each mailbox's UIDNEXT of
 * now, a batch at a time (store_fields_backfill). */
static const char store_upgrade_1[] =
	"ALTER TABLE cache ADD COLUMN fields TEXT;\n"
	"INSERT OR REPLACE INTO meta (key, value) "
	"SELECT 'fields_todo:' || id, uidnext FROM mailboxes;\n"
	"PRAGMA user_version = 2;\n";
/* clang-format on */

#define MB_COLS                                                                \
	"id, name, uidvalidity, uidnext, first_recent_uid, highestmodseq, "    \
	"special, noselect, keywords, new_stamp, cur_stamp FROM mailboxes "
#define MSG_COLS "uid, flags, keywords, modseq, internaldate, size "

static const char *const store_sql[SST_COUNT] = {
	[SST_BEGIN] = "BEGIN IMMEDIATE",
	[SST_COMMIT] = "COMMIT",
	[SST_ROLLBACK] = "ROLLBACK",
	[SST_DATA_VERSION] = "PRAGMA data_version",
	[SST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[SST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) "
			 "VALUES (?1, ?2)",
	[SST_META_DELETE] = "DELETE FROM meta WHERE key = ?1",
	[SST_MB_BY_NAME] = "SELECT " MB_COLS "WHERE name = ?1",
	[SST_MB_BY_ID] = "SELECT " MB_COLS "WHERE id = ?1",
	[SST_MB_INSERT] = "INSERT INTO mailboxes (name, uidvalidity, special) "
			  "VALUES (?1, ?2, ?3)",
	[SST_MB_NAMES] = "SELECT name, special, noselect FROM mailboxes "
			 "ORDER BY name",
	[SST_MB_CHILD] = "SELECT 1 FROM mailboxes WHERE "
			 "substr(name, 1, length(?1) + 1) = ?1 || '/' LIMIT 1",
	[SST_MB_SET_STAMPS] = "UPDATE mailboxes SET new_stamp = ?2, "
			      "cur_stamp = ?3 WHERE id = ?1",
	[SST_MB_SET_COUNTERS] = "UPDATE mailboxes SET uidnext = ?2, "
				"highestmodseq = ?3, keywords = ?4 "
				"WHERE id = ?1",
	[SST_MB_SET_RECENT] = "UPDATE mailboxes SET first_recent_uid = ?2 "
			      "WHERE id = ?1",
	[SST_MB_SET_KEYWORDS] = "UPDATE mailboxes SET keywords = ?2 "
				"WHERE id = ?1",
	[SST_MB_SET_NAME] = "UPDATE mailboxes SET name = ?2 WHERE id = ?1",
	[SST_MB_SET_NOSELECT] = "UPDATE mailboxes SET noselect = ?2 "
				"WHERE id = ?1",
	[SST_MB_SET_SPECIAL] = "UPDATE mailboxes SET special = ?2 "
			       "WHERE id = ?1",
	[SST_MB_DELETE] = "DELETE FROM mailboxes WHERE id = ?1",
	[SST_MSG_ALL] = "SELECT " MSG_COLS "FROM messages WHERE mailbox = ?1 "
			"ORDER BY uid",
	[SST_MSG_SINCE] = "SELECT " MSG_COLS "FROM messages "
			  "WHERE mailbox = ?1 AND modseq > ?2 ORDER BY uid",
	[SST_MSG_BASES] = "SELECT uid, base, info FROM messages "
			  "WHERE mailbox = ?1",
	[SST_MSG_GET] = "SELECT base, info, flags, keywords, modseq, "
			"internaldate, size FROM messages "
			"WHERE mailbox = ?1 AND uid = ?2",
	[SST_MSG_BELOW] = "SELECT uid, base, info FROM messages "
			  "WHERE mailbox = ?1 AND uid < ?2 "
			  "ORDER BY uid DESC LIMIT ?3",
	[SST_MSG_INSERT] = "INSERT INTO messages (mailbox, uid, base, info, "
			   "flags, keywords, modseq, internaldate, size) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[SST_MSG_SET_FLAGS] = "UPDATE messages SET info = ?3, flags = ?4, "
			      "keywords = ?5, modseq = ?6 "
			      "WHERE mailbox = ?1 AND uid = ?2",
	[SST_MSG_SET_INFO] = "UPDATE messages SET info = ?3 "
			     "WHERE mailbox = ?1 AND uid = ?2",
	[SST_MSG_SET_FILEFLAGS] = "UPDATE messages SET info = ?3, flags = ?4, "
				  "modseq = ?5 WHERE mailbox = ?1 AND uid = ?2",
	[SST_MSG_DELETE] = "DELETE FROM messages "
			   "WHERE mailbox = ?1 AND uid = ?2",
	[SST_MSG_DELETE_ALL] = "DELETE FROM messages WHERE mailbox = ?1",
	[SST_CACHE_INSERT] = "INSERT OR REPLACE INTO cache (mailbox, uid, "
			     "envelope, body, bodystructure, fields) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[SST_CACHE_COPY] = "INSERT OR REPLACE INTO cache (mailbox, uid, "
			   "envelope, body, bodystructure, fields) "
			   "SELECT ?3, ?4, envelope, body, bodystructure, "
			   "fields FROM cache WHERE mailbox = ?1 AND uid = ?2",
	[SST_CACHE_GET] = "SELECT envelope, body, bodystructure FROM cache "
			  "WHERE mailbox = ?1 AND uid = ?2",
	[SST_CACHE_FIELDS] = "SELECT fields FROM cache "
			     "WHERE mailbox = ?1 AND uid = ?2",
	[SST_CACHE_SET_FIELDS] = "UPDATE cache SET fields = ?3 "
				 "WHERE mailbox = ?1 AND uid = ?2",
	[SST_CACHE_DELETE] =
		"DELETE FROM cache WHERE mailbox = ?1 AND uid = ?2",
	[SST_CACHE_DELETE_ALL] = "DELETE FROM cache WHERE mailbox = ?1",
	[SST_EXPUNGED_ADD] = "INSERT OR REPLACE INTO expunged (mailbox, uid, "
			     "modseq) VALUES (?1, ?2, ?3)",
	[SST_EXPUNGED_SINCE] = "SELECT uid FROM expunged WHERE mailbox = ?1 "
			       "AND modseq > ?2 ORDER BY uid",
	[SST_EXPUNGED_DELETE_ALL] = "DELETE FROM expunged WHERE mailbox = ?1",
	[SST_STATUS] = "SELECT count(*), coalesce(sum(size), 0), "
		       "coalesce(sum((flags & 1) = 0), 0), "
		       "coalesce(sum(uid >= ?2), 0), "
		       "coalesce(sum((flags & 8) != 0), 0) "
		       "FROM messages WHERE mailbox = ?1",
	[SST_SUB_LIST] = "SELECT name FROM subscriptions ORDER BY name",
	[SST_SUB_ADD] = "INSERT OR IGNORE INTO subscriptions (name) "
			"VALUES (?1)",
	[SST_SUB_DEL] = "DELETE FROM subscriptions WHERE name = ?1",
};

static int store_index_open(struct store_user *u);

/* Open failures have no store_user to hold their message. */
static char store_open_error[STORE_ERROR_SIZE];

/* ---- errors ---- */

int store_fail(struct store_user *u, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->error, sizeof(u->error), fmt, ap);
	va_end(ap);
	return err;
}

int store_errno_fail(struct store_user *u, const char *what, const char *path)
{
	return store_fail(u, STORE_ERR_IO, "%s %s: %s", what, path,
			  strerror(errno));
}

/* Move index.db and its WAL aside: the next open rebuilds from the
 * Maildir (new UIDVALIDITY, flags kept in the file names). */
static void store_index_quarantine(const char *root)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *from = xasprintf("%s/" STORE_INDEX_FILE "%s", root,
				       suffixes[i]);
		char *to = xasprintf("%s/" STORE_INDEX_FILE ".corrupt%s", root,
				     suffixes[i]);

		if (rename(from, to) < 0 && errno != ENOENT)
			log_error(NULL, "cannot move corrupt index aside",
				  "path=%s error=%s", from, strerror(errno));
		free(from);
		free(to);
	}
	log_error(NULL, "mail index corrupt; rebuilt at next open", "path=%s",
		  root);
}

int store_sql_fail(struct store_user *u, const char *what)
{
	int code;

	if (u->db == NULL) /* could not be opened again: u->error says why */
		return STORE_ERR_IO;
	code = sqlite3_errcode(u->db) & 0xff;

	store_fail(u, STORE_ERR_IO, "mail index: %s: %s", what,
		   sqlite3_errmsg(u->db));
	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		store_index_quarantine(u->root);
	return STORE_ERR_IO;
}

/* ---- statements ---- */

/*
 * The user's sessions are quiet: give SQLite's page cache back, and
 * shrink it to 2 pages first. SQLite's pcache1 makes a bulk allocation
 * (~90 KiB) whenever it fetches a page into an empty cache of 3 pages or
 * more, and the once-a-second IDLE poll (PRAGMA data_version reads page
 * 1) would make it again at once, for every user, until the end of the
 * session. Any statement but that poll's gives the cache its full
 * size back (store_stmt).
 */
void store_index_quiet(struct store_user *u)
{
	if (u->db == NULL)
		return;
	/* The cached statements go too (~3.5 KiB each, 30 KiB for a
	 * session in IDLE); store_stmt() prepares them again. None is
	 * running here: store_idle_release() is called between commands. */
	for (size_t i = 0; i < SST_COUNT; i++) {
		if (u->stmts[i] != NULL && !sqlite3_stmt_busy(u->stmts[i])) {
			sqlite3_finalize(u->stmts[i]);
			u->stmts[i] = NULL;
		}
	}
	/* With the shared counters nothing needs the connection until
	 * something changes: close it (its schema, cache and the 32 KiB
	 * -shm mapping). It stays open while a statement is left. */
	if (u->counters != NULL && sqlite3_get_autocommit(u->db) &&
	    sqlite3_close(u->db) == SQLITE_OK) {
		u->db = NULL;
		u->cache_quiet = false;
		return;
	}
	if (!u->cache_quiet && sqlite3_exec(u->db, "PRAGMA cache_size = 2",
					    NULL, NULL, NULL) == SQLITE_OK)
		u->cache_quiet = true;
	sqlite3_db_release_memory(u->db);
}

int store_db(struct store_user *u)
{
	if (u->db == NULL && store_index_open(u) < 0) {
		store_fail(u, STORE_ERR_IO, "%s", store_open_error);
		return STORE_ERR_IO;
	}
	/* Busy from now: the next quiet second releases it again. */
	u->busy_at = store_now_ns();
	return 0;
}

static void store_index_busy(struct store_user *u)
{
	if (u->cache_quiet &&
	    sqlite3_exec(u->db,
			 "PRAGMA cache_size = " STORE_STR(STORE_CACHE_PAGES),
			 NULL, NULL, NULL) == SQLITE_OK)
		u->cache_quiet = false;
}

sqlite3_stmt *store_stmt(struct store_user *u, enum store_stmt id)
{
	sqlite3_stmt *st = u->stmts[id];

	/* The IDLE poll's statement (only used without the shared
	 * counters, when the connection never closes) leaves the handle
	 * quiet. */
	if (id != SST_DATA_VERSION) {
		if (store_db(u) < 0)
			return NULL;
		store_index_busy(u);
	}
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(u->db, store_sql[id], -1,
			       SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		store_sql_fail(u, "prepare");
		return NULL;
	}
	u->stmts[id] = st;
	return st;
}

sqlite3_stmt *store_prepare(struct store_user *u, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (store_db(u) < 0)
		return NULL;
	if (sqlite3_prepare_v2(u->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_sql_fail(u, "prepare");
		return NULL;
	}
	return st;
}

int store_step(struct store_user *u, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	store_sql_fail(u, "query");
	sqlite3_reset(st);
	return STORE_ERR_IO;
}

int store_run(struct store_user *u, sqlite3_stmt *st)
{
	int rc = store_step(u, st);

	sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

int store_begin(struct store_user *u)
{
	sqlite3_stmt *st = store_stmt(u, SST_BEGIN);

	if (st == NULL)
		return STORE_ERR_IO;
	u->total_at_begin = sqlite3_total_changes64(u->db);
	return store_run(u, st);
}

int store_read_begin(struct store_user *u)
{
	if (store_db(u) < 0 || !sqlite3_get_autocommit(u->db) ||
	    sqlite3_exec(u->db, "BEGIN DEFERRED", NULL, NULL, NULL) !=
		    SQLITE_OK)
		return -1;
	return 0;
}

void store_read_end(struct store_user *u)
{
	/* Nothing was written: a failed COMMIT leaves nothing to undo. */
	if (u->db != NULL && !sqlite3_get_autocommit(u->db) &&
	    sqlite3_exec(u->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_commit(struct store_user *u)
{
	sqlite3_stmt *st = store_stmt(u, SST_COMMIT);
	int rc = st == NULL ? STORE_ERR_IO : store_run(u, st);

	if (rc < 0) {
		store_rollback(u);
		return rc;
	}
	/* Only a commit that wrote makes this user's handles look again,
	 * and those of other processes (the shared counter). */
	if (sqlite3_total_changes64(u->db) != u->total_at_begin) {
		u->changes++;
		if (u->counters != NULL)
			store_counter_bump(u->counters, u->counter_slot);
	}
	return 0;
}

void store_rollback(struct store_user *u)
{
	sqlite3_stmt *st;

	if (u->db == NULL || sqlite3_get_autocommit(u->db))
		return;
	st = store_stmt(u, SST_ROLLBACK);
	if (st != NULL) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
}

char *store_col_str(sqlite3_stmt *st, int col, bool null_ok)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (s == NULL)
		return null_ok ? NULL : xstrdup("");
	return xstrdup(s);
}

/* ---- mailbox rows ---- */

static int store_mbrow_read(struct store_user *u, sqlite3_stmt *st,
			    struct store_mbrow *row)
{
	int rc = store_step(u, st);

	memset(row, 0, sizeof(*row));
	if (rc < 0)
		return rc;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return store_fail(u, STORE_ERR_NONEXISTENT, "no such mailbox");
	}
	row->id = sqlite3_column_int64(st, 0);
	row->name = store_col_str(st, 1, false);
	row->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	row->uidnext = (uint32_t)sqlite3_column_int64(st, 3);
	row->first_recent = (uint32_t)sqlite3_column_int64(st, 4);
	row->highestmodseq = (uint64_t)sqlite3_column_int64(st, 5);
	row->special = (unsigned)sqlite3_column_int(st, 6);
	row->noselect = sqlite3_column_int(st, 7) != 0;
	row->keywords = store_col_str(st, 8, false);
	row->new_stamp = sqlite3_column_int64(st, 9);
	row->cur_stamp = sqlite3_column_int64(st, 10);
	sqlite3_reset(st);
	return 0;
}

int store_mbrow_by_name(struct store_user *u, const char *name,
			struct store_mbrow *row)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_BY_NAME);

	memset(row, 0, sizeof(*row));
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_mbrow_read(u, st, row);
}

int store_mbrow_by_id(struct store_user *u, int64_t id, struct store_mbrow *row)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_BY_ID);

	memset(row, 0, sizeof(*row));
	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, id);
	return store_mbrow_read(u, st, row);
}

void store_mbrow_fini(struct store_mbrow *row)
{
	xfree(&row->name);
	xfree(&row->keywords);
}

int store_mbrow_set_counters(struct store_user *u,
			     const struct store_mbrow *row)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_SET_COUNTERS);

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->uidnext);
	sqlite3_bind_int64(st, 3, (int64_t)row->highestmodseq);
	sqlite3_bind_text(st, 4, row->keywords, -1, SQLITE_STATIC);
	return store_run(u, st);
}

int store_mb_has_children(struct store_user *u, const char *name)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_CHILD);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = store_step(u, st);
	sqlite3_reset(st);
	return rc < 0 ? rc : rc == SQLITE_ROW;
}

/* ---- UIDVALIDITY ---- */

static uint32_t store_uidvalidity_read(const char *path)
{
	char buf[32];
	ssize_t n;
	uint64_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(buf[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

/*
 * A value above every one handed out before for this user, even by an
 * index that was since lost: the time, or the remembered last one + 1.
 * Called inside a write transaction, which serializes the processes.
 */
uint32_t store_uidvalidity_next(struct store_user *u)
{
	char *path = xasprintf("%s/" STORE_UIDVALIDITY_FILE, u->root);
	char *tmp = xasprintf("%s/tmp/" STORE_UIDVALIDITY_FILE ".%ld", u->root,
			      (long)getpid());
	uint32_t last = store_uidvalidity_read(path);
	uint32_t v = (uint32_t)time(NULL);
	char line[16];
	int fd, len;

	if (last >= v)
		v = last + 1;
	if (v == 0) /* RFC 3501 9: nz-number */
		v = 1;
	len = snprintf(line, sizeof(line), "%u\n", v);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || fsutil_write_all(fd, line, (size_t)len) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		/* The time still gives a fresh value almost always. */
		log_warn(NULL, "cannot remember UIDVALIDITY",
			 "path=%s error=%s", path, strerror(errno));
		unlink(tmp);
	}
	free(path);
	free(tmp);
	return v;
}

int store_mb_insert(struct store_user *u, const char *name, unsigned special,
		    bool subscribe, int64_t *id_r)
{
	sqlite3_stmt *st = store_stmt(u, SST_MB_INSERT);
	char *dir;
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_uidvalidity_next(u));
	sqlite3_bind_int(st, 3, (int)special);
	if ((rc = store_run(u, st)) < 0)
		return rc;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(u->db);
	if (subscribe) {
		st = store_stmt(u, SST_SUB_ADD);
		if (st == NULL)
			return STORE_ERR_IO;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if ((rc = store_run(u, st)) < 0)
			return rc;
	}
	dir = store_folder_dir(u, name);
	rc = store_make_folder(u, dir);
	free(dir);
	return rc;
}

/* ---- open ---- */

static int store_user_version(sqlite3 *db, int *version_r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Bring a version 1 file to version 2. The version is read again inside
 * the write transaction: another process may have upgraded it meanwhile.
 */
static int store_index_upgrade(sqlite3 *db, int *version)
{
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (store_user_version(db, version) < 0 ||
	    (*version == 1 && sqlite3_exec(db, store_upgrade_1, NULL, NULL,
					   NULL) != SQLITE_OK) ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (*version == 1)
		*version = 2;
	return 0;
}

/* Is the error one a rebuild cures (not a busy or full disk)? */
static bool store_is_corrupt(sqlite3 *db)
{
	int code = sqlite3_errcode(db) & 0xff;

	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/*
 * Settings and schema on a fresh connection. Returns 0, -1 with
 * store_open_error, or -2 when the file is corrupt.
 */
static int store_index_setup(sqlite3 *db, const char *path)
{
	int version = -1;

	/* synchronous=NORMAL: in WAL mode a power loss may roll back the last
	 * commits, never corrupt; the Maildir (fsync'd) stays the truth and
	 * a sync re-indexes what the index lost. */
	/* A cache of under 3 pages before the first read skips SQLite's bulk
	 * page allocation (~90 KiB per connection); the real size is set
	 * after, and pages then come one at a time as used. */
	if (sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA cache_size = 2", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    store_user_version(db, &version) < 0 ||
	    sqlite3_exec(db,
			 "PRAGMA cache_size = " STORE_STR(STORE_CACHE_PAGES),
			 NULL, NULL, NULL) != SQLITE_OK)
		goto sql_error;
	if (version == 0 &&
	    sqlite3_exec(db, store_schema, NULL, NULL, NULL) != SQLITE_OK) {
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto sql_error;
	}
	if (version == 0)
		version = STORE_INDEX_VERSION;
	if (version == 1 && store_index_upgrade(db, &version) < 0)
		goto sql_error;
	if (version > STORE_INDEX_VERSION) {
		snprintf(store_open_error, sizeof(store_open_error),
			 "%s: index version %d, this postern knows %d", path,
			 version, STORE_INDEX_VERSION);
		return -1;
	}
	/* A torn or foreign file often reads its header fine: touch a table
	 * so corruption shows now, not in the middle of a session. */
	if (sqlite3_exec(db, "SELECT count(*) FROM mailboxes", NULL, NULL,
			 NULL) != SQLITE_OK)
		goto sql_error;
	return 0;
sql_error:
	snprintf(store_open_error, sizeof(store_open_error), "%s: %s", path,
		 sqlite3_errmsg(db));
	return store_is_corrupt(db) ? -2 : -1;
}

static sqlite3 *store_index_open_once(const char *path, int *rc_r)
{
	/* NOMUTEX: a user's handle is only used by the event loop thread of
	 * the process that opened it (the offload pool never touches the
	 * store), and the connection mutex taken by every sqlite3_column_*()
	 * call was 14% of a worker's time in a SELECT benchmark. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX;
	sqlite3 *db = NULL;
	int fd;

	/* 0600 rather than SQLite's 0644. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(store_open_error, sizeof(store_open_error),
			 "%s: cannot create: %s", path, strerror(errno));
		*rc_r = -1;
		return NULL;
	}
	close(fd);
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(store_open_error, sizeof(store_open_error),
			 "%s: cannot open: %s", path,
			 db != NULL ? sqlite3_errmsg(db) : "out of memory");
		*rc_r = db != NULL && store_is_corrupt(db) ? -2 : -1;
		sqlite3_close(db);
		return NULL;
	}
	/* SQLite's default lookaside is ~120 KiB per connection, and every
	 * IMAP session (10,000 in IDLE) holds one: keep it small. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, NULL,
			  STORE_LOOKASIDE_SLOT, STORE_LOOKASIDE_SLOTS);
	*rc_r = store_index_setup(db, path);
	if (*rc_r < 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int store_index_open(struct store_user *u)
{
	char *path = xasprintf("%s/" STORE_INDEX_FILE, u->root);
	int rc;

	u->db = store_index_open_once(path, &rc);
	if (u->db == NULL && rc == -2) {
		store_index_quarantine(u->root);
		u->db = store_index_open_once(path, &rc);
	}
	free(path);
	return u->db != NULL ? 0 : -1;
}

int store_meta_get(struct store_user *u, const char *key, int64_t *value_r)
{
	sqlite3_stmt *st = store_stmt(u, SST_META_GET);
	int rc;

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = store_step(u, st);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc < 0 ? rc : rc == SQLITE_ROW;
}

int store_meta_set(struct store_user *u, const char *key, int64_t v)
{
	sqlite3_stmt *st = store_stmt(u, SST_META_SET);

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return store_run(u, st);
}

int store_meta_delete(struct store_user *u, const char *key)
{
	sqlite3_stmt *st = store_stmt(u, SST_META_DELETE);

	if (st == NULL)
		return STORE_ERR_IO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return store_run(u, st);
}

/*
 * First open of this index (a new user, or a lost index): the mailboxes
 * found in the Maildir, INBOX, and the default folders. Every later open
 * only picks up folders other tools made or removed.
 */
static int store_index_init(struct store_user *u)
{
	struct store_mbrow row;
	int64_t done = 0;
	int rc;

	if ((rc = store_begin(u)) < 0)
		return rc;
	rc = store_meta_get(u, "initialized", &done);
	if (rc < 0)
		goto out;
	rc = store_discover(u, rc == 0);
	if (rc < 0 || done)
		goto out;
	rc = store_mbrow_by_name(u, "INBOX", &row);
	store_mbrow_fini(&row);
	if (rc == STORE_ERR_NONEXISTENT)
		rc = store_mb_insert(u, "INBOX", 0, true, NULL);
	if (rc < 0 || (rc = store_defaults(u)) < 0 ||
	    (rc = store_meta_set(u, "initialized", 1)) < 0)
		goto out;
out:
	if (rc < 0) {
		store_rollback(u);
		return rc;
	}
	return store_commit(u);
}

static bool store_user_name_ok(const char *s)
{
	return store_file_name_ok(s) && strlen(s) < STORE_FILE_NAME_SIZE;
}

/* The host part of unique names, escaped as Dovecot does ('/', ':'). */
static void store_host_init(struct store_user *u)
{
	char host[256] = "localhost";
	size_t n = 0;

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		strlcpy_p(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (size_t i = 0; host[i] != '\0' && n + 4 <= STORE_HOST_CAP; i++) {
		if (host[i] == '/' || host[i] == ':') {
			memcpy(u->host + n, host[i] == '/' ? "\\057" : "\\072",
			       4);
			n += 4;
		} else {
			u->host[n++] = host[i];
		}
	}
	u->host[n] = '\0';
}

/*
 * The sessions of one user in one process share a handle: an SQLite
 * connection costs tens of KiB, and 10,000 IMAP sessions in IDLE are
 * mostly a few users' many devices. Sessions run one call at a time in a
 * worker's event loop, and no call leaves a transaction open, so sharing
 * changes nothing they can see. A forked child never reuses its parent's
 * connection (SQLite forbids it): handles are per pid.
 */
static struct store_user *store_users;

static struct store_user *
store_user_shared(const char *data_dir, const char *domain, const char *local)
{
	pid_t pid = getpid();

	for (struct store_user *u = store_users; u != NULL; u = u->next) {
		if (u->pid == pid && strcmp(u->data_dir, data_dir) == 0 &&
		    strcmp(u->domain, domain) == 0 &&
		    strcmp(u->local, local) == 0) {
			u->refs++;
			return u;
		}
	}
	return NULL;
}

struct store_user *store_user_open(const char *data_dir, const char *domain,
				   const char *local, const char **error_r)
{
	struct store_user *u;

	*error_r = store_open_error;
	if (data_dir == NULL || data_dir[0] == '\0' ||
	    !store_user_name_ok(domain) || !store_user_name_ok(local)) {
		snprintf(store_open_error, sizeof(store_open_error),
			 "refused mail store name %.64s/%.64s",
			 domain != NULL ? domain : "(null)",
			 local != NULL ? local : "(null)");
		return NULL;
	}
	u = store_user_shared(data_dir, domain, local);
	if (u != NULL)
		return u;
	u = xcalloc(1, sizeof(*u));
	u->refs = 1;
	u->pid = getpid();
	u->index_batch = STORE_INDEX_BATCH;
	u->data_dir = xstrdup(data_dir);
	u->domain = xstrdup(domain);
	u->local = xstrdup(local);
	u->root = xasprintf("%s/mail/%s/%s", data_dir, domain, local);
	store_host_init(u);
	if (store_make_folder(u, u->root) < 0) {
		strlcpy_p(store_open_error, u->error, sizeof(store_open_error));
		store_user_free(&u);
		return NULL;
	}
	if (store_index_open(u) < 0) {
		store_user_free(&u);
		return NULL;
	}
	if (store_index_init(u) < 0) {
		strlcpy_p(store_open_error, u->error, sizeof(store_open_error));
		store_user_free(&u);
		return NULL;
	}
	sqlite3_db_release_memory(u->db);
	u->next = store_users;
	store_users = u;
	return u;
}

void store_user_free(struct store_user **up)
{
	struct store_user *u = *up;

	if (u == NULL)
		return;
	*up = NULL;
	if (--u->refs > 0)
		return;
	for (struct store_user **p = &store_users; *p != NULL;
	     p = &(*p)->next) {
		if (*p == u) {
			*p = u->next;
			break;
		}
	}
	for (size_t i = 0; i < SST_COUNT; i++)
		sqlite3_finalize(u->stmts[i]);
	sqlite3_close(u->db);
	free(u->data_dir);
	free(u->domain);
	free(u->local);
	free(u->root);
	free(u);
}

void store_user_use_counters(struct store_user *u, struct store_counters *c)
{
	if (u->counters != NULL || c == NULL)
		return;
	u->counter_slot = store_counter_slot(u->root);
	u->counters = c;
}

void store_user_set_quota(struct store_user *u, uint64_t quota)
{
	u->quota = quota;
}
