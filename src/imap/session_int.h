/*
 * Private to the IMAP server files: the session object, the command table
 * and the helpers every command handler shares.
 *
 * A command's life: session.c reads the command line and its literals
 * into one bounded buffer, parses the tag and name (imap/parse.h), looks
 * the name up in the table (commands.c), checks the state there, and runs
 * the handler with a cursor over the arguments. The handler reads its
 * arguments, acts, and writes its untagged and tagged responses with the
 * helpers below. One dispatcher enforces the table; handlers never
 * re-check the state.
 *
 * Files: one per command family (DESIGN.md 5).
 *   session.c      I/O, literals, dispatcher, autologout, IDLE/AUTHENTICATE
 *                  input modes
 *   commands.c     the command table
 *   reply.c        response helpers (tagged, untagged, strings, flags)
 *   sync.c         the session's view of the selected mailbox and its
 *                  untagged EXISTS/EXPUNGE/FETCH updates
 *   cmd_any.c      CAPABILITY NOOP LOGOUT ID ENABLE NAMESPACE
 *   cmd_auth.c     STARTTLS AUTHENTICATE LOGIN
 *   cmd_select.c   SELECT EXAMINE CLOSE UNSELECT CHECK
 *   cmd_mailbox.c  CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE STATUS
 *   cmd_list.c     LIST LSUB
 *   cmd_append.c   APPEND
 *   cmd_idle.c     IDLE
 *   cmd_compress.c COMPRESS (RFC 4978)
 * Reserved for the message commands (another engineer):
 *   cmd_fetch*.c   FETCH, UID FETCH     imap_cmd_fetch, imap_cmd_uid_fetch
 *   cmd_store.c    STORE, UID STORE     imap_cmd_store, imap_cmd_uid_store
 *   cmd_search*.c  SEARCH, UID SEARCH   imap_cmd_search, imap_cmd_uid_search
 *   cmd_copy.c     COPY MOVE + UID      imap_cmd_copy, imap_cmd_uid_copy,
 *                                       imap_cmd_move, imap_cmd_uid_move
 *   cmd_expunge.c  EXPUNGE, UID EXPUNGE imap_cmd_expunge, imap_cmd_uid_expunge
 * Registering one: uncomment its line in commands.c and add the file to
 * src/imap/meson.build.
 */
#ifndef IMAP_SESSION_INT_H
#define IMAP_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"
#include "imap/session.h"
#include "lib/buf.h"

/* Longest line, CRLF included (RFC 7162 4 asks for at least 8192). */
#define IMAP_LINE_MAX 32768
/* Largest command with its literals, APPEND's message aside. */
#define IMAP_COMMAND_MAX ((size_t)256 * 1024)
/* Largest literal outside APPEND (mailbox names, SEARCH strings). */
#define IMAP_LITERAL_MAX ((size_t)64 * 1024)
/* Before login only LOGIN/AUTHENTICATE carry data: keep strangers small
 * (a connection limit of 1000 then holds at most 16 MiB of commands). */
#define IMAP_COMMAND_MAX_PREAUTH ((size_t)16 * 1024)
#define IMAP_LITERAL_MAX_PREAUTH 4096
/* RFC 9051 5.4: the autologout timer after login is >= 30 minutes. */
#define IMAP_AUTOLOGOUT_MIN (30 * 60)

struct conn;
struct sasl_server;
struct store_mailbox;
struct store_user;

/* RFC 3501 3, as a bit per state so the table can list several. */
enum imap_state {
	IMAP_STATE_NOT_AUTH = 0x01,
	IMAP_STATE_AUTH = 0x02,
	IMAP_STATE_SELECTED = 0x04,
	IMAP_STATE_LOGOUT = 0x08,
};
#define IMAP_STATES_ANY                                                        \
	(IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define IMAP_STATES_AUTHED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

/* Extensions the client turned on (RFC 5161 ENABLE, or implicitly). */
enum imap_enabled {
	IMAP_ENABLED_CONDSTORE = 0x01, /* RFC 7162 3.1 */
	IMAP_ENABLED_QRESYNC = 0x02,   /* RFC 7162 3.2; implies CONDSTORE */
	IMAP_ENABLED_UTF8 = 0x04,      /* RFC 6855 UTF8=ACCEPT */
};

/* What the session does with input besides reading commands. */
enum imap_input_mode {
	IMAP_INPUT_COMMAND, /* command lines and their literals */
	IMAP_INPUT_AUTH,    /* AUTHENTICATE responses (RFC 3501 6.2.2) */
	IMAP_INPUT_IDLE,    /* waiting for DONE (RFC 2177) */
	IMAP_INPUT_BUSY,    /* a handler is still running (imap_resume) */
};

/* Flags the client was told outside a sync (FETCH, STORE): uid at modseq. */
struct imap_view_told {
	uint32_t uid;
	uint64_t modseq;
};

/* One message of the session's view: its UID, and only that (below). */
struct imap_view_msg {
	uint32_t uid;
};

/*
 * The selected mailbox as the client knows it (RFC 3501 2.3.1.2): message
 * sequence number i+1 is msgs[i]. It differs from the store's list between
 * syncs: an expunge by another session stays in the view until an EXPUNGE
 * response may be sent (7.4.1). Four octets a message: 10,000 sessions in
 * IDLE on big mailboxes are the case to keep small. The client knows every
 * message's flags as of highestmodseq, and those in told[] as of later.
 */
struct imap_view {
	struct imap_view_msg *msgs;
	size_t n, cap;
	uint32_t recent;	     /* last RECENT count sent */
	uint64_t highestmodseq;	     /* store's as of the last sync */
	uint32_t uidnext;	     /* store's as of the last sync */
	uint32_t uidvalidity;	     /* as SELECT reported it */
	struct imap_view_told *told; /* since the last sync */
	size_t n_told, cap_told;
	/* The search result variable, "$" (RFC 9051 6.4.4.1): UIDs,
	 * ascending; empty after SELECT. An expunged one no longer
	 * resolves, which is its removal from the list. */
	uint32_t *saved;
	size_t n_saved;
};

struct imap_session;

/*
 * A command handler. tag is the command's tag; args is the cursor after
 * the command name (for "UID FETCH", after "FETCH"). Returns:
 *   IMAP_CMD_DONE   the tagged response was written;
 *   IMAP_CMD_BAD    a syntax error: the dispatcher answers
 *                   "tag BAD <imap_args_error(args)>";
 *   IMAP_CMD_ASYNC  the command goes on (output back-pressure, IDLE,
 *                   AUTHENTICATE): the handler set s->resume or an input
 *                   mode, and copied what it keeps (tag and args die when
 *                   it returns); no other command runs until it is done.
 */
enum imap_cmd_result {
	IMAP_CMD_DONE = 0,
	IMAP_CMD_BAD = -1,
	IMAP_CMD_ASYNC = 1,
};
typedef enum imap_cmd_result
imap_handler(struct imap_session *s, const char *tag, struct imap_args *args);
/*
 * A long answer (FETCH of many messages) is written in parts so the
 * output queue stays bounded: the handler writes until
 * conn_output_blocked(), sets s->resume (and s->resume_ctx) and returns
 * IMAP_CMD_ASYNC. The session calls resume again whenever the queue is
 * not blocked (at once, then on each CONN_EV_FLUSHED) until it returns
 * IMAP_CMD_DONE after writing the tagged response. The session releases
 * resume_ctx with resume_free (free() when NULL) once the command is done
 * or the connection died first. IMAP_CMD_BAD is not allowed.
 */
typedef enum imap_cmd_result imap_resume_fn(struct imap_session *s);

/* Table flags. */
enum imap_cmd_flag {
	/* RFC 3501 7.4.1: no EXPUNGE responses while answering it. */
	IMAP_CMD_F_NO_EXPUNGE = 0x01,
	/* Its literal may be up to max_message_size (APPEND). */
	IMAP_CMD_F_BIG_LITERAL = 0x02,
};

struct imap_command {
	const char *name; /* uppercase; "UID FETCH" for UID variants */
	unsigned states;  /* enum imap_state bits where it is allowed */
	unsigned flags;	  /* enum imap_cmd_flag */
	imap_handler *handler;
};

/* The table (commands.c). NULL when name (uppercase) is unknown. */
const struct imap_command *imap_command_find(const char *name);

struct imap_session {
	struct conn *conn;
	const struct imap_server *srv;
	enum imap_state state;
	char user[256];		       /* authenticated address; "" before */
	struct store_user *store_user; /* open from login to the end */

	/* SELECTED state */
	struct store_mailbox *mailbox;
	char *mailbox_name; /* as the store knows it ("INBOX", "A/B") */
	bool readonly;	    /* EXAMINE */
	struct imap_view view;

	unsigned enabled; /* enum imap_enabled */

	/* The command being run (valid while its handler runs). */
	const struct imap_command *cmd;
	char tag[IMAP_TAG_MAX + 1];

	/* A command that goes on after its handler returned. */
	imap_resume_fn *resume;
	void *resume_ctx; /* the handler's; released by the session */
	void (*resume_free)(void *ctx);

	/* Input machinery: private to session.c and its input modes. */
	enum imap_input_mode mode;
	struct buf cmdbuf;	   /* the command being collected */
	uint64_t literal_left;	   /* literal octets still to read */
	uint64_t discard_left;	   /* octets of a refused literal to drop */
	bool discarding;	   /* the command is refused; drop the rest */
	bool cmd_big;		   /* APPEND: literal up to max_message_size */
	const char *discard_reply; /* "NO [TOOBIG] ..." once dropped */
	bool tls_pending;	   /* STARTTLS answered, handshake to come */
	struct sasl_server *sasl;  /* AUTHENTICATE exchange */
	bool auth_failed_pending;  /* NO to send once the throttle delay ends */
	char *async_tag;	   /* tag of IDLE or AUTHENTICATE */
	/* IDLE: the mailbox is watched (store_mailbox_watch), and a
	 * notification's early poll is armed. */
	bool idle_watched, idle_notified;
};

/* The one way to change state; logs old -> new at debug level. */
void imap_session_set_state(struct imap_session *s, enum imap_state state);
/* Leave SELECTED: free the mailbox and the view (CLOSE, UNSELECT, a new
 * SELECT); the state becomes AUTH. */
void imap_session_unselect(struct imap_session *s);
/* The handler that returned IMAP_CMD_ASYNC is finished (it wrote its
 * tagged response): read commands again. */
void imap_session_cmd_done(struct imap_session *s);

/* Input modes (cmd_auth.c, cmd_idle.c): a line of an AUTHENTICATE
 * exchange; drop the exchange; the delayed failure reply is due. */
void imap_auth_input(struct imap_session *s, const char *line, size_t len);
void imap_auth_abort(struct imap_session *s);
void imap_auth_wake(struct imap_session *s);
/* A line while idling (DONE ends IDLE); the one-second poll. */
void imap_idle_input(struct imap_session *s, const char *line, size_t len);
void imap_idle_poll(struct imap_session *s);

/* ---- Responses (reply.c) ---- */

/*
 * "tag OK text": before it, in SELECTED state, the pending updates
 * (imap_session_sync, without EXPUNGE for IMAP_CMD_F_NO_EXPUNGE
 * commands). fmt may start with a response code: "[READ-WRITE] SELECT
 * completed".
 */
void imap_ok(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "tag NO text", after the pending updates like imap_ok. */
void imap_no(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "tag BAD text" (tag "*" when it could not be read); no updates. */
void imap_bad(struct imap_session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "* text\r\n" */
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * "tag NO [CODE] text" for a store error (enum store_err): NONEXISTENT
 * (or TRYCREATE when trycreate, RFC 3501 6.3.11/6.4.7), ALREADYEXISTS,
 * CANNOT, OVERQUOTA, EXPUNGEISSUED, TOOBIG, SERVERBUG; text is error or a
 * generic sentence when NULL. Store text never names paths (store.h).
 */
void imap_no_store(struct imap_session *s, const char *tag, int err,
		   const char *error, bool trycreate);

/* Raw output, no CRLF added (build a response piece by piece). */
void imap_write(struct imap_session *s, const char *data, size_t len);
void imap_printf(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A string argument in a response: quoted when it is short, 7-bit and
 * free of CR/LF/NUL, else a literal "{n}\r\n" + octets (RFC 3501 4.3).
 */
void imap_write_string(struct imap_session *s, const char *str, size_t len);
/* NIL for NULL, else imap_write_string. */
void imap_write_nstring(struct imap_session *s, const char *str, size_t len);
/* A mailbox name: atom-safe names bare, others as imap_write_string. */
void imap_write_astring(struct imap_session *s, const char *str);
/* A literal "{n}\r\n" + data (FETCH bodies). */
void imap_write_literal(struct imap_session *s, const char *data, size_t len);
/*
 * The flag list "(\Seen \Deleted kw1 kw2)" of enum store_flag bits,
 * keywords space-separated (NULL: none), \Recent when recent.
 */
void imap_write_flags(struct imap_session *s, unsigned flags,
		      const char *keywords, bool recent);

/* ---- The selected mailbox's view (sync.c) ---- */

/* Sync options. */
#define IMAP_SYNC_NO_EXPUNGE 0x01 /* keep expunged messages in the view */

/*
 * Bring the client up to date (RFC 3501 5.2, 7.3.1, 7.4.1; RFC 7162
 * 3.2.10): store_mailbox_sync(), then untagged EXPUNGE (or VANISHED under
 * QRESYNC) for messages gone, EXISTS/RECENT for new ones, and FETCH
 * (FLAGS [UID] [MODSEQ]) for messages whose modseq moved past what the
 * client was told. Never call it while a FETCH/STORE/SEARCH writes its
 * responses other than with IMAP_SYNC_NO_EXPUNGE. No-op outside SELECTED.
 * When the mailbox was deleted or its UIDVALIDITY changed, it sends BYE
 * and closes the connection (state LOGOUT). Returns 0, or -1 when the
 * store failed (*error_r for the log).
 */
int imap_session_sync(struct imap_session *s, unsigned opts,
		      const char **error_r);

/* Fill the view from the store after SELECT (no responses written). */
void imap_view_load(struct imap_session *s);
/* Drop the view. */
void imap_view_clear(struct imap_view *v);

/* Messages in the view (the client's EXISTS). */
static inline uint32_t imap_view_count(const struct imap_session *s)
{
	return (uint32_t)s->view.n;
}
/* UID of sequence number seq (1-based); 0 when out of range. */
uint32_t imap_view_uid(const struct imap_session *s, uint32_t seq);
/* Sequence number of uid; 0 when not in the view. Binary search. */
uint32_t imap_view_seq(const struct imap_session *s, uint32_t uid);
/*
 * The UIDs set names, ascending, without duplicates: for uid false set
 * holds sequence numbers ("*" = count; a number above the count is an
 * error: -1 with *error_r "Invalid message sequence number", answer BAD),
 * for uid true UIDs ("*" = highest UID in the view; UIDs not in the view
 * are skipped, RFC 3501 6.4.8). "$" is the saved search result, the
 * same messages whichever uid says. set is resolved in place. The caller
 * frees *uids_r (NULL when *n_r is 0).
 */
int imap_view_resolve(const struct imap_session *s, struct imap_seqset *set,
		      bool uid, uint32_t **uids_r, size_t *n_r,
		      const char **error_r) __attribute__((warn_unused_result));
/*
 * The client was just told this message's flags at modseq (STORE wrote
 * its FETCH): the next sync does not repeat them.
 */
void imap_view_seen_modseq(struct imap_session *s, uint32_t uid,
			   uint64_t modseq);
/* Set "$" to uids[0..n) (ascending, malloc'd, taken; NULL when n is 0),
 * as SEARCH RETURN (SAVE) found them. */
void imap_view_save(struct imap_session *s, uint32_t *uids, size_t n);

/*
 * Turn CONDSTORE on (RFC 7162 3.1: ENABLE, SELECT (CONDSTORE), or the
 * first FETCH MODSEQ / CHANGEDSINCE / UNCHANGEDSINCE); in SELECTED state
 * the first time it sends "* OK [HIGHESTMODSEQ n]".
 */
void imap_condstore_enable(struct imap_session *s);

/* ---- Handlers ---- */

imap_handler imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_id,
	imap_cmd_enable, imap_cmd_namespace;
imap_handler imap_cmd_starttls, imap_cmd_authenticate, imap_cmd_login;
imap_handler imap_cmd_select, imap_cmd_examine, imap_cmd_close,
	imap_cmd_unselect, imap_cmd_check;
imap_handler imap_cmd_create, imap_cmd_delete, imap_cmd_rename,
	imap_cmd_subscribe, imap_cmd_unsubscribe, imap_cmd_status;
imap_handler imap_cmd_list, imap_cmd_lsub;
imap_handler imap_cmd_append;
imap_handler imap_cmd_idle;
imap_handler imap_cmd_compress;
/* Reserved: the message commands (see the top of this file). */
imap_handler imap_cmd_fetch, imap_cmd_uid_fetch, imap_cmd_store,
	imap_cmd_uid_store, imap_cmd_search, imap_cmd_uid_search, imap_cmd_copy,
	imap_cmd_uid_copy, imap_cmd_move, imap_cmd_uid_move, imap_cmd_expunge,
	imap_cmd_uid_expunge;

/*
 * STATUS (cmd_mailbox.c), shared with LIST-STATUS: parse the item list
 * "(MESSAGES UNSEEN ...)" into bits; write "* STATUS name (...)" or
 * return -1 with the store's error code and sentence.
 */
int imap_status_items(struct imap_args *a, unsigned *items_r)
	__attribute__((warn_unused_result));
int imap_status_send(struct imap_session *s, const char *name, unsigned items,
		     int *err_r, const char **error_r);

/* The CAPABILITY list for this session's state, space-separated, no
 * leading "CAPABILITY" (cmd_any.c). */
const char *imap_capabilities(const struct imap_session *s);

#endif
