/*
 * Private to the SMTP client files: the client object, its states and
 * the helpers client.c (session) and client_txn.c (messages) share.
 */
#ifndef SMTP_CLIENT_INT_H
#define SMTP_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "smtp/client.h"
#include "smtp/reply.h"

struct event;
struct event_base;

/* RFC 5321 4.1.4 command sequencing, seen from the client. */
enum smtp_client_state {
	SMTP_CLIENT_TLS,      /* TLS handshake (implicit, or STARTTLS) */
	SMTP_CLIENT_GREETING, /* waiting for 220 */
	SMTP_CLIENT_EHLO,
	SMTP_CLIENT_HELO,
	SMTP_CLIENT_STARTTLS, /* waiting for 220 to STARTTLS */
	SMTP_CLIENT_AUTH,
	SMTP_CLIENT_READY, /* idle between messages */
	SMTP_CLIENT_TXN,   /* replies to [RSET] MAIL, RCPT..., DATA */
	SMTP_CLIENT_BODY,  /* writing the message */
	SMTP_CLIENT_DOT,   /* waiting for the reply to the end of data */
	SMTP_CLIENT_QUIT,  /* waiting for 221 */
	SMTP_CLIENT_CLOSING,
	SMTP_CLIENT_CLOSED,
};

/* One command of a transaction, in the order it goes out. */
enum smtp_client_cmd {
	SMTP_CMD_RSET,
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA,
};

/* A message in flight. */
struct smtp_client_txn {
	struct smtp_client_msg *msg;
	bool utf8;	 /* SMTPUTF8 goes with MAIL */
	bool rset;	 /* position 0 is RSET */
	size_t count;	 /* commands: [RSET] MAIL, nrcpts RCPT, DATA */
	size_t next_out; /* next command to write */
	size_t next_in;	 /* command whose reply comes next */
	bool mail_ok;
	size_t accepted;
	size_t last_refused; /* index of the last refused RCPT */
	bool dot_only;	     /* 354 with nothing to send: "." (RFC 2920) */
	struct smtp_client_result result; /* outcome so far */
	bool refused; /* refused before sending: report from the loop */
	/* Body streaming (client_txn.c). */
	off_t off;
	bool line_start;
	bool pending_cr;
	char *in;
	char *out;
};

struct smtp_client {
	struct conn *conn;
	struct event *timer;
	struct event *defer;
	enum smtp_client_state state;
	struct smtp_client_params p; /* strings owned */
	struct smtp_client_cb cb;
	void *arg;

	char sid[16]; /* the connection's, for logs after it is gone */
	struct smtp_reply reply; /* being read */
	struct smtp_ehlo ehlo;
	bool tls_done;	       /* TLS up (EHLO again, no HELO fallback) */
	bool starttls_refused; /* SMTP_TLS_MAY: go on in plaintext */
	bool ready_sent;       /* ready() was reported */
	bool authenticated;    /* AUTH succeeded */
	unsigned auth_mech;    /* SMTP_AUTH_* in use */
	int auth_step;	       /* LOGIN: 0 user, 1 password */
	bool need_rset;	       /* the previous transaction is still open */
	bool quitting;	       /* smtp_client_quit() was called */
	int busy;	       /* inside a callback from the loop */
	bool free_pending;     /* smtp_client_free() while busy */
	struct smtp_client_txn txn;
};

/* The one way to change state; logs old -> new and arms the timeout. */
void smtp_client_set_state(struct smtp_client *c, enum smtp_client_state st);
/* Arm the timeout for minutes of RFC 5321 4.5.3.2 (0: none). */
void smtp_client_arm(struct smtp_client *c, int minutes);

/* The stage a failure in the current state belongs to. */
enum smtp_client_stage smtp_client_stage(const struct smtp_client *c);

/* Fill r from a reply, synthesizing a status from the code's class. */
void smtp_client_result_reply(struct smtp_client_result *r,
			      enum smtp_client_stage stage,
			      const struct smtp_reply *reply);
/* Fill r with an outcome the client decides (code 0). */
void smtp_client_result_set(struct smtp_client_result *r,
			    enum smtp_client_stage stage, const char *status,
			    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The session failed: close (after QUIT when say_quit), end the message
 * in flight with r, then report failed().
 */
void smtp_client_fail(struct smtp_client *c, const struct smtp_client_result *r,
		      bool say_quit);

/* Callbacks run only while the caller has not freed the client. */
bool smtp_client_gone(const struct smtp_client *c);

/* Handle buffered replies from the loop (after the body was written). */
void smtp_client_kick(struct smtp_client *c);

/* Messages (client_txn.c). */
/* A reply in SMTP_CLIENT_TXN or SMTP_CLIENT_DOT. */
void smtp_client_txn_reply(struct smtp_client *c,
			   const struct smtp_reply *reply);
/* FLUSHED or the start of the body: write more of it. */
void smtp_client_body_pump(struct smtp_client *c);
/* Minutes to wait for the reply the transaction expects next. */
int smtp_client_txn_minutes(const struct smtp_client *c);
/* Stage of the command whose reply is awaited. */
enum smtp_client_stage smtp_client_txn_stage(const struct smtp_client *c);
/*
 * End the message in flight with r for every recipient not refused at
 * RCPT, and report sent(). The caller has set the state that follows.
 */
void smtp_client_txn_finish(struct smtp_client *c,
			    const struct smtp_client_result *r);
/* Report a refusal made by smtp_client_send() (from the loop). */
void smtp_client_txn_refused(struct smtp_client *c);

#endif
