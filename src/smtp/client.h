/*
 * Outbound SMTP client: one session over a connected struct conn, for MX
 * delivery and for a smart host. Greeting, EHLO (HELO when EHLO is
 * refused), STARTTLS, AUTH, then any number of messages one after the
 * other on the same connection (RFC 5321 3, 4.1; RFC 2920 PIPELINING,
 * RFC 3207 STARTTLS, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8,
 * RFC 3461 DSN, RFC 4954 AUTH, RFC 8314 implicit TLS).
 *
 * Every callback comes from the event loop, never from inside an
 * smtp_client_* call. A callback may call smtp_client_send(),
 * smtp_client_quit() and smtp_client_free().
 *
 * SECURITY: the server is untrusted. Reply lines and replies are bounded
 * (smtp/reply.h), reply text is neutralised before it is reported, input
 * buffered before the TLS handshake is discarded (conn_start_tls()), and
 * credentials are sent only over TLS. Envelope strings with control
 * characters are refused rather than written (command injection).
 */
#ifndef SMTP_CLIENT_H
#define SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/parse.h"
#include "smtp/reply.h"

struct conn;
struct event_base;
struct smtp_client;
struct tls_ctx;

/* Recipients per message: one pipelined group stays well under the
 * connection's output cap. Relays split at LIMIT_SMTP_RECIPIENTS. */
#define SMTP_CLIENT_RCPTS_MAX 1000

enum smtp_client_tls {
	SMTP_TLS_NONE,	   /* never STARTTLS (a retry after a bad handshake) */
	SMTP_TLS_MAY,	   /* STARTTLS when offered, else plaintext */
	SMTP_TLS_ENCRYPT,  /* STARTTLS required: fail when not offered */
	SMTP_TLS_IMPLICIT, /* TLS from the first byte (RFC 8314, port 465) */
};

struct smtp_client_params {
	const char *helo;    /* our name for EHLO/HELO */
	struct tls_ctx *tls; /* client context; needed unless TLS_NONE */
	enum smtp_client_tls tls_mode;
	/*
	 * The server's host name: SNI and the certificate name check. Must
	 * be set unless tls_mode is SMTP_TLS_NONE.
	 */
	const char *servername;
	/*
	 * Require a certificate that verifies against the trust store and
	 * matches servername (MTA-STS enforce, a smart host); without it an
	 * unverified certificate is used and only reported.
	 */
	bool tls_verify;
	/*
	 * Smart host credentials (AUTH PLAIN, else LOGIN), or NULL. Setting
	 * them makes TLS required whatever tls_mode says: credentials never
	 * go over plaintext.
	 */
	const char *auth_user;
	const char *auth_password;
	/*
	 * Length of one "minute" of the RFC 5321 4.5.3.2 timeouts (greeting,
	 * MAIL, RCPT 5; DATA 2; data block 3; end of data 10) in ms; 0 is
	 * 60000. Tests shrink it.
	 */
	int minute_ms;
};

/* Where a session or a message stopped. */
enum smtp_client_stage {
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO, /* EHLO and HELO */
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_TLS, /* handshake (implicit or STARTTLS), certificate */
	SMTP_STAGE_AUTH,
	SMTP_STAGE_MAIL, /* includes refusals made before sending */
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA,
	SMTP_STAGE_BODY, /* sending the body, awaiting the final reply */
	SMTP_STAGE_QUIT,
};

/* Name of a stage for logs and DSN texts ("RCPT"). */
const char *smtp_client_stage_name(enum smtp_client_stage stage);

/*
 * An outcome: a reply of the server, or one the client made up (code 0)
 * for a refusal before sending, a timeout or a lost connection.
 */
struct smtp_client_result {
	enum smtp_client_stage stage;
	int code; /* the server's reply code; 0: no reply */
	/*
	 * Enhanced status (RFC 3463): the server's, or "2.0.0"/"4.0.0"/
	 * "5.0.0" from the code's class, or the client's own. Its first
	 * character says it all: '2' done, '4' try again, '5' give up.
	 */
	char status[SMTP_STATUS_MAX];
	char text[SMTP_REPLY_TEXT_MAX]; /* untrusted; CTLs replaced */
	bool permanent;			/* status[0] == '5' */
};

struct smtp_client_rcpt {
	const char *address; /* without <>; UTF-8 only with msg->smtputf8 */
	unsigned notify;     /* SMTP_NOTIFY_* (smtp/parse.h); 0: none */
	const char *orcpt;   /* "rfc822;xtext" as on the wire, or NULL */
	struct smtp_client_result result; /* filled before sent() */
};

struct smtp_client_msg {
	const char *sender; /* without <>; "" for the null reverse-path */
	bool smtputf8;	    /* needs SMTPUTF8 (RFC 6531 3.4) */
	bool body_8bit;	    /* BODY=8BITMIME: needs the server's 8BITMIME */
	uint64_t size;	    /* SIZE= value (RFC 1870); 0: unknown */
	const char *envid;  /* ENVID xtext, or NULL */
	enum smtp_ret ret;  /* RET= (smtp/parse.h) */
	struct smtp_client_rcpt *rcpts;
	size_t nrcpts; /* 1 to SMTP_CLIENT_RCPTS_MAX */
	/*
	 * The message file, RFC 5322 text with CRLF line ends (a bare LF or
	 * CR is sent as CRLF). Read with pread() from offset 0, in chunks:
	 * the caller keeps it open until sent(); its file offset is not used.
	 */
	int fd;
};

struct smtp_client_cb {
	/* Greeting, EHLO, STARTTLS and AUTH done: messages may be sent. */
	void (*ready)(struct smtp_client *c, void *arg);
	/*
	 * Message m is finished: every recipient has its result (its RCPT
	 * refusal, else the message's outcome), and r is the outcome of the
	 * message as a whole: the reply to the end of data when some
	 * recipient was accepted, else what stopped it (MAIL or DATA
	 * refused, refused before sending, every RCPT refused — then the
	 * last refusal — or the session failing). Comes before failed()
	 * when a session failure cut the message.
	 */
	void (*sent)(struct smtp_client *c, struct smtp_client_msg *m,
		     const struct smtp_client_result *r, void *arg);
	/*
	 * The session failed (greeting refused, EHLO and HELO refused, TLS
	 * required and missing or failed, AUTH refused, timeout, connection
	 * lost, malformed reply). The connection is closing: closed()
	 * follows. Not called for a server that closes an idle session.
	 */
	void (*failed)(struct smtp_client *c,
		       const struct smtp_client_result *r, void *arg);
	/* The connection is gone; the last callback. Free the client. */
	void (*closed)(struct smtp_client *c, void *arg);
	/*
	 * Optional, for reports (postern probe): every reply line once
	 * smtp_reply_add() accepted it, with the stage it belongs to (the
	 * greeting: SMTP_STAGE_GREETING; EHLO's keywords: SMTP_STAGE_EHLO,
	 * before or after TLS as conn_is_tls() says). line->text is
	 * untrusted and not NUL-terminated. Observe only: it must not call
	 * any smtp_client_* function.
	 */
	void (*reply_line)(struct smtp_client *c, enum smtp_client_stage stage,
			   const struct smtp_reply_line *line, void *arg);
};

/*
 * Take over conn (connected, not in TLS; the client frees it) and start
 * the session on base (conn's loop): with SMTP_TLS_IMPLICIT the client
 * starts TLS itself before it reads the greeting. params' strings are
 * copied and cb's pointers too; params->tls is borrowed and must outlive
 * the client. Returns the client, which the caller frees with
 * smtp_client_free() (after closed(), or earlier to drop the connection
 * at once, without callbacks).
 */
struct smtp_client *smtp_client_new(struct event_base *base, struct conn *conn,
				    const struct smtp_client_params *params,
				    const struct smtp_client_cb *cb, void *arg);

/*
 * Send m (borrowed until sent(); results are written into its rcpts)
 * when the client is ready and idle.
 * With PIPELINING, [RSET] MAIL, RCPTs and DATA go as one group (RFC 2920
 * 3.1); else one by one, and DATA only when a RCPT was accepted. RSET
 * comes first only when the previous transaction did not end. A message
 * that needs SMTPUTF8 the server lacks (5.6.7), has 8-bit data (declared
 * with body_8bit, or any octet above 127 in the file) for a server
 * without 8BITMIME (5.6.3, RFC 6152 3), is over its SIZE limit
 * (5.3.4) or has a control character in an envelope string (5.5.2) is
 * refused without sending anything: sent() still reports it. Returns 0,
 * or -1 when the client is not idle or m has no recipient or more
 * than SMTP_CLIENT_RCPTS_MAX (nothing happens then).
 */
int smtp_client_send(struct smtp_client *c, struct smtp_client_msg *m)
	__attribute__((warn_unused_result));

/*
 * Begin the next message with RSET even though the last one ended: a
 * session taken from a connection cache is checked that way (RFC 5321
 * 4.1.1.5) before its first command of substance, as Postfix does.
 */
void smtp_client_rset_next(struct smtp_client *c);

/*
 * Say QUIT and close when idle; else close at once (a message in flight
 * gets sent() with a temporary failure). closed() follows.
 */
void smtp_client_quit(struct smtp_client *c);

/* Drop the connection without callbacks. Accepts NULL; sets *cp NULL. */
void smtp_client_free(struct smtp_client **cp);

/* Ready, and no message in flight. */
bool smtp_client_idle(const struct smtp_client *c);
/* What the last EHLO offered (all false after HELO). */
const struct smtp_ehlo *smtp_client_ehlo(const struct smtp_client *c);
/*
 * The connection, for conn_is_tls(), conn_tls_version(),
 * conn_tls_verified(), conn_peer_ip()...; NULL once closed() ran.
 */
const struct conn *smtp_client_conn(const struct smtp_client *c);
/* Authenticated to the server. */
bool smtp_client_authenticated(const struct smtp_client *c);

#endif
