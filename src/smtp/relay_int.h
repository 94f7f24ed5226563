/*
 * Private to the relay files: one delivery attempt of one message.
 */
#ifndef SMTP_RELAY_INT_H
#define SMTP_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "dns/resolver.h"
#include "queue/spool_envelope.h"
#include "smtp/client.h"
#include "smtp/relay.h"

struct event;
struct net_connect;
struct relay_conn;
struct relay_dest;

struct relay_job {
	struct relay_ctx *ctx;
	char id[SPOOL_ID_SIZE];
	struct spool_envelope env;
	int fd; /* the message file */
	relay_done_cb *done;
	void *arg;
	time_t started;

	/* The destination being tried: recipients of one domain. */
	char domain[DNS_NAME_MAX + 3];
	size_t *batch; /* indices into env.rcpts */
	size_t nbatch;
	bool *tried; /* per env recipient: batched in this attempt */
	/* Per env recipient: a success to report (RFC 3461 4.1 NOTIFY=
	 * SUCCESS), as DSN_DELIVERED or DSN_RELAYED; -1: none. */
	int *success;
	/* Per env recipient: the host whose reply decided its state in
	 * this attempt (RFC 3464 2.3.5 Remote-MTA), or NULL. */
	char **remote;
	time_t last_attempt; /* when the previous attempt ended, or 0 */
	struct smtp_client_rcpt *crcpts;
	struct smtp_client_msg msg;

	/* Hosts of the destination (MX or the smart host), then addresses. */
	struct dns_mx_host *hosts;
	size_t nhosts, host_i;
	int port;
	enum smtp_client_tls port_tls; /* smart host: how port speaks */
	/* relay.port = auto: indices into the port list, in the order
	 * tried (the remembered one first); ports that failed so far. */
	size_t auto_order[RELAY_AUTO_MAX];
	int auto_index; /* of the port being tried; -1: not auto */
	char blocked[RELAY_AUTO_MAX * 7];
	struct sockaddr_storage addrs[8];
	size_t naddrs, addr_i;
	struct dns_query *query;
	struct net_connect *connecting;
	/* The connection slot of the pool this destination uses (NULL:
	 * none yet, or waiting for one). */
	struct relay_conn *conn;
	/* Waiting for a slot: on this destination's list, or on the
	 * pool's (for the total limit) when waiting_global. */
	TAILQ_ENTRY(relay_job) wait_entry;
	struct relay_dest *waiting;
	bool waiting_global;
	bool batch_done; /* this destination has its outcome */
	char last_error[SMTP_REPLY_TEXT_MAX + 64]; /* why it was not sent */
	bool last_permanent;

	struct event *ev_done;
};

/* Record the outcome of env recipient i (code/status/text of a reply). */
void relay_rcpt_result(struct relay_job *j, size_t i, int code,
		       const char *status, const char *text);
/*
 * Recipient i failed (permanent) or waits, for reply: a server's reply
 * "421 4.3.2 text (STAGE)" or the relay's own "4.4.1 text", stored as is.
 */
void relay_rcpt_verdict(struct relay_job *j, size_t i, bool permanent,
			const char *reply);
/* The whole batch gets one outcome. */
void relay_batch_result(struct relay_job *j, bool permanent, const char *text);
/* Deliver the batch of a local domain to its Maildirs. */
void relay_local(struct relay_job *j);
/* Try the next destination, or finish the attempt. */
void relay_next_domain(struct relay_job *j);
/* Everything was tried: update or remove the message, DSNs, done(). */
void relay_finish(struct relay_job *j);

/*
 * The connection pool (relay_pool.c): outbound sessions by destination
 * (the batch's domain, or the smart host), within queue.max_connections
 * and queue.max_per_destination, reused for the next message waiting.
 */
struct relay_conn {
	TAILQ_ENTRY(relay_conn) idle_entry; /* in the pool's idle list */
	struct relay_pool *pool;
	struct relay_dest *dest;
	struct smtp_client *client;  /* NULL while connecting */
	struct relay_job *owner;     /* NULL: idle, or closing */
	char host[DNS_NAME_MAX + 1]; /* the server's name (Remote-MTA) */
	struct event *idle_timer;
	bool idle;
	bool reused;	     /* the owner got a session already open */
	bool stale;	     /* ... that turned out dead: open afresh */
	unsigned long count; /* messages sent on this session */
};

/*
 * Find a session for j's destination (j->domain, set up by
 * relay_next_domain): an idle one (j->conn set, relay_send(j) at once), a
 * new slot (j->conn set without a client: relay_open(j) resolves and
 * connects), or j waits and one of those happens later.
 */
void relay_pool_acquire(struct relay_job *j);
/* Resolve and connect for j's destination in the slot j->conn. */
void relay_open(struct relay_job *j);
/*
 * j's message is done on its session (sent()): hand the session to the
 * next message waiting for the destination, else keep it idle a while,
 * or let it close when it is no longer usable. j->conn becomes NULL.
 */
void relay_pool_release(struct relay_job *j);
/*
 * j gives its slot up without a session to keep (every host failed, or
 * the destination needs none). With failed, the messages waiting for the
 * same destination get j's temporary failure instead of trying a dead
 * destination each in turn. j->conn becomes NULL.
 */
void relay_pool_drop(struct relay_job *j, bool failed);
/* c's connection is gone while no message owned it: free the slot. */
void relay_pool_conn_closed(struct relay_conn *c);
/* Send j->msg on j->conn's session (which is up and idle). */
void relay_send(struct relay_job *j);

/* Smart host (relay_smarthost.c). */
/* One host entry per port to try, in order; j->port for a fixed one. */
void relay_smarthost_start(struct relay_job *j);
/* Before trying host entry j->host_i: its port and TLS mode. */
void relay_smarthost_next_port(struct relay_job *j);
/* A session is up on j->port: remember it and log what was blocked. */
void relay_smarthost_ready(struct relay_job *j);

#endif
