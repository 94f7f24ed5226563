/*
 * IMAP server session (143 STARTTLS, 993 implicit TLS).
 *
 * SECURITY: reads hostile input before login; lines are bounded by the
 * connection layer.
 *
 * Foundation stage: greeting, CAPABILITY, STARTTLS, NOOP and LOGOUT are
 * real; everything else answers NO [UNAVAILABLE] until the IMAP issue.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct tls_ctx;
struct throttle;
struct userdb;

struct imap_server {
	const char *hostname;
	struct tls_ctx *tls; /* NULL: no TLS available */
	bool starttls;
	int idle_timeout; /* seconds; RFC 9051 5.4 asks for >= 30 min */
	const char *data_dir;	   /* <data_dir>/mail/ holds the store */
	struct userdb *userdb;	   /* this worker's handle */
	struct throttle *throttle; /* failed-login brakes, shared with SMTP */
	size_t max_message_size;   /* largest message (IMAP APPEND) */
};

/* Take over conn and greet; the session frees conn when it ends. */
void imap_session_start(struct conn *conn, const struct imap_server *srv);
/* Refuse a connection over a limit: BYE and close. Takes over conn. */
void imap_session_refuse(struct conn *conn, const struct imap_server *srv,
			 const char *why);

#endif
