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
#include <sys/socket.h>
#include <time.h>

#include "smtp/client.h"

struct dns_resolver;
struct event_base;
struct relay_pool;
struct tls_ctx;
struct userdb;

/* Most candidate ports for relay.port = auto. */
#define RELAY_AUTO_MAX 8

/* A smart host port to try, and how it speaks TLS. */
struct relay_port {
	int port;
	enum smtp_client_tls tls;
};

/*
 * STARTTLS for MX delivery to one recipient domain (queue.tls_policy):
 * SMTP_TLS_NONE, SMTP_TLS_MAY or SMTP_TLS_ENCRYPT (RFC 3207 4: a client
 * that requires TLS does not send in clear; the attempt is deferred).
 * domain "*" stands for every domain not listed.
 */
struct relay_tls_policy {
	const char *domain;
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
	struct relay_pool *pool; /* from relay_pool_new() */
	int mx_port;		 /* 25 */
	/* queue.bind_address(6): the source address of outbound connections
	 * (MX and smart host) to an IPv4 / IPv6 server; NULL: the kernel's
	 * choice. Its port is ignored. */
	const struct sockaddr_storage *bind4;
	const struct sockaddr_storage *bind6;
	/* MX delivery: TLS per domain; others (and no "*"): MAY. */
	const struct relay_tls_policy *tls_policy;
	size_t tls_policy_count;
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
 * The outbound connections of a queue worker: at most max_total open at
 * once (idle ones included), at most max_per_dest to one destination (a
 * recipient domain, or the smart host). A message for a destination with
 * a session busy waits for it (and gets it, after RSET) rather than open
 * one more, unless several wait already; an idle session is closed after
 * RELAY_IDLE_SECONDS. The caller owns the pool; relay_pool_free() drops
 * every connection without QUIT (shutdown).
 */
#define RELAY_IDLE_SECONDS 5
/* Messages waiting per open session before one more is opened. */
#define RELAY_WAITERS_PER_CONN 4
struct relay_pool *relay_pool_new(struct event_base *base, int max_total,
				  int max_per_dest);
void relay_pool_free(struct relay_pool **poolp);

/*
 * relay.port = auto: set ctx->auto_known from what an earlier run
 * remembered (queue/smarthost, for this ctx->smarthost and a port still
 * in the list), else -1. Call once at start, after ctx is filled in.
 */
void relay_smarthost_remembered(struct relay_ctx *ctx);

/*
 * The TLS mode ctx->tls_policy gives MX delivery to domain: its own
 * entry, else the "*" entry, else SMTP_TLS_MAY.
 */
enum smtp_client_tls relay_tls_policy_mode(const struct relay_ctx *ctx,
					   const char *domain);

/*
 * Start an attempt for spool message id; done is called from the event
 * loop when it ends (never synchronously). Returns 0, or -1 when the
 * message cannot be read (logged; done is not called).
 */
int relay_message(struct relay_ctx *ctx, const char *id, relay_done_cb *done,
		  void *arg);

#endif
