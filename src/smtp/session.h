/*
 * SMTP server session (MX on port 25 and submission on 587/465/2525).
 *
 * SECURITY: talks to anyone on the Internet; every byte it reads is
 * hostile. Lines are bounded by the connection layer; nothing here is
 * sized by a number the client sent.
 *
 * Foundation stage: greeting, EHLO/HELO, STARTTLS, NOOP, RSET and QUIT are
 * real; mail transactions answer a temporary "not yet" error until the MX
 * issue lands.
 */
#ifndef SMTP_SESSION_H
#define SMTP_SESSION_H

#include <stdbool.h>

struct conn;
struct tls_ctx;

/* One listener's settings; outlives every session started from it. */
struct smtp_server {
	const char *hostname;
	struct tls_ctx *tls; /* NULL: no TLS available */
	bool starttls;	     /* offer STARTTLS on this listener */
	bool submission;     /* submission policy rather than MX */
	int idle_timeout;    /* seconds */
};

/*
 * Take over conn (TLS already up on implicit-TLS listeners) and greet.
 * The session frees conn when it ends.
 */
void smtp_session_start(struct conn *conn, const struct smtp_server *srv);

/* Refuse a connection over a limit: 421 and close. Takes over conn. */
void smtp_session_refuse(struct conn *conn, const struct smtp_server *srv,
			 const char *why);

#endif
