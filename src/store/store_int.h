/*
 * Inside the mail store: shared by store_index.c (open, schema,
 * statements), store_name.c (names, paths, flag letters, keywords),
 * store_sync.c (Maildir scan, UIDs), store_mailbox.c (folder list),
 * store_msg.c (a selected mailbox), store_append.c (APPEND, COPY, MOVE,
 * quota) and store_lock.c. Not for other modules; they use store/store.h.
 *
 * Locking rule: every function that changes the index or renames files
 * runs between store_begin() (BEGIN IMMEDIATE) and store_commit(), so a
 * Maildir scan in one process never sees another's half-done change.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "store/store.h"

#define STORE_ERROR_SIZE (PATH_MAX + 256)
/* How long a writer waits for another process's transaction. */
#define STORE_BUSY_TIMEOUT_MS 30000
/* A directory changed this recently may change again within the same
 * timestamp tick: it is not trusted as "scanned" (as Dovecot does). */
#define STORE_DIRTY_NS_COARSE 2000000000LL
#define STORE_DIRTY_NS_FINE 100000000LL
/* Longest file name put into a Maildir directory, NUL included. */
#define STORE_FILE_NAME_SIZE 256
#define STORE_HOST_CAP 64
/* Remembers the last UIDVALIDITY handed out, so a rebuilt index never
 * reuses one (the index itself may be what was lost). */
#define STORE_UIDVALIDITY_FILE "postern-uidvalidity"
#define STORE_LOCK_FILE "postern.lock"
/* Age after which a file in a Maildir tmp/ is a crashed writer's. */
#define STORE_TMP_MAX_AGE ((time_t)36 * 3600)
/* Read size while looking for the end of a header block. */
#define STORE_HEADER_STEP ((size_t)8192)
/* SQLite lookaside per connection: slot size and count (see open). */
#define STORE_LOOKASIDE_SLOT 128
#define STORE_LOOKASIDE_SLOTS 32
/* SQLite page cache per connection, in pages; given back once the
 * user's sessions are quiet for STORE_IDLE_NS (store_idle_release). */
#define STORE_CACHE_PAGES 256
#define STORE_IDLE_NS 1000000000LL
/* Files indexed per transaction (about 0.2 s of work). */
#define STORE_INDEX_BATCH 2000

enum store_stmt {
	SST_BEGIN,
	SST_COMMIT,
	SST_ROLLBACK,
	SST_DATA_VERSION,
	SST_META_GET,
	SST_META_SET,
	SST_META_DELETE,
	SST_MB_BY_NAME,
	SST_MB_BY_ID,
	SST_MB_INSERT,
	SST_MB_NAMES,
	SST_MB_CHILD,
	SST_MB_SET_STAMPS,
	SST_MB_SET_COUNTERS,
	SST_MB_SET_RECENT,
	SST_MB_SET_KEYWORDS,
	SST_MB_SET_NAME,
	SST_MB_SET_NOSELECT,
	SST_MB_SET_SPECIAL,
	SST_MB_DELETE,
	SST_MSG_ALL,
	SST_MSG_SINCE,
	SST_MSG_BASES,
	SST_MSG_GET,
	SST_MSG_BELOW,
	SST_MSG_INSERT,
	SST_MSG_SET_FLAGS,
	SST_MSG_SET_INFO,
	SST_MSG_SET_FILEFLAGS,
	SST_MSG_DELETE,
	SST_MSG_DELETE_ALL,
	SST_CACHE_INSERT,
	SST_CACHE_COPY,
	SST_CACHE_GET,
	SST_CACHE_FIELDS,
	SST_CACHE_SET_FIELDS,
	SST_CACHE_DELETE,
	SST_CACHE_DELETE_ALL,
	SST_EXPUNGED_ADD,
	SST_EXPUNGED_SINCE,
	SST_EXPUNGED_DELETE_ALL,
	SST_STATUS,
	SST_SUB_LIST,
	SST_SUB_ADD,
	SST_SUB_DEL,
	SST_COUNT
};

struct store_user {
	unsigned refs;		 /* sessions sharing this handle */
	pid_t pid;		 /* the process that opened it */
	struct store_user *next; /* this process's open handles */
	char *data_dir, *domain, *local;
	char *root; /* the Maildir: <data_dir>/mail/<domain>/<local> */
	sqlite3 *db;
	sqlite3_stmt *stmts[SST_COUNT];
	uint64_t quota;
	/* Commits made through this handle: PRAGMA data_version only counts
	 * other connections' commits. */
	uint64_t changes;
	/* The server's shared counters (store_counters.c), or NULL; with
	 * them db is NULL while the handle is quiet. */
	struct store_counters *counters;
	size_t counter_slot;
	int64_t total_at_begin; /* sqlite3_total_changes64 at store_begin */
	int64_t busy_at;	/* last sync that read the index; 0: released */
	bool cache_quiet;	/* page cache at 2 pages (store_index_quiet) */
	size_t index_batch;	/* new files indexed per transaction */
	char host[STORE_HOST_CAP + 1]; /* for unique file names */
	char error[STORE_ERROR_SIZE];
	struct store_mbshare *shares;	/* message lists of open mailboxes */
	struct store_mailbox *watchers; /* store_mailbox_watch()ed ones */
};

/* One row of the mailboxes table. */
struct store_mbrow {
	int64_t id;
	char *name;
	uint32_t uidvalidity, uidnext, first_recent;
	uint64_t highestmodseq;
	unsigned special;
	bool noselect;
	char *keywords;
	int64_t new_stamp, cur_stamp;
};

/*
 * One mailbox's message list as of one refresh, shared by the handles of
 * that mailbox in this process (store_msg.c). A handle keeps a reference
 * to the list it last synced to, so the store_msg pointers it handed out
 * stay valid until its own next sync or change, whatever the other
 * handles do; a refresh makes a new list unless only one handle holds the
 * current one. recent is false in every entry: \Recent is per handle.
 */
struct store_mblist {
	unsigned refs; /* the share's current list + the handles on it */
	struct store_msg *msgs;
	size_t n, cap;
	uint32_t uidvalidity, uidnext, first_recent;
	uint64_t highestmodseq;
	char *keywords;
	/* Keyword strings replaced in place (STORE), freed with the list:
	 * another handle's view may still point at them. */
	char **old;
	size_t n_old;
};

/* The open handles of one mailbox in this process. */
struct store_mbshare {
	int64_t id;
	unsigned handles;
	struct store_mblist *cur; /* newest list; NULL: load it */
	/* What the cheap check compares (see store_mailbox_sync): the state
	 * the index was in when cur was made. */
	bool seen_ok;
	int64_t seen_new, seen_cur, seen_dv;
	uint64_t seen_changes;
	struct store_mbshare *next;
};

/* UIDs first_recent..last-1 that this handle took as \Recent. */
struct store_recent {
	uint32_t lo, hi;
};

struct store_mailbox {
	struct store_user *u;
	int64_t id;
	char *name;
	char *dir;
	bool readonly;
	bool pending; /* changed outside a sync: the next sync returns 1 */
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	char *keywords;
	struct store_mbshare *share;
	struct store_mblist *list; /* as of the last sync; NULL: none yet */
	/* This handle's \Recent UIDs; when one of list's messages is among
	 * them, own is list's entries with recent set (keywords borrowed
	 * from list), else NULL and the view is list->msgs. */
	struct store_recent *recent;
	size_t n_recent;
	struct store_msg *own;
	/* Strings handed out since the last sync or change. */
	char **pool;
	size_t n_pool;
	/* store_mailbox_watch (store_watch.c): the watches of the root,
	 * new/ and cur/, and the next of the user's watched mailboxes. */
	struct store_watch *watch;
	int wd[3];
	store_notify_fn *notify;
	void *notify_ctx;
	struct store_mailbox *watch_next;
};

/* ---- shared commit counters (store_counters.c) ---- */

size_t store_counter_slot(const char *root);
uint64_t store_counter_get(const struct store_counters *c, size_t slot);
void store_counter_bump(struct store_counters *c, size_t slot);

/* ---- errors and statements (store_index.c) ---- */

int store_fail(struct store_user *u, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* STORE_ERR_IO with SQLite's message; moves a corrupt index aside so the
 * next store_user_open() rebuilds it. */
int store_sql_fail(struct store_user *u, const char *what);
int store_errno_fail(struct store_user *u, const char *what, const char *path);
/* Cached statement, reset and unbound; NULL after store_sql_fail. */
sqlite3_stmt *store_stmt(struct store_user *u, enum store_stmt id);
/* SQLITE_ROW or SQLITE_DONE; STORE_ERR_IO (statement reset). */
int store_step(struct store_user *u, sqlite3_stmt *st);
/* Step a statement that returns no rows, then reset it. */
int store_run(struct store_user *u, sqlite3_stmt *st);
int store_begin(struct store_user *u);
int store_commit(struct store_user *u);
void store_rollback(struct store_user *u);
/* The column as a malloc'd string ("" for NULL unless null_ok). */
char *store_col_str(sqlite3_stmt *st, int col, bool null_ok);

int store_mbrow_by_name(struct store_user *u, const char *name,
			struct store_mbrow *row);
int store_mbrow_by_id(struct store_user *u, int64_t id,
		      struct store_mbrow *row);
void store_mbrow_fini(struct store_mbrow *row);
int store_mbrow_set_counters(struct store_user *u,
			     const struct store_mbrow *row);
/* 1 when name has child mailboxes in the index, 0 not, <0 error. */
int store_mb_has_children(struct store_user *u, const char *name);
/* Insert a mailbox row (new UIDVALIDITY) and create its directories.
 * Inside a transaction. */
int store_mb_insert(struct store_user *u, const char *name, unsigned special,
		    bool subscribe, int64_t *id_r);
uint32_t store_uidvalidity_next(struct store_user *u);

/* ---- names, paths, flags, keywords (store_name.c) ---- */

/* Check and normalize an IMAP mailbox name into out[STORE_NAME_MAX + 1]
 * (INBOX in upper case). */
int store_name_norm(struct store_user *u, const char *name, char *out);
bool store_name_is_inbox(const char *name);
/* The folder directory of a (normalized) name, malloc'd. */
char *store_folder_dir(const struct store_user *u, const char *name);
/* The mailbox name of a Maildir++ directory entry (".A.B" -> "A/B"), or
 * false when it is not one. out has STORE_NAME_MAX + 1 bytes. */
bool store_name_from_dir(const char *entry, char *out);
/* A single path component from disk: not empty, no '/', no leading '.'. */
bool store_file_name_ok(const char *name);

/* "base:2,FS" -> base length; info points after ':' or "" when none. */
size_t store_split_name(const char *name, const char **info_r);
unsigned store_info_flags(const char *info);
/* The info for flags, keeping letters other tools set: "2,<sorted>". */
void store_info_make(const char *old_info, unsigned flags, char *out,
		     size_t size);
/* A fresh Maildir unique base name for a file of size bytes. */
void store_unique_name(struct store_user *u, uint64_t size, char *out);

/* Keywords: space-separated lists, compared case-insensitively. */
int store_kw_check(struct store_user *u, const char *list);
bool store_kw_has(const char *list, const char *kw, size_t len);
/* Apply mode to a message's list; malloc'd result, NULL when empty. */
char *store_kw_apply(const char *old, enum store_flag_mode mode,
		     const char *list);
/* Add the keywords of list missing from the mailbox list *mbkw
 * (malloc'd); 1 when it grew, 0 not, STORE_ERR_NOPERM when over
 * STORE_KEYWORDS_MAX (unless force). */
int store_kw_merge(struct store_user *u, char **mbkw, const char *list,
		   bool force);
/* Spell the keywords of list as the mailbox list does. malloc'd. */
char *store_kw_canon(const char *mbkw, const char *list);

/* ---- files (store_file.c) ---- */

/* The message file's bytes with CRLF line ends: *data_r malloc'd. With
 * header_only, up to and including the empty line after the header. */
int store_file_read(struct store_user *u, const char *path, bool header_only,
		    char **data_r, size_t *len_r, struct stat *st_r);
/* CRLF conversion of a buffer; returns data itself when nothing changes,
 * else a malloc'd copy. */
char *store_crlf(const char *data, size_t len, size_t *len_r);
/* Find the current name of base in dir/cur (another tool may have renamed
 * it): 0 with out filled, STORE_ERR_EXPUNGED when gone. */
int store_find_base(struct store_user *u, const char *dir, const char *base,
		    char *out, size_t size);
/* Remove a folder directory and the files in it (cur/, new/, tmp/);
 * adds their sizes to *bytes and *count. */
int store_rmdir_folder(struct store_user *u, const char *dir, uint64_t *bytes,
		       uint64_t *count);
/* Append "<bytes> <count>" to the Maildir++ maildirsize file, where it
 * exists (quota bookkeeping; negative on removal). */
void store_quota_add(struct store_user *u, int64_t bytes, int64_t count);
/* renameat2(RENAME_NOREPLACE), with a fallback where the filesystem
 * lacks it. 0, or -1 with errno (EEXIST when new exists). */
int store_rename_noreplace(int oldfd, const char *old, int newfd,
			   const char *new);
/* mkdir -p dir/cur, dir/new, dir/tmp. */
int store_make_folder(struct store_user *u, const char *dir);

/* ---- sync (store_sync.c) ---- */

/* Bring one mailbox's index rows up to date with its Maildir. Inside a
 * transaction; row is updated. Returns 1 when files are left to index
 * (at most u->index_batch per call): commit and call again. */
int store_sync_locked(struct store_user *u, struct store_mbrow *row,
		      const char *dir, bool force);
/* Index one message file and insert its rows at row->uidnext. data has
 * CRLF line ends. */
int store_index_insert(struct store_user *u, struct store_mbrow *row,
		       const char *base, const char *info, unsigned flags,
		       const char *keywords, time_t internaldate,
		       const char *data, size_t len, uint64_t modseq);
/* Stamps of dir/new and dir/cur for the cheap check. */
int store_dir_stamps(const char *dir, int64_t *new_r, int64_t *cur_r);
/*
 * Around a change postern makes to dir/cur under the index lock: when the
 * row's cur/ stamp was current before (store_cur_clean), store the stamp
 * after (store_cur_touched), so the change alone does not make every
 * session rescan cur/.
 */
bool store_cur_clean(const struct store_mbrow *row, const char *dir);
int store_cur_touched(struct store_user *u, struct store_mbrow *row,
		      const char *dir, bool was_clean);
/* Drop one message: rows out, tombstone in (modseq). */
int store_msg_drop(struct store_user *u, int64_t mailbox, uint32_t uid,
		   uint64_t modseq);

/* One row of the messages table. */
struct store_msgrow {
	char *base, *info, *keywords;
	unsigned flags;
	uint64_t modseq;
	time_t internaldate;
	uint64_t size;
};

/* The message file dir/cur/base:info (found again by its base name when
 * another tool renamed it), as store_file_read reads it. */
int store_msg_file_read(struct store_user *u, const char *dir, const char *base,
			const char *info, bool header_only, char **data_r,
			size_t *len_r);
/* The row of uid in mailbox; STORE_ERR_EXPUNGED when there is none. */
int store_msgrow_get(struct store_user *u, int64_t mailbox, uint32_t uid,
		     struct store_msgrow *r);
void store_msgrow_fini(struct store_msgrow *r);

/* ---- cached header fields (store_fields.c) ---- */

/*
 * The header block kept in cache.fields for a message: its cached fields
 * and its blank line, malloc'd with its length, or NULL when over the
 * size kept.
 */
struct mime_part;
char *store_fields_extract(const char *data, size_t len,
			   const struct mime_part *root, size_t *len_r);
/*
 * Inside a write transaction: fill in the fields of up to
 * STORE_BACKFILL_BATCH messages of the mailbox indexed before schema v2
 * (its "fields_todo:<id>" meta row, made by the upgrade), highest UIDs
 * first; the row goes when none is left. A file that cannot be read is
 * left to the fallback of store_msg_load_fields.
 */
int store_fields_backfill(struct store_user *u, const struct store_mbrow *row,
			  const char *dir);

/* meta rows (store_index.c): get returns 1 found, 0 not, or an error. */
int store_meta_get(struct store_user *u, const char *key, int64_t *value_r);
int store_meta_set(struct store_user *u, const char *key, int64_t v);
int store_meta_delete(struct store_user *u, const char *key);

/* ---- mailbox handles (store_msg.c, store_flags.c) ---- */

/* Re-read mb's messages from the index (incrementally when possible),
 * inside a transaction. */
int store_mb_refresh(struct store_mailbox *mb, struct store_mbrow *row);
/* Take the mailbox's current name and folder from its row (a RENAME in
 * another session). Call inside the transaction, before using mb->dir. */
void store_mb_follow(struct store_mailbox *mb, const struct store_mbrow *row);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t store_now_ns(void);
/* Give the page cache back when the user's sessions have been quiet. */
void store_idle_release(struct store_user *u);
/* Release SQLite's page cache and cached statements; the cache stays at
 * 2 pages until a statement other than the IDLE poll's runs. */
void store_index_quiet(struct store_user *u);
/* After a change through mb: reload now, report at the next sync. */
int store_mb_reload(struct store_mailbox *mb);
/* A STORE through mb, shown by mb at once (keywords: malloc'd, taken);
 * false when uid is not in mb's list (keywords then freed). */
bool store_mb_set_msg(struct store_mailbox *mb, uint32_t uid, unsigned flags,
		      char *keywords, uint64_t modseq);
/* Unlink the message files and drop rows; *bytes gets the file sizes. */
int store_expunge_locked(struct store_user *u, struct store_mbrow *row,
			 const char *dir, const uint32_t *uids, size_t n,
			 uint64_t *bytes, uint64_t *count);

/* ---- folder list (store_mailbox.c) ---- */

/* Add Maildir++ folders found on disk, drop rows whose folder vanished. */
int store_discover(struct store_user *u, bool subscribe);
int store_defaults(struct store_user *u);
/* Drop the \\Noselect ancestors of name left without children. */
int store_drop_empty_parents(struct store_user *u, const char *name);
/* Create every missing parent of name (RFC 3501 6.3.3). */
int store_create_parents(struct store_user *u, const char *name);
/* Remove a mailbox row with its messages, cache and tombstones. */
int store_mb_purge(struct store_user *u, int64_t id);
/* Before using u->db: open the connection again if a quiet handle closed
 * it (store_index_quiet), and mark the handle busy. STORE_ERR_IO with
 * u->error when it cannot. */
int store_db(struct store_user *u);
/* Prepare an uncached statement for a rare operation; NULL on error. */
sqlite3_stmt *store_prepare(struct store_user *u, const char *sql);

#endif
