/*
 * A front worker: one event loop serving SMTP, submission, IMAP and POP3
 * sessions on the listeners it inherited from the master.
 *
 * SECURITY: runs unprivileged (privdrop_apply() before worker_run()) and
 * handles every byte from the network.
 *
 * Signals: SIGTERM/SIGINT drain (stop accepting, ask sessions to finish,
 * exit when none remain or at limits.shutdown_timeout); SIGQUIT retires
 * the worker after a reload (stop accepting, let sessions end on their own).
 */
#ifndef SERVER_WORKER_H
#define SERVER_WORKER_H

#include <stddef.h>

struct config;
struct store_counters;
struct throttle;
struct tls_ctx;

/*
 * Serve cfg's listeners; fds[i] is the bound socket of cfg->listeners[i].
 * tls may be NULL when no listener uses TLS. throttle is the failed-login
 * state all workers share (the master's), counters the mail store's
 * commit counters (the master's too). Returns the exit status.
 */
int worker_run(const struct config *cfg, struct tls_ctx *tls,
	       struct throttle *throttle, struct store_counters *counters,
	       const int *fds, int index);

#endif
