/*
 * Relaying one queued message: the delivery attempt of the outbound
 * queue. For each recipient still pending or deferred: local domains are
 * delivered to their Maildir, other domains through their MX hosts (or
 * the smart host), one SMTP client connection per destination. The
 * envelope is updated on disk with each recipient's outcome; a message
 * whose recipients are all final gets its DSN (RFC 3464) queued and is
 * removed from the spool.
 *
 * SECURITY: everything the remote servers reply is untrusted text; it is
 * stored length-prefixed in the envelope and neutralised in DSNs.
 */
#ifndef SMTP_RELAY_H
#define SMTP_RELAY_H

#include <stddef.h>
#include <time.h>

#include "smtp/client.h"

struct dns_resolver;
struct event_base;
struct tls_ctx;
struct userdb;

/* Most candidate ports for relay.port = auto. */
#define RELAY_AUTO_MAX 8

/* A smart host port to try, and how it speaks TLS. */
struct relay_port {
	int port;
	enum smtp_client_tls tls;
};

/* What a delivery attempt needs; owned by the queue worker. */
struct relay_ctx {
	struct event_base *base;
	const char *data_dir;
	const char *hostname; /* our name: EHLO, Reporting-MTA, DSN From: */
	struct dns_resolver *dns;
	struct tls_ctx *tls; /* client context */
	struct userdb *userdb;
	int mx_port;	       /* 25 */
	const char *smarthost; /* NULL: MX delivery */
	int smarthost_port;    /* 0: auto */
	const char *smarthost_user;
	const char *smarthost_password;
	/*
	 * smarthost_port 0: the ports to try in order (at most
	 * RELAY_AUTO_MAX; none: 587 STARTTLS, 465 implicit TLS, 2525
	 * STARTTLS, 25 STARTTLS when offered). auto_known is the index of
	 * the one that worked last, tried first (-1: none yet); the relay
	 * updates it, logs "smarthost port=P blocked=..." and keeps it in
	 * queue/smarthost_state.h's file.
	 */
	const struct relay_port *auto_ports;
	size_t auto_count;
	int auto_known;
	int lifetime;	  /* seconds before giving up */
	int warn_after;	  /* seconds before a delay DSN; 0: never */
	const int *retry; /* waits between attempts; NULL: the defaults */
	size_t retry_count;
};

/*
 * The attempt is over. next_attempt is when to try again, or 0 when the
 * message left the spool (delivered, bounced or expired).
 */
typedef void relay_done_cb(void *arg, const char *id, time_t next_attempt);

/*
 * relay.port = auto: set ctx->auto_known from what an earlier run
 * remembered (queue/smarthost, for this ctx->smarthost and a port still
 * in the list), else -1. Call once at start, after ctx is filled in.
 */
void relay_smarthost_remembered(struct relay_ctx *ctx);

/*
 * Start an attempt for spool message id; done is called from the event
 * loop when it ends (never synchronously). Returns 0, or -1 when the
 * message cannot be read (logged; done is not called).
 */
int relay_message(struct relay_ctx *ctx, const char *id, relay_done_cb *done,
		  void *arg);

#endif
