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

struct dns_resolver;
struct event_base;
struct tls_ctx;
struct userdb;

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
 * Start an attempt for spool message id; done is called from the event
 * loop when it ends (never synchronously). Returns 0, or -1 when the
 * message cannot be read (logged; done is not called).
 */
int relay_message(struct relay_ctx *ctx, const char *id, relay_done_cb *done,
		  void *arg);

#endif
