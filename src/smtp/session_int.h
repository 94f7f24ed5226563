/*
 * Private to the SMTP server session files: the session object, its
 * states and the helpers the command handlers share.
 */
#ifndef SMTP_SESSION_INT_H
#define SMTP_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/userdb.h"
#include "mail/address.h"
#include "mail/received.h"
#include "smtp/data.h"
#include "smtp/parse.h"
#include "smtp/session.h"
#include "store/maildir.h"

struct conn;
struct header_scan;
struct maildir_delivery;
struct sasl_server;
struct spool_msg;

/* RFC 5321 4.1.4 command sequencing, as a bit per state. */
enum smtp_state {
	SMTP_STATE_INIT = 0x01,	 /* before HELO/EHLO */
	SMTP_STATE_HELO = 0x02,	 /* greeted, no transaction */
	SMTP_STATE_MAIL = 0x04,	 /* MAIL accepted, no recipient yet */
	SMTP_STATE_RCPT = 0x08,	 /* at least one recipient accepted */
	SMTP_STATE_DATA = 0x10,	 /* reading a DATA body */
	SMTP_STATE_BDAT = 0x20,	 /* reading a BDAT chunk */
	SMTP_STATE_CHUNK = 0x40, /* between BDAT chunks (RFC 3030 2) */
	SMTP_STATE_QUIT = 0x80,	 /* closing */
	SMTP_STATE_AUTH = 0x100, /* inside an AUTH exchange (RFC 4954 4) */
};

struct smtp_rcpt {
	struct address addr;
	struct smtp_rcpt_params params;
	bool remote; /* goes to the outbound spool, not a local mailbox */
};

struct smtp_txn {
	struct address from;
	struct smtp_mail_params mail;
	struct smtp_rcpt *rcpts;
	size_t nrcpts;
	struct userdb_mailbox *boxes; /* distinct local mailboxes */
	size_t nboxes;
	bool bad_rcpt_seen; /* a RCPT was refused (for DATA's reply) */

	size_t nremote; /* recipients that go to the spool */

	struct maildir_delivery *delivery; /* when there are local boxes */
	struct spool_msg *spool;	   /* when there are remote rcpts */
	struct header_scan *hdr;	   /* submission: From: and friends */
	char *hdrbuf;			   /* header block held until its end */
	size_t hdrlen;
	bool hdr_done;		   /* the header block was written */
	bool hdr_limit;		   /* a header limit was passed */
	struct received_hops hops; /* Received: fields the client sent */
	struct smtp_data data;
	uint64_t chunk_left; /* BDAT octets still to read */
	bool chunk_last;
	bool discard; /* reading a body that is refused already */
	bool write_failed;
	bool too_big;
};

struct smtp_session {
	struct conn *conn;
	const struct smtp_server *srv;
	enum smtp_state state;
	bool esmtp; /* greeted with EHLO */
	char helo[ADDRESS_DOMAIN_MAX + 1];
	char user[ADDRESS_PATH_MAX + 1]; /* authenticated as; "" if not */
	struct sasl_server *sasl;	 /* AUTH exchange in progress */
	bool auth_failed_pending;	 /* 535 to send once the delay ends */
	bool auth_checking;		 /* the password check runs */
	bool relay_ok;			 /* client address may relay */
	int errors;
	struct smtp_txn txn;
};

/* Every state where a command line (not body data) is read. */
#define SMTP_STATES_COMMAND                                                    \
	(SMTP_STATE_INIT | SMTP_STATE_HELO | SMTP_STATE_MAIL |                 \
	 SMTP_STATE_RCPT | SMTP_STATE_CHUNK)

/* The one way to change state; logs old -> new at debug level. */
void smtp_session_set_state(struct smtp_session *s, enum smtp_state state);

/* Write "code status text" (status may be NULL: greeting, 354). */
void smtp_reply(struct smtp_session *s, int code, const char *status,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A refusal that counts toward the session's error limit. */
void smtp_reply_error(struct smtp_session *s, int code, const char *status,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reply with a parser's error. */
void smtp_reply_parse_error(struct smtp_session *s,
			    const struct smtp_error *err);

/* Extensions advertised to this session (SMTP_EXT_*). */
unsigned smtp_session_exts(const struct smtp_session *s);

/* AUTH may be offered now: the listener allows it and TLS is up. */
bool smtp_auth_offered(const struct smtp_session *s);
/* A line of an AUTH exchange (SMTP_STATE_AUTH). */
void smtp_auth_input(struct smtp_session *s, const char *line, size_t len);
/* The delayed answer of a failed AUTH is due (CONN_EV_WAKE). */
void smtp_session_wake(struct smtp_session *s);
/* Drop an unfinished AUTH exchange. */
void smtp_auth_reset(struct smtp_session *s);

/* Forget the transaction (RSET, HELO, end of DATA, STARTTLS). */
void smtp_txn_reset(struct smtp_session *s);

/* Handlers, one per verb (session_cmd.c and session_txn.c). */
typedef void smtp_handler(struct smtp_session *s, const char *arg, size_t len);
smtp_handler smtp_cmd_helo, smtp_cmd_ehlo, smtp_cmd_rset, smtp_cmd_noop,
	smtp_cmd_quit, smtp_cmd_vrfy, smtp_cmd_expn, smtp_cmd_help,
	smtp_cmd_etrn, smtp_cmd_starttls, smtp_cmd_auth;
smtp_handler smtp_cmd_mail, smtp_cmd_rcpt, smtp_cmd_data, smtp_cmd_bdat;

/* Body storage (session_body.c). Open the files and write the trace
 * headers; on failure reply 451 and return -1. */
int smtp_body_begin(struct smtp_session *s);
/* Decoded body octets, through the header rules of submission. */
void smtp_body_write(struct smtp_session *s, const char *p, size_t n);
/*
 * The body is complete (flags from the decoder): check it, make it
 * durable in the spool and the mailboxes. Returns 0 with the queue id in
 * id, or -1 after replying the refusal.
 */
int smtp_body_finish(struct smtp_session *s, unsigned flags, char *id,
		     size_t size);
/* Drop unfinished storage (the transaction ends without a commit). */
void smtp_body_free(struct smtp_session *s);
/* A local mailbox as a Maildir delivery target. */
struct maildir_target smtp_target(const struct userdb_mailbox *box);
/* Is local@domain an address of the authenticated user? */
bool smtp_address_owned(struct smtp_session *s, const char *local,
			const char *domain);

/*
 * Body input in SMTP_STATE_DATA / SMTP_STATE_BDAT: consume what is
 * buffered. Returns true while the session keeps reading body data.
 */
bool smtp_txn_body_input(struct smtp_session *s);

#endif
