/*
 * POP3 server session (110 STLS, 995 implicit TLS): RFC 1939 with CAPA,
 * RESP-CODES and PIPELINING (RFC 2449), STLS (RFC 2595) and AUTH with the
 * SASL mechanisms of auth/sasl.h (RFC 5034). APOP is not offered.
 *
 * The maildrop is the user's INBOX in the shared store, locked with
 * store_lock() for the session (a second session gets -ERR [IN-USE]);
 * DELE'd messages are expunged only at QUIT. UIDL values are derived from
 * UIDVALIDITY and UID (pop3/parse.h pop3_uidl), so they stay the same
 * across sessions and match what IMAP sees.
 *
 * SECURITY: reads hostile input before login; lines are bounded by the
 * connection layer (RFC 2449 4: 255 octets per command). USER, PASS and
 * AUTH are refused until TLS is up.
 */
#ifndef POP3_SESSION_H
#define POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct tls_ctx;
struct store_counters;
struct throttle;
struct userdb;

struct pop3_server {
	const char *hostname;
	struct tls_ctx *tls;	   /* NULL: no TLS available */
	bool starttls;		   /* offer STLS */
	int idle_timeout;	   /* seconds; RFC 1939 3 asks for >= 10 min */
	const char *data_dir;	   /* <data_dir>/mail/ holds the store */
	struct userdb *userdb;	   /* this worker's handle */
	struct throttle *throttle; /* failed-login brakes, shared with SMTP */
	struct store_counters *counters; /* the master's, or NULL */
};

/* Take over conn and greet; the session frees conn when it ends. */
void pop3_session_start(struct conn *conn, const struct pop3_server *srv);
/* Refuse a connection over a limit: -ERR and close. Takes over conn. */
void pop3_session_refuse(struct conn *conn, const struct pop3_server *srv,
			 const char *why);

#endif
