/*
 * SMTP server session (MX on port 25 and submission on 587/465/2525).
 *
 * SECURITY: talks to anyone on the Internet; every byte it reads is
 * hostile. Command lines are bounded by the connection layer, message
 * bodies stream to disk through the DATA decoder, and nothing here is
 * sized by a number the client sent without a configured cap.
 */
#ifndef SMTP_SESSION_H
#define SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct cidr;
struct conn;
struct throttle;
struct tls_ctx;
struct userdb;

/* Policy and limits of one listener; outlives every session on it. */
struct smtp_server {
	const char *hostname;
	const char *data_dir;
	struct userdb *userdb;
	struct tls_ctx *tls; /* NULL: no TLS available */
	bool starttls;	     /* offer STARTTLS on this listener */
	bool submission;     /* submission policy rather than MX */
	bool auth;	     /* offer AUTH (after TLS) on this listener */
	bool hide_client_ip; /* keep the client's address out of Received */
	struct throttle *throttle; /* failed-login brakes of this worker */
	/* Client networks that may relay without AUTH. */
	const struct cidr *relay_networks;
	size_t relay_count;
	int idle_timeout; /* seconds waiting for a command */
	int data_timeout; /* seconds waiting inside DATA/BDAT */
	size_t max_message_size;
	size_t max_recipients;
	int max_errors;
	bool vrfy;
	bool expn;
	/* ETRN: for these nodes ("@d": d and subdomains), NULL-terminated,
	 * may be NULL; from these clients (none: any client). */
	char *const *etrn_domains;
	const struct cidr *etrn_networks;
	size_t etrn_net_count;
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
