/*
 * IMAP server session (143 STARTTLS, 993 implicit TLS): IMAP4rev1 (RFC
 * 3501) with LITERAL+, SASL-IR, ID, IDLE, NAMESPACE, ENABLE, UNSELECT,
 * CHILDREN, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE; UIDPLUS, MOVE,
 * CONDSTORE and QRESYNC once their message commands are in the table.
 * imap/session_int.h describes the files and the handler contract.
 *
 * SECURITY: reads hostile input before login. Lines, commands and
 * literals are bounded (IMAP_LINE_MAX, IMAP_COMMAND_MAX, and
 * max_message_size for APPEND), checked before a literal is read;
 * credentials are accepted only over TLS; failed logins are throttled
 * with SMTP's throttle.
 */
#ifndef IMAP_SESSION_H
#define IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct tls_ctx;
struct store_counters;
struct store_watch;
struct throttle;
struct userdb;

struct imap_server {
	const char *hostname;
	struct tls_ctx *tls; /* NULL: no TLS available */
	bool starttls;
	int idle_timeout;      /* seconds; RFC 9051 5.4 asks for >= 30 min */
	const char *data_dir;  /* <data_dir>/mail/ holds the store */
	struct userdb *userdb; /* this worker's handle */
	struct throttle *throttle; /* failed-login brakes, shared with SMTP */
	struct store_counters *counters; /* the master's, or NULL */
	struct store_watch *watch; /* this worker's, or NULL: IDLE polls */
	size_t max_message_size;   /* largest message (IMAP APPEND) */
};

/* Take over conn and greet; the session frees conn when it ends. */
void imap_session_start(struct conn *conn, const struct imap_server *srv);
/* Refuse a connection over a limit: BYE and close. Takes over conn. */
void imap_session_refuse(struct conn *conn, const struct imap_server *srv,
			 const char *why);

#endif
