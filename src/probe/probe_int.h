/*
 * Private to the probe's network files: the run context on the event
 * loop and one job per target (connect, session, TLS 1.0/1.1 check).
 */
#ifndef PROBE_PROBE_INT_H
#define PROBE_PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/probe.h"

struct conn;
struct dns_resolver;
struct event_base;
struct net_connect;
struct probe_dns;
struct probe_mailbox;
struct smtp_client;
struct tls_ctx;

struct probe_ctx {
	struct event_base *base;
	struct dns_resolver *dns;
	struct tls_ctx *tls;	/* checks and reports, never enforces */
	struct tls_ctx *legacy; /* TLS 1.0/1.1 only, or NULL */
	struct probe_run *run;
	const struct probe_opts *o;
	int timeout_ms;
	char helo[256];
	size_t jobs;		 /* jobs in flight */
	size_t dns_queries;	 /* lookups in flight */
	struct probe_dns *names; /* domain mode: the names looked up */
};

enum probe_phase {
	PROBE_PHASE_MAIN,   /* greeting, capabilities, STARTTLS, login */
	PROBE_PHASE_LEGACY, /* does the server accept TLS 1.0/1.1? */
};

struct probe_job {
	struct probe_ctx *ctx;
	struct probe_target *t;
	enum probe_phase phase;
	struct net_connect *connect;
	size_t addr_i; /* address being tried */
	struct smtp_client *smtp;
	struct probe_mailbox *mb;
	/* SMTP: the reply being read, as the reply_line hook sees it. */
	bool greeted;
	size_t reply_lines;
};

/* Start probing t; the job frees itself when done. */
void probe_job_start(struct probe_ctx *ctx, struct probe_target *t);
/* The session of the current phase is over: next phase, or done. */
void probe_job_session_done(struct probe_job *j);

/* Run the phase's SMTP session on conn (taken over). */
void probe_smtp_start(struct probe_job *j, struct conn *conn);
/* Run the phase's IMAP or POP3 session on conn (taken over). */
void probe_mailbox_start(struct probe_job *j, struct conn *conn);

/* Copy what the TLS handshake on conn showed into t->tls. */
void probe_tls_capture(struct probe_target *t, const struct conn *conn);

#endif
