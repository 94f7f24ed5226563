/*
 * The mail store read by IMAP and POP3 (DESIGN.md 6): one Maildir++ per
 * user, <data_dir>/mail/<domain>/<local>/, with INBOX at its root and
 * folders as ".Name" subdirectories (".A.B" is "A/B"), plus a per-user
 * SQLite index (index.db, WAL) with UIDs, flags, keywords, MODSEQ and the
 * cached ENVELOPE/BODYSTRUCTURE of each message.
 *
 * Maildir holds the bytes and the system flags (":2,DFRST" file name info,
 * as mutt and Dovecot read them); the index holds the rest and can be
 * rebuilt from the Maildir (new UIDVALIDITY, flags kept).
 *
 * A file that appears in new/ or cur/ by any means is given the next UID at
 * the next sync (moved from new/ to cur/ on the way); a file that vanished
 * is expunged. UIDs never go backwards.
 *
 * Concurrency: several processes may open the same user; every change runs
 * in one SQLite write transaction, so each sees a consistent state. A
 * session learns of others' changes with store_mailbox_sync(), which is
 * cheap when nothing changed (IMAP IDLE calls it after each notification).
 *
 * Mailbox names are the names IMAP clients see (modified UTF-7 as sent,
 * hierarchy separator '/'), "INBOX" case-insensitive. A name holding '.',
 * a control character, an empty level or a leading/trailing '/' is refused
 * (STORE_ERR_NAME); so are the LIST wildcards '*' and '%', deeper than
 * STORE_DEPTH_MAX levels, and names whose ".A.B" folder would not fit one
 * directory entry (255 octets).
 *
 * Additions since the first version of this contract (nothing changed or
 * removed): store_mailbox_info.noselect, store_mailbox_vanished(),
 * store_msg_load_header(), and handles shared between sessions of one
 * user (store_user_open).
 *
 * Errors: functions return 0 or a negative enum store_err; *error_r (when
 * given) then points to a sentence owned by the store_user, valid until the
 * next call on it.
 *
 * Ownership: store_user_open()'s caller frees with store_user_free();
 * store_mailbox_open()'s with store_mailbox_free() (before the user).
 * Arrays returned through pointer arguments are owned by the caller and
 * freed with the matching _free function named next to them.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_INDEX_FILE "index.db"
/* Bumped on every schema change; older files are upgraded in place. */
#define STORE_INDEX_VERSION 2
/* Longest mailbox name in octets, and deepest hierarchy. */
#define STORE_NAME_MAX 512
#define STORE_DEPTH_MAX 16
/* Keywords per mailbox and octets per keyword (RFC 3501 flag atoms). */
#define STORE_KEYWORDS_MAX 64
#define STORE_KEYWORD_LEN_MAX 64

enum store_err {
	STORE_OK = 0,
	/* disk or database failure: NO [SERVERBUG] / -ERR [SYS/TEMP] */
	STORE_ERR_IO = -1,
	STORE_ERR_NAME = -2,	    /* bad mailbox name: NO [CANNOT] */
	STORE_ERR_NONEXISTENT = -3, /* NO [NONEXISTENT] / [TRYCREATE] */
	STORE_ERR_EXISTS = -4,	    /* NO [ALREADYEXISTS] */
	STORE_ERR_QUOTA = -5,	    /* NO [OVERQUOTA] */
	STORE_ERR_LOCKED = -6,	    /* POP3 [IN-USE] */
	STORE_ERR_NOPERM = -7,	    /* e.g. DELETE INBOX: NO [CANNOT] */
	STORE_ERR_MODIFIED = -8,    /* UNCHANGEDSINCE failed for this message */
	STORE_ERR_EXPUNGED = -9,    /* message is gone: NO [EXPUNGEISSUED] */
	STORE_ERR_TOOBIG = -10,	    /* over the size limit: NO [TOOBIG] */
};

/* System flags, as bits (RFC 3501 2.3.2). \Recent is per session. */
enum store_flag {
	STORE_F_SEEN = 1 << 0,
	STORE_F_ANSWERED = 1 << 1,
	STORE_F_FLAGGED = 1 << 2,
	STORE_F_DELETED = 1 << 3,
	STORE_F_DRAFT = 1 << 4,
};

/* RFC 6154 SPECIAL-USE attributes, as bits. */
enum store_special {
	STORE_SU_DRAFTS = 1 << 0,
	STORE_SU_SENT = 1 << 1,
	STORE_SU_TRASH = 1 << 2,
	STORE_SU_JUNK = 1 << 3,
	STORE_SU_ARCHIVE = 1 << 4,
};

struct store_user;
struct store_mailbox;

/* ---- Commit counters shared by the server's processes ---- */

/*
 * Made by the master before it forks (caller frees with
 * store_counters_free; aborts when the mapping cannot be made), given to
 * every handle its workers open with store_user_use_counters(). A handle
 * with them learns without its SQLite connection that nothing changed,
 * and closes that connection (~55 KiB) while its sessions are quiet:
 * 10,000 sessions in IDLE keep no connection open. Only for processes
 * whose every writer to the same indexes shares the counters; elsewhere
 * (CLI, tests) a handle asks SQLite (PRAGMA data_version).
 */
struct store_counters;
struct store_counters *store_counters_new(void);
void store_counters_free(struct store_counters **cp);

/* ---- Change notification (IMAP IDLE) ---- */

/*
 * One per process (a worker), NULL when inotify is unavailable; the
 * caller frees with store_watch_free(). Put store_watch_fd() in the event
 * loop and call store_watch_read() when it is readable: it calls the
 * notify functions of the mailboxes something may have changed.
 */
struct store_watch;
typedef void store_notify_fn(void *ctx);
struct store_watch *store_watch_new(void);
void store_watch_free(struct store_watch **wp);
int store_watch_fd(const struct store_watch *w);
void store_watch_read(struct store_watch *w);

/* ---- Users ---- */

/*
 * Open the store of domain/local under data_dir, creating the Maildir, the
 * index and the default folders (Drafts, Sent, Trash, Junk, Archive, all
 * subscribed, with their SPECIAL-USE) the first time. domain and local come
 * from the user database and are checked again (no '/', no leading '.').
 * Returns NULL with *error_r a static sentence on failure.
 *
 * Sessions of the same user in one process get the same handle (counted;
 * each store_user_free() drops one reference), so thousands of sessions
 * do not each hold a database connection. Do not share a handle across
 * threads; a forked child gets its own.
 */
struct store_user *store_user_open(const char *data_dir, const char *domain,
				   const char *local, const char **error_r)
	__attribute__((warn_unused_result));
void store_user_free(struct store_user **up);
/* Use the server's counters (see above); the first call on a handle
 * counts, later ones change nothing. */
void store_user_use_counters(struct store_user *u, struct store_counters *c);

/* Quota in bytes (0 = none), checked by APPEND/COPY. */
void store_user_set_quota(struct store_user *u, uint64_t quota);
/*
 * Many reads as one SQLite read transaction (a SEARCH that loads every
 * message): one snapshot, and no read lock taken and dropped per
 * message. Only reads in between, and both calls within one synchronous
 * stretch: the other sessions of the user share the handle. Returns 0,
 * or -1 when no transaction was started (the reads then work as usual);
 * call store_read_end() only after 0.
 */
int store_read_begin(struct store_user *u) __attribute__((warn_unused_result));
void store_read_end(struct store_user *u);

/* ---- Mailboxes (the folder list) ---- */

struct store_mailbox_info {
	char *name;	  /* "INBOX", "Sent", "A/B" */
	unsigned special; /* enum store_special bits */
	bool subscribed;
	bool has_children; /* \HasChildren vs \HasNoChildren */
	bool exists;	   /* false: only a subscription (\NonExistent) */
	/* Added: a level with no mailbox of its own (\Noselect): a parent
	 * that was never created, or one deleted while it had children. */
	bool noselect;
};

/*
 * Every mailbox and every subscription, sorted by name (INBOX first).
 * The IMAP layer matches LIST patterns itself.
 */
int store_mailbox_list(struct store_user *u, struct store_mailbox_info **list_r,
		       size_t *n_r, const char **error_r);
void store_mailbox_list_free(struct store_mailbox_info **listp, size_t n);

/* CREATE: parents are created as needed (RFC 3501 6.3.3). */
int store_mailbox_create(struct store_user *u, const char *name,
			 unsigned special, const char **error_r);
/* DELETE: INBOX refused (NOPERM); a mailbox with children keeps its
 * children (RFC 3501 6.3.4: then it only loses its messages and becomes
 * \Noselect; deleting a \Noselect level with children is NOPERM). */
int store_mailbox_delete(struct store_user *u, const char *name,
			 const char **error_r);
/* RENAME, children with it; renaming INBOX moves its messages to a new
 * mailbox and leaves INBOX empty (RFC 3501 6.3.5). */
int store_mailbox_rename(struct store_user *u, const char *from, const char *to,
			 const char **error_r);
int store_mailbox_subscribe(struct store_user *u, const char *name, bool on,
			    const char **error_r);

/* STATUS without selecting (RFC 3501 6.3.10, RFC 7162 HIGHESTMODSEQ). */
struct store_status {
	uint32_t messages, recent, unseen;
	uint32_t deleted; /* flagged \Deleted (RFC 9051 STATUS DELETED) */
	uint32_t uidnext, uidvalidity;
	uint64_t highestmodseq;
	uint64_t size; /* octets (RFC 8438 STATUS=SIZE) */
};
int store_mailbox_status(struct store_user *u, const char *name,
			 struct store_status *st, const char **error_r);

/* ---- A selected mailbox ---- */

/* One message's metadata, as of the last sync. */
struct store_msg {
	uint32_t uid;
	unsigned flags; /* enum store_flag bits */
	bool recent;	/* first seen by this mailbox handle's syncs */
	uint64_t modseq;
	time_t internaldate;
	uint64_t size;	/* RFC822.SIZE: octets with CRLF line ends */
	char *keywords; /* space-separated, NULL when none */
};

/*
 * Open (and sync) a mailbox. readonly: EXAMINE, no flags change, \Recent
 * not taken. Returns NULL with *error_r set (STORE_ERR_NONEXISTENT when it
 * does not exist) in *err_r.
 */
struct store_mailbox *store_mailbox_open(struct store_user *u, const char *name,
					 bool readonly, enum store_err *err_r,
					 const char **error_r)
	__attribute__((warn_unused_result));
void store_mailbox_free(struct store_mailbox **mbp);

uint32_t store_mailbox_uidvalidity(const struct store_mailbox *mb);
uint32_t store_mailbox_uidnext(const struct store_mailbox *mb);
uint64_t store_mailbox_highestmodseq(const struct store_mailbox *mb);
/* Keywords ever used in this mailbox, space-separated ("" when none). */
const char *store_mailbox_keywords(const struct store_mailbox *mb);

/*
 * Pick up changes on disk and by other processes: new files get UIDs,
 * vanished files are expunged. Cheap when nothing changed. Returns 1 when
 * something changed since the previous call, 0 when not, <0 on error.
 */
int store_mailbox_sync(struct store_mailbox *mb, const char **error_r);

/*
 * The messages as of the last sync, ascending by UID: *msgs_r[i] is
 * message sequence number i+1 in the store's view. Owned by mb, valid until
 * the next sync or change on mb. The IMAP session keeps its own copy of the
 * UID list, diffs it against this one to send EXPUNGE/EXISTS, and uses
 * modseq to find FETCH updates (RFC 3501 5.2, 7.4.1).
 */
void store_mailbox_messages(const struct store_mailbox *mb,
			    const struct store_msg **msgs_r, size_t *n_r);
/*
 * Added: the UIDs expunged from mb with a MODSEQ above since, ascending,
 * for QRESYNC's VANISHED (EARLIER) (RFC 7162 3.2.5.1). Reads the index,
 * not the handle's list; *uids_r is malloc'd (NULL when none), the caller
 * frees it.
 */
int store_mailbox_vanished(struct store_mailbox *mb, uint64_t since,
			   uint32_t **uids_r, size_t *n_r,
			   const char **error_r);
/*
 * Call fn(ctx) soon after mb may have changed: a delivery, a session of
 * this or another process, another tool in the Maildir. The call means
 * "sync now", not that something changed. 0, or -1 when w is NULL or the
 * system is out of watches: the caller then polls. Until
 * store_mailbox_unwatch() or store_mailbox_free(); watching again
 * replaces fn and ctx.
 */
int store_mailbox_watch(struct store_mailbox *mb, struct store_watch *w,
			store_notify_fn *fn, void *ctx);
void store_mailbox_unwatch(struct store_mailbox *mb);
/* The message with this UID, NULL when expunged. Binary search. */
const struct store_msg *store_mailbox_find(const struct store_mailbox *mb,
					   uint32_t uid);

/* The message bytes with CRLF line ends (a file written with bare LF is
 * converted), malloc'd; the caller frees. */
int store_msg_load(struct store_mailbox *mb, uint32_t uid, char **data_r,
		   size_t *len_r, const char **error_r);
/*
 * Added: only the header block (up to and including the empty line that
 * ends it; all of the message when it has none), CRLF line ends,
 * malloc'd; the caller frees. For BODY[HEADER], HEADER.FIELDS and header
 * SEARCH without reading large bodies. Errors as store_msg_load.
 */
int store_msg_load_header(struct store_mailbox *mb, uint32_t uid, char **data_r,
			  size_t *len_r, const char **error_r);
/*
 * A header block holding at least the fields store_field_cached() names
 * (and the blank line), from the index when it has them, else the whole
 * header from the file; malloc'd, the caller frees. For SEARCH FROM,
 * SUBJECT... and FETCH BODY[HEADER.FIELDS (...)] of those fields.
 * Errors as store_msg_load.
 */
int store_msg_load_fields(struct store_mailbox *mb, uint32_t uid, char **data_r,
			  size_t *len_r, const char **error_r);
/* Is this header field (case-insensitive) kept in the index? */
bool store_field_cached(const char *name);
/* Cached at index time (mail/mime.h); owned by mb, valid until the next
 * sync or change. extended: BODYSTRUCTURE, else BODY. */
int store_msg_envelope(struct store_mailbox *mb, uint32_t uid,
		       const char **envelope_r, const char **error_r);
int store_msg_bodystructure(struct store_mailbox *mb, uint32_t uid,
			    bool extended, const char **body_r,
			    const char **error_r);

enum store_flag_mode { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };
/*
 * STORE on one message: flags and keywords (space-separated, NULL = none)
 * set, added or removed; the message's modseq goes up when anything
 * changed. unchangedsince (RFC 7162 3.1.3): 0 = no condition, else fails
 * with STORE_ERR_MODIFIED when the message's modseq is greater.
 */
int store_msg_set_flags(struct store_mailbox *mb, uint32_t uid,
			enum store_flag_mode mode, unsigned flags,
			const char *keywords, uint64_t unchangedsince,
			const char **error_r);

/*
 * APPEND: write data durably (fsync file and directory) into name with
 * these flags/keywords and internaldate (0 = now). Sets *uidvalidity_r and
 * *uid_r for APPENDUID (RFC 4315).
 */
int store_append(struct store_user *u, const char *name, const char *data,
		 size_t len, unsigned flags, const char *keywords,
		 time_t internaldate, uint32_t *uidvalidity_r, uint32_t *uid_r,
		 const char **error_r);

/*
 * COPY (move=false) or MOVE (RFC 6851) n messages by UID from mb to the
 * mailbox dest, keeping flags, keywords and internaldate. Sets
 * *uidvalidity_r and fills new_uids (n entries, 0 for a UID that was
 * already expunged) for COPYUID. MOVE expunges the sources.
 */
int store_copy(struct store_mailbox *mb, const uint32_t *uids, size_t n,
	       const char *dest, bool move, uint32_t *uidvalidity_r,
	       uint32_t *new_uids, const char **error_r);

/* Expunge these UIDs (caller chose them: \Deleted ones, or UID EXPUNGE's
 * set). Files are unlinked, then the index rows removed. */
int store_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
		  const char **error_r);

/*
 * An exclusive lock on a mailbox across processes (POP3 maildrop, RFC
 * 1939 8): returns a handle >= 0 to pass to store_unlock, or
 * STORE_ERR_LOCKED when another session holds it. Released by
 * store_unlock or when the process dies.
 */
int store_lock(struct store_user *u, const char *name, const char **error_r);
void store_unlock(struct store_user *u, int handle);

#endif
