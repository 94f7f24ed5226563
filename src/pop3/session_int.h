/*
 * Private to the POP3 server session files: the session object, its
 * states and the helpers the command handlers share.
 */
#ifndef POP3_SESSION_INT_H
#define POP3_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/userdb.h"
#include "pop3/parse.h"
#include "pop3/session.h"

struct conn;
struct sasl_server;
struct store_mailbox;
struct store_user;

/* Failed commands (unknown, bad syntax, wrong state) before hanging up. */
#define POP3_MAX_ERRORS 20
/* RFC 1939 3: an autologout timer MUST be at least 10 minutes. */
#define POP3_IDLE_TIMEOUT_MIN 600
/*
 * A line of an AUTH exchange: the base64 of SASL_DECODED_MAX octets and
 * CRLF fit (RFC 5034 4 lifts the 255-octet limit for these lines).
 */
#define POP3_SASL_LINE_MAX 2048
/* Octets of a message byte-stuffed per write while output drains. */
#define POP3_SEND_CHUNK 16384

/* RFC 1939 3 states, as a bit each, so the command table can OR them. */
enum pop3_state {
	POP3_STATE_AUTHORIZATION = 0x01,
	POP3_STATE_SASL = 0x02, /* inside an AUTH exchange (RFC 5034 4) */
	POP3_STATE_TRANSACTION = 0x04,
	POP3_STATE_UPDATE = 0x08, /* QUIT from TRANSACTION (RFC 1939 6) */
	POP3_STATE_DONE = 0x10,	  /* closing: no more commands */
};

/* One message of the maildrop as it was at login (RFC 1939 4). */
struct pop3_msg {
	uint32_t uid;
	uint64_t size;	/* octets with CRLF line ends (RFC 1939 11) */
	bool deleted;	/* DELE'd; removed only in the UPDATE state */
	bool seen;	/* \Seen in the store at login */
	bool retrieved; /* RETR'd: gets \Seen at QUIT */
};

/* A multi-line response being written while output drains. */
enum pop3_send_kind {
	POP3_SEND_NONE,
	POP3_SEND_BODY, /* RETR, TOP: a message, byte-stuffed */
	POP3_SEND_LIST, /* LIST: scan listings */
	POP3_SEND_UIDL, /* UIDL: unique-id listings */
};

struct pop3_send {
	enum pop3_send_kind kind;
	char *data; /* BODY: the message, owned */
	size_t len, off;
	struct pop3_dotstuff ds;
	size_t next;	   /* LIST, UIDL: next message index */
	size_t progress;   /* octets handed to conn, for the idle timer */
	size_t at_timeout; /* progress when the idle timer last fired */
};

struct pop3_session {
	struct conn *conn;
	const struct pop3_server *srv;
	enum pop3_state state;
	int timeout; /* idle seconds, RFC 1939 3's floor applied */
	int errors;
	/* USER's name until PASS (RFC 1939 7); "" when none. */
	char user[POP3_COMMAND_MAX];
	struct sasl_server *sasl; /* AUTH exchange in progress */
	bool auth_failed_pending; /* -ERR [AUTH] once the delay ends */
	bool auth_checking;	  /* the password check runs */
	bool shutdown_pending;	  /* close once the send is done */
	char login[USERDB_ADDRESS_MAX + 1]; /* authenticated as; "" if not */

	/* TRANSACTION: the locked maildrop (INBOX) and its messages. */
	struct store_user *store;
	struct store_mailbox *mb;
	int lock; /* store_lock handle, -1 when none */
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t nmsgs;

	struct pop3_send send;
};

/* The one way to change state; logs old -> new at debug level. */
void pop3_set_state(struct pop3_session *s, enum pop3_state state);

/* "+OK text" */
void pop3_ok(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "-ERR [code] text" (code NULL: no response code, RFC 2449 8). */
void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A refusal that counts toward the error limit (hangs up past it). */
void pop3_err_count(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Credentials may be sent now: TLS is up (DESIGN.md 7). */
bool pop3_auth_allowed(const struct pop3_session *s);
/* A line of an AUTH exchange (POP3_STATE_SASL). */
void pop3_sasl_input(struct pop3_session *s, const char *line, size_t len);
/* Drop an unfinished AUTH exchange and its larger line limit. */
void pop3_sasl_reset(struct pop3_session *s);
/* The delayed answer of a failed login is due (CONN_EV_WAKE). */
void pop3_auth_wake(struct pop3_session *s);

/* Release the maildrop: lock, mailbox, store user, message list. */
void pop3_maildrop_close(struct pop3_session *s);
/* Write more of the multi-line response; true when it is complete. */
bool pop3_send_pump(struct pop3_session *s);
/* Forget a multi-line response in progress (connection gone). */
void pop3_send_reset(struct pop3_session *s);

/* Handlers, one per command (session_auth.c, session_txn.c). */
typedef void pop3_handler(struct pop3_session *s,
			  const struct pop3_command *cmd);
pop3_handler pop3_cmd_user, pop3_cmd_pass, pop3_cmd_auth, pop3_cmd_apop;
pop3_handler pop3_cmd_stat, pop3_cmd_list, pop3_cmd_retr, pop3_cmd_top,
	pop3_cmd_dele, pop3_cmd_noop, pop3_cmd_rset, pop3_cmd_uidl,
	pop3_cmd_quit_update;

#endif
